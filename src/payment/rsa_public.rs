//! The WeChat Pay platform's RSA public key, read from PEM, and PKCS#1 v1.5 SHA-256 signature
//! checks with it, on `ring` (constant time, no `rsa` crate).
//!
//! ring verifies with the PKCS#1 `RSAPublicKey` DER, not with the SPKI that a `BEGIN PUBLIC
//! KEY` PEM holds, so the SPKI's inner key is taken out here (a short DER walk that accepts
//! only the rsaEncryption algorithm). `BEGIN RSA PUBLIC KEY` (PKCS#1) is accepted too; its
//! base64 body is the inner key itself.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use ring::signature::{RSA_PKCS1_2048_8192_SHA256, UnparsedPublicKey};
use rustls_pki_types::SubjectPublicKeyInfoDer;
use rustls_pki_types::pem::PemObject as _;

/// DER of OID 1.2.840.113549.1.1.1 (rsaEncryption), without tag and length.
const RSA_ENCRYPTION: &[u8] = &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x01];

/// An RSA public key (2048 to 8192 bits) that checks RSA PKCS#1 v1.5 SHA-256 signatures.
#[derive(Clone)]
pub struct RsaPublicKey {
    key: UnparsedPublicKey<Vec<u8>>,
}

impl std::fmt::Debug for RsaPublicKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("RsaPublicKey(..)")
    }
}

impl RsaPublicKey {
    /// Reads SPKI (`BEGIN PUBLIC KEY`) or PKCS#1 (`BEGIN RSA PUBLIC KEY`) PEM. `None` for
    /// anything else: another key type, a private key, garbage, a key under 2048 bits.
    pub fn from_pem(pem: &str) -> Option<RsaPublicKey> {
        let pem = pem.trim();
        let der = match SubjectPublicKeyInfoDer::from_pem_slice(pem.as_bytes()) {
            Ok(spki) => inner_key(spki.as_ref())?.to_vec(),
            Err(_) => pkcs1_pem(pem)?,
        };
        modulus_bits(&der).filter(|b| (2048..=8192).contains(b))?;
        Some(RsaPublicKey {
            key: UnparsedPublicKey::new(&RSA_PKCS1_2048_8192_SHA256, der),
        })
    }

    /// True when `signature` is this key's RSA PKCS#1 v1.5 SHA-256 signature of `message`.
    pub fn verifies(&self, message: &[u8], signature: &[u8]) -> bool {
        self.key.verify(message, signature).is_ok()
    }
}

/// The body of a `BEGIN RSA PUBLIC KEY` PEM.
fn pkcs1_pem(pem: &str) -> Option<Vec<u8>> {
    let body = pem
        .strip_prefix("-----BEGIN RSA PUBLIC KEY-----")?
        .trim_end()
        .strip_suffix("-----END RSA PUBLIC KEY-----")?;
    let b64: String = body.split_whitespace().collect();
    BASE64.decode(b64).ok()
}

/// One DER element: (tag, contents, the bytes after it). Definite lengths only.
fn tlv(der: &[u8]) -> Option<(u8, &[u8], &[u8])> {
    let (&tag, rest) = der.split_first()?;
    let (&first, rest) = rest.split_first()?;
    let (len, rest) = match first {
        n if n < 0x80 => (n as usize, rest),
        0x81 => (*rest.first()? as usize, &rest[1..]),
        0x82 => (
            u16::from_be_bytes([*rest.first()?, *rest.get(1)?]) as usize,
            &rest[2..],
        ),
        _ => return None,
    };
    (rest.len() >= len).then(|| (tag, &rest[..len], &rest[len..]))
}

/// The `RSAPublicKey` inside an SPKI: `SEQUENCE { SEQUENCE { OID rsaEncryption, NULL },
/// BIT STRING { 0 unused bits, RSAPublicKey } }`.
fn inner_key(spki: &[u8]) -> Option<&[u8]> {
    let (0x30, seq, []) = tlv(spki)? else {
        return None;
    };
    let (0x30, alg, rest) = tlv(seq)? else {
        return None;
    };
    let (0x06, oid, _) = tlv(alg)? else {
        return None;
    };
    let (0x03, bits, []) = tlv(rest)? else {
        return None;
    };
    (oid == RSA_ENCRYPTION && bits.first() == Some(&0)).then(|| &bits[1..])
}

/// Size of the modulus of an `RSAPublicKey { INTEGER n, INTEGER e }`, in bits.
fn modulus_bits(der: &[u8]) -> Option<usize> {
    let (0x30, seq, []) = tlv(der)? else {
        return None;
    };
    let (0x02, n, rest) = tlv(seq)? else {
        return None;
    };
    let (0x02, _e, []) = tlv(rest)? else {
        return None;
    };
    let n = match n {
        [0, rest @ ..] => rest,
        n => n,
    };
    let top = *n.first()?;
    Some((n.len() - 1) * 8 + (8 - top.leading_zeros() as usize))
}

#[cfg(test)]
mod tests {
    use ring::rand::SystemRandom;
    use ring::signature::{RSA_PKCS1_SHA256, RsaKeyPair};
    use rustls_pki_types::PrivateKeyDer;

    use super::*;

    const PRIVATE: &str = include_str!("../../tests/fixtures/rsa/platform.key.pem");
    const SPKI: &str = include_str!("../../tests/fixtures/rsa/platform.pub.pem");
    const PKCS1: &str = include_str!("../../tests/fixtures/rsa/platform.pub.pkcs1.pem");

    fn sign(message: &[u8]) -> Vec<u8> {
        let PrivateKeyDer::Pkcs8(der) = PrivateKeyDer::from_pem_slice(PRIVATE.as_bytes()).unwrap()
        else {
            panic!("the fixture is PKCS#8")
        };
        let key = RsaKeyPair::from_pkcs8(der.secret_pkcs8_der()).unwrap();
        let mut sig = vec![0; key.public().modulus_len()];
        key.sign(&RSA_PKCS1_SHA256, &SystemRandom::new(), message, &mut sig)
            .unwrap();
        sig
    }

    #[test]
    fn spki_and_pkcs1_pems_verify_the_same_signatures() {
        let sig = sign(b"message");
        for pem in [SPKI, PKCS1] {
            let key = RsaPublicKey::from_pem(pem).expect(pem);
            assert!(key.verifies(b"message", &sig));
            assert!(!key.verifies(b"messagf", &sig));
            assert!(!key.verifies(b"message", &sig[1..]));
        }
        assert_eq!(modulus_bits(&pkcs1_pem(PKCS1.trim()).unwrap()), Some(2048));
    }

    #[test]
    fn other_keys_and_garbage_are_refused() {
        for pem in [
            "",
            "garbage",
            PRIVATE,
            include_str!("../../tests/fixtures/rsa/ec.pub.pem"),
            "-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----",
            "-----BEGIN RSA PUBLIC KEY-----\n!!!\n-----END RSA PUBLIC KEY-----",
        ] {
            assert!(RsaPublicKey::from_pem(pem).is_none(), "{pem}");
        }
    }

    #[test]
    fn truncated_der_never_panics() {
        let der = BASE64
            .decode(
                SPKI.lines()
                    .filter(|l| !l.starts_with("-----"))
                    .collect::<String>(),
            )
            .unwrap();
        for n in 0..der.len() {
            assert!(inner_key(&der[..n]).is_none());
        }
        assert!(inner_key(&der).is_some());
    }
}
