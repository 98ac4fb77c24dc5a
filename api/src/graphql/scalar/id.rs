//! Relay global object ids, made and read only here.
//!
//! An id is `base64url_no_pad("<GraphQL type name>:<database key>")`, e.g.
//! Customer 1 is `Q3VzdG9tZXI6MQ`. Clients treat it as opaque; the type name
//! inside lets `node(id:)` find the record and lets every argument refuse the
//! id of another type. Only the canonical form is accepted (no padding, no
//! leading zeros, no sign), so each record has exactly one id.

use async_graphql::ID;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;

use domain::{DomainError, DomainResult};

use crate::graphql::error::{ApiError, ApiResult};

/// The GraphQL types whose records carry a global id.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash)]
pub enum NodeType {
    Customer,
    Interaction,
    Purchase,
    Cost,
    LoyaltyProgram,
    Membership,
    LedgerEntry,
    Reward,
    Promotion,
    Redemption,
    CsiFactorSet,
    CsiFactor,
    Survey,
    SurveyQuestion,
    SurveyResponse,
    /// An issued invitation (`IssuedInvitation.invitationId`).
    SurveyInvitation,
    FollowUp,
    User,
    WebhookEndpoint,
}

impl NodeType {
    /// Every type, for tests and the error-code documentation.
    pub const ALL: [NodeType; 19] = [
        NodeType::Customer,
        NodeType::Interaction,
        NodeType::Purchase,
        NodeType::Cost,
        NodeType::LoyaltyProgram,
        NodeType::Membership,
        NodeType::LedgerEntry,
        NodeType::Reward,
        NodeType::Promotion,
        NodeType::Redemption,
        NodeType::CsiFactorSet,
        NodeType::CsiFactor,
        NodeType::Survey,
        NodeType::SurveyQuestion,
        NodeType::SurveyResponse,
        NodeType::SurveyInvitation,
        NodeType::FollowUp,
        NodeType::User,
        NodeType::WebhookEndpoint,
    ];

    /// The GraphQL type name written into the id.
    pub fn name(self) -> &'static str {
        match self {
            NodeType::Customer => "Customer",
            NodeType::Interaction => "Interaction",
            NodeType::Purchase => "Purchase",
            NodeType::Cost => "Cost",
            NodeType::LoyaltyProgram => "LoyaltyProgram",
            NodeType::Membership => "Membership",
            NodeType::LedgerEntry => "LedgerEntry",
            NodeType::Reward => "Reward",
            NodeType::Promotion => "Promotion",
            NodeType::Redemption => "Redemption",
            NodeType::CsiFactorSet => "CsiFactorSet",
            NodeType::CsiFactor => "CsiFactor",
            NodeType::Survey => "Survey",
            NodeType::SurveyQuestion => "SurveyQuestion",
            NodeType::SurveyResponse => "SurveyResponse",
            NodeType::SurveyInvitation => "SurveyInvitation",
            NodeType::FollowUp => "FollowUp",
            NodeType::User => "User",
            NodeType::WebhookEndpoint => "WebhookEndpoint",
        }
    }

    fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|t| t.name() == name)
    }
}

/// The global id of record `key` of type `node`.
pub fn global_id(node: NodeType, key: i64) -> ID {
    ID(URL_SAFE_NO_PAD.encode(format!("{}:{key}", node.name())))
}

/// The type and key inside a global id; `None` for anything that is not the
/// canonical id of a record (garbage, padding, another encoding, a key that
/// is not a positive decimal without leading zeros).
pub fn decode(id: &str) -> Option<(NodeType, i64)> {
    let bytes = URL_SAFE_NO_PAD.decode(id).ok()?;
    let text = std::str::from_utf8(&bytes).ok()?;
    let (name, key) = text.split_once(':')?;
    let node = NodeType::from_name(name)?;
    if key.is_empty() || key.starts_with('0') || !key.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let key = key.parse::<i64>().ok()?;
    Some((node, key))
}

/// Reads an id argument or input field that must name a record of type
/// `expected`; returns its database key.
///
/// # Errors
/// `BAD_USER_INPUT` on `field` when `id` is not a global id, or is the id of
/// a record of another type. Whether the record exists is not checked here.
pub fn parse_id(expected: NodeType, field: &str, id: &ID) -> ApiResult<i64> {
    parse_key(expected, field, id).map_err(ApiError::from)
}

/// [`parse_id`] for code that returns domain errors.
///
/// # Errors
/// As [`parse_id`].
pub fn parse_key(expected: NodeType, field: &str, id: &ID) -> DomainResult<i64> {
    match decode(id) {
        Some((node, key)) if node == expected => Ok(key),
        Some((node, _)) => Err(DomainError::validation(
            field,
            format!(
                "is the id of a {}, not of a {}",
                node.name(),
                expected.name()
            ),
        )),
        None => Err(DomainError::validation(
            field,
            format!("is not a valid {} id", expected.name()),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_follow_the_documented_encoding() {
        assert_eq!(global_id(NodeType::Customer, 1).0, "Q3VzdG9tZXI6MQ");
        assert_eq!(decode("Q3VzdG9tZXI6MQ"), Some((NodeType::Customer, 1)));
    }

    #[test]
    fn every_type_and_key_round_trips() {
        for node in NodeType::ALL {
            for key in [1, 7, 42, 1_000_000, i64::MAX] {
                let id = global_id(node, key);
                assert_eq!(decode(&id), Some((node, key)), "{} {key}", node.name());
                assert_eq!(parse_id(node, "id", &id).ok(), Some(key));
            }
        }
    }

    #[test]
    fn malformed_and_non_canonical_ids_are_refused() {
        let encode = |s: &str| URL_SAFE_NO_PAD.encode(s);
        let cases = [
            ("empty", String::new()),
            ("a bare number", "1".to_owned()),
            ("not base64", "!!!".to_owned()),
            ("padded", "Q3VzdG9tZXI6MQ==".to_owned()),
            ("standard alphabet", "Q3VzdG9tZXI6MQ+/".to_owned()),
            ("no separator", encode("Customer1")),
            ("unknown type", encode("Cat:1")),
            ("lower-case type", encode("customer:1")),
            ("empty key", encode("Customer:")),
            ("zero", encode("Customer:0")),
            ("leading zero", encode("Customer:01")),
            ("negative", encode("Customer:-1")),
            ("plus sign", encode("Customer:+1")),
            ("space", encode("Customer: 1")),
            ("overflow", encode("Customer:9223372036854775808")),
            ("trailing text", encode("Customer:1:2")),
            (
                "not UTF-8",
                URL_SAFE_NO_PAD.encode([0xff, 0xfe, b':', b'1']),
            ),
        ];
        for (what, id) in cases {
            assert_eq!(decode(&id), None, "{what}: {id}");
            assert!(
                parse_id(NodeType::Customer, "id", &ID(id.clone())).is_err(),
                "{what}"
            );
        }
    }

    #[test]
    fn an_id_of_another_type_names_the_field() {
        let err = parse_id(
            NodeType::Customer,
            "input.customerId",
            &global_id(NodeType::Survey, 1),
        )
        .err()
        .map(async_graphql::Error::from)
        .expect("refused");
        let ext = err.extensions.expect("extensions");
        assert_eq!(
            ext.get("code"),
            Some(&async_graphql::Value::from("BAD_USER_INPUT"))
        );
        assert_eq!(
            ext.get("field"),
            Some(&async_graphql::Value::from("input.customerId"))
        );
    }
}
