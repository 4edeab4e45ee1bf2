//! Uploaded files, read the same way on every page that takes one (roster import, the
//! insurer's returned file): the `file` field of a multipart form, chunk by chunk, never
//! more than the page's limit. What comes in is hostile until parsed, and parsing happens
//! on a blocking thread in the import crate.

use axum::extract::Multipart;

/// A file as uploaded: its name (as the browser gave it) and its bytes.
pub struct Upload {
    pub name: String,
    pub bytes: Vec<u8>,
}

/// Reads the form's `file` field, at most `max_bytes`; `default_name` when the browser
/// gives none. `Err` is a Chinese sentence for the form (nothing chosen, too large, cut
/// off).
pub async fn read_upload(
    multipart: &mut Multipart,
    max_bytes: usize,
    default_name: &str,
    nothing_chosen: &str,
) -> Result<Upload, String> {
    let too_large =
        || format!("上传中断或文件超过{}MB，请重试（文件过大时请拆分后分批上传）", max_bytes / 1024 / 1024);
    let mut upload: Option<Upload> = None;
    loop {
        let mut field = match multipart.next_field().await {
            Ok(Some(field)) => field,
            Ok(None) => break,
            Err(_) => return Err(too_large()),
        };
        if field.name() != Some("file") {
            continue;
        }
        let name = field.file_name().filter(|n| !n.trim().is_empty()).unwrap_or(default_name).to_owned();
        let mut bytes = Vec::new();
        loop {
            match field.chunk().await {
                Ok(Some(chunk)) => {
                    if bytes.len() + chunk.len() > max_bytes {
                        return Err(too_large());
                    }
                    bytes.extend_from_slice(&chunk);
                }
                Ok(None) => break,
                Err(_) => return Err(too_large()),
            }
        }
        upload = Some(Upload { name, bytes });
    }
    upload.filter(|u| !u.bytes.is_empty()).ok_or_else(|| nothing_chosen.to_owned())
}
