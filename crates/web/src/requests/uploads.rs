//! Images uploaded in a multipart form (several `file` fields), read the same way by the
//! pages and the API: field by field, chunk by chunk, never more than the limits of
//! `domain::files` (each file, all together, how many). What comes in is hostile until the
//! store has decoded it (`store::files`), on a blocking thread.

use axum::extract::Multipart;
use guanai_domain::files::{MAX_FILES_PER_UPLOAD, MAX_UPLOAD_BYTES, MAX_UPLOAD_TOTAL_BYTES};
use guanai_store::files::{Upload, Variant};
use serde::Deserialize;

/// The request body limit of a route taking images: all files and the form's overhead.
pub const IMAGE_BODY_LIMIT: usize = MAX_UPLOAD_TOTAL_BYTES + 256 * 1024;

/// Every non-empty `file` field of the form. `Err` is a Chinese sentence for the form
/// (nothing chosen, a file or the whole too large, too many, cut off).
pub async fn read_images(multipart: &mut Multipart) -> Result<Vec<Upload>, String> {
    let cut = || {
        format!(
            "上传中断或照片过大（每张最多{}MB，一次合计最多{}MB），请重试或分批上传",
            MAX_UPLOAD_BYTES / 1024 / 1024,
            MAX_UPLOAD_TOTAL_BYTES / 1024 / 1024
        )
    };
    let mut uploads = Vec::new();
    let mut total = 0usize;
    loop {
        let mut field = match multipart.next_field().await {
            Ok(Some(field)) => field,
            Ok(None) => break,
            Err(_) => return Err(cut()),
        };
        if field.name() != Some("file") {
            continue;
        }
        let name = field.file_name().unwrap_or_default().to_owned();
        let mut bytes = Vec::new();
        loop {
            match field.chunk().await {
                Ok(Some(chunk)) => {
                    total += chunk.len();
                    if bytes.len() + chunk.len() > MAX_UPLOAD_BYTES || total > MAX_UPLOAD_TOTAL_BYTES {
                        return Err(cut());
                    }
                    bytes.extend_from_slice(&chunk);
                }
                Ok(None) => break,
                Err(_) => return Err(cut()),
            }
        }
        // A form's empty file input sends an empty field.
        if bytes.is_empty() && name.is_empty() {
            continue;
        }
        uploads.push(Upload { name, bytes });
        if uploads.len() > MAX_FILES_PER_UPLOAD {
            return Err(format!(
                "一次最多上传{MAX_FILES_PER_UPLOAD}张照片，请分批上传；本次选择的照片均未保存"
            ));
        }
    }
    if uploads.is_empty() {
        return Err("请选择要上传的照片（JPG、PNG 或 WebP）".to_owned());
    }
    Ok(uploads)
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
