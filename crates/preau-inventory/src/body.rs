//! Request bodies as agents send them. The OCS agent says `application/x-compress`,
//! FusionInventory and GLPI Agent `application/x-compress-zlib`, and both send raw zlib
//! (RFC 1950) without `Content-Encoding`; others gzip, deflate or send plain text. The
//! header is a hint at most: the bytes decide.

use flate2::read::{DeflateDecoder, GzDecoder, ZlibDecoder};
use std::io::Read;

use crate::InventoryError;

/// How a body was (and its reply will be) compressed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Compression {
    Zlib,
    Gzip,
    Deflate,
    Plain,
}

fn is_zlib(b: &[u8]) -> bool {
    b.len() >= 2 && b[0] & 0x0f == 8 && (u16::from(b[0]) << 8 | u16::from(b[1])) % 31 == 0
}

fn looks_plain(b: &[u8]) -> bool {
    let b = b.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(b);
    matches!(
        b.iter().find(|c| !c.is_ascii_whitespace()),
        Some(b'<' | b'{' | b'[')
    )
}

/// Most markup bytes (`<` of XML, `,` `[` `{` of JSON) an inflated body may hold: every
/// element or value needs one, so a body past this count would be refused by the tree's
/// node limit anyway. Counted while inflating, it stops a bomb of empty elements after a
/// few megabytes instead of at the byte bound.
pub const MAX_MARKUP: usize = 4 * crate::tree::MAX_NODES;

fn markup(bytes: &[u8]) -> usize {
    bytes
        .iter()
        .filter(|&&b| matches!(b, b'<' | b',' | b'[' | b'{'))
        .count()
}

fn read_bounded(mut r: impl Read, max: usize) -> Result<Vec<u8>, InventoryError> {
    let mut out = Vec::new();
    let mut chunk = vec![0u8; 64 * 1024];
    let mut marks = 0;
    loop {
        let n = match r.read(&mut chunk) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(InventoryError::Compression(e.to_string())),
        };
        if out.len() + n > max {
            return Err(InventoryError::TooLarge(max));
        }
        marks += markup(&chunk[..n]);
        if marks > MAX_MARKUP {
            return Err(InventoryError::TooManyNodes(crate::tree::MAX_NODES));
        }
        out.extend_from_slice(&chunk[..n]);
    }
    out.shrink_to_fit();
    Ok(out)
}

/// Inflates `body` (zlib, gzip, or — when `content_encoding` says so — raw deflate), or
/// passes plain XML/JSON through. Never returns more than `max` bytes: a decompression
/// bomb stops at the bound with [`InventoryError::TooLarge`], one of markup (millions of
/// empty elements or values) at [`MAX_MARKUP`] with [`InventoryError::TooManyNodes`].
pub fn inflate(
    body: &[u8],
    content_encoding: Option<&str>,
    max: usize,
) -> Result<(Vec<u8>, Compression), InventoryError> {
    if body.is_empty() {
        return Err(InventoryError::Empty);
    }
    if body.starts_with(&[0x1f, 0x8b]) {
        return Ok((read_bounded(GzDecoder::new(body), max)?, Compression::Gzip));
    }
    let says_deflate = content_encoding.is_some_and(|e| e.eq_ignore_ascii_case("deflate"));
    if is_zlib(body) {
        match read_bounded(ZlibDecoder::new(body), max) {
            Ok(out) => return Ok((out, Compression::Zlib)),
            // Raw deflate can begin like a zlib header by chance: told it is deflate, try it.
            Err(InventoryError::Compression(_)) if says_deflate => {}
            Err(e) => return Err(e),
        }
    }
    if looks_plain(body) {
        if body.len() > max {
            return Err(InventoryError::TooLarge(max));
        }
        if markup(body) > MAX_MARKUP {
            return Err(InventoryError::TooManyNodes(crate::tree::MAX_NODES));
        }
        return Ok((body.to_vec(), Compression::Plain));
    }
    if says_deflate {
        let out = read_bounded(DeflateDecoder::new(body), max)?;
        if looks_plain(&out) {
            return Ok((out, Compression::Deflate));
        }
    }
    Err(InventoryError::UnknownFormat)
}

/// Compresses a reply the way the request came.
pub fn deflate(reply: &[u8], how: Compression) -> Vec<u8> {
    use flate2::write::{DeflateEncoder, GzEncoder, ZlibEncoder};
    use std::io::Write;
    let level = flate2::Compression::default();
    let out = match how {
        Compression::Plain => return reply.to_vec(),
        Compression::Zlib => {
            let mut e = ZlibEncoder::new(Vec::new(), level);
            e.write_all(reply).and_then(|_| e.finish())
        }
        Compression::Gzip => {
            let mut e = GzEncoder::new(Vec::new(), level);
            e.write_all(reply).and_then(|_| e.finish())
        }
        Compression::Deflate => {
            let mut e = DeflateEncoder::new(Vec::new(), level);
            e.write_all(reply).and_then(|_| e.finish())
        }
    };
    // Writing into a Vec cannot fail.
    out.unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_compression_round_trips_and_the_header_does_not_matter() {
        let xml = b"<?xml version=\"1.0\"?><REQUEST><QUERY>PROLOG</QUERY></REQUEST>";
        for how in [Compression::Zlib, Compression::Gzip, Compression::Plain] {
            let (out, seen) = inflate(&deflate(xml, how), None, 1 << 20).unwrap();
            assert_eq!(out, xml);
            assert_eq!(seen, how);
        }
        let raw = deflate(xml, Compression::Deflate);
        assert_eq!(
            inflate(&raw, None, 1 << 20),
            Err(InventoryError::UnknownFormat)
        );
        assert_eq!(inflate(&raw, Some("deflate"), 1 << 20).unwrap().0, xml);
    }

    #[test]
    fn a_bomb_stops_at_the_bound() {
        let zeros = vec![b' '; 50 << 20];
        let bomb = deflate(&zeros, Compression::Zlib);
        assert!(bomb.len() < 100_000);
        assert_eq!(
            inflate(&bomb, None, 1 << 20),
            Err(InventoryError::TooLarge(1 << 20))
        );
    }

    /// Millions of empty elements or values stop at the markup count, a few megabytes
    /// into the body, well before the byte bound; a real inventory passes.
    #[test]
    fn a_bomb_of_markup_stops_early() {
        let mut xml = b"<REQUEST><CONTENT>".to_vec();
        xml.extend(b"<A/>".repeat(15_000_000));
        let mut json = b"{\"content\":{\"softwares\":[".to_vec();
        json.extend(b"0,".repeat(30_000_000));
        for doc in [xml, json] {
            let bomb = deflate(&doc, Compression::Zlib);
            assert!(bomb.len() < 100_000);
            assert!(matches!(
                inflate(&bomb, None, 256 << 20),
                Err(InventoryError::TooManyNodes(_))
            ));
            let plain = &doc[..(MAX_MARKUP + 64) * 4];
            assert!(matches!(
                inflate(plain, None, 256 << 20),
                Err(InventoryError::TooManyNodes(_))
            ));
        }
        let real = include_bytes!(
            "../tests/fixtures/agents/ocsinventory-agent-2.10-exchange/02-INVENTORY.req.xml"
        );
        let z = deflate(real, Compression::Zlib);
        assert!(inflate(&z, None, 16 << 20).is_ok_and(|(out, _)| out == real));
    }

    #[test]
    fn truncated_and_lying_bodies_are_refused() {
        let xml = b"<REQUEST><QUERY>INVENTORY</QUERY></REQUEST>";
        let z = deflate(xml, Compression::Zlib);
        assert!(matches!(
            inflate(&z[..z.len() / 2], None, 1 << 20),
            Err(InventoryError::Compression(_))
        ));
        assert_eq!(
            inflate(b"\x00\x01garbage", None, 1 << 20),
            Err(InventoryError::UnknownFormat)
        );
        assert_eq!(inflate(b"", None, 1 << 20), Err(InventoryError::Empty));
    }
}
