//! The document's examples: the messages under `examples/api/`, which `tests/it/openapi.rs`
//! sends to a running switch, so an example the switch stops accepting fails the tests.

use utoipa::openapi::path::Operation;
use utoipa::openapi::OpenApi;

/// (path, method, media type, example text).
const REQUESTS: [(&str, &str, &str, &str); 5] = [
    (
        "/identifiers/inbound/identifier-determination-sync",
        "post",
        "application/json",
        include_str!("../../examples/api/payshap-identifier-determination.json"),
    ),
    (
        "/transactions/inbound/credit-transfer-completion",
        "post",
        "application/json",
        include_str!("../../examples/api/payshap-credit-transfer-completion.json"),
    ),
    (
        "/admin/proxies",
        "post",
        "application/json",
        include_str!("../../examples/api/proxy-registration.json"),
    ),
    (
        "/admin/proxies/{proxy_id}",
        "patch",
        "application/json",
        include_str!("../../examples/api/proxy-change.json"),
    ),
    (
        "/backoffice/api/days/{day}/statements/{partner_id}",
        "post",
        "text/csv",
        include_str!("../../examples/api/partner-statement.csv"),
    ),
];

fn operation<'a>(document: &'a mut OpenApi, path: &str, method: &str) -> Option<&'a mut Operation> {
    let item = document.paths.paths.get_mut(path)?;
    match method {
        "post" => item.post.as_mut(),
        "patch" => item.patch.as_mut(),
        _ => None,
    }
}

/// Puts each example on its operation's request body. An example that does not parse, or
/// an operation that is gone, is a bug the document's test names.
pub fn attach(document: &mut OpenApi) {
    for (path, method, media_type, text) in REQUESTS {
        let example = if media_type == "application/json" {
            serde_json::from_str(text).expect("examples/api holds valid JSON")
        } else {
            serde_json::Value::String(text.to_owned())
        };
        let content = operation(document, path, method)
            .and_then(|operation| operation.request_body.as_mut())
            .and_then(|body| body.content.get_mut(media_type));
        if let Some(content) = content {
            content.example = Some(example);
        }
    }
}
