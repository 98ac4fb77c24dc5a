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
mod german;
mod loyalty;

/// A login created for the demo, printed once on the console.
#[derive(Clone, Debug)]
pub struct DemoLogin {
    pub role: Role,
    pub email: String,
    pub password: String,
}

/// What the demo printed once: the staff logins and one open invitation
/// to the German survey.
#[derive(Clone, Debug)]
pub struct Demo {
    pub logins: Vec<DemoLogin>,
    /// The German survey's title.
    pub german_survey: &'static str,
    /// The token of an unanswered invitation to it (its form is
    /// `{publicUrl}/s/{token}`); none without demo customers.
    pub german_token: Option<String>,
}

/// Fills an empty database with a realistic data set and returns the staff logins.
///
/// # Errors
/// On any database failure; nothing is half-seeded for a given area.
pub async fn seed(db: &DatabaseConnection, users: &UserService) -> DomainResult<Vec<DemoLogin>> {
    Ok(seed_demo(db, users).await?.logins)
}

/// [`seed`], also returning an open invitation to the German survey.
///
/// # Errors
/// On any database failure; nothing is half-seeded for a given area.
pub async fn seed_demo(db: &DatabaseConnection, users: &UserService) -> DomainResult<Demo> {
    let mut logins = Vec::new();
    let mut admin = None;
    for (role, email) in [
        (Role::Admin, "admin@demo.rapport.dev"),
        (Role::Manager, "manager@demo.rapport.dev"),
        (Role::Agent, "agent@demo.rapport.dev"),
    ] {
        let password = Alphanumeric.sample_string(&mut rand::rng(), 16);
        let user = users
            .create_user(None, email, password.clone(), role)
            .await?;
        if role == Role::Admin {
            admin = Some(domain::auth::Actor {
                user_id: user.id,
                role,
            });
        }
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
    let german_token = match &admin {
        Some(admin) => german::seed(db, admin).await?,
        None => None,
    };
    Ok(Demo {
        logins,
        german_survey: german::TITLE,
        german_token,
    })
}
