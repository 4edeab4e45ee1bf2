//! Claims in bulk, for the benchmark's city (`guanai bench --only claims`): the demo
//! reports its claims one by one through the pages' calls, a few thousand in all; a city
//! with six years of claims has about 300,000. These are written set-based: the insured
//! persons are sampled in one query, each claim's life (papers, the insurer's request, the
//! decision, payment, satisfaction) is drawn in memory on its own days with the same
//! clocks the store keeps (`due_on`), and the rows go in many a statement, in large
//! transactions. Also the insured persons without a claim, for reports over HTTP.
//!
//! The limits ledger (`claim_limits`) is left as it is: these claims are decided already,
//! and the shared limits they took matter only to new claims on the same policies.

use chrono::{Days, NaiveDate, TimeZone, Utc};
use guanai_domain::claims::{
    BankAccount, ClaimKind, ClaimStatus, ClockSettings, PaperChecklist, RefusalReason, ReportChannel,
};
use guanai_domain::workdays::WorkCalendar;
use guanai_domain::Fen;
use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use sea_orm::{
    ActiveValue::NotSet, ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder,
    QuerySelect, Statement, TransactionTrait,
};

use crate::entities::{claim_papers, claims};
use crate::policies::PolicyStatus;
use crate::{StoreError, StoreResult};

/// Claims a transaction writes; rows a statement (43 columns stay far below every
/// engine's limit of bound values).
const PER_TRANSACTION: usize = 20_000;
const PER_STATEMENT: usize = 500;

/// Of 10,000 insured person-years, the most a sample takes.
const SAMPLE_BASE: i64 = 10_000;

/// What a top-up did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClaimsTopUp {
    /// Claims there were before.
    pub before: u64,
    /// Claims written now (none when there were enough).
    pub added: u64,
    /// Of them, open ones past a due date.
    pub breached: u64,
}

/// An insured person-year a claim may be drawn for.
struct Insured {
    policy_id: i64,
    family_id: i64,
    village_code: String,
    start: NaiveDate,
    end: NaiveDate,
    person_id: i64,
    name: String,
}

fn plus(day: NaiveDate, days: u64) -> NaiveDate {
    day.checked_add_days(Days::new(days)).unwrap_or(day)
}

impl crate::handles::Claims<'_> {
    /// Brings the claims up to about `target`, reported from the first policies to
    /// yesterday (the store's clock): counties at different rates, every kind, most paid
    /// in time, some refused, some late, the last weeks' still open, and a few in every
    /// year left stalled (open and breached). Nothing when there are `target` already, so
    /// a second run adds nothing. Deterministic for a seed and a database.
    pub async fn top_up_for_bench(self, target: u64, seed: u64) -> StoreResult<ClaimsTopUp> {
        let before = claims::Entity::find().count(&self.db).await?;
        let mut done = ClaimsTopUp { before, added: 0, breached: 0 };
        if before >= target {
            return Ok(done);
        }
        let wanted = (target - before) as usize;
        let today = self.today();
        let backend = self.db.get_database_backend();
        let statement = |sql: &str| Statement::from_string(backend, sql.to_owned());
        let members = self
            .db
            .query_one(statement("SELECT COUNT(*) AS n FROM policy_members"))
            .await?
            .map(|row| row.try_get::<i64>("", "n"))
            .transpose()?
            .unwrap_or(0);
        // Sample about twice what is wanted: the counties' rates keep some of it.
        let take = (SAMPLE_BASE * 2 * wanted as i64 / members.max(1) + 1).min(SAMPLE_BASE);
        let sql = format!(
            "SELECT p.id AS policy_id, p.family_id, p.village_code, p.start_date, p.end_date, \
             m.person_id, s.name FROM policy_members m \
             JOIN policies p ON p.id = m.policy_id JOIN persons s ON s.id = m.person_id \
             WHERE p.status = '{}' AND p.start_date < '{today}' \
             AND (m.person_id * 31 + m.policy_id) % {SAMPLE_BASE} < {take} \
             AND NOT EXISTS (SELECT 1 FROM claims c WHERE c.person_id = m.person_id)",
            PolicyStatus::Underwritten.code()
        );
        let mut insured = Vec::new();
        for row in self.db.query_all(statement(&sql)).await? {
            insured.push(Insured {
                policy_id: row.try_get("", "policy_id")?,
                family_id: row.try_get("", "family_id")?,
                village_code: row.try_get("", "village_code")?,
                start: row.try_get("", "start_date")?,
                end: row.try_get("", "end_date")?,
                person_id: row.try_get("", "person_id")?,
                name: row.try_get("", "name")?,
            });
        }
        // In the order the database gave, then shuffled for a seed: the same claims for
        // the same database.
        insured.sort_by_key(|i| (i.policy_id, i.person_id));
        let mut rng = StdRng::seed_from_u64(seed ^ 0xB17C);
        insured.shuffle(&mut rng);
        // Counties claim at different rates (as the demo's do): loss ratios differ.
        insured.retain(|i| {
            let county = i.village_code.get(4..6).and_then(|c| c.parse::<u32>().ok()).unwrap_or(0);
            rng.gen_bool(0.6 + 0.1 * f64::from(county % 5))
        });
        insured.truncate(wanted);
        let (calendar, settings) = (self.work_calendar().await?, ClockSettings::default());
        let mut account = before as i64 * 1000;
        for chunk in insured.chunks(PER_TRANSACTION) {
            let mut rows = Vec::with_capacity(chunk.len());
            let mut papers = Vec::with_capacity(chunk.len());
            for one in chunk {
                account += 1;
                let Some((row, received)) = self.draw(&mut rng, one, today, &calendar, &settings, account)
                else {
                    continue;
                };
                if row.due_on.is_some_and(|due| due < today) {
                    done.breached += 1;
                }
                rows.push(row);
                papers.push(received);
            }
            let keys: Vec<(i64, NaiveDate, String)> =
                rows.iter().map(|r| (r.person_id, r.incident_date, r.kind.clone())).collect();
            let txn = self.db.begin().await?;
            let last = claims::Entity::find()
                .select_only()
                .column(claims::Column::Id)
                .order_by_desc(claims::Column::Id)
                .limit(1)
                .into_tuple::<i64>()
                .one(&txn)
                .await?
                .unwrap_or(0);
            let mut written = 0;
            for part in rows.chunks(PER_STATEMENT) {
                let models = part.iter().cloned().map(|row| {
                    let mut active: claims::ActiveModel = row.into();
                    active.id = NotSet;
                    active
                });
                claims::Entity::insert_many(models).exec_without_returning(&txn).await?;
                written += part.len();
            }
            // The new claims' ids, by incident, for their papers.
            let ids: std::collections::HashMap<(i64, NaiveDate, String), i64> = claims::Entity::find()
                .select_only()
                .column(claims::Column::PersonId)
                .column(claims::Column::IncidentDate)
                .column(claims::Column::Kind)
                .column(claims::Column::Id)
                .filter(claims::Column::Id.gt(last))
                .into_tuple::<(i64, NaiveDate, String, i64)>()
                .all(&txn)
                .await?
                .into_iter()
                .map(|(person, day, kind, id)| ((person, day, kind), id))
                .collect();
            let mut lines = Vec::new();
            for (key, received) in keys.iter().zip(papers) {
                let id = *ids
                    .get(key)
                    .ok_or_else(|| StoreError::Corrupt("a bulk claim was not written".into()))?;
                for (paper, on) in received {
                    lines.push(claim_papers::ActiveModel {
                        claim_id: sea_orm::Set(id),
                        paper: sea_orm::Set(paper.code().to_owned()),
                        received_on: sea_orm::Set(on),
                        recorded_by: sea_orm::Set(BULK_USER.to_owned()),
                    });
                }
            }
            for part in lines.chunks(PER_STATEMENT * 4) {
                claim_papers::Entity::insert_many(part.to_vec()).exec_without_returning(&txn).await?;
            }
            txn.commit().await?;
            done.added += written as u64;
        }
        self.refresh_statistics().await?;
        Ok(done)
    }

    /// Up to `limit` persons insured under an underwritten policy of `year` who have no
    /// claim yet, each with a day within their cover, before today, to report an accident
    /// on (the benchmark's reports over HTTP; each run finds others).
    pub async fn unclaimed_insured(self, year: i32, limit: u64) -> StoreResult<Vec<(i64, NaiveDate)>> {
        let today = self.today();
        let sql = format!(
            "SELECT m.person_id, p.start_date, p.end_date FROM policy_members m \
             JOIN policies p ON p.id = m.policy_id \
             WHERE p.year = {year} AND p.status = '{}' AND p.start_date < '{today}' \
             AND NOT EXISTS (SELECT 1 FROM claims c WHERE c.person_id = m.person_id) \
             ORDER BY m.person_id LIMIT {limit}",
            PolicyStatus::Underwritten.code()
        );
        let backend = self.db.get_database_backend();
        let mut found = Vec::new();
        for row in self.db.query_all(Statement::from_string(backend, sql)).await? {
            let start: NaiveDate = row.try_get("", "start_date")?;
            let end: NaiveDate = row.try_get("", "end_date")?;
            let day = today.pred_opt().unwrap_or(today).min(end).max(start);
            found.push((row.try_get("", "person_id")?, day));
        }
        Ok(found)
    }

    /// One claim's life as far as its days before `today` reach, and the papers received
    /// on the way; `None` when the cover began too recently.
    fn draw(
        &self,
        rng: &mut StdRng,
        one: &Insured,
        today: NaiveDate,
        calendar: &WorkCalendar,
        settings: &ClockSettings,
        account: i64,
    ) -> Option<(claims::Model, Vec<(guanai_domain::claims::Paper, NaiveDate)>)> {
        let last = one.end.min(today.pred_opt()?);
        let span = (last - one.start).num_days();
        if span < 1 {
            return None;
        }
        let incident = plus(one.start, rng.gen_range(0..span as u64));
        let reported = plus(incident, rng.gen_range(0..4)).min(today);
        let (kind, expenses, days, grade) = match rng.gen_range(0..100) {
            0..=54 => (ClaimKind::AccidentOutpatient, rng.gen_range(200..3_000), None, None),
            55..=84 => (ClaimKind::AccidentInpatient, rng.gen_range(2_000..20_000), None, None),
            85..=93 => (ClaimKind::HospitalAllowance, 0, Some(rng.gen_range(2..25)), None),
            94..=98 => (ClaimKind::AccidentalDisability, 0, None, Some(rng.gen_range(5..=10))),
            _ => (ClaimKind::AccidentalDeath, 0, None, None),
        };
        let expenses = (expenses > 0).then(|| Fen::from_yuan(expenses));
        let other_paid = expenses.filter(|_| rng.gen_bool(0.3)).map(|e| Fen::new(e.get() / 2));
        let claimed = expenses.unwrap_or(Fen::ZERO);
        // What the terms would give, roughly: 80 % of medical expenses past 100 元 and what
        // others paid; 100 元 a day; a share of 150,000 元 for three (disability by grade).
        let amount = match kind {
            ClaimKind::AccidentOutpatient | ClaimKind::AccidentInpatient => {
                let rest = claimed.get() - other_paid.map_or(0, Fen::get) - 10_000;
                rest.max(0) * 8 / 10
            }
            ClaimKind::HospitalAllowance => i64::from(days.unwrap_or(0)) * 10_000,
            ClaimKind::AccidentalDisability => 5_000_000 * i64::from(11 - grade.unwrap_or(10)) / 10,
            _ => 5_000_000,
        };
        let mut row = claims::Model {
            id: 0,
            policy_id: one.policy_id,
            family_id: one.family_id,
            person_id: one.person_id,
            village_code: one.village_code.clone(),
            kind: kind.code().to_owned(),
            incident_date: incident,
            place: ["村道", "自家院子", "田间", "集镇", "工地"][rng.gen_range(0..5)].to_owned(),
            description: ["骑电动车摔伤", "干农活被划伤", "雨天滑倒骨折", "被狗咬伤", "交通事故受伤"]
                [rng.gen_range(0..5)]
            .to_owned(),
            reported_on: reported,
            channel: if rng.gen_bool(0.7) { ReportChannel::Agent } else { ReportChannel::Association }
                .code()
                .to_owned(),
            reported_by: BULK_USER.to_owned(),
            status: ClaimStatus::Reported.code().to_owned(),
            claimed_fen: claimed.get(),
            fast_lane: settings.fast_lane(kind, claimed, true),
            expenses_fen: expenses.map(Fen::get),
            other_paid_fen: other_paid.map(Fen::get),
            days,
            grade,
            missing_papers: None,
            missing_told_on: None,
            papers_complete_on: None,
            decided_on: None,
            proposed_fen: None,
            approved_fen: None,
            override_reason: None,
            refusal_reasons: None,
            refusal_text: None,
            refusal_notified_on: None,
            advance_fen: 0,
            advance_paid_on: None,
            paid_on: None,
            paid_fen: None,
            payment_ref: None,
            beneficiary: None,
            bank_enc: None,
            bank_masked: None,
            satisfaction: None,
            satisfaction_comment: None,
            due_on: None,
            // The insurer has every claim but today's (the claims exchange's export).
            sent_on: (reported < today).then(|| plus(reported, 1).min(today)),
            created_at: Utc.from_utc_datetime(&reported.and_hms_opt(2, 0, 0)?),
        };
        let papers = PaperChecklist::default().required(kind).to_vec();
        let mut received: Vec<_> = papers[..2].iter().map(|p| (*p, reported)).collect();
        // A few claims in every year stall at some step and stay open: the breach list.
        let stall = if rng.gen_bool(0.004) { rng.gen_range(1..=4) } else { 0 };
        let finish = |mut row: claims::Model, received| {
            row.due_on = super::due_on(&row, calendar, settings);
            Some((row, received))
        };
        // The insurer asks for the rest: usually the next day, sometimes late.
        let asked = plus(reported, if rng.gen_bool(0.9) { rng.gen_range(0..2) } else { rng.gen_range(3..8) });
        if asked > today || stall == 1 {
            return finish(row, received);
        }
        row.status = ClaimStatus::PapersPending.code().to_owned();
        row.missing_papers = Some(super::join_codes(&papers[2..]));
        row.missing_told_on = Some(asked);
        let complete = plus(asked, rng.gen_range(1..12));
        if complete > today || stall == 2 {
            return finish(row, received);
        }
        received.extend(papers[2..].iter().map(|p| (*p, complete)));
        row.status = ClaimStatus::UnderReview.code().to_owned();
        row.papers_complete_on = Some(complete);
        let decided =
            plus(complete, if rng.gen_bool(0.93) { rng.gen_range(1..20) } else { rng.gen_range(31..50) });
        if decided > today || stall == 3 {
            return finish(row, received);
        }
        row.decided_on = Some(decided);
        if rng.gen_bool(0.08) {
            row.status = ClaimStatus::Refused.code().to_owned();
            row.refusal_reasons = Some(super::join_codes(&[RefusalReason::NotAccident]));
            row.refusal_text = Some("经调查，事故不属于意外伤害保险责任".to_owned());
            let told = plus(decided, rng.gen_range(0..3));
            row.refusal_notified_on = (told <= today).then_some(told);
            return finish(row, received);
        }
        row.status = ClaimStatus::Approved.code().to_owned();
        row.proposed_fen = Some(amount);
        row.approved_fen = Some(amount);
        let paid =
            plus(decided, if rng.gen_bool(0.95) { rng.gen_range(1..8) } else { rng.gen_range(11..20) });
        if paid > today || stall == 4 {
            return finish(row, received);
        }
        let bank = BankAccount::parse(&format!("62220212{:011}", account % 100_000_000_000)).ok()?;
        row.status = ClaimStatus::Paid.code().to_owned();
        row.paid_on = Some(paid);
        row.paid_fen = Some(amount);
        row.payment_ref = Some(format!("ZF{}{account:08}", paid.format("%Y%m%d")));
        row.beneficiary = Some(one.name.clone());
        row.bank_enc = Some(self.keys.seal(bank.as_str()));
        row.bank_masked = Some(bank.masked());
        if rng.gen_bool(0.6) {
            row.status = ClaimStatus::Closed.code().to_owned();
            row.satisfaction = Some(if rng.gen_bool(0.8) { 5 } else { rng.gen_range(3..5) });
        }
        finish(row, received)
    }
}

/// Who the bulk claims name as having reported them and recorded their papers.
const BULK_USER: &str = "bench";
