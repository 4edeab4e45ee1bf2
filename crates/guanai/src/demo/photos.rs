//! Photos for the demo's publicity activities, drawn in code (no image files in the
//! repository): a sky, fields, a red banner and a crowd of dots, different for each seed;
//! uploaded through the store like any photo, so they are sealed and re-encoded too.

use std::io::Cursor;

use guanai_store::files::Upload;
use guanai_store::{Actor, Store};
use image::{ImageFormat, Rgb, RgbImage};

/// A small made-up photo of an activity as a PNG.
fn drawing(seed: u32) -> Vec<u8> {
    let (width, height) = (480u32, 320u32);
    let horizon = 150 + seed % 40;
    let banner = (60 + (seed * 37) % 200, 40 + (seed * 13) % 40);
    let image = RgbImage::from_fn(width, height, |x, y| {
        let in_banner = x >= banner.0 && x < banner.0 + 220 && y >= banner.1 && y < banner.1 + 36;
        let (dx, dy) = ((x % 12) as i32 - 6, (y % 12) as i32 - 6);
        let dot = (x / 12 + y / 12 + seed) % 7 == 3 && y > horizon + 30 && dx * dx + dy * dy < 20;
        if in_banner {
            Rgb([200, 30, 30])
        } else if dot {
            Rgb([40 + (x % 5) as u8 * 30, 40, 90])
        } else if y < horizon {
            Rgb([120, (170 + y / 4).min(255) as u8, 235])
        } else {
            Rgb([70, 150u32.saturating_sub((y - horizon) / 4) as u8, 60])
        }
    });
    let mut png = Vec::new();
    image.write_to(&mut Cursor::new(&mut png), ImageFormat::Png).expect("a PNG in memory");
    png
}

/// Adds `count` drawn photos to activity `activity_id`.
pub async fn add(store: &Store, system: &Actor, activity_id: i64, count: u32) -> anyhow::Result<()> {
    if !store.files().configured() {
        return Ok(());
    }
    let uploads = (0..count)
        .map(|i| Upload::from_bytes(format!("活动现场{}.png", i + 1), drawing(activity_id as u32 * 7 + i)))
        .collect();
    store.publicity().add_photos(system, activity_id, uploads).await?;
    Ok(())
}
