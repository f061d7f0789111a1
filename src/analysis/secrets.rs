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
/// `EXAMPLE`) and placeholders made of one repeated character (`AKIAXXXXXXXXXXXXXXXX`).
pub fn is_placeholder(id: &str) -> bool {
    let tail = &id.as_bytes()[4..];
    id.ends_with("EXAMPLE") || tail.iter().all(|c| *c == tail[0])
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
        let t = "a = \"AKIA2345ABCD6789WXYZ\" b=ASIAABCDEFGHIJKLMNOP xAKIA2345ABCD6789WXYZ AKIA2345ABCD6789WXYZ9 AKIA2345abcd6789WXYZ";
        let found: Vec<&str> = key_ids(t).into_iter().map(|i| &t[i..i + 20]).collect();
        assert_eq!(found, ["AKIA2345ABCD6789WXYZ", "ASIAABCDEFGHIJKLMNOP"]);
        assert!(key_ids("AKIA2345ABCD6789WXY").is_empty());
        assert_eq!(key_ids("AKIA2345ABCD6789WXYZ"), [0]);
        assert!(is_placeholder("AKIAIOSFODNN7EXAMPLE"));
        assert!(is_placeholder("AKIAXXXXXXXXXXXXXXXX"));
        assert!(!is_placeholder("AKIA2345ABCD6789WXYZ"));
        assert_eq!(redact("AKIA2345ABCD6789WXYZ"), "AKIA…WXYZ");
    }
}
