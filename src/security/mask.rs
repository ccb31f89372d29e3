//! What of a sensitive value may appear in a log line or on a console page: enough to
//! correlate, not enough to use.

/// `27821234567` → `2782*****67`: country and network prefix and the last two digits.
pub fn msisdn(value: &str) -> String {
    keep_ends(value, 4, 2)
}

/// Tokens and references: the first four characters only.
pub fn token(value: &str) -> String {
    keep_ends(value, 4, 0)
}

/// Names: the initial only.
pub fn name(value: &str) -> String {
    keep_ends(value, 1, 0)
}

/// Keys whose values are never shown whole: MSISDNs, tokens, secrets.
fn is_sensitive_key(key: &str) -> bool {
    let key = key.to_ascii_lowercase();
    [
        "msisdn", "token", "password", "secret", "mobile", "phone", "pin",
    ]
    .iter()
    .any(|word| key.contains(word))
}

/// Keys that hold a payer's name: shown by its initial.
fn is_payer_key(key: &str) -> bool {
    let key = key.to_ascii_lowercase();
    key.contains("debtor") || key.contains("payer")
}

/// A message or event as JSON with every sensitive value masked: MSISDNs keep their ends,
/// tokens and secrets their first four characters, payers' names their initial, whatever
/// their depth.
pub fn json(value: &serde_json::Value) -> serde_json::Value {
    use serde_json::Value;
    match value {
        // An identifier such as `{ "schema": "MOBILE", "value": "0821234567" }`.
        Value::Object(map) if map.contains_key("schema") && map["value"].is_string() => {
            let mut masked: serde_json::Map<String, Value> =
                map.iter().map(|(k, v)| (k.clone(), json(v))).collect();
            let text = map["value"].as_str().unwrap_or_default();
            masked.insert("value".to_owned(), Value::String(msisdn(text)));
            Value::Object(masked)
        }
        Value::Object(map) => Value::Object(
            map.iter()
                .map(|(key, value)| {
                    let masked = match value {
                        Value::String(text) if is_payer_key(key) => Value::String(name(text)),
                        Value::String(text) if key.to_ascii_lowercase().contains("proxy") => {
                            Value::String(proxy(text))
                        }
                        Value::String(text) if is_sensitive_key(key) => {
                            let is_number = key.to_ascii_lowercase().contains("msisdn")
                                || key.to_ascii_lowercase().contains("mobile")
                                || key.to_ascii_lowercase().contains("phone");
                            Value::String(if is_number { msisdn(text) } else { token(text) })
                        }
                        Value::Number(_) if is_sensitive_key(key) => Value::String("*".into()),
                        other => json(other),
                    };
                    (key.clone(), masked)
                })
                .collect(),
        ),
        Value::Array(items) => Value::Array(items.iter().map(json).collect()),
        other => other.clone(),
    }
}

/// A proxy key `SCHEMA|context|value` with its value masked as an MSISDN.
pub fn proxy(id: &str) -> String {
    match id.rsplit_once('|') {
        Some((head, value)) => format!("{head}|{}", msisdn(value)),
        None => msisdn(id),
    }
}

/// A message as received, of any shape: every run of nine or more digits (an MSISDN, an
/// account number) keeps only its ends.
pub fn digit_runs(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut run = String::new();
    let flush = |run: &mut String, out: &mut String| {
        if run.len() >= 9 {
            out.push_str(&msisdn(run));
        } else {
            out.push_str(run);
        }
        run.clear();
    };
    for c in text.chars() {
        if c.is_ascii_digit() {
            run.push(c);
        } else {
            flush(&mut run, &mut out);
            out.push(c);
        }
    }
    flush(&mut run, &mut out);
    out
}

fn keep_ends(value: &str, head: usize, tail: usize) -> String {
    let chars: Vec<char> = value.chars().collect();
    if chars.len() <= head + tail {
        return "*".repeat(chars.len().max(1));
    }
    let mut masked: String = chars[..head].iter().collect();
    masked.push_str(&"*".repeat(chars.len() - head - tail));
    masked.extend(&chars[chars.len() - tail..]);
    masked
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn masks_keep_only_their_ends() {
        assert_eq!(msisdn("27821234567"), "2782*****67");
        assert_eq!(token("tok-abcdef"), "tok-******");
        assert_eq!(name("Thandi"), "T*****");
        assert_eq!(msisdn("123"), "***");
    }

    #[test]
    fn json_masks_sensitive_values_at_any_depth_and_keeps_the_rest() {
        let message = serde_json::json!({
            "tranId": "t-1",
            "customer": { "msisdn": "27821234567", "name": "Thandi" },
            "debtor_name": "Thandi Nkosi",
            "tenders": [{ "partnerPaymentToken": "tok-abcdef", "amount": 1200 }],
            "pin": 1234
        });
        let masked = json(&message);
        assert_eq!(masked["tranId"], "t-1");
        assert_eq!(masked["customer"]["msisdn"], "2782*****67");
        assert_eq!(masked["tenders"][0]["partnerPaymentToken"], "tok-******");
        assert_eq!(masked["tenders"][0]["amount"], 1200);
        assert_eq!(masked["pin"], "*");
        assert_eq!(masked["debtor_name"], "T***********");
        assert!(!masked.to_string().contains("27821234567"));
    }

    #[test]
    fn proxies_identifiers_and_raw_digits_are_masked() {
        assert_eq!(proxy("MOBILE|shop|27821234567"), "MOBILE|shop|2782*****67");
        let event = serde_json::json!({
            "proxy_id": "MOBILE|shop|27821234567",
            "identifier": { "schema": "MOBILE", "value": "0821234567" },
            "rrn": "123456789012",
        });
        let masked = json(&event);
        assert_eq!(masked["proxy_id"], "MOBILE|shop|2782*****67");
        assert_eq!(masked["identifier"]["value"], "0821****67");
        assert_eq!(
            masked["rrn"], "123456789012",
            "references finance needs stay"
        );
        assert_eq!(
            digit_runs(r#"{"value":"0821234567","amount":"49.99","stan":"123456"}"#),
            r#"{"value":"0821****67","amount":"49.99","stan":"123456"}"#
        );
    }
}
