//! The association's own work (issue 15): village agents with the villages they serve and
//! their handovers, training sessions and attendees, publicity activities (and the
//! activity an enrolment came from, `policies.activity_id`), joint supervision visits with
//! their team and actions, and student-aid applications paid from a funding source.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

fn name(n: &str) -> Alias {
    Alias::new(n)
}

fn id() -> ColumnDef {
    ColumnDef::new(name("id")).big_integer().not_null().auto_increment().primary_key().to_owned()
}

fn col(n: &str) -> ColumnDef {
    ColumnDef::new(name(n))
}

fn fk(table: &str, column: &str, to: &str, to_column: &str) -> ForeignKeyCreateStatement {
    ForeignKey::create().from(name(table), name(column)).to(name(to), name(to_column)).to_owned()
}

async fn index(
    manager: &SchemaManager<'_>,
    table: &str,
    columns: &[&str],
    unique: bool,
) -> Result<(), DbErr> {
    let mut index = Index::create();
    index.name(format!("idx_{table}_{}", columns.join("_"))).table(name(table));
    for c in columns {
        index.col(name(c));
    }
    if unique {
        index.unique();
    }
    manager.create_index(index.to_owned()).await
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let tables = [
            Table::create()
                .table(name("agents"))
                .col(id())
                .col(col("name").string_len(50).not_null())
                .col(col("kind").string_len(20).not_null())
                .col(col("phone_enc").text().null())
                .col(col("phone_hash").string_len(32).null())
                .col(col("phone_masked").string_len(16).null())
                .col(col("township_code").string_len(12).not_null())
                .col(col("user_id").big_integer().null())
                .col(col("appointed_on").date().not_null())
                .col(col("left_on").date().null())
                .col(col("successor_id").big_integer().null())
                .col(col("created_at").timestamp_with_time_zone().not_null())
                .foreign_key(&mut fk("agents", "township_code", "regions", "code"))
                .foreign_key(&mut fk("agents", "user_id", "users", "id"))
                .to_owned(),
            Table::create()
                .table(name("agent_villages"))
                .col(id())
                .col(col("agent_id").big_integer().not_null())
                .col(col("village_code").string_len(12).not_null())
                .col(col("from_on").date().not_null())
                .col(col("until_on").date().null())
                .foreign_key(&mut fk("agent_villages", "agent_id", "agents", "id"))
                .foreign_key(&mut fk("agent_villages", "village_code", "regions", "code"))
                .to_owned(),
            Table::create()
                .table(name("agent_handovers"))
                .col(id())
                .col(col("from_agent_id").big_integer().not_null())
                .col(col("to_agent_id").big_integer().not_null())
                .col(col("township_code").string_len(12).not_null())
                .col(col("handed_on").date().not_null())
                .col(col("villages").integer().not_null())
                .col(col("tasks").integer().not_null())
                .col(col("note").string_len(200).not_null())
                .col(col("recorded_by").string_len(64).not_null())
                .col(col("recorded_at").timestamp_with_time_zone().not_null())
                .foreign_key(&mut fk("agent_handovers", "from_agent_id", "agents", "id"))
                .foreign_key(&mut fk("agent_handovers", "to_agent_id", "agents", "id"))
                .to_owned(),
            Table::create()
                .table(name("trainings"))
                .col(id())
                .col(col("region_code").string_len(12).not_null())
                .col(col("topic").string_len(100).not_null())
                .col(col("place").string_len(100).not_null())
                .col(col("trainer").string_len(100).not_null())
                .col(col("held_on").date().not_null())
                .col(col("pass_mark").integer().not_null())
                .col(col("sign_in_code").string_len(6).not_null())
                .col(col("created_by").string_len(64).not_null())
                .col(col("created_at").timestamp_with_time_zone().not_null())
                .foreign_key(&mut fk("trainings", "region_code", "regions", "code"))
                .to_owned(),
            Table::create()
                .table(name("training_attendees"))
                .col(id())
                .col(col("training_id").big_integer().not_null())
                .col(col("agent_id").big_integer().not_null())
                .col(col("signed_in_at").timestamp_with_time_zone().not_null())
                .col(col("score").integer().null())
                .col(col("certificate_no").string_len(32).null())
                .foreign_key(&mut fk("training_attendees", "training_id", "trainings", "id"))
                .foreign_key(&mut fk("training_attendees", "agent_id", "agents", "id"))
                .to_owned(),
            Table::create()
                .table(name("activities"))
                .col(id())
                .col(col("code").string_len(8).not_null())
                .col(col("kind").string_len(20).not_null())
                .col(col("region_code").string_len(12).not_null())
                .col(col("title").string_len(100).not_null())
                .col(col("held_on").date().not_null())
                .col(col("organiser").string_len(100).not_null())
                .col(col("people_reached").big_integer().not_null())
                .col(col("materials").string_len(500).not_null())
                .col(col("created_by").string_len(64).not_null())
                .col(col("created_at").timestamp_with_time_zone().not_null())
                .foreign_key(&mut fk("activities", "region_code", "regions", "code"))
                .to_owned(),
            Table::create()
                .table(name("supervision_visits"))
                .col(id())
                .col(col("region_code").string_len(12).not_null())
                .col(col("visited_on").date().not_null())
                .col(col("findings").text().not_null())
                .col(col("created_by").string_len(64).not_null())
                .col(col("created_at").timestamp_with_time_zone().not_null())
                .foreign_key(&mut fk("supervision_visits", "region_code", "regions", "code"))
                .to_owned(),
            Table::create()
                .table(name("supervision_members"))
                .col(id())
                .col(col("visit_id").big_integer().not_null())
                .col(col("user_id").big_integer().not_null())
                .foreign_key(&mut fk("supervision_members", "visit_id", "supervision_visits", "id"))
                .foreign_key(&mut fk("supervision_members", "user_id", "users", "id"))
                .to_owned(),
            Table::create()
                .table(name("supervision_actions"))
                .col(id())
                .col(col("visit_id").big_integer().not_null())
                .col(col("region_code").string_len(12).not_null())
                .col(col("description").string_len(500).not_null())
                .col(col("owner_id").big_integer().not_null())
                .col(col("due_on").date().not_null())
                .col(col("status").string_len(20).not_null())
                .col(col("done_on").date().null())
                .foreign_key(&mut fk("supervision_actions", "visit_id", "supervision_visits", "id"))
                .foreign_key(&mut fk("supervision_actions", "owner_id", "users", "id"))
                .to_owned(),
            Table::create()
                .table(name("aid_applications"))
                .col(id())
                .col(col("family_id").big_integer().not_null())
                .col(col("village_code").string_len(12).not_null())
                .col(col("year").integer().not_null())
                .col(col("student_name").string_len(50).not_null())
                .col(col("school").string_len(100).not_null())
                .col(col("admission_year").integer().not_null())
                .col(col("amount_fen").big_integer().not_null())
                .col(col("source_id").big_integer().null())
                .col(col("status").string_len(20).not_null())
                .col(col("note").string_len(500).not_null())
                .col(col("created_by").string_len(64).not_null())
                .col(col("created_at").timestamp_with_time_zone().not_null())
                .col(col("county_by").string_len(64).null())
                .col(col("county_at").timestamp_with_time_zone().null())
                .col(col("city_by").string_len(64).null())
                .col(col("city_at").timestamp_with_time_zone().null())
                .col(col("paid_on").date().null())
                .col(col("paid_by").string_len(64).null())
                .col(col("refused_reason").string_len(200).null())
                .foreign_key(&mut fk("aid_applications", "family_id", "families", "id"))
                .foreign_key(&mut fk("aid_applications", "source_id", "funding_sources", "id"))
                .to_owned(),
        ];
        for table in tables {
            manager.create_table(table).await?;
        }
        index(manager, "agents", &["township_code"], false).await?;
        index(manager, "agents", &["user_id"], false).await?;
        index(manager, "agent_villages", &["village_code"], false).await?;
        index(manager, "agent_villages", &["agent_id"], false).await?;
        index(manager, "trainings", &["region_code", "held_on"], false).await?;
        index(manager, "training_attendees", &["training_id", "agent_id"], true).await?;
        index(manager, "activities", &["code"], true).await?;
        index(manager, "activities", &["region_code", "held_on"], false).await?;
        index(manager, "supervision_visits", &["region_code", "visited_on"], false).await?;
        index(manager, "supervision_members", &["visit_id", "user_id"], true).await?;
        index(manager, "supervision_actions", &["owner_id", "status"], false).await?;
        index(manager, "supervision_actions", &["visit_id"], false).await?;
        index(manager, "aid_applications", &["village_code", "year"], false).await?;
        // The activity an enrolment came from (its code typed on the enrolment form).
        manager
            .alter_table(
                Table::alter()
                    .table(name("policies"))
                    .add_column(col("activity_id").big_integer().null())
                    .to_owned(),
            )
            .await?;
        index(manager, "policies", &["activity_id"], false).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(Table::alter().table(name("policies")).drop_column(name("activity_id")).to_owned())
            .await?;
        for table in [
            "aid_applications",
            "supervision_actions",
            "supervision_members",
            "supervision_visits",
            "activities",
            "training_attendees",
            "trainings",
            "agent_handovers",
            "agent_villages",
            "agents",
        ] {
            manager.drop_table(Table::drop().table(name(table)).to_owned()).await?;
        }
        Ok(())
    }
}
