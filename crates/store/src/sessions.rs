//! Sessions live in the database, so any server instance can serve any request. The
//! cookie carries a random token; the table keeps only its SHA-256, so a copy of the
//! database does not let anyone log in.

use chrono::{DateTime, Duration, Utc};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, EntityTrait, FromQueryResult, JoinType, QueryFilter, QuerySelect,
    QueryTrait,
};

use crate::entities::{sessions, users};
use crate::prebuilt::Prebuilt;
use crate::users::LoginPolicy;
use crate::{passwords, Actor, Store, StoreResult};

/// A request's session: who it is, and the token its forms must carry.
#[derive(Debug, Clone)]
pub struct Session {
    pub actor: Actor,
    pub csrf_token: String,
    pub must_change_password: bool,
}

/// A session with what its user's requests need of the user: read on every request. No
/// `Debug`: it holds the session's CSRF token.
#[derive(FromQueryResult)]
struct SessionRow {
    csrf_token: String,
    last_seen_at: DateTime<Utc>,
    expires_at: DateTime<Utc>,
    user_id: i64,
    username: String,
    display_name: String,
    role: String,
    region_code: String,
    active: bool,
    must_change_password: bool,
}

crate::prebuilt::quick_row!(SessionRow {
    csrf_token,
    last_seen_at,
    expires_at,
    user_id,
    username,
    display_name,
    role,
    region_code,
    active,
    must_change_password,
});

/// The session of a token's hash, with its user (see [`SessionRow`]).
static SESSION_AND_USER: Prebuilt = Prebuilt::new(|token_hash| {
    sessions::Entity::find_by_id(token_hash)
        .select_only()
        .columns([sessions::Column::CsrfToken, sessions::Column::LastSeenAt, sessions::Column::ExpiresAt])
        .column(sessions::Column::UserId)
        .columns([
            users::Column::Username,
            users::Column::DisplayName,
            users::Column::Role,
            users::Column::RegionCode,
            users::Column::Active,
            users::Column::MustChangePassword,
        ])
        .join(
            JoinType::InnerJoin,
            sessions::Entity::belongs_to(users::Entity)
                .from(sessions::Column::UserId)
                .to(users::Column::Id)
                .into(),
        )
        .into_query()
});

/// Only touch `last_seen_at` when it is at least this old, to spare a write per request.
const TOUCH_AFTER_SECONDS: i64 = 60;

impl Store {
    pub(crate) async fn create_session(
        &self,
        user_id: i64,
        ip: &str,
        policy: &LoginPolicy,
    ) -> StoreResult<String> {
        let token = passwords::token();
        let now = Utc::now();
        sessions::Entity::insert(sessions::ActiveModel {
            id_hash: Set(passwords::token_hash(&token)),
            user_id: Set(user_id),
            csrf_token: Set(passwords::token()),
            ip: Set(ip.chars().take(64).collect()),
            created_at: Set(now),
            last_seen_at: Set(now),
            expires_at: Set(now + policy.session_idle),
        })
        .exec_without_returning(&self.db)
        .await?;
        Ok(token)
    }
}

impl crate::handles::Sessions<'_> {
    /// The session of a cookie token, if it exists, has not expired and its user is active.
    /// Extends the idle deadline.
    ///
    /// Session and user are read in one query on every request, never cached (only the
    /// query's text is, see `prebuilt`): a logout or a disabled account (on any server
    /// instance sharing the database) refuses the very next request.
    pub async fn session(self, token: &str, ip: &str, policy: &LoginPolicy) -> StoreResult<Option<Session>> {
        let hash = passwords::token_hash(token);
        let Some(session) = SESSION_AND_USER.fetch::<SessionRow>(&self, &hash).await?.into_iter().next()
        else {
            return Ok(None);
        };
        let now = Utc::now();
        if session.expires_at <= now {
            // A write: on SQLite it takes its turn with the store's other writers rather
            // than wait in SQLite's busy handler behind them.
            let turn = self.write_gate.turn().await;
            sessions::Entity::delete_by_id(hash.as_str()).exec(turn.db).await?;
            return Ok(None);
        }
        if !session.active {
            return Ok(None);
        }
        if (now - session.last_seen_at) >= Duration::seconds(TOUCH_AFTER_SECONDS) {
            let turn = self.write_gate.turn().await;
            sessions::Entity::update(sessions::ActiveModel {
                id_hash: Set(hash),
                last_seen_at: Set(now),
                expires_at: Set(now + policy.session_idle),
                ..Default::default()
            })
            .exec(turn.db)
            .await?;
        }
        Ok(Some(Session {
            actor: Actor::of_user(
                session.user_id,
                session.username,
                session.display_name,
                &session.role,
                &session.region_code,
                ip,
            )?,
            csrf_token: session.csrf_token,
            must_change_password: session.must_change_password,
        }))
    }

    /// Logs out: the token stops working at once.
    pub async fn end_session(self, token: &str) -> StoreResult<()> {
        sessions::Entity::delete_by_id(passwords::token_hash(token)).exec(&self.db).await?;
        Ok(())
    }
}

impl Store {
    pub(crate) async fn end_other_sessions(&self, user_id: i64, keep_token: &str) -> StoreResult<()> {
        sessions::Entity::delete_many()
            .filter(sessions::Column::UserId.eq(user_id))
            .filter(sessions::Column::IdHash.ne(passwords::token_hash(keep_token)))
            .exec(&self.db)
            .await?;
        Ok(())
    }
}

impl crate::handles::Sessions<'_> {
    /// Removes expired sessions; returns how many.
    pub async fn purge_expired_sessions(self) -> StoreResult<u64> {
        let result = sessions::Entity::delete_many()
            .filter(sessions::Column::ExpiresAt.lte(Utc::now()))
            .exec(&self.db)
            .await?;
        Ok(result.rows_affected)
    }
}
