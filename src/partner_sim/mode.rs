//! The simulator's modes: how it answers.

use serde::{Deserialize, Serialize};

/// How the simulator answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "mode", content = "ms")]
pub enum Mode {
    /// 201 `PaymentResponse` / 202 for advices.
    Approve,
    /// 400 `ErrorDetail` DECLINED_BY_PARTNER (advices are still accepted).
    Decline,
    /// Wait this many milliseconds, then approve.
    Delay(u64),
    /// 500 `ErrorDetail` to everything.
    Fail,
    /// Never answer (until [`HANG_MS`]).
    Hang,
}

impl std::str::FromStr for Mode {
    type Err = String;

    /// `approve`, `decline`, `fail`, `hang` or `delay:MS`.
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        match text {
            "approve" => Ok(Mode::Approve),
            "decline" => Ok(Mode::Decline),
            "fail" => Ok(Mode::Fail),
            "hang" => Ok(Mode::Hang),
            other => other
                .strip_prefix("delay:")
                .and_then(|ms| ms.parse().ok())
                .map(Mode::Delay)
                .ok_or_else(|| format!("{other:?}: use approve, decline, fail, hang or delay:MS")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn modes_parse_from_the_command_line() {
        assert_eq!("approve".parse(), Ok(Mode::Approve));
        assert_eq!("delay:250".parse(), Ok(Mode::Delay(250)));
        assert!("delay:soon".parse::<Mode>().is_err());
        assert!("sometimes".parse::<Mode>().is_err());
    }

    #[test]
    fn modes_round_trip_as_json() {
        let json = serde_json::to_value(Mode::Delay(5)).unwrap();
        assert_eq!(json, json!({ "mode": "delay", "ms": 5 }));
        assert_eq!(
            serde_json::from_value::<Mode>(json!({ "mode": "hang" })).unwrap(),
            Mode::Hang
        );
    }
}
