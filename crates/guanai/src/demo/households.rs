//! Made-up but plausible households over 吉安市's real villages: sizes and structures,
//! family categories and poverty in the proportions a county office sees, names, valid ID
//! numbers consistent with birth date and sex, phones, consents. Deterministic for a seed.

use std::collections::HashSet;

use chrono::{Datelike, Duration, NaiveDate};
use guanai_domain::families::Relationship;
use guanai_domain::identity::{IdNumber, Mobile};
use guanai_domain::{PovertyStatus, RegionCode, RegionLevel};
use guanai_store::families::ConsentKind;
use guanai_store::households::HouseholdDraft;
use guanai_store::regions::{DivisionRow, DivisionSet};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

const SURNAMES: &str = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛段雷侯龙史陶黎贺顾毛郝龚邵万钱严武戴莫孔向汤欧阳";
const MALE: &str = "伟强磊军勇杰涛斌超明刚平辉鹏华飞鑫波宇浩凯健俊帆帅旭宁龙林阳建国志文斌";
const FEMALE: &str = "芳娜敏静丽艳娟霞秀英华慧巧美娇玲桂兰凤洁琳素云莲真环雪荣爱妹红梅琴";

/// Picks from weighted choices.
fn weighted<'a, T>(rng: &mut StdRng, choices: &'a [(T, u32)]) -> &'a T {
    let total: u32 = choices.iter().map(|(_, w)| w).sum();
    let mut roll = rng.gen_range(0..total);
    for (value, weight) in choices {
        if roll < *weight {
            return value;
        }
        roll -= weight;
    }
    &choices[choices.len() - 1].0
}

fn pick(rng: &mut StdRng, chars: &str) -> char {
    let all: Vec<char> = chars.chars().collect();
    all[rng.gen_range(0..all.len())]
}

/// Makes households; `today` anchors the ages.
pub struct Generator {
    rng: StdRng,
    villages: Vec<RegionCode>,
    used_ids: HashSet<String>,
    today: NaiveDate,
}

impl Generator {
    pub fn new(set: &DivisionSet, seed: u64, today: NaiveDate) -> Self {
        let villages = set
            .rows
            .iter()
            .filter(|r| r.code.level() == RegionLevel::Village)
            .map(|r| r.code.clone())
            .collect();
        Generator { rng: StdRng::seed_from_u64(seed), villages, used_ids: HashSet::new(), today }
    }

    fn name(&mut self, surname: &str, male: bool) -> String {
        let pool = if male { MALE } else { FEMALE };
        let mut name = surname.to_owned();
        name.push(pick(&mut self.rng, pool));
        if self.rng.gen_bool(0.7) {
            name.push(pick(&mut self.rng, pool));
        }
        name
    }

    /// A valid ID number, unique in this run, with the county's address code.
    fn id_number(&mut self, county: &str, birth: NaiveDate, male: bool) -> IdNumber {
        let mut seq: u32 = self.rng.gen_range(0..500) * 2 + u32::from(male);
        loop {
            let body =
                format!("{county}{:04}{:02}{:02}{:03}", birth.year(), birth.month(), birth.day(), seq % 1000);
            let check = IdNumber::check_char_for(&body).expect("17 digits");
            let number = format!("{body}{check}");
            if self.used_ids.insert(number.clone()) {
                return IdNumber::parse(&number).expect("valid by construction").id;
            }
            seq = (seq + 2) % 1000;
        }
    }

    fn birth(&mut self, age: u32) -> NaiveDate {
        let days = self.rng.gen_range(0..365);
        self.today - Duration::days(i64::from(age) * 365 + i64::from(age / 4) + days)
    }

    pub fn household(&mut self) -> HouseholdDraft {
        let village = self.villages[self.rng.gen_range(0..self.villages.len())].clone();
        let county = village.as_str()[..6].to_owned();
        let size = *weighted(&mut self.rng, &[(1u32, 8), (2, 22), (3, 30), (4, 25), (5, 10), (6, 5)]);
        let surnames: Vec<char> = SURNAMES.chars().collect();
        let surname = surnames[self.rng.gen_range(0..surnames.len() - 2)].to_string();
        let head_male = self.rng.gen_bool(0.8);
        let head_age = self.rng.gen_range(26..72);
        let mut members = Vec::new();
        let head_birth = self.birth(head_age);
        let head_name = self.name(&surname, head_male);
        members.push((head_name, self.id_number(&county, head_birth, head_male), Relationship::Head));
        if size >= 2 && self.rng.gen_bool(0.9) {
            let spouse_surname = surnames[self.rng.gen_range(0..surnames.len() - 2)].to_string();
            let age = (head_age as i32 + self.rng.gen_range(-4..5)).clamp(20, 80) as u32;
            let birth = self.birth(age);
            members.push((
                self.name(&spouse_surname, !head_male),
                self.id_number(&county, birth, !head_male),
                Relationship::Spouse,
            ));
        }
        if size > members.len() as u32 && head_age < 50 && self.rng.gen_bool(0.3) {
            let age = head_age + self.rng.gen_range(24..32);
            let male = self.rng.gen_bool(0.5);
            let birth = self.birth(age);
            members.push((
                self.name(&surname, male),
                self.id_number(&county, birth, male),
                Relationship::Parent,
            ));
        }
        while (members.len() as u32) < size {
            let oldest = head_age.saturating_sub(22).max(1);
            let age = self.rng.gen_range(1..=oldest.min(30));
            let male = self.rng.gen_bool(0.5);
            let birth = self.birth(age);
            members.push((
                self.name(&surname, male),
                self.id_number(&county, birth, male),
                Relationship::Child,
            ));
        }
        let category = weighted(
            &mut self.rng,
            &[
                ("only_child", 35),
                ("rural_two_daughters", 10),
                ("special_lost", 2),
                ("special_disabled", 2),
                ("three_child", 8),
                ("general", 43),
            ],
        )
        .to_string();
        let poverty = *weighted(
            &mut self.rng,
            &[
                (PovertyStatus::None, 88),
                (PovertyStatus::Lifted, 7),
                (PovertyStatus::Monitored, 2),
                (PovertyStatus::Dibao, 3),
            ],
        );
        let phone = self.rng.gen_bool(0.85).then(|| {
            let prefix = *weighted(
                &mut self.rng,
                &[("138", 3), ("139", 3), ("135", 2), ("150", 2), ("158", 1), ("177", 1), ("189", 1)],
            );
            Mobile::parse(&format!("{prefix}{:08}", self.rng.gen_range(0..100_000_000u32))).expect("valid")
        });
        let consents = if self.rng.gen_bool(0.93) {
            vec![ConsentKind::Processing, ConsentKind::InsurerSharing, ConsentKind::Guardian]
        } else {
            Vec::new()
        };
        let address = format!("{}组{}号", self.rng.gen_range(1..12), self.rng.gen_range(1..80));
        HouseholdDraft { village, category, poverty, address, phone, members, consents }
    }
}

/// Made-up households written as a county roster (CSV, UTF-8 with BOM) in the layout
/// counties use: a title line, the header, one row per person with the head first, and a
/// totals line. For trying the import and for the import benchmark.
pub fn roster_csv(set: &DivisionSet, households: usize, seed: u64, today: NaiveDate) -> String {
    use std::fmt::Write as _;
    let names: std::collections::HashMap<&str, &str> =
        set.rows.iter().map(|r| (r.code.as_str(), r.name.as_str())).collect();
    // What a clerk writes for each village: its short name, unless another village of its
    // township has the same short name (赣州市 西牛镇 has 星村居委会 and 星村村委会): then
    // its full name.
    let villages: Vec<&DivisionRow> =
        set.rows.iter().filter(|r| r.code.level() == RegionLevel::Village).collect();
    let mut sharing: std::collections::HashMap<(&str, &str), usize> = std::collections::HashMap::new();
    for row in &villages {
        *sharing.entry((&row.code.as_str()[..9], row.short_name.as_str())).or_default() += 1;
    }
    let village_cells: std::collections::HashMap<&str, &str> = villages
        .iter()
        .map(|row| {
            let shared = sharing[&(&row.code.as_str()[..9], row.short_name.as_str())] > 1;
            (row.code.as_str(), if shared { row.name.as_str() } else { row.short_name.as_str() })
        })
        .collect();
    let mut generator = Generator::new(set, seed, today);
    let mut out = String::from("\u{feff}吉安市计生家庭意外伤害保险参保花名册\n县（市、区）,乡镇（街道）,村（社区）,姓名,身份证号码,与户主关系,联系电话,家庭类型,脱贫状态,家庭住址\n");
    let mut persons = 0;
    for _ in 0..households {
        let h = generator.household();
        let code = h.village.as_str();
        let county = names.get(&code[..6]).copied().unwrap_or_default();
        let township = names.get(&code[..9]).copied().unwrap_or_default();
        let village = village_cells.get(code).copied().unwrap_or_default();
        let category = guanai_domain::families::FamilyCategory::DEFAULTS
            .iter()
            .find(|(c, _)| *c == h.category)
            .map(|(_, n)| *n)
            .unwrap_or_default();
        let poverty = if h.poverty == PovertyStatus::None { "" } else { h.poverty.label() };
        for (index, (name, id, relationship)) in h.members.iter().enumerate() {
            let phone = if index == 0 {
                h.phone.as_ref().map(|p| p.as_str().to_owned()).unwrap_or_default()
            } else {
                String::new()
            };
            let _ = writeln!(
                out,
                "{county},{township},{village},{name},{},{},{phone},{category},{poverty},{}",
                id.as_str(),
                relationship.label(),
                h.address
            );
            persons += 1;
        }
    }
    let _ = writeln!(out, "合计,{households}户,{persons}人,,,,,,,");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_same_seed_makes_the_same_city_with_valid_people() {
        let set = guanai_store::regions::demo_city();
        let today = NaiveDate::from_ymd_opt(2026, 11, 30).unwrap();
        let mut a = Generator::new(&set, 7, today);
        let mut b = Generator::new(&set, 7, today);
        for _ in 0..200 {
            let (x, y) = (a.household(), b.household());
            assert_eq!(x.village, y.village);
            assert_eq!(x.members.len(), y.members.len());
            for ((name, id, _), (name2, id2, _)) in x.members.iter().zip(&y.members) {
                assert_eq!((name, id.as_str()), (name2, id2.as_str()));
                // The ID agrees with itself: it parses, and its county is the village's.
                assert!(IdNumber::parse(id.as_str()).is_ok());
                assert_eq!(&id.as_str()[..6], &x.village.as_str()[..6]);
            }
            assert_eq!(x.members[0].2, Relationship::Head);
        }
    }

    #[test]
    fn a_roster_names_a_village_in_full_where_its_short_name_is_shared() {
        // 赣州市 信丰县 西牛镇: 星村居委会 and 星村村委会 are both “星村” for short.
        let row = |code: &str, name: &str| DivisionRow {
            code: RegionCode::parse(code).unwrap(),
            name: name.to_owned(),
            short_name: guanai_domain::regions::short_region_name(name),
        };
        let set = DivisionSet {
            city: RegionCode::parse("3607").unwrap(),
            rows: vec![
                row("3607", "赣州市"),
                row("360722", "信丰县"),
                row("360722111", "西牛镇"),
                row("360722111003", "星村居委会"),
                row("360722111226", "星村村委会"),
                row("360722111229", "中星村委会"),
            ],
        };
        let roster = roster_csv(&set, 200, 7, NaiveDate::from_ymd_opt(2026, 11, 30).unwrap());
        let villages: HashSet<&str> = roster
            .lines()
            .skip(2)
            .filter_map(|line| line.split(',').nth(2))
            .filter(|v| !v.ends_with('人'))
            .collect();
        let expected: HashSet<&str> = ["星村居委会", "星村村委会", "中星村"].into_iter().collect();
        assert_eq!(villages, expected);
    }
}
