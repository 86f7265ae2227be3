//! The IPN body and its `sha_sign`: strict form decoding and Digistore24's
//! SHA-512 signature, exactly as the reference describes it.
//!
//! Owns: parsing (UTF-8 only, no duplicate names), signing, verifying and
//! the content hash that identifies a re-sent IPN. Must not touch: storage
//! or HTTP.

use sha2::{Digest, Sha256, Sha512};
use subtle::ConstantTimeEq;

/// The received fields, in the order they came.
pub type Fields = Vec<(String, String)>;

/// Why a body is not a well-formed IPN.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Malformed {
    #[error("a field is not valid percent-encoded UTF-8")]
    NotUtf8,
    #[error("field `{0}` appears twice")]
    DuplicateField(String),
    #[error("the body has no fields")]
    Empty,
}

/// Decodes an `application/x-www-form-urlencoded` body strictly: `+` is a
/// space, `%XX` a byte, and the decoded bytes must be UTF-8. A name sent
/// twice is refused: which value was signed would be ambiguous.
pub fn parse_form(body: &[u8]) -> Result<Fields, Malformed> {
    let mut fields: Fields = Vec::new();
    for pair in body.split(|b| *b == b'&').filter(|p| !p.is_empty()) {
        let (name, value) = match pair.iter().position(|b| *b == b'=') {
            Some(i) => (&pair[..i], &pair[i + 1..]),
            None => (pair, &[][..]),
        };
        let name = decode(name)?;
        let value = decode(value)?;
        if fields.iter().any(|(n, _)| *n == name) {
            return Err(Malformed::DuplicateField(name));
        }
        fields.push((name, value));
    }
    if fields.is_empty() {
        return Err(Malformed::Empty);
    }
    Ok(fields)
}

fn decode(raw: &[u8]) -> Result<String, Malformed> {
    let mut bytes = Vec::with_capacity(raw.len());
    let mut i = 0;
    while i < raw.len() {
        match raw[i] {
            b'+' => bytes.push(b' '),
            b'%' => {
                let hex = raw.get(i + 1..i + 3).and_then(|h| std::str::from_utf8(h).ok()).and_then(|h| u8::from_str_radix(h, 16).ok());
                match hex {
                    Some(byte) => {
                        bytes.push(byte);
                        i += 2;
                    }
                    // PHP keeps a stray `%` as it is.
                    None => bytes.push(b'%'),
                }
            }
            b => bytes.push(b),
        }
        i += 1;
    }
    String::from_utf8(bytes).map_err(|_| Malformed::NotUtf8)
}

fn is_signature_name(name: &str) -> bool {
    name.eq_ignore_ascii_case("sha_sign") || name.eq_ignore_ascii_case("shasign")
}

/// The signed pairs: signature fields dropped, empty values skipped, names
/// (optionally upper-cased, as PHP's `convert_keys_to_uppercase`) sorted as
/// raw bytes.
fn signed_pairs(fields: &[(String, String)], uppercase_keys: bool) -> Vec<(String, &str)> {
    let mut pairs: Vec<(String, &str)> = fields
        .iter()
        .filter(|(name, value)| !value.is_empty() && !is_signature_name(name))
        .map(|(name, value)| (if uppercase_keys { name.to_ascii_uppercase() } else { name.clone() }, value.as_str()))
        .collect();
    pairs.sort_by(|a, b| a.0.as_bytes().cmp(b.0.as_bytes()));
    pairs
}

/// `sha_sign` of these fields: SHA-512 over `name=value` + passphrase for
/// every signed pair, upper-case hex.
pub fn sign(fields: &[(String, String)], passphrase: &str, uppercase_keys: bool) -> String {
    let mut hash = Sha512::new();
    for (name, value) in signed_pairs(fields, uppercase_keys) {
        hash.update(name.as_bytes());
        hash.update(b"=");
        hash.update(value.as_bytes());
        hash.update(passphrase.as_bytes());
    }
    hex::encode_upper(hash.finalize())
}

/// Why a signature was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum BadSignature {
    #[error("no sha_sign field")]
    Missing,
    #[error("no passphrase configured")]
    NoPassphrase,
    #[error("sha_sign does not match")]
    Mismatch,
}

/// Checks `sha_sign` (any case of the name, any case of the hex) against
/// both key variants, in constant time.
pub fn verify(fields: &[(String, String)], passphrase: &str) -> Result<(), BadSignature> {
    if passphrase.is_empty() {
        return Err(BadSignature::NoPassphrase);
    }
    let received = fields.iter().find(|(name, value)| is_signature_name(name) && !value.is_empty()).ok_or(BadSignature::Missing)?;
    let received = received.1.to_ascii_uppercase();
    let lower = sign(fields, passphrase, false);
    let upper = sign(fields, passphrase, true);
    // Both compared always, so timing says nothing about which matched.
    let matches = received.as_bytes().ct_eq(lower.as_bytes()) | received.as_bytes().ct_eq(upper.as_bytes());
    if bool::from(matches) { Ok(()) } else { Err(BadSignature::Mismatch) }
}

/// Hex SHA-256 of the signed content (no passphrase): a re-sent IPN has the
/// same hash, any changed signed field a different one.
pub fn content_hash(fields: &[(String, String)]) -> String {
    let mut hash = Sha256::new();
    for (name, value) in signed_pairs(fields, false) {
        hash.update(name.as_bytes());
        hash.update([0]);
        hash.update(value.as_bytes());
        hash.update([0]);
    }
    hex::encode(hash.finalize())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fields(pairs: &[(&str, &str)]) -> Fields {
        pairs.iter().map(|(n, v)| (n.to_string(), v.to_string())).collect()
    }

    const PASS: &str = "s3cret-passphrase";
    const MINIMAL: &str =
        "9A23DE2603A33D17D935908580B5DB90C452DE8E68556E2A4AD96F1C3EC3BFD2EE3AE47B819B96286812224FBCED943D0ACF48C8C20CA57570E2263B6ABAF099";

    #[test]
    fn the_reference_example_signs_and_verifies() {
        let f = fields(&[("product_id", "42"), ("order_id", "ORD-1")]);
        assert_eq!(sign(&f, PASS, false), MINIMAL);
        let mut signed = f.clone();
        signed.push(("sha_sign".into(), MINIMAL.to_ascii_lowercase()));
        assert_eq!(verify(&signed, PASS), Ok(()));
        assert_eq!(verify(&signed, "other"), Err(BadSignature::Mismatch));
        assert_eq!(verify(&f, PASS), Err(BadSignature::Missing));
        assert_eq!(verify(&signed, ""), Err(BadSignature::NoPassphrase));
    }

    #[test]
    fn values_are_not_trimmed_zero_is_kept_and_upper_case_sorts_first() {
        let base = fields(&[("a", "1")]);
        assert_ne!(sign(&fields(&[("a", "1 ")]), PASS, false), sign(&base, PASS, false), "no trimming");
        assert_ne!(sign(&fields(&[("a", "1"), ("b", "0")]), PASS, false), sign(&base, PASS, false), "\"0\" is not empty");
        let order: Vec<String> =
            signed_pairs(&fields(&[("placeholder_a", "1"), ("placeholder_TITLE", "2"), ("placeholder_DESCRIPTION", "3")]), false)
                .into_iter()
                .map(|(n, _)| n)
                .collect();
        assert_eq!(order, ["placeholder_DESCRIPTION", "placeholder_TITLE", "placeholder_a"]);
    }

    #[test]
    fn forms_decode_strictly() {
        assert_eq!(parse_form(b"a=x+y%2Bz&b=&c").unwrap(), fields(&[("a", "x y+z"), ("b", ""), ("c", "")]));
        assert_eq!(parse_form("n=J%C3%B6rg".as_bytes()).unwrap(), fields(&[("n", "Jörg")]));
        assert_eq!(parse_form(b"n=%FF"), Err(Malformed::NotUtf8));
        assert_eq!(parse_form(b"n=\xff"), Err(Malformed::NotUtf8));
        assert_eq!(parse_form(b"a=1&a=2"), Err(Malformed::DuplicateField("a".into())));
        assert_eq!(parse_form(b""), Err(Malformed::Empty));
    }

    #[test]
    fn the_content_hash_ignores_the_signature_and_sees_every_value() {
        let a = fields(&[("order_id", "X"), ("sha_sign", "AAA")]);
        let b = fields(&[("sha_sign", "BBB"), ("order_id", "X"), ("note", "")]);
        assert_eq!(content_hash(&a), content_hash(&b));
        assert_ne!(content_hash(&a), content_hash(&fields(&[("order_id", "Y")])));
    }
}
