//! Roster import (花名册导入) and the insurer's exchange files. County spreadsheets come in
//! as they are (`table`), their columns are recognised (`columns`), every row gets a
//! verdict against the registry (`roster`), and only then is anything written, batch by
//! batch, so a crash leaves whole households or none and a re-run completes the rest.
//!
//! Error policy: [`ImportError`] for a file that cannot be read at all; everything wrong
//! with a single row is that row's verdict, with the reason in Chinese.

pub mod claims_exchange;
pub mod columns;
pub mod csv_out;
pub mod exports;
pub mod insurer;
pub mod jobs;
pub mod places;
pub mod renewals;
pub mod report;
pub mod reports;
pub mod roster;
pub mod table;
pub mod targets;

pub use columns::{ColumnMap, Field};
pub use roster::{plan_roster, RosterPlan, RowVerdict, Totals, Verdict};
pub use table::{read_header, read_table, scan_table, Scanned, SourceRow, Table};

/// A file that cannot be imported at all.
#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    #[error("文件无法读取：{0}")]
    Unreadable(String),
    #[error(
        "找不到表头：前{}行中没有一行同时含有“姓名”“身份证号”等列名。请保留名单的表头行，或下载模板对照填写",
        table::HEADER_SEARCH
    )]
    NoHeader,
    /// Required fields no column holds; `headers` is the file's header row, for choosing.
    #[error("缺少必填列：{names}。请在“列对应”中指定哪一列是它")]
    MissingColumns { names: String, headers: Vec<String> },
    /// A row the database's rules refused when the file was confirmed, named with its line
    /// and why; nothing of the file was written.
    #[error("{0}")]
    RowRefused(String),
    #[error("{0}")]
    Store(#[from] guanai_store::StoreError),
    /// A reader stopped on purpose once it had what it wanted; never returned to callers.
    #[doc(hidden)]
    #[error("（读取已停止）")]
    Stopped,
}

/// Runs a file's parsing on a blocking thread, so a large or hostile file never holds one
/// of the threads that serve requests.
pub(crate) async fn blocking<T: Send + 'static>(
    work: impl FnOnce() -> Result<T, ImportError> + Send + 'static,
) -> Result<T, ImportError> {
    tokio::task::spawn_blocking(work)
        .await
        .map_err(|_| ImportError::Unreadable("文件读取时出错，请另存为 .xlsx 或 .csv 后重试".to_owned()))?
}
