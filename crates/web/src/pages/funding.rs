//! Funding sources ("几个一点"), their subsidy rules, receipts and ledgers: the list of a
//! year's sources, registering a source, and one source's ledger with the forms that add
//! a rule and record money received.

use std::collections::HashMap;

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Form, Router};
use chrono::{Datelike, NaiveDate};
use guanai_domain::families::FamilyCategory;
use guanai_domain::funding::{FundingKind, RuleScope, SubsidyAmount};
use guanai_domain::regions::short_region_name;
use guanai_domain::{Permission, PovertyStatus, RegionCode, Uscc};
use guanai_store::funding::{Ledger, NewRule, NewSource, Rule, Source};
use guanai_store::sessions::Session;
use guanai_store::StoreError;
use serde::Deserialize;

use crate::error::WebError;
use crate::format::china;
use crate::pages::{forms, render, require, Crumb, Shell};
use crate::session::PageUser;
use crate::state::AppState;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/funding", get(list).post(create))
        .route("/funding/new", get(new_form))
        .route("/funding/{id}", get(ledger))
        .route("/funding/{id}/rules", post(add_rule))
        .route("/funding/{id}/receipts", post(add_receipt))
}

// ---- shared by the funding, product and gifting pages -------------------------------

/// Today's date in China.
pub(crate) fn china_today() -> NaiveDate {
    chrono::Utc::now().with_timezone(&china()).date_naive()
}

/// The current scheme year (China time), the default of every year filter.
pub(crate) fn this_year() -> i32 {
    china_today().year()
}

/// The years a year filter offers: next year back to 2021, when the programme's records
/// start.
pub(crate) fn year_choices() -> Vec<i32> {
    (2021..=this_year() + 1).rev().collect()
}

/// A year from a filter or form; empty means the current year.
pub(crate) fn year_or_current(raw: &str) -> Result<i32, String> {
    if raw.trim().is_empty() {
        Ok(this_year())
    } else {
        forms::number("年度", raw, 2000, 2100)
    }
}

/// The message a form shows again for a store refusal the user can act on; anything else
/// (a database failure, "not found") stays an error page.
pub(crate) fn refusal(err: StoreError) -> Result<String, WebError> {
    match WebError::from(err) {
        WebError::BadRequest(m) | WebError::Conflict(m) | WebError::Forbidden(m) => Ok(m),
        other => Err(other),
    }
}

/// A rendered page with another status (a form shown again with its error).
pub(crate) fn with_status(mut response: Response, status: StatusCode) -> Response {
    *response.status_mut() = status;
    response
}

/// A percentage with at most two decimals (`50`, `33.33`, `12.5%`) as basis points
/// (5000, 3333, 1250), exactly: no floating point.
pub(crate) fn percent_bp(label: &str, raw: &str) -> Result<u32, String> {
    let shown = raw.trim();
    let text = shown.trim_end_matches(['%', '％']).trim();
    if text.is_empty() {
        return Err(format!("请填写{label}"));
    }
    let bad = || format!("{label}“{shown}”不是有效的百分比，请填写如 50 或 33.33");
    let (whole, fraction) = match text.split_once('.') {
        Some((_, "")) => return Err(bad()),
        Some((whole, fraction)) => (whole, fraction),
        None => (text, ""),
    };
    let digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
    if whole.is_empty() || whole.len() > 3 || !digits(whole) || !digits(fraction) {
        return Err(bad());
    }
    if fraction.len() > 2 {
        return Err(format!("{label}最多保留两位小数"));
    }
    let whole: u32 = whole.parse().map_err(|_| bad())?;
    let hundredths: u32 = format!("{fraction:0<2}").parse().map_err(|_| bad())?;
    let bp = whole * 100 + hundredths;
    if bp == 0 || bp > 10_000 {
        return Err(format!("{label}须在0.01%到100%之间"));
    }
    Ok(bp)
}

/// The name users read for a family category code.
pub(crate) fn category_name(code: &str) -> String {
    FamilyCategory::DEFAULTS
        .iter()
        .find(|(c, _)| *c == code)
        .map(|(_, name)| (*name).to_owned())
        .unwrap_or_else(|| code.to_owned())
}

/// A family category from a select: empty is "any".
pub(crate) fn optional_category(raw: &str) -> Result<Option<String>, String> {
    match raw.trim() {
        "" => Ok(None),
        code if FamilyCategory::DEFAULTS.iter().any(|(c, _)| *c == code) => Ok(Some(code.to_owned())),
        other => Err(format!("未知的家庭类型“{other}”")),
    }
}

/// A poverty status from a select: empty is "any".
pub(crate) fn optional_poverty(raw: &str) -> Result<Option<PovertyStatus>, String> {
    match raw.trim() {
        "" => Ok(None),
        other => PovertyStatus::parse(other).map(Some).ok_or_else(|| format!("未知的帮扶类别“{other}”")),
    }
}

/// The poverty statuses a rule or a gift may select (not "none").
pub(crate) const POVERTY_CHOICES: [PovertyStatus; 3] =
    [PovertyStatus::Lifted, PovertyStatus::Monitored, PovertyStatus::Dibao];

/// A policy status as the ledger shows it.
fn status_label(status: &str) -> &'static str {
    match status {
        "draft" => "草稿",
        "submitted" => "待承保",
        "underwritten" => "已承保",
        "cancelled" => "已撤销",
        _ => "未知",
    }
}

fn status_color(status: &str) -> &'static str {
    match status {
        "underwritten" => "green",
        "submitted" => "orange",
        "cancelled" => "red",
        _ => "",
    }
}

/// The kinds a source may be registered as: the family's own part is computed, not a
/// source.
fn source_kinds() -> Vec<FundingKind> {
    FundingKind::ALL.into_iter().filter(|k| *k != FundingKind::Family).collect()
}

async fn names_of(state: &AppState, codes: &[&str]) -> Result<HashMap<String, String>, WebError> {
    Ok(state.store.region_names(codes).await?)
}

// ---- the list ------------------------------------------------------------------------

#[derive(Deserialize, Default)]
pub struct YearFilter {
    #[serde(default)]
    year: String,
}

#[derive(Template)]
#[template(path = "funding.html")]
struct FundingPage {
    shell: Shell,
    year: i32,
    years: Vec<i32>,
    sources: Vec<Source>,
    region_names: HashMap<String, String>,
    can_manage: bool,
}

impl FundingPage {
    fn region_name<'a>(&'a self, code: &'a str) -> &'a str {
        self.region_names.get(code).map(String::as_str).unwrap_or(code)
    }
}

/// The sources of one year visible to the user, with their ledger totals.
pub async fn list(
    State(state): State<AppState>,
    user: PageUser,
    Query(filter): Query<YearFilter>,
) -> Result<Response, WebError> {
    require(&state, &user.session, Permission::ViewFunding, "/funding").await?;
    let actor = &user.session.actor;
    let year = year_or_current(&filter.year).map_err(WebError::BadRequest)?;
    let sources = state.store.sources(actor, Some(year)).await?;
    let codes: Vec<&str> = sources.iter().map(|s| s.region_code.as_str()).collect();
    let region_names = names_of(&state, &codes).await?;
    let shell =
        Shell::new(&state, &user.session, "资金来源", "/funding", vec![Crumb::here("资金来源")]).await?;
    render(&FundingPage {
        shell,
        year,
        years: year_choices(),
        sources,
        region_names,
        can_manage: actor.can(Permission::ManageFunding),
    })
}

// ---- a new source --------------------------------------------------------------------

/// The values of the new-source form, kept to show again after an error.
#[derive(Deserialize, Default)]
pub struct SourceForm {
    #[serde(default)]
    name: String,
    #[serde(default)]
    kind: String,
    #[serde(default)]
    payer: String,
    #[serde(default)]
    uscc: String,
    #[serde(default)]
    year: String,
    #[serde(default)]
    region: String,
    #[serde(default)]
    pledged: String,
}

impl SourceForm {
    fn parse(&self) -> Result<NewSource, String> {
        let kind = FundingKind::parse(&self.kind)
            .filter(|k| *k != FundingKind::Family)
            .ok_or_else(|| "请选择资金类型".to_owned())?;
        let uscc = match self.uscc.trim() {
            "" => None,
            raw => Some(Uscc::parse(raw).map_err(|e| e.to_string())?),
        };
        Ok(NewSource {
            name: self.name.clone(),
            kind,
            payer: self.payer.clone(),
            uscc,
            year: forms::number("年度", &self.year, 2000, 2100)?,
            region: forms::region("区域", &self.region)?,
            pledged: forms::money("认捐（预算）金额", &self.pledged)?,
        })
    }
}

#[derive(Template)]
#[template(path = "funding_new.html")]
struct NewSourcePage {
    shell: Shell,
    form: SourceForm,
    kinds: Vec<FundingKind>,
    error: Option<String>,
}

async fn new_source_page(
    state: &AppState,
    session: &Session,
    form: SourceForm,
    error: Option<String>,
) -> Result<Response, WebError> {
    let trail = vec![Crumb::link("资金来源", "/funding"), Crumb::here("新增资金来源")];
    let shell = Shell::new(state, session, "新增资金来源", "/funding", trail).await?;
    let status = if error.is_some() { StatusCode::BAD_REQUEST } else { StatusCode::OK };
    let response = render(&NewSourcePage { shell, form, kinds: source_kinds(), error })?;
    Ok(with_status(response, status))
}

/// The form registering a funding source; the region defaults to the user's own.
pub async fn new_form(State(state): State<AppState>, user: PageUser) -> Result<Response, WebError> {
    require(&state, &user.session, Permission::ManageFunding, "/funding/new").await?;
    let form = SourceForm {
        year: this_year().to_string(),
        region: user.session.actor.scope().to_string(),
        ..Default::default()
    };
    new_source_page(&state, &user.session, form, None).await
}

/// Registers a funding source within the user's scope.
pub async fn create(
    State(state): State<AppState>,
    user: PageUser,
    Form(form): Form<SourceForm>,
) -> Result<Response, WebError> {
    require(&state, &user.session, Permission::ManageFunding, "/funding/new").await?;
    let new = match form.parse() {
        Ok(new) => new,
        Err(message) => return new_source_page(&state, &user.session, form, Some(message)).await,
    };
    match state.store.create_source(&user.session.actor, new).await {
        Ok(id) => Ok(Redirect::to(&format!("/funding/{id}")).into_response()),
        Err(err) => new_source_page(&state, &user.session, form, Some(refusal(err)?)).await,
    }
}

// ---- the ledger ----------------------------------------------------------------------

#[derive(Deserialize, Default)]
pub struct LedgerQuery {
    /// Set after a gift: how many policies were created.
    #[serde(default)]
    gifted: String,
}

/// The values of the new-rule form.
#[derive(Deserialize, Default)]
pub struct RuleForm {
    #[serde(default)]
    name: String,
    #[serde(default)]
    priority: String,
    #[serde(default)]
    region: String,
    #[serde(default)]
    category: String,
    #[serde(default)]
    poverty: String,
    #[serde(default)]
    package: String,
    #[serde(default)]
    amount_kind: String,
    #[serde(default)]
    amount_value: String,
}

/// The values of the receipt form.
#[derive(Deserialize, Default)]
pub struct ReceiptForm {
    #[serde(default)]
    amount: String,
    #[serde(default)]
    received_on: String,
    #[serde(default)]
    note: String,
}

struct RuleRow {
    rule: Rule,
    scope: String,
    amount: String,
}

struct LineRow {
    policy_id: i64,
    village: String,
    status: &'static str,
    color: &'static str,
    amount: guanai_domain::Fen,
}

#[derive(Template)]
#[template(path = "funding_ledger.html")]
struct LedgerPage {
    shell: Shell,
    ledger: Ledger,
    kind_label: &'static str,
    region_name: String,
    rules: Vec<RuleRow>,
    lines: Vec<LineRow>,
    gifted: Option<usize>,
    can_manage: bool,
    packages: Vec<(i64, String)>,
    categories: &'static [(&'static str, &'static str)],
    poverty_choices: [PovertyStatus; 3],
    rule_form: RuleForm,
    rule_error: Option<String>,
    receipt_form: ReceiptForm,
    receipt_error: Option<String>,
}

/// What a rule's scope selects, in words.
fn describe_scope(
    scope: &RuleScope,
    region_names: &HashMap<String, String>,
    packages: &[(i64, String)],
) -> String {
    let mut parts = Vec::new();
    if let Some(region) = &scope.region {
        let name = region_names.get(region.as_str()).cloned().unwrap_or_else(|| region.to_string());
        parts.push(format!("区域：{name}"));
    }
    if let Some(category) = &scope.category {
        parts.push(format!("家庭类型：{}", category_name(category)));
    }
    if let Some(poverty) = scope.poverty {
        parts.push(poverty.label().to_owned());
    }
    if let Some(id) = scope.package_id {
        let name = packages
            .iter()
            .find(|(p, _)| *p == id)
            .map(|(_, n)| n.clone())
            .unwrap_or_else(|| format!("方案 {id}"));
        parts.push(format!("方案：{name}"));
    }
    if parts.is_empty() {
        "全部家庭".to_owned()
    } else {
        parts.join("；")
    }
}

/// Whether the user may change this source: manage funding, and the source is the
/// user's own region or below (a county sees the city's fund but does not run it).
fn may_manage(session: &Session, source: &Source) -> bool {
    session.actor.can(Permission::ManageFunding)
        && RegionCode::parse(&source.region_code).is_ok_and(|r| session.actor.sees(&r))
}

struct LedgerForms {
    gifted: Option<usize>,
    rule_form: RuleForm,
    rule_error: Option<String>,
    receipt_form: ReceiptForm,
    receipt_error: Option<String>,
}

impl LedgerForms {
    fn blank(gifted: Option<usize>) -> Self {
        LedgerForms {
            gifted,
            rule_form: RuleForm { priority: "100".to_owned(), ..Default::default() },
            rule_error: None,
            receipt_form: ReceiptForm {
                received_on: china_today().format("%Y-%m-%d").to_string(),
                ..Default::default()
            },
            receipt_error: None,
        }
    }
}

async fn ledger_page(
    state: &AppState,
    session: &Session,
    id: i64,
    forms: LedgerForms,
) -> Result<Response, WebError> {
    let ledger = state.store.ledger(&session.actor, id).await?;
    let packages: Vec<(i64, String)> = state
        .store
        .packages(Some(ledger.source.year))
        .await?
        .into_iter()
        .map(|p| (p.id, format!("{}（{}）", p.name, p.code)))
        .collect();
    let mut codes: Vec<&str> = vec![ledger.source.region_code.as_str()];
    codes.extend(ledger.rules.iter().filter_map(|r| r.scope.region.as_ref().map(RegionCode::as_str)));
    codes.extend(ledger.lines.iter().map(|l| l.village_code.as_str()));
    let names = names_of(state, &codes).await?;
    let rules = ledger
        .rules
        .iter()
        .map(|rule| RuleRow {
            scope: describe_scope(&rule.scope, &names, &packages),
            amount: rule.amount.describe(),
            rule: rule.clone(),
        })
        .collect();
    let lines = ledger
        .lines
        .iter()
        .map(|line| LineRow {
            policy_id: line.policy_id,
            village: names
                .get(&line.village_code)
                .map(|n| short_region_name(n))
                .unwrap_or_else(|| line.village_code.clone()),
            status: status_label(&line.status),
            color: status_color(&line.status),
            amount: line.amount,
        })
        .collect();
    let region_name =
        names.get(&ledger.source.region_code).cloned().unwrap_or_else(|| ledger.source.region_code.clone());
    let trail = vec![Crumb::link("资金来源", "/funding"), Crumb::here(ledger.source.name.clone())];
    let shell = Shell::new(state, session, &ledger.source.name, "/funding", trail).await?;
    let failed = forms.rule_error.is_some() || forms.receipt_error.is_some();
    let response = render(&LedgerPage {
        shell,
        kind_label: ledger.source.kind.label(),
        can_manage: may_manage(session, &ledger.source),
        region_name,
        rules,
        lines,
        gifted: forms.gifted,
        packages,
        categories: &FamilyCategory::DEFAULTS,
        poverty_choices: POVERTY_CHOICES,
        rule_form: forms.rule_form,
        rule_error: forms.rule_error,
        receipt_form: forms.receipt_form,
        receipt_error: forms.receipt_error,
        ledger,
    })?;
    Ok(with_status(response, if failed { StatusCode::BAD_REQUEST } else { StatusCode::OK }))
}

fn source_id(raw: &str) -> Result<i64, WebError> {
    raw.parse().map_err(|_| WebError::NotFound(format!("找不到资金来源“{raw}”")))
}

/// One source's ledger: totals, rules, receipts and the policies it pays for.
pub async fn ledger(
    State(state): State<AppState>,
    user: PageUser,
    Path(id): Path<String>,
    Query(query): Query<LedgerQuery>,
) -> Result<Response, WebError> {
    require(&state, &user.session, Permission::ViewFunding, "/funding").await?;
    let id = source_id(&id)?;
    ledger_page(&state, &user.session, id, LedgerForms::blank(query.gifted.parse().ok())).await
}

impl RuleForm {
    async fn parse(&self, state: &AppState, source: &Source) -> Result<NewRule, String> {
        let priority = forms::number("优先级", &self.priority, 0, 9999)?;
        let region = forms::optional_region("适用区域", &self.region)?;
        if let Some(region) = &region {
            if !state
                .store
                .region_exists(region)
                .await
                .map_err(|_| "暂时无法核对区划，请稍后重试".to_owned())?
            {
                return Err(format!("区划代码“{region}”不存在"));
            }
        }
        let package_id = match self.package.trim() {
            "" => None,
            raw => {
                let id: i64 = raw.parse().map_err(|_| "请选择保障方案".to_owned())?;
                let of_year = state
                    .store
                    .packages(Some(source.year))
                    .await
                    .map_err(|_| "暂时无法核对保障方案，请稍后重试".to_owned())?;
                if !of_year.iter().any(|p| p.id == id) {
                    return Err(format!("请选择{}年度的保障方案", source.year));
                }
                Some(id)
            }
        };
        let amount = match self.amount_kind.as_str() {
            "per_household" | "per_person" => {
                let fen = forms::money("资助金额", &self.amount_value)?;
                if fen.get() <= 0 {
                    return Err("资助金额须大于0".to_owned());
                }
                if self.amount_kind == "per_household" {
                    SubsidyAmount::PerHousehold(fen)
                } else {
                    SubsidyAmount::PerPerson(fen)
                }
            }
            "share" => SubsidyAmount::Share(percent_bp("资助比例", &self.amount_value)?),
            "all" => SubsidyAmount::All,
            _ => return Err("请选择资助方式".to_owned()),
        };
        Ok(NewRule {
            source_id: source.id,
            name: self.name.clone(),
            priority,
            scope: RuleScope {
                region,
                category: optional_category(&self.category)?,
                poverty: optional_poverty(&self.poverty)?,
                package_id,
            },
            amount,
        })
    }
}

/// Adds a subsidy rule to the source.
pub async fn add_rule(
    State(state): State<AppState>,
    user: PageUser,
    Path(id): Path<String>,
    Form(form): Form<RuleForm>,
) -> Result<Response, WebError> {
    require(&state, &user.session, Permission::ManageFunding, "/funding/rules").await?;
    let id = source_id(&id)?;
    let actor = &user.session.actor;
    let source = state.store.ledger(actor, id).await?.source;
    let result = if may_manage(&user.session, &source) {
        match form.parse(&state, &source).await {
            Ok(new) => state.store.create_rule(actor, new).await.map(|_| ()).map_err(refusal),
            Err(message) => Err(Ok(message)),
        }
    } else {
        Err(Ok("只能为本辖区的资金来源设置资助规则".to_owned()))
    };
    match result {
        Ok(()) => Ok(Redirect::to(&format!("/funding/{id}#rules")).into_response()),
        Err(message) => {
            let forms =
                LedgerForms { rule_form: form, rule_error: Some(message?), ..LedgerForms::blank(None) };
            ledger_page(&state, &user.session, id, forms).await
        }
    }
}

/// Records money the funder transferred.
pub async fn add_receipt(
    State(state): State<AppState>,
    user: PageUser,
    Path(id): Path<String>,
    Form(form): Form<ReceiptForm>,
) -> Result<Response, WebError> {
    require(&state, &user.session, Permission::ManageFunding, "/funding/receipts").await?;
    let id = source_id(&id)?;
    let actor = &user.session.actor;
    let source = state.store.ledger(actor, id).await?.source;
    let parsed = if may_manage(&user.session, &source) {
        forms::money("到账金额", &form.amount)
            .and_then(|amount| Ok((amount, forms::date("到账日期", &form.received_on)?)))
    } else {
        Err("只能为本辖区的资金来源登记到账".to_owned())
    };
    let result = match parsed {
        Ok((amount, on)) => {
            if on > china_today() {
                Err(Ok("到账日期不能晚于今天".to_owned()))
            } else {
                state.store.record_receipt(actor, id, amount, on, &form.note).await.map_err(refusal)
            }
        }
        Err(message) => Err(Ok(message)),
    };
    match result {
        Ok(()) => Ok(Redirect::to(&format!("/funding/{id}#receipts")).into_response()),
        Err(message) => {
            let forms =
                LedgerForms { receipt_form: form, receipt_error: Some(message?), ..LedgerForms::blank(None) };
            ledger_page(&state, &user.session, id, forms).await
        }
    }
}

#[cfg(test)]
mod tests {
    use super::percent_bp;

    #[test]
    fn percentages_become_exact_basis_points() {
        assert_eq!(percent_bp("比例", "33.33"), Ok(3333));
        assert_eq!(percent_bp("比例", "50"), Ok(5000));
        assert_eq!(percent_bp("比例", " 12.5% "), Ok(1250));
        assert_eq!(percent_bp("比例", "100"), Ok(10_000));
        assert_eq!(percent_bp("比例", "0.01"), Ok(1));
        assert!(percent_bp("比例", "100.01").unwrap_err().contains("0.01%到100%"));
        assert!(percent_bp("比例", "0").is_err());
        assert!(percent_bp("比例", "33.333").unwrap_err().contains("两位小数"));
        for bad in ["abc", "1.", ".5", "-5", "1e2", "5 0"] {
            assert!(percent_bp("比例", bad).is_err(), "{bad}");
        }
        assert_eq!(percent_bp("比例", ""), Err("请填写比例".to_owned()));
    }
}
