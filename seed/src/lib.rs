//! The demo data set behind `rapport seed-demo` and `serve --demo`.

use rand::distr::{Alphanumeric, SampleString};
use sea_orm::DatabaseConnection;

use domain::auth::Role;
use domain::error::DomainResult;
use domain::users::UserService;

pub mod bench;
mod csi;
mod customers;
mod feedback;
mod loyalty;

/// A login created for the demo, printed once on the console.
#[derive(Clone, Debug)]
pub struct DemoLogin {
    pub role: Role,
    pub email: String,
    pub password: String,
}

/// Fills an empty database with a realistic data set and returns the staff logins.
///
/// # Errors
/// On any database failure; nothing is half-seeded for a given area.
pub async fn seed(db: &DatabaseConnection, users: &UserService) -> DomainResult<Vec<DemoLogin>> {
    let mut logins = Vec::new();
    for (role, email) in [
        (Role::Admin, "admin@demo.rapport.dev"),
        (Role::Manager, "manager@demo.rapport.dev"),
        (Role::Agent, "agent@demo.rapport.dev"),
    ] {
        let password = Alphanumeric.sample_string(&mut rand::rng(), 16);
        users
            .create_user(None, email, password.clone(), role)
            .await?;
        logins.push(DemoLogin {
            role,
            email: email.to_owned(),
            password,
        });
    }
    // Order matters: later areas build on earlier ones.
    customers::seed(db).await?;
    loyalty::seed(db).await?;
    csi::seed(db).await?;
    feedback::seed(db).await?;
    Ok(logins)
}
