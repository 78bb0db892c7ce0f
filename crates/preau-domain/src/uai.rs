//! The UAI (unité administrative immatriculée), the national identifier of a school.
//!
//! Eight characters: seven digits then a check letter. The check letter is the seven-digit
//! number modulo 23, used as an index into `ABCDEFGHJKLMNPRSTUVWXYZ` (no I, O or Q).

use serde::{Deserialize, Serialize};
use std::fmt;

use crate::error::FieldError;

const CHECK_LETTERS: &[u8; 23] = b"ABCDEFGHJKLMNPRSTUVWXYZ";

/// A UAI whose check letter has been verified. Always upper-case.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Uai(String);

impl Uai {
    /// Parses a UAI, accepting surrounding blanks and a lower-case letter.
    pub fn parse(input: &str) -> Result<Uai, FieldError> {
        let s = input.trim().to_ascii_uppercase();
        let bytes = s.as_bytes();
        if bytes.len() != 8
            || !bytes[..7].iter().all(u8::is_ascii_digit)
            || !bytes[7].is_ascii_uppercase()
        {
            return Err(FieldError::new("uai", "uai_format"));
        }
        if bytes[7] != check_letter(&s[..7]) {
            return Err(FieldError::new("uai", "uai_check_letter"));
        }
        Ok(Uai(s))
    }

    /// Builds a valid UAI from its seven digits, computing the check letter.
    pub fn from_digits(digits: u32) -> Uai {
        let d = format!("{:07}", digits % 10_000_000);
        let letter = check_letter(&d) as char;
        Uai(format!("{d}{letter}"))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The three-digit département prefix (`078` for the Yvelines).
    pub fn departement(&self) -> &str {
        &self.0[..3]
    }
}

fn check_letter(digits: &str) -> u8 {
    let n: u32 = digits.parse().unwrap_or(0);
    CHECK_LETTERS[(n % 23) as usize]
}

impl fmt::Display for Uai {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl TryFrom<String> for Uai {
    type Error = FieldError;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Uai::parse(&value)
    }
}

impl From<Uai> for String {
    fn from(value: Uai) -> Self {
        value.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_vectors() {
        for ok in ["0750655E", "0751234J", "0010856A", " 0750655e "] {
            assert!(Uai::parse(ok).is_ok(), "{ok} should be valid");
        }
        assert_eq!(Uai::parse("0750655F").unwrap_err().code, "uai_check_letter");
        assert_eq!(Uai::parse("0010856B").unwrap_err().code, "uai_check_letter");
        for bad in ["", "075065E", "07506555E", "A750655E", "07506551"] {
            assert_eq!(Uai::parse(bad).unwrap_err().code, "uai_format", "{bad}");
        }
    }

    #[test]
    fn from_digits_round_trips() {
        for n in [0u32, 1, 780_001, 781_234, 9_999_999] {
            let u = Uai::from_digits(n);
            assert_eq!(Uai::parse(u.as_str()).unwrap(), u);
        }
        assert_eq!(Uai::from_digits(750_655).as_str(), "0750655E");
    }
}
