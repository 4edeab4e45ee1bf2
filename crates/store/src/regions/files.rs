//! Reading the official division files (统计用区划代码, as in `shared/data/divisions`): one
//! CSV per level, gzip'd or not. Every row is checked before anything is written, and an
//! error names the file and line.

use std::collections::HashSet;
use std::io::Read;
use std::path::{Path, PathBuf};

use guanai_domain::{regions::short_region_name, RegionCode, RegionLevel};

/// One region read from the files.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DivisionRow {
    pub code: RegionCode,
    pub name: String,
    pub short_name: String,
}

/// All regions of one city: the city itself, its counties, townships and villages (and its
/// province, when the files carry it), parents before children.
#[derive(Debug, Clone)]
pub struct DivisionSet {
    pub city: RegionCode,
    pub rows: Vec<DivisionRow>,
}

impl DivisionSet {
    pub fn count(&self, level: RegionLevel) -> usize {
        self.rows.iter().filter(|r| r.code.level() == level).count()
    }
}

#[derive(Debug, thiserror::Error)]
pub enum DivisionFileError {
    #[error("找不到区划文件“{0}”（也没有 .gz 压缩版本）")]
    Missing(String),
    #[error("无法读取区划文件“{file}”：{message}")]
    Unreadable { file: String, message: String },
    #[error("区划文件“{file}”第{line}行：{message}")]
    BadRow { file: String, line: u64, message: String },
    #[error("区划文件中找不到城市代码“{0}”：请确认代码是4位的地级市代码，且文件包含该市")]
    CityNotFound(String),
    #[error("“{0}”不是地级市代码：请给出4位代码，例如 3608")]
    NotACity(String),
}

/// The files, in hierarchy order: file stem, level, name of the parent-code column.
const LEVEL_FILES: [(&str, RegionLevel, &str); 5] = [
    ("provinces", RegionLevel::Province, ""),
    ("cities", RegionLevel::City, "provinceCode"),
    ("areas", RegionLevel::County, "cityCode"),
    ("streets", RegionLevel::Township, "areaCode"),
    ("villages", RegionLevel::Village, "streetCode"),
];

/// A division folder's five gzip'd files carried inside the binary, as the `(file stem,
/// bytes)` pairs [`read_embedded_divisions`] reads; the folder is relative to the file that
/// names it, as for `include_bytes!`.
#[macro_export]
macro_rules! embedded_divisions {
    ($folder:literal) => {
        [
            ("provinces", include_bytes!(concat!($folder, "/provinces.csv.gz")) as &[u8]),
            ("cities", include_bytes!(concat!($folder, "/cities.csv.gz")) as &[u8]),
            ("areas", include_bytes!(concat!($folder, "/areas.csv.gz")) as &[u8]),
            ("streets", include_bytes!(concat!($folder, "/streets.csv.gz")) as &[u8]),
            ("villages", include_bytes!(concat!($folder, "/villages.csv.gz")) as &[u8]),
        ]
    };
}

/// The demo city 吉安市 (3608), carried inside the binary.
pub fn demo_city() -> DivisionSet {
    const FILES: [(&str, &[u8]); 5] = embedded_divisions!("../../data/divisions-3608");
    let city = RegionCode::parse("3608").expect("valid code");
    read_embedded_divisions(&FILES, &city).expect("the embedded demo city is valid")
}

/// Reads the regions of `city` from gzip'd division files carried in memory (a binary's
/// own extract): `(file stem, bytes)` pairs, stems as in a division folder.
pub fn read_embedded_divisions(
    files: &[(&str, &[u8])],
    city: &RegionCode,
) -> Result<DivisionSet, DivisionFileError> {
    read_divisions(city, |stem| match files.iter().find(|(name, _)| *name == stem) {
        Some((_, bytes)) => Ok(Some((format!("{stem}.csv.gz"), gunzip(bytes, stem)?))),
        None => Ok(None),
    })
}

/// Reads the regions of `city` from a folder holding `cities.csv`, `areas.csv`,
/// `streets.csv`, `villages.csv` (each may be gzip'd as `.csv.gz`) and, optionally,
/// `provinces.csv`.
pub fn read_division_dir(dir: &Path, city: &RegionCode) -> Result<DivisionSet, DivisionFileError> {
    read_divisions(city, |stem| {
        let plain = dir.join(format!("{stem}.csv"));
        let gz = dir.join(format!("{stem}.csv.gz"));
        let read = |path: &PathBuf| {
            std::fs::read(path).map_err(|e| DivisionFileError::Unreadable {
                file: path.display().to_string(),
                message: e.to_string(),
            })
        };
        if plain.exists() {
            Ok(Some((plain.display().to_string(), read(&plain)?)))
        } else if gz.exists() {
            let name = gz.display().to_string();
            let bytes = read(&gz)?;
            Ok(Some((name, gunzip(&bytes, stem)?)))
        } else {
            Ok(None)
        }
    })
}

fn gunzip(bytes: &[u8], name: &str) -> Result<Vec<u8>, DivisionFileError> {
    let mut out = Vec::new();
    flate2::read::GzDecoder::new(bytes).read_to_end(&mut out).map_err(|e| DivisionFileError::Unreadable {
        file: format!("{name}.csv.gz"),
        message: format!("不是有效的 gzip 文件（{e}）"),
    })?;
    Ok(out)
}

type FileSource<'a> = dyn FnMut(&str) -> Result<Option<(String, Vec<u8>)>, DivisionFileError> + 'a;

fn read_divisions(
    city: &RegionCode,
    mut open: impl FnMut(&str) -> Result<Option<(String, Vec<u8>)>, DivisionFileError>,
) -> Result<DivisionSet, DivisionFileError> {
    if city.level() != RegionLevel::City {
        return Err(DivisionFileError::NotACity(city.to_string()));
    }
    let open: &mut FileSource = &mut open;
    let mut rows = Vec::new();
    let mut known: HashSet<RegionCode> = HashSet::new();
    for (stem, level, parent_column) in LEVEL_FILES {
        let Some((file, bytes)) = open(stem)? else {
            if level == RegionLevel::Province {
                continue;
            }
            return Err(DivisionFileError::Missing(format!("{stem}.csv")));
        };
        let within = |code: &RegionCode| -> bool {
            match level {
                RegionLevel::Province => city.parent().as_ref() == Some(code),
                _ => city.contains(code),
            }
        };
        for row in parse_level_file(&file, &bytes, level, parent_column, &within)? {
            let (line, row, parent) = row;
            if let Some(parent) = parent {
                // The province row is optional; every other parent must have come first.
                if level != RegionLevel::City && !known.contains(&parent) {
                    return Err(DivisionFileError::BadRow {
                        file,
                        line,
                        message: format!("上级区划“{parent}”不在上一级文件中"),
                    });
                }
            }
            if !known.insert(row.code.clone()) {
                return Err(DivisionFileError::BadRow {
                    file,
                    line,
                    message: format!("区划代码“{}”重复出现", row.code),
                });
            }
            rows.push(row);
        }
        if level == RegionLevel::City && !known.contains(city) {
            return Err(DivisionFileError::CityNotFound(city.to_string()));
        }
    }
    Ok(DivisionSet { city: city.clone(), rows })
}

type ParsedRow = (u64, DivisionRow, Option<RegionCode>);

fn parse_level_file(
    file: &str,
    bytes: &[u8],
    level: RegionLevel,
    parent_column: &str,
    within: &dyn Fn(&RegionCode) -> bool,
) -> Result<Vec<ParsedRow>, DivisionFileError> {
    let bad = |line: u64, message: String| DivisionFileError::BadRow { file: file.to_owned(), line, message };
    let text = std::str::from_utf8(bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes))
        .map_err(|_| bad(1, "文件不是 UTF-8 编码".to_owned()))?;
    let mut reader = csv::ReaderBuilder::new().flexible(true).from_reader(text.as_bytes());
    let headers = reader.headers().map_err(|e| bad(1, format!("表头无法读取：{e}")))?.clone();
    let column = |name: &str| headers.iter().position(|h| h.trim() == name);
    let code_at = column("code").ok_or_else(|| bad(1, "表头缺少“code”列".to_owned()))?;
    let name_at = column("name").ok_or_else(|| bad(1, "表头缺少“name”列".to_owned()))?;
    let parent_at = if parent_column.is_empty() {
        None
    } else {
        Some(column(parent_column).ok_or_else(|| bad(1, format!("表头缺少“{parent_column}”列")))?)
    };
    let mut out = Vec::new();
    for (index, record) in reader.records().enumerate() {
        let line = index as u64 + 2;
        let record = record.map_err(|e| bad(line, format!("无法解析：{e}")))?;
        let field = |at: usize| record.get(at).map(str::trim).unwrap_or_default();
        let code = RegionCode::parse(field(code_at)).map_err(|e| bad(line, e.to_string()))?;
        if !within(&code) {
            continue;
        }
        if code.level() != level {
            return Err(bad(line, format!("区划代码“{code}”的位数与本文件的级别（{}）不符", level.label())));
        }
        let parent = match parent_at {
            Some(at) => {
                let parent =
                    RegionCode::parse(field(at)).map_err(|e| bad(line, format!("上级代码有误：{e}")))?;
                if code.parent().as_ref() != Some(&parent) {
                    return Err(bad(line, format!("区划代码“{code}”不以其上级代码“{parent}”开头")));
                }
                Some(parent)
            }
            None => None,
        };
        let name = field(name_at);
        if name.is_empty() {
            return Err(bad(line, format!("区划“{code}”缺少名称")));
        }
        if name.chars().count() > 100 {
            return Err(bad(line, format!("区划“{code}”的名称过长")));
        }
        let row = DivisionRow { code, name: name.to_owned(), short_name: short_region_name(name) };
        out.push((line, row, parent));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_demo_city_has_its_official_counts() {
        let set = demo_city();
        assert_eq!(set.count(RegionLevel::City), 1);
        assert_eq!(set.count(RegionLevel::County), 13);
        assert_eq!(set.count(RegionLevel::Township), 252);
        assert_eq!(set.count(RegionLevel::Village), 2967);
        let jizhou = set.rows.iter().find(|r| r.code.as_str() == "360802").unwrap();
        assert_eq!(jizhou.name, "吉州区");
    }

    fn read(files: &[(&str, &str)]) -> Result<DivisionSet, DivisionFileError> {
        let city = RegionCode::parse("3608").unwrap();
        read_divisions(&city, |stem| {
            Ok(files
                .iter()
                .find(|(name, _)| *name == stem)
                .map(|(name, text)| (format!("{name}.csv"), text.as_bytes().to_vec())))
        })
    }

    const CITIES: &str = "code,name,provinceCode\n3608,\"吉安市\",36\n";
    const AREAS: &str = "code,name,cityCode,provinceCode\n360802,\"吉州区\",3608,36\n";

    #[test]
    fn a_child_under_the_wrong_parent_names_file_and_line() {
        let streets = "code,name,areaCode,provinceCode,cityCode\n360802001,\"古南街道\",360802,36,3608\n360803001,\"x\",360802,36,3608\n";
        let err = read(&[
            ("cities", CITIES),
            ("areas", AREAS),
            ("streets", streets),
            ("villages", "code,name,streetCode\n"),
        ])
        .unwrap_err();
        assert!(matches!(err, DivisionFileError::BadRow { line: 3, .. }), "{err}");
        assert!(err.to_string().contains("不以其上级代码"));
    }

    #[test]
    fn a_missing_parent_or_column_is_refused() {
        let villages = "code,name,streetCode\n360802001001,\"双树村村民委员会\",360802001\n";
        let err = read(&[
            ("cities", CITIES),
            ("areas", AREAS),
            ("streets", "code,name,areaCode\n"),
            ("villages", villages),
        ])
        .unwrap_err();
        assert!(err.to_string().contains("不在上一级文件中"), "{err}");
        let err = read(&[("cities", "code,title\n3608,x\n")]).unwrap_err();
        assert!(err.to_string().contains("缺少“name”列"), "{err}");
        let err = read(&[("cities", "code,name,provinceCode\n3609,\"x\",36\n")]).unwrap_err();
        assert!(matches!(err, DivisionFileError::CityNotFound(_)), "{err}");
        let err = read(&[("cities", CITIES)]).unwrap_err();
        assert!(matches!(err, DivisionFileError::Missing(_)), "{err}");
    }

    #[test]
    fn short_names_are_kept_beside_official_ones() {
        let streets = "code,name,areaCode\n360802001,\"古南街道\",360802\n";
        let villages = "code,name,streetCode\n360802001001,\"双树村村民委员会\",360802001\n";
        let set = read(&[("cities", CITIES), ("areas", AREAS), ("streets", streets), ("villages", villages)])
            .unwrap();
        let village = set.rows.last().unwrap();
        assert_eq!((village.name.as_str(), village.short_name.as_str()), ("双树村村民委员会", "双树村"));
    }
}
