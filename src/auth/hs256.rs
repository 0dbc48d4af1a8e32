//! jsonwebtoken's crypto backend: HS256 on `ring`'s HMAC, nothing else.
//!
//! jsonwebtoken 11 needs a `CryptoProvider`. Its `rust_crypto` feature would bring `rsa` 0.9
//! (RUSTSEC-2023-0071, no fix) and three elliptic-curve crates the service never uses, for
//! the one algorithm it does use. This provider answers HS256 with an HMAC key and refuses
//! every other algorithm and key kind, so a token in any other algorithm cannot verify even
//! if a validation were misconfigured. `ring` is in the tree already (rustls uses it).

use jsonwebtoken::crypto::{CryptoProvider, JwtSigner, JwtVerifier, KeyUtils};
use jsonwebtoken::errors::{ErrorKind, Result};
use jsonwebtoken::signature::{self, Signer, Verifier};
use jsonwebtoken::{Algorithm, AlgorithmFamily, DecodingKey, EncodingKey};
use ring::hmac;

/// An HMAC-SHA256 key, signing and verifying.
struct Hs256(hmac::Key);

impl Signer<Vec<u8>> for Hs256 {
    fn try_sign(&self, msg: &[u8]) -> std::result::Result<Vec<u8>, signature::Error> {
        Ok(hmac::sign(&self.0, msg).as_ref().to_vec())
    }
}

impl Verifier<Vec<u8>> for Hs256 {
    fn verify(&self, msg: &[u8], sig: &Vec<u8>) -> std::result::Result<(), signature::Error> {
        // Constant-time comparison.
        hmac::verify(&self.0, msg, sig).map_err(|_| signature::Error::new())
    }
}

impl JwtSigner for Hs256 {
    fn algorithm(&self) -> Algorithm {
        Algorithm::HS256
    }
}

impl JwtVerifier for Hs256 {
    fn algorithm(&self) -> Algorithm {
        Algorithm::HS256
    }
}

fn signer(alg: &Algorithm, key: &EncodingKey) -> Result<Box<dyn JwtSigner>> {
    if *alg != Algorithm::HS256 || key.family() != AlgorithmFamily::Hmac {
        return Err(ErrorKind::InvalidAlgorithm.into());
    }
    Ok(Box::new(Hs256(hmac::Key::new(
        hmac::HMAC_SHA256,
        key.as_bytes(),
    ))))
}

fn verifier(alg: &Algorithm, key: &DecodingKey) -> Result<Box<dyn JwtVerifier>> {
    if *alg != Algorithm::HS256 || key.family() != AlgorithmFamily::Hmac {
        return Err(ErrorKind::InvalidAlgorithm.into());
    }
    Ok(Box::new(Hs256(hmac::Key::new(
        hmac::HMAC_SHA256,
        key.try_get_as_bytes()?,
    ))))
}

static PROVIDER: CryptoProvider = CryptoProvider {
    signer_factory: signer,
    verifier_factory: verifier,
    // JWKs are never read.
    key_utils: KeyUtils::new_unimplemented(),
};

/// Installs the provider as jsonwebtoken's process default, once; `Tokens::new` calls it, so
/// every encode and decode of the crate (and of a test that builds `Tokens`) finds it.
pub fn install() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        let _ = PROVIDER.install_default();
    });
}

#[cfg(test)]
mod tests {
    use jsonwebtoken::{Header, Validation};
    use serde_json::{Value, json};

    use super::*;

    fn exp() -> u64 {
        jsonwebtoken::get_current_timestamp() + 60
    }

    #[test]
    fn hs256_round_trips_and_matches_an_independent_hmac() {
        install();
        let key = EncodingKey::from_secret(b"secret-secret-secret-secret-1234");
        let tok =
            jsonwebtoken::encode(&Header::new(Algorithm::HS256), &json!({"exp": exp()}), &key)
                .unwrap();
        let (message, sig) = tok.rsplit_once('.').unwrap();
        // The signature is HMAC-SHA256 over `header.payload`, base64url without padding.
        let raw =
            base64::Engine::decode(&base64::engine::general_purpose::URL_SAFE_NO_PAD, sig).unwrap();
        let k = hmac::Key::new(hmac::HMAC_SHA256, b"secret-secret-secret-secret-1234");
        assert!(hmac::verify(&k, message.as_bytes(), &raw).is_ok());
        let dec = DecodingKey::from_secret(b"secret-secret-secret-secret-1234");
        let v = Validation::new(Algorithm::HS256);
        assert!(jsonwebtoken::decode::<Value>(&tok, &dec, &v).is_ok());
        let wrong = DecodingKey::from_secret(b"another-secret-another-secret-12");
        assert!(jsonwebtoken::decode::<Value>(&tok, &wrong, &v).is_err());
    }

    #[test]
    fn every_other_algorithm_is_refused() {
        install();
        let key = EncodingKey::from_secret(b"k");
        for alg in [
            Algorithm::HS384,
            Algorithm::HS512,
            Algorithm::RS256,
            Algorithm::ES256,
        ] {
            assert!(
                jsonwebtoken::encode(&Header::new(alg), &json!({"exp": exp()}), &key).is_err(),
                "{alg:?}"
            );
        }
    }
}
