//! Validated values shared by several areas ("parse, don't validate").
//!
//! Each type has a private field and one constructor that enforces its rule,
//! so a value of the type is valid wherever it travels.

use crate::error::{DomainError, DomainResult};

/// A syntactically valid e-mail address, trimmed and lower-cased.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Email(String);

impl Email {
    /// Longest address accepted (RFC 5321 path limit).
    pub const MAX_LEN: usize = 254;

    /// Parses `raw` as an address for the input field `field`.
    ///
    /// # Errors
    /// `BAD_USER_INPUT` when it is empty, too long, or not `local@domain.tld`.
    pub fn parse(field: &str, raw: &str) -> DomainResult<Self> {
        let value = raw.trim().to_lowercase();
        let bad = |reason: &str| Err(DomainError::validation(field, reason));
        if value.is_empty() {
            return bad("must not be empty");
        }
        if value.len() > Self::MAX_LEN {
            return bad("must be at most 254 characters");
        }
        let Some((local, domain)) = value.split_once('@') else {
            return bad("must be an e-mail address like name@example.com");
        };
        let domain_ok = domain.contains('.')
            && !domain.starts_with('.')
            && !domain.ends_with('.')
            && !domain.contains("..")
            && domain
                .chars()
                .all(|c| c.is_alphanumeric() || c == '.' || c == '-');
        let local_ok = !local.is_empty()
            && local.len() <= 64
            && !local
                .chars()
                .any(|c| c.is_whitespace() || c.is_control() || "<>()[],;:\\\"@".contains(c));
        if !domain_ok || !local_ok {
            return bad("must be an e-mail address like name@example.com");
        }
        Ok(Self(value))
    }
}

impl AsRef<str> for Email {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl From<Email> for String {
    fn from(email: Email) -> Self {
        email.0
    }
}

/// A staff password as typed at login or creation.
///
/// Its length is bounded before any hashing, so a megabyte-long password costs
/// nothing but the request.
#[derive(Clone)]
pub struct Password(String);

impl Password {
    /// Shortest password accepted for new accounts.
    pub const MIN_LEN: usize = 12;
    /// Longest password accepted anywhere (in bytes).
    pub const MAX_LEN: usize = 1024;
    /// Lowest zxcvbn score (0–4) accepted for a new password: 3 means "safely
    /// unguessable" (at least 10^8 guesses).
    pub const MIN_SCORE: u8 = 3;

    /// Accepts a password for login: only the upper bound applies.
    ///
    /// # Errors
    /// `BAD_USER_INPUT` on `password` when it is longer than [`Self::MAX_LEN`].
    pub fn for_login(raw: String) -> DomainResult<Self> {
        if raw.len() > Self::MAX_LEN {
            return Err(DomainError::validation("password", "is too long"));
        }
        Ok(Self(raw))
    }

    /// Accepts a new password: at least [`Self::MIN_LEN`] characters and a
    /// zxcvbn strength score of at least [`Self::MIN_SCORE`] (of 4), judged
    /// with `user_inputs` (such as the account's e-mail) as known words.
    ///
    /// # Errors
    /// `BAD_USER_INPUT` on `password` when too short, too long or too easy to guess.
    pub fn new_secret(raw: String, user_inputs: &[&str]) -> DomainResult<Self> {
        if raw.chars().count() < Self::MIN_LEN {
            return Err(DomainError::validation(
                "password",
                "must be at least 12 characters",
            ));
        }
        let password = Self::for_login(raw)?;
        let strength = zxcvbn::zxcvbn(&password.0, user_inputs);
        let score = u8::from(strength.score());
        if score < Self::MIN_SCORE {
            let why = strength
                .feedback()
                .and_then(|f| f.warning())
                .map(|w| format!(" ({w})"))
                .unwrap_or_default();
            return Err(DomainError::validation(
                "password",
                format!(
                    "is too easy to guess{why}: strength {score} of 4, at least {} needed; \
                     use a longer passphrase of uncommon words",
                    Self::MIN_SCORE
                ),
            ));
        }
        Ok(password)
    }

    /// The raw bytes, for hashing only.
    pub fn expose(&self) -> &[u8] {
        self.0.as_bytes()
    }
}

impl std::fmt::Debug for Password {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Password(***)")
    }
}

/// Trims `raw` and checks it is non-empty, at most `max` characters, and free
/// of control characters other than newlines and tabs.
///
/// # Errors
/// `BAD_USER_INPUT` on `field`.
pub fn required_text(field: &str, raw: &str, max: usize) -> DomainResult<String> {
    let value = raw.trim();
    if value.is_empty() {
        return Err(DomainError::validation(field, "must not be empty"));
    }
    bounded_text(field, value, max)
}

/// Like [`required_text`] for optional text: blank becomes `None`.
///
/// # Errors
/// `BAD_USER_INPUT` on `field`.
pub fn optional_text(field: &str, raw: Option<&str>, max: usize) -> DomainResult<Option<String>> {
    match raw.map(str::trim) {
        None | Some("") => Ok(None),
        Some(value) => bounded_text(field, value, max).map(Some),
    }
}

fn bounded_text(field: &str, value: &str, max: usize) -> DomainResult<String> {
    if value.chars().count() > max {
        return Err(DomainError::validation(
            field,
            format!("must be at most {max} characters"),
        ));
    }
    if value
        .chars()
        .any(|c| c.is_control() && c != '\n' && c != '\t' && c != '\r')
    {
        return Err(DomainError::validation(
            field,
            "must not contain control characters",
        ));
    }
    Ok(value.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn email_rejects_malformed_addresses() {
        let rejects = [
            ("", "empty"),
            ("   ", "blank"),
            ("plainaddress", "no at sign"),
            ("@example.com", "no local part"),
            ("a@", "no domain"),
            ("a@example", "no dot in domain"),
            ("a@.example.com", "leading dot"),
            ("a@example..com", "double dot"),
            ("a b@example.com", "space"),
            ("a@b@example.com", "two at signs"),
        ];
        for (raw, why) in rejects {
            assert!(Email::parse("email", raw).is_err(), "{why}: {raw:?}");
        }
        let long = format!("{}@example.com", "a".repeat(250));
        assert!(Email::parse("email", &long).is_err(), "too long");
    }

    #[test]
    fn email_accepts_and_normalises() {
        for raw in ["Ann@Example.com", " bob.smith+tag@mail.example.co.uk "] {
            let email = Email::parse("email", raw).expect("valid");
            assert_eq!(email.as_ref(), raw.trim().to_lowercase());
        }
    }

    #[test]
    fn text_rules() {
        assert!(required_text("name", "  ", 10).is_err());
        assert!(required_text("name", "abcdefghijk", 10).is_err());
        assert!(required_text("name", "a\u{0}b", 10).is_err());
        assert_eq!(
            required_text("name", " Ann ", 10).ok().as_deref(),
            Some("Ann")
        );
        assert_eq!(optional_text("note", Some(" "), 10).ok(), Some(None));
    }

    #[test]
    fn password_bounds() {
        assert!(Password::new_secret("short".into(), &[]).is_err());
        assert!(Password::for_login("x".repeat(2000)).is_err());
        assert!(Password::new_secret("correct horse battery".into(), &[]).is_ok());
    }

    #[test]
    fn weak_passwords_are_refused_by_strength() {
        for weak in [
            "aaaaaaaaaaaa",
            "password1234",
            "qwertyuiop12",
            "abcdefghijkl",
            "123456789012",
            "ann@example.com1",
        ] {
            let err = Password::new_secret(weak.into(), &["ann@example.com"])
                .err()
                .unwrap_or_else(|| panic!("{weak} accepted"));
            assert!(
                err.to_string().contains("too easy to guess"),
                "{weak}: {err}"
            );
        }
        for fine in [
            "correct horse battery staple",
            "tangerine orbit lantern 47",
            "Q7r!vX2m#Lp9zT4k",
        ] {
            assert!(Password::new_secret(fine.into(), &[]).is_ok(), "{fine}");
        }
    }

    /// The passwords the demo, tests, soak, fuzz and bench scripts create
    /// accounts with still pass the rule.
    #[test]
    fn fixture_passwords_pass_the_strength_rule() {
        for p in [
            "correct horse battery staple",
            "long enough password",
            "a long enough password",
            "Sup3r-Secret-Passphrase-XYZ",
            "bench-password-1",
            "soak admin password 1",
            "fuzzing admin password",
            "Xk29dLq0PzR7mWb3",
        ] {
            assert!(Password::new_secret(p.into(), &[]).is_ok(), "{p}");
        }
    }
}
