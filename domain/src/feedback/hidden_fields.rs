//! Hidden fields: values an invitation carries into its response (an order
//! number, a shop, a campaign) that the respondent never sees.
//!
//! A survey declares its keys; `inviteToSurvey` gives each recipient values
//! for some of them; the response keeps the invitation's values, and staff
//! filter responses by one key's value and find them in the CSV export.
//! Neither the public query nor the form shows them. Bounds: at most
//! [`MAX_FIELDS`] keys per survey, keys of at most [`MAX_KEY_LEN`] letters,
//! digits and `_` starting with a letter, values of at most
//! [`MAX_VALUE_LEN`] characters without control characters.
//!
//! Values may identify a person (an order number leads to a name), so
//! erasing a customer clears them from the customer's invitations and
//! responses ([`super::customers::on_customer_erased`]).

use std::collections::BTreeMap;

use crate::error::{DomainError, DomainResult};
use crate::sql::Sql;
use sea_orm::DbBackend;

/// Most hidden fields one survey may declare.
pub const MAX_FIELDS: usize = 20;
/// Longest key.
pub const MAX_KEY_LEN: usize = 64;
/// Longest value.
pub const MAX_VALUE_LEN: usize = 500;

/// Hidden field values by key.
pub type HiddenValues = BTreeMap<String, String>;

/// One recipient's values in an `inviteToSurvey` call.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RecipientFields {
    pub customer_id: i64,
    /// `(key, value)` pairs, each key declared by the survey, once.
    pub values: Vec<(String, String)>,
}

fn check_key(field: &str, key: &str) -> DomainResult<()> {
    let mut chars = key.chars();
    let well_formed = chars.next().is_some_and(|c| c.is_ascii_alphabetic())
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
        && key.len() <= MAX_KEY_LEN;
    if !well_formed {
        return Err(DomainError::validation(
            field,
            format!("a key is 1 to {MAX_KEY_LEN} letters, digits and _, starting with a letter"),
        ));
    }
    Ok(())
}

/// Checks a survey's declared keys (`hiddenFields`).
///
/// # Errors
/// `BAD_USER_INPUT` on `hiddenFields` or `hiddenFields.<i>`.
pub(crate) fn check_keys(keys: Vec<String>) -> DomainResult<Vec<String>> {
    if keys.len() > MAX_FIELDS {
        return Err(DomainError::validation(
            "hiddenFields",
            format!("at most {MAX_FIELDS} hidden fields"),
        ));
    }
    let mut out: Vec<String> = Vec::with_capacity(keys.len());
    for (i, key) in keys.into_iter().enumerate() {
        let field = format!("hiddenFields.{i}");
        check_key(&field, &key)?;
        if out.contains(&key) {
            return Err(DomainError::validation(field, "keys must be unique"));
        }
        out.push(key);
    }
    Ok(out)
}

fn check_value(field: &str, value: &str) -> DomainResult<()> {
    if value.chars().count() > MAX_VALUE_LEN {
        return Err(DomainError::validation(
            field,
            format!("must be at most {MAX_VALUE_LEN} characters"),
        ));
    }
    if value.chars().any(char::is_control) {
        return Err(DomainError::validation(
            field,
            "must not contain control characters",
        ));
    }
    Ok(())
}

/// Checks one recipient's values against the survey's `declared` keys;
/// errors name `<field>.<j>.key` or `<field>.<j>.value`.
///
/// # Errors
/// `BAD_USER_INPUT`: an undeclared or repeated key, a value too long.
pub(crate) fn check_values(
    field: &str,
    declared: &[String],
    values: &[(String, String)],
) -> DomainResult<HiddenValues> {
    let mut out = HiddenValues::new();
    for (j, (key, value)) in values.iter().enumerate() {
        let key_field = format!("{field}.{j}.key");
        if !declared.contains(key) {
            return Err(DomainError::validation(
                key_field,
                format!("the survey declares no hidden field {key:?}"),
            ));
        }
        check_value(&format!("{field}.{j}.value"), value)?;
        if out.insert(key.clone(), value.clone()).is_some() {
            return Err(DomainError::validation(key_field, "given more than once"));
        }
    }
    Ok(out)
}

/// The stored form of a survey's keys (none: `NULL`).
pub(crate) fn keys_to_json(keys: &[String]) -> Option<String> {
    (!keys.is_empty()).then(|| serde_json::to_string(keys).unwrap_or_default())
}

/// The stored form of values (none: `NULL`).
pub(crate) fn values_to_json(values: &HiddenValues) -> Option<String> {
    (!values.is_empty()).then(|| serde_json::to_string(values).unwrap_or_default())
}

fn corrupt(raw: &str) -> DomainError {
    DomainError::Internal(anyhow::anyhow!(
        "stored hidden fields {raw:?} are not understood"
    ))
}

/// Reads stored keys.
///
/// # Errors
/// `INTERNAL` on unreadable JSON.
pub(crate) fn parse_keys(raw: Option<&str>) -> DomainResult<Vec<String>> {
    raw.map_or(Ok(Vec::new()), |raw| {
        serde_json::from_str(raw).map_err(|_| corrupt(raw))
    })
}

/// Reads stored values, in key order.
///
/// # Errors
/// `INTERNAL` on unreadable JSON.
pub(crate) fn parse_values(raw: Option<&str>) -> DomainResult<Vec<(String, String)>> {
    let values: HiddenValues = raw.map_or(Ok(HiddenValues::new()), |raw| {
        serde_json::from_str(raw).map_err(|_| corrupt(raw))
    })?;
    Ok(values.into_iter().collect())
}

/// Appends ` AND <r.hidden_fields has key = value>` for the response list's
/// filter, after checking both (errors name `filter.hiddenField.key|value`).
///
/// # Errors
/// `BAD_USER_INPUT` on a malformed key or an overlong value.
pub(crate) fn push_filter(sql: &mut Sql, key: &str, value: &str) -> DomainResult<()> {
    check_key("filter.hiddenField.key", key)?;
    check_value("filter.hiddenField.value", value)?;
    if sql.backend() == DbBackend::Postgres {
        sql.push(" AND (r.hidden_fields::jsonb ->> ")
            .bind(key.to_owned())
            .push(") = ")
            .bind(value.to_owned());
    } else {
        // The key's syntax (letters, digits, _) makes `$.key` a plain path.
        sql.push(" AND json_extract(r.hidden_fields, ")
            .bind(format!("$.{key}"))
            .push(") = ")
            .bind(value.to_owned());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn field_of<T>(result: DomainResult<T>) -> Option<String> {
        match result {
            Err(DomainError::Validation { field, .. }) => Some(field),
            _ => None,
        }
    }

    #[test]
    fn keys_and_values_are_bounded() {
        let key = |s: &str| s.to_owned();
        assert_eq!(
            check_keys(vec![key("orderNumber"), key("shop_2")]).expect("valid"),
            vec!["orderNumber", "shop_2"]
        );
        for bad in ["", "2nd", "order-number", "ä", &"k".repeat(MAX_KEY_LEN + 1)] {
            assert_eq!(
                field_of(check_keys(vec![key("a"), key(bad)])).as_deref(),
                Some("hiddenFields.1"),
                "{bad:?}"
            );
        }
        assert_eq!(
            field_of(check_keys(vec![key("a"), key("a")])).as_deref(),
            Some("hiddenFields.1")
        );
        let many = (0..=MAX_FIELDS).map(|i| format!("k{i}")).collect();
        assert_eq!(field_of(check_keys(many)).as_deref(), Some("hiddenFields"));

        let declared = vec![key("orderNumber")];
        let pair = |k: &str, v: &str| (k.to_owned(), v.to_owned());
        let checked = check_values("v", &declared, &[pair("orderNumber", "A-1")]).expect("valid");
        assert_eq!(
            values_to_json(&checked).as_deref(),
            Some(r#"{"orderNumber":"A-1"}"#)
        );
        let cases = [
            (vec![pair("shop", "x")], "v.0.key"),
            (
                vec![pair("orderNumber", "a"), pair("orderNumber", "b")],
                "v.1.key",
            ),
            (
                vec![pair("orderNumber", &"x".repeat(MAX_VALUE_LEN + 1))],
                "v.0.value",
            ),
            (vec![pair("orderNumber", "a\nb")], "v.0.value"),
        ];
        for (values, field) in cases {
            assert_eq!(
                field_of(check_values("v", &declared, &values)).as_deref(),
                Some(field)
            );
        }
        assert!(check_values(
            "v",
            &declared,
            &[pair("orderNumber", &"x".repeat(MAX_VALUE_LEN))]
        )
        .is_ok());
    }
}
