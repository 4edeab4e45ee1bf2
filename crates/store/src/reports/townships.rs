//! The townships' roll-ups of the summary (migration 000027): per township, the sum of its
//! villages' cells and registry. A refresh adds its townships up again on its count's
//! snapshot (the villages' rows as stored, the stale villages' as counted) and writes what
//! changed with the villages' rows, in one transaction: on every snapshot a roll-up equals
//! the sum of its villages, and a report may take a stale village's stored rows out of it.

use std::collections::{BTreeMap, BTreeSet};

use guanai_domain::RegionLevel;
use sea_orm::sea_query::{Alias, Condition, Expr, Func, Query, SelectStatement, SimpleExpr};
use sea_orm::{ConnectionTrait, QueryResult};

use super::changes::{self, Changes, KeyPart, Keyed, Table};
use super::summary::Stale;
use crate::access::within_region_named;
use crate::{Store, StoreResult};

pub(crate) const TOWNSHIP_CELLS: &str = "report_township_cells";
pub(crate) const TOWNSHIP_REGISTRY: &str = "report_township_registry";

/// Townships added up in one statement.
const TOWNSHIPS_PER_READ: usize = 100;

/// A roll-up: its table, and the villages' table it adds up (same keys, the township's code
/// for the village's, and the same counts).
struct RollUp {
    townships: Table,
    villages: &'static Table,
    /// Whether the first key is the year (the cells) or there is none (the registry).
    by_year: bool,
}

const CELLS: RollUp = RollUp {
    townships: Table {
        name: TOWNSHIP_CELLS,
        keys: &["year", "township_code", "category", "poverty"],
        counts: changes::CELLS.counts,
    },
    villages: &changes::CELLS,
    by_year: true,
};

const REGISTRY: RollUp = RollUp {
    townships: Table {
        name: TOWNSHIP_REGISTRY,
        keys: &["township_code", "category", "poverty"],
        counts: changes::REGISTRY.counts,
    },
    villages: &changes::REGISTRY,
    by_year: false,
};

/// A township roll-up's counts, and how many village rows they add up.
type Added = BTreeMap<Vec<KeyPart>, (Vec<i64>, i64)>;

fn col(name: &str) -> Expr {
    Expr::col(Alias::new(name))
}

/// The township of a village's code.
fn township_of(village: &str) -> &str {
    village.get(..RegionLevel::Township.code_len()).unwrap_or(village)
}

/// A village row's key with its township's code for the village's.
fn township_key(roll_up: &RollUp, key: &[KeyPart]) -> Vec<KeyPart> {
    let at = usize::from(roll_up.by_year);
    let mut key = key.to_vec();
    if let Some(KeyPart::Code(code)) = key.get_mut(at) {
        *code = township_of(code).to_owned();
    }
    key
}

impl Store {
    /// What a refresh changes in the townships' roll-ups: every township of a `stale` year
    /// and village added up from its villages' rows as stored on `db`'s snapshot, the stale
    /// villages' rows as counted (`counted`) in place of those stored (`stored`). Cells
    /// first, then the registry (year 0).
    pub(crate) async fn township_changes(
        &self,
        db: &impl ConnectionTrait,
        stale: &[Stale],
        stored: [&Keyed; 2],
        counted: [&Keyed; 2],
    ) -> StoreResult<[Changes; 2]> {
        let mut townships: BTreeMap<i32, BTreeSet<String>> = BTreeMap::new();
        for (year, village) in stale {
            townships.entry(*year).or_default().insert(township_of(village).to_owned());
        }
        let mut changes = Vec::new();
        for (roll_up, (stored, counted)) in
            [&CELLS, &REGISTRY].into_iter().zip(stored.into_iter().zip(counted))
        {
            let mut added = Added::new();
            let mut stored_townships = Keyed::new();
            for (year, townships) in &townships {
                if (*year != 0) != roll_up.by_year {
                    continue;
                }
                let townships: Vec<&String> = townships.iter().collect();
                for chunk in townships.chunks(TOWNSHIPS_PER_READ) {
                    let year = roll_up.by_year.then_some(*year);
                    self.add_up(db, roll_up, year, chunk, &mut added).await?;
                    read_townships(db, roll_up, year, chunk, &mut stored_townships).await?;
                }
            }
            // The stale villages' rows taken out as stored, and added in as counted.
            for (villages, sign) in [(stored, -1), (counted, 1)] {
                for (key, counts) in villages {
                    let (sums, rows) =
                        added.entry(township_key(roll_up, key)).or_insert_with(|| (vec![0; counts.len()], 0));
                    sums.iter_mut().zip(counts).for_each(|(sum, n)| *sum += sign * n);
                    *rows += sign;
                }
            }
            let new: Keyed = added
                .into_iter()
                .filter(|(_, (_, rows))| *rows > 0)
                .map(|(k, (sums, _))| (k, sums))
                .collect();
            changes.push(Changes::between(&roll_up.townships, &stored_townships, new));
        }
        let [cells, registry]: [Changes; 2] = changes.try_into().expect("two roll-ups");
        Ok([cells, registry])
    }

    /// The villages' rows of `townships` (of `year`) added up per township, with how many
    /// rows each sum adds up.
    async fn add_up(
        &self,
        db: &impl ConnectionTrait,
        roll_up: &RollUp,
        year: Option<i32>,
        townships: &[&String],
        added: &mut Added,
    ) -> StoreResult<()> {
        let township = Expr::cust(format!("SUBSTR(village_code, 1, {})", RegionLevel::Township.code_len()));
        let mut keys: Vec<SimpleExpr> = Vec::new();
        if year.is_some() {
            keys.push(col("year").into());
        }
        keys.extend([township, col("category").into(), col("poverty").into()]);
        let mut select = Query::select();
        select.exprs(keys.clone());
        for count in roll_up.villages.counts {
            select.expr(self.sum_i64(Alias::new(*count)));
        }
        select.expr(Func::count(Expr::col(sea_orm::sea_query::Asterisk)));
        // The year inside each township's range, not beside the OR: so each term is one
        // range of the villages' primary key (year, village code, …), which SQLite searches
        // term by term. With the year outside, it read every village row of the year and
        // tried each township's range on each (120 ms for 100 townships of a city; 25 ms
        // this way).
        let villages = townships.iter().fold(Condition::any(), |any, t| {
            let township = within_region_named("village_code", t);
            any.add(match year {
                Some(year) => township.add(col("year").eq(year)),
                None => township,
            })
        });
        select.from(Alias::new(roll_up.villages.name)).cond_where(villages).add_group_by(keys);
        let rows_at = roll_up.townships.keys.len() + roll_up.townships.counts.len();
        for row in db.query_all(db.get_database_backend().build(&select)).await? {
            let (key, counts) = read_row(roll_up, &row)?;
            added.insert(key, (counts, row.try_get_by_index(rows_at)?));
        }
        Ok(())
    }
}

/// The roll-up's rows of `townships` (of `year`) as stored.
async fn read_townships(
    db: &impl ConnectionTrait,
    roll_up: &RollUp,
    year: Option<i32>,
    townships: &[&String],
    stored: &mut Keyed,
) -> StoreResult<()> {
    let table = &roll_up.townships;
    let mut select: SelectStatement = Query::select();
    select
        .columns(table.keys.iter().chain(table.counts).map(|name| Alias::new(*name)))
        .from(Alias::new(table.name))
        .and_where(col("township_code").is_in(townships.iter().map(|t| t.to_string())));
    if let Some(year) = year {
        select.and_where(col("year").eq(year));
    }
    for row in db.query_all(db.get_database_backend().build(&select)).await? {
        let (key, counts) = read_row(roll_up, &row)?;
        stored.insert(key, counts);
    }
    Ok(())
}

/// A township row read in the roll-up's columns: its key (the year, if any, then codes),
/// then its counts.
fn read_row(roll_up: &RollUp, row: &QueryResult) -> StoreResult<(Vec<KeyPart>, Vec<i64>)> {
    let table = &roll_up.townships;
    let codes_from = usize::from(roll_up.by_year);
    let mut key = Vec::with_capacity(table.keys.len());
    if roll_up.by_year {
        key.push(KeyPart::Year(row.try_get_by_index(0)?));
    }
    for at in codes_from..table.keys.len() {
        key.push(KeyPart::Code(row.try_get_by_index(at)?));
    }
    let counts = (table.keys.len()..table.keys.len() + table.counts.len())
        .map(|at| Ok(row.try_get_by_index(at)?))
        .collect::<StoreResult<_>>()?;
    Ok((key, counts))
}
