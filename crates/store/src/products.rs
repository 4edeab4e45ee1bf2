//! Products (险种) versioned by year, and "1+N" packages: one base product and N add-ons.
//! Products are the same for the whole city, so they are not region-scoped.

use chrono::{NaiveDate, Utc};
pub use guanai_domain::products::ProductKind;
use guanai_domain::products::{LateStart, ProductTerms, SaleError};
use guanai_domain::Permission;
use sea_orm::{
    ActiveValue::{NotSet, Set},
    ColumnTrait, EntityTrait, QueryFilter, QueryOrder, TransactionTrait,
};
use serde::Serialize;

use crate::audit::AuditEvent;
use crate::entities::{package_addons, packages, products};
use crate::error::stored;
use crate::{Actor, Store, StoreError, StoreResult};

#[derive(Debug, Clone)]
pub struct NewProduct {
    pub code: String,
    pub year: i32,
    pub name: String,
    pub kind: ProductKind,
    pub insurer_org_id: Option<i64>,
    pub terms: ProductTerms,
}

#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Product {
    pub id: i64,
    pub code: String,
    pub year: i32,
    pub name: String,
    pub kind: ProductKind,
    pub insurer_org_id: Option<i64>,
    pub terms: ProductTerms,
}

#[derive(Debug, Clone)]
pub struct NewPackage {
    pub code: String,
    pub year: i32,
    pub name: String,
    pub base_product_id: i64,
    pub addon_ids: Vec<i64>,
}

#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Package {
    pub id: i64,
    pub code: String,
    pub year: i32,
    pub name: String,
    pub base: Product,
    pub addons: Vec<Product>,
}

impl Package {
    /// The base product first, then the add-ons.
    pub fn products(&self) -> impl Iterator<Item = &Product> {
        std::iter::once(&self.base).chain(self.addons.iter())
    }

    /// Whether the package may be sold on `today`: every product of it on sale (its year's
    /// cover not over, its sales window open).
    pub fn check_on_sale(&self, today: NaiveDate) -> Result<(), SaleError> {
        self.products().try_for_each(|p| p.terms.check_on_sale(&p.name, today))
    }

    pub fn on_sale(&self, today: NaiveDate) -> bool {
        self.check_on_sale(today).is_ok()
    }

    /// The first day of cover of a policy enrolled on `today`, or why none can be sold: the
    /// scheme's start date, or the day after (次日零时起保). Under
    /// [`LateStart::AfterUnderwriting`] this is what the family is told to expect;
    /// underwriting sets the policy's start again from its own day.
    pub fn enrolment_start(&self, today: NaiveDate) -> StoreResult<NaiveDate> {
        self.check_on_sale(today).map_err(|e| StoreError::invalid(e.to_string()))?;
        self.base
            .terms
            .cover_start(today)
            .ok_or_else(|| StoreError::invalid("本年度保险期间已结束，不能再参保"))
    }

    /// How the start of a late enrolment is set (the base product's rule).
    pub fn late_start(&self) -> LateStart {
        self.base.terms.late_start
    }

    /// Whether a policy starting on `start` (set at enrolment) is a late one whose cover
    /// begins only the day after the insurer underwrites it.
    pub fn starts_after_underwriting(&self, start: NaiveDate) -> bool {
        start > self.base.terms.start_date && self.late_start() == LateStart::AfterUnderwriting
    }
}

fn to_product(row: products::Model) -> StoreResult<Product> {
    let terms: ProductTerms = serde_json::from_str(&row.terms)
        .map_err(|e| StoreError::invalid(format!("险种“{}”的条款数据损坏：{e}", row.name)))?;
    Ok(Product {
        id: row.id,
        kind: stored("products.kind", &row.kind)?,
        code: row.code,
        year: row.year,
        name: row.name,
        insurer_org_id: row.insurer_org_id,
        terms,
    })
}

fn check_code(code: &str) -> StoreResult<String> {
    let code = code.trim();
    if code.is_empty()
        || code.len() > 32
        || !code.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    {
        return Err(StoreError::invalid("代码须为1到32位英文字母、数字、短横线或下划线"));
    }
    Ok(code.to_owned())
}

impl crate::handles::Products<'_> {
    /// Defines a product for one year. Changing next year's terms means a new product
    /// for that year; this year's policies keep theirs.
    pub async fn create_product(self, actor: &Actor, new: NewProduct) -> StoreResult<i64> {
        self.require(actor, Permission::ManageProducts).await?;
        let code = check_code(&new.code)?;
        let name = new.name.trim();
        if name.is_empty() || name.chars().count() > 100 {
            return Err(StoreError::invalid("险种名称不能为空，且不超过100个字"));
        }
        new.terms.validate().map_err(|e| StoreError::invalid(e.to_string()))?;
        if new.terms.start_date.format("%Y").to_string() != new.year.to_string() {
            return Err(StoreError::invalid(format!("起保日须在{}年内", new.year)));
        }
        let terms = serde_json::to_string(&new.terms).expect("terms serialise");
        let inserted = products::Entity::insert(products::ActiveModel {
            id: NotSet,
            code: Set(code.clone()),
            year: Set(new.year),
            name: Set(name.to_owned()),
            kind: Set(new.kind.code().to_owned()),
            insurer_org_id: Set(new.insurer_org_id),
            terms: Set(terms),
            created_at: Set(Utc::now()),
        })
        .exec(&self.db)
        .await
        .map_err(|e| StoreError::from_write(e, &format!("{}年度已有代码为“{code}”的险种", new.year)))?;
        self.audit(actor, AuditEvent::ok("product.create", "险种", format!("{code}/{}", new.year))).await?;
        Ok(inserted.last_insert_id)
    }

    /// Products, newest year first; of one year when given.
    pub async fn products(self, year: Option<i32>) -> StoreResult<Vec<Product>> {
        let mut select = products::Entity::find();
        if let Some(year) = year {
            select = select.filter(products::Column::Year.eq(year));
        }
        let rows = select
            .order_by_desc(products::Column::Year)
            .order_by_asc(products::Column::Id)
            .all(&self.db)
            .await?;
        rows.into_iter().map(to_product).collect()
    }

    pub async fn product(self, id: i64) -> StoreResult<Product> {
        let row = products::Entity::find_by_id(id)
            .one(&self.db)
            .await?
            .ok_or_else(|| StoreError::not_found(format!("找不到险种“{id}”")))?;
        to_product(row)
    }

    /// Composes a package: a base product and add-ons of the same year and start date.
    pub async fn create_package(self, actor: &Actor, new: NewPackage) -> StoreResult<i64> {
        self.require(actor, Permission::ManageProducts).await?;
        let code = check_code(&new.code)?;
        let name = new.name.trim();
        if name.is_empty() || name.chars().count() > 100 {
            return Err(StoreError::invalid("方案名称不能为空，且不超过100个字"));
        }
        let base = self.product(new.base_product_id).await?;
        if base.kind != ProductKind::Base {
            return Err(StoreError::invalid(format!("“{}”不是基础险，不能作为方案的基础", base.name)));
        }
        let mut addon_ids = new.addon_ids.clone();
        addon_ids.sort_unstable();
        addon_ids.dedup();
        for id in &addon_ids {
            let addon = self.product(*id).await?;
            if addon.kind != ProductKind::Addon {
                return Err(StoreError::invalid(format!("“{}”不是附加险", addon.name)));
            }
            if addon.year != base.year || addon.terms.start_date != base.terms.start_date {
                return Err(StoreError::invalid(format!(
                    "附加险“{}”的年度或起保日与基础险“{}”不一致",
                    addon.name, base.name
                )));
            }
        }
        if new.year != base.year {
            return Err(StoreError::invalid(format!("方案年度须与基础险年度（{}）一致", base.year)));
        }
        let txn = self.db.begin().await?;
        let package_id = packages::Entity::insert(packages::ActiveModel {
            id: NotSet,
            code: Set(code.clone()),
            year: Set(new.year),
            name: Set(name.to_owned()),
            base_product_id: Set(base.id),
            created_at: Set(Utc::now()),
        })
        .exec(&txn)
        .await
        .map_err(|e| StoreError::from_write(e, &format!("{}年度已有代码为“{code}”的方案", new.year)))?
        .last_insert_id;
        if !addon_ids.is_empty() {
            let rows = addon_ids
                .iter()
                .map(|id| package_addons::ActiveModel { package_id: Set(package_id), product_id: Set(*id) });
            package_addons::Entity::insert_many(rows).exec_without_returning(&txn).await?;
        }
        txn.commit().await?;
        self.audit(actor, AuditEvent::ok("package.create", "方案", format!("{code}/{}", new.year))).await?;
        Ok(package_id)
    }

    pub async fn package(self, id: i64) -> StoreResult<Package> {
        let row = packages::Entity::find_by_id(id)
            .one(&self.db)
            .await?
            .ok_or_else(|| StoreError::not_found(format!("找不到保障方案“{id}”")))?;
        self.to_package(row).await
    }
}

impl Store {
    async fn to_package(&self, row: packages::Model) -> StoreResult<Package> {
        let base = self.products().product(row.base_product_id).await?;
        let addon_ids: Vec<i64> = package_addons::Entity::find()
            .filter(package_addons::Column::PackageId.eq(row.id))
            .all(&self.db)
            .await?
            .into_iter()
            .map(|a| a.product_id)
            .collect();
        let mut addons = Vec::new();
        for id in addon_ids {
            addons.push(self.products().product(id).await?);
        }
        Ok(Package { id: row.id, code: row.code, year: row.year, name: row.name, base, addons })
    }
}

impl crate::handles::Products<'_> {
    /// The packages on sale today by the store's clock (see [`Package::on_sale`]), newest
    /// year first; of one year when given. What enrolment and gifting offer.
    pub async fn packages_on_sale(self, year: Option<i32>) -> StoreResult<Vec<Package>> {
        let today = self.today();
        Ok(self.packages(year).await?.into_iter().filter(|p| p.on_sale(today)).collect())
    }

    /// Packages, newest year first; of one year when given.
    pub async fn packages(self, year: Option<i32>) -> StoreResult<Vec<Package>> {
        let mut select = packages::Entity::find();
        if let Some(year) = year {
            select = select.filter(packages::Column::Year.eq(year));
        }
        let rows = select
            .order_by_desc(packages::Column::Year)
            .order_by_asc(packages::Column::Id)
            .all(&self.db)
            .await?;
        let mut out = Vec::with_capacity(rows.len());
        for row in rows {
            out.push(self.to_package(row).await?);
        }
        Ok(out)
    }
}
