//! The measures of the reports and the bulletin (通报), as pure arithmetic on raw counts:
//! every ratio is kept as its numerator and denominator (PRODUCT.md, "Measures"), shown
//! rounded to a tenth of a percent; growth year on year; ranking with ties; and the
//! bulletin's generated sentences. No figure is computed twice: pages, exports and the
//! bulletin all read these.

use std::fmt;

use serde::Serialize;

use crate::money::Fen;

crate::stored_code! {
    /// How a report breaks its figures down.
    pub enum Dimension {
        Region => ("region", "按区划"),
        Category => ("category", "按家庭类型"),
        Poverty => ("poverty", "按脱贫状态"),
    }
}

/// A ratio of two counts, kept whole: `num ÷ den`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Ratio {
    pub num: u64,
    pub den: u64,
}

impl Ratio {
    pub const fn new(num: u64, den: u64) -> Ratio {
        Ratio { num, den }
    }

    /// The ratio in tenths of a percent, rounded half up; `None` when the denominator is 0.
    pub fn permille(self) -> Option<u64> {
        if self.den == 0 {
            return None;
        }
        let scaled = u128::from(self.num) * 1000;
        let den = u128::from(self.den);
        Some(((scaled * 2 + den) / (den * 2)) as u64)
    }

    /// The ratio as shown: `87.5%`, or `—` without a denominator.
    pub fn percent(self) -> String {
        self.permille().map_or_else(|| "—".to_owned(), |p| format!("{}.{}%", p / 10, p % 10))
    }
}

impl fmt::Display for Ratio {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.percent())
    }
}

/// Growth from `last` to `this` in tenths of a percent, rounded half away from zero;
/// `None` when there was nothing last year.
pub fn growth_permille(this: u64, last: u64) -> Option<i64> {
    if last == 0 {
        return None;
    }
    let diff = (i128::from(this) - i128::from(last)) * 1000;
    let last = i128::from(last);
    let rounded = if diff >= 0 { (diff * 2 + last) / (last * 2) } else { -((-diff * 2 + last) / (last * 2)) };
    Some(rounded as i64)
}

/// Growth as shown: `+6.2%`, `-1.0%`, or `—`.
pub fn growth_text(this: u64, last: u64) -> String {
    match growth_permille(this, last) {
        None => "—".to_owned(),
        Some(g) => {
            let sign = if g < 0 { "-" } else { "+" };
            format!("{sign}{}.{}%", g.abs() / 10, g.abs() % 10)
        }
    }
}

/// Competition ranks (1, 2, 2, 4 …) of `values`, the highest first; `None` values (no
/// denominator) rank after every figure, unranked.
pub fn ranks(values: &[Option<u64>]) -> Vec<Option<usize>> {
    values.iter().map(|v| v.map(|v| 1 + values.iter().filter(|o| o.is_some_and(|o| o > v)).count())).collect()
}

/// A count in 万 with one decimal, as bulletins write large figures: `12.3万`; below ten
/// thousand as it is.
pub fn wan(count: u64) -> String {
    if count < 10_000 {
        return count.to_string();
    }
    let tenths = (count + 500) / 1000;
    format!("{}.{}万", tenths / 10, tenths % 10)
}

/// Money in 万元 with one decimal (`356.7万元`), below ten thousand yuan as `1,234.56元`.
pub fn wan_yuan(amount: Fen) -> String {
    let fen = amount.get().max(0) as u64;
    if fen < 1_000_000 {
        return format!("{}元", amount.yuan_string());
    }
    let tenths = (fen + 50_000) / 100_000;
    format!("{}.{}万元", tenths / 10, tenths % 10)
}

/// What the bulletin's opening paragraph says; each figure optional where the feature
/// behind it has no data (claims, until they are recorded, are left out, not shown as 0).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BulletinFacts {
    /// "截至11月30日": the day the figures stand at.
    pub as_of: chrono::NaiveDate,
    /// "全市", "吉州区"…
    pub area: String,
    pub households: u64,
    pub persons: u64,
    pub last_households: u64,
    pub renewal: Ratio,
    pub coverage: Ratio,
    pub premium: Fen,
    /// Claims reported, paid and the amount paid, once claims are recorded.
    pub claims: Option<(u64, Fen, Ratio)>,
    /// The regions below that reached their households target, in ranking order.
    pub reached: Vec<String>,
    /// How many regions below have a target.
    pub with_target: usize,
}

/// The bulletin's opening sentences, as PRODUCT.md's example reads: "截至11月30日，全市计生
/// 家庭意外伤害保险参保12.3万户、39.8万人，同比增长6.2%；续保率87.5%；…吉州区、青原区完成年度
/// 目标任务。"
pub fn bulletin_summary(f: &BulletinFacts) -> String {
    use chrono::Datelike;
    let mut text = format!(
        "截至{}月{}日，{}计生家庭意外伤害保险参保{}户、{}人",
        f.as_of.month(),
        f.as_of.day(),
        f.area,
        wan(f.households),
        wan(f.persons)
    );
    match growth_permille(f.households, f.last_households) {
        Some(g) if g < 0 => text.push_str(&format!("，同比下降{}.{}%", -g / 10, -g % 10)),
        Some(g) => text.push_str(&format!("，同比增长{}.{}%", g / 10, g % 10)),
        None => {}
    }
    if f.coverage.den > 0 {
        text.push_str(&format!("，覆盖率{}", f.coverage.percent()));
    }
    text.push_str(&format!("，保费{}", wan_yuan(f.premium)));
    if f.renewal.den > 0 {
        text.push_str(&format!("；续保率{}", f.renewal.percent()));
    }
    if let Some((claims, paid, loss)) = f.claims {
        text.push_str(&format!("；理赔{}件，赔付金额{}，赔付率{}", claims, wan_yuan(paid), loss.percent()));
    }
    text.push('。');
    if f.with_target > 0 {
        if f.reached.is_empty() {
            text.push_str("各地均未完成年度目标任务，请加快进度。");
        } else if f.reached.len() == f.with_target {
            text.push_str(&format!("{}均完成年度目标任务。", f.reached.join("、")));
        } else {
            text.push_str(&format!("{}完成年度目标任务。", f.reached.join("、")));
        }
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::NaiveDate;

    #[test]
    fn ratios_round_half_up_to_a_tenth_of_a_percent() {
        assert_eq!(Ratio::new(875, 1000).percent(), "87.5%");
        assert_eq!(Ratio::new(1, 3).percent(), "33.3%");
        assert_eq!(Ratio::new(2, 3).percent(), "66.7%");
        assert_eq!(Ratio::new(1, 2000).percent(), "0.1%", "0.05 % rounds up");
        assert_eq!(Ratio::new(5, 0).percent(), "—");
        assert_eq!(Ratio::new(u64::MAX, u64::MAX).permille(), Some(1000), "no overflow");
    }

    #[test]
    fn growth_is_signed_and_needs_a_last_year() {
        assert_eq!(growth_text(1062, 1000), "+6.2%");
        assert_eq!(growth_text(990, 1000), "-1.0%");
        assert_eq!(growth_text(5, 0), "—");
        assert_eq!(growth_permille(1000, 1000), Some(0));
    }

    #[test]
    fn ties_share_a_rank_and_the_next_skips() {
        assert_eq!(
            ranks(&[Some(5), Some(9), Some(5), None, Some(1)]),
            [Some(2), Some(1), Some(2), None, Some(4)]
        );
    }

    #[test]
    fn the_bulletin_reads_like_the_associations_own() {
        let facts = BulletinFacts {
            as_of: NaiveDate::from_ymd_opt(2026, 11, 30).unwrap(),
            area: "全市".into(),
            households: 123_000,
            persons: 398_000,
            last_households: 115_800,
            renewal: Ratio::new(875, 1000),
            coverage: Ratio::new(0, 0),
            premium: Fen::from_yuan(7_380_000),
            claims: Some((1842, Fen::from_yuan(3_567_000), Ratio::new(784, 1000))),
            reached: vec!["吉州区".into(), "青原区".into()],
            with_target: 13,
        };
        assert_eq!(
            bulletin_summary(&facts),
            "截至11月30日，全市计生家庭意外伤害保险参保12.3万户、39.8万人，同比增长6.2%，保费738.0万元；\
             续保率87.5%；理赔1842件，赔付金额356.7万元，赔付率78.4%。吉州区、青原区完成年度目标任务。"
        );
        let small =
            BulletinFacts { households: 90, last_households: 100, claims: None, reached: vec![], ..facts };
        let text = bulletin_summary(&small);
        assert!(text.contains("参保90户") && text.contains("同比下降10.0%"), "{text}");
        assert!(text.ends_with("各地均未完成年度目标任务，请加快进度。"), "{text}");
        assert!(!text.contains("理赔"), "no claim figure before claims exist: {text}");
    }

    #[test]
    fn the_dimension_codes_are_a_table() {
        crate::codes::check_table::<Dimension>().unwrap();
    }
}
