//! The refusals an operation can answer with, as sets the document attaches to operations:
//! every one of them has the body of its surface's error type.

use std::collections::BTreeMap;

use utoipa::openapi::{ContentBuilder, Ref, RefOr, Response, ResponseBuilder};
use utoipa::IntoResponses;

const BAD_REQUEST: (u16, &str) = (
    400,
    "Bad input; the message names the field. Nothing changed.",
);
const UNAUTHENTICATED: (u16, &str) = (401, "Missing or wrong credentials.");
const FORBIDDEN: (u16, &str) = (403, "This user's role may not do this.");
const NOT_FOUND: (u16, &str) = (404, "No such resource.");
const CONFLICT: (u16, &str) = (409, "The state no longer allows this. Nothing changed.");
const TOO_MANY: (u16, &str) = (429, "Too many failed sign-ins from this address; wait.");
const UNAVAILABLE: (u16, &str) = (
    503,
    "Busy, or the store is away; try again after `Retry-After` seconds.",
);

fn set(schema: &str, statuses: &[(u16, &str)]) -> BTreeMap<String, RefOr<Response>> {
    statuses
        .iter()
        .map(|(status, description)| {
            let content = ContentBuilder::new()
                .schema(Some(Ref::from_schema_name(schema)))
                .build();
            let response = ResponseBuilder::new()
                .description(*description)
                .content("application/json", content)
                .build();
            (status.to_string(), RefOr::T(response))
        })
        .collect()
}

/// What every operation of ours can be refused with (the set is keyed by status, so the
/// order here is only for reading).
const REFUSALS: [(u16, &str); 6] = [
    BAD_REQUEST,
    UNAUTHENTICATED,
    FORBIDDEN,
    NOT_FOUND,
    TOO_MANY,
    UNAVAILABLE,
];

/// What a read of the books can be refused with.
pub struct Reads;

impl IntoResponses for Reads {
    fn responses() -> BTreeMap<String, RefOr<Response>> {
        set("ErrorBody", &REFUSALS)
    }
}

/// What a command can be refused with: a read's refusals, and a state that no longer
/// allows it.
pub struct Writes;

impl IntoResponses for Writes {
    fn responses() -> BTreeMap<String, RefOr<Response>> {
        let mut responses = set("ErrorBody", &REFUSALS);
        responses.extend(set("ErrorBody", &[CONFLICT]));
        responses
    }
}

/// What PayShap inbound answers when it cannot take a message (Electrum's failure shape).
pub struct SchemeFailures;

impl IntoResponses for SchemeFailures {
    fn responses() -> BTreeMap<String, RefOr<Response>> {
        set(
            "FailureBody",
            &[
                (
                    400,
                    "Malformed (FF02) or a mandatory element missing (CH21).",
                ),
                (
                    401,
                    "The signature (`x-jwt-signature`) or the sender is not proven.",
                ),
                (403, "This party may not send it."),
                (408, "The body did not arrive in time; send again."),
                (422, "Well formed but breaks a rule (e.g. not ZAR)."),
                (503, "The switch cannot record it now; send again."),
            ],
        )
    }
}
