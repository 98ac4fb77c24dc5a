//! Scalars and global ids.

mod date;
mod datetime;
mod decimal;
mod id;

pub use date::Date;
pub use datetime::DateTime;
pub use decimal::Decimal;
pub use id::{decode, global_id, parse_id, parse_key, NodeType};

/// How to write a value of the custom scalar `name`, with an example, for
/// error messages.
pub fn hint(name: &str) -> Option<String> {
    match name {
        "Date" => Some(format!("write it like {} (ISO 8601)", date::EXAMPLE)),
        "DateTime" => Some(format!(
            "write it like {} (RFC 3339, with an offset)",
            datetime::EXAMPLE
        )),
        "Decimal" => Some(format!(
            "write it as a string in plain decimal notation, like {} (JSON numbers and exponents are refused)",
            decimal::EXAMPLE
        )),
        _ => None,
    }
}
