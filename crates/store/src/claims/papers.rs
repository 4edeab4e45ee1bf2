//! A claim's papers as files (photographed on a phone, or a PDF): kept by the file store
//! (`files/`, purpose `ClaimPaper`, owned by the claim, scoped by its village), each tagged
//! with the paper it shows. Receiving a file for a paper marks that paper received in the
//! same transaction as the file's row. Listing and opening them is scoped like the claim
//! itself (outside it, "not found", the attempt audited), and every view is audited.

use guanai_domain::claims::Paper;
use guanai_domain::files::{FilePurpose, MAX_FILES_PER_UPLOAD};
use guanai_domain::Permission;
use sea_orm::TransactionTrait;
use serde::Serialize;

use crate::audit::AuditEvent;
use crate::error::stored;
use crate::files::{FileOwner, Image, StoredFile, Upload, Variant};
use crate::{Actor, StoreError, StoreResult};

const PAPER: FilePurpose = FilePurpose::ClaimPaper;

/// A file of a claim's papers: which paper it shows, and the file.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PaperFile {
    pub paper: Paper,
    #[serde(flatten)]
    pub file: StoredFile,
}

impl crate::handles::Claims<'_> {
    /// Keeps files of one paper of a claim in the actor's scope and marks the paper
    /// received: all of them or, when one is refused (not a JPEG, PNG, WebP or PDF, cut
    /// off, too large), none. The blobs are written first, then the files' rows, the paper
    /// and the claim's status in one transaction (the blobs removed again if it fails).
    pub async fn add_paper_files(
        self,
        actor: &Actor,
        id: i64,
        paper: Paper,
        uploads: Vec<Upload>,
    ) -> StoreResult<Vec<PaperFile>> {
        let row = self.claim_taking_papers(actor, id, &[paper]).await?;
        if uploads.is_empty() {
            return Err(StoreError::invalid("请选择要上传的材料照片或PDF文件"));
        }
        if uploads.len() > MAX_FILES_PER_UPLOAD {
            return Err(StoreError::invalid(format!(
                "一次最多上传{MAX_FILES_PER_UPLOAD}个文件，请分批上传；本次选择的文件均未保存"
            )));
        }
        let calendar = self.work_calendar().await?;
        let prepared = self.files().prepare(PAPER, uploads).await?;
        let owner = FileOwner {
            purpose: PAPER,
            owner_id: row.id,
            region: row.village_code.clone(),
            tag: Some(paper.code().to_owned()),
        };
        let written = self.files().put_blobs(PAPER, prepared).await?;
        let saved: StoreResult<Vec<i64>> = async {
            let txn = self.db.begin().await?;
            // The paper first: its write takes SQLite's lock before anything is read.
            self.receive_papers_in(&txn, &row, &[paper], actor, &calendar).await?;
            let ids = self.files().insert_rows_in(&txn, actor, &owner, &written).await?;
            let event = AuditEvent::ok("claim.paper", "理赔案件", id.to_string())
                .with_detail(format!("{}（上传文件）", paper.label()));
            self.audit_in(&txn, actor, event).await?;
            txn.commit().await?;
            Ok(ids)
        }
        .await;
        let ids = match saved {
            Ok(ids) => ids,
            Err(err) => {
                self.files().forget(&written).await;
                return Err(err);
            }
        };
        let files = self.files().stored_files(ids).await?;
        Ok(files.into_iter().map(|file| PaperFile { paper, file }).collect())
    }

    /// The files of a claim in the actor's scope, oldest first; the view is audited.
    pub async fn paper_files(self, actor: &Actor, id: i64) -> StoreResult<Vec<PaperFile>> {
        self.require(actor, Permission::ViewClaims).await?;
        let row = self.claim_row(actor, id).await?;
        let files = self
            .files()
            .rows(PAPER, row.id)
            .await?
            .into_iter()
            .map(|f| {
                let paper = stored("files.tag", f.tag.as_deref().unwrap_or_default())?;
                Ok(PaperFile { paper, file: f.into() })
            })
            .collect::<StoreResult<Vec<_>>>()?;
        let event = AuditEvent::ok("file.list", PAPER.label(), id.to_string())
            .with_subject(format!("person:{}", row.person_id))
            .with_detail(format!("理赔案件{id}的材料{}个", files.len()));
        self.audit(actor, event).await?;
        Ok(files)
    }

    /// One file of a claim's papers (an image or its thumbnail, or a PDF), opened; the
    /// view is audited, and a file outside the actor's scope is "not found" (the attempt
    /// audited).
    pub async fn paper_file(self, actor: &Actor, file_id: i64, variant: Variant) -> StoreResult<Image> {
        self.files().read(actor, PAPER, file_id, variant).await
    }
}
