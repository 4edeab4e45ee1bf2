//! Import jobs: what a job imports and where it stands, as stored codes.

use crate::users::Permission;

crate::stored_code! {
    /// Where an import job stands.
    pub enum JobStatus {
        /// Uploaded and planned; waits for the user to confirm.
        Previewed => ("previewed", "已预检，待确认"),
        /// Being written; `done` of `total` households so far.
        Committing => ("committing", "正在导入"),
        Done => ("done", "已完成"),
        Failed => ("failed", "失败"),
        /// Given up by the user, or left unconfirmed past the file retention.
        Cancelled => ("cancelled", "已取消"),
    }
}

impl JobStatus {
    /// The job is over: its file is kept only for the retention period.
    pub const fn ended(self) -> bool {
        matches!(self, JobStatus::Done | JobStatus::Failed | JobStatus::Cancelled)
    }
}

crate::stored_code! {
    /// What a job imports; each kind is for the role that may write what it holds.
    pub enum JobKind {
        /// A county's roster of families (花名册).
        Roster => ("roster", "花名册导入"),
        /// The insurer's returned list to underwrite (承保结果回传).
        InsurerReturn => ("insurer_return", "承保结果回传"),
    }
}

impl JobKind {
    /// Who may upload, see and run a job of this kind.
    pub const fn permission(self) -> Permission {
        match self {
            JobKind::Roster => Permission::ManageFamilies,
            JobKind::InsurerReturn => Permission::Underwrite,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::codes::check_table;

    #[test]
    fn the_job_code_tables_read_back_with_unique_codes_and_labels() {
        check_table::<JobStatus>().unwrap();
        check_table::<JobKind>().unwrap();
        assert!(JobStatus::from_code("previewd").is_err(), "a misspelt status is no status");
    }
}
