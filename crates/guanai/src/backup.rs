//! `guanai backup FILE`: a consistent copy of the SQLite database in FILE, then the sealed
//! files (claim papers, activity photos) of a local files folder in `FILE.files/`. The
//! database goes first: a file uploaded meanwhile is at worst an unreferenced blob in the
//! copy, never a row whose blob is missing. Files in a bucket (`files_url`) are backed up
//! with the bucket's own tools.

use std::path::{Path, PathBuf};

use anyhow::Context;

use guanai_store::files::spool_dir;

use crate::config::Settings;
use crate::open::open;

/// The folder beside `file` that receives the files: `<file>.files`.
pub fn files_copy_dir(file: &Path) -> PathBuf {
    let mut name = file.as_os_str().to_owned();
    name.push(".files");
    PathBuf::from(name)
}

pub async fn backup(settings: &Settings, file: &Path) -> anyhow::Result<()> {
    let store = open(settings).await?;
    store.backup_sqlite(file).await.with_context(|| "备份失败")?;
    println!("已备份数据库到 {}", file.display());
    if settings.files_url.is_some() {
        println!("文件（理赔材料、活动照片）保存在存储桶中（files_url），请用存储桶自身的备份或复制工具备份");
        return Ok(());
    }
    let (from, target) = (settings.files_dir.clone(), files_copy_dir(file));
    anyhow::ensure!(!target.exists(), "“{}”已存在，请换一个备份文件名", target.display());
    let copied = tokio::task::spawn_blocking(move || {
        std::fs::create_dir_all(&target)?;
        let copied = if from.exists() { copy_tree(&from, &target, &spool_dir(&from))? } else { 0 };
        std::io::Result::Ok((copied, target))
    })
    .await?
    .with_context(|| format!("备份文件目录“{}”失败", settings.files_dir.display()))?;
    println!("已备份 {} 个文件（已加密）到 {}", copied.0, copied.1.display());
    Ok(())
}

/// Copies every file under `from` to `to` but those under `skip`; the number copied.
fn copy_tree(from: &Path, to: &Path, skip: &Path) -> std::io::Result<u64> {
    std::fs::create_dir_all(to)?;
    let mut copied = 0;
    for entry in std::fs::read_dir(from)? {
        let entry = entry?;
        let path = entry.path();
        if path == skip {
            continue;
        }
        let into = to.join(entry.file_name());
        if entry.file_type()?.is_dir() {
            copied += copy_tree(&path, &into, skip)?;
        } else {
            std::fs::copy(&path, into)?;
            copied += 1;
        }
    }
    Ok(copied)
}
