//! Text embedded in other text: a JSON document inside a JSON string (Terraform plans,
//! account exports), or a heredoc body. Decoding keeps, for every decoded byte, the byte
//! offset in the outer file that produced it, so spans found in the inner document map
//! back to the real bytes of the file.

/// A decoded inner text plus its offset map.
pub struct Embedded {
    pub text: String,
    /// `to_outer[i]` is the outer byte offset of decoded byte `i`; one extra entry for the end.
    pub to_outer: Vec<u32>,
}

impl Embedded {
    /// Text that is copied verbatim from `outer_start` onwards (heredocs without indentation).
    pub fn verbatim(text: &str, outer_start: usize) -> Self {
        let to_outer = (0..=text.len()).map(|i| (outer_start + i) as u32).collect();
        Embedded {
            text: text.to_string(),
            to_outer,
        }
    }

    /// Map an inner byte offset to the outer file.
    pub fn map(&self, inner: usize) -> usize {
        let i = inner.min(self.to_outer.len().saturating_sub(1));
        self.to_outer.get(i).copied().unwrap_or(0) as usize
    }

    /// Decode the body of a JSON string literal. `raw` is the text between the quotes and
    /// `outer_start` the offset of its first byte in the outer file. Returns `None` for an
    /// invalid escape (the outer parser already rejected those, so this is defensive).
    pub fn from_json_string(raw: &str, outer_start: usize) -> Option<Self> {
        let bytes = raw.as_bytes();
        let mut text = String::with_capacity(raw.len());
        let mut to_outer = Vec::with_capacity(raw.len() + 1);
        let mut i = 0;
        while i < bytes.len() {
            let b = bytes[i];
            if b != b'\\' {
                // copy one UTF-8 character verbatim
                let ch_len = utf8_len(b);
                let end = (i + ch_len).min(bytes.len());
                text.push_str(raw.get(i..end)?);
                for k in 0..(end - i) {
                    to_outer.push((outer_start + i + k) as u32);
                }
                i = end;
                continue;
            }
            let start = i;
            let esc = *bytes.get(i + 1)?;
            let (ch, consumed) = match esc {
                b'"' => ('"', 2),
                b'\\' => ('\\', 2),
                b'/' => ('/', 2),
                b'b' => ('\u{8}', 2),
                b'f' => ('\u{c}', 2),
                b'n' => ('\n', 2),
                b'r' => ('\r', 2),
                b't' => ('\t', 2),
                b'u' => {
                    let hi = hex4(raw.get(i + 2..i + 6)?)?;
                    if (0xD800..0xDC00).contains(&hi) {
                        // surrogate pair
                        if raw.get(i + 6..i + 8)? != "\\u" {
                            return None;
                        }
                        let lo = hex4(raw.get(i + 8..i + 12)?)?;
                        let cp = 0x10000 + ((hi - 0xD800) << 10) + (lo.checked_sub(0xDC00)?);
                        (char::from_u32(cp)?, 12)
                    } else {
                        (char::from_u32(hi)?, 6)
                    }
                }
                _ => return None,
            };
            let mut buf = [0u8; 4];
            let s = ch.encode_utf8(&mut buf);
            text.push_str(s);
            for _ in 0..s.len() {
                to_outer.push((outer_start + start) as u32);
            }
            i += consumed;
        }
        to_outer.push((outer_start + bytes.len()) as u32);
        Some(Embedded { text, to_outer })
    }
}

fn utf8_len(b: u8) -> usize {
    match b {
        0x00..=0x7F => 1,
        0xC0..=0xDF => 2,
        0xE0..=0xEF => 3,
        _ => 4,
    }
}

fn hex4(s: &str) -> Option<u32> {
    if s.len() != 4 {
        return None;
    }
    u32::from_str_radix(s, 16).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn maps_escapes_back_to_outer_bytes() {
        let outer = r#"{"p":"{\"Sid\":\"caf\u00e9\",\"k\":\"repo:o/*\"}"}"#;
        let start = outer.find("{\\\"").unwrap();
        let end = outer.rfind('"').unwrap();
        let e = Embedded::from_json_string(&outer[start..end], start).unwrap();
        assert_eq!(e.text, r#"{"Sid":"café","k":"repo:o/*"}"#);
        let inner = e.text.find("repo:o/*").unwrap();
        let o = e.map(inner);
        assert_eq!(&outer[o..o + 8], "repo:o/*");
        // the é maps to the start of its \u escape
        let ei = e.text.find('é').unwrap();
        assert_eq!(&outer[e.map(ei)..e.map(ei) + 6], "\\u00e9");
        assert_eq!(e.map(e.text.len()), end);
    }

    #[test]
    fn surrogate_pairs() {
        let raw = r"a\ud83d\ude00b";
        let e = Embedded::from_json_string(raw, 10).unwrap();
        assert_eq!(e.text, "a😀b");
        assert_eq!(
            e.map(e.text.find('b').unwrap()),
            10 + raw.find('b').unwrap()
        );
    }
}

#[cfg(test)]
mod plan_string_tests {
    use super::*;

    /// Pretty-printed policies in plans carry `\n` and Go's `\u003e`-style escapes: every
    /// decoded byte still maps to the escape that produced it.
    #[test]
    fn newline_slash_and_html_escapes() {
        let raw = r#"{\n  \"Sid\": \"a\u003eb\",\n  \"R\": \"arn:aws:s3:::x\/y\"\n}"#;
        let e = Embedded::from_json_string(raw, 100).unwrap();
        assert_eq!(
            e.text,
            "{\n  \"Sid\": \"a>b\",\n  \"R\": \"arn:aws:s3:::x/y\"\n}"
        );
        let gt = e.text.find('>').unwrap();
        assert_eq!(&raw[e.map(gt) - 100..e.map(gt) - 100 + 6], r"\u003e");
        let i = e.text.find("arn:").unwrap();
        let j = e.text.rfind('"').unwrap();
        assert_eq!(&raw[e.map(i) - 100..e.map(j) - 100], r"arn:aws:s3:::x\/y");
    }
}
