//! Record ids travel as GraphQL `ID`s holding the numeric key.

use async_graphql::ID;

use crate::graphql::error::{ApiError, ApiResult};

/// Parses an `ID` argument; anything but a positive integer is
/// `BAD_USER_INPUT` on `field`.
///
/// # Errors
/// As above.
pub fn parse_id(field: &str, id: &ID) -> ApiResult<i64> {
    id.parse::<i64>()
        .ok()
        .filter(|n| *n > 0)
        .ok_or_else(|| ApiError::bad_input(field, "is not a valid id"))
}
