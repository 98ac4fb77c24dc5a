//! The customers area's enums, validated values and read models.

use std::collections::BTreeSet;
use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, Duration, NaiveDate, Utc};
use rust_decimal::Decimal;

use crate::error::{DomainError, DomainResult};
use crate::validation::required_text;

/// Declares a closed enum stored as SCREAMING_SNAKE_CASE text.
macro_rules! stored_enum {
    ($(#[$meta:meta])* $name:ident { $($(#[$vmeta:meta])* $variant:ident => $text:literal),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Copy, Clone, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
        pub enum $name {
            $($(#[$vmeta])* #[serde(rename = $text)] $variant),+
        }

        impl $name {
            /// Every variant, in declaration order.
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            /// The stored and wire name.
            pub fn as_str(self) -> &'static str {
                match self {
                    $($name::$variant => $text),+
                }
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl FromStr for $name {
            type Err = DomainError;

            fn from_str(s: &str) -> Result<Self, Self::Err> {
                match s {
                    $($text => Ok($name::$variant),)+
                    _ => Err(DomainError::Internal(anyhow::anyhow!(
                        concat!("unknown stored ", stringify!($name), " {:?}"),
                        s
                    ))),
                }
            }
        }
    };
}

stored_enum! {
    /// The five phases of a customer relationship (SPEC §3).
    RelationshipStage {
        /// The customer has become aware of the business.
        Awareness => "AWARENESS",
        /// The customer is trying the business out.
        Exploration => "EXPLORATION",
        /// The relationship deepens: more purchases, more trust.
        Expansion => "EXPANSION",
        /// The customer is committed to the business.
        Commitment => "COMMITMENT",
        /// The relationship is ending or has ended.
        Dissolution => "DISSOLUTION",
    }
}

stored_enum! {
    /// How the business serves the customer (SPEC §3).
    RelationshipType {
        /// A person helps the customer when asked.
        PersonalAssistance => "PERSONAL_ASSISTANCE",
        /// A dedicated person looks after this customer.
        DedicatedPersonalAssistance => "DEDICATED_PERSONAL_ASSISTANCE",
        /// The customer helps themself with the means provided.
        SelfService => "SELF_SERVICE",
        /// Automated processes serve the customer.
        AutomatedService => "AUTOMATED_SERVICE",
        /// A community of users helps each other.
        Community => "COMMUNITY",
        /// The customer co-creates value with the business.
        CoCreation => "CO_CREATION",
    }
}

stored_enum! {
    /// Why a customer left (SPEC §3).
    ChurnReason {
        /// Their needs changed.
        ChangedRequirements => "CHANGED_REQUIREMENTS",
        /// They found something better.
        SuperiorAlternative => "SUPERIOR_ALTERNATIVE",
        /// They were unhappy with the business.
        Dissatisfaction => "DISSATISFACTION",
        /// Something else, explained in the note.
        Other => "OTHER",
    }
}

stored_enum! {
    /// The channel of a touchpoint.
    Channel {
        /// E-mail.
        Email => "EMAIL",
        /// Text message.
        Sms => "SMS",
        /// Telephone call.
        Phone => "PHONE",
        /// Social media.
        Social => "SOCIAL",
        /// Face to face.
        InPerson => "IN_PERSON",
        /// The website or web app.
        Web => "WEB",
        /// Live chat.
        Chat => "CHAT",
    }
}

stored_enum! {
    /// What a cost was spent on, for customer value.
    CostKind {
        /// Winning the customer (ads, sales effort, welcome gifts).
        Acquisition => "ACQUISITION",
        /// Looking after the customer (support, service, retention).
        Care => "CARE",
    }
}

/// How far in the future a client-supplied time may lie (clock skew, time
/// zones); anything later is `BAD_USER_INPUT`.
pub const FUTURE_TOLERANCE_HOURS: i64 = 24;

/// Rejects a time more than a day ahead of `now`.
///
/// # Errors
/// `BAD_USER_INPUT` on `field`.
pub fn not_in_future(field: &str, at: DateTime<Utc>, now: DateTime<Utc>) -> DomainResult<()> {
    if at > now + Duration::hours(FUTURE_TOLERANCE_HOURS) {
        return Err(DomainError::validation(
            field,
            "must not be more than a day in the future",
        ));
    }
    Ok(())
}

/// A customer's display name: trimmed, 1–200 characters.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CustomerName(String);

impl CustomerName {
    /// Longest name accepted.
    pub const MAX_LEN: usize = 200;

    /// Parses a name for the input field `name`.
    ///
    /// # Errors
    /// `BAD_USER_INPUT` on `name` when blank, too long or with control characters.
    pub fn parse(raw: &str) -> DomainResult<Self> {
        required_text("name", raw, Self::MAX_LEN).map(Self)
    }
}

impl AsRef<str> for CustomerName {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

/// A telephone number: an optional leading `+` and 7–15 digits; spaces,
/// dashes, dots and parentheses are accepted on input and removed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Phone(String);

impl Phone {
    /// Parses a phone number for the input field `phone`.
    ///
    /// # Errors
    /// `BAD_USER_INPUT` on `phone`.
    pub fn parse(raw: &str) -> DomainResult<Self> {
        let trimmed = raw.trim();
        let (plus, rest) = match trimmed.strip_prefix('+') {
            Some(rest) => ("+", rest),
            None => ("", trimmed),
        };
        let mut digits = String::with_capacity(rest.len());
        for c in rest.chars() {
            match c {
                '0'..='9' => digits.push(c),
                ' ' | '-' | '.' | '(' | ')' => {}
                _ => {
                    return Err(DomainError::validation(
                        "phone",
                        "may hold only digits, spaces, dashes, dots, parentheses and a leading +",
                    ))
                }
            }
        }
        if !(7..=15).contains(&digits.len()) {
            return Err(DomainError::validation("phone", "must have 7 to 15 digits"));
        }
        Ok(Self(format!("{plus}{digits}")))
    }
}

impl AsRef<str> for Phone {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

/// A tag: trimmed, lower-cased, 1–40 letters, digits, spaces, `-` or `_`.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Tag(String);

impl Tag {
    /// Longest tag accepted.
    pub const MAX_LEN: usize = 40;
    /// Most tags on one customer.
    pub const MAX_PER_CUSTOMER: usize = 20;

    /// Parses one tag for the input field `field`.
    ///
    /// # Errors
    /// `BAD_USER_INPUT` on `field`.
    pub fn parse(field: &str, raw: &str) -> DomainResult<Self> {
        let value = raw.trim().to_lowercase();
        if value.is_empty() {
            return Err(DomainError::validation(field, "must not be empty"));
        }
        if value.chars().count() > Self::MAX_LEN {
            return Err(DomainError::validation(
                field,
                "must be at most 40 characters",
            ));
        }
        if !value
            .chars()
            .all(|c| c.is_alphanumeric() || c == ' ' || c == '-' || c == '_')
        {
            return Err(DomainError::validation(
                field,
                "may hold only letters, digits, spaces, - and _",
            ));
        }
        Ok(Self(value))
    }

    /// Parses a list of tags (field `tags`), removing duplicates.
    ///
    /// # Errors
    /// `BAD_USER_INPUT` on `tags` (or `tags.N` for one bad tag).
    pub fn parse_all(raw: &[String]) -> DomainResult<Vec<Self>> {
        let mut set = BTreeSet::new();
        for (i, tag) in raw.iter().enumerate() {
            set.insert(Self::parse(&format!("tags.{i}"), tag)?);
        }
        if set.len() > Self::MAX_PER_CUSTOMER {
            return Err(DomainError::validation(
                "tags",
                "must hold at most 20 distinct tags",
            ));
        }
        Ok(set.into_iter().collect())
    }
}

impl AsRef<str> for Tag {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

/// A BCP 47 language tag such as `en`, `de-AT` or `zh-Hant-TW`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Locale(String);

impl Locale {
    /// Parses a locale for the input field `locale`.
    ///
    /// # Errors
    /// `BAD_USER_INPUT` on `locale`.
    pub fn parse(raw: &str) -> DomainResult<Self> {
        let value = raw.trim();
        let mut parts = value.split('-');
        let language_ok = parts.next().is_some_and(|lang| {
            (2..=3).contains(&lang.len()) && lang.chars().all(|c| c.is_ascii_alphabetic())
        });
        let rest_ok = parts
            .all(|p| (1..=8).contains(&p.len()) && p.chars().all(|c| c.is_ascii_alphanumeric()));
        if !language_ok || !rest_ok || value.len() > 35 {
            return Err(DomainError::validation(
                "locale",
                "must be a language tag such as en, de-AT or pt-BR",
            ));
        }
        Ok(Self(value.to_owned()))
    }
}

impl AsRef<str> for Locale {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

/// A customer as the rest of the system sees it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Customer {
    pub id: i64,
    pub name: String,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub birthday: Option<NaiveDate>,
    pub locale: Option<String>,
    pub tags: Vec<String>,
    pub relationship_stage: RelationshipStage,
    pub relationship_type: Option<RelationshipType>,
    pub acquired_at: DateTime<Utc>,
    pub referred_by_id: Option<i64>,
    pub churned_at: Option<DateTime<Utc>>,
    pub churn_reason: Option<ChurnReason>,
    pub churn_note: Option<String>,
    pub marketing_consent: bool,
    pub erased_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl Customer {
    /// Builds the read model from a row and its tags.
    ///
    /// # Errors
    /// `INTERNAL` when a stored enum is unknown.
    pub fn from_model(m: entity::customers::Model, tags: Vec<String>) -> DomainResult<Self> {
        Ok(Self {
            id: m.id,
            name: m.name,
            email: m.email,
            phone: m.phone,
            birthday: m.birthday,
            locale: m.locale,
            tags,
            relationship_stage: m.relationship_stage.parse()?,
            relationship_type: m.relationship_type.as_deref().map(str::parse).transpose()?,
            acquired_at: m.acquired_at,
            referred_by_id: m.referred_by_id,
            churned_at: m.churned_at,
            churn_reason: m.churn_reason.as_deref().map(str::parse).transpose()?,
            churn_note: m.churn_note,
            marketing_consent: m.marketing_consent,
            erased_at: m.erased_at,
            created_at: m.created_at,
            updated_at: m.updated_at,
        })
    }
}

/// One churn of a customer, with its reactivation if they came back.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ChurnEvent {
    pub id: i64,
    pub customer_id: i64,
    pub churned_at: DateTime<Utc>,
    pub reason: ChurnReason,
    pub note: Option<String>,
    pub reactivated_at: Option<DateTime<Utc>>,
}

impl TryFrom<entity::churn_events::Model> for ChurnEvent {
    type Error = DomainError;

    fn try_from(m: entity::churn_events::Model) -> DomainResult<Self> {
        Ok(Self {
            id: m.id,
            customer_id: m.customer_id,
            churned_at: m.churned_at,
            reason: m.reason.parse()?,
            note: m.note,
            reactivated_at: m.reactivated_at,
        })
    }
}

/// A recorded touchpoint.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Interaction {
    pub id: i64,
    pub customer_id: i64,
    pub channel: Channel,
    pub occurred_at: DateTime<Utc>,
    pub summary: Option<String>,
    pub helped: bool,
    pub recorded_by: Option<i64>,
    pub created_at: DateTime<Utc>,
}

impl TryFrom<entity::interactions::Model> for Interaction {
    type Error = DomainError;

    fn try_from(m: entity::interactions::Model) -> DomainResult<Self> {
        Ok(Self {
            id: m.id,
            customer_id: m.customer_id,
            channel: m.channel.parse()?,
            occurred_at: m.occurred_at,
            summary: m.summary,
            helped: m.helped,
            recorded_by: m.recorded_by,
            created_at: m.created_at,
        })
    }
}

/// A recorded purchase.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Purchase {
    pub id: i64,
    pub customer_id: i64,
    pub amount: Decimal,
    pub currency: String,
    pub occurred_at: DateTime<Utc>,
    pub external_ref: String,
    pub created_at: DateTime<Utc>,
}

impl TryFrom<entity::purchases::Model> for Purchase {
    type Error = DomainError;

    fn try_from(m: entity::purchases::Model) -> DomainResult<Self> {
        Ok(Self {
            id: m.id,
            customer_id: m.customer_id,
            amount: crate::money::stored_to_decimal(m.amount_minor, &m.currency)?,
            currency: m.currency,
            occurred_at: m.occurred_at,
            external_ref: m.external_ref,
            created_at: m.created_at,
        })
    }
}

/// A recorded acquisition or care cost.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Cost {
    pub id: i64,
    pub customer_id: Option<i64>,
    pub kind: CostKind,
    pub amount: Decimal,
    pub currency: String,
    pub incurred_on: NaiveDate,
    pub note: Option<String>,
    pub created_at: DateTime<Utc>,
}

impl TryFrom<entity::costs::Model> for Cost {
    type Error = DomainError;

    fn try_from(m: entity::costs::Model) -> DomainResult<Self> {
        Ok(Self {
            id: m.id,
            customer_id: m.customer_id,
            kind: m.kind.parse()?,
            amount: crate::money::stored_to_decimal(m.amount_minor, &m.currency)?,
            currency: m.currency,
            incurred_on: m.incurred_on,
            note: m.note,
            created_at: m.created_at,
        })
    }
}

/// Revenue in one currency.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CurrencyAmount {
    pub currency: String,
    pub amount: Decimal,
}

/// A customer's purchase aggregates, for the card.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PurchaseStats {
    pub count: i64,
    /// Revenue per currency, ordered by currency code.
    pub revenue: Vec<CurrencyAmount>,
}

/// Purchases from which a customer counts as a repeat customer.
pub const REPEAT_CUSTOMER_PURCHASES: i64 = 2;
/// Purchases from which a customer counts as loyal (SPEC §3).
pub const LOYAL_CUSTOMER_PURCHASES: i64 = 5;

impl PurchaseStats {
    /// At least two purchases.
    pub fn is_repeat_customer(&self) -> bool {
        self.count >= REPEAT_CUSTOMER_PURCHASES
    }

    /// At least five purchases.
    pub fn is_loyal(&self) -> bool {
        self.count >= LOYAL_CUSTOMER_PURCHASES
    }
}

/// A customer whose birthday falls within the asked window.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UpcomingBirthday {
    pub customer: Customer,
    /// The date it is celebrated on (28 February for 29 February birthdays in
    /// common years).
    pub date: NaiveDate,
    pub days_until: i64,
    /// The age reached on that date.
    pub turning: i32,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_trimmed_and_required() {
        assert!(CustomerName::parse("  ").is_err());
        assert!(CustomerName::parse(&"x".repeat(201)).is_err());
        assert_eq!(
            CustomerName::parse(" Ann Lee ")
                .map(|n| n.0)
                .ok()
                .as_deref(),
            Some("Ann Lee")
        );
    }

    #[test]
    fn phones_are_normalised_or_rejected() {
        for (raw, want) in [
            ("+49 (30) 123-4567", "+49301234567"),
            ("030 1234567", "0301234567"),
        ] {
            assert_eq!(Phone::parse(raw).map(|p| p.0).ok().as_deref(), Some(want));
        }
        for raw in [
            "",
            "123",
            "+1 555 CALL NOW",
            "1234567890123456",
            "++123456789",
        ] {
            assert!(Phone::parse(raw).is_err(), "{raw:?}");
        }
    }

    #[test]
    fn tags_are_normalised_deduplicated_and_bounded() {
        let tags = Tag::parse_all(&["VIP".into(), " vip ".into(), "b2b".into()]).expect("valid");
        let names: Vec<&str> = tags.iter().map(AsRef::as_ref).collect();
        assert_eq!(names, ["b2b", "vip"]);
        assert!(Tag::parse_all(&["ok".into(), "".into()]).is_err());
        assert!(Tag::parse_all(&["a;b".into()]).is_err());
        let many: Vec<String> = (0..21).map(|i| format!("t{i}")).collect();
        assert!(Tag::parse_all(&many).is_err());
    }

    #[test]
    fn locales_follow_bcp47_shape() {
        for ok in ["en", "de-AT", "zh-Hant-TW", "pt-BR"] {
            assert!(Locale::parse(ok).is_ok(), "{ok}");
        }
        for bad in ["", "e", "english", "en_US", "de--AT"] {
            assert!(Locale::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn enums_round_trip_their_stored_names() {
        for stage in RelationshipStage::ALL {
            assert_eq!(
                stage.as_str().parse::<RelationshipStage>().ok(),
                Some(*stage)
            );
        }
        for kind in CostKind::ALL {
            assert_eq!(kind.as_str().parse::<CostKind>().ok(), Some(*kind));
        }
        assert!("NOPE".parse::<Channel>().is_err());
    }
}
