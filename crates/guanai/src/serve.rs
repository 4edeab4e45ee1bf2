//! Starting the server: logging, database, first-start bootstrap, background jobs, and a
//! graceful shutdown on Ctrl-C or SIGTERM.

use std::net::SocketAddr;
use std::time::Instant;

use anyhow::Context;
use guanai_store::Store;
use tracing_subscriber::EnvFilter;

use crate::config::Settings;

/// Logs go to stderr; `RUST_LOG` filters them (default `info`), `log_format = "json"` in
/// the configuration makes them one JSON object per line.
pub fn init_logging(settings: &Settings) {
    let filter =
        EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info,sqlx=warn,sea_orm=warn"));
    let builder = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr);
    // A second call (tests run several apps in one process) keeps the first subscriber.
    let _ = if settings.log_json { builder.json().try_init() } else { builder.try_init() };
}

/// Serves; `demo` sets up the demo city first, with that many made-up households.
pub async fn serve(settings: Settings, demo: Option<usize>) -> anyhow::Result<()> {
    let started = Instant::now();
    let store = crate::open::open(&settings).await?;
    crate::open::advise_on_the_servers_cache(&store).await;
    if let Some(households) = demo {
        crate::demo::setup(&store, &settings.data_dir).await?.print();
        crate::demo::populate(&store, households, 2026).await?.print();
    } else {
        bootstrap(&store, &settings).await?;
    }
    tokio::spawn(crate::jobs::maintenance(
        store.clone(),
        settings.audit_retention_days,
        settings.import_file_retention_days,
    ));
    tokio::spawn(crate::jobs::report_summary(store.clone()));
    let app = guanai_web::router(guanai_web::AppState::new(store, settings.web_config()));
    let listener = tokio::net::TcpListener::bind(&settings.listen).await.with_context(|| {
        format!("无法监听 {}：端口可能已被占用，可用 --listen 换一个地址", settings.listen)
    })?;
    let address = listener.local_addr()?;
    tracing::info!(%address, database = %settings.database.redacted(), startup_ms = started.elapsed().as_millis() as u64, "serving");
    println!("关爱已启动：http://{address}/  （按 Ctrl-C 停止）");
    axum::serve(listener, app.into_make_service_with_connect_info::<SocketAddr>())
        .with_graceful_shutdown(shutdown_signal())
        .await?;
    Ok(())
}

/// On a database without users: make sure the configured city's regions are there (the
/// embedded 吉安市 is loaded if that is the city), then create the first city administrator
/// and print its one-time password.
async fn bootstrap(store: &Store, settings: &Settings) -> anyhow::Result<()> {
    if store.users().count_users().await? > 0 {
        return Ok(());
    }
    if !store.regions().region_exists(&settings.city).await? {
        let demo = guanai_store::regions::demo_city();
        if demo.city != settings.city {
            anyhow::bail!(
                "城市 {} 的区划尚未导入：请先运行 guanai regions import --city {} --from 区划文件目录",
                settings.city,
                settings.city
            );
        }
        store.regions().import_regions(&demo).await?;
    }
    let city = crate::open::operating_city(store, settings).await?;
    if let Some((username, password)) = store.users().bootstrap_admin(&city).await? {
        println!("首次启动：已创建市级管理员 {username}，一次性密码 {password}（首次登录后须修改）");
    }
    Ok(())
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
    tracing::info!("shutting down");
}
