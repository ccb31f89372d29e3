//! Stored events of an older shape, brought to today's before they are decoded.
//!
//! A stored event is never rewritten: its bytes are what its hash chains (docs/audit.md).
//! When a variant changes shape it gets a new `event_version`, and an upcaster here turns
//! the stored JSON of the older version into the newer one at read time, for the aggregates
//! (through the event repository) and the views (through the feed) alike.
//!
//! | Aggregate | Event        | Stored | Read as | Change                                          |
//! |-----------|--------------|--------|---------|-------------------------------------------------|
//! | Payment   | `Authorised` | 1.0    | 2.0     | `partner_reference` taken from the partner's answer |

use serde_json::Value;

use crate::payment::PartnerReference;

/// The version every event is written with, unless named in [`current_version`].
pub const BASE_VERSION: &str = "1.0";

/// The version today's code writes for `event_type` of `aggregate_type`.
pub fn current_version(aggregate_type: &str, event_type: &str) -> &'static str {
    match (aggregate_type, event_type) {
        ("Payment", "Authorised") => "2.0",
        _ => BASE_VERSION,
    }
}

/// Whether an event stored as `version` must be upcast before it is decoded.
pub fn needs_upcast(aggregate_type: &str, event_type: &str, version: &str) -> bool {
    version != current_version(aggregate_type, event_type)
}

/// Why a stored event cannot be read by today's code.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{aggregate_type} event {event_type} version {version} has no upcaster to {current}")]
pub struct UnknownVersion {
    pub aggregate_type: String,
    pub event_type: String,
    pub version: String,
    pub current: &'static str,
}

/// Brings `payload` (the stored, externally tagged JSON) from `version` to the current one
/// in place; returns the version it now has. A version newer than today's, or one no
/// upcaster starts from, is refused rather than guessed at.
pub fn upcast(
    aggregate_type: &str,
    event_type: &str,
    version: &str,
    payload: &mut Value,
) -> Result<&'static str, UnknownVersion> {
    let current = current_version(aggregate_type, event_type);
    match (aggregate_type, event_type, version) {
        (_, _, v) if v == current => Ok(current),
        ("Payment", "Authorised", "1.0") => {
            authorised_v1_to_v2(payload);
            Ok(current)
        }
        _ => Err(UnknownVersion {
            aggregate_type: aggregate_type.to_owned(),
            event_type: event_type.to_owned(),
            version: version.to_owned(),
            current,
        }),
    }
}

/// `Authorised` 1.0 kept only the partner's raw answer; 2.0 also names its references,
/// read from that same answer, so a v1 event upcast says what a v2 one written at the time
/// would have said.
fn authorised_v1_to_v2(payload: &mut Value) {
    if let Some(fields) = payload.get_mut("Authorised").and_then(Value::as_object_mut) {
        let reference =
            PartnerReference::from_response(fields.get("response").unwrap_or(&Value::Null));
        fields.insert(
            "partner_reference".to_owned(),
            serde_json::to_value(reference).unwrap_or(Value::Null),
        );
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::payment::PaymentEvent;

    /// An `Authorised` event as version 1.0 stored it (taken from a store written then).
    fn stored_v1() -> Value {
        json!({ "Authorised": {
            "authorised_at": "2026-12-02T20:56:18.587676769Z",
            "partner_id": "demo-partner",
            "response": {
                "rrn": "000000000042",
                "tenders": [{ "tenderType": "WALLET", "reference": "SIM-0123456789ab" }],
            },
        }})
    }

    #[test]
    fn given_a_v1_authorisation_when_upcast_then_it_decodes_with_its_references() {
        let mut payload = stored_v1();
        assert!(
            serde_json::from_value::<PaymentEvent>(payload.clone()).is_err(),
            "1.0 lacks a field 2.0 requires"
        );
        assert_eq!(
            upcast("Payment", "Authorised", "1.0", &mut payload),
            Ok("2.0")
        );
        let PaymentEvent::Authorised {
            partner_reference, ..
        } = serde_json::from_value(payload).unwrap()
        else {
            panic!("still an authorisation");
        };
        assert_eq!(partner_reference.rrn.as_deref(), Some("000000000042"));
        assert_eq!(partner_reference.tender_references, ["SIM-0123456789ab"]);
        assert_eq!(partner_reference.issuer_reference, None);
    }

    #[test]
    fn given_a_current_event_when_upcast_then_it_is_unchanged() {
        let mut payload = json!({ "Completed": { "completed_at": "2026-12-02T20:56:18Z" } });
        let before = payload.clone();
        assert!(!needs_upcast("Payment", "Completed", "1.0"));
        assert_eq!(
            upcast("Payment", "Completed", "1.0", &mut payload),
            Ok("1.0")
        );
        assert_eq!(payload, before);
    }

    #[test]
    fn given_an_unknown_version_when_upcast_then_it_is_refused() {
        let mut payload = stored_v1();
        let refused = upcast("Payment", "Authorised", "3.0", &mut payload).unwrap_err();
        assert_eq!(refused.current, "2.0");
        assert!(refused.to_string().contains("3.0"), "{refused}");
        assert!(upcast("Payment", "Completed", "0.9", &mut payload).is_err());
    }

    #[test]
    fn a_v2_authorisation_is_written_as_2_0_and_others_as_1_0() {
        use cqrs_es::DomainEvent;
        let event = PaymentEvent::Completed {
            completed_at: chrono::Utc::now(),
        };
        assert_eq!(event.event_version(), "1.0");
        assert_eq!(
            current_version("Payment", &event.event_type()),
            event.event_version()
        );
        let mut payload = stored_v1();
        upcast("Payment", "Authorised", "1.0", &mut payload).unwrap();
        let authorised: PaymentEvent = serde_json::from_value(payload).unwrap();
        assert_eq!(authorised.event_version(), "2.0");
        assert_eq!(
            current_version("Payment", &authorised.event_type()),
            authorised.event_version()
        );
    }
}
