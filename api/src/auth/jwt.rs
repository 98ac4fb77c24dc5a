//! Access tokens: HS256 JWTs with the algorithm pinned and every registered
//! claim checked (`exp`, `nbf`, `iat`, `iss`, `aud`, `sub`) plus a typed `typ`
//! claim, so no other token the server issues can pass as an access token.

use std::time::Duration;

use chrono::{DateTime, Utc};
use domain::auth::Role;
use jsonwebtoken::{decode, encode, Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};

/// The issuer and audience written into and demanded of every token.
pub const ISSUER: &str = "rapport";
/// The audience of access tokens: the GraphQL API.
pub const AUDIENCE: &str = "rapport-api";

/// The only kind of JWT this server accepts as a bearer token.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TokenKind {
    Access,
}

/// Claims of an access token.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Claims {
    pub iss: String,
    pub aud: String,
    pub sub: String,
    pub iat: i64,
    pub nbf: i64,
    pub exp: i64,
    pub typ: TokenKind,
    pub role: Role,
    pub jti: String,
}

/// Signing and verification keys with the pinned validation rules.
#[derive(Clone)]
pub struct JwtKeys {
    encoding: EncodingKey,
    decoding: DecodingKey,
    validation: Validation,
    ttl: Duration,
}

impl JwtKeys {
    /// Keys from an HMAC secret; tokens live `ttl`.
    pub fn new(secret: &[u8], ttl: Duration) -> Self {
        let mut validation = Validation::new(Algorithm::HS256);
        validation.algorithms = vec![Algorithm::HS256];
        validation.set_issuer(&[ISSUER]);
        validation.set_audience(&[AUDIENCE]);
        validation.set_required_spec_claims(&["exp", "nbf", "iat", "iss", "aud", "sub"]);
        validation.validate_exp = true;
        validation.validate_nbf = true;
        validation.leeway = 5;
        Self {
            encoding: EncodingKey::from_secret(secret),
            decoding: DecodingKey::from_secret(secret),
            validation,
            ttl,
        }
    }

    /// Access token lifetime.
    pub fn ttl(&self) -> Duration {
        self.ttl
    }

    /// Signs an access token for `user_id` with `role`.
    ///
    /// # Errors
    /// Only if signing fails.
    pub fn issue(&self, user_id: i64, role: Role) -> anyhow::Result<(String, DateTime<Utc>)> {
        self.issue_at(user_id, role, Utc::now(), uuid::Uuid::new_v4().to_string())
    }

    /// Signs an access token issued at `now` with the id `jti`: the same
    /// arguments give the same token.
    ///
    /// # Errors
    /// Only if signing fails.
    pub fn issue_at(
        &self,
        user_id: i64,
        role: Role,
        now: DateTime<Utc>,
        jti: String,
    ) -> anyhow::Result<(String, DateTime<Utc>)> {
        let expires_at = now + chrono::Duration::from_std(self.ttl)?;
        let claims = Claims {
            iss: ISSUER.to_owned(),
            aud: AUDIENCE.to_owned(),
            sub: user_id.to_string(),
            iat: now.timestamp(),
            nbf: now.timestamp(),
            exp: expires_at.timestamp(),
            typ: TokenKind::Access,
            role,
            jti,
        };
        let token = encode(&Header::new(Algorithm::HS256), &claims, &self.encoding)?;
        Ok((token, expires_at))
    }

    /// Verifies a token; `None` for anything not a valid access token.
    pub fn verify(&self, token: &str) -> Option<Claims> {
        if token.len() > 4096 {
            return None;
        }
        decode::<Claims>(token, &self.decoding, &self.validation)
            .ok()
            .map(|data| data.claims)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signs_and_verifies_and_refuses_another_key() {
        let keys = JwtKeys::new(&[7u8; 32], Duration::from_secs(60));
        let (token, _) = keys.issue(42, Role::Agent).expect("sign");
        let claims = keys.verify(&token).expect("valid");
        assert_eq!((claims.sub.as_str(), claims.role), ("42", Role::Agent));
        let other = JwtKeys::new(&[8u8; 32], Duration::from_secs(60));
        assert!(other.verify(&token).is_none());
        let mut tampered = token.clone();
        tampered.pop();
        assert!(keys.verify(&tampered).is_none());
    }
}
