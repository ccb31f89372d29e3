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

/// A message or event as JSON with every sensitive value masked: MSISDNs keep their ends,
/// tokens and secrets their first four characters, whatever their depth.
pub fn json(value: &serde_json::Value) -> serde_json::Value {
    use serde_json::Value;
    match value {
        Value::Object(map) => Value::Object(
            map.iter()
                .map(|(key, value)| {
                    let masked = match value {
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
            "tenders": [{ "partnerPaymentToken": "tok-abcdef", "amount": 1200 }],
            "pin": 1234
        });
        let masked = json(&message);
        assert_eq!(masked["tranId"], "t-1");
        assert_eq!(masked["customer"]["msisdn"], "2782*****67");
        assert_eq!(masked["tenders"][0]["partnerPaymentToken"], "tok-******");
        assert_eq!(masked["tenders"][0]["amount"], 1200);
        assert_eq!(masked["pin"], "*");
        assert!(!masked.to_string().contains("27821234567"));
    }
}
