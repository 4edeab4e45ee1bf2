//! One source's ledger, with the forms that add a subsidy rule and record money received.

use std::collections::HashMap;

use crate::format::TagColor;
use askama::Template;
use axum::extract::{Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;
use guanai_domain::families::FamilyCategory;
use guanai_domain::funding::{RuleScope, SubsidyAmount};
use guanai_domain::regions::short_region_name;
use guanai_domain::{Permission, PovertyStatus, RegionCode};
use guanai_store::funding::{Ledger, NewRule, Rule, Source};
use guanai_store::sessions::Session;
use serde::Deserialize;

use super::{category_name, names_of, POVERTY_CHOICES};
use crate::error::WebError;
use crate::pages::form::{form_error, render_form};
use crate::pages::{require, Crumb, Shell};
use crate::requests::forms::{self, optional_category, optional_poverty, percent_bp};
use crate::requests::ids::{FundingSource, PathId};
use crate::session::PageUser;
use crate::state::AppState;

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
    /// Regions below the source's that may spend it (gifting): (code, name).
    grants: Vec<(String, String)>,
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
    fn blank(gifted: Option<usize>, today: chrono::NaiveDate) -> Self {
        LedgerForms {
            gifted,
            rule_form: RuleForm { priority: "100".to_owned(), ..Default::default() },
            rule_error: None,
            receipt_form: ReceiptForm {
                received_on: today.format("%Y-%m-%d").to_string(),
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
    let ledger = state.store.funding().ledger(&session.actor, id).await?;
    let grants = state.store.funding().source_grants(&session.actor, id).await?;
    let packages: Vec<(i64, String)> = state
        .store
        .products()
        .packages(Some(ledger.source.year))
        .await?
        .into_iter()
        .map(|p| (p.id, format!("{}（{}）", p.name, p.code)))
        .collect();
    let mut codes: Vec<&str> = vec![ledger.source.region_code.as_str()];
    codes.extend(ledger.rules.iter().filter_map(|r| r.scope.region.as_ref().map(RegionCode::as_str)));
    codes.extend(ledger.lines.iter().map(|l| l.village_code.as_str()));
    codes.extend(grants.iter().map(|g| g.region_code.as_str()));
    let names = names_of(state, &codes).await?;
    let grants = grants
        .iter()
        .map(|g| {
            let name = names.get(&g.region_code).cloned().unwrap_or_else(|| g.region_code.clone());
            (g.region_code.clone(), name)
        })
        .collect();
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
            status: line.status.label(),
            color: line.status.color(),
            amount: line.amount,
        })
        .collect();
    let region_name =
        names.get(&ledger.source.region_code).cloned().unwrap_or_else(|| ledger.source.region_code.clone());
    let trail = vec![Crumb::link("资金来源", "/funding"), Crumb::here(ledger.source.name.clone())];
    let shell = Shell::new(state, session, &ledger.source.name, "/funding", trail).await?;
    let failed = forms.rule_error.is_some() || forms.receipt_error.is_some();
    render_form(
        &LedgerPage {
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
            grants,
            ledger,
        },
        failed,
    )
}

/// One source's ledger: totals, rules, receipts and the policies it pays for.
pub async fn ledger(
    State(state): State<AppState>,
    user: PageUser,
    PathId { id, .. }: PathId<FundingSource>,
    Query(query): Query<LedgerQuery>,
) -> Result<Response, WebError> {
    require(&state, &user.session, Permission::ViewFunding, "/funding").await?;
    ledger_page(&state, &user.session, id, LedgerForms::blank(query.gifted.parse().ok(), state.today())).await
}

impl RuleForm {
    async fn parse(&self, state: &AppState, source: &Source) -> Result<NewRule, String> {
        let priority = forms::number("优先级", &self.priority, 0, 9999)?;
        let region = forms::optional_region("适用区域", &self.region)?;
        if let Some(region) = &region {
            if !state
                .store
                .regions()
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
                    .products()
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
                poverty: optional_poverty("帮扶类别", &self.poverty)?,
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
    PathId { id, .. }: PathId<FundingSource>,
    Form(form): Form<RuleForm>,
) -> Result<Response, WebError> {
    require(&state, &user.session, Permission::ManageFunding, "/funding/rules").await?;
    let actor = &user.session.actor;
    let source = state.store.funding().ledger(actor, id).await?.source;
    let result = if may_manage(&user.session, &source) {
        match form.parse(&state, &source).await {
            Ok(new) => state.store.funding().create_rule(actor, new).await.map(|_| ()).map_err(form_error),
            Err(message) => Err(Ok(message)),
        }
    } else {
        Err(Ok("只能为本辖区的资金来源设置资助规则".to_owned()))
    };
    match result {
        Ok(()) => Ok(Redirect::to(&format!("/funding/{id}#rules")).into_response()),
        Err(message) => {
            let forms = LedgerForms {
                rule_form: form,
                rule_error: Some(message?),
                ..LedgerForms::blank(None, state.today())
            };
            ledger_page(&state, &user.session, id, forms).await
        }
    }
}

/// Records money the funder transferred.
pub async fn add_receipt(
    State(state): State<AppState>,
    user: PageUser,
    PathId { id, .. }: PathId<FundingSource>,
    Form(form): Form<ReceiptForm>,
) -> Result<Response, WebError> {
    require(&state, &user.session, Permission::ManageFunding, "/funding/receipts").await?;
    let actor = &user.session.actor;
    let source = state.store.funding().ledger(actor, id).await?.source;
    let parsed = if may_manage(&user.session, &source) {
        forms::money("到账金额", &form.amount)
            .and_then(|amount| Ok((amount, forms::date("到账日期", &form.received_on)?)))
    } else {
        Err("只能为本辖区的资金来源登记到账".to_owned())
    };
    let result = match parsed {
        Ok((amount, on)) => {
            if on > state.today() {
                Err(Ok("到账日期不能晚于今天".to_owned()))
            } else {
                state
                    .store
                    .funding()
                    .record_receipt(actor, id, amount, on, &form.note)
                    .await
                    .map_err(form_error)
            }
        }
        Err(message) => Err(Ok(message)),
    };
    match result {
        Ok(()) => Ok(Redirect::to(&format!("/funding/{id}#receipts")).into_response()),
        Err(message) => {
            let forms = LedgerForms {
                receipt_form: form,
                receipt_error: Some(message?),
                ..LedgerForms::blank(None, state.today())
            };
            ledger_page(&state, &user.session, id, forms).await
        }
    }
}
