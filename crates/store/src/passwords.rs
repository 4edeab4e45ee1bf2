//! Password hashing with argon2id, always off the async runtime: a hash costs tens of
//! milliseconds of CPU that must not stall other requests.

use argon2::password_hash::rand_core::OsRng;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::Argon2;

use crate::{StoreError, StoreResult};

pub(crate) async fn hash(password: String) -> StoreResult<String> {
    tokio::task::spawn_blocking(move || {
        let salt = SaltString::generate(&mut OsRng);
        Argon2::default()
            .hash_password(password.as_bytes(), &salt)
            .map(|hash| hash.to_string())
            .map_err(|e| StoreError::invalid(format!("密码无法处理：{e}")))
    })
    .await
    .map_err(|e| StoreError::invalid(format!("密码处理中断：{e}")))?
}

/// Checks `password` against a stored hash. With no hash (unknown user) it verifies
/// against a fixed dummy so that the answer takes as long either way.
pub(crate) async fn verify(password: String, stored: Option<String>) -> bool {
    const DUMMY: &str =
        "$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$4lUH5hYp3+Zn0W9hQlzZl3tWpyAYbL0xt7mO4r3H8fY";
    let known = stored.is_some();
    let stored = stored.unwrap_or_else(|| DUMMY.to_owned());
    tokio::task::spawn_blocking(move || {
        let Ok(parsed) = PasswordHash::new(&stored) else {
            return false;
        };
        Argon2::default().verify_password(password.as_bytes(), &parsed).is_ok() && known
    })
    .await
    .unwrap_or(false)
}

/// A random password for a new account, printed once: 14 characters that are easy to
/// read aloud (no 0/O, 1/l/I), always with letters and digits.
pub fn generate() -> String {
    use rand::Rng;
    const LETTERS: &[u8] = b"abcdefghjkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ";
    const DIGITS: &[u8] = b"23456789";
    let mut rng = rand::thread_rng();
    let mut out: Vec<u8> = (0..10).map(|_| LETTERS[rng.gen_range(0..LETTERS.len())]).collect();
    out.extend((0..4).map(|_| DIGITS[rng.gen_range(0..DIGITS.len())]));
    String::from_utf8(out).expect("ASCII")
}

/// A random code of `len` characters that is easy to read aloud and type (no 0/O, 1/I):
/// certificate codes, family numbers.
pub(crate) fn readable_code(len: usize) -> String {
    use rand::Rng;
    const ALPHABET: &[u8] = b"ABCDEFGHJKLMNPQRSTUVWXYZ23456789";
    let mut rng = rand::thread_rng();
    (0..len).map(|_| ALPHABET[rng.gen_range(0..ALPHABET.len())] as char).collect()
}

/// A random token, hex-encoded, and the hash stored in its place.
pub(crate) fn token() -> String {
    use rand::RngCore;
    let mut bytes = [0u8; 32];
    rand::thread_rng().fill_bytes(&mut bytes);
    hex::encode(bytes)
}

pub(crate) fn token_hash(token: &str) -> String {
    use sha2::Digest;
    hex::encode(sha2::Sha256::digest(token.as_bytes()))
}
