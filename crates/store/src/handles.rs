//! The store by feature: `store.families()`, `store.policies()` … each a handle on the
//! store whose methods are that feature's whole data API, written in the feature's own
//! file or folder (`impl Families<'_>` in `families.rs`, `members.rs`, …). A handle derefs
//! to the [`Store`], so a method's body reads the pool, the clock and the audit writer as
//! before. Infrastructure (open, migrate, clock, bulk, audit writes, `deny`) stays on
//! `Store` itself.

use crate::Store;

macro_rules! handles {
    ($($(#[$doc:meta])* $name:ident => $method:ident;)*) => {$(
        $(#[$doc])*
        #[derive(Debug, Clone, Copy)]
        pub struct $name<'a>(&'a Store);

        impl std::ops::Deref for $name<'_> {
            type Target = Store;
            fn deref(&self) -> &Store {
                self.0
            }
        }

        impl Store {
            $(#[$doc])*
            pub fn $method(&self) -> $name<'_> {
                $name(self)
            }
        }
    )*};
}

handles! {
    /// The region tree (`regions/`).
    Regions => regions;
    /// Association units and insurer branches (`orgs.rs`).
    Orgs => orgs;
    /// Users, passwords and logins (`users.rs`, `logins.rs`).
    Users => users;
    /// Sessions (`sessions.rs`).
    Sessions => sessions;
    /// Searching and pruning the audit log (`audit.rs`); entries are written by
    /// `Store::audit` and `Store::deny`.
    AuditLog => audit_log;
    /// Families, members, consents, exact look-ups and household batches (`families.rs`,
    /// `members.rs`, `consents.rs`, `lookups.rs`, `households.rs`).
    Families => families;
    /// Products and packages (`products.rs`).
    Products => products;
    /// Funding sources, ledgers and who may spend them (`funding.rs`, `grants.rs`).
    Funding => funding;
    /// Policies: enrolment, lifecycle, gifting, certificates, exchange files and exports
    /// (`policies/`).
    Policies => policies;
    /// Import jobs (`imports.rs`).
    Imports => imports;
    /// Claims: reports, papers, decisions, payments, clocks and queues (`claims/`).
    Claims => claims;
    /// Village agents, their handovers and their work (`agents/`).
    Agents => agents;
    /// Training sessions, sign-in, scores and certificates (`training/`).
    Training => training;
    /// Publicity activities and the enrolments they brought (`publicity/`).
    Publicity => publicity;
    /// Joint supervision visits and their actions (`supervision/`).
    Supervision => supervision;
    /// Student aid (金秋助学) applications, reviews and payments (`student_aid/`).
    StudentAid => student_aid;
    /// Targets and the coverage base per village (`targets/`).
    Targets => targets;
    /// Reports, dashboards and the bulletin's figures (`reports/`).
    Reports => reports;
    /// Renewal season: due lists, renewal, batch renewal, follow-ups, rates (`renewals/`).
    Renewals => renewals;
    /// Uploaded images kept sealed in the file store: claim papers, activity photos (`files/`).
    Files => files;
    /// Messages to families: reminders, claims by senders, opt-outs (`outbox/`).
    Outbox => outbox;
}
