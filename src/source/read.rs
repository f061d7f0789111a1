//! Cheap byte-level checks the scan makes before decoding or parsing a file.

/// Could these bytes be a JSON object (the only shape a policy document has)? Skips ASCII
/// whitespace and a UTF-8 byte-order mark; a UTF-16 byte-order mark answers yes, so the file
/// is decoded and reported rather than skipped.
pub fn may_be_json_object(bytes: &[u8]) -> bool {
    if bytes.starts_with(&[0xFF, 0xFE])
        || bytes.starts_with(&[0xFE, 0xFF])
        || utf16_without_bom(bytes).is_some()
    {
        return true;
    }
    let b = bytes.strip_prefix(&[0xEF, 0xBB, 0xBF]).unwrap_or(bytes);
    b.iter()
        .find(|c| !c.is_ascii_whitespace())
        .is_none_or(|&c| c == b'{')
}

/// The text of a file that is not valid UTF-8 (UTF-16 with a byte-order mark, NUL bytes, other
/// encodings), decoded leniently: enough to tell whether it would have been analysed.
pub fn lossy_text(bytes: &[u8]) -> String {
    let utf16 = |be: bool, skip: usize| -> String {
        let units = bytes[skip..].chunks_exact(2).map(|c| {
            if be {
                u16::from_be_bytes([c[0], c[1]])
            } else {
                u16::from_le_bytes([c[0], c[1]])
            }
        });
        char::decode_utf16(units)
            .map(|r| r.unwrap_or(char::REPLACEMENT_CHARACTER))
            .collect()
    };
    if bytes.starts_with(&[0xFF, 0xFE]) {
        utf16(false, 2)
    } else if bytes.starts_with(&[0xFE, 0xFF]) {
        utf16(true, 2)
    } else if let Some(be) = utf16_without_bom(bytes) {
        utf16(be, 0)
    } else {
        String::from_utf8_lossy(bytes).into_owned()
    }
}

/// UTF-16 without a byte-order mark: `Some(big_endian)` when at least three quarters of the
/// first 4 KiB, read as 16-bit units, are ASCII characters (one zero byte, always on the same
/// side), which is what UTF-16 text of configuration files looks like and UTF-8 never does.
pub fn utf16_without_bom(bytes: &[u8]) -> Option<bool> {
    let head = &bytes[..bytes.len().min(4096)];
    let units = head.len() / 2;
    if units < 2 {
        return None;
    }
    let (mut le, mut be) = (0usize, 0usize);
    for c in head.chunks_exact(2) {
        match (c[0], c[1]) {
            (1..=0x7F, 0) => le += 1,
            (0, 1..=0x7F) => be += 1,
            _ => {}
        }
    }
    if le * 4 >= units * 3 {
        Some(false)
    } else if be * 4 >= units * 3 {
        Some(true)
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn first_bytes() {
        assert!(may_be_json_object(b"  \n{\"a\":1}"));
        assert!(may_be_json_object(b"\xEF\xBB\xBF{}"));
        assert!(may_be_json_object(b"\xFF\xFE{\x00"));
        assert!(may_be_json_object(b""));
        assert!(!may_be_json_object(b"[1, 2]"));
        assert!(!may_be_json_object(b"\x7fELF"));
    }

    fn mentions_statement(b: &[u8]) -> bool {
        lossy_text(b).contains("\"Statement\"")
    }

    #[test]
    fn statement_in_other_encodings() {
        let mut le = vec![0xFF, 0xFE];
        for u in "{\"Statement\": []}".encode_utf16() {
            le.extend(u.to_le_bytes());
        }
        assert!(mentions_statement(&le));
        let mut be = vec![0xFE, 0xFF];
        for u in "{\"Statement\": []}".encode_utf16() {
            be.extend(u.to_be_bytes());
        }
        assert!(mentions_statement(&be));
        assert!(!mentions_statement(&[0xFF, 0xFE, b'{', 0, b'}', 0]));
        assert!(mentions_statement(b"{\"Statement\": [\xff]}"));
        assert!(!mentions_statement(b"{\"name\": \"x\x00\"}"));
    }
}
