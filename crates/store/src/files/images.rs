//! Turning an uploaded image into what is kept: decoded under limits, turned upright, and
//! re-encoded as a JPEG with a thumbnail. The new JPEG is written from pixels only, so
//! nothing of the original's metadata (EXIF with its GPS position, camera serial numbers,
//! comments) survives. Pure CPU work on bytes already in memory: the store runs it on a
//! blocking thread.

use std::io::Cursor;

use guanai_domain::files::{
    check_dimensions, jpeg_is_complete, sniff, thumbnail_size, ImageKind, ImageRefusal, MAX_PIXELS,
    THUMB_SIDE,
};
use image::{DynamicImage, ImageDecoder, ImageError, ImageFormat, ImageReader, Limits};

use super::jpeg::encode;

/// An image ready to be sealed and kept.
pub(crate) struct Reencoded {
    pub jpeg: Vec<u8>,
    pub thumbnail: Vec<u8>,
    pub width: u32,
    pub height: u32,
}

/// The most bytes the decoder may allocate: a 40-megapixel image with four 8-bit channels,
/// and some room for the decoder's own buffers.
const MAX_ALLOC: u64 = MAX_PIXELS * 4 + 32 * 1024 * 1024;

fn refusal(err: ImageError) -> ImageRefusal {
    match err {
        ImageError::Limits(_) => ImageRefusal::OverLimits,
        _ => ImageRefusal::Unreadable,
    }
}

/// Decodes `bytes` (JPEG, PNG or WebP, told by their signature) and re-encodes them.
pub(crate) fn reencode(bytes: &[u8]) -> Result<Reencoded, ImageRefusal> {
    let format = match sniff(bytes)? {
        ImageKind::Jpeg => {
            // The decoder is lenient and would fill a cut-off photo's missing rows with grey.
            if !jpeg_is_complete(bytes) {
                return Err(ImageRefusal::Unreadable);
            }
            ImageFormat::Jpeg
        }
        ImageKind::Png => ImageFormat::Png,
        ImageKind::WebP => ImageFormat::WebP,
    };
    let mut reader = ImageReader::with_format(Cursor::new(bytes), format);
    // The sides are checked by `check_dimensions` below (its message names them); the
    // allocation limit guards whatever a decoder allocates beyond the pixels.
    let mut limits = Limits::default();
    limits.max_alloc = Some(MAX_ALLOC);
    reader.limits(limits);
    let mut decoder = reader.into_decoder().map_err(refusal)?;
    // Only the header has been read: the area is checked before any pixel is allocated.
    let (width, height) = decoder.dimensions();
    check_dimensions(width, height)?;
    // Orientation is cheap to apply and a phone photo often needs it; a broken EXIF block
    // only costs the turn.
    let orientation = decoder.orientation().unwrap_or(image::metadata::Orientation::NoTransforms);
    let mut image = DynamicImage::from_decoder(decoder).map_err(refusal)?;
    image.apply_orientation(orientation);
    let rgb = image.into_rgb8();
    // The thumbnail is drawn on a thread of its own while the photo is encoded (in two
    // halves, `jpeg.rs`).
    let (jpeg, thumbnail) = std::thread::scope(|scope| {
        let thumbnail = scope.spawn(|| {
            let (tw, th) = thumbnail_size(rgb.width(), rgb.height(), THUMB_SIDE);
            encode(&image::imageops::thumbnail(&rgb, tw, th))
        });
        let jpeg = encode(&rgb);
        (jpeg, thumbnail.join().unwrap_or(Err(ImageRefusal::Unreadable)))
    });
    Ok(Reencoded { jpeg: jpeg?, thumbnail: thumbnail?, width: rgb.width(), height: rgb.height() })
}

#[cfg(test)]
mod tests {
    use image::RgbImage;

    use super::*;

    /// CRC-32 as PNG chunks carry it.
    fn crc32(bytes: &[u8]) -> u32 {
        let mut crc = !0u32;
        for &b in bytes {
            crc ^= u32::from(b);
            for _ in 0..8 {
                crc = if crc & 1 == 1 { (crc >> 1) ^ 0xEDB8_8320 } else { crc >> 1 };
            }
        }
        !crc
    }

    fn png(width: u32, height: u32) -> Vec<u8> {
        let image = RgbImage::from_fn(width, height, |x, y| image::Rgb([x as u8, y as u8, 128]));
        let mut out = Vec::new();
        image.write_to(&mut Cursor::new(&mut out), ImageFormat::Png).unwrap();
        out
    }

    #[test]
    fn a_png_becomes_a_jpeg_with_a_thumbnail() {
        let done = reencode(&png(640, 480)).unwrap();
        assert_eq!((done.width, done.height), (640, 480));
        assert!(done.jpeg.starts_with(&[0xFF, 0xD8, 0xFF]));
        let thumb = image::load_from_memory(&done.thumbnail).unwrap();
        assert_eq!((thumb.width(), thumb.height()), (320, 240));
    }

    #[test]
    fn a_png_claiming_huge_dimensions_is_refused_from_its_header() {
        let mut bytes = png(2, 2);
        // IHDR's width and height follow the signature (8), length (4) and type (4).
        bytes[16..20].copy_from_slice(&100_000u32.to_be_bytes());
        bytes[20..24].copy_from_slice(&100_000u32.to_be_bytes());
        let crc = crc32(&bytes[12..29]);
        bytes[29..33].copy_from_slice(&crc.to_be_bytes());
        let err = reencode(&bytes).err().unwrap();
        assert_eq!(err, ImageRefusal::TooManyPixels { width: 100_000, height: 100_000 });
    }

    #[test]
    fn text_and_cut_off_files_are_refused() {
        assert_eq!(reencode("姓名,身份证号".as_bytes()).err(), Some(ImageRefusal::NotAnImage));
        let jpeg = reencode(&png(64, 64)).unwrap().jpeg;
        assert_eq!(reencode(&jpeg[..jpeg.len() / 2]).err(), Some(ImageRefusal::Unreadable));
        let png = png(64, 64);
        assert_eq!(reencode(&png[..png.len() / 2]).err(), Some(ImageRefusal::Unreadable));
    }
}
