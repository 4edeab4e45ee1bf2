//! Photographs of a claim's papers for the demo, drawn in code (no image files in the
//! repository): a sheet of paper at a slight angle on a desk, a coloured heading by the
//! kind of paper, lines of "text", a table for bills and lists, a red seal. Small PNGs of a
//! few KB, uploaded through the store like a phone's photos (sealed, re-encoded, with a
//! thumbnail), so a demo claim's page shows its papers as a user's would.

use std::io::Cursor;

use chrono::NaiveDate;
use guanai_domain::claims::Paper;
use guanai_store::files::Upload;
use guanai_store::{Actor, Store};
use image::{ImageFormat, Rgb, RgbImage};

/// Papers are drawn for every `EVERY`-th claim reported, and for every claim reported in
/// the last `RECENT_DAYS` days before the demo's day (the open ones a user opens first):
/// in the city-size demo about 70 of its 500 claims, some 330 photos, so `guanai demo
/// --households city` stays quick.
const EVERY: usize = 20;
const RECENT_DAYS: u64 = 60;

/// Whether the `nth` claim reported (from 0), reported on `on`, gets drawn papers.
pub fn drawn(store: &Store, nth: usize, on: NaiveDate, today: NaiveDate) -> bool {
    let recent = today.checked_sub_days(chrono::Days::new(RECENT_DAYS)).is_some_and(|from| on >= from);
    store.files().configured() && (nth.is_multiple_of(EVERY) || recent)
}

/// A photo of `paper` for claim `claim` as a PNG (240 × 320).
fn drawing(claim: i64, paper: Paper) -> Vec<u8> {
    let (width, height) = (240u32, 320u32);
    let index = Paper::ALL.iter().position(|p| *p == paper).unwrap_or(0) as u32;
    let seed = (claim as u32).wrapping_mul(2_654_435_761) ^ index;
    let heading =
        [Rgb([180, 40, 40]), Rgb([30, 90, 160]), Rgb([40, 120, 70]), Rgb([150, 90, 20]), Rgb([90, 60, 140])]
            [(index % 5) as usize];
    // The sheet leans by a pixel every `lean` rows, to the left or the right.
    let lean = 18 + seed % 10;
    let tilt = |y: u32| if seed.is_multiple_of(2) { (y / lean) as i32 } else { -((y / lean) as i32) };
    let table = matches!(paper, Paper::Invoices | Paper::CostList | Paper::Prescriptions);
    let image = RgbImage::from_fn(width, height, |x, y| {
        let sx = x as i32 - tilt(y);
        let (left, right, top, bottom) = (28i32, 212i32, 16u32, 304u32);
        if sx < left || sx >= right || y < top || y >= bottom {
            // The desk: warm wood with faint bands of grain.
            let grain = ((y / 6 + seed) % 4 * 3) as u8;
            return Rgb([150 + grain, 110 + grain, 70]);
        }
        let (px, py) = ((sx - left) as u32, y - top);
        let (sdx, sdy) = (px as i32 - 140, py as i32 - 236);
        if (600..=900).contains(&(sdx * sdx + sdy * sdy)) {
            return Rgb([210, 40, 40]); // the seal's ring
        }
        if (14..34).contains(&py) && (20..164).contains(&px) {
            return heading;
        }
        let in_table = table && (60..220).contains(&py) && (12..172).contains(&px);
        if in_table && (py % 20 == 0 || px % 40 == 12) {
            return Rgb([120, 120, 120]);
        }
        let line = (50..280).contains(&py) && py % 14 < 3;
        let length = 60 + (seed.wrapping_add(py * 31)) % 100;
        if !in_table && line && px >= 12 && px < 12 + length {
            return Rgb([70, 70, 80]);
        }
        Rgb([248, 247, 242])
    });
    let mut png = Vec::new();
    image.write_to(&mut Cursor::new(&mut png), ImageFormat::Png).expect("a PNG in memory");
    png
}

/// Receives `papers` for claim `claim` as one photo each, uploaded by `actor` on `store`'s
/// day.
pub async fn attach(store: &Store, actor: &Actor, claim: i64, papers: &[Paper]) -> anyhow::Result<()> {
    for paper in papers {
        let upload = Upload::from_bytes(format!("{}.png", paper.label()), drawing(claim, *paper));
        store.claims().add_paper_files(actor, claim, *paper, vec![upload]).await?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_paper_is_a_small_png_of_its_own() {
        let one = drawing(7, Paper::Invoices);
        assert!(one.starts_with(b"\x89PNG"), "a PNG");
        assert!(one.len() < 8_000, "a few KB, not {}", one.len());
        assert_ne!(one, drawing(7, Paper::IdCard), "each paper differs");
        assert_eq!(one, drawing(7, Paper::Invoices), "the same for the same claim and paper");
    }
}
