//! Percent-decoding (`%7B%22Version%22…`, as IAM's API returns policy documents) with an offset
//! map, so spans found in the decoded document land on the `%XX` bytes of the file.

use crate::source::embedded::Embedded;

fn hex(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
}

/// Decode `%XX` escapes of an already decoded text (`inner`), composing its offset map. `+`
/// stays a `+` (IAM uses RFC 3986 encoding, where a space is `%20`). `None` when the decoded
/// bytes are not UTF-8.
pub fn decode(inner: &Embedded) -> Option<Embedded> {
    let b = inner.text.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut to_outer = Vec::with_capacity(b.len() + 1);
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%'
            && let (Some(h), Some(l)) = (
                b.get(i + 1).copied().and_then(hex),
                b.get(i + 2).copied().and_then(hex),
            )
        {
            out.push(h * 16 + l);
            to_outer.push(inner.map(i) as u32);
            i += 3;
            continue;
        }
        out.push(b[i]);
        to_outer.push(inner.map(i) as u32);
        i += 1;
    }
    to_outer.push(inner.map(b.len()) as u32);
    let text = String::from_utf8(out).ok()?;
    Some(Embedded { text, to_outer })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spans_land_on_the_escapes() {
        let outer = "xx%7B%22k%22%3A%22caf%C3%A9%20repo%3Ao%2F*%22%7D";
        let emb = Embedded::verbatim(&outer[2..], 2);
        let d = decode(&emb).unwrap();
        assert_eq!(d.text, "{\"k\":\"café repo:o/*\"}");
        let i = d.text.find("repo").unwrap();
        let j = i + "repo:o/*".len();
        assert_eq!(&outer[d.map(i)..d.map(j)], "repo%3Ao%2F*");
        let e = d.text.find('é').unwrap();
        assert_eq!(&outer[d.map(e)..d.map(e) + 6], "%C3%A9");
        assert_eq!(d.map(d.text.len()), outer.len());
    }

    #[test]
    fn invalid_utf8_and_stray_percent() {
        let emb = Embedded::verbatim("%FF", 0);
        assert!(decode(&emb).is_none());
        let emb = Embedded::verbatim("100%", 0);
        assert_eq!(decode(&emb).unwrap().text, "100%");
    }
}
