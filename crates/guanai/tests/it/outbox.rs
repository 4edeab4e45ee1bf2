//! The outbox: renewal reminders written once, claimed by one sender at a time (two
//! instances never send a message twice), never at night, never to a family that opted
//! out, retried with back-off, and sent through a signed HTTP gateway.

use std::sync::{Arc, Mutex};

use axum::http::StatusCode;
use guanai::outbox::{send_due, HttpSender, LogSender, Sender};
use guanai_domain::outbox::{MessageState, MAX_ATTEMPTS};
use guanai_domain::PovertyStatus;
use guanai_store::outbox::{OutboxSettings, Outgoing};
use guanai_store::renewals::{DueQuery, SeasonSettings};

use crate::renewals::{day, season, Season, VILLAGE};

/// Records what it was given; fails while `failing` is set.
#[derive(Default, Clone)]
struct Recorder {
    sent: Arc<Mutex<Vec<i64>>>,
    failing: bool,
}

impl Sender for Recorder {
    async fn send(&self, message: &Outgoing) -> Result<(), String> {
        tokio::task::yield_now().await;
        if self.failing {
            return Err("网关繁忙".to_owned());
        }
        self.sent.lock().unwrap().push(message.id);
        Ok(())
    }
}

/// `n` families insured in 2026, each with a phone; the clock on 1 August 2027, 10:00
/// (30 days before their policies end).
async fn due_families(n: u32) -> (Season, Vec<(i64, i64)>) {
    let s = season().await;
    let mut found = Vec::new();
    for i in 0..n {
        let name = format!("提醒户{i}");
        let (family, _, policy) = s
            .insured_family(VILLAGE, PovertyStatus::None, &[(name.as_str(), "19800303")], &[0], 70 + i)
            .await;
        found.push((family, policy));
    }
    s.move_to(day(2027, 8, 1));
    (s, found)
}

async fn remind(s: &Season) -> u64 {
    let settings = OutboxSettings::default();
    s.app
        .store
        .outbox()
        .queue_renewal_reminders(&s.system, &settings, &SeasonSettings::default())
        .await
        .unwrap()
}

async fn count(s: &Season, state: MessageState) -> u64 {
    let shown = s.app.store.outbox().state(&s.system).await.unwrap();
    shown.counts.iter().find(|c| c.state == state).map(|c| c.count).unwrap_or(0)
}

#[tokio::test]
async fn a_reminder_is_written_once_sent_once_and_shown_on_the_due_list() {
    let (s, families) = due_families(2).await;
    assert_eq!(remind(&s).await, 2);
    assert_eq!(remind(&s).await, 0, "written once a day and policy");
    let shown = s.app.store.outbox().state(&s.system).await.unwrap();
    let message = &shown.messages[0];
    assert_eq!(message.recipient, "138****5678", "masked");
    assert!(message.body.contains("2027年8月31日到期（还有30天）"), "{}", message.body);
    let sender = Recorder::default();
    let report = send_due(&s.app.store, &sender, &OutboxSettings::default(), "a").await.unwrap();
    assert_eq!((report.sent, report.failed), (2, 0));
    assert_eq!(send_due(&s.app.store, &sender, &OutboxSettings::default(), "a").await.unwrap().sent, 0);
    assert_eq!(count(&s, MessageState::Sent).await, 2);
    let due = s
        .app
        .store
        .renewals()
        .due_list(&s.system, &DueQuery { per_page: 10, ..Default::default() })
        .await
        .unwrap();
    assert!(due.policies.iter().all(|d| d.reminded == 1));
    // Seven days before: the next reminder; renewed families get none.
    s.next_year(100, 70, 1_000).await;
    s.app.store.renewals().renew(&s.system, &s.renew_request(families[0].1)).await.unwrap();
    s.move_to(day(2027, 8, 24));
    assert_eq!(remind(&s).await, 1);
    // The agent's API shows the outbox: two reminders sent, the renewal's confirmation,
    // the second reminder of the family not renewed.
    let agent = s.app.login("demo.agent").await;
    let api = s.app.get(&agent, "/api/v1/outbox").await;
    assert_eq!(api.status, StatusCode::OK);
    assert_eq!(api.json()["messages"].as_array().unwrap().len(), 4);
}

#[tokio::test]
async fn a_renewal_tells_the_family_and_cancels_its_queued_reminder_in_its_own_transaction() {
    let (s, families) = due_families(2).await;
    assert_eq!(remind(&s).await, 2);
    s.next_year(100, 70, 1_000).await;
    let renewed = s.app.store.renewals().renew(&s.system, &s.renew_request(families[0].1)).await.unwrap();
    let shown = s.app.store.outbox().state(&s.system).await.unwrap().messages;
    let of = |policy: i64| shown.iter().filter(move |m| m.policy_id == Some(policy)).collect::<Vec<_>>();
    let confirmed = of(renewed.policy_id);
    assert_eq!(confirmed.len(), 1);
    assert!(
        confirmed[0].body.contains("已续保，保障期2027年9月1日至2028年8月31日")
            && confirmed[0].body.contains("家庭应缴90.00 元"),
        "{}",
        confirmed[0].body
    );
    // The renewed family's queued reminder is not sent; the other family's is.
    assert_eq!(of(families[0].1)[0].state, MessageState::Cancelled);
    assert_eq!(of(families[1].1)[0].state, MessageState::Queued);
    let sender = Recorder::default();
    let report = send_due(&s.app.store, &sender, &OutboxSettings::default(), "a").await.unwrap();
    assert_eq!(report.sent, 2, "the confirmation and the other family's reminder");
    assert_eq!(count(&s, MessageState::Cancelled).await, 1);
}

/// Makes the database refuse every insert into `table` (as a crash or a lost connection
/// would stop a transaction half-way), until [`allow`].
async fn refuse(s: &Season, table: &str) {
    use sea_orm::ConnectionTrait;
    let raw = sea_orm::Database::connect(s.app._db.url.as_str()).await.unwrap();
    let statements = match s.app.store.engine() {
        guanai_store::Engine::Sqlite => vec![format!(
            "CREATE TRIGGER refuse_{table} BEFORE INSERT ON {table} BEGIN SELECT RAISE(ABORT, 'refused by the test'); END"
        )],
        guanai_store::Engine::Postgres => vec![
            format!(
                "CREATE FUNCTION refuse_{table}() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'refused by the test'; END $$"
            ),
            format!(
                "CREATE TRIGGER refuse_{table} BEFORE INSERT ON {table} FOR EACH ROW EXECUTE FUNCTION refuse_{table}()"
            ),
        ],
        guanai_store::Engine::MySql => vec![format!(
            "CREATE TRIGGER refuse_{table} BEFORE INSERT ON {table} FOR EACH ROW SIGNAL SQLSTATE '45000' SET MESSAGE_TEXT = 'refused by the test'"
        )],
    };
    for sql in statements {
        raw.execute_unprepared(&sql).await.unwrap();
    }
    raw.close().await.unwrap();
}

async fn allow(s: &Season, table: &str) {
    use sea_orm::ConnectionTrait;
    let raw = sea_orm::Database::connect(s.app._db.url.as_str()).await.unwrap();
    let sql = match s.app.store.engine() {
        guanai_store::Engine::Postgres => format!("DROP TRIGGER refuse_{table} ON {table}"),
        _ => format!("DROP TRIGGER refuse_{table}"),
    };
    raw.execute_unprepared(&sql).await.unwrap();
    raw.close().await.unwrap();
}

#[tokio::test]
async fn a_change_that_fails_half_way_leaves_no_message_and_a_message_that_fails_leaves_no_change() {
    let (s, families) = due_families(2).await;
    s.next_year(100, 70, 1_000).await;
    let messages = |s: &Season| {
        let store = s.app.store.clone();
        let system = s.system.clone();
        async move { store.outbox().state(&system).await.unwrap().messages.len() }
    };
    // The renewal's link is refused after its policy and its message were written: the
    // whole renewal is rolled back, the message with it.
    refuse(&s, "renewals").await;
    let failed = s.app.store.renewals().renew(&s.system, &s.renew_request(families[0].1)).await;
    assert!(failed.is_err(), "{failed:?}");
    assert!(s.policies_of(families[0].0, 2027).await.is_empty());
    assert_eq!(messages(&s).await, 0, "no message of a renewal not made");
    allow(&s, "renewals").await;
    let renewed = s.app.store.renewals().renew(&s.system, &s.renew_request(families[0].1)).await.unwrap();
    assert_eq!(messages(&s).await, 1, "the renewal's confirmation, once it is made");
    assert_eq!(s.policies_of(families[0].0, 2027).await, vec![renewed.policy_id]);

    // A lapse: the message cannot be written, so the follow-up task is not made either.
    s.move_to(day(2027, 10, 2));
    let settings = SeasonSettings::default();
    refuse(&s, "outbox").await;
    assert!(s.app.store.renewals().open_follow_ups(&s.system, &settings).await.is_err());
    assert!(s.app.store.renewals().follow_ups(&s.system, false).await.unwrap().is_empty());
    allow(&s, "outbox").await;
    assert_eq!(s.app.store.renewals().open_follow_ups(&s.system, &settings).await.unwrap(), 1);
    let tasks = s.app.store.renewals().follow_ups(&s.system, false).await.unwrap();
    assert_eq!(tasks[0].policy_id, families[1].1);
    let shown = s.app.store.outbox().state(&s.system).await.unwrap().messages;
    let notice = shown.iter().find(|m| m.policy_id == Some(families[1].1)).expect("the lapse notice");
    assert!(notice.body.contains("续保宽限期已过"), "{}", notice.body);
    assert_eq!(s.app.store.renewals().open_follow_ups(&s.system, &settings).await.unwrap(), 0, "once");
    assert_eq!(messages(&s).await, 2);
}

#[tokio::test]
async fn two_senders_at_once_send_every_message_exactly_once() {
    let (s, _) = due_families(12).await;
    assert_eq!(remind(&s).await, 12);
    let sender = Recorder::default();
    let settings = OutboxSettings::default();
    let (a, b) = tokio::join!(
        send_due(&s.app.store, &sender, &settings, "instance-a"),
        send_due(&s.app.store, &sender, &settings, "instance-b")
    );
    assert_eq!(a.unwrap().sent + b.unwrap().sent, 12);
    let mut sent = sender.sent.lock().unwrap().clone();
    sent.sort_unstable();
    let before = sent.len();
    sent.dedup();
    assert_eq!((before, sent.len()), (12, 12), "no message twice");
    // A sender reporting a message it does not hold changes nothing.
    let stale = Outgoing {
        id: sent[0],
        channel: guanai_domain::outbox::MessageChannel::Sms,
        phone: String::new(),
        body: String::new(),
        attempts: 1,
    };
    s.app.store.outbox().report("instance-c", &stale, Err("迟到的失败".to_owned())).await.unwrap();
    assert_eq!(count(&s, MessageState::Sent).await, 12);
}

#[tokio::test]
async fn nothing_is_sent_at_night_or_to_a_family_that_opted_out() {
    let (s, families) = due_families(2).await;
    assert_eq!(remind(&s).await, 2);
    s.app.store.outbox().opt_out(&s.system, families[0].0).await.unwrap();
    let night = guanai_domain::Clock::fixed_in_china(day(2027, 8, 1), 22, 30);
    s.app.store.clock().set(night.now());
    let sender = Recorder::default();
    let settings = OutboxSettings::default();
    assert_eq!(send_due(&s.app.store, &sender, &settings, "a").await.unwrap().sent, 0, "quiet hours");
    let morning = guanai_domain::Clock::fixed_in_china(day(2027, 8, 2), 8, 0);
    s.app.store.clock().set(morning.now());
    let report = send_due(&s.app.store, &sender, &settings, "a").await.unwrap();
    assert_eq!(report.sent, 1);
    assert_eq!(count(&s, MessageState::OptedOut).await, 1);
    // Reminders written in the quiet hours are due the next morning.
    s.app.store.clock().set(guanai_domain::Clock::fixed_in_china(day(2027, 8, 24), 23, 0).now());
    assert_eq!(remind(&s).await, 1, "the 7-day reminder of the family that did not opt out");
    let queued = s.app.store.outbox().state(&s.system).await.unwrap().messages;
    let newest = &queued[0];
    assert_eq!(newest.due_at, guanai_domain::Clock::fixed_in_china(day(2027, 8, 25), 8, 0).now());
}

#[tokio::test]
async fn a_failed_message_is_tried_again_after_a_back_off_then_given_up() {
    let (s, _) = due_families(1).await;
    assert_eq!(remind(&s).await, 1);
    let failing = Recorder { failing: true, ..Default::default() };
    let settings = OutboxSettings::default();
    let first = send_due(&s.app.store, &failing, &settings, "a").await.unwrap();
    assert_eq!((first.sent, first.failed), (0, 1));
    // Not again before its back-off (1 minute) is over.
    assert_eq!(send_due(&s.app.store, &failing, &settings, "a").await.unwrap().failed, 0);
    // Each later attempt a day on, in the daytime (the back-off is at most 6 hours).
    for attempt in 2..=MAX_ATTEMPTS {
        s.move_to(day(2027, 8, attempt as u32));
        assert_eq!(
            send_due(&s.app.store, &failing, &settings, "a").await.unwrap().failed,
            1,
            "attempt {attempt}"
        );
    }
    let shown = s.app.store.outbox().state(&s.system).await.unwrap().messages;
    assert_eq!((shown[0].state, shown[0].attempts), (MessageState::Failed, MAX_ATTEMPTS));
    assert_eq!(shown[0].error.as_deref(), Some("网关繁忙"));
    s.move_to(day(2027, 8, 20));
    assert_eq!(
        send_due(&s.app.store, &Recorder::default(), &settings, "a").await.unwrap().sent,
        0,
        "given up"
    );
}

/// Claims up to `limit` messages as `token` at 10:`minutes`:30 on 1 August 2027.
async fn claim_at(s: &Season, minutes: i64, token: &str, limit: u64) -> Vec<Outgoing> {
    let ten = guanai_domain::Clock::fixed_in_china(day(2027, 8, 1), 10, 0).now();
    assert!(s.app.store.clock().set(ten + chrono::TimeDelta::seconds(minutes * 60 + 30)));
    s.app.store.outbox().claim(token, limit, &OutboxSettings::default()).await.unwrap()
}

fn ids(messages: &[Outgoing]) -> Vec<i64> {
    messages.iter().map(|m| m.id).collect()
}

#[tokio::test]
async fn a_message_whose_sender_died_is_claimed_again_in_its_turn_among_the_queued_ones() {
    let (s, _) = due_families(3).await;
    assert_eq!(remind(&s).await, 3, "all three due from 10:00");
    // A sender claims the first message at 10:00:30 and dies: the message is held until
    // its lease runs out (10 minutes, at 10:10:30).
    let died = ids(&claim_at(&s, 0, "died", 1).await);
    // At 10:10:30 the other two come first (due since 10:00); the second fails and is
    // queued again after a minute's back-off, due at 10:11:30.
    let failed = claim_at(&s, 10, "a", 1).await;
    assert_eq!(failed.len(), 1);
    assert!(failed[0].id > died[0], "in the order they are due, then by id");
    s.app.store.outbox().report("a", &failed[0], Err("网关繁忙".to_owned())).await.unwrap();
    let third = ids(&claim_at(&s, 10, "b", 1).await);
    assert!(third[0] > failed[0].id);
    // At 10:12:30 the dead sender's message (claimable since 10:10:30) comes before the
    // failed one (queued, due since 10:11:30): the order is the time due, whatever the state.
    assert_eq!(ids(&claim_at(&s, 12, "c", 1).await), died);
    assert_eq!(ids(&claim_at(&s, 12, "c", 5).await), ids(&failed));
    assert!(claim_at(&s, 12, "d", 5).await.is_empty(), "each held by one sender");
}

#[tokio::test]
async fn the_http_gateway_sender_posts_signed_requests_and_records_a_refusal() {
    use axum::body::Bytes;
    use axum::http::HeaderMap;
    let (s, _) = due_families(2).await;
    assert_eq!(remind(&s).await, 2);
    let received: Arc<Mutex<Vec<(HeaderMap, String)>>> = Arc::default();
    let seen = received.clone();
    let gateway = axum::Router::new().route(
        "/send",
        axum::routing::post(move |headers: HeaderMap, body: Bytes| {
            let seen = seen.clone();
            async move {
                let body = String::from_utf8(body.to_vec()).unwrap();
                let refuse = seen.lock().unwrap().len() == 1;
                seen.lock().unwrap().push((headers, body));
                if refuse {
                    StatusCode::SERVICE_UNAVAILABLE
                } else {
                    StatusCode::OK
                }
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/send", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, gateway).await.unwrap() });
    let key = "gateway-key-0123456789";
    let sender = HttpSender::new(&url, key).unwrap();
    let report = send_due(&s.app.store, &sender, &OutboxSettings::default(), "gw").await.unwrap();
    assert_eq!((report.sent, report.failed), (1, 1));
    let received = received.lock().unwrap().clone();
    for (headers, body) in &received {
        let timestamp: i64 = headers["x-guanai-timestamp"].to_str().unwrap().parse().unwrap();
        let signature = headers["x-guanai-signature"].to_str().unwrap();
        assert_eq!(signature, HttpSender::signature(key, timestamp, body));
        let json: serde_json::Value = serde_json::from_str(body).unwrap();
        assert_eq!(json["phone"], "13812345678", "the gateway gets the real number");
        assert!(json["text"].as_str().unwrap().contains("续保"));
    }
    let failed = s.app.store.outbox().state(&s.system).await.unwrap().messages;
    let refused = failed.iter().find(|m| m.state == MessageState::Queued).expect("tried again later");
    assert_eq!(refused.error.as_deref(), Some("网关拒绝：HTTP 503"));
    // The log sender sends the rest once the back-off is over.
    s.app.store.clock().set(s.app.store.clock().now() + chrono::TimeDelta::minutes(2));
    let log = LogSender { print: false };
    assert_eq!(send_due(&s.app.store, &log, &OutboxSettings::default(), "log").await.unwrap().sent, 1);
}
