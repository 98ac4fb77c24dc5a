//! Why a metric has no value: a closed set of codes, each with the sentence
//! shown beside it.

/// Why a metric's result is null (its denominator is zero).
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash)]
pub enum NullReason {
    /// Retention: no customers at the start of the period (`B = 0`).
    NoCustomersAtStart,
    /// Return on relationship: no purchasing customer was helped within the
    /// window (`helped = 0`).
    NoHelpedCustomers,
}

impl NullReason {
    /// The stable code.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::NoCustomersAtStart => "NO_CUSTOMERS_AT_START",
            Self::NoHelpedCustomers => "NO_HELPED_CUSTOMERS",
        }
    }

    /// The reason in words, for people.
    pub fn description(self) -> &'static str {
        match self {
            Self::NoCustomersAtStart => {
                "no customers at the start of the period, so retention is undefined"
            }
            Self::NoHelpedCustomers => {
                "no purchasing customer was helped within the window, so the return is undefined"
            }
        }
    }
}
