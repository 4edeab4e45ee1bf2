//! Opening the database a command or the server works on, and the city it acts for; used
//! by the command line and the server alike.

use anyhow::Context;
use guanai_domain::RegionCode;
use guanai_store::files::{spool_dir, Bucket};
use guanai_store::Store;

use crate::config::Settings;

/// The store of `settings`, its files in the files folder or, with `files_url`, in that
/// bucket (asked once here: a wrong address or key stops the command with a message).
pub async fn open(settings: &Settings) -> anyhow::Result<Store> {
    let store = Store::open(&settings.database, settings.keys()?)
        .await
        .with_context(|| format!("无法打开数据库（{}）", settings.database.redacted()))?
        .with_lookup_limit(settings.lookup_limit);
    Ok(match &settings.files_url {
        None => store.with_files(&settings.files_dir)?,
        Some(url) => store.with_bucket(Bucket::from_env(url)?, &spool_dir(&settings.files_dir)).await?,
    })
}

/// The city the command-line operator acts for: the only city loaded, or the configured one.
pub async fn operating_city(store: &Store, settings: &Settings) -> anyhow::Result<RegionCode> {
    let cities = store.regions().cities().await?;
    match cities.as_slice() {
        [only] => Ok(only.clone()),
        _ if cities.contains(&settings.city) => Ok(settings.city.clone()),
        [] => anyhow::bail!(
            "数据库中还没有区划：请先运行 guanai regions import，或用 guanai serve --demo 建立演示城市"
        ),
        _ => anyhow::bail!("数据库中有多个城市，请在配置文件中用 city 指定本系统服务的城市"),
    }
}

/// Says so when a MySQL or MariaDB server's buffer pool is too small for a city
/// (`guanai_store::server_cache`), before serving or importing a roster; the work goes on.
/// Reading the settings may fail where the account cannot see them: that is logged, and
/// nothing else.
pub async fn advise_on_the_servers_cache(store: &Store) {
    match store.server_cache().await {
        Ok(cache) => {
            let database = cache.describe();
            tracing::info!(%database, "database server");
            if let Some(advice) = cache.advice() {
                tracing::warn!(%database, "the database server's cache is too small for a city's data");
                println!("提示：{advice}");
            }
        }
        Err(err) => tracing::warn!(%err, "reading the database server's cache settings failed"),
    }
}
