//! Staff accounts: creating, finding, listing and changing users.

use chrono::Utc;
use sea_orm::{ActiveModelTrait, DatabaseConnection, EntityTrait, QueryOrder, Set};

use super::{PasswordHasher, User};
use crate::auth::Role;
use crate::error::{DbResultExt, DomainError, DomainResult};
use crate::validation::{Email, Password};
use entity::users;

/// Creates an active account with a hashed password.
pub(super) async fn create(
    db: &DatabaseConnection,
    hasher: &PasswordHasher,
    email: &str,
    password: String,
    role: Role,
) -> DomainResult<User> {
    let email = Email::parse("email", email)?;
    let password = Password::new_secret(password, &[email.as_ref()])?;
    let hash = hasher.hash(password).await?;
    let now = Utc::now();
    let model = users::ActiveModel {
        email: Set(email.into()),
        password_hash: Set(hash),
        role: Set(role.as_str().to_owned()),
        active: Set(true),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    }
    .insert(db)
    .await
    .on_unique("a user with this email already exists")?;
    User::try_from(model)
}

/// One user, if any.
pub(super) async fn find(db: &DatabaseConnection, id: i64) -> DomainResult<Option<User>> {
    users::Entity::find_by_id(id)
        .one(db)
        .await?
        .map(User::try_from)
        .transpose()
}

/// Every user, by id.
pub(super) async fn list(db: &DatabaseConnection) -> DomainResult<Vec<User>> {
    users::Entity::find()
        .order_by_asc(users::Column::Id)
        .all(db)
        .await?
        .into_iter()
        .map(User::try_from)
        .collect()
}

/// Applies `change` to a user in its own transaction.
pub(super) async fn update(
    db: &DatabaseConnection,
    user_id: i64,
    change: impl FnOnce(&mut users::ActiveModel),
) -> DomainResult<User> {
    let txn = crate::db::begin_write(db).await?;
    let model = users::Entity::find_by_id(user_id)
        .one(&txn)
        .await?
        .ok_or(DomainError::NotFound("user"))?;
    let mut active: users::ActiveModel = model.into();
    change(&mut active);
    active.updated_at = Set(Utc::now());
    let model = active.update(&txn).await?;
    txn.commit().await?;
    User::try_from(model)
}
