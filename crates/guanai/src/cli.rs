//! The `guanai` command line: one binary, one subcommand per task.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand};
use guanai_domain::{Password, RegionCode, Role, Username};
use guanai_store::users::NewUser;
use guanai_store::Actor;

use crate::config::{CliOverrides, FileConfig, Settings};
use crate::open::{open, operating_city};

#[derive(Debug, Parser)]
#[command(name = "guanai", version, about = "关爱：计生家庭意外伤害保险服务平台")]
pub struct Cli {
    #[command(flatten)]
    pub global: GlobalArgs,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Args)]
pub struct GlobalArgs {
    /// Folder of the embedded SQLite database and the key files.
    #[arg(long, global = true, env = "GUANAI_DATA_DIR")]
    pub data_dir: Option<PathBuf>,
    /// A postgres://, mysql:// or sqlite:// URL; the embedded SQLite file when absent.
    #[arg(long, global = true, env = "GUANAI_DATABASE_URL", hide_env_values = true)]
    pub database_url: Option<String>,
    /// TOML configuration file (default: ./guanai.toml when it exists).
    #[arg(long, global = true, env = "GUANAI_CONFIG")]
    pub config: Option<PathBuf>,
    /// Master key for personal data (64 hex characters); default: the key file in the
    /// data folder. Several servers on one database must share it.
    #[arg(long, global = true, env = "GUANAI_ENCRYPTION_KEY", hide_env_values = true)]
    pub encryption_key: Option<String>,
    /// An S3-compatible bucket for uploaded files (`s3://bucket/prefix`), reached as the
    /// AWS_* variables say (AWS_ENDPOINT, AWS_REGION, AWS_ACCESS_KEY_ID, …); default: the
    /// files folder.
    #[arg(long, global = true, env = "GUANAI_FILES_URL")]
    pub files_url: Option<String>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the web server (pages and API).
    Serve {
        /// Address to listen on.
        #[arg(long, env = "GUANAI_LISTEN")]
        listen: Option<String>,
        /// Set up the demo city (吉安市) with one user per role, and print their logins.
        #[arg(long)]
        demo: bool,
        /// With --demo: how many made-up households to add to an empty demo city, or
        /// `city` for a city-size one (≈ 330,000 households, ≈ 1,000,000 persons).
        #[arg(long, value_name = "N|city", default_value = "2000", value_parser = parse_households)]
        households: usize,
    },
    /// Bring the database schema up to date.
    Migrate,
    /// Set up the demo city and its users without serving.
    Demo {
        /// How many made-up households to add to an empty demo city, or `city` for a
        /// city-size one (≈ 330,000 households, ≈ 1,000,000 persons; several minutes).
        #[arg(long, value_name = "N|city", default_value = "2000", value_parser = parse_households)]
        households: usize,
        /// Seed of the generator: the same seed makes the same city.
        #[arg(long, default_value_t = 2026)]
        seed: u64,
        /// Write the made-up households as a county roster CSV to this file instead of
        /// loading them (for trying `guanai import roster`).
        #[arg(long)]
        roster: Option<PathBuf>,
    },
    /// Regions (行政区划).
    Regions {
        #[command(subcommand)]
        command: RegionsCommand,
    },
    /// User accounts.
    User {
        #[command(subcommand)]
        command: UserCommand,
    },
    /// Write a consistent copy of the SQLite database, also while the server runs, and of
    /// the files folder (sealed claim papers and photos) in `<file>.files`.
    Backup {
        /// The file to write; must not exist (nor `<file>.files`).
        file: PathBuf,
    },
    /// Import spreadsheets: county rosters, and the roster template.
    Import {
        #[command(subcommand)]
        command: ImportCommand,
    },
    /// Measure Guanai at city scale and print one table (see docs/BENCHMARKS.md).
    Bench {
        /// A small pass that runs every step quickly (CI runs this).
        #[arg(long)]
        quick: bool,
        /// Run on fresh databases created on this server instead of SQLite files, e.g.
        /// postgres://postgres@127.0.0.1/test or mysql://root@127.0.0.1/test.
        #[arg(long)]
        server: Option<String>,
        /// How many times each timed step runs (the table shows medians).
        #[arg(long)]
        runs: Option<usize>,
        /// Run only these steps (comma-separated): import, city, gift, reports, renew,
        /// claims, province. `city` builds the city database and measures the server on it.
        #[arg(long, value_delimiter = ',')]
        only: Vec<crate::bench::Step>,
    },
    /// Export spreadsheets: the list to underwrite for the insurer.
    Export {
        #[command(subcommand)]
        command: ExportCommand,
    },
    /// The audit log.
    Audit {
        #[command(subcommand)]
        command: AuditCommand,
    },
    /// Renewal season (续保): reminders, lapses, sending the outbox, batch renewal.
    Renew {
        #[command(subcommand)]
        command: crate::renewals::RenewCommand,
    },
}

/// `--households`: a number of households, or `city` for [`crate::demo::CITY_HOUSEHOLDS`].
fn parse_households(text: &str) -> Result<usize, String> {
    let text = text.trim();
    if text.eq_ignore_ascii_case("city") {
        return Ok(crate::demo::CITY_HOUSEHOLDS);
    }
    let households: usize = text.replace(['_', ','], "").parse().map_err(|_| {
        format!("“{text}”不是户数：请写一个整数（如 2000），或写 city 生成全市规模（约33万户）")
    })?;
    if households > crate::demo::MAX_HOUSEHOLDS {
        return Err(format!(
            "户数{households}太多：最多{}户（全市规模请写 city）",
            crate::demo::MAX_HOUSEHOLDS
        ));
    }
    Ok(households)
}

#[derive(Debug, Subcommand)]
pub enum RegionsCommand {
    /// Load one city's regions from a folder of official division files.
    Import {
        /// 4-digit city code, e.g. 3608.
        #[arg(long)]
        city: String,
        /// Folder with cities.csv, areas.csv, streets.csv, villages.csv (or .csv.gz).
        #[arg(long)]
        from: PathBuf,
    },
}

#[derive(Debug, Subcommand)]
pub enum UserCommand {
    /// Create a user; prints a one-time password unless one is given.
    Add {
        #[arg(long)]
        username: String,
        /// The person's name as users read it.
        #[arg(long)]
        name: String,
        /// city_admin, county_staff, township_staff, village_agent, insurer_city,
        /// insurer_county, supervisor or auditor.
        #[arg(long)]
        role: String,
        /// Region code of the user's scope.
        #[arg(long)]
        region: String,
        /// Initial password (read from GUANAI_NEW_PASSWORD if set); random when absent.
        #[arg(long, env = "GUANAI_NEW_PASSWORD", hide_env_values = true)]
        password: Option<String>,
    },
    /// Set a new one-time password for a user and unlock the account.
    ResetPassword { username: String },
}

#[derive(Debug, Subcommand)]
pub enum ImportCommand {
    /// Import a roster (.xlsx or .csv). Exit status 2 when rows were refused.
    Roster {
        file: PathBuf,
        /// Check every row and print the verdicts; write nothing.
        #[arg(long)]
        dry_run: bool,
        /// Write the refused rows with their reasons to this .xlsx file.
        #[arg(long)]
        report: Option<PathBuf>,
        /// Say which column holds a field the header did not name clearly: `id_number=3`
        /// (columns count from 1); repeat for several.
        #[arg(long = "map")]
        map: Vec<String>,
        /// Import as this user's scope instead of the whole city.
        #[arg(long)]
        region: Option<String>,
        /// Households written per transaction (a household is never split); on PostgreSQL
        /// and MySQL two transactions are written at once.
        #[arg(long, default_value_t = guanai_import::roster::COMMIT_BATCH)]
        batch: usize,
    },
    /// Write the roster template (.xlsx) with its instructions.
    Template { file: PathBuf },
    /// Import the insurer's returned list to underwrite (承保结果, 保单号, 拒保原因; see
    /// docs/EXCHANGE.md), as the insurer's city branch. Exit status 2 when rows were not
    /// imported.
    Insurer {
        file: PathBuf,
        /// Check every policy and print the verdicts; write nothing.
        #[arg(long)]
        dry_run: bool,
        /// Write the rows not imported, with their reasons, to this .xlsx file.
        #[arg(long)]
        report: Option<PathBuf>,
    },
}

#[derive(Debug, Subcommand)]
pub enum ExportCommand {
    /// Write the list to underwrite (承保清单, docs/EXCHANGE.md) of the submitted policies.
    Underwriting {
        file: PathBuf,
        /// Region code within the city (default: the whole city).
        #[arg(long)]
        region: Option<String>,
        /// Coverage year (default: the current year).
        #[arg(long)]
        year: Option<i32>,
    },
}

#[derive(Debug, Subcommand)]
pub enum AuditCommand {
    /// Delete entries older than the retention period (at least 180 days).
    Prune,
}

pub fn main() -> ExitCode {
    let cli = Cli::parse();
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(runtime) => runtime,
        Err(err) => {
            eprintln!("无法启动：{err}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(cli)) {
        Ok(code) => code,
        Err(err) => {
            eprintln!("错误：{err:#}");
            ExitCode::FAILURE
        }
    }
}

pub async fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    let listen = match &cli.command {
        Command::Serve { listen, .. } => listen.clone(),
        _ => None,
    };
    let overrides = CliOverrides {
        data_dir: cli.global.data_dir.clone(),
        database_url: cli.global.database_url.clone(),
        listen,
        encryption_key: cli.global.encryption_key.clone(),
        files_url: cli.global.files_url.clone(),
    };
    let settings = Settings::resolve(&overrides, FileConfig::load(cli.global.config.as_deref())?)?;
    crate::serve::init_logging(&settings);
    match cli.command {
        Command::Serve { demo, households, .. } => {
            crate::serve::serve(settings, demo.then_some(households)).await?
        }
        Command::Migrate => {
            let store = open(&settings).await?;
            let applied = store.applied_migrations().await?;
            println!("数据库已是最新结构（{}，共{}个迁移）", store.engine().label(), applied.len());
        }
        Command::Demo { households, seed, roster: Some(file) } => {
            let set = guanai_store::regions::demo_city();
            let today =
                chrono::NaiveDate::from_ymd_opt(crate::demo::catalog::DEMO_YEAR, 11, 30).expect("valid date");
            std::fs::write(&file, crate::demo::households::roster_csv(&set, households, seed, today))?;
            println!("花名册已写入 {}（{households}户）", file.display());
        }
        Command::Demo { households, seed, roster: None } => {
            let store = open(&settings).await?;
            crate::demo::setup(&store, &settings.data_dir).await?.print();
            crate::demo::populate(&store, households, seed).await?.print();
        }
        Command::Regions { command: RegionsCommand::Import { city, from } } => {
            let city = RegionCode::parse(&city).map_err(|e| anyhow::anyhow!("--city：{e}"))?;
            let set = guanai_store::regions::read_division_dir(&from, &city)?;
            let store = open(&settings).await?;
            let summary = store.regions().import_regions(&set).await?;
            println!(
                "已导入 {}：新增{}个，更名{}个，未变{}个（县{}个，乡镇{}个，村{}个）",
                city,
                summary.added,
                summary.renamed,
                summary.unchanged,
                set.count(guanai_domain::RegionLevel::County),
                set.count(guanai_domain::RegionLevel::Township),
                set.count(guanai_domain::RegionLevel::Village)
            );
        }
        Command::User { command } => {
            let store = open(&settings).await?;
            let city = operating_city(&store, &settings).await?;
            match command {
                UserCommand::Add { username, name, role, region, password } => {
                    let generated = password.is_none();
                    let password = password.unwrap_or_else(crate::demo::random_password);
                    let new = NewUser {
                        username: Username::parse(&username)?,
                        display_name: name,
                        role: Role::parse(&role)?,
                        region: RegionCode::parse(&region)?,
                        org_id: None,
                        password: Password::parse(&password)?,
                        must_change_password: true,
                    };
                    let user = store.users().create_user(&Actor::system(city), new).await?;
                    println!("已创建用户 {}（{}）", user.username, user.role.label());
                    if generated {
                        println!("一次性密码：{password}（首次登录后须修改）");
                    }
                }
                UserCommand::ResetPassword { username } => {
                    let password = crate::demo::random_password();
                    store
                        .users()
                        .reset_password(&Username::parse(&username)?, &Password::parse(&password)?, &city)
                        .await?;
                    println!("已重置 {username} 的密码，一次性密码：{password}（登录后须修改）");
                }
            }
        }
        Command::Backup { file } => crate::backup::backup(&settings, &file).await?,
        Command::Import { command } => {
            let store = open(&settings).await?;
            match command {
                ImportCommand::Roster { file, dry_run, report, map, region, batch } => {
                    let city = operating_city(&store, &settings).await?;
                    let mut actor = Actor::system(city);
                    if let Some(region) = region {
                        actor = Actor::system(RegionCode::parse(&region)?);
                    }
                    if !dry_run {
                        crate::open::advise_on_the_servers_cache(&store).await;
                    }
                    let args = crate::import::RosterArgs { file, dry_run, report, map, batch };
                    return crate::import::roster(&store, &actor, args).await;
                }
                ImportCommand::Insurer { file, dry_run, report } => {
                    let city = operating_city(&store, &settings).await?;
                    let args = crate::exchange::InsurerArgs { file, dry_run, report };
                    return crate::exchange::import_insurer(&store, city, args).await;
                }
                ImportCommand::Template { file } => {
                    std::fs::write(&file, guanai_import::report::roster_template_xlsx()?)?;
                    println!("模板已写入 {}", file.display());
                }
            }
        }
        Command::Bench { quick, server, runs, only } => {
            let mut size =
                if quick { crate::bench::BenchSize::quick() } else { crate::bench::BenchSize::city() };
            if let Some(runs) = runs {
                size.runs = runs.max(1);
            }
            let steps = if only.is_empty() { crate::bench::Step::ALL.to_vec() } else { only };
            crate::bench::run(size, crate::bench::Target { server_url: server }, &steps).await?;
        }
        Command::Export { command: ExportCommand::Underwriting { file, region, year } } => {
            let store = open(&settings).await?;
            let city = operating_city(&store, &settings).await?;
            let args = crate::exchange::UnderwritingArgs { file, region, year };
            crate::exchange::export_underwriting(&store, city, args).await?;
        }
        Command::Audit { command: AuditCommand::Prune } => {
            let store = open(&settings).await?;
            let removed = store.audit_log().prune_audit(settings.audit_retention_days).await?;
            println!("已删除{}天前的审计日志{removed}条", settings.audit_retention_days);
        }
        Command::Renew { command } => {
            let store = open(&settings).await?;
            let city = operating_city(&store, &settings).await?;
            crate::renewals::run(&store, city, command).await?;
        }
    }
    Ok(ExitCode::SUCCESS)
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_command_line_is_well_formed() {
        use clap::CommandFactory;
        super::Cli::command().debug_assert();
    }

    #[test]
    fn households_are_a_number_or_the_city() {
        use clap::Parser;
        let households = |args: &[&str]| match super::Cli::try_parse_from(args).map(|cli| cli.command) {
            Ok(super::Command::Demo { households, .. } | super::Command::Serve { households, .. }) => {
                Ok(households)
            }
            Ok(other) => panic!("parsed as {other:?}"),
            Err(err) => Err(err.to_string()),
        };
        assert_eq!(households(&["guanai", "demo"]), Ok(2_000));
        assert_eq!(households(&["guanai", "demo", "--households", "500"]), Ok(500));
        assert_eq!(households(&["guanai", "demo", "--households", "city"]), Ok(crate::demo::CITY_HOUSEHOLDS));
        assert_eq!(
            households(&["guanai", "serve", "--demo", "--households", "city"]),
            Ok(crate::demo::CITY_HOUSEHOLDS)
        );
        assert_eq!(households(&["guanai", "serve", "--demo"]), Ok(2_000));
        let bad = households(&["guanai", "demo", "--households", "many"]).unwrap_err();
        assert!(bad.contains("“many”不是户数"), "{bad}");
        let huge = households(&["guanai", "demo", "--households", "99999999"]).unwrap_err();
        assert!(huge.contains("太多"), "{huge}");
    }
}
