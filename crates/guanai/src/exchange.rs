//! `guanai export underwriting` and `guanai import insurer`: the files exchanged with the
//! insurer (docs/EXCHANGE.md), from the command line, with the same verdicts as the web
//! page.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use chrono::Datelike;
use guanai_domain::{RegionCode, Role};
use guanai_import::insurer::ReturnVerdict;
use guanai_import::jobs::returns::{self, Confirmed};
use guanai_store::policies::UnderwritingQuery;
use guanai_store::{Actor, Store};

use crate::import::EXIT_REFUSED;

pub struct UnderwritingArgs {
    pub file: PathBuf,
    pub region: Option<String>,
    pub year: Option<i32>,
}

/// Writes the list to underwrite of a region (default: the whole city) and year (default:
/// the current one). The operator is the city's system user, so ID numbers are in full.
pub async fn export_underwriting(
    store: &Store,
    city: RegionCode,
    args: UnderwritingArgs,
) -> anyhow::Result<()> {
    let actor = Actor::system(city);
    let region = args.region.as_deref().map(RegionCode::parse).transpose().context("--region")?;
    let year = args.year.unwrap_or_else(|| store.today().year());
    let query =
        UnderwritingQuery { region: region.clone(), year, submitted_from: None, submitted_until: None };
    let list = store.policies().underwriting_list(&actor, &query).await?;
    let code = region.unwrap_or_else(|| actor.scope().clone());
    let name = store
        .regions()
        .region_names(&[code.as_str()])
        .await?
        .remove(code.as_str())
        .unwrap_or_else(|| code.to_string());
    let bytes =
        guanai_import::exports::underwriting_xlsx(&list, &format!("{name}{year}年度计生家庭保险承保清单"))?;
    std::fs::write(&args.file, bytes).with_context(|| format!("无法写入“{}”", args.file.display()))?;
    println!(
        "承保清单已写入 {}：{}份保单，{}名被保险人",
        args.file.display(),
        list.policies,
        list.rows.len()
    );
    if list.withheld > 0 {
        println!("其中{}人的家庭已撤回向保险公司提供个人信息的同意，身份证号已脱敏", list.withheld);
    }
    Ok(())
}

pub struct InsurerArgs {
    pub file: PathBuf,
    pub dry_run: bool,
    pub report: Option<PathBuf>,
}

/// Imports the insurer's returned file as the city branch of the insurer, as an import job
/// of its own (on the web with the others; the file stays where it is): planned once,
/// then, unless `--dry-run` (which makes no job and writes nothing), confirmed — the
/// decisions checked again and written. Exit status 2 when rows were not imported.
pub async fn import_insurer(store: &Store, city: RegionCode, args: InsurerArgs) -> anyhow::Result<ExitCode> {
    let actor = Actor::system(city).acting_as(Role::InsurerCity);
    let bytes =
        std::fs::read(&args.file).with_context(|| format!("无法读取文件“{}”", args.file.display()))?;
    let name = args.file.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    let (job, plan) = if args.dry_run {
        (None, guanai_import::insurer::plan_return(store, &actor, bytes).await?)
    } else {
        let uploaded = returns::upload(store, &actor, &name, bytes, false).await?;
        (Some(uploaded.id), uploaded.plan)
    };
    let t = &plan.totals;
    println!(
        "共{}行：承保{}份，拒保{}份，无变化{}份，不能导入{}行",
        t.rows, t.underwrite, t.refuse, t.unchanged, t.rejected_rows
    );
    let problems: Vec<_> = plan.entries.iter().filter(|e| e.verdict == ReturnVerdict::Rejected).collect();
    for entry in problems.iter().take(20) {
        println!("  {} {}：{}", entry.lines_label(), entry.verdict.label(), entry.reason);
    }
    if problems.len() > 20 {
        println!("  ……（完整清单见 --report 生成的文件）");
    }
    if let Some(path) = &args.report {
        std::fs::write(path, guanai_import::exports::refused_return_xlsx(&plan.refused_rows())?)
            .with_context(|| format!("无法写入“{}”", path.display()))?;
        println!("不能导入的行已写入 {}", path.display());
    }
    match job {
        None => println!("预检完成，未写入任何数据（去掉 --dry-run 即导入）"),
        Some(_) if plan.decisions().is_empty() => println!("没有需要写入的结果"),
        Some(id) => match returns::confirm(store, &actor, id, true).await? {
            Confirmed::Written(outcome) => {
                println!("导入完成：承保{}份，拒保{}份", outcome.underwritten, outcome.refused)
            }
            Confirmed::Changed => anyhow::bail!("预检之后部分保单的情况已有变化，未写入任何数据，请重新导入"),
            Confirmed::Busy => anyhow::bail!("回传任务{id}已被其他进程执行"),
        },
    }
    Ok(if t.rejected_rows > 0 { ExitCode::from(EXIT_REFUSED) } else { ExitCode::SUCCESS })
}
