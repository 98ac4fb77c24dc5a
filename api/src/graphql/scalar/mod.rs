//! Scalars and id parsing.

mod date;
mod id;

pub use date::Date;
pub use id::parse_id;
