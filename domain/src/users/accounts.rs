//! Staff accounts: creating, finding, listing and changing users.

use std::collections::HashMap;

use chrono::Utc;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, DatabaseConnection, EntityTrait, PaginatorTrait, QueryFilter,
    Set,
};

use super::{PasswordHasher, User};
use crate::auth::Role;
use crate::error::{DbResultExt, DomainError, DomainResult};
use crate::pagination::{id_keyset_page, IdOrder, Page, PageRequest};
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

/// A page of users, by id.
pub(super) async fn page(
    db: &DatabaseConnection,
    request: &PageRequest<i64>,
) -> DomainResult<Page<User>> {
    id_keyset_page(
        db,
        users::Entity::find(),
        users::Column::Id,
        IdOrder::Ascending,
        request,
        |rows| std::future::ready(rows.into_iter().map(User::try_from).collect()),
        |u: &User| u.id,
    )
    .await
}

/// How many users exist.
pub(super) async fn count(db: &DatabaseConnection) -> DomainResult<i64> {
    let n = users::Entity::find().count(db).await?;
    Ok(i64::try_from(n).unwrap_or(i64::MAX))
}

/// Users by id (one statement); missing ids are absent from the map.
pub(super) async fn by_ids(
    db: &DatabaseConnection,
    ids: &[i64],
) -> DomainResult<HashMap<i64, User>> {
    if ids.is_empty() {
        return Ok(HashMap::new());
    }
    users::Entity::find()
        .filter(users::Column::Id.is_in(ids.iter().copied()))
        .all(db)
        .await?
        .into_iter()
        .map(|m| User::try_from(m).map(|u| (u.id, u)))
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
