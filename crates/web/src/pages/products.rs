//! Products (险种) and "1+N" packages: the catalogue every role that enrols reads, and the
//! city administrator's forms defining a product and composing a package.

use std::collections::HashMap;

use askama::Template;
use axum::extract::State;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use axum::{Form, Router};
use guanai_domain::products::{prose_date, CoverItem, LatePremium, LateStart, PremiumBasis, ProductTerms};
use guanai_domain::{Fen, Permission};
use guanai_store::orgs::{Org, OrgKind};
use guanai_store::products::{NewPackage, NewProduct, Package, Product, ProductKind};
use guanai_store::sessions::Session;

use crate::error::WebError;
use crate::pages::form::{form_error, render_form};
use crate::pages::{render, require, Crumb, Shell};
use crate::requests::forms::{self, this_year};
use crate::session::PageUser;
use crate::state::AppState;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/products", get(list).post(create_product))
        .route("/products/new", get(new_product))
        .route("/packages", axum::routing::post(create_package))
        .route("/packages/new", get(new_package))
}

/// How many cover-item rows the product form offers.
const ITEM_ROWS: usize = 3;

/// A product's terms in words, for the tables.
struct ProductRow {
    product: Product,
    premium: String,
    shares: String,
    members: String,
    ages: String,
    period: String,
    items: Vec<String>,
}

fn product_row(product: Product) -> ProductRow {
    let t = &product.terms;
    ProductRow {
        premium: format!("{}（{}）", t.premium, t.basis.label()),
        shares: if t.min_shares == t.max_shares {
            format!("{} 份", t.min_shares)
        } else {
            format!("{}–{} 份", t.min_shares, t.max_shares)
        },
        members: if t.max_members == 0 { "不限".to_owned() } else { format!("{} 人", t.max_members) },
        ages: format!("初保 {}–{} 周岁，续保至 {} 周岁", t.first_age_min, t.first_age_max, t.renewal_age_max),
        period: format!(
            "{} 起，{} 个月；{}{}，{}",
            t.start_date.format("%Y-%m-%d"),
            t.term_months,
            t.sales_end.map(|d| format!("销售至 {}，", d.format("%Y-%m-%d"))).unwrap_or_default(),
            t.late_start.label(),
            t.late_premium.label()
        ),
        items: t.items.iter().map(CoverItem::describe).collect(),
        product,
    }
}

/// What one share of a package costs: the household part and the per-person part.
fn package_premium(package: &Package) -> String {
    let mut household = Some(Fen::ZERO);
    let mut person = Some(Fen::ZERO);
    for product in package.products() {
        let part = match product.terms.basis {
            PremiumBasis::PerHouseholdShare => &mut household,
            PremiumBasis::PerPerson => &mut person,
        };
        *part = part.and_then(|sum| sum.checked_add(product.terms.premium));
    }
    match (household, person) {
        (Some(h), Some(p)) if p == Fen::ZERO => format!("每户 {h}"),
        (Some(h), Some(p)) if h == Fen::ZERO => format!("每人 {p}"),
        (Some(h), Some(p)) => format!("每户 {h} + 每人 {p}"),
        _ => "金额过大".to_owned(),
    }
}

struct PackageRow {
    package: Package,
    premium: String,
    /// The start date as prose: `2026年9月1日`.
    start: String,
}

#[derive(Template)]
#[template(path = "products.html")]
struct ProductsPage {
    shell: Shell,
    packages: Vec<PackageRow>,
    products: Vec<ProductRow>,
    can_manage: bool,
}

/// Packages of each year with their products and premium, then every product's terms.
pub async fn list(State(state): State<AppState>, user: PageUser) -> Result<Response, WebError> {
    require(&state, &user.session, Permission::ViewFamilies, "/products").await?;
    let packages = state
        .store
        .products()
        .packages(None)
        .await?
        .into_iter()
        .map(|package| PackageRow {
            premium: package_premium(&package),
            start: prose_date(package.base.terms.start_date),
            package,
        })
        .collect();
    let products = state.store.products().products(None).await?.into_iter().map(product_row).collect();
    let shell =
        Shell::new(&state, &user.session, "险种与方案", "/products", vec![Crumb::here("险种与方案")]).await?;
    render(&ProductsPage {
        shell,
        packages,
        products,
        can_manage: user.session.actor.can(Permission::ManageProducts),
    })
}

// ---- a new product -------------------------------------------------------------------

/// One cover-item row of the product form. `amount` is the family sum, the family limit,
/// the amount per day or the disease sum, by kind; `days` the most days or the waiting
/// period.
#[derive(Default, Clone)]
struct ItemRow {
    kind: String,
    amount: String,
    deductible: String,
    percent: String,
    days: String,
    label: String,
}

impl ItemRow {
    fn is_empty(&self) -> bool {
        self.kind.trim().is_empty()
    }

    fn parse(&self, n: usize) -> Result<CoverItem, String> {
        let amount = |label: &str| -> Result<Fen, String> {
            let fen = forms::money(&format!("第{n}项保障的{label}"), &self.amount)?;
            if fen.get() <= 0 {
                return Err(format!("第{n}项保障的{label}须大于0"));
            }
            Ok(fen)
        };
        match self.kind.as_str() {
            "accident_death_disability" => {
                Ok(CoverItem::AccidentDeathDisability { family_sum: amount("保额")? })
            }
            "accident_medical" => Ok(CoverItem::AccidentMedical {
                family_limit: amount("限额")?,
                deductible: if self.deductible.trim().is_empty() {
                    Fen::ZERO
                } else {
                    forms::money(&format!("第{n}项保障的免赔额"), &self.deductible)?
                },
                reimbursed_percent: forms::number(
                    &format!("第{n}项保障的报销比例"),
                    &self.percent,
                    1u8,
                    100,
                )?,
            }),
            "hospital_allowance" => Ok(CoverItem::HospitalAllowance {
                per_day: amount("每天金额")?,
                max_days: forms::number(&format!("第{n}项保障的最多天数"), &self.days, 1u32, 366)?,
            }),
            "disease" => {
                let label = self.label.trim();
                if label.is_empty() || label.chars().count() > 50 {
                    return Err(format!("第{n}项保障须填写责任名称（不超过50个字），如 母婴安康"));
                }
                Ok(CoverItem::Disease {
                    label: label.to_owned(),
                    sum: amount("保额")?,
                    waiting_days: if self.days.trim().is_empty() {
                        0
                    } else {
                        forms::number(&format!("第{n}项保障的等待期"), &self.days, 0u32, 365)?
                    },
                })
            }
            other => Err(format!("第{n}项保障的类型“{other}”无效")),
        }
    }
}

/// The cover kinds the form offers: value and label.
const ITEM_KINDS: [(&str, &str); 4] = [
    ("accident_death_disability", "意外身故、伤残（全家保额）"),
    ("accident_medical", "意外医疗（全家限额、免赔额、报销比例）"),
    ("hospital_allowance", "住院津贴（每天金额、最多天数）"),
    ("disease", "疾病类保障（名称、保额、等待期）"),
];

/// The values of the new-product form, kept to show again after an error.
#[derive(Default)]
struct ProductForm {
    fields: HashMap<String, String>,
    items: Vec<ItemRow>,
}

impl ProductForm {
    fn from_pairs(pairs: Vec<(String, String)>) -> Self {
        let fields: HashMap<String, String> = pairs.into_iter().collect();
        let items = (1..=ITEM_ROWS)
            .map(|n| {
                let get = |name: &str| fields.get(&format!("item{n}_{name}")).cloned().unwrap_or_default();
                ItemRow {
                    kind: get("kind"),
                    amount: get("amount"),
                    deductible: get("deductible"),
                    percent: get("percent"),
                    days: get("days"),
                    label: get("label"),
                }
            })
            .collect();
        ProductForm { fields, items }
    }

    fn blank(today: chrono::NaiveDate) -> Self {
        let defaults = [
            ("year", this_year(today).to_string()),
            ("kind", "base".to_owned()),
            ("basis", "household_share".to_owned()),
            ("min_shares", "1".to_owned()),
            ("max_shares", "1".to_owned()),
            ("max_members", "0".to_owned()),
            ("first_age_min", "1".to_owned()),
            ("first_age_max", "65".to_owned()),
            ("renewal_age_max", "70".to_owned()),
            ("start_date", format!("{}-09-01", this_year(today))),
            ("term_months", "12".to_owned()),
            ("late_start", LateStart::default().code().to_owned()),
            ("late_premium", LatePremium::default().code().to_owned()),
        ];
        Self::from_pairs(defaults.into_iter().map(|(k, v)| (k.to_owned(), v)).collect())
    }

    /// A field's value as typed ("" when absent); the template reads fields through this.
    fn get(&self, name: &str) -> &str {
        self.fields.get(name).map(String::as_str).unwrap_or("")
    }

    fn parse(&self) -> Result<NewProduct, String> {
        let kind = ProductKind::from_code(self.get("kind")).ok().ok_or("请选择险种类别")?;
        let basis = PremiumBasis::parse(self.get("basis")).ok_or("请选择保费计算方式")?;
        let insurer_org_id = match self.get("insurer").trim() {
            "" => None,
            raw => Some(raw.parse().map_err(|_| "承保机构无效".to_owned())?),
        };
        let mut items = Vec::new();
        for (i, row) in self.items.iter().enumerate() {
            if !row.is_empty() {
                items.push(row.parse(i + 1)?);
            }
        }
        let number =
            |name: &str, label: &str, min: u32, max: u32| forms::number(label, self.get(name), min, max);
        let terms = ProductTerms {
            premium: forms::money("保费", self.get("premium"))?,
            basis,
            min_shares: number("min_shares", "最少份数", 0, 100)?,
            max_shares: number("max_shares", "最多份数", 0, 100)?,
            max_members: number("max_members", "每户最多被保险人数", 0, 100)?,
            first_age_min: number("first_age_min", "初保最低年龄", 0, 120)?,
            first_age_max: number("first_age_max", "初保最高年龄", 0, 120)?,
            renewal_age_max: number("renewal_age_max", "续保最高年龄", 0, 120)?,
            start_date: forms::date("起保日", self.get("start_date"))?,
            term_months: number("term_months", "保险期间", 0, 120)?,
            items,
            sales_end: forms::optional_date("销售截止日", self.get("sales_end"))?,
            // Absent from older forms and API clients: the defaults.
            late_start: match self.get("late_start").trim() {
                "" => LateStart::default(),
                raw => LateStart::from_code(raw).ok().ok_or("请选择起保日之后参保的起保规则")?,
            },
            late_premium: match self.get("late_premium").trim() {
                "" => LatePremium::default(),
                raw => LatePremium::from_code(raw).ok().ok_or("请选择起保日之后参保的保费规则")?,
            },
        };
        Ok(NewProduct {
            code: self.get("code").to_owned(),
            year: forms::number("年度", self.get("year"), 2000, 2100)?,
            name: self.get("name").to_owned(),
            kind,
            insurer_org_id,
            terms,
        })
    }
}

#[derive(Template)]
#[template(path = "products_new.html")]
struct NewProductPage {
    shell: Shell,
    form: ProductForm,
    item_kinds: [(&'static str, &'static str); 4],
    insurers: Vec<Org>,
    error: Option<String>,
    late_starts: [LateStart; 2],
    late_premiums: [LatePremium; 2],
}

async fn new_product_page(
    state: &AppState,
    session: &Session,
    form: ProductForm,
    error: Option<String>,
) -> Result<Response, WebError> {
    let insurers = state
        .store
        .orgs()
        .list_orgs(&session.actor)
        .await?
        .into_iter()
        .filter(|o| o.kind == OrgKind::Insurer)
        .collect();
    let trail = vec![Crumb::link("险种与方案", "/products"), Crumb::here("新增险种")];
    let shell = Shell::new(state, session, "新增险种", "/products", trail).await?;
    let failed = error.is_some();
    let page = NewProductPage {
        shell,
        form,
        item_kinds: ITEM_KINDS,
        insurers,
        error,
        late_starts: LateStart::ALL,
        late_premiums: LatePremium::ALL,
    };
    render_form(&page, failed)
}

/// The form defining a product for one year.
pub async fn new_product(State(state): State<AppState>, user: PageUser) -> Result<Response, WebError> {
    require(&state, &user.session, Permission::ManageProducts, "/products/new").await?;
    new_product_page(&state, &user.session, ProductForm::blank(state.today()), None).await
}

/// Defines a product; its terms are checked by the store (`ProductTerms::validate`).
pub async fn create_product(
    State(state): State<AppState>,
    user: PageUser,
    Form(pairs): Form<Vec<(String, String)>>,
) -> Result<Response, WebError> {
    require(&state, &user.session, Permission::ManageProducts, "/products/new").await?;
    let form = ProductForm::from_pairs(pairs);
    let new = match form.parse() {
        Ok(new) => new,
        Err(message) => return new_product_page(&state, &user.session, form, Some(message)).await,
    };
    match state.store.products().create_product(&user.session.actor, new).await {
        Ok(_) => Ok(Redirect::to("/products#products").into_response()),
        Err(err) => new_product_page(&state, &user.session, form, Some(form_error(err)?)).await,
    }
}

// ---- a new package -------------------------------------------------------------------

/// The values of the new-package form.
#[derive(Default)]
struct PackageForm {
    code: String,
    year: String,
    name: String,
    base: String,
    addons: Vec<String>,
}

impl PackageForm {
    fn from_pairs(pairs: Vec<(String, String)>) -> Self {
        let mut form = PackageForm::default();
        for (key, value) in pairs {
            match key.as_str() {
                "code" => form.code = value,
                "year" => form.year = value,
                "name" => form.name = value,
                "base" => form.base = value,
                "addon" => form.addons.push(value),
                _ => {}
            }
        }
        form
    }

    fn has_addon(&self, id: &i64) -> bool {
        self.addons.iter().any(|a| a.trim() == id.to_string())
    }

    fn parse(&self) -> Result<NewPackage, String> {
        let base_product_id = self.base.trim().parse().map_err(|_| "请选择基础险".to_owned())?;
        let addon_ids = self
            .addons
            .iter()
            .map(|a| a.trim().parse().map_err(|_| "附加险选择无效".to_owned()))
            .collect::<Result<Vec<i64>, String>>()?;
        Ok(NewPackage {
            code: self.code.clone(),
            year: forms::number("年度", &self.year, 2000, 2100)?,
            name: self.name.clone(),
            base_product_id,
            addon_ids,
        })
    }
}

#[derive(Template)]
#[template(path = "package_new.html")]
struct NewPackagePage {
    shell: Shell,
    form: PackageForm,
    bases: Vec<Product>,
    addons: Vec<Product>,
    error: Option<String>,
}

async fn new_package_page(
    state: &AppState,
    session: &Session,
    form: PackageForm,
    error: Option<String>,
) -> Result<Response, WebError> {
    let (bases, addons) =
        state.store.products().products(None).await?.into_iter().partition(|p| p.kind == ProductKind::Base);
    let trail = vec![Crumb::link("险种与方案", "/products"), Crumb::here("新增方案")];
    let shell = Shell::new(state, session, "新增方案", "/products", trail).await?;
    let failed = error.is_some();
    render_form(&NewPackagePage { shell, form, bases, addons, error }, failed)
}

/// The form composing a "1+N" package from one base product and add-ons.
pub async fn new_package(State(state): State<AppState>, user: PageUser) -> Result<Response, WebError> {
    require(&state, &user.session, Permission::ManageProducts, "/packages/new").await?;
    let form = PackageForm { year: this_year(state.today()).to_string(), ..Default::default() };
    new_package_page(&state, &user.session, form, None).await
}

/// Composes a package; the store checks the products' kinds, years and start dates.
pub async fn create_package(
    State(state): State<AppState>,
    user: PageUser,
    Form(pairs): Form<Vec<(String, String)>>,
) -> Result<Response, WebError> {
    require(&state, &user.session, Permission::ManageProducts, "/packages/new").await?;
    let form = PackageForm::from_pairs(pairs);
    let new = match form.parse() {
        Ok(new) => new,
        Err(message) => return new_package_page(&state, &user.session, form, Some(message)).await,
    };
    match state.store.products().create_package(&user.session.actor, new).await {
        Ok(_) => Ok(Redirect::to("/products#packages").into_response()),
        Err(err) => {
            // A product id that does not exist is a form mistake here, not a missing page.
            let message = match err {
                guanai_store::StoreError::NotFound(m) => m,
                other => form_error(other)?,
            };
            new_package_page(&state, &user.session, form, Some(message)).await
        }
    }
}
