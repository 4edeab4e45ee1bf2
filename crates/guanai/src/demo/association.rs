//! The association's own work in the demo city, for the demo year: village agents of
//! 兴桥镇 and 樟山镇 with a turnover after the village elections (one agent hands over to
//! a successor), two training sessions with scores, publicity activities of several kinds
//! with two enrolments carrying an activity's code (and drawn photos of two), a joint supervision visit with an
//! overdue action owned by the demo agent, and student-aid applications from submission to
//! payment from a named source. Made once: nothing when agents exist already.

use anyhow::Context;
use chrono::NaiveDate;
use guanai_domain::agents::{AgentKind, AgentVillages};
use guanai_domain::families::{PersonName, Relationship};
use guanai_domain::funding::FundingKind;
use guanai_domain::publicity::ActivityKind;
use guanai_domain::training::Score;
use guanai_domain::{Clock, Fen, IdNumber, Mobile, PovertyStatus, RegionCode, Role};
use guanai_store::agents::{AgentFilter, Handover, NewAgent};
use guanai_store::families::{ConsentKind, NewFamily, NewPerson};
use guanai_store::funding::NewSource;
use guanai_store::policies::{Channel, EnrolRequest};
use guanai_store::publicity::NewActivity;
use guanai_store::student_aid::{NewApplication, Review};
use guanai_store::supervision::{NewAction, NewVisit};
use guanai_store::training::NewTraining;
use guanai_store::{Actor, Store};

use super::catalog::DEMO_YEAR;

fn day(month: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(DEMO_YEAR, month, d).expect("a valid demo day")
}

fn code(raw: &str) -> RegionCode {
    RegionCode::parse(raw).expect("a demo region code")
}

/// A valid ID number born on `birth` (YYYYMMDD) in 吉州区.
fn id_number(birth: &str, seq: u32) -> IdNumber {
    let body = format!("360802{birth}{seq:03}");
    let check = IdNumber::check_char_for(&body).expect("17 digits");
    IdNumber::parse(&format!("{body}{check}")).expect("a valid demo ID").id
}

/// Makes the association's demo year (see the module doc). Uses the store's clock for
/// "today" (the demo day), so the dates below must lie before it.
pub async fn populate(store: &Store) -> anyhow::Result<()> {
    let system = Actor::system(code("3608"));
    if !store
        .agents()
        .agents(&system, &AgentFilter { with_left: true, ..Default::default() })
        .await?
        .is_empty()
    {
        return Ok(());
    }
    if store.today() < day(11, 30) {
        // The demo's dates are those of the demo year's autumn.
        return Ok(());
    }
    let users = store.users().list_users(&system).await?;
    let user = |login: &str| users.iter().find(|u| u.username == login).map(|u| u.id);

    // Agents: the demo agent serves two villages of 兴桥镇; others; one retires.
    let agent = |name: &str, kind, villages: &[&str], appointed: NaiveDate, user_id, phone: &str| NewAgent {
        name: PersonName::parse(name).expect("a name"),
        kind,
        phone: Mobile::parse(phone).ok(),
        villages: AgentVillages::new(villages.iter().map(|v| code(v)).collect()).expect("one township"),
        appointed_on: appointed,
        user_id,
    };
    let old = NaiveDate::from_ymd_opt(2021, 3, 1).expect("valid");
    let agents = store.agents();
    let retiring = agents
        .create_agent(
            &system,
            agent(
                "钟桂兰",
                AgentKind::Specialist,
                &["360802100203", "360802100204"],
                old,
                None,
                "13907960001",
            ),
        )
        .await?;
    let successor = agents
        .create_agent(
            &system,
            agent("胡志强", AgentKind::Specialist, &["360802100205"], day(11, 1), None, "13907960002"),
        )
        .await?;
    agents
        .create_agent(
            &system,
            agent(
                "刘敏",
                AgentKind::Specialist,
                &["360802100201", "360802100202"],
                old,
                user("demo.agent"),
                "13907960003",
            ),
        )
        .await?;
    for (name, kind, village, phone) in [
        ("王秀英", AgentKind::ThreeHeads, "360802100200", "13907960004"),
        ("曾小平", AgentKind::ThreeHeads, "360802100206", "13907960005"),
        ("罗建华", AgentKind::Specialist, "360802101200", "13907960006"),
        ("李春花", AgentKind::ThreeHeads, "360802101201", "13907960007"),
    ] {
        agents.create_agent(&system, agent(name, kind, &[village], old, None, phone)).await?;
    }
    let handover = Handover {
        leaving_id: retiring,
        successor_id: successor,
        day: day(11, 10),
        note: "村“两委”换届".to_owned(),
    };
    agents.handover(&system, &handover).await.context("the demo handover")?;

    // Training: one session before the election, one after it for the new agents.
    let serving = agents.agents(&system, &AgentFilter::default()).await?;
    let county = Actor::system(code("360802"));
    for (held_on, topic, pass) in [
        (day(6, 18), "村级服务专员业务培训：参保与代办", 60u8),
        (day(11, 20), "换届后新任“三长”培训：报案与理赔", 70),
    ] {
        let training = store.training();
        let id = training
            .create_training(
                &county,
                NewTraining {
                    region: code("360802"),
                    topic: topic.to_owned(),
                    place: "吉州区计生协会议室".to_owned(),
                    trainer: "中国人寿吉州区支公司".to_owned(),
                    held_on,
                    pass_mark: Score::new(pass).expect("a mark"),
                },
            )
            .await?;
        let mut scores = Vec::new();
        for (i, a) in serving.iter().enumerate() {
            if held_on > day(11, 1) || a.appointed_on < day(11, 1) {
                training.sign_in_for(&county, id, a.id).await?;
                scores.push((a.id, Score::new(55 + (i as u8 * 7) % 45).expect("a score")));
            }
        }
        training.record_scores(&county, id, &scores).await?;
    }

    // Publicity: activities of several kinds; two families enrol with the door-to-door code.
    let mut door_to_door = None;
    for (kind, region, title, held_on, people) in [
        (ActivityKind::DoorToDoor, "360802100", "兴桥镇计生家庭保险进村入户宣传", day(8, 12), 320i64),
        (ActivityKind::Schools, "360802", "关爱保险进校园", day(9, 5), 800),
        (ActivityKind::Enterprises, "360802", "爱心企业送保座谈会", day(7, 20), 60),
        (ActivityKind::Testimony, "360802100", "理赔家庭现身说法", day(8, 20), 150),
        (ActivityKind::Leaflets, "3608", "全市宣传资料印发", day(6, 1), 20_000),
    ] {
        let (id, activity_code) = store
            .publicity()
            .create_activity(
                &system,
                NewActivity {
                    kind: kind.code().to_owned(),
                    region: code(region),
                    title: title.to_owned(),
                    held_on,
                    organiser: "吉州区计生协会".to_owned(),
                    people_reached: people,
                    materials: "宣传折页、海报".to_owned(),
                },
            )
            .await?;
        if kind == ActivityKind::DoorToDoor {
            door_to_door = Some((id, activity_code));
        }
        // A photo or two of the activities held in 吉州区 (drawn, not real).
        if matches!(kind, ActivityKind::DoorToDoor | ActivityKind::Schools) {
            let count = if kind == ActivityKind::DoorToDoor { 2 } else { 1 };
            super::photos::add(store, &system, id, count).await.context("demo activity photos")?;
        }
    }
    let (activity_id, _) = door_to_door.expect("the door-to-door activity");
    // Enrolments only while the demo year's packages are on sale.
    // The city's scheme (吉州区's): the base package "P1".
    let package =
        store.products().packages_on_sale(Some(DEMO_YEAR)).await?.into_iter().find(|p| p.code == "P1");
    let mut families = Vec::new();
    for (i, (head, village)) in
        [("欧阳春生", "360802100201"), ("康桂香", "360802100202")].into_iter().enumerate()
    {
        let family = store
            .families()
            .create_family(
                &system,
                NewFamily {
                    village: code(village),
                    category: "only_child".to_owned(),
                    poverty: PovertyStatus::None,
                    address: "兴桥镇".to_owned(),
                    phone: Mobile::parse("13907961000").ok(),
                    head: NewPerson {
                        name: head.to_owned(),
                        id_number: id_number("19780312", 901 + 2 * i as u32),
                        relationship: Relationship::Head,
                    },
                },
            )
            .await?;
        let members = store.families().family(&system, family).await?.members.iter().map(|m| m.id).collect();
        let request = EnrolRequest {
            family_id: family,
            package_id: 0,
            shares: 1,
            member_ids: members,
            channel: Channel::Staff,
            expected_family_part: None,
        };
        if let Some(package) = &package {
            for kind in [ConsentKind::Processing, ConsentKind::InsurerSharing] {
                store.families().record_consent(&system, family, kind, None, head).await?;
            }
            let request = EnrolRequest { package_id: package.id, ..request };
            let policy = store.policies().enrol_attributed(&system, &request, Some(activity_id)).await?;
            // Submitted and underwritten, as the demo's policies of the year are.
            store.policies().submit_policy(&system, policy).await?;
            let insurer = system.clone().acting_as(Role::InsurerCity);
            store
                .policies()
                .underwrite_policy(&insurer, policy, &format!("PJA{DEMO_YEAR}HD{:04}", i + 1))
                .await?;
        }
        families.push(family);
    }

    // Joint supervision: the county and the insurer's sub-branch; one action overdue.
    if let (Some(county_user), Some(branch), Some(agent_user), Some(township)) =
        (user("demo.county"), user("demo.branch"), user("demo.agent"), user("demo.township"))
    {
        store
            .supervision()
            .create_visit(
                &system,
                NewVisit {
                    region: code("360802100"),
                    visited_on: day(10, 15),
                    members: vec![county_user, branch],
                    findings: "兴桥镇参保告知到位；个别村理赔材料未一次性告知，报案时限提醒不足。".to_owned(),
                    actions: vec![
                        NewAction {
                            description: "向东塘、袁塘两村家庭一次性告知理赔所需材料".to_owned(),
                            owner_id: agent_user,
                            due_on: day(11, 15),
                        },
                        NewAction {
                            description: "全镇村级服务专员报案时限提醒培训".to_owned(),
                            owner_id: township,
                            due_on: day(12, 31),
                        },
                    ],
                },
            )
            .await?;
    }

    // Student aid: a named source, one application paid, one at the city, one at the county.
    let source = store
        .funding()
        .create_source(
            &system,
            NewSource {
                name: format!("金秋助学专项资金（{DEMO_YEAR}）"),
                kind: FundingKind::Donation,
                payer: "中国人寿吉安分公司".to_owned(),
                uscc: None,
                year: DEMO_YEAR,
                region: code("3608"),
                pledged: Fen::from_yuan(50_000),
            },
        )
        .await?;
    let aid = store.student_aid();
    let at_day = |d: NaiveDate| store.with_clock(Clock::fixed_in_china(d, 10, 0));
    for (i, (student, school, steps)) in
        [("欧阳晓", "吉安市第一中学", 3), ("康宁", "井冈山大学", 2), ("欧阳辉", "吉州区实验小学", 0)]
            .into_iter()
            .enumerate()
    {
        let id = aid
            .apply(
                &system,
                NewApplication {
                    family_id: families[i % families.len()],
                    student_name: student.to_owned(),
                    school: school.to_owned(),
                    admission_year: DEMO_YEAR,
                    amount: Fen::from_yuan(2_000),
                    note: "录取通知书、户口本已核".to_owned(),
                },
            )
            .await?;
        if steps >= 1 {
            at_day(day(9, 10)).student_aid().review(&county, id, Review::CountyApprove).await?;
        }
        if steps >= 2 {
            at_day(day(9, 20))
                .student_aid()
                .review(&system, id, Review::CityApprove { source_id: source })
                .await?;
        }
        if steps >= 3 {
            store.student_aid().review(&system, id, Review::Pay { paid_on: day(9, 28) }).await?;
        }
    }
    Ok(())
}
