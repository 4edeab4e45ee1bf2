//! Registering many households at once (roster import, the demo generator): families and
//! their members written in batches inside one transaction, with one audit entry for the
//! batch. Every rule of a single registration still holds: the caller passes parsed
//! values, IDs are sealed and hashed, and one person can be in one family only.

use chrono::{DateTime, Utc};
use guanai_domain::families::{PovertyStatus, Relationship};
use guanai_domain::identity::{IdNumber, Mobile, Sex};
use guanai_domain::{Permission, RegionCode};
use sea_orm::{
    ActiveValue::{NotSet, Set},
    ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter, QuerySelect, TransactionTrait,
    Value,
};

use crate::audit::AuditEvent;
use crate::crypto::Keys;
use crate::entities::{consents, families, persons};
use crate::families::{family_code, ConsentKind};
use crate::rows::{KeyedRows, RowsWriter};
use crate::{Actor, Store, StoreError, StoreResult};

/// Rows per INSERT statement (under every engine's parameter limit).
const BATCH: usize = 500;

/// One household to register: the head first among `members`.
#[derive(Debug, Clone)]
pub struct HouseholdDraft {
    pub village: RegionCode,
    pub category: String,
    pub poverty: PovertyStatus,
    pub address: String,
    pub phone: Option<Mobile>,
    /// (name, ID number, relationship); the first is the head.
    pub members: Vec<(String, IdNumber, Relationship)>,
    /// Consents given, recorded as given by the head. `Guardian` records the head's
    /// consent as guardian for every member under 14 today
    /// (`domain::families::needs_guardian_consent`; a policy's start is never before today,
    /// so no one older needs it at a start date).
    pub consents: Vec<ConsentKind>,
}

const FAMILY_COLUMNS: [families::Column; 11] = [
    families::Column::Code,
    families::Column::VillageCode,
    families::Column::Category,
    families::Column::Poverty,
    families::Column::Address,
    families::Column::PhoneEnc,
    families::Column::PhoneHash,
    families::Column::PhoneMasked,
    families::Column::HeadName,
    families::Column::CreatedAt,
    families::Column::UpdatedAt,
];

const PERSON_COLUMNS: [persons::Column; 11] = [
    persons::Column::FamilyId,
    persons::Column::Name,
    persons::Column::IdHash,
    persons::Column::IdEnc,
    persons::Column::IdMasked,
    persons::Column::BirthDate,
    persons::Column::Sex,
    persons::Column::Relationship,
    persons::Column::Active,
    persons::Column::LeftOn,
    persons::Column::CreatedAt,
];

type PersonRow = [Value; PERSON_COLUMNS.len()];
type FamilyRow = [Value; FAMILY_COLUMNS.len()];

/// One person's values in the order of `PERSON_COLUMNS`: the ID number sealed, masked
/// and with its look-up hash `hash` (`Keys::lookup_hash`).
fn person_values(
    keys: &Keys,
    family_id: i64,
    hash: Vec<u8>,
    name: &str,
    id: &IdNumber,
    relationship: Relationship,
    now: DateTime<Utc>,
) -> PersonRow {
    [
        family_id.into(),
        name.chars().take(50).collect::<String>().into(),
        hash.into(),
        keys.seal(id.as_str()).into(),
        id.masked().into(),
        id.birth_date().into(),
        match id.sex() {
            Sex::Male => "male",
            Sex::Female => "female",
        }
        .into(),
        relationship.code().into(),
        true.into(),
        Option::<chrono::NaiveDate>::None.into(),
        now.into(),
    ]
}

/// The rows of a chunk of households, sealed, hashed and masked before they are written;
/// only the members' family ids are left to set, from the families' INSERT.
struct PreparedChunk {
    /// Each family's code and row.
    families: Vec<(String, FamilyRow)>,
    /// Each household's members: ID-number hash and row.
    members: Vec<Vec<(Vec<u8>, PersonRow)>>,
}

/// The column of a person's family in `PERSON_COLUMNS`.
const PERSON_FAMILY: usize = 0;

impl PreparedChunk {
    fn of(keys: &Keys, drafts: &[HouseholdDraft], now: DateTime<Utc>) -> Self {
        let families = drafts
            .iter()
            .map(|d| {
                let code = family_code();
                let phone = d.phone.as_ref();
                let row = [
                    code.clone().into(),
                    d.village.to_string().into(),
                    d.category.clone().into(),
                    d.poverty.code().into(),
                    d.address.chars().take(200).collect::<String>().into(),
                    phone.map(|p| keys.seal(p.as_str())).into(),
                    phone.map(|p| keys.lookup_hash(p.as_str())).into(),
                    phone.map(Mobile::masked).into(),
                    d.members[0].0.chars().take(50).collect::<String>().into(),
                    now.into(),
                    now.into(),
                ];
                (code, row)
            })
            .collect();
        let members = drafts
            .iter()
            .map(|d| {
                d.members
                    .iter()
                    .map(|(name, id, relationship)| {
                        let hash = keys.lookup_hash(id.as_str());
                        let row = person_values(keys, 0, hash.clone(), name, id, *relationship, now);
                        (hash, row)
                    })
                    .collect()
            })
            .collect();
        PreparedChunk { families, members }
    }
}

impl crate::handles::Families<'_> {
    /// Writes the households in one transaction and returns their ids, in order. Fails as
    /// a whole (nothing written) when a village is outside the actor's scope or an ID
    /// number is already registered.
    pub async fn register_households(
        self,
        actor: &Actor,
        drafts: &[HouseholdDraft],
    ) -> StoreResult<Vec<i64>> {
        self.require(actor, Permission::ManageFamilies).await?;
        if let Some(outside) = drafts.iter().find(|d| !actor.sees(&d.village)) {
            return Err(StoreError::Forbidden(format!("村（社区）“{}”不在您的管理范围内", outside.village)));
        }
        if drafts.iter().any(|d| d.members.is_empty()) {
            return Err(StoreError::invalid("每户至少要有户主一人"));
        }
        let txn = self.db.begin().await?;
        let ids = self.insert_households(&txn, actor, drafts).await?;
        txn.commit().await?;
        self.audit(
            actor,
            AuditEvent::ok("family.register_batch", "家庭", format!("{}户", ids.len()))
                .with_detail(format!("批量登记{}户", ids.len())),
        )
        .await?;
        Ok(ids)
    }
}

impl Store {
    /// Writes the households and returns their ids, in order. Except on MySQL, no statement
    /// reads back what the batch wrote: family ids come from the INSERT ([`KeyedRows`],
    /// keyed by the family code), and so do the ids of the members of families that give a
    /// guardian's consent (keyed by their ID-number hash), whose ages are known from their
    /// ID numbers. Members are written in the drafts' order, head first: member lists show
    /// them in the order they were written.
    ///
    /// The rows of each chunk of [`BATCH`] households are sealed and hashed on a blocking
    /// thread while the chunk before is written: a quarter of an import's time, which
    /// would otherwise leave the database waiting.
    pub(crate) async fn insert_households(
        &self,
        db: &impl ConnectionTrait,
        actor: &Actor,
        drafts: &[HouseholdDraft],
    ) -> StoreResult<Vec<i64>> {
        let now = Utc::now();
        let today = self.today();
        let dialect = self.dialect;
        let mut ids = Vec::with_capacity(drafts.len());
        let mut families_out =
            KeyedRows::<families::Entity>::new(dialect, &FAMILY_COLUMNS, families::Column::Code);
        let mut persons_out = RowsWriter::<persons::Entity>::new(dialect.backend, &PERSON_COLUMNS);
        let mut guarded_out =
            KeyedRows::<persons::Entity, Vec<u8>>::new(dialect, &PERSON_COLUMNS, persons::Column::IdHash);
        let duplicate = |e| StoreError::from_write(e, "名单中有人员已在其他家庭登记，同一人只能属于一个家庭");
        let prepare = |chunk: &[HouseholdDraft]| {
            let (keys, chunk) = (self.keys.clone(), chunk.to_vec());
            tokio::task::spawn_blocking(move || PreparedChunk::of(&keys, &chunk, now))
        };
        let mut chunks = drafts.chunks(BATCH);
        let mut next = chunks.next().map(prepare);
        while let Some(preparing) = next.take() {
            // A panic while preparing is a bug: it goes on as one, not as a database error.
            let prepared = match preparing.await {
                Ok(prepared) => prepared,
                Err(e) => match e.try_into_panic() {
                    Ok(panic) => std::panic::resume_unwind(panic),
                    Err(e) => return Err(StoreError::Database(sea_orm::DbErr::Custom(e.to_string()))),
                },
            };
            let chunk = &drafts[ids.len()..ids.len() + prepared.families.len()];
            next = chunks.next().map(prepare);
            for (code, row) in prepared.families {
                families_out.push(code, row);
            }
            let chunk_ids = families_out.write(db).await?;

            // Members of families giving a guardian's consent: their ids are needed for it.
            let mut minors: Vec<(i64, &str, chrono::NaiveDate)> = Vec::new();
            for ((d, family), members) in chunk.iter().zip(&chunk_ids).zip(prepared.members) {
                let guarded = d.consents.contains(&ConsentKind::Guardian);
                for ((_, id, _), (hash, mut row)) in d.members.iter().zip(members) {
                    row[PERSON_FAMILY] = (*family).into();
                    if guarded {
                        minors.push((*family, d.members[0].0.as_str(), id.birth_date()));
                        guarded_out.push(hash, row);
                    } else {
                        persons_out.push(db, row).await.map_err(duplicate)?;
                    }
                }
            }
            let guarded_ids = guarded_out.write(db).await.map_err(duplicate)?;
            let consent =
                |family: i64, kind: ConsentKind, person: Option<i64>, head: &str| consents::ActiveModel {
                    id: NotSet,
                    family_id: Set(family),
                    kind: Set(kind.code().to_owned()),
                    person_id: Set(person),
                    given_by: Set(head.chars().take(50).collect()),
                    recorded_by: Set(actor.username().to_owned()),
                    recorded_at: Set(now),
                    withdrawn_at: Set(None),
                };
            let mut given: Vec<consents::ActiveModel> = Vec::new();
            for (draft, family) in chunk.iter().zip(&chunk_ids) {
                for kind in draft.consents.iter().filter(|k| **k != ConsentKind::Guardian) {
                    given.push(consent(*family, *kind, None, &draft.members[0].0));
                }
            }
            for ((family, head, birth), person) in minors.into_iter().zip(guarded_ids) {
                if guanai_domain::families::needs_guardian_consent(birth, today) {
                    given.push(consent(family, ConsentKind::Guardian, Some(person), head));
                }
            }
            for part in given.chunks(BATCH) {
                consents::Entity::insert_many(part.to_vec()).exec_without_returning(db).await?;
            }
            ids.extend(chunk_ids);
        }
        persons_out.flush(db).await.map_err(duplicate)?;
        Ok(ids)
    }
}

/// A person already registered, as an import compares against it.
#[derive(Debug, Clone)]
pub struct Registered {
    pub person_id: i64,
    pub family_id: i64,
    pub name: String,
    pub relationship: Relationship,
    pub village_code: String,
}

/// A change to a registered member's name or relationship.
#[derive(Debug, Clone)]
pub struct MemberUpdate {
    pub person_id: i64,
    pub name: String,
    pub relationship: Relationship,
}

/// New members of families already registered.
#[derive(Debug, Clone)]
pub struct NewMember {
    pub family_id: i64,
    pub name: String,
    pub id_number: IdNumber,
    pub relationship: Relationship,
}

impl crate::handles::Families<'_> {
    /// The registered persons among these ID numbers, by number. Families outside the
    /// actor's scope are returned too (the import must refuse those rows, not duplicate
    /// the person), with their village so the caller can tell.
    pub async fn registered_persons(
        self,
        actor: &Actor,
        ids: &[&IdNumber],
    ) -> StoreResult<std::collections::HashMap<String, Registered>> {
        self.require(actor, Permission::ManageFamilies).await?;
        let mut out = std::collections::HashMap::new();
        // Chunk by chunk, so a million numbers never need a million hashes in memory.
        for ids in ids.chunks(BATCH) {
            let by_hash: std::collections::HashMap<Vec<u8>, &IdNumber> =
                ids.iter().map(|id| (self.keys.lookup_hash(id.as_str()), *id)).collect();
            let rows: Vec<(i64, i64, String, String, Vec<u8>)> = persons::Entity::find()
                .select_only()
                .column(persons::Column::Id)
                .column(persons::Column::FamilyId)
                .column(persons::Column::Name)
                .column(persons::Column::Relationship)
                .column(persons::Column::IdHash)
                .filter(persons::Column::IdHash.is_in(by_hash.keys().cloned()))
                .into_tuple()
                .all(&self.db)
                .await?;
            if rows.is_empty() {
                continue;
            }
            let family_ids: Vec<i64> = rows.iter().map(|r| r.1).collect();
            let villages: std::collections::HashMap<i64, String> = families::Entity::find()
                .select_only()
                .column(families::Column::Id)
                .column(families::Column::VillageCode)
                .filter(families::Column::Id.is_in(family_ids))
                .into_tuple::<(i64, String)>()
                .all(&self.db)
                .await?
                .into_iter()
                .collect();
            for (person_id, family_id, name, relationship, hash) in rows {
                let id = by_hash[&hash];
                out.insert(
                    id.as_str().to_owned(),
                    Registered {
                        person_id,
                        family_id,
                        name,
                        relationship: crate::error::stored("persons.relationship", &relationship)?,
                        village_code: villages.get(&family_id).cloned().unwrap_or_default(),
                    },
                );
            }
        }
        Ok(out)
    }

    /// The active spouses (配偶) of these families, by family: an import adds no second one.
    pub async fn family_spouses(
        self,
        actor: &Actor,
        family_ids: &[i64],
    ) -> StoreResult<std::collections::HashMap<i64, Vec<i64>>> {
        self.require(actor, Permission::ManageFamilies).await?;
        let mut out: std::collections::HashMap<i64, Vec<i64>> = std::collections::HashMap::new();
        for chunk in family_ids.chunks(BATCH) {
            let rows: Vec<(i64, i64)> = persons::Entity::find()
                .select_only()
                .column(persons::Column::FamilyId)
                .column(persons::Column::Id)
                .filter(persons::Column::FamilyId.is_in(chunk.iter().copied()))
                .filter(persons::Column::Relationship.eq(Relationship::Spouse.code()))
                .filter(persons::Column::Active.eq(true))
                .into_tuple()
                .all(&self.db)
                .await?;
            for (family, person) in rows {
                out.entry(family).or_default().push(person);
            }
        }
        Ok(out)
    }

    /// Writes one batch of an import in one transaction: new households, new members of
    /// registered families, and changed names or relationships. A household is never
    /// half-written: all of a batch lands, or none of it.
    pub async fn apply_roster_batch(
        self,
        actor: &Actor,
        households: &[HouseholdDraft],
        members: &[NewMember],
        updates: &[MemberUpdate],
    ) -> StoreResult<()> {
        self.require(actor, Permission::ManageFamilies).await?;
        if let Some(outside) = households.iter().find(|d| !actor.sees(&d.village)) {
            return Err(StoreError::Forbidden(format!("村（社区）“{}”不在您的管理范围内", outside.village)));
        }
        // The batch holds SQLite's write lock for seconds: the server's own writers wait
        // for their turn in the gate rather than in SQLite's busy handler.
        let turn = self.write_gate.turn().await;
        let txn = turn.db.begin().await?;
        let now = Utc::now();
        // Updates first: they are writes, so SQLite's write lock is taken before any read.
        for update in updates {
            persons::Entity::update(persons::ActiveModel {
                id: Set(update.person_id),
                name: Set(update.name.chars().take(50).collect()),
                relationship: Set(update.relationship.code().to_owned()),
                ..Default::default()
            })
            .exec(&txn)
            .await?;
        }
        let mut people = RowsWriter::<persons::Entity>::new(self.dialect.backend, &PERSON_COLUMNS);
        let duplicate = |e| StoreError::from_write(e, "名单中有人员已在其他家庭登记");
        for m in members {
            let hash = self.keys.lookup_hash(m.id_number.as_str());
            let row =
                person_values(&self.keys, m.family_id, hash, &m.name, &m.id_number, m.relationship, now);
            people.push(&txn, row).await.map_err(duplicate)?;
        }
        people.flush(&txn).await.map_err(duplicate)?;
        // The bulk connection checks no foreign keys (`bulk.rs`): the families of the new
        // members, read when the roster was planned, are checked here (after the writes,
        // so that SQLite's write lock came first).
        let mut families_of_members: Vec<i64> = members.iter().map(|m| m.family_id).collect();
        families_of_members.sort_unstable();
        families_of_members.dedup();
        for chunk in families_of_members.chunks(BATCH) {
            let found = families::Entity::find()
                .filter(families::Column::Id.is_in(chunk.iter().copied()))
                .count(&txn)
                .await?;
            if found != chunk.len() as u64 {
                return Err(StoreError::invalid("名单中有成员所属的家庭已不存在，请重新上传名单"));
            }
        }
        if !households.is_empty() {
            self.insert_households(&txn, actor, households).await?;
        }
        txn.commit().await?;
        Ok(())
    }
}
