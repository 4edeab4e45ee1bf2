//! Writing a kept image as a baseline JPEG (chroma 4:2:0, as cameras write them) with
//! `jpeg-encoder`, on two cores: the top and bottom halves are encoded at once and joined
//! with a restart marker. Every row of 16 pixels (one row of blocks) is a restart interval,
//! so each half's blocks are coded exactly as in one pass: the joined file is the same,
//! byte for byte, as a one-pass encode with that interval (a test checks it).

use guanai_domain::files::{ImageRefusal, JPEG_QUALITY};
use image::RgbImage;

/// Rows of pixels in one row of blocks at 4:2:0.
const BLOCK_ROW: usize = 16;

/// The restart markers RST0..RST7 cycle through these codes.
const RST0: u8 = 0xD0;

/// `image` as a JPEG; in two halves at once when it has two rows of blocks or more.
pub(crate) fn encode(image: &RgbImage) -> Result<Vec<u8>, ImageRefusal> {
    let (width, height) = (image.width() as usize, image.height() as usize);
    let blocks_per_row = width.div_ceil(BLOCK_ROW);
    let block_rows = height.div_ceil(BLOCK_ROW);
    let Ok(interval) = u16::try_from(blocks_per_row) else {
        return encode_part(image.as_raw(), width, height, None);
    };
    if block_rows < 2 {
        return encode_part(image.as_raw(), width, height, None);
    }
    let top_rows = block_rows / 2;
    let top_height = top_rows * BLOCK_ROW;
    let (top, bottom) = image.as_raw().split_at(top_height * width * 3);
    let (top, bottom) = std::thread::scope(|scope| {
        let bottom = scope.spawn(|| encode_part(bottom, width, height - top_height, Some(interval)));
        let top = encode_part(top, width, top_height, Some(interval));
        (top, bottom.join().unwrap_or(Err(ImageRefusal::Unreadable)))
    });
    join_halves(top?, &bottom?, height, top_rows).ok_or(ImageRefusal::Unreadable)
}

/// One part of the image: `pixels` are RGB rows of `width`.
fn encode_part(
    pixels: &[u8],
    width: usize,
    height: usize,
    interval: Option<u16>,
) -> Result<Vec<u8>, ImageRefusal> {
    // `check_dimensions` keeps every side well under the format's 65,535.
    let side = |n: usize| u16::try_from(n).map_err(|_| ImageRefusal::OverLimits);
    let mut out = Vec::with_capacity(pixels.len() / 8);
    let mut encoder = jpeg_encoder::Encoder::new(&mut out, JPEG_QUALITY);
    encoder.set_sampling_factor(jpeg_encoder::SamplingFactor::F_2_2);
    if let Some(interval) = interval {
        encoder.set_restart_interval(interval);
    }
    encoder
        .encode(pixels, side(width)?, side(height)?, jpeg_encoder::ColorType::Rgb)
        .map_err(|_| ImageRefusal::Unreadable)?;
    Ok(out)
}

/// The top half's file, its frame's height made the whole `height`, its scan followed by
/// the restart marker that ends its last interval and the bottom half's scan, with the
/// bottom's restart markers numbered on from the top's `top_rows` intervals. `None` if
/// either file is not as `jpeg-encoder` writes them.
fn join_halves(mut top: Vec<u8>, bottom: &[u8], height: usize, top_rows: usize) -> Option<Vec<u8>> {
    let frame = segment_start(&top, 0xC0)?;
    // SOF0: marker (2), length (2), precision (1), then the height.
    let height = u16::try_from(height).ok()?.to_be_bytes();
    top.get_mut(frame + 5..frame + 7)?.copy_from_slice(&height);
    top.truncate(top.len().checked_sub(2).filter(|_| top.ends_with(&[0xFF, 0xD9]))?);
    top.extend_from_slice(&[0xFF, RST0 + ((top_rows - 1) % 8) as u8]);

    let scan = segment_start(bottom, 0xDA)?;
    let length = usize::from(u16::from_be_bytes([*bottom.get(scan + 2)?, *bottom.get(scan + 3)?]));
    let data = bottom.get(scan + 2 + length..bottom.len().checked_sub(2)?)?;
    let shift = (top_rows % 8) as u8;
    top.reserve(data.len() + 2);
    let mut after_ff = false;
    for &byte in data {
        // In the coded data 0xFF is followed by 0x00 (a stuffed byte) or by a marker,
        // which here can only be a restart marker.
        let byte = if after_ff && (RST0..RST0 + 8).contains(&byte) {
            RST0 + (byte - RST0 + shift) % 8
        } else {
            byte
        };
        after_ff = byte == 0xFF;
        top.push(byte);
    }
    top.extend_from_slice(&[0xFF, 0xD9]);
    Some(top)
}

/// Where the first segment with `marker` (after 0xFF) starts, walking the segments from
/// the start of image; `None` if it is not there before the scan.
fn segment_start(file: &[u8], marker: u8) -> Option<usize> {
    let mut at = 2;
    loop {
        let (&0xFF, &code) = (file.get(at)?, file.get(at + 1)?) else { return None };
        if code == marker {
            return Some(at);
        }
        if code == 0xDA {
            return None;
        }
        let length = usize::from(u16::from_be_bytes([*file.get(at + 2)?, *file.get(at + 3)?]));
        at += 2 + length;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn noisy(width: u32, height: u32) -> RgbImage {
        let mut state = 0x2545_F491_4F6C_DD1Du64;
        RgbImage::from_fn(width, height, |x, y| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            let n = (state % 64) as u8;
            image::Rgb([(x % 200) as u8 + n / 2, (y % 180) as u8 + n, 90 + n])
        })
    }

    #[test]
    fn the_halves_joined_are_the_one_pass_file_byte_for_byte() {
        // Sides that are not whole blocks, an odd and an even count of block rows, and more
        // than eight intervals in the top half (the markers' numbers wrap).
        for (width, height) in [(803, 601), (640, 480), (100, 17), (64, 300)] {
            let image = noisy(width, height);
            let interval = u16::try_from((width as usize).div_ceil(BLOCK_ROW)).unwrap();
            let one_pass =
                encode_part(image.as_raw(), width as usize, height as usize, Some(interval)).unwrap();
            let joined = encode(&image).unwrap();
            assert!(joined == one_pass, "{width}×{height}: the joined file differs");
            let decoded = image::load_from_memory(&joined).unwrap();
            assert_eq!((decoded.width(), decoded.height()), (width, height));
        }
    }

    #[test]
    fn an_image_of_one_row_of_blocks_is_written_in_one_pass() {
        let image = noisy(320, 12);
        let jpeg = encode(&image).unwrap();
        assert_eq!(jpeg, encode_part(image.as_raw(), 320, 12, None).unwrap());
        assert_eq!(image::load_from_memory(&jpeg).unwrap().height(), 12);
    }
}
