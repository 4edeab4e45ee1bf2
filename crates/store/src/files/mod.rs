//! The file store: images uploaded as claim papers or activity photos. An upload is hostile
//! until decoded: `images.rs` decodes it under limits (on a blocking thread, a few at a
//! time) and re-encodes it as a JPEG with a thumbnail, which leaves every byte of the
//! original's metadata (EXIF, GPS) behind. Both are sealed with the store's keys
//! (`crypto.rs`: papers show ID cards, bank cards and medical records) and kept as blobs
//! through `object_store`, on the local file system under the data folder by default; the
//! `files` table holds what each image belongs to, the region its record lies in and the
//! key of its blobs. The bytes never enter the database.
//!
//! A feature owns its files (`FilePurpose`): it checks its own record and scope before it
//! lists or adds files, and every read of a file checks the purpose's permission and the
//! file's region again, audits the view, and answers "not found" outside the scope.

mod images;

use std::path::Path;
use std::sync::Arc;

use chrono::{DateTime, Utc};
use guanai_domain::files::{display_name, FilePurpose, ImageRefusal};
use object_store::local::LocalFileSystem;
use object_store::path::Path as BlobPath;
use object_store::ObjectStore;
use sea_orm::{
    ActiveValue::{NotSet, Set},
    ColumnTrait, EntityTrait, QueryFilter, QueryOrder, TransactionTrait,
};
use serde::Serialize;

use crate::access::Target;
use crate::audit::AuditEvent;
use crate::entities::files;
use crate::{Actor, Store, StoreError, StoreResult};

/// The type every kept image is served as.
pub const JPEG: &str = "image/jpeg";

/// Images decoded at once per store: each may take a few hundred MB while it is decoded.
const DECODERS: usize = 2;

/// Where the blobs live, shared by every copy of a store.
#[derive(Clone, Debug)]
pub(crate) struct FileRoot {
    blobs: Arc<dyn ObjectStore>,
    decoders: Arc<tokio::sync::Semaphore>,
}

/// A file as uploaded: the name the browser gave and the bytes.
#[derive(Debug, Clone)]
pub struct Upload {
    pub name: String,
    pub bytes: Vec<u8>,
}

/// An upload decoded and re-encoded, ready to be kept; nothing is written yet.
pub struct Prepared {
    name: String,
    jpeg: Vec<u8>,
    thumbnail: Vec<u8>,
    width: u32,
    height: u32,
}

/// What the files of a record are: its kind, its id and the region it lies in.
#[derive(Debug, Clone)]
pub struct FileOwner {
    pub purpose: FilePurpose,
    pub owner_id: i64,
    pub region: String,
}

/// A kept image, as lists show it.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct StoredFile {
    pub id: i64,
    /// The name it was uploaded under.
    pub name: String,
    /// Always `image/jpeg`: every image is re-encoded.
    pub content_type: String,
    pub width: i32,
    pub height: i32,
    /// Bytes of the re-encoded image.
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

/// An image read back and opened.
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
    pub fn with_files(mut self, dir: &Path) -> StoreResult<Store> {
        std::fs::create_dir_all(dir)
            .map_err(|e| StoreError::invalid(format!("无法创建文件目录“{}”：{e}", dir.display())))?;
        let blobs = LocalFileSystem::new_with_prefix(dir)
            .map_err(|e| StoreError::invalid(format!("无法使用文件目录“{}”：{e}", dir.display())))?;
        self.file_root = Some(FileRoot {
            blobs: Arc::new(blobs),
            decoders: Arc::new(tokio::sync::Semaphore::new(DECODERS)),
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

    /// Decodes and re-encodes every upload, on blocking threads; one refused upload refuses
    /// them all, with a Chinese message naming the file, and nothing is kept.
    pub async fn prepare(self, uploads: Vec<Upload>) -> StoreResult<Vec<Prepared>> {
        let root = self.root()?;
        let mut prepared = Vec::with_capacity(uploads.len());
        for upload in uploads {
            let name = display_name(&upload.name, "照片");
            let permit = root
                .decoders
                .clone()
                .acquire_owned()
                .await
                .map_err(|_| StoreError::Blob("decoders closed".into()))?;
            let done = tokio::task::spawn_blocking(move || {
                let _permit = permit;
                images::reencode(&upload.bytes)
            })
            .await
            .map_err(|e| StoreError::Blob(format!("image task: {e}")))?;
            match done {
                Ok(image) => prepared.push(Prepared {
                    name,
                    jpeg: image.jpeg,
                    thumbnail: image.thumbnail,
                    width: image.width,
                    height: image.height,
                }),
                Err(refusal) => return Err(refused(&name, refusal)),
            }
        }
        Ok(prepared)
    }

    /// Seals and keeps prepared images as files of `owner`: the blobs first, then the rows
    /// and the audit entry in one transaction (the blobs are removed again if it fails).
    /// The caller has checked the owner's record and scope.
    pub async fn save(
        self,
        actor: &Actor,
        owner: &FileOwner,
        prepared: Vec<Prepared>,
    ) -> StoreResult<Vec<StoredFile>> {
        self.require(actor, owner.purpose.manage_permission()).await?;
        let root = self.root()?;
        let mut written: Vec<(String, Prepared)> = Vec::with_capacity(prepared.len());
        for image in prepared {
            let key = hex::encode(rand::random::<[u8; 16]>());
            let (full, thumb) = blob_paths(owner.purpose, &key);
            let mut result = Ok(());
            for (path, bytes) in [(full, &image.jpeg), (thumb, &image.thumbnail)] {
                let sealed = self.keys.seal_bytes(bytes);
                if let Err(err) = root.blobs.put(&path, sealed.into()).await {
                    result = Err(blob_error(err));
                    break;
                }
            }
            written.push((key, image));
            if let Err(err) = result {
                self.forget(owner.purpose, &written).await;
                return Err(err);
            }
        }
        match self.insert_rows(actor, owner, &written).await {
            Ok(rows) => Ok(rows),
            Err(err) => {
                self.forget(owner.purpose, &written).await;
                Err(err)
            }
        }
    }

    async fn forget(self, purpose: FilePurpose, written: &[(String, Prepared)]) {
        for (key, _) in written {
            if let Err(err) = self.delete_blobs(purpose, key).await {
                tracing::warn!(%key, "an unused file could not be removed: {err}");
            }
        }
    }

    async fn insert_rows(
        self,
        actor: &Actor,
        owner: &FileOwner,
        written: &[(String, Prepared)],
    ) -> StoreResult<Vec<StoredFile>> {
        let txn = self.db.begin().await?;
        let mut ids = Vec::with_capacity(written.len());
        for (key, image) in written {
            let done = files::Entity::insert(files::ActiveModel {
                id: NotSet,
                purpose: Set(owner.purpose.code().to_owned()),
                owner_id: Set(owner.owner_id),
                region_code: Set(owner.region.clone()),
                name: Set(image.name.clone()),
                content_type: Set(JPEG.to_owned()),
                width: Set(image.width as i32),
                height: Set(image.height as i32),
                bytes: Set(image.jpeg.len() as i64),
                blob_key: Set(key.clone()),
                created_by: Set(actor.username().to_owned()),
                created_at: Set(Utc::now()),
            })
            .exec(&txn)
            .await?;
            ids.push(done.last_insert_id);
        }
        let names: Vec<&str> = written.iter().map(|(_, image)| image.name.as_str()).collect();
        let event = AuditEvent::ok("file.upload", owner.purpose.label(), owner.owner_id.to_string())
            .with_detail(format!("上传{}个文件：{}", names.len(), names.join("、")));
        self.audit_in(&txn, actor, event).await?;
        txn.commit().await?;
        let rows = files::Entity::find()
            .filter(files::Column::Id.is_in(ids))
            .order_by_asc(files::Column::Id)
            .all(&self.db)
            .await?;
        Ok(rows.into_iter().map(StoredFile::from).collect())
    }

    /// The files of a record, oldest first. The caller has checked the record's scope.
    pub async fn list(self, purpose: FilePurpose, owner_id: i64) -> StoreResult<Vec<StoredFile>> {
        let rows = files::Entity::find()
            .filter(files::Column::Purpose.eq(purpose.code()))
            .filter(files::Column::OwnerId.eq(owner_id))
            .order_by_asc(files::Column::Id)
            .all(&self.db)
            .await?;
        Ok(rows.into_iter().map(StoredFile::from).collect())
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
        Ok(Image { file: row.into(), content_type: JPEG, bytes })
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

fn refused(name: &str, refusal: ImageRefusal) -> StoreError {
    StoreError::invalid(format!("“{name}”未能上传：{refusal}。本次选择的照片均未保存"))
}
