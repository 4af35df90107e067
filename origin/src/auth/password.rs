//! Dashboard passwords: Argon2id PHC strings, verified in constant time.

use argon2::{Argon2, PasswordHash, PasswordHasher, PasswordVerifier, password_hash::SaltString};
use rand::rngs::OsRng;

/// Shortest accepted password.
pub const MIN_PASSWORD_CHARS: usize = 12;
/// Longest accepted password (bounds the hashing work an attacker can ask for).
pub const MAX_PASSWORD_CHARS: usize = 256;

/// Hashes a password with a fresh salt.
pub fn hash(password: &str) -> String {
    let salt = SaltString::generate(&mut OsRng);
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .expect("argon2 with default parameters hashes any input")
        .to_string()
}

/// Whether `password` matches the stored PHC string.
pub fn verify(password: &str, phc: &str) -> bool {
    PasswordHash::new(phc)
        .is_ok_and(|parsed| Argon2::default().verify_password(password.as_bytes(), &parsed).is_ok())
}

/// A hash of a random password, verified against when the login email is
/// unknown, so that unknown and known emails take the same time to refuse.
pub fn decoy_hash() -> &'static str {
    static DECOY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    DECOY.get_or_init(|| hash("decoy password that no one can type"))
}

/// Checks a new password's length; the message says what is wrong.
pub fn check_new(password: &str) -> Result<(), String> {
    let n = password.chars().count();
    if n < MIN_PASSWORD_CHARS {
        return Err(format!("passwords have at least {MIN_PASSWORD_CHARS} characters"));
    }
    if n > MAX_PASSWORD_CHARS {
        return Err(format!("passwords have at most {MAX_PASSWORD_CHARS} characters"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_hash_verifies_only_its_password() {
        let h = hash("correct horse battery");
        assert!(verify("correct horse battery", &h));
        assert!(!verify("correct horse batterY", &h));
        assert!(!verify("anything", "not a phc string"));
    }

    #[test]
    fn short_and_huge_passwords_are_refused() {
        assert!(check_new("short").is_err());
        assert!(check_new(&"x".repeat(300)).is_err());
        assert!(check_new("twelve chars").is_ok());
    }
}
