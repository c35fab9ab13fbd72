//! HMAC-SHA256 as Brygga signs with it (signed links, advisor sessions and CSRF tokens,
//! webhook signatures): one implementation, lower-case hex out, constant-time comparison.

use hmac::{Hmac, Mac};
use sha2::Sha256;

/// The HMAC-SHA256 of the concatenation of `parts` under `key`, in lower-case hex.
pub fn hex(key: &[u8], parts: &[&[u8]]) -> String {
    // HMAC takes keys of any length, so this never fails.
    let Ok(mut m) = Hmac::<Sha256>::new_from_slice(key) else { return String::new() };
    for p in parts {
        m.update(p);
    }
    m.finalize().into_bytes().iter().map(|b| format!("{b:02x}")).collect()
}

/// Whether two strings are equal, in time independent of where they differ.
pub fn same(a: &str, b: &str) -> bool {
    a.len() == b.len() && a.bytes().zip(b.bytes()).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parts_are_concatenated_and_the_rfc_4231_vector_holds() {
        // RFC 4231 test case 2.
        let want = "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843";
        assert_eq!(hex(b"Jefe", &[b"what do ya want for nothing?"]), want);
        assert_eq!(hex(b"Jefe", &[b"what do ya ", b"want for nothing?"]), want);
    }

    #[test]
    fn same_is_equality() {
        assert!(same("abc", "abc"));
        assert!(!same("abc", "abd"));
        assert!(!same("abc", "ab"));
        assert!(same("", ""));
    }
}
