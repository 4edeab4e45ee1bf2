//! Personal data at rest: ID and phone numbers are sealed with XChaCha20-Poly1305
//! (authenticated encryption, a random nonce per value) and looked up by an HMAC-SHA256
//! keyed hash, so the database alone reveals neither. Both are stored as bytes (binary
//! columns; migration 000033 converted the hex text of earlier versions, which made a
//! city's persons a quarter smaller). The master key never enters the
//! database: it comes from configuration or from a key file in the data folder, created
//! on first start with owner-only permissions.

use std::path::Path;

use chacha20poly1305::aead::{Aead, AeadCore, KeyInit};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use hmac::{Hmac, Mac};
use sha2::Sha256;

use crate::{StoreError, StoreResult};

const NONCE_LEN: usize = 24;

/// A value sealed by [`Keys::seal`], as stored: nonce ‖ ciphertext ‖ tag.
pub(crate) type Sealed = Vec<u8>;
/// Bytes of the HMAC kept as a look-up key. 128 bits keep collisions out of reach for any
/// population (migration 000006 cut the stored ones from 256).
const LOOKUP_HASH_BYTES: usize = 16;

/// The keys derived from one 32-byte master key.
#[derive(Clone)]
pub struct Keys {
    cipher: XChaCha20Poly1305,
    /// The HMAC already keyed: each hash clones it instead of deriving the pads again
    /// (a roster import hashes a million numbers).
    lookup: Hmac<Sha256>,
}

impl std::fmt::Debug for Keys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Keys(***)")
    }
}

fn derive(master: &[u8; 32], purpose: &[u8]) -> [u8; 32] {
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(master).expect("any key length");
    mac.update(purpose);
    mac.finalize().into_bytes().into()
}

impl Keys {
    pub fn from_master(master: &[u8; 32]) -> Keys {
        let encryption = derive(master, b"guanai personal data encryption v1");
        Keys {
            cipher: XChaCha20Poly1305::new(&encryption.into()),
            lookup: <Hmac<Sha256> as Mac>::new_from_slice(&derive(master, b"guanai personal data lookup v1"))
                .expect("any key length"),
        }
    }

    /// A master key given as 64 hex characters (configuration or environment).
    pub fn from_hex(hex_key: &str) -> StoreResult<Keys> {
        let bytes = hex::decode(hex_key.trim())
            .ok()
            .and_then(|b| <[u8; 32]>::try_from(b).ok())
            .ok_or_else(|| StoreError::invalid("加密密钥须为64位十六进制字符（32字节）"))?;
        Ok(Keys::from_master(&bytes))
    }

    /// Fresh random keys (tests, benchmarks).
    pub fn random() -> Keys {
        use rand::RngCore;
        let mut master = [0u8; 32];
        rand::thread_rng().fill_bytes(&mut master);
        Keys::from_master(&master)
    }

    /// Reads the key file, or creates it (mode 0600) when it does not exist yet.
    pub fn load_or_create(path: &Path) -> StoreResult<Keys> {
        let io =
            |e: std::io::Error| StoreError::invalid(format!("无法读写密钥文件“{}”：{e}", path.display()));
        if path.exists() {
            let text = std::fs::read_to_string(path).map_err(io)?;
            return Keys::from_hex(&text);
        }
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(io)?;
        }
        use rand::RngCore;
        let mut master = [0u8; 32];
        rand::thread_rng().fill_bytes(&mut master);
        let mut options = std::fs::OpenOptions::new();
        options.write(true).create_new(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            options.mode(0o600);
        }
        use std::io::Write;
        let mut file = options.open(path).map_err(io)?;
        file.write_all(hex::encode(master).as_bytes()).map_err(io)?;
        Ok(Keys::from_master(&master))
    }

    /// Seals a text (an ID, phone or bank account number): nonce ‖ ciphertext ‖ tag, as
    /// [`Keys::seal_bytes`].
    pub(crate) fn seal(&self, plaintext: &str) -> Sealed {
        self.seal_bytes(plaintext.as_bytes())
    }

    /// Seals bytes: nonce ‖ ciphertext ‖ tag. The 192-bit nonce is random, from the
    /// thread's CSPRNG (seeded from the OS, reseeded periodically): no system call per value.
    pub(crate) fn seal_bytes(&self, plaintext: &[u8]) -> Sealed {
        let nonce = XChaCha20Poly1305::generate_nonce(&mut rand::thread_rng());
        let sealed = self.cipher.encrypt(&nonce, plaintext).expect("encryption cannot fail below 256 GiB");
        let mut out = Vec::with_capacity(NONCE_LEN + sealed.len());
        out.extend_from_slice(&nonce);
        out.extend_from_slice(&sealed);
        out
    }

    /// Opens what [`Keys::seal_bytes`] sealed.
    pub(crate) fn open_bytes(&self, sealed: &[u8]) -> StoreResult<Vec<u8>> {
        let (nonce, body) = sealed.split_at_checked(NONCE_LEN).ok_or_else(unreadable)?;
        self.cipher.decrypt(XNonce::from_slice(nonce), body).map_err(|_| unreadable())
    }

    /// Opens what [`Keys::seal`] sealed.
    pub(crate) fn open(&self, sealed: &[u8]) -> StoreResult<String> {
        String::from_utf8(self.open_bytes(sealed)?).map_err(|_| unreadable())
    }

    /// The keyed hash used to find a value without decrypting anything: the first
    /// [`LOOKUP_HASH_BYTES`] of an HMAC-SHA256.
    pub(crate) fn lookup_hash(&self, value: &str) -> Vec<u8> {
        let mut mac = self.lookup.clone();
        mac.update(value.as_bytes());
        mac.finalize().into_bytes()[..LOOKUP_HASH_BYTES].to_vec()
    }
}

fn unreadable() -> StoreError {
    StoreError::invalid("加密数据无法解密：密钥可能不对，请检查配置的加密密钥")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sealing_round_trips_and_never_shows_the_value() {
        let keys = Keys::random();
        let sealed = keys.seal("11010519491231002X");
        assert!(!sealed.windows(18).any(|w| w == b"11010519491231002X"));
        assert_eq!(sealed.len(), 24 + 18 + 16, "nonce, ciphertext and tag, as bytes");
        assert_ne!(sealed, keys.seal("11010519491231002X"), "a fresh nonce each time");
        assert_eq!(keys.open(&sealed).unwrap(), "11010519491231002X");
        assert!(Keys::random().open(&sealed).is_err(), "another key cannot open it");
        let mut tampered = sealed.clone();
        tampered[30] ^= 1;
        assert!(keys.open(&tampered).is_err(), "authenticated");
    }

    #[test]
    fn sealed_bytes_round_trip_and_hide_the_file() {
        let keys = Keys::random();
        let file = "姓名,身份证号\n张三,11010519491231002X\n".as_bytes();
        let sealed = keys.seal_bytes(file);
        assert!(!sealed.windows(18).any(|w| w == b"11010519491231002X"));
        assert_eq!(keys.open_bytes(&sealed).unwrap(), file);
        assert!(Keys::random().open_bytes(&sealed).is_err());
        assert!(keys.open_bytes(b"short").is_err());
    }

    #[test]
    fn lookup_hashes_are_stable_per_key() {
        let master = [7u8; 32];
        let a = Keys::from_master(&master);
        let b = Keys::from_master(&master);
        assert_eq!(a.lookup_hash("x"), b.lookup_hash("x"));
        assert_ne!(a.lookup_hash("x"), Keys::random().lookup_hash("x"));
        assert_eq!(a.lookup_hash("x").len(), 16, "128 bits");
    }

    #[test]
    fn the_key_file_is_created_private_and_read_back() {
        let dir = std::env::temp_dir().join(format!("guanai-key-{}", rand::random::<u64>()));
        let path = dir.join("guanai.key");
        let created = Keys::load_or_create(&path).unwrap();
        let read = Keys::load_or_create(&path).unwrap();
        assert_eq!(created.lookup_hash("a"), read.lookup_hash("a"));
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            assert_eq!(std::fs::metadata(&path).unwrap().permissions().mode() & 0o777, 0o600);
        }
        std::fs::write(&path, "not hex").unwrap();
        assert!(Keys::load_or_create(&path).is_err());
        std::fs::remove_dir_all(dir).unwrap();
    }
}
