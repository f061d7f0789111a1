//! Access key ids written in text: where they are, which are placeholders, how to name one
//! without repeating it. Read by the scan (a file holding one keeps its text) and by the rules.

fn word(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_'
}

/// Byte offsets of every access key id in `text`: `AKIA` or `ASIA`, then 16 upper-case
/// letters or digits, word-bounded on both sides. One linear pass, no regex.
pub fn key_ids(text: &str) -> Vec<usize> {
    let b = text.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i + 20 <= b.len() {
        if b[i] == b'A'
            && (&b[i..i + 4] == b"AKIA" || &b[i..i + 4] == b"ASIA")
            && (i == 0 || !word(b[i - 1]))
            && b[i + 4..i + 20]
                .iter()
                .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit())
            && b.get(i + 20).is_none_or(|c| !word(*c))
        {
            out.push(i);
            i += 20;
            continue;
        }
        i += 1;
    }
    out
}

/// Ids that are no credential: AWS's documentation examples (`AKIAIOSFODNN7EXAMPLE`, ending in
/// `EXAMPLE`), placeholders made of one repeated character (`AKIAXXXXXXXXXXXXXXXX`), and test
/// doubles that cannot be ids: after the prefix, a real id is base32 (`A`–`Z`, `2`–`7`), so one
/// holding `0`, `1`, `8` or `9` (`AKIA1234567890ABCDEF`) was made up.
pub fn is_placeholder(id: &str) -> bool {
    let tail = &id.as_bytes()[4..];
    id.ends_with("EXAMPLE")
        || tail.iter().all(|c| *c == tail[0])
        || tail.iter().any(|c| matches!(c, b'0' | b'1' | b'8' | b'9'))
}

/// `value` is exactly one access key id (surrounding blanks and quotes aside) that
/// [`is_placeholder`] says is no credential.
pub fn is_placeholder_id(value: &str) -> bool {
    is_key_id(value) && is_placeholder(value.trim().trim_matches(['"', '\'']))
}

/// `value` is exactly one access key id (surrounding blanks and quotes aside).
pub fn is_key_id(value: &str) -> bool {
    let v = value.trim().trim_matches(['"', '\'']);
    key_ids(v) == [0] && v.len() == 20
}

/// `AKIA…WXYZ`: enough to find the key in IAM, not the key itself.
pub fn redact(id: &str) -> String {
    format!("{}…{}", &id[..4], &id[id.len() - 4..])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_word_bounded_ids() {
        let t = "a = \"AKIA2345ABCDEF67WXYZ\" b=ASIAABCDEFGHIJKLMNOP xAKIA2345ABCDEF67WXYZ AKIA2345ABCDEF67WXYZ9 AKIA2345abcd6789WXYZ";
        let found: Vec<&str> = key_ids(t).into_iter().map(|i| &t[i..i + 20]).collect();
        assert_eq!(found, ["AKIA2345ABCDEF67WXYZ", "ASIAABCDEFGHIJKLMNOP"]);
        assert!(key_ids("AKIA2345ABCD6789WXY").is_empty());
        assert_eq!(key_ids("AKIA2345ABCDEF67WXYZ"), [0]);
        assert!(is_placeholder("AKIAIOSFODNN7EXAMPLE"));
        assert!(is_placeholder("AKIAXXXXXXXXXXXXXXXX"));
        assert!(!is_placeholder("AKIA2345ABCDEF67WXYZ"));
        assert!(is_placeholder("AKIA1234567890ABCDEF"));
        assert!(is_placeholder("ASIA2345ABCDEF67WXY8"));
        assert!(is_placeholder_id(" \"AKIA1234567890ABCDEF\""));
        assert!(!is_placeholder_id("AKIA2345ABCDEF67WXYZ"));
        assert!(!is_placeholder_id("AKIA1234567890ABCDEF and more"));
        assert_eq!(redact("AKIA2345ABCDEF67WXYZ"), "AKIA…WXYZ");
    }
}
