//! Argon2id password hashing off the async workers, with bounded concurrency.

use std::sync::{Arc, OnceLock};

use argon2::password_hash::phc::PasswordHash;
use argon2::password_hash::{PasswordHasher as _, PasswordVerifier as _};
use argon2::{Algorithm, Argon2, Params, Version};
use tokio::sync::Semaphore;

use crate::error::{DomainError, DomainResult};
use crate::validation::Password;

/// Hashes and verifies passwords with OWASP's argon2id parameters
/// (m = 19 MiB, t = 2, p = 1).
#[derive(Clone)]
pub struct PasswordHasher {
    permits: Arc<Semaphore>,
    concurrency: usize,
}

impl PasswordHasher {
    /// A hasher that runs at most `concurrency` hashes at once, so a burst of
    /// logins cannot take every core or a gigabyte of memory.
    pub fn new(concurrency: usize) -> Self {
        Self {
            permits: Arc::new(Semaphore::new(concurrency.max(1))),
            concurrency: concurrency.max(1),
        }
    }

    /// Hashes run at once, at most.
    pub fn concurrency(&self) -> usize {
        self.concurrency
    }

    fn argon2() -> Argon2<'static> {
        let params = Params::new(19 * 1024, 2, 1, None).unwrap_or_default();
        Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
    }

    /// Hashes a new password into a PHC string.
    ///
    /// # Errors
    /// `INTERNAL` if hashing fails.
    pub async fn hash(&self, password: Password) -> DomainResult<String> {
        self.run(move || {
            Self::argon2()
                .hash_password(password.expose())
                .map(|h| h.to_string())
                .map_err(|e| anyhow::anyhow!("hashing failed: {e}"))
        })
        .await
    }

    /// Verifies `password` against `stored`; with no stored hash it verifies
    /// against a fixed dummy so the time taken does not reveal the account.
    ///
    /// # Errors
    /// `INTERNAL` if the task fails.
    pub async fn verify(&self, password: Password, stored: Option<String>) -> DomainResult<bool> {
        let known = stored.is_some();
        let phc = stored.unwrap_or_else(|| dummy_hash().to_owned());
        let ok = self
            .run(move || {
                let parsed =
                    PasswordHash::new(&phc).map_err(|e| anyhow::anyhow!("bad hash: {e}"))?;
                Ok(Self::argon2()
                    .verify_password(password.expose(), &parsed)
                    .is_ok())
            })
            .await?;
        Ok(ok && known)
    }

    async fn run<T: Send + 'static>(
        &self,
        work: impl FnOnce() -> anyhow::Result<T> + Send + 'static,
    ) -> DomainResult<T> {
        let _permit = self
            .permits
            .acquire()
            .await
            .map_err(|e| DomainError::Internal(e.into()))?;
        let span = tracing::Span::current();
        tokio::task::spawn_blocking(move || span.in_scope(work))
            .await
            .map_err(|e| DomainError::Internal(e.into()))?
            .map_err(DomainError::Internal)
    }
}

/// A hash of a random password, computed once, used for unknown accounts.
fn dummy_hash() -> &'static str {
    static DUMMY: OnceLock<String> = OnceLock::new();
    DUMMY.get_or_init(|| {
        let secret: [u8; 16] = rand::random();
        PasswordHasher::argon2()
            .hash_password(&secret)
            .map(|h| h.to_string())
            .unwrap_or_default()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn hashes_verify_and_wrong_passwords_fail() {
        let hasher = PasswordHasher::new(2);
        let secret = || Password::for_login("correct horse battery".into()).expect("ok");
        let hash = hasher.hash(secret()).await.expect("hash");
        assert!(hash.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"));
        assert!(hasher
            .verify(secret(), Some(hash.clone()))
            .await
            .expect("v"));
        let wrong = Password::for_login("wrong horse battery".into()).expect("ok");
        assert!(!hasher.verify(wrong, Some(hash)).await.expect("v"));
        assert!(!hasher.verify(secret(), None).await.expect("v"));
    }
}
