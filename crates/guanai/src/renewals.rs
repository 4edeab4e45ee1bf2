//! `guanai renew …`: the renewal season's jobs for the city the operator acts for —
//! today's reminders written to the outbox, lapsed families made follow-up tasks, the
//! outbox sent (log sender by default, an HTTP gateway by `--gateway-url`), and a batch
//! renewal of a region's fully funded families (preview, then `--yes`).

use clap::Subcommand;
use guanai_domain::RegionCode;
use guanai_store::outbox::OutboxSettings;
use guanai_store::renewals::{BatchQuery, SeasonSettings};
use guanai_store::{Actor, Store};

use crate::outbox::{new_token, send_due, HttpSender, LogSender};

#[derive(Debug, Subcommand)]
pub enum RenewCommand {
    /// Write today's renewal reminders (30, 7 and 1 days before the end) to the outbox.
    Remind,
    /// Make a follow-up task of every family whose policy lapsed (grace period over).
    Lapse,
    /// Send the outbox's due messages (none in the quiet hours, 21:00–08:00).
    Send {
        /// The SMS / WeChat gateway to post to; without it, messages go to the log.
        #[arg(long, env = "GUANAI_GATEWAY_URL")]
        gateway_url: Option<String>,
        /// The gateway's shared signing key.
        #[arg(long, env = "GUANAI_GATEWAY_KEY", hide_env_values = true)]
        gateway_key: Option<String>,
    },
    /// Renew a region's fully funded due families at once: prints the preview; `--yes`
    /// confirms it.
    Batch {
        /// County, township or village code (default: the whole city).
        #[arg(long)]
        region: Option<String>,
        #[arg(long)]
        yes: bool,
    },
}

pub async fn run(store: &Store, city: RegionCode, command: RenewCommand) -> anyhow::Result<()> {
    let system = Actor::system(city);
    let season = SeasonSettings::default();
    let settings = OutboxSettings::default();
    match command {
        RenewCommand::Remind => {
            let written = store.outbox().queue_renewal_reminders(&system, &settings, &season).await?;
            println!("已写入续保提醒{written}条");
        }
        RenewCommand::Lapse => {
            let made = store.renewals().open_follow_ups(&system, &season).await?;
            println!("新增脱保跟进任务{made}个");
        }
        RenewCommand::Send { gateway_url, gateway_key } => {
            let token = new_token();
            let report = match gateway_url {
                Some(url) => {
                    let key =
                        gateway_key.ok_or_else(|| anyhow::anyhow!("使用网关发送时须提供 --gateway-key"))?;
                    send_due(store, &HttpSender::new(&url, &key)?, &settings, &token).await?
                }
                None => send_due(store, &LogSender { print: true }, &settings, &token).await?,
            };
            println!("发送成功{}条，失败{}条（失败的将稍后重试）", report.sent, report.failed);
        }
        RenewCommand::Batch { region, yes } => {
            let region = region.map(|r| RegionCode::parse(&r)).transpose()?;
            let query = BatchQuery { region, ..Default::default() };
            let preview = store.renewals().batch_preview(&system, &query).await?;
            println!(
                "可批量续保{}户{}人，保费合计{}；需家庭缴费的{}户逐户办理；不能续保{}户",
                preview.households,
                preview.persons,
                preview.premium,
                preview.not_fully_funded,
                preview.skipped_total
            );
            for source in &preview.sources {
                println!("  {}：本次{}，使用前剩余{}", source.name, source.amount, source.left_before);
            }
            if yes && preview.households > 0 {
                let done = store
                    .renewals()
                    .batch_renew(&system, &BatchQuery { expected: Some(preview.households), ..query })
                    .await?;
                println!("已批量续保{}户{}人", done.households, done.persons);
            } else if preview.households > 0 {
                println!("加 --yes 确认办理");
            }
        }
    }
    Ok(())
}
