//! Tokens (JWT, HS256 on ring: `hs256`, secret from configuration or the database), password
//! hashing (argon2, on the blocking pool because it is deliberately slow; `gate` bounds the
//! verifications outsiders can start, `throttle` locks accounts and addresses after failed
//! logins), the client address a request comes from (`client`), the identity behind a
//! request (`identity`), which REST and the sockets both read, and whether a merchant's
//! session is still current (`sessions`).

pub mod client;
pub mod gate;
pub mod hs256;
pub mod identity;
pub mod sessions;
pub mod throttle;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use argon2::password_hash::PasswordHasher;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};

/// Who a token speaks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// A merchant account of one shop.
    Merchant,
    /// A customer.
    Customer,
}

/// Token claims.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Claims {
    /// Employee id or customer id (not `sub`, which JWT validators expect to be a string).
    pub uid: i64,
    /// Shop of a merchant (0 for customers).
    pub shop: i64,
    /// Role; a customer token never opens merchant endpoints and vice versa.
    pub role: Role,
    /// Expiry, Unix seconds.
    pub exp: u64,
    /// Issued at, Unix seconds.
    pub iat: u64,
    /// A merchant token: its account's session generation at login (0 in older tokens).
    #[serde(default, rename = "gen")]
    pub generation: i64,
    /// A merchant token: its login's random id (0 in older tokens and customer tokens).
    #[serde(default)]
    pub sid: i64,
}

/// Signs and checks tokens. A merchant token also has to be a current session
/// ([`Tokens::with_sessions`]); without the session states every merchant token is refused.
#[derive(Clone)]
pub struct Tokens {
    /// Shared: the handlers take a clone of `Tokens` per request, and cloning a key copies
    /// (and dropping it zeroes) its secret.
    keys: Arc<(EncodingKey, DecodingKey)>,
    ttl: Duration,
    sessions: Option<sessions::Sessions>,
    verified: Arc<Verified>,
}

/// Tokens whose signature already checked out, by their exact text, with their claims: a
/// token is verified (HMAC, base64, JSON) once, not on every request it comes with; expiry and
/// role are still checked every time. Only tokens we signed get in, and at most
/// [`VERIFIED_MAX`] of them (then the map starts over), so no client can grow it.
#[derive(Default)]
struct Verified(Mutex<HashMap<String, Claims>>);

/// How many verified tokens are remembered.
const VERIFIED_MAX: usize = 8192;

impl Tokens {
    /// Tokens signed with `secret`, valid for `ttl`.
    pub fn new(secret: &[u8], ttl: Duration) -> Tokens {
        hs256::install();
        Tokens {
            keys: Arc::new((
                EncodingKey::from_secret(secret),
                DecodingKey::from_secret(secret),
            )),
            ttl,
            sessions: None,
            verified: Arc::default(),
        }
    }

    /// The same tokens, with merchant tokens checked against these session states.
    pub fn with_sessions(self, sessions: sessions::Sessions) -> Tokens {
        Tokens {
            sessions: Some(sessions),
            ..self
        }
    }

    /// The session states merchant tokens are checked against, once attached.
    pub fn sessions(&self) -> Option<&sessions::Sessions> {
        self.sessions.as_ref()
    }

    /// Issues a token (a customer's; merchants get theirs from [`Tokens::issue_merchant`]).
    pub fn issue(&self, role: Role, sub: i64, shop: i64, now_secs: u64) -> String {
        self.sign(Claims {
            uid: sub,
            shop,
            role,
            iat: now_secs,
            exp: now_secs.saturating_add(self.ttl.as_secs()),
            generation: 0,
            sid: 0,
        })
    }

    /// Issues a merchant token for a login of employee `employee_id` of `shop_id`, whose
    /// account is at session generation `generation`; the login gets a random id of its own.
    pub fn issue_merchant(
        &self,
        employee_id: i64,
        shop_id: i64,
        generation: i64,
        now_secs: u64,
    ) -> String {
        let sid = loop {
            let sid = rand::random::<i64>() & i64::MAX;
            if sid != 0 {
                break sid;
            }
        };
        self.sign(Claims {
            uid: employee_id,
            shop: shop_id,
            role: Role::Merchant,
            iat: now_secs,
            exp: now_secs.saturating_add(self.ttl.as_secs()),
            generation,
            sid,
        })
    }

    fn sign(&self, claims: Claims) -> String {
        jsonwebtoken::encode(&Header::new(Algorithm::HS256), &claims, &self.keys.0)
            .expect("HS256 encoding cannot fail")
    }

    /// Checks a token's signature, algorithm, expiry and role.
    pub fn check(&self, token: &str, role: Role) -> Option<Claims> {
        self.check_at(token, role, jsonwebtoken::get_current_timestamp())
    }

    /// [`Tokens::check`] at `now` (Unix seconds), for a remembered token; a token seen for
    /// the first time is checked by jsonwebtoken against the system clock.
    fn check_at(&self, token: &str, role: Role, now: u64) -> Option<Claims> {
        let known = self.verified.0.lock().ok()?.get(token).cloned();
        let claims = match known {
            Some(c) => c,
            None => {
                let mut v = Validation::new(Algorithm::HS256);
                v.leeway = 0;
                v.set_required_spec_claims(&["exp"]);
                let claims = jsonwebtoken::decode::<Claims>(token, &self.keys.1, &v)
                    .ok()?
                    .claims;
                let mut verified = self.verified.0.lock().ok()?;
                if verified.len() >= VERIFIED_MAX {
                    verified.clear();
                }
                verified.insert(token.to_string(), claims.clone());
                claims
            }
        };
        // jsonwebtoken's own rule with no leeway: expired once `exp` is in the past
        (claims.exp >= now && claims.role == role).then_some(claims)
    }

    /// Token lifetime.
    pub fn ttl(&self) -> Duration {
        self.ttl
    }
}

/// Hashes a password with argon2id and a fresh salt (off the async threads).
pub async fn hash_password(password: String) -> String {
    tokio::task::spawn_blocking(move || hash_password_blocking(&password))
        .await
        .expect("hashing task does not panic")
}

/// Hashes a password with argon2id (blocking).
pub fn hash_password_blocking(password: &str) -> String {
    argon2::Argon2::default()
        .hash_password(password.as_bytes())
        .expect("argon2 with default parameters accepts any password")
        .to_string()
}

/// Checks a password against a stored hash (off the async threads), unbounded: requests from
/// outside go through a [`gate::PasswordGate`]. False for a malformed hash.
pub async fn verify_password(password: String, hash: String) -> bool {
    tokio::task::spawn_blocking(move || gate::verify_blocking(&password, &hash))
        .await
        .unwrap_or(false)
}

/// A random alphanumeric string (generated secrets and passwords).
pub fn random_string(len: usize) -> String {
    use rand::Rng;
    use rand::distr::Alphanumeric;
    rand::rng()
        .sample_iter(&Alphanumeric)
        .take(len)
        .map(char::from)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn now() -> u64 {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs()
    }

    #[test]
    fn issued_tokens_check_for_their_role_only() {
        let t = Tokens::new(b"0123456789abcdef0123456789abcdef", Duration::from_secs(60));
        let tok = t.issue(Role::Merchant, 7, 3, now());
        let c = t.check(&tok, Role::Merchant).unwrap();
        assert_eq!((c.uid, c.shop), (7, 3));
        assert!(t.check(&tok, Role::Customer).is_none());
    }

    #[test]
    fn forged_expired_and_garbage_tokens_fail() {
        let t = Tokens::new(b"0123456789abcdef0123456789abcdef", Duration::from_secs(60));
        let other = Tokens::new(b"another-secret-another-secret-xx", Duration::from_secs(60));
        assert!(
            t.check(&other.issue(Role::Merchant, 1, 1, now()), Role::Merchant)
                .is_none()
        );
        assert!(
            t.check(&t.issue(Role::Merchant, 1, 1, now() - 3600), Role::Merchant)
                .is_none()
        );
        for junk in ["", "abc", "a.b.c", "eyJhbGciOiJub25lIn0.eyJzdWIiOjF9."] {
            assert!(t.check(junk, Role::Merchant).is_none(), "{junk}");
        }
    }

    #[test]
    fn a_remembered_token_still_expires_and_keeps_its_role() {
        let t = Tokens::new(b"0123456789abcdef0123456789abcdef", Duration::from_secs(60));
        let issued = now();
        let tok = t.issue(Role::Customer, 5, 0, issued);
        // checked once (now remembered), then asked again later: refused after `exp`
        assert!(t.check_at(&tok, Role::Customer, issued).is_some());
        assert!(t.check_at(&tok, Role::Customer, issued + 60).is_some());
        assert!(t.check_at(&tok, Role::Customer, issued + 61).is_none());
        assert!(t.check_at(&tok, Role::Merchant, issued).is_none());
        // another instance's secret: a remembered token of this one never opens it
        let other = Tokens::new(b"another-secret-another-secret-xx", Duration::from_secs(60));
        assert!(other.check_at(&tok, Role::Customer, issued).is_none());
        // the memory is bounded: past the limit it starts over, and still answers
        for i in 0..VERIFIED_MAX as i64 + 10 {
            let tok = t.issue(Role::Customer, i, 0, issued);
            assert!(t.check_at(&tok, Role::Customer, issued).is_some());
        }
        assert!(t.verified.0.lock().unwrap().len() <= VERIFIED_MAX);
        assert!(t.check_at(&tok, Role::Customer, issued).is_some());
    }

    #[tokio::test]
    async fn passwords_verify() {
        let h = hash_password("s3cret".into()).await;
        assert!(verify_password("s3cret".into(), h.clone()).await);
        assert!(!verify_password("wrong".into(), h).await);
        assert!(!verify_password("x".into(), "not-a-hash".into()).await);
    }
}
