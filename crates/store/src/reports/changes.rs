//! What a refresh changes in the summary's tables, worked out on its count's snapshot and
//! applied by its write as it is.
//!
//! A village counted again after an enrolment differs from its stored rows in a row or
//! two (a cell, the day, the sources' parts), while its stored rows are every day of the
//! season and both years a mark makes stale. Rewriting them all (and adding their townships
//! up) held the write turn for 86–148 ms a refresh during the city bench's enrolments on
//! SQLite, which every writer waited behind; writing the differences, 17–33 ms. The write is guarded
//! by the summary's generation (no other refresh wrote since the snapshot), and only
//! refreshes write these tables, so the stored rows the differences were taken from are
//! still the stored rows when they are applied.

use std::collections::BTreeMap;

use chrono::NaiveDate;
use sea_orm::sea_query::{Alias, Condition, Expr, Query, SimpleExpr, Value};
use sea_orm::{ConnectionTrait, DatabaseTransaction};

use super::summary::VillageRows;
use crate::StoreResult;

/// Keys removed in one statement.
const KEYS_PER_DELETE: usize = 100;

/// Rows inserted in one statement.
const ROWS_PER_INSERT: usize = 500;

/// One part of a summary row's key.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum KeyPart {
    Year(i32),
    Code(String),
    Day(NaiveDate),
    Id(i64),
}

impl From<&KeyPart> for SimpleExpr {
    fn from(part: &KeyPart) -> SimpleExpr {
        match part {
            KeyPart::Year(year) => Value::from(*year).into(),
            KeyPart::Code(code) => Value::from(code.clone()).into(),
            KeyPart::Day(day) => Value::from(*day).into(),
            KeyPart::Id(id) => Value::from(*id).into(),
        }
    }
}

/// A summary table: the columns of its key, and of its counts.
#[derive(Debug)]
pub(crate) struct Table {
    pub name: &'static str,
    pub keys: &'static [&'static str],
    pub counts: &'static [&'static str],
}

pub(crate) const CELLS: Table = Table {
    name: "report_cells",
    keys: &["year", "village_code", "category", "poverty"],
    counts: &["households", "persons", "premium_fen", "renewed"],
};
pub(crate) const DAYS: Table =
    Table { name: "report_days", keys: &["year", "village_code", "day"], counts: &["households"] };
pub(crate) const FUNDING: Table = Table {
    name: "report_funding",
    keys: &["year", "village_code", "source_id"],
    counts: &["amount_fen", "policies"],
};
pub(crate) const REGISTRY: Table =
    Table { name: "report_registry", keys: &["village_code", "category", "poverty"], counts: &["families"] };

/// A table's rows: key → counts, in the order of the table's columns.
pub(crate) type Keyed = BTreeMap<Vec<KeyPart>, Vec<i64>>;

/// Villages' rows by table: cells, days, funding, registry.
pub(crate) fn keyed(rows: &VillageRows) -> [(&'static Table, Keyed); 4] {
    let code = |s: &str| KeyPart::Code(s.to_owned());
    let cells = rows.cells.iter().map(|c| {
        let key = vec![KeyPart::Year(c.year), code(&c.village), code(&c.category), code(&c.poverty)];
        (key, vec![c.households as i64, c.persons as i64, c.premium, c.renewed as i64])
    });
    let days = rows.days.iter().map(|d| {
        (vec![KeyPart::Year(d.year), code(&d.village), KeyPart::Day(d.day)], vec![d.households as i64])
    });
    let parts = rows.parts.iter().map(|p| {
        (
            vec![KeyPart::Year(p.year), code(&p.village), KeyPart::Id(p.source_id)],
            vec![p.amount, p.policies as i64],
        )
    });
    let registry = rows
        .registry
        .iter()
        .map(|r| (vec![code(&r.village), code(&r.category), code(&r.poverty)], vec![r.families as i64]));
    [
        (&CELLS, cells.collect()),
        (&DAYS, days.collect()),
        (&FUNDING, parts.collect()),
        (&REGISTRY, registry.collect()),
    ]
}

/// What a refresh changes in one table.
#[derive(Debug)]
pub(crate) struct Changes {
    table: &'static Table,
    /// Stored rows to remove: gone from the count, or replaced by a row of `insert`.
    remove: Vec<Vec<KeyPart>>,
    /// Rows to insert: new, or counted differently.
    insert: Vec<(Vec<KeyPart>, Vec<i64>)>,
}

impl Changes {
    /// From the rows as stored to the rows as counted, for the same keys' range.
    pub(crate) fn between(table: &'static Table, stored: &Keyed, counted: Keyed) -> Changes {
        let remove = stored
            .iter()
            .filter(|(key, counts)| counted.get(*key) != Some(*counts))
            .map(|(key, _)| key.clone())
            .collect();
        let insert = counted.into_iter().filter(|(key, counts)| stored.get(key) != Some(counts)).collect();
        Changes { table, remove, insert }
    }

    /// Rows removed and inserted.
    pub(crate) fn rows(&self) -> usize {
        self.remove.len() + self.insert.len()
    }

    pub(crate) async fn apply(&self, txn: &DatabaseTransaction) -> StoreResult<()> {
        let backend = txn.get_database_backend();
        let column = |name: &str| Expr::col(Alias::new(name));
        for chunk in self.remove.chunks(KEYS_PER_DELETE) {
            let keys = chunk.iter().fold(Condition::any(), |any, key| {
                let each = self.table.keys.iter().zip(key);
                any.add(each.fold(Condition::all(), |all, (name, part)| all.add(column(name).eq(part))))
            });
            let delete = Query::delete().from_table(Alias::new(self.table.name)).cond_where(keys).to_owned();
            txn.execute(backend.build(&delete)).await?;
        }
        let columns = self.table.keys.iter().chain(self.table.counts).map(|name| Alias::new(*name));
        for chunk in self.insert.chunks(ROWS_PER_INSERT) {
            let mut insert = Query::insert();
            insert.into_table(Alias::new(self.table.name)).columns(columns.clone());
            for (key, counts) in chunk {
                let values =
                    key.iter().map(SimpleExpr::from).chain(counts.iter().map(|n| Value::from(*n).into()));
                insert.values_panic(values);
            }
            txn.execute(backend.build(&insert)).await?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(village: &str, households: i64) -> (Vec<KeyPart>, Vec<i64>) {
        (vec![KeyPart::Code(village.to_owned()), KeyPart::Code("only_child".to_owned())], vec![households])
    }

    #[test]
    fn only_rows_counted_differently_are_removed_and_inserted() {
        let stored: Keyed = [row("a", 1), row("b", 2), row("c", 3)].into_iter().collect();
        let counted: Keyed = [row("a", 1), row("b", 5), row("d", 4)].into_iter().collect();
        let changes = Changes::between(&REGISTRY, &stored, counted);
        assert_eq!(changes.remove, vec![row("b", 0).0, row("c", 0).0], "b replaced, c gone");
        assert_eq!(changes.insert, vec![row("b", 5), row("d", 4)]);
        assert_eq!(changes.rows(), 4);
        let same = Changes::between(&REGISTRY, &stored, stored.clone());
        assert_eq!(same.rows(), 0, "nothing counted differently, nothing written");
    }
}
