//! `guanai import`: rosters from the command line, with the same verdicts as the web page.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use guanai_import::jobs::{self, roster, JobKind};
use guanai_import::{Field, Verdict};
use guanai_store::{Actor, Store};

/// Exit status when the file was processed but some rows were refused (scripts can tell).
pub const EXIT_REFUSED: u8 = 2;

pub struct RosterArgs {
    pub file: PathBuf,
    pub dry_run: bool,
    pub report: Option<PathBuf>,
    /// `字段=列号` pairs (1-based columns), for columns the recogniser missed.
    pub map: Vec<String>,
    /// Households per transaction.
    pub batch: usize,
}

fn parse_overrides(pairs: &[String]) -> anyhow::Result<Vec<(Field, usize)>> {
    pairs
        .iter()
        .map(|pair| {
            let (field, column) = pair
                .split_once('=')
                .with_context(|| format!("--map “{pair}”应写成 字段=列号，例如 id_number=3"))?;
            let field = Field::parse(field.trim())
                .or_else(|| Field::ALL.into_iter().find(|f| f.label() == field.trim()))
                .with_context(|| format!("--map：未知的字段“{field}”"))?;
            let column: usize = column
                .trim()
                .parse()
                .ok()
                .filter(|c| *c >= 1)
                .with_context(|| format!("--map：列号“{column}”须为从1开始的整数"))?;
            Ok((field, column - 1))
        })
        .collect()
}

/// Imports a roster as an import job of its own (listed on the web with the others): the
/// file planned once and the plan stored, then, unless `--dry-run`, the job claimed and
/// written with the plan in hand. The file itself stays where it is (a job of the command
/// line keeps none). `--dry-run` plans the file and makes no job: it writes nothing.
pub async fn roster(store: &Store, actor: &Actor, args: RosterArgs) -> anyhow::Result<ExitCode> {
    let bytes =
        std::fs::read(&args.file).with_context(|| format!("无法读取文件“{}”", args.file.display()))?;
    let overrides = parse_overrides(&args.map)?;
    let name = args.file.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    // Parsed on a blocking thread; the plan holds what it needs (refused rows included), so
    // a big file does not stay in memory while the households are written.
    let (job, plan) = if args.dry_run {
        (None, guanai_import::plan_roster(store, actor, bytes, &overrides).await?)
    } else {
        let uploaded = roster::upload(store, actor, &name, bytes, false, &overrides).await?;
        let summary = uploaded.summary;
        let Some(plan) = uploaded.plan else {
            match summary.error {
                Some(error) => anyhow::bail!("{error}"),
                None => {
                    anyhow::bail!("缺少必填列：{}。请用 --map 指定哪一列是它", summary.missing.join("、"))
                }
            }
        };
        (Some(uploaded.id), plan)
    };
    let t = &plan.totals;
    println!(
        "共{}行：新增{}，更新{}，无变化{}，有提示{}，拒绝{}（新家庭{}户）",
        t.rows, t.created, t.updated, t.unchanged, t.warned, t.refused, t.households_new
    );
    for verdict in
        plan.verdicts.iter().filter(|v| matches!(v.verdict, Verdict::Refused | Verdict::Warned)).take(20)
    {
        println!("  第{}行 {}：{}", verdict.line, verdict.verdict.label(), verdict.reason);
    }
    if t.refused + t.warned > 20 {
        println!("  ……（完整清单见 --report 生成的文件）");
    }
    if let Some(path) = &args.report {
        std::fs::write(path, roster::plan_report(&plan)?)
            .with_context(|| format!("无法写入“{}”", path.display()))?;
        println!("未导入的行已写入 {}", path.display());
    }
    let refused = t.refused > 0;
    match job {
        None => println!("预检完成，未写入任何数据（去掉 --dry-run 即导入）"),
        Some(id) => {
            anyhow::ensure!(
                jobs::claim(store, actor, JobKind::Roster, id, true).await?,
                "导入任务{id}已被其他进程执行"
            );
            roster::run(store, actor, id, Some(plan), args.batch, |done, total| {
                if total > 0 {
                    println!("已写入 {done}/{total} 户");
                }
            })
            .await?;
            println!("导入完成");
        }
    }
    Ok(if refused { ExitCode::from(EXIT_REFUSED) } else { ExitCode::SUCCESS })
}
