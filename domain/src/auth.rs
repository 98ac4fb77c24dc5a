//! Roles, capabilities and the acting user: the one place where SPEC §2's
//! capability matrix lives. Services check it (the API only passes the actor)
//! through [`Actor::require`], which asks [`Role::can`].

use std::fmt;
use std::str::FromStr;

use crate::error::{DomainError, DomainResult};

/// A staff role.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Role {
    /// Everything, including users and configuration.
    Admin,
    /// Runs the customer base, surveys and loyalty operations.
    Manager,
    /// Front-line staff: records touchpoints and purchases, redeems rewards.
    Agent,
}

impl Role {
    /// Every role, most privileged first.
    pub const ALL: [Role; 3] = [Role::Admin, Role::Manager, Role::Agent];

    /// The stored and wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "ADMIN",
            Role::Manager => "MANAGER",
            Role::Agent => "AGENT",
        }
    }

    /// Whether this role holds `capability` (SPEC §2).
    pub fn can(self, capability: Capability) -> bool {
        use Capability::*;
        match capability {
            ManageUsers | ConfigureCsi | ConfigureLoyalty | ManageWebhooks => self == Role::Admin,
            ChurnCustomers | EraseCustomers | ManageSurveys | MarkFeedbackHelpful
            | AdjustPoints | EnrollCustomers | ResolveFollowUps | PreviewCsiWeights
            | ExportData => {
                matches!(self, Role::Admin | Role::Manager)
            }
            ReadConfiguration | WriteCustomers | ReadCustomers | RecordActivity | RedeemRewards
            | ReadReports | ReadSurveys => true,
        }
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Role {
    type Err = DomainError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "ADMIN" => Ok(Role::Admin),
            "MANAGER" => Ok(Role::Manager),
            "AGENT" => Ok(Role::Agent),
            _ => Err(DomainError::validation(
                "role",
                "must be ADMIN, MANAGER or AGENT",
            )),
        }
    }
}

/// What an actor may be allowed to do. Each maps to a row of SPEC §2.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash)]
pub enum Capability {
    /// Create users, change roles, deactivate.
    ManageUsers,
    /// Create, edit, publish, revise and archive CSI factor sets.
    ConfigureCsi,
    /// Create and edit loyalty programmes, tiers, rewards and promotions.
    ConfigureLoyalty,
    /// Read CSI factor sets and loyalty configuration.
    ReadConfiguration,
    /// Read customers and their cards.
    ReadCustomers,
    /// Create and update customers.
    WriteCustomers,
    /// Churn and reactivate customers, change relationship stage.
    ChurnCustomers,
    /// Erase a customer's personal data and export it.
    EraseCustomers,
    /// Record interactions, purchases and costs.
    RecordActivity,
    /// Enrol customers in a loyalty programme.
    EnrollCustomers,
    /// Create, publish, close surveys and invite customers; list, revoke and
    /// re-issue invitations.
    ManageSurveys,
    /// Read surveys, responses and results.
    ReadSurveys,
    /// Mark feedback helpful (credits the bonus).
    MarkFeedbackHelpful,
    /// Resolve follow-ups raised by dissatisfied responses.
    ResolveFollowUps,
    /// Manual point adjustments.
    AdjustPoints,
    /// Redeem rewards for a member.
    RedeemRewards,
    /// Reports and metrics.
    ReadReports,
    /// Preview a published CSI report under a draft's weights.
    PreviewCsiWeights,
    /// Manage webhook endpoints and read their delivery logs.
    ManageWebhooks,
    /// Download whole data sets as CSV (responses, customers, ledger
    /// entries). Reading a record at a time is open to every role; taking
    /// the whole set out of the system is a manager's decision (data
    /// minimisation), so AGENT may not.
    ExportData,
}

/// The authenticated staff user on whose behalf an operation runs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Actor {
    pub user_id: i64,
    pub role: Role,
}

impl Actor {
    /// Fails with `FORBIDDEN` unless the actor's role holds `capability`.
    ///
    /// # Errors
    /// [`DomainError::Forbidden`] when the role lacks the capability.
    pub fn require(&self, capability: Capability) -> DomainResult<()> {
        if self.role.can(capability) {
            Ok(())
        } else {
            Err(DomainError::Forbidden)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn capability_matrix_matches_spec() {
        use Capability::*;
        let table: &[(Capability, [bool; 3])] = &[
            (ManageUsers, [true, false, false]),
            (ConfigureCsi, [true, false, false]),
            (ConfigureLoyalty, [true, false, false]),
            (ReadConfiguration, [true, true, true]),
            (WriteCustomers, [true, true, true]),
            (ChurnCustomers, [true, true, false]),
            (EraseCustomers, [true, true, false]),
            (RecordActivity, [true, true, true]),
            (ManageSurveys, [true, true, false]),
            (MarkFeedbackHelpful, [true, true, false]),
            (AdjustPoints, [true, true, false]),
            (RedeemRewards, [true, true, true]),
            (ReadReports, [true, true, true]),
            (PreviewCsiWeights, [true, true, false]),
            (ManageWebhooks, [true, false, false]),
            (ExportData, [true, true, false]),
        ];
        for (cap, expected) in table {
            for (role, want) in Role::ALL.iter().zip(expected) {
                assert_eq!(role.can(*cap), *want, "{role} {cap:?}");
            }
        }
    }

    #[test]
    fn role_names_round_trip() {
        for role in Role::ALL {
            assert_eq!(role.as_str().parse::<Role>().ok(), Some(role));
        }
        assert!("root".parse::<Role>().is_err());
    }
}
