//! Dashboard roles and what each may do in the management API.
//!
//! The product docs give the matrix only in outline (admin does everything,
//! analysts work cases, viewers read, only admins delete blocklist entries
//! and invite). [`Role::can`] is the one place that spells it out action by
//! action; the origin checks it on every management route and the dashboard
//! uses it to hide buttons, so the two cannot disagree.

use serde::{Deserialize, Serialize};

/// A team member's role in an organisation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", derive(poem_openapi::Enum))]
#[cfg_attr(feature = "openapi", oai(rename_all = "snake_case"))]
pub enum Role {
    /// Administrador: everything, including keys, team and deletions.
    Admin,
    /// Analista: works cases, blocklists and rules.
    Analyst,
    /// Visor: read-only.
    Viewer,
    /// Compliance: works cases and blocklists, reads the audit log.
    ComplianceOfficer,
}

impl Role {
    /// Every role.
    pub const ALL: [Role; 4] = [Role::Admin, Role::Analyst, Role::Viewer, Role::ComplianceOfficer];

    /// The wire name (`admin`, `compliance_officer`, …).
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::Analyst => "analyst",
            Role::Viewer => "viewer",
            Role::ComplianceOfficer => "compliance_officer",
        }
    }

    /// Parses a wire name.
    pub fn parse(s: &str) -> Option<Role> {
        Role::ALL.into_iter().find(|v| v.as_str() == s)
    }

    /// Whether personal data (emails, IPs, phones, names, account numbers)
    /// reaches this role unmasked: the roles that work cases see whose
    /// transaction it was; a viewer sees only that there was one.
    pub fn sees_personal_data(self) -> bool {
        self.can(Action::WriteCases)
    }

    /// Whether this role may perform `action`:
    ///
    /// | action | admin | analyst | viewer | compliance_officer |
    /// |---|:-:|:-:|:-:|:-:|
    /// | `read_cases` | ✓ | ✓ | ✓ | ✓ |
    /// | `write_cases` | ✓ | ✓ | | ✓ |
    /// | `read_blocklists` | ✓ | ✓ | ✓ | ✓ |
    /// | `write_blocklists` | ✓ | ✓ | | ✓ |
    /// | `delete_blocklists` | ✓ | | | |
    /// | `read_rules` | ✓ | ✓ | ✓ | ✓ |
    /// | `write_rules` | ✓ | ✓ | | |
    /// | `read_settings` | ✓ | ✓ | ✓ | ✓ |
    /// | `write_settings` | ✓ | | | |
    /// | `read_keys` | ✓ | ✓ | | |
    /// | `manage_keys` | ✓ | | | |
    /// | `read_team` | ✓ | ✓ | ✓ | ✓ |
    /// | `invite_users` | ✓ | | | |
    /// | `manage_team` | ✓ | | | |
    /// | `read_audit` | ✓ | | | ✓ |
    /// | `read_dashboard` | ✓ | ✓ | ✓ | ✓ |
    /// | `read_transactions` | ✓ | ✓ | ✓ | ✓ |
    #[rustfmt::skip] // the columns line up with the table above
    pub fn can(self, action: Action) -> bool {
        use Action as A;
        const Y: bool = true;
        const N: bool = false;
        //                                   admin analyst viewer compliance
        let row: [bool; 4] = match action {
            A::ReadCases        => [Y,    Y,      Y,     Y],
            A::WriteCases       => [Y,    Y,      N,     Y],
            A::ReadBlocklists   => [Y,    Y,      Y,     Y],
            A::WriteBlocklists  => [Y,    Y,      N,     Y],
            A::DeleteBlocklists => [Y,    N,      N,     N],
            A::ReadRules        => [Y,    Y,      Y,     Y],
            A::WriteRules       => [Y,    Y,      N,     N],
            A::ReadSettings     => [Y,    Y,      Y,     Y],
            A::WriteSettings    => [Y,    N,      N,     N],
            A::ReadKeys         => [Y,    Y,      N,     N],
            A::ManageKeys       => [Y,    N,      N,     N],
            A::ReadTeam         => [Y,    Y,      Y,     Y],
            A::InviteUsers      => [Y,    N,      N,     N],
            A::ManageTeam       => [Y,    N,      N,     N],
            A::ReadAudit        => [Y,    N,      N,     Y],
            A::ReadDashboard    => [Y,    Y,      Y,     Y],
            A::ReadTransactions => [Y,    Y,      Y,     Y],
        };
        let column = match self {
            Role::Admin => 0,
            Role::Analyst => 1,
            Role::Viewer => 2,
            Role::ComplianceOfficer => 3,
        };
        row[column]
    }
}

/// Something a dashboard user may try to do. Wire names are snake_case so
/// a 403 can say which one was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", derive(poem_openapi::Enum))]
#[cfg_attr(feature = "openapi", oai(rename_all = "snake_case"))]
pub enum Action {
    /// List and open cases, their evidence and activity.
    ReadCases,
    /// Create, edit, change the status of and submit cases.
    WriteCases,
    /// List blocklist entries.
    ReadBlocklists,
    /// Add and edit blocklist entries.
    WriteBlocklists,
    /// Delete blocklist entries.
    DeleteBlocklists,
    /// Read custom rules.
    ReadRules,
    /// Create, edit and delete custom rules.
    WriteRules,
    /// Read signal weights and decision thresholds.
    ReadSettings,
    /// Change signal weights and decision thresholds.
    WriteSettings,
    /// List API keys (prefixes only; the secrets are never shown again).
    ReadKeys,
    /// Create and revoke API keys.
    ManageKeys,
    /// List team members and their roles.
    ReadTeam,
    /// Invite new users.
    InviteUsers,
    /// Change roles and remove users.
    ManageTeam,
    /// Read the audit log.
    ReadAudit,
    /// Read the dashboard overview.
    ReadDashboard,
    /// Read transactions and their assessments.
    ReadTransactions,
}

impl Action {
    /// Every action, in the order of the matrix on [`Role::can`].
    pub const ALL: [Action; 17] = [
        Action::ReadCases,
        Action::WriteCases,
        Action::ReadBlocklists,
        Action::WriteBlocklists,
        Action::DeleteBlocklists,
        Action::ReadRules,
        Action::WriteRules,
        Action::ReadSettings,
        Action::WriteSettings,
        Action::ReadKeys,
        Action::ManageKeys,
        Action::ReadTeam,
        Action::InviteUsers,
        Action::ManageTeam,
        Action::ReadAudit,
        Action::ReadDashboard,
        Action::ReadTransactions,
    ];

    /// The wire name (`read_cases`, `delete_blocklists`, …).
    pub fn as_str(self) -> &'static str {
        match self {
            Action::ReadCases => "read_cases",
            Action::WriteCases => "write_cases",
            Action::ReadBlocklists => "read_blocklists",
            Action::WriteBlocklists => "write_blocklists",
            Action::DeleteBlocklists => "delete_blocklists",
            Action::ReadRules => "read_rules",
            Action::WriteRules => "write_rules",
            Action::ReadSettings => "read_settings",
            Action::WriteSettings => "write_settings",
            Action::ReadKeys => "read_keys",
            Action::ManageKeys => "manage_keys",
            Action::ReadTeam => "read_team",
            Action::InviteUsers => "invite_users",
            Action::ManageTeam => "manage_team",
            Action::ReadAudit => "read_audit",
            Action::ReadDashboard => "read_dashboard",
            Action::ReadTransactions => "read_transactions",
        }
    }

    /// Parses a wire name.
    pub fn parse(s: &str) -> Option<Action> {
        Action::ALL.into_iter().find(|v| v.as_str() == s)
    }

    /// Whether the action changes anything. Exhaustive on purpose: a new
    /// action must be classified, or viewers might silently gain it.
    pub fn is_write(self) -> bool {
        match self {
            Action::WriteCases
            | Action::WriteBlocklists
            | Action::DeleteBlocklists
            | Action::WriteRules
            | Action::WriteSettings
            | Action::ManageKeys
            | Action::InviteUsers
            | Action::ManageTeam => true,
            Action::ReadCases
            | Action::ReadBlocklists
            | Action::ReadRules
            | Action::ReadSettings
            | Action::ReadKeys
            | Action::ReadTeam
            | Action::ReadAudit
            | Action::ReadDashboard
            | Action::ReadTransactions => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn who_can(action: Action) -> Vec<Role> {
        Role::ALL.into_iter().filter(|r| r.can(action)).collect()
    }

    #[test]
    fn names_round_trip() {
        for r in Role::ALL {
            assert_eq!(Role::parse(r.as_str()), Some(r));
            assert_eq!(serde_json::to_value(r).unwrap(), r.as_str());
        }
        for a in Action::ALL {
            assert_eq!(Action::parse(a.as_str()), Some(a));
            assert_eq!(serde_json::to_value(a).unwrap(), a.as_str());
        }
        assert_eq!(Role::parse("owner"), None);
    }

    #[test]
    fn admin_does_everything() {
        assert!(Action::ALL.into_iter().all(|a| Role::Admin.can(a)));
    }

    #[test]
    fn admin_only_actions() {
        for a in [
            Action::DeleteBlocklists,
            Action::InviteUsers,
            Action::ManageTeam,
            Action::ManageKeys,
            Action::WriteSettings,
        ] {
            assert_eq!(who_can(a), [Role::Admin], "{a:?}");
        }
    }

    #[test]
    fn viewer_never_writes_and_reads_the_basics() {
        for a in Action::ALL {
            if a.is_write() {
                assert!(!Role::Viewer.can(a), "{a:?}");
            }
        }
        assert!(!Role::Viewer.can(Action::ReadKeys));
        assert!(!Role::Viewer.can(Action::ReadAudit));
        assert!(Role::Viewer.can(Action::ReadCases));
        assert!(Role::Viewer.can(Action::ReadTeam));
    }

    #[test]
    fn the_documented_rows() {
        use Role::*;
        // Blocklist docs: adding needs admin, analyst or compliance_officer.
        assert_eq!(who_can(Action::WriteBlocklists), [Admin, Analyst, ComplianceOfficer]);
        assert_eq!(who_can(Action::WriteCases), [Admin, Analyst, ComplianceOfficer]);
        assert_eq!(who_can(Action::WriteRules), [Admin, Analyst]);
        assert_eq!(who_can(Action::ReadKeys), [Admin, Analyst]);
        assert_eq!(who_can(Action::ReadAudit), [Admin, ComplianceOfficer]);
        for a in [Action::ReadDashboard, Action::ReadTransactions, Action::ReadSettings] {
            assert_eq!(who_can(a), Role::ALL, "{a:?}");
        }
    }

    #[test]
    fn unmasked_reads_need_personal_data() {
        // The audit log (before/after of cases and entries), webhook
        // deliveries and provider integrations answer personal data
        // unmasked: only roles that see it may read them. Everything a
        // viewer reads is masked by the origin instead.
        for r in Role::ALL {
            if r.can(Action::ReadAudit) || r.can(Action::ReadKeys) {
                assert!(r.sees_personal_data(), "{r:?}");
            }
        }
        assert!(!Role::Viewer.sees_personal_data());
    }

    #[test]
    fn every_read_is_granted_beyond_admin() {
        // Guards against a new read action being left admin-only by accident.
        for a in Action::ALL.into_iter().filter(|a| !a.is_write()) {
            assert!(who_can(a).len() >= 2, "{a:?}");
        }
    }
}
