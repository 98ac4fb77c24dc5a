//! The validated values of the CSI area ("parse, don't validate") and the
//! factor-set types the rest of the system sees.

use std::collections::HashSet;
use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;

use crate::csi::compute::{shares, Scale, Share};
use crate::error::{DomainError, DomainResult};
use crate::validation::required_text;

/// Most factors one set may hold.
pub const MAX_FACTORS: usize = 50;
/// Longest set name and factor label, in characters.
pub const MAX_TEXT: usize = 120;
/// Lowest accepted `scaleMin`.
pub const SCALE_FLOOR: i32 = 0;
/// Highest accepted `scaleMax`.
pub const SCALE_CEILING: i32 = 10;

/// The lifecycle of one factor-set version.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash)]
pub enum FactorSetStatus {
    /// Editable; not yet usable by surveys.
    Draft,
    /// Frozen, and the family's current version: new surveys bind to it and
    /// ratings are recorded against it. At most one per family.
    Published,
    /// Frozen and replaced by a newer published version of its family: still
    /// reportable, and surveys already bound to it keep recording ratings,
    /// but new surveys cannot bind to it.
    Superseded,
    /// Retired; kept for history and reports.
    Archived,
}

impl FactorSetStatus {
    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Draft => "DRAFT",
            Self::Published => "PUBLISHED",
            Self::Superseded => "SUPERSEDED",
            Self::Archived => "ARCHIVED",
        }
    }
}

impl FromStr for FactorSetStatus {
    type Err = DomainError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "DRAFT" => Ok(Self::Draft),
            "PUBLISHED" => Ok(Self::Published),
            "SUPERSEDED" => Ok(Self::Superseded),
            "ARCHIVED" => Ok(Self::Archived),
            other => Err(DomainError::Internal(anyhow::anyhow!(
                "unknown factor-set status {other:?}"
            ))),
        }
    }
}

impl fmt::Display for FactorSetStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A factor key: 1 to 40 characters of `[a-z0-9_]`, e.g. `perceived_quality`.
/// Survey questions refer to factors by key.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct FactorKey(String);

impl FactorKey {
    /// Longest key accepted.
    pub const MAX_LEN: usize = 40;

    /// Parses a key for the input field `field`; surrounding blanks are trimmed.
    ///
    /// # Errors
    /// `BAD_USER_INPUT` when blank, too long, or with other characters.
    pub fn parse(field: &str, raw: &str) -> DomainResult<Self> {
        let value = raw.trim();
        if value.is_empty() {
            return Err(DomainError::validation(field, "must not be blank"));
        }
        if value.len() > Self::MAX_LEN {
            return Err(DomainError::validation(
                field,
                "must be at most 40 characters",
            ));
        }
        if !value
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
        {
            return Err(DomainError::validation(
                field,
                "may only contain a-z, 0-9 and _",
            ));
        }
        Ok(Self(value.to_owned()))
    }
}

impl AsRef<str> for FactorKey {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

/// A factor weight: a positive decimal, at most [`Weight::MAX`]. Weights need
/// not sum to 1; they are normalised by their total.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Weight(Decimal);

impl Weight {
    /// Largest weight accepted: anything above is a typo, not a preference.
    pub const MAX: Decimal = Decimal::from_parts(1_000_000, 0, 0, false, 0);

    /// Checks `value` for the input field `field`. Non-numeric, NaN and
    /// infinite values never get here: the `Decimal` scalar refuses them.
    ///
    /// # Errors
    /// `BAD_USER_INPUT` when ≤ 0 or above [`Weight::MAX`].
    pub fn parse(field: &str, value: Decimal) -> DomainResult<Self> {
        if value <= Decimal::ZERO {
            return Err(DomainError::validation(field, "must be greater than 0"));
        }
        if value > Self::MAX {
            return Err(DomainError::validation(field, "must be at most 1000000"));
        }
        Ok(Self(value.normalize()))
    }

    /// The weight.
    pub fn value(self) -> Decimal {
        self.0
    }
}

/// A non-blank label or name, at most [`MAX_TEXT`] characters, trimmed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Label(String);

impl Label {
    /// Parses `raw` for the input field `field`.
    ///
    /// # Errors
    /// `BAD_USER_INPUT` when blank, too long or with control characters.
    pub fn parse(field: &str, raw: &str) -> DomainResult<Self> {
        required_text(field, raw, MAX_TEXT).map(Self)
    }
}

impl AsRef<str> for Label {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

/// One factor as typed by a client.
#[derive(Clone, Debug)]
pub struct FactorInput {
    pub key: String,
    pub label: String,
    pub weight: Decimal,
}

/// A factor set as typed by a client (create). Scale defaults to 1..5.
#[derive(Clone, Debug)]
pub struct FactorSetInput {
    pub name: String,
    pub scale_min: Option<i32>,
    pub scale_max: Option<i32>,
    pub factors: Vec<FactorInput>,
}

/// Changes to a draft (update); `None` keeps the current value, and `factors`
/// replaces the whole list when given.
#[derive(Clone, Debug)]
pub struct FactorSetUpdate {
    /// The `lockVersion` the client read; a stale one is `CONFLICT`.
    pub lock_version: i32,
    pub name: Option<String>,
    pub scale_min: Option<i32>,
    pub scale_max: Option<i32>,
    pub factors: Option<Vec<FactorInput>>,
}

/// A validated factor.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewFactor {
    pub key: FactorKey,
    pub label: Label,
    pub weight: Weight,
}

/// A validated factor set: name, scale and 1..=50 factors with unique keys.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ValidatedFactorSet {
    pub name: Label,
    pub scale: Scale,
    pub factors: Vec<NewFactor>,
}

/// Validates a scale: `0 ≤ min < max ≤ 10`.
///
/// # Errors
/// `BAD_USER_INPUT` on `scaleMin` or `scaleMax`.
pub fn parse_scale(min: i32, max: i32) -> DomainResult<Scale> {
    if !(SCALE_FLOOR..SCALE_CEILING).contains(&min) {
        return Err(DomainError::validation(
            "scaleMin",
            "must be between 0 and 9",
        ));
    }
    if !(SCALE_FLOOR + 1..=SCALE_CEILING).contains(&max) {
        return Err(DomainError::validation(
            "scaleMax",
            "must be between 1 and 10",
        ));
    }
    if min >= max {
        return Err(DomainError::validation(
            "scaleMax",
            "must be greater than scaleMin",
        ));
    }
    Ok(Scale { min, max })
}

/// Validates a factor list: 1..=50 factors, keys unique. Fields are named
/// `factors.<index>.<field>` with a 0-based index.
///
/// # Errors
/// `BAD_USER_INPUT` naming the first offending field.
pub fn parse_factors(factors: &[FactorInput]) -> DomainResult<Vec<NewFactor>> {
    if factors.is_empty() {
        return Err(DomainError::validation(
            "factors",
            "must hold at least one factor",
        ));
    }
    if factors.len() > MAX_FACTORS {
        return Err(DomainError::validation(
            "factors",
            format!("must hold at most {MAX_FACTORS} factors"),
        ));
    }
    let mut seen = HashSet::new();
    factors
        .iter()
        .enumerate()
        .map(|(i, f)| {
            let key = FactorKey::parse(&format!("factors.{i}.key"), &f.key)?;
            if !seen.insert(key.clone()) {
                return Err(DomainError::validation(
                    format!("factors.{i}.key"),
                    format!("duplicates the key {:?}", key.as_ref()),
                ));
            }
            Ok(NewFactor {
                label: Label::parse(&format!("factors.{i}.label"), &f.label)?,
                weight: Weight::parse(&format!("factors.{i}.weight"), f.weight)?,
                key,
            })
        })
        .collect()
}

impl TryFrom<FactorSetInput> for ValidatedFactorSet {
    type Error = DomainError;

    fn try_from(input: FactorSetInput) -> Result<Self, Self::Error> {
        let default = Scale::default();
        Ok(Self {
            name: Label::parse("name", &input.name)?,
            scale: parse_scale(
                input.scale_min.unwrap_or(default.min),
                input.scale_max.unwrap_or(default.max),
            )?,
            factors: parse_factors(&input.factors)?,
        })
    }
}

/// One factor of a stored set.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Factor {
    pub id: i64,
    pub key: String,
    pub label: String,
    pub weight: Decimal,
    /// `weight / Σ weights` of its set, rounded once for display.
    pub normalized_weight: Decimal,
    /// `weight / Σ weights` exactly, for figures derived from it.
    pub share: Share,
    pub position: i32,
}

/// One stored factor-set version with its factors in position order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FactorSet {
    pub id: i64,
    /// The id of the family's first version; shared by every version.
    pub family_id: i64,
    pub name: String,
    pub version: i32,
    pub status: FactorSetStatus,
    pub scale: Scale,
    /// Optimistic-concurrency counter, bumped by every change.
    pub lock_version: i32,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub published_at: Option<DateTime<Utc>>,
    pub factors: Vec<Factor>,
}

impl FactorSet {
    /// Builds the domain value from its rows (factors in any order).
    ///
    /// # Errors
    /// `INTERNAL` on a corrupt status or weight.
    pub fn from_rows(
        set: entity::csi_factor_sets::Model,
        mut factors: Vec<entity::csi_factors::Model>,
    ) -> DomainResult<Self> {
        factors.sort_by_key(|f| (f.position, f.id));
        let weights = factors
            .iter()
            .map(|f| {
                Decimal::from_str(&f.weight).map_err(|e| {
                    DomainError::Internal(anyhow::anyhow!("factor {} has weight {e}", f.id))
                })
            })
            .collect::<DomainResult<Vec<_>>>()?;
        let shares = shares(&weights);
        Ok(Self {
            id: set.id,
            family_id: set.family_id.unwrap_or(set.id),
            name: set.name,
            version: set.version,
            status: set.status.parse()?,
            scale: Scale {
                min: set.scale_min,
                max: set.scale_max,
            },
            lock_version: set.lock_version,
            created_at: set.created_at,
            updated_at: set.updated_at,
            published_at: set.published_at,
            factors: factors
                .into_iter()
                .zip(weights.into_iter().zip(shares))
                .map(|(f, (weight, share))| Factor {
                    id: f.id,
                    key: f.key,
                    label: f.label,
                    weight,
                    normalized_weight: share.rounded(),
                    share,
                    position: f.position,
                })
                .collect(),
        })
    }

    /// The factor with `key`, if any.
    pub fn factor(&self, key: &str) -> Option<&Factor> {
        self.factors.iter().find(|f| f.key == key)
    }

    /// Σ weights.
    pub fn total_weight(&self) -> Decimal {
        self.factors.iter().map(|f| f.weight).sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> Decimal {
        Decimal::from_str(s).expect("decimal")
    }

    fn factor(key: &str, label: &str, weight: &str) -> FactorInput {
        FactorInput {
            key: key.into(),
            label: label.into(),
            weight: d(weight),
        }
    }

    #[test]
    fn factor_key_rejects() {
        let rejects = [
            ("", "empty"),
            ("   ", "blank"),
            ("Quality", "upper case"),
            ("perceived-quality", "hyphen"),
            ("perceived quality", "space"),
            ("qualité", "non-ASCII"),
            (&"a".repeat(41), "too long"),
        ];
        for (raw, why) in rejects {
            assert!(FactorKey::parse("key", raw).is_err(), "{why}: {raw:?}");
        }
    }

    #[test]
    fn factor_key_accepts() {
        for raw in ["a", "perceived_quality", "q1", "_x_", &"z".repeat(40)] {
            assert_eq!(
                FactorKey::parse("key", raw).expect("valid").as_ref(),
                raw,
                "{raw}"
            );
        }
        assert_eq!(
            FactorKey::parse("key", " loyalty ")
                .expect("trimmed")
                .as_ref(),
            "loyalty"
        );
    }

    #[test]
    fn any_key_from_the_alphabet_is_accepted_unchanged() {
        use rand::Rng;
        const ALPHABET: &[u8] = b"abcdefghijklmnopqrstuvwxyz0123456789_";
        let mut rng = rand::rng();
        for _ in 0..1_000 {
            let len = rng.random_range(1..=FactorKey::MAX_LEN);
            let raw: String = (0..len)
                .map(|_| char::from(ALPHABET[rng.random_range(0..ALPHABET.len())]))
                .collect();
            let key = FactorKey::parse("key", &raw).expect("valid key");
            assert_eq!(key.as_ref(), raw);
        }
    }

    #[test]
    fn any_positive_weight_up_to_the_maximum_is_accepted() {
        use rand::Rng;
        let mut rng = rand::rng();
        for _ in 0..1_000 {
            let scale = rng.random_range(0..=6);
            let mantissa = rng.random_range(1..=1_000_000_i64);
            let value = Decimal::new(mantissa, scale);
            assert_eq!(
                Weight::parse("w", value).map(Weight::value).ok(),
                Some(value.normalize()),
                "{value}"
            );
            assert!(Weight::parse("w", -value).is_err(), "-{value}");
        }
    }

    #[test]
    fn weight_rules() {
        for (raw, why) in [
            ("0", "zero"),
            ("-0.1", "negative"),
            ("1000000.01", "absurd"),
        ] {
            assert!(Weight::parse("w", d(raw)).is_err(), "{why}");
        }
        for raw in ["0.0001", "0.35", "1", "35", "1000000"] {
            assert!(Weight::parse("w", d(raw)).is_ok(), "{raw}");
        }
        assert_eq!(
            Weight::parse("w", d("0.350"))
                .expect("ok")
                .value()
                .to_string(),
            "0.35"
        );
    }

    #[test]
    fn scale_rules() {
        assert_eq!(parse_scale(1, 5).ok(), Some(Scale { min: 1, max: 5 }));
        assert!(parse_scale(0, 10).is_ok());
        for (min, max, field) in [
            (5, 5, "scaleMax"),
            (5, 1, "scaleMax"),
            (-1, 5, "scaleMin"),
            (1, 11, "scaleMax"),
            (10, 11, "scaleMin"),
        ] {
            match parse_scale(min, max) {
                Err(DomainError::Validation { field: f, .. }) => {
                    assert_eq!(f, field, "{min}..{max}")
                }
                other => panic!("{min}..{max}: {other:?}"),
            }
        }
    }

    #[test]
    fn factor_lists_name_the_offending_field() {
        let field_of = |factors: Vec<FactorInput>| match parse_factors(&factors) {
            Err(DomainError::Validation { field, .. }) => field,
            other => panic!("expected a validation error, got {other:?}"),
        };
        assert_eq!(field_of(vec![]), "factors");
        assert_eq!(
            field_of(vec![factor("a", "A", "1"); MAX_FACTORS + 1]),
            "factors"
        );
        assert_eq!(
            field_of(vec![factor("a", "A", "1"), factor("a", "B", "1")]),
            "factors.1.key"
        );
        assert_eq!(
            field_of(vec![factor("a", "A", "1"), factor("b", " ", "1")]),
            "factors.1.label"
        );
        assert_eq!(
            field_of(vec![
                factor("a", "A", "1"),
                factor("b", "B", "1"),
                factor("c", "C", "0")
            ]),
            "factors.2.weight"
        );
        assert_eq!(field_of(vec![factor("", "A", "1")]), "factors.0.key");
    }

    #[test]
    fn a_valid_set_gets_the_default_scale() {
        let set = ValidatedFactorSet::try_from(FactorSetInput {
            name: " Airline ".into(),
            scale_min: None,
            scale_max: None,
            factors: vec![factor("on_time", "On-time departure", "0.35")],
        })
        .expect("valid");
        assert_eq!(set.scale, Scale::default());
        assert_eq!(set.name.as_ref(), "Airline");
    }
}
