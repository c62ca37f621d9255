//! Bytes to text: encodings and binary detection.

/// How a text was decoded, when it was not plain UTF-8.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Decoded {
    Utf8,
    Utf8Bom,
    Utf16Le,
    Utf16Be,
    Latin1,
}

impl Decoded {
    /// A note for the document, when the encoding is worth mentioning.
    pub(crate) fn note(self) -> Option<&'static str> {
        match self {
            Decoded::Latin1 => Some("not valid UTF-8: decoded as Latin-1"),
            Decoded::Utf16Le | Decoded::Utf16Be => Some("decoded from UTF-16"),
            _ => None,
        }
    }
}

/// Magic numbers of common binary formats.
const MAGIC: &[(&[u8], &str)] = &[
    (b"\x89PNG", "PNG image"),
    (b"\xff\xd8\xff", "JPEG image"),
    (b"GIF8", "GIF image"),
    (b"PK\x03\x04", "ZIP archive (also docx, xlsx, jar)"),
    (b"\x1f\x8b", "gzip archive"),
    (b"\x7fELF", "executable"),
    (b"MZ", "Windows executable"),
    (b"\xcf\xfa\xed\xfe", "Mach-O executable"),
    (b"SQLite format 3", "SQLite database"),
    (b"\x00asm", "WebAssembly module"),
];

/// Why `bytes` look binary, or `None` if they look like text. Files with a
/// UTF-16 byte-order mark are text even though they are full of NULs.
pub(crate) fn binary_reason(bytes: &[u8]) -> Option<String> {
    if bytes.starts_with(&[0xff, 0xfe]) || bytes.starts_with(&[0xfe, 0xff]) {
        return None;
    }
    if let Some((_, what)) = MAGIC.iter().find(|(magic, _)| bytes.starts_with(magic)) {
        return Some((*what).to_string());
    }
    let head = &bytes[..bytes.len().min(8192)];
    if head.contains(&0) {
        return Some("it contains NUL bytes".into());
    }
    let control = head
        .iter()
        .filter(|&&b| b < 0x20 && !matches!(b, b'\t' | b'\n' | b'\r' | b'\x0c' | b'\x1b'))
        .count();
    (control * 10 > head.len()).then(|| "most of it is control characters".into())
}

/// Decodes text: a UTF-8 or UTF-16 byte-order mark decides; otherwise UTF-8,
/// falling back to Latin-1 (which maps every byte to a character, so it
/// never fails).
pub(crate) fn decode(bytes: &[u8]) -> (String, Decoded) {
    if let Some(rest) = bytes.strip_prefix(&[0xef, 0xbb, 0xbf]) {
        return (String::from_utf8_lossy(rest).into_owned(), Decoded::Utf8Bom);
    }
    if let Some(rest) = bytes.strip_prefix(&[0xff, 0xfe]) {
        return (utf16(rest, u16::from_le_bytes), Decoded::Utf16Le);
    }
    if let Some(rest) = bytes.strip_prefix(&[0xfe, 0xff]) {
        return (utf16(rest, u16::from_be_bytes), Decoded::Utf16Be);
    }
    match std::str::from_utf8(bytes) {
        Ok(text) => (text.to_string(), Decoded::Utf8),
        Err(_) => (
            bytes.iter().map(|&b| char::from(b)).collect(),
            Decoded::Latin1,
        ),
    }
}

fn utf16(bytes: &[u8], unit: fn([u8; 2]) -> u16) -> String {
    let units = bytes.chunks_exact(2).map(|pair| unit([pair[0], pair[1]]));
    char::decode_utf16(units)
        .map(|c| c.unwrap_or(char::REPLACEMENT_CHARACTER))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_every_common_encoding() {
        assert_eq!(
            decode("h\u{e9}".as_bytes()),
            ("h\u{e9}".to_string(), Decoded::Utf8)
        );
        assert_eq!(decode(b"\xef\xbb\xbfhi").0, "hi");
        let le: Vec<u8> = [0xff, 0xfe]
            .into_iter()
            .chain("h\u{e9}\u{1F600}".encode_utf16().flat_map(u16::to_le_bytes))
            .collect();
        assert_eq!(
            decode(&le),
            ("h\u{e9}\u{1F600}".to_string(), Decoded::Utf16Le)
        );
        let be: Vec<u8> = [0xfe, 0xff]
            .into_iter()
            .chain("ok".encode_utf16().flat_map(u16::to_be_bytes))
            .collect();
        assert_eq!(decode(&be).0, "ok");
        assert_eq!(
            decode(b"caf\xe9"),
            ("caf\u{e9}".to_string(), Decoded::Latin1)
        );
    }

    #[test]
    fn tells_binary_from_text() {
        assert!(
            binary_reason(b"\x89PNG\r\n\x1a\n....")
                .unwrap()
                .contains("PNG")
        );
        assert!(binary_reason(b"abc\0def").is_some());
        assert!(binary_reason(&[1, 2, 3, 4, 5, 6, 7, 8, b'a']).is_some());
        assert!(binary_reason(b"plain text\twith tabs\n").is_none());
        assert!(binary_reason(&[0xff, 0xfe, b'h', 0]).is_none());
    }
}
