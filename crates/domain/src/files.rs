//! Uploaded files (claim papers photographed on a phone or scanned as PDF, publicity
//! activity photos): what is accepted, the limits that keep a hostile file from costing
//! memory, and the messages a user reads when a file is refused. No I/O: the store decodes
//! and re-encodes images under these rules (`store/src/files/`) and keeps a claim paper's
//! PDF as it came, told by its signature.

use crate::Permission;

crate::stored_code! {
    /// What an uploaded file belongs to; decides who may see and remove it.
    pub enum FilePurpose {
        ActivityPhoto => ("activity_photo", "宣传活动照片"),
        ClaimPaper => ("claim_paper", "理赔材料"),
    }
}

impl FilePurpose {
    /// The permission needed to see a file of this purpose (its record's scope aside).
    pub fn view_permission(self) -> Permission {
        match self {
            FilePurpose::ActivityPhoto => Permission::ViewAssociationWork,
            FilePurpose::ClaimPaper => Permission::ViewClaims,
        }
    }

    /// Whether a PDF is taken as well as images (a claim paper scanned or sent by a
    /// hospital as PDF); activity photos are images only.
    pub const fn accepts_pdf(self) -> bool {
        matches!(self, FilePurpose::ClaimPaper)
    }

    /// The permission needed to add or remove a file of this purpose.
    pub fn manage_permission(self) -> Permission {
        match self {
            FilePurpose::ActivityPhoto => Permission::ManagePublicity,
            FilePurpose::ClaimPaper => Permission::ReportClaims,
        }
    }
}

/// The largest file taken in one upload field, before decoding (a phone photo is 2–8 MB).
pub const MAX_UPLOAD_BYTES: usize = 15 * 1024 * 1024;
/// The most pixels a decoded image may have (40 megapixels, above any phone camera's
/// output); a file claiming more is refused before its pixels are allocated.
pub const MAX_PIXELS: u64 = 40_000_000;
/// The longest side a decoded image may have, whatever its area.
pub const MAX_SIDE: u32 = 20_000;
/// The longest side of a thumbnail, in pixels.
pub const THUMB_SIDE: u32 = 320;
/// The quality of the JPEG every image is re-encoded as (the full image and the thumbnail).
pub const JPEG_QUALITY: u8 = 85;
/// The most images one upload (one form) may carry.
pub const MAX_FILES_PER_UPLOAD: usize = 9;
/// The most bytes one upload (all its images together) may carry.
pub const MAX_UPLOAD_TOTAL_BYTES: usize = 60 * 1024 * 1024;
/// The most characters of a file's name kept (the name is only shown).
pub const MAX_NAME_CHARS: usize = 100;

/// The type a re-encoded image is kept and served as.
pub const JPEG_TYPE: &str = "image/jpeg";
/// The type a PDF is kept and served as.
pub const PDF_TYPE: &str = "application/pdf";

/// Whether `bytes` are a PDF, by its signature (`%PDF-`), never by its name or the type the
/// browser claims.
pub fn is_pdf(bytes: &[u8]) -> bool {
    bytes.starts_with(b"%PDF-")
}

/// The formats accepted, told from the file's first bytes (never from its name or the
/// type the browser claims).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ImageKind {
    Jpeg,
    Png,
    WebP,
}

/// Why an image is refused; each message says what to do.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ImageRefusal {
    #[error("文件是空的，请重新选择照片")]
    Empty,
    #[error("文件超过{}MB，请压缩后或换一张照片上传", MAX_UPLOAD_BYTES / 1024 / 1024)]
    TooLarge,
    #[error("不是可识别的图片，只能上传 JPG、PNG 或 WebP 格式的照片；HEIC 等其他格式请在手机上改存为 JPG（或截图）后再上传")]
    NotAnImage,
    /// Neither an accepted image nor a PDF, where a PDF is taken too (claim papers).
    #[error("不是可识别的照片或PDF文件，理赔材料只能上传 JPG、PNG、WebP 格式的照片或 PDF 文件；HEIC 等其他格式请在手机上改存为 JPG（或截图）后再上传")]
    NotAPaper,
    #[error("图片尺寸 {width}×{height} 过大（最多{}万像素，每边最多{}像素），请缩小后再上传", MAX_PIXELS / 10_000, MAX_SIDE)]
    TooManyPixels { width: u32, height: u32 },
    #[error("图片过大，处理所需的内存超出限制（最多{}万像素），请缩小后再上传", MAX_PIXELS / 10_000)]
    OverLimits,
    #[error("图片已损坏或不完整，无法读取，请重新拍照或重新导出后上传")]
    Unreadable,
}

/// The format of `bytes`, from its signature, or why it is refused (empty, too large, not
/// one of the accepted formats).
pub fn sniff(bytes: &[u8]) -> Result<ImageKind, ImageRefusal> {
    if bytes.is_empty() {
        return Err(ImageRefusal::Empty);
    }
    if bytes.len() > MAX_UPLOAD_BYTES {
        return Err(ImageRefusal::TooLarge);
    }
    if bytes.starts_with(&[0xFF, 0xD8, 0xFF]) {
        Ok(ImageKind::Jpeg)
    } else if bytes.starts_with(b"\x89PNG\r\n\x1a\n") {
        Ok(ImageKind::Png)
    } else if bytes.len() >= 12 && &bytes[..4] == b"RIFF" && &bytes[8..12] == b"WEBP" {
        Ok(ImageKind::WebP)
    } else {
        Err(ImageRefusal::NotAnImage)
    }
}

/// Whether a JPEG's data is all there: its markers walked up to the first scan (SOS), and
/// an end-of-image marker (EOI) after it. A phone upload cut off mid-way lacks the EOI, and
/// the decoder would otherwise fill the missing rows with grey. (An EXIF thumbnail's own
/// EOI sits before the scan, so it does not count.)
pub fn jpeg_is_complete(bytes: &[u8]) -> bool {
    let mut at = 2;
    loop {
        // A marker: 0xFF (any number of fill bytes), then its code.
        while bytes.get(at) == Some(&0xFF) && bytes.get(at + 1) == Some(&0xFF) {
            at += 1;
        }
        let (Some(&0xFF), Some(&code)) = (bytes.get(at), bytes.get(at + 1)) else {
            return false;
        };
        at += 2;
        match code {
            // Markers without a length.
            0x01 | 0xD0..=0xD7 => continue,
            0xD9 => return false,
            _ => {}
        }
        let (Some(&high), Some(&low)) = (bytes.get(at), bytes.get(at + 1)) else {
            return false;
        };
        let length = (usize::from(high) << 8) | usize::from(low);
        if length < 2 {
            return false;
        }
        at += length;
        if code == 0xDA {
            break;
        }
    }
    bytes.get(at..).is_some_and(|scan| scan.windows(2).any(|w| w == [0xFF, 0xD9]))
}

/// Refuses dimensions beyond [`MAX_PIXELS`] or [`MAX_SIDE`] (and a zero side).
pub fn check_dimensions(width: u32, height: u32) -> Result<(), ImageRefusal> {
    if width == 0 || height == 0 {
        return Err(ImageRefusal::Unreadable);
    }
    if width > MAX_SIDE || height > MAX_SIDE || u64::from(width) * u64::from(height) > MAX_PIXELS {
        return Err(ImageRefusal::TooManyPixels { width, height });
    }
    Ok(())
}

/// The size of a thumbnail whose longest side is at most `side`, keeping the proportions
/// (each side at least 1); an image already that small keeps its size.
pub fn thumbnail_size(width: u32, height: u32, side: u32) -> (u32, u32) {
    let longest = width.max(height);
    if longest <= side || longest == 0 {
        return (width.max(1), height.max(1));
    }
    let scale =
        |v: u32| ((u64::from(v) * u64::from(side) + u64::from(longest) / 2) / u64::from(longest)) as u32;
    (scale(width).clamp(1, side), scale(height).clamp(1, side))
}

/// The name shown for an uploaded file: its last path part (some browsers send a whole
/// path), control characters dropped, at most [`MAX_NAME_CHARS`]; `fallback` when nothing is
/// left.
pub fn display_name(raw: &str, fallback: &str) -> String {
    let last = raw.rsplit(['/', '\\']).next().unwrap_or_default();
    let name: String = last.chars().filter(|c| !c.is_control()).take(MAX_NAME_CHARS).collect();
    let name = name.trim();
    if name.is_empty() {
        fallback.to_owned()
    } else {
        name.to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn purposes_are_stored_codes_with_their_permissions() {
        crate::codes::check_table::<FilePurpose>().unwrap();
        assert_eq!(FilePurpose::ActivityPhoto.view_permission(), Permission::ViewAssociationWork);
        assert_eq!(FilePurpose::ClaimPaper.manage_permission(), Permission::ReportClaims);
    }

    #[test]
    fn formats_are_told_by_their_signature_and_others_refused() {
        assert_eq!(sniff(&[0xFF, 0xD8, 0xFF, 0xE0, 0, 0]), Ok(ImageKind::Jpeg));
        assert_eq!(sniff(b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR"), Ok(ImageKind::Png));
        assert_eq!(sniff(b"RIFF\x10\0\0\0WEBPVP8 "), Ok(ImageKind::WebP));
        assert_eq!(sniff(b""), Err(ImageRefusal::Empty));
        assert_eq!(sniff("姓名,身份证号\n".as_bytes()), Err(ImageRefusal::NotAnImage));
        assert_eq!(sniff(b"GIF89a"), Err(ImageRefusal::NotAnImage));
        assert_eq!(sniff(b"RIFF\0\0\0\0WAVE"), Err(ImageRefusal::NotAnImage));
        let huge = vec![0xFFu8; MAX_UPLOAD_BYTES + 1];
        assert_eq!(sniff(&huge), Err(ImageRefusal::TooLarge));
        assert!(ImageRefusal::NotAnImage.to_string().contains("JPG"));
    }

    /// A JPEG's skeleton: SOI, an APP1 holding a thumbnail (with its own SOI/EOI), a scan.
    fn skeleton(with_end: bool) -> Vec<u8> {
        let mut jpeg = vec![0xFF, 0xD8];
        let app1 = [b"Exif\0\0".as_slice(), [0xFF, 0xD8, 0x01, 0x02, 0xFF, 0xD9].as_slice()].concat();
        jpeg.extend_from_slice(&[0xFF, 0xE1, 0, (app1.len() + 2) as u8]);
        jpeg.extend_from_slice(&app1);
        jpeg.extend_from_slice(&[0xFF, 0xDA, 0, 4, 1, 2, 0x12, 0xFF, 0x00, 0x34, 0xFF, 0xD0, 0x56]);
        if with_end {
            jpeg.extend_from_slice(&[0xFF, 0xD9, 0, 0]);
        }
        jpeg
    }

    #[test]
    fn a_pdf_is_told_by_its_signature_and_only_papers_take_one() {
        assert!(is_pdf(b"%PDF-1.7\n%\xE2\xE3\xCF\xD3\n"));
        assert!(!is_pdf(b"PK\x03\x04") && !is_pdf(b"%PD") && !is_pdf(b" %PDF-1.4"));
        assert!(FilePurpose::ClaimPaper.accepts_pdf() && !FilePurpose::ActivityPhoto.accepts_pdf());
        let message = ImageRefusal::NotAPaper.to_string();
        assert!(message.contains("JPG") && message.contains("PDF"), "{message}");
    }

    #[test]
    fn a_jpeg_is_complete_only_with_its_end_after_the_scan() {
        assert!(jpeg_is_complete(&skeleton(true)));
        let cut = skeleton(false);
        assert!(!jpeg_is_complete(&cut), "the thumbnail's end marker does not count");
        for len in 0..cut.len() {
            assert!(!jpeg_is_complete(&skeleton(true)[..len]), "cut at {len}");
        }
        assert!(!jpeg_is_complete(&[0xFF, 0xD8, 0xFF, 0xD9]), "no scan at all");
    }

    #[test]
    fn dimensions_are_bounded_by_area_and_side() {
        assert!(check_dimensions(4000, 3000).is_ok());
        assert!(check_dimensions(8000, 5000).is_ok(), "exactly 40 megapixels");
        assert_eq!(
            check_dimensions(100_000, 100_000),
            Err(ImageRefusal::TooManyPixels { width: 100_000, height: 100_000 })
        );
        assert!(check_dimensions(8000, 5001).is_err());
        assert!(check_dimensions(20_001, 10).is_err(), "a side too long");
        assert_eq!(check_dimensions(0, 10), Err(ImageRefusal::Unreadable));
        assert!(check_dimensions(100_000, 100_000).unwrap_err().to_string().contains("4000万像素"));
    }

    #[test]
    fn thumbnails_keep_proportions_within_their_side() {
        assert_eq!(thumbnail_size(4000, 3000, 320), (320, 240));
        assert_eq!(thumbnail_size(3000, 4000, 320), (240, 320));
        assert_eq!(thumbnail_size(200, 100, 320), (200, 100), "small images keep their size");
        assert_eq!(thumbnail_size(20_000, 10, 320), (320, 1), "never a zero side");
        for (w, h) in [(1, 1), (321, 320), (5000, 7), (7, 5000), (19_999, 2001)] {
            let (tw, th) = thumbnail_size(w, h, THUMB_SIDE);
            assert!(tw.max(th) <= THUMB_SIDE && tw >= 1 && th >= 1, "{w}×{h} → {tw}×{th}");
        }
    }

    #[test]
    fn names_are_the_last_part_without_control_characters() {
        assert_eq!(display_name("C:\\照片\\现场.jpg", "照片"), "现场.jpg");
        assert_eq!(display_name("a/b/c.png", "照片"), "c.png");
        assert_eq!(display_name(" \u{7}\n ", "照片"), "照片");
        assert_eq!(display_name(&"长".repeat(300), "照片").chars().count(), MAX_NAME_CHARS);
    }
}
