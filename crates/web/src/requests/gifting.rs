//! Gifted policies in bulk (送保): which families a gift selects, as the gift form and the
//! API's body both give them.

use guanai_domain::RegionCode;
use guanai_store::policies::GiftSelection;

use super::forms::{self, optional_category, optional_poverty};

/// Most family ids one gift may list.
const MAX_LISTED: usize = 10_000;

/// Family ids as people paste them: separated by commas (also full-width), 、, semicolons,
/// spaces or new lines. Duplicates are dropped, the order kept.
pub fn family_ids(raw: &str) -> Result<Vec<i64>, String> {
    let mut ids: Vec<i64> = Vec::new();
    for token in raw.split(|c: char| c.is_whitespace() || ",，、;；".contains(c)).filter(|t| !t.is_empty())
    {
        let id: i64 = token
            .parse()
            .ok()
            .filter(|id| *id > 0)
            .ok_or_else(|| format!("家庭编号“{token}”无效：应为家庭档案中的数字编号"))?;
        if !ids.contains(&id) {
            ids.push(id);
        }
        if ids.len() > MAX_LISTED {
            return Err(format!("一次最多送保{MAX_LISTED}户，请分批进行"));
        }
    }
    Ok(ids)
}

/// The families to gift: the listed ids when any, else the region (the user's own when
/// empty) with the optional category and poverty status.
pub fn selection(
    scope: &RegionCode,
    region: &str,
    category: &str,
    poverty: &str,
    listed: Vec<i64>,
) -> Result<GiftSelection, String> {
    if !listed.is_empty() {
        return Ok(GiftSelection::Families(listed));
    }
    let region =
        if region.trim().is_empty() { scope.clone() } else { forms::region("送保区域", region)? };
    Ok(GiftSelection::Filter {
        region,
        category: optional_category(category)?,
        poverty: optional_poverty("帮扶类别", poverty)?,
    })
}

#[cfg(test)]
mod tests {
    use super::family_ids;

    #[test]
    fn family_ids_are_read_as_pasted() {
        assert_eq!(family_ids("1, 2，3、4;5\n6 7\t8 2").unwrap(), vec![1, 2, 3, 4, 5, 6, 7, 8]);
        assert_eq!(family_ids("  ").unwrap(), Vec::<i64>::new());
        assert!(family_ids("12 abc").unwrap_err().contains("“abc”"));
        assert!(family_ids("0").is_err());
        assert!(family_ids("-3").is_err());
    }
}
