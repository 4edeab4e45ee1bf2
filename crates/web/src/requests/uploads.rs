//! Images (and a claim paper's PDFs) uploaded in a multipart form (several `file` fields,
//! and short text fields such as the paper's code), read the same way by the pages and the
//! API: field by field, chunk by chunk, never more than the limits of
//! `domain::files` (each file, all together, how many). A file's chunks go to the store's
//! spool (`store::files::Spool`: to disk once past a few hundred KB), so uploads waiting
//! for a decoder hold no memory. What comes in is hostile until the store has decoded it,
//! on a blocking thread.

use std::collections::HashMap;

use axum::extract::Multipart;
use guanai_domain::claims::Paper;
use guanai_domain::files::{MAX_FILES_PER_UPLOAD, MAX_UPLOAD_BYTES, MAX_UPLOAD_TOTAL_BYTES};
use guanai_store::files::{Upload, Variant};
use guanai_store::Store;
use serde::Deserialize;

/// The request body limit of a route taking images: all files and the form's overhead.
pub const IMAGE_BODY_LIMIT: usize = MAX_UPLOAD_TOTAL_BYTES + 256 * 1024;

/// Every non-empty `file` field of the form. `Err` is a Chinese sentence for the form
/// (nothing chosen, a file or the whole too large, too many, cut off).
pub async fn read_images(store: &Store, multipart: &mut Multipart) -> Result<Vec<Upload>, String> {
    let form = read_upload(store, multipart, "照片", "张").await?;
    if form.files.is_empty() {
        return Err("请选择要上传的照片（JPG、PNG 或 WebP）".to_owned());
    }
    Ok(form.files)
}

/// A claim paper's upload: the files (photos or PDFs) and the paper they show (the
/// `paper` field, a paper code).
pub async fn read_paper_files(
    store: &Store,
    multipart: &mut Multipart,
) -> Result<(Paper, Vec<Upload>), String> {
    let form = read_upload(store, multipart, "文件", "个").await?;
    let code = form.fields.get("paper").map(|c| c.trim()).unwrap_or_default();
    let paper = Paper::from_code(code).map_err(|_| {
        if code.is_empty() {
            "请选择上传的是哪一项材料".to_owned()
        } else {
            format!("未知的材料“{code}”，请从清单中选择")
        }
    })?;
    if form.files.is_empty() {
        return Err("请选择要上传的材料照片（JPG、PNG、WebP）或 PDF 文件".to_owned());
    }
    Ok((paper, form.files))
}

/// What a multipart form carried: its files and its short text fields.
struct UploadForm {
    files: Vec<Upload>,
    fields: HashMap<String, String>,
}

/// The longest text field of an upload form kept (a code, a note).
const MAX_FIELD_BYTES: usize = 1024;

/// Reads every field: `file` fields chunk by chunk within the limits, other fields as short
/// text. `what` and `unit` name the files in messages (照片/张, 文件/个).
async fn read_upload(
    store: &Store,
    multipart: &mut Multipart,
    what: &str,
    unit: &str,
) -> Result<UploadForm, String> {
    let cut = || {
        format!(
            "上传中断或{what}过大（每{unit}最多{}MB，一次合计最多{}MB），请重试或分批上传",
            MAX_UPLOAD_BYTES / 1024 / 1024,
            MAX_UPLOAD_TOTAL_BYTES / 1024 / 1024
        )
    };
    let mut form = UploadForm { files: Vec::new(), fields: HashMap::new() };
    let mut total = 0usize;
    loop {
        let mut field = match multipart.next_field().await {
            Ok(Some(field)) => field,
            Ok(None) => break,
            Err(_) => return Err(cut()),
        };
        let mut counted = |chunk: &[u8], so_far: u64, limit: usize| {
            total += chunk.len();
            so_far as usize + chunk.len() <= limit && total <= MAX_UPLOAD_TOTAL_BYTES
        };
        if field.name() != Some("file") {
            let field_name = field.name().unwrap_or_default().to_owned();
            let mut bytes = Vec::new();
            while let Some(chunk) = field.chunk().await.map_err(|_| cut())? {
                if !counted(&chunk, bytes.len() as u64, MAX_FIELD_BYTES) {
                    return Err(cut());
                }
                bytes.extend_from_slice(&chunk);
            }
            form.fields.insert(field_name, String::from_utf8_lossy(&bytes).into_owned());
            continue;
        }
        let name = field.file_name().unwrap_or_default().to_owned();
        let mut spool = store.files().spool(name.clone()).map_err(|e| e.to_string())?;
        while let Some(chunk) = field.chunk().await.map_err(|_| cut())? {
            if !counted(&chunk, spool.len(), MAX_UPLOAD_BYTES) {
                return Err(cut());
            }
            spool.write(&chunk).await.map_err(unspooled)?;
        }
        // A form's empty file input sends an empty field.
        if spool.is_empty() && name.is_empty() {
            continue;
        }
        form.files.push(spool.finish().await.map_err(unspooled)?);
        if form.files.len() > MAX_FILES_PER_UPLOAD {
            return Err(format!(
                "一次最多上传{MAX_FILES_PER_UPLOAD}{unit}{what}，请分批上传；本次选择的{what}均未保存"
            ));
        }
    }
    Ok(form)
}

/// The message for an upload the server could not write to its spool (a full disk).
fn unspooled(err: std::io::Error) -> String {
    tracing::error!("an upload could not be spooled: {err}");
    "服务器暂时无法接收文件，请稍后重试".to_owned()
}

/// Which size of an image to send.
#[derive(Deserialize, Default, Clone, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ImageQuery {
    /// `thumb` for the thumbnail (longest side 320 px); the full image otherwise.
    #[serde(default)]
    #[param(value_type = Option<String>)]
    pub size: String,
}

impl ImageQuery {
    pub fn parse(&self) -> Result<Variant, String> {
        match self.size.trim() {
            "" | "full" => Ok(Variant::Full),
            "thumb" => Ok(Variant::Thumbnail),
            other => Err(format!("未知的图片尺寸“{other}”：可用 thumb（缩略图）或 full（原图）")),
        }
    }
}
