//! The file store: images uploaded as claim papers or activity photos, and a claim paper's
//! PDF. An upload is hostile until decoded: `images.rs` decodes an image under limits (on
//! a blocking thread, a few at a time) and re-encodes it as a JPEG with a thumbnail, which
//! leaves every byte of the original's metadata (EXIF, GPS) behind. A PDF (where the
//! purpose takes one, told by its signature) is kept as it came, without a thumbnail. Both are sealed with the store's keys
//! (`crypto.rs`: papers show ID cards, bank cards and medical records) and kept as blobs
//! through `object_store`, on the local file system under the data folder by default or in
//! an S3-compatible bucket (`bucket.rs`), by one code path either way; the
//! `files` table holds what each image belongs to, the region its record lies in and the
//! key of its blobs. The bytes never enter the database.
//!
//! A feature owns its files (`FilePurpose`): it checks its own record and scope before it
//! lists or adds files, and every read of a file checks the purpose's permission and the
//! file's region again, audits the view, and answers "not found" outside the scope.

mod bucket;
mod images;
mod jpeg;
mod spool;

use std::path::{Path, PathBuf};
use std::sync::Arc;

use chrono::{DateTime, Utc};
use guanai_domain::files::{
    display_name, is_pdf, FilePurpose, ImageRefusal, JPEG_TYPE, MAX_UPLOAD_BYTES, PDF_TYPE,
};
use object_store::local::LocalFileSystem;
use object_store::path::Path as BlobPath;
use object_store::ObjectStore;
use sea_orm::{
    ActiveValue::{NotSet, Set},
    ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, TransactionTrait,
};
use serde::Serialize;

use crate::access::Target;
use crate::audit::AuditEvent;
use crate::entities::files;
use crate::{Actor, Store, StoreError, StoreResult};

pub use bucket::Bucket;
pub use spool::{spool_dir, Spool, Upload};

/// The type every kept image is served as.
pub const JPEG: &str = JPEG_TYPE;

/// Images decoded at once per store. A 12-megapixel phone photo takes about 70 MB while it
/// is decoded and re-encoded (the encoding already runs on two threads: `images.rs`); with
/// two at once, 16 photos uploaded together peaked at 173–200 MB on the bench's server,
/// with one at once at 129–135 MB, the 16 done in 3.9–4.1 s instead of 2.5–3.2 s
/// (`docs/BENCHMARKS.md`, fifteenth session). Memory that cannot run out wins over bursts.
const DECODERS: usize = 1;

/// Where the blobs live, shared by every copy of a store.
#[derive(Clone, Debug)]
pub(crate) struct FileRoot {
    blobs: Arc<dyn ObjectStore>,
    decoders: Arc<tokio::sync::Semaphore>,
    /// Where uploads arriving are spooled (`spool.rs`).
    incoming: PathBuf,
}

/// An upload decoded and re-encoded (or a PDF checked), ready to be kept; nothing is
/// written yet.
pub struct Prepared {
    name: String,
    content_type: &'static str,
    /// The re-encoded JPEG, or the PDF as it came.
    body: Vec<u8>,
    /// None for a PDF.
    thumbnail: Option<Vec<u8>>,
    width: u32,
    height: u32,
}

/// An upload opened on the decoder's thread.
enum Opened {
    /// A PDF, kept as it came.
    Pdf(Vec<u8>),
    Image(images::Reencoded),
}

/// Blobs written for prepared files, not yet recorded: the rows are written next, in the
/// caller's transaction ([`crate::handles::Files::insert_rows_in`]), and the blobs removed
/// again ([`crate::handles::Files::forget`]) if it fails.
pub(crate) struct Written {
    purpose: FilePurpose,
    files: Vec<(String, Prepared)>,
}

/// What the files of a record are: its kind, its id and the region it lies in, and what
/// the files are within it (a claim paper's code).
#[derive(Debug, Clone)]
pub struct FileOwner {
    pub purpose: FilePurpose,
    pub owner_id: i64,
    pub region: String,
    pub tag: Option<String>,
}

/// A kept image or PDF, as lists show it.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct StoredFile {
    pub id: i64,
    /// The name it was uploaded under.
    pub name: String,
    /// `image/jpeg` (every image is re-encoded) or `application/pdf` (a claim paper's PDF,
    /// kept as it came, without a thumbnail).
    pub content_type: String,
    /// Pixels; 0 for a PDF.
    pub width: i32,
    pub height: i32,
    /// Bytes of the re-encoded image or of the PDF.
    pub bytes: i64,
    pub created_by: String,
    pub created_at: DateTime<Utc>,
}

impl From<files::Model> for StoredFile {
    fn from(row: files::Model) -> Self {
        StoredFile {
            id: row.id,
            name: row.name,
            content_type: row.content_type,
            width: row.width,
            height: row.height,
            bytes: row.bytes,
            created_by: row.created_by,
            created_at: row.created_at,
        }
    }
}

impl StoredFile {
    /// Whether it is a PDF (no thumbnail; shown as a label in lists).
    pub fn is_pdf(&self) -> bool {
        self.content_type == PDF_TYPE
    }
}

/// Which of an image's two blobs to read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Variant {
    Full,
    Thumbnail,
}

impl Variant {
    fn label(self) -> &'static str {
        match self {
            Variant::Full => "原图",
            Variant::Thumbnail => "缩略图",
        }
    }
}

/// An image (or a PDF) read back and opened.
#[derive(Debug, Clone)]
pub struct Image {
    pub file: StoredFile,
    pub content_type: &'static str,
    pub bytes: Vec<u8>,
}

fn blob_paths(purpose: FilePurpose, key: &str) -> (BlobPath, BlobPath) {
    let dir = format!("{}/{}", purpose.code(), &key[..2]);
    (BlobPath::from(format!("{dir}/{key}")), BlobPath::from(format!("{dir}/{key}.thumb")))
}

fn blob_error(err: object_store::Error) -> StoreError {
    StoreError::Blob(err.to_string())
}

fn target(purpose: FilePurpose) -> Target {
    Target { action: "file.view", kind: purpose.label() }
}

impl Store {
    /// The same store keeping its files under `dir` (created if missing); configuration
    /// `files_dir`, by default `<data-dir>/files`. Without it, file operations are refused.
    pub fn with_files(self, dir: &Path) -> StoreResult<Store> {
        create_dir(dir)?;
        let blobs = LocalFileSystem::new_with_prefix(dir)
            .map_err(|e| StoreError::invalid(format!("无法使用文件目录“{}”：{e}", dir.display())))?;
        self.with_blob_store(Arc::new(blobs), &spool_dir(dir))
    }

    /// The same store keeping its files' blobs in an S3-compatible bucket (configuration
    /// `files_url`), once the bucket has answered; uploads arriving are spooled to
    /// `spool_dir` (created if missing) on this machine.
    pub async fn with_bucket(self, bucket: Bucket, spool_dir: &Path) -> StoreResult<Store> {
        let blobs = bucket.open().await?;
        self.with_blob_store(blobs, spool_dir)
    }

    /// The same store keeping its files' blobs in `blobs` (a folder or a bucket: every
    /// put, get and delete goes through it alike), spooling uploads to `spool_dir`.
    pub fn with_blob_store(mut self, blobs: Arc<dyn ObjectStore>, spool_dir: &Path) -> StoreResult<Store> {
        create_dir(spool_dir)?;
        self.file_root = Some(FileRoot {
            blobs,
            decoders: Arc::new(tokio::sync::Semaphore::new(DECODERS)),
            incoming: spool_dir.to_path_buf(),
        });
        Ok(self)
    }

    fn root(&self) -> StoreResult<&FileRoot> {
        self.file_root.as_ref().ok_or_else(|| StoreError::invalid("未配置文件存储目录，无法保存或读取照片"))
    }

    async fn delete_blobs(&self, purpose: FilePurpose, key: &str) -> StoreResult<()> {
        let root = self.root()?;
        let (full, thumb) = blob_paths(purpose, key);
        for path in [full, thumb] {
            match root.blobs.delete(&path).await {
                Ok(()) | Err(object_store::Error::NotFound { .. }) => {}
                Err(err) => return Err(blob_error(err)),
            }
        }
        Ok(())
    }
}

impl crate::handles::Files<'_> {
    /// Whether this store keeps files (the demo adds photos only then).
    pub fn configured(self) -> bool {
        self.file_root.is_some()
    }

    /// A new upload named `name`, to be received chunk by chunk (the web layer's multipart
    /// reader); its bytes go to a file once past a few hundred KB.
    pub fn spool(self, name: impl Into<String>) -> StoreResult<Spool> {
        Ok(Spool::new(name.into(), self.root()?.incoming.clone()))
    }

    /// Decodes and re-encodes every upload, on blocking threads, a few at a time (a PDF,
    /// where `purpose` takes one, is only told by its signature and size); one refused
    /// upload refuses them all, with a Chinese message naming the file, and nothing is kept.
    /// An upload's bytes enter memory only once it has its turn.
    pub async fn prepare(self, purpose: FilePurpose, uploads: Vec<Upload>) -> StoreResult<Vec<Prepared>> {
        let root = self.root()?;
        let mut prepared = Vec::with_capacity(uploads.len());
        for upload in uploads {
            let name = display_name(&upload.name, if purpose.accepts_pdf() { "文件" } else { "照片" });
            if upload.len() > MAX_UPLOAD_BYTES as u64 {
                return Err(refused(&name, ImageRefusal::TooLarge));
            }
            let permit = root
                .decoders
                .clone()
                .acquire_owned()
                .await
                .map_err(|_| StoreError::Blob("decoders closed".into()))?;
            let done = tokio::task::spawn_blocking(move || {
                let _permit = permit;
                let bytes = upload.into_bytes()?;
                std::io::Result::Ok(if purpose.accepts_pdf() && is_pdf(&bytes) {
                    Ok(Opened::Pdf(bytes))
                } else {
                    images::reencode(&bytes).map(Opened::Image)
                })
            })
            .await
            .map_err(|e| StoreError::Blob(format!("image task: {e}")))?
            .map_err(|e| StoreError::Blob(format!("an upload could not be read back: {e}")))?;
            prepared.push(match done {
                Ok(Opened::Image(image)) => Prepared {
                    name,
                    content_type: JPEG,
                    body: image.jpeg,
                    thumbnail: Some(image.thumbnail),
                    width: image.width,
                    height: image.height,
                },
                Ok(Opened::Pdf(body)) => {
                    Prepared { name, content_type: PDF_TYPE, body, thumbnail: None, width: 0, height: 0 }
                }
                Err(ImageRefusal::NotAnImage) if purpose.accepts_pdf() => {
                    return Err(refused(&name, ImageRefusal::NotAPaper))
                }
                Err(refusal) => return Err(refused(&name, refusal)),
            });
        }
        Ok(prepared)
    }

    /// Seals and keeps prepared files as files of `owner`: the blobs first, then the rows
    /// and the audit entry in one transaction (the blobs are removed again if it fails).
    /// The caller has checked the owner's record and scope.
    pub async fn save(
        self,
        actor: &Actor,
        owner: &FileOwner,
        prepared: Vec<Prepared>,
    ) -> StoreResult<Vec<StoredFile>> {
        self.require(actor, owner.purpose.manage_permission()).await?;
        let written = self.put_blobs(owner.purpose, prepared).await?;
        let saved: StoreResult<Vec<i64>> = async {
            let txn = self.db.begin().await?;
            let ids = self.insert_rows_in(&txn, actor, owner, &written).await?;
            txn.commit().await?;
            Ok(ids)
        }
        .await;
        match saved {
            Ok(ids) => self.stored_files(ids).await,
            Err(err) => {
                self.forget(&written).await;
                Err(err)
            }
        }
    }

    /// Seals and writes the blobs of prepared files (a thumbnail for images only); on a
    /// failure those already written are removed and nothing is left.
    pub(crate) async fn put_blobs(
        self,
        purpose: FilePurpose,
        prepared: Vec<Prepared>,
    ) -> StoreResult<Written> {
        let root = self.root()?;
        let mut written = Written { purpose, files: Vec::with_capacity(prepared.len()) };
        for file in prepared {
            let key = hex::encode(rand::random::<[u8; 16]>());
            let (full, thumb) = blob_paths(purpose, &key);
            let mut result = Ok(());
            let blobs = [(full, Some(&file.body)), (thumb, file.thumbnail.as_ref())];
            for (path, bytes) in blobs.into_iter().filter_map(|(p, b)| Some((p, b?))) {
                let sealed = self.keys.seal_bytes(bytes);
                if let Err(err) = root.blobs.put(&path, sealed.into()).await {
                    result = Err(blob_error(err));
                    break;
                }
            }
            written.files.push((key, file));
            if let Err(err) = result {
                self.forget(&written).await;
                return Err(err);
            }
        }
        Ok(written)
    }

    /// Removes the blobs of files whose rows were not written.
    pub(crate) async fn forget(self, written: &Written) {
        for (key, _) in &written.files {
            if let Err(err) = self.delete_blobs(written.purpose, key).await {
                tracing::warn!(%key, "an unused file could not be removed: {err}");
            }
        }
    }

    /// Writes the rows of files whose blobs are written, and the upload's audit entry, in
    /// `db` (the caller's transaction). Returns their ids.
    pub(crate) async fn insert_rows_in(
        self,
        db: &impl ConnectionTrait,
        actor: &Actor,
        owner: &FileOwner,
        written: &Written,
    ) -> StoreResult<Vec<i64>> {
        let mut ids = Vec::with_capacity(written.files.len());
        for (key, file) in &written.files {
            let done = files::Entity::insert(files::ActiveModel {
                id: NotSet,
                purpose: Set(owner.purpose.code().to_owned()),
                owner_id: Set(owner.owner_id),
                region_code: Set(owner.region.clone()),
                name: Set(file.name.clone()),
                content_type: Set(file.content_type.to_owned()),
                width: Set(file.width as i32),
                height: Set(file.height as i32),
                bytes: Set(file.body.len() as i64),
                blob_key: Set(key.clone()),
                tag: Set(owner.tag.clone()),
                created_by: Set(actor.username().to_owned()),
                created_at: Set(Utc::now()),
            })
            .exec(db)
            .await?;
            ids.push(done.last_insert_id);
        }
        let names: Vec<&str> = written.files.iter().map(|(_, file)| file.name.as_str()).collect();
        let event = AuditEvent::ok("file.upload", owner.purpose.label(), owner.owner_id.to_string())
            .with_detail(format!("上传{}个文件：{}", names.len(), names.join("、")));
        self.audit_in(db, actor, event).await?;
        Ok(ids)
    }

    /// The files `ids`, in the order they were written.
    pub(crate) async fn stored_files(self, ids: Vec<i64>) -> StoreResult<Vec<StoredFile>> {
        let rows = files::Entity::find()
            .filter(files::Column::Id.is_in(ids))
            .order_by_asc(files::Column::Id)
            .all(&self.db)
            .await?;
        Ok(rows.into_iter().map(StoredFile::from).collect())
    }

    /// The files of a record, oldest first. The caller has checked the record's scope.
    pub async fn list(self, purpose: FilePurpose, owner_id: i64) -> StoreResult<Vec<StoredFile>> {
        Ok(self.rows(purpose, owner_id).await?.into_iter().map(StoredFile::from).collect())
    }

    /// The rows of a record's files, oldest first, their tags with them.
    pub(crate) async fn rows(self, purpose: FilePurpose, owner_id: i64) -> StoreResult<Vec<files::Model>> {
        Ok(files::Entity::find()
            .filter(files::Column::Purpose.eq(purpose.code()))
            .filter(files::Column::OwnerId.eq(owner_id))
            .order_by_asc(files::Column::Id)
            .all(&self.db)
            .await?)
    }

    /// The file `id` of `purpose`, if the actor may see it (the purpose's permission, the
    /// file's region in scope: otherwise "not found", the attempt audited).
    async fn scoped(self, actor: &Actor, purpose: FilePurpose, id: i64) -> StoreResult<files::Model> {
        self.require(actor, purpose.view_permission()).await?;
        let row = self.scoped_find::<files::Entity>(actor, target(purpose), id, |f| &f.region_code).await?;
        if row.purpose != purpose.code() {
            return Err(StoreError::not_found(format!("找不到{}“{id}”", purpose.label())));
        }
        Ok(row)
    }

    /// One file's image (or its thumbnail), opened; the view is audited.
    pub async fn read(
        self,
        actor: &Actor,
        purpose: FilePurpose,
        id: i64,
        variant: Variant,
    ) -> StoreResult<Image> {
        let row = self.scoped(actor, purpose, id).await?;
        let root = self.root()?;
        let content_type = if row.content_type == PDF_TYPE { PDF_TYPE } else { JPEG };
        if content_type == PDF_TYPE && variant == Variant::Thumbnail {
            return Err(StoreError::not_found(format!("“{}”是PDF文件，没有缩略图，请打开原文件", row.name)));
        }
        let (full, thumb) = blob_paths(purpose, &row.blob_key);
        let path = if variant == Variant::Full { full } else { thumb };
        let sealed = match root.blobs.get(&path).await {
            Ok(found) => found.bytes().await.map_err(blob_error)?,
            Err(object_store::Error::NotFound { .. }) => {
                return Err(StoreError::Corrupt(format!("the blob of file {id} is missing")))
            }
            Err(err) => return Err(blob_error(err)),
        };
        let bytes = self.keys.open_bytes(&sealed)?;
        let event = AuditEvent::ok("file.view", purpose.label(), id.to_string()).with_detail(variant.label());
        self.audit(actor, event).await?;
        Ok(Image { file: row.into(), content_type, bytes })
    }

    /// Removes one file (its row, then its blobs); audited. Returns what it was and whose.
    pub async fn delete(
        self,
        actor: &Actor,
        purpose: FilePurpose,
        id: i64,
    ) -> StoreResult<(StoredFile, i64)> {
        let row = self.scoped(actor, purpose, id).await?;
        self.require(actor, purpose.manage_permission()).await?;
        let txn = self.db.begin().await?;
        files::Entity::delete_by_id(row.id).exec(&txn).await?;
        let event = AuditEvent::ok("file.delete", purpose.label(), id.to_string())
            .with_detail(format!("{}（属于{}）", row.name, row.owner_id));
        self.audit_in(&txn, actor, event).await?;
        txn.commit().await?;
        self.delete_blobs(purpose, &row.blob_key).await?;
        let owner = row.owner_id;
        Ok((row.into(), owner))
    }

    /// The owner (record id) of file `id`, if the actor may see the file.
    pub async fn owner_of(self, actor: &Actor, purpose: FilePurpose, id: i64) -> StoreResult<i64> {
        Ok(self.scoped(actor, purpose, id).await?.owner_id)
    }
}

fn create_dir(dir: &Path) -> StoreResult<()> {
    std::fs::create_dir_all(dir)
        .map_err(|e| StoreError::invalid(format!("无法创建文件目录“{}”：{e}", dir.display())))
}

fn refused(name: &str, refusal: ImageRefusal) -> StoreError {
    StoreError::invalid(format!("“{name}”未能上传：{refusal}。本次选择的照片均未保存"))
}
