//! The working-day calendar the claims' clocks count on: holidays and make-up working
//! days (调休) as the city administrator types them (`domain::workdays`), one row. Until the
//! city saves one, the State Council's 2026 notice is used.

use chrono::Utc;
use guanai_domain::claims::{ClaimStatus, ClockSettings};
use guanai_domain::workdays::{WorkCalendar, NOTICE_2026};
use guanai_domain::Permission;
use sea_orm::sea_query::{Expr, OnConflict};
use sea_orm::{ActiveValue::Set, ColumnTrait, EntityTrait, QueryFilter};

use crate::audit::AuditEvent;
use crate::entities::{claims, work_calendars};
use crate::{Actor, Store, StoreError, StoreResult};

const CITY_CALENDAR: i32 = 1;

impl Store {
    /// The calendar in force.
    pub(crate) async fn work_calendar(&self) -> StoreResult<WorkCalendar> {
        work_calendar_in(&self.db).await
    }

    async fn calendar_text(&self) -> StoreResult<String> {
        calendar_text_in(&self.db).await
    }
}

/// The calendar in force, read on `db`: inside a transaction, on its connection (one
/// more taken from the pool meanwhile could wait for ever once every pooled connection is
/// held by such a transaction).
pub(crate) async fn work_calendar_in(db: &impl sea_orm::ConnectionTrait) -> StoreResult<WorkCalendar> {
    let text = calendar_text_in(db).await?;
    WorkCalendar::parse(&text).map_err(|e| StoreError::Corrupt(format!("work_calendars.body: {e}")))
}

async fn calendar_text_in(db: &impl sea_orm::ConnectionTrait) -> StoreResult<String> {
    Ok(work_calendars::Entity::find_by_id(CITY_CALENDAR)
        .one(db)
        .await?
        .map_or_else(|| NOTICE_2026.to_owned(), |row| row.body))
}

impl Store {
    /// The open claims' due dates on a new calendar, so that the queues and breach lists
    /// follow it.
    async fn requeue_open_claims(&self, calendar: &WorkCalendar) -> StoreResult<()> {
        let settings = ClockSettings::default();
        let open = ClaimStatus::ALL.into_iter().filter(|s| s.is_open()).map(|s| s.code());
        let rows = claims::Entity::find().filter(claims::Column::Status.is_in(open)).all(&self.db).await?;
        for row in rows {
            let due = super::due_on(&row, calendar, &settings);
            if due != row.due_on {
                claims::Entity::update_many()
                    .col_expr(claims::Column::DueOn, Expr::value(due))
                    .filter(claims::Column::Id.eq(row.id))
                    .exec(&self.db)
                    .await?;
            }
        }
        Ok(())
    }
}

impl crate::handles::Claims<'_> {
    /// The calendar's text, as the city administrator edits it.
    pub async fn calendar_text_for(self, actor: &Actor) -> StoreResult<String> {
        self.require(actor, Permission::ViewClaims).await?;
        self.calendar_text().await
    }

    /// Replaces the calendar; refused with the line at fault when it does not read. Saving
    /// the same text again changes nothing but the audit log.
    pub async fn save_calendar(self, actor: &Actor, text: &str) -> StoreResult<()> {
        self.require(actor, Permission::EditWorkCalendar).await?;
        let calendar = WorkCalendar::parse(text).map_err(|e| StoreError::invalid(e.to_string()))?;
        let row = work_calendars::ActiveModel {
            id: Set(CITY_CALENDAR),
            body: Set(text.trim().to_owned()),
            updated_by: Set(actor.username().to_owned()),
            updated_at: Set(Utc::now()),
        };
        work_calendars::Entity::insert(row)
            .on_conflict(
                OnConflict::column(work_calendars::Column::Id)
                    .update_columns([
                        work_calendars::Column::Body,
                        work_calendars::Column::UpdatedBy,
                        work_calendars::Column::UpdatedAt,
                    ])
                    .to_owned(),
            )
            .exec_without_returning(&self.db)
            .await?;
        self.requeue_open_claims(&calendar).await?;
        self.audit(actor, AuditEvent::ok("calendar.edit", "工作日历", CITY_CALENDAR.to_string())).await
    }
}
