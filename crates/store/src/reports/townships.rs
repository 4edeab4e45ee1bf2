//! The townships' roll-ups of the summary (migration 000027): per township, the sum of its
//! villages' cells and registry. The refresher adds them up again from the villages' rows in
//! the transaction that writes those rows, so that on every snapshot a roll-up equals the
//! sum of its villages, and a report may take a stale village's stored rows out of it.

use std::collections::{BTreeMap, BTreeSet};

use guanai_domain::RegionLevel;
use sea_orm::sea_query::{Alias, Condition, Expr, Query, SimpleExpr};
use sea_orm::{ConnectionTrait, DatabaseTransaction};

use super::summary::Stale;
use crate::access::within_region_named;
use crate::{Store, StoreResult};

pub(crate) const TOWNSHIP_CELLS: &str = "report_township_cells";
pub(crate) const TOWNSHIP_REGISTRY: &str = "report_township_registry";

/// Townships added up in one statement.
const TOWNSHIPS_PER_WRITE: usize = 100;

/// A roll-up: its table, the villages' table it adds up, and the columns it sums.
struct RollUp {
    table: &'static str,
    villages: &'static str,
    sums: &'static [&'static str],
}

const CELLS: RollUp = RollUp {
    table: TOWNSHIP_CELLS,
    villages: "report_cells",
    sums: &["households", "persons", "premium_fen", "renewed"],
};

const REGISTRY: RollUp =
    RollUp { table: TOWNSHIP_REGISTRY, villages: "report_registry", sums: &["families"] };

fn col(name: &str) -> Expr {
    Expr::col(Alias::new(name))
}

impl Store {
    /// Adds up again the townships of every `stale` year and village from their villages'
    /// rows (year 0: the registry), on the refresher's transaction.
    pub(crate) async fn roll_up_townships(
        &self,
        txn: &DatabaseTransaction,
        stale: &[Stale],
    ) -> StoreResult<()> {
        let mut townships: BTreeMap<i32, BTreeSet<String>> = BTreeMap::new();
        for (year, village) in stale {
            let township = village.get(..RegionLevel::Township.code_len()).unwrap_or(village);
            townships.entry(*year).or_default().insert(township.to_owned());
        }
        for (year, townships) in townships {
            let (roll_up, year) = match year {
                0 => (&REGISTRY, None),
                y => (&CELLS, Some(y)),
            };
            let townships: Vec<String> = townships.into_iter().collect();
            for chunk in townships.chunks(TOWNSHIPS_PER_WRITE) {
                self.roll_up(txn, roll_up, year, chunk).await?;
            }
        }
        Ok(())
    }

    async fn roll_up(
        &self,
        txn: &DatabaseTransaction,
        roll_up: &RollUp,
        year: Option<i32>,
        townships: &[String],
    ) -> StoreResult<()> {
        let backend = txn.get_database_backend();
        let mut delete = Query::delete();
        delete
            .from_table(Alias::new(roll_up.table))
            .and_where(col("township_code").is_in(townships.iter().cloned()));
        let mut select = Query::select();
        let township = Expr::cust(format!("SUBSTR(village_code, 1, {})", RegionLevel::Township.code_len()));
        let mut keys: Vec<SimpleExpr> = Vec::new();
        let mut columns = Vec::new();
        if let Some(year) = year {
            delete.and_where(col("year").eq(year));
            keys.push(col("year").into());
            columns.push(Alias::new("year"));
        }
        keys.extend([township, col("category").into(), col("poverty").into()]);
        columns.extend(["township_code", "category", "poverty"].map(Alias::new));
        txn.execute(backend.build(&delete)).await?;
        select.exprs(keys.clone());
        for sum in roll_up.sums {
            select.expr(self.sum_i64(Alias::new(*sum)));
            columns.push(Alias::new(*sum));
        }
        // The year inside each township's range, not beside the OR: so each term is one
        // range of the villages' primary key (year, village code, …), which SQLite searches
        // term by term. With the year outside, it read every village row of the year and
        // tried each township's range on each (120 ms for 100 townships of a city, holding
        // the write turn; 25 ms this way).
        let villages = townships.iter().fold(Condition::any(), |any, t| {
            let township = within_region_named("village_code", t);
            any.add(match year {
                Some(year) => township.add(col("year").eq(year)),
                None => township,
            })
        });
        select.from(Alias::new(roll_up.villages)).cond_where(villages).add_group_by(keys);
        let mut insert = Query::insert();
        insert
            .into_table(Alias::new(roll_up.table))
            .columns(columns)
            .select_from(select)
            .expect("a column for each expression selected");
        txn.execute(backend.build(&insert)).await?;
        Ok(())
    }
}
