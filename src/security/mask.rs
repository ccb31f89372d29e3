//! What of a sensitive value may appear in a log line: enough to correlate, not enough to use.

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
}
