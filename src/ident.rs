//! Check characters of Chinese identifiers: the unified social credit code
//! (统一社会信用代码, GB 32100-2015) and the resident identity number
//! (公民身份号码, GB 11643-1999).
//!
//! Pure functions over a string; this module does not know where the value
//! came from or how a failure is reported. Positions in errors are 1-based
//! character positions, as a reader counts them on paper.

use std::fmt;

use chrono::NaiveDate;

/// The 31 characters of a credit code in value order; I, O, Z, S and V are
/// left out because they read like digits.
const USCC_ALPHABET: &str = "0123456789ABCDEFGHJKLMNPQRTUWXY";

/// USCC weights 3^(i-1) mod 31 for positions 1..=17.
const USCC_WEIGHTS: [u32; 17] = [
    1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28,
];

/// Resident ID weights 2^(18-k) mod 11 for positions 1..=17.
const RESIDENT_WEIGHTS: [u32; 17] = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];

/// Resident ID check character for each remainder 0..=10 (ISO 7064 MOD 11-2).
const RESIDENT_CHECK: [char; 11] = ['1', '0', 'X', '9', '8', '7', '6', '5', '4', '3', '2'];

/// Why an identifier fails its check.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum IdentError {
    /// Wrong number of characters.
    Length { expected: usize, found: usize },
    /// A character outside the identifier's alphabet.
    InvalidChar { position: usize, found: char },
    /// A non-digit where the layout requires a digit.
    NotDigit { position: usize, found: char },
    /// A lowercase letter that would be right in capitals.
    Lowercase { position: usize, found: char },
    /// The check character does not match the other characters.
    CheckChar { found: char, expected: char },
    /// The birth date (YYYYMMDD) is not a calendar date.
    BirthDate(String),
}

impl fmt::Display for IdentError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            IdentError::Length { expected, found } => {
                write!(f, "has {found} characters, expected {expected}")
            }
            IdentError::InvalidChar { position, found } => write!(
                f,
                "character {position} is '{}', which cannot appear here",
                found.escape_default()
            ),
            IdentError::NotDigit { position, found } => write!(
                f,
                "character {position} is '{}', expected a digit",
                found.escape_default()
            ),
            IdentError::Lowercase { position, found } => write!(
                f,
                "character {position} is '{found}'; write {} in capitals",
                found.to_ascii_uppercase()
            ),
            IdentError::CheckChar { found, expected } => write!(
                f,
                "check character is {}, expected {expected}",
                found.escape_default()
            ),
            IdentError::BirthDate(date) => {
                write!(f, "birth date {date} is not a calendar date")
            }
        }
    }
}

impl std::error::Error for IdentError {}

/// The value of a credit-code character, its index in the alphabet.
fn uscc_value(c: char) -> Option<u32> {
    USCC_ALPHABET
        .chars()
        .position(|a| a == c)
        .and_then(|i| u32::try_from(i).ok())
}

/// The check character for the first 17 characters of a credit code; `None`
/// if there are not exactly 17 characters from the code's alphabet.
pub fn uscc_check_char(first17: &str) -> Option<char> {
    if first17.chars().count() != 17 {
        return None;
    }
    let mut sum = 0;
    for (c, w) in first17.chars().zip(USCC_WEIGHTS) {
        sum += uscc_value(c)? * w;
    }
    // 31 − (Σ mod 31), with 31 written as 0.
    let value = (31 - sum % 31) % 31;
    USCC_ALPHABET.chars().nth(value as usize)
}

/// Checks a unified social credit code: 18 characters, the GB 32100 alphabet,
/// digits at positions 3–8 (the region code), and the check character.
///
/// Positions 1–2 (authority and organisation type) are not checked: the
/// published tables disagree (DOMAIN.md §2).
pub fn uscc_check(code: &str) -> Result<(), IdentError> {
    let chars: Vec<char> = code.chars().collect();
    let length_error = IdentError::Length {
        expected: 18,
        found: chars.len(),
    };
    let (Some((last, first17)), 18) = (chars.split_last(), chars.len()) else {
        return Err(length_error);
    };
    for (i, &c) in first17.iter().enumerate() {
        let position = i + 1;
        if (3..=8).contains(&position) && !c.is_ascii_digit() {
            return Err(IdentError::NotDigit { position, found: c });
        }
        if uscc_value(c).is_none() {
            return Err(if uscc_value(c.to_ascii_uppercase()).is_some() {
                IdentError::Lowercase { position, found: c }
            } else {
                IdentError::InvalidChar { position, found: c }
            });
        }
    }
    let body: String = first17.iter().collect();
    // Cannot fail after the checks above; the error is only a fallback.
    let expected = uscc_check_char(&body).ok_or(length_error)?;
    check_last(*last, expected, 18)
}

/// Compares the check character, with a capitals hint when only case differs.
fn check_last(found: char, expected: char, position: usize) -> Result<(), IdentError> {
    if found == expected {
        Ok(())
    } else if found.to_ascii_uppercase() == expected {
        Err(IdentError::Lowercase { position, found })
    } else {
        Err(IdentError::CheckChar { found, expected })
    }
}

/// Checks an 18-character resident identity number: 17 digits, a birth date
/// that exists in the calendar, and the MOD 11-2 check character (0–9 or X).
///
/// A lowercase x is rejected with a hint: the standard writes X, and a
/// contract copies the number as printed on the card.
pub fn resident_id_check(id: &str) -> Result<(), IdentError> {
    let chars: Vec<char> = id.chars().collect();
    if chars.len() != 18 {
        return Err(IdentError::Length {
            expected: 18,
            found: chars.len(),
        });
    }
    let mut digits = [0u32; 17];
    for (i, (slot, &c)) in digits.iter_mut().zip(&chars).enumerate() {
        // to_digit accepts ASCII digits only, not other scripts' digits.
        *slot = c.to_digit(10).ok_or(IdentError::NotDigit {
            position: i + 1,
            found: c,
        })?;
    }
    // Positions 7–14 are YYYYMMDD.
    let number = |range: std::ops::Range<usize>| {
        digits
            .get(range)
            .map_or(0, |ds| ds.iter().fold(0, |acc, d| acc * 10 + d))
    };
    let (year, month, day) = (number(6..10), number(10..12), number(12..14));
    let year = i32::try_from(year).unwrap_or(0);
    if NaiveDate::from_ymd_opt(year, month, day).is_none() {
        let text: String = chars.iter().skip(6).take(8).collect();
        return Err(IdentError::BirthDate(text));
    }
    let sum: u32 = digits
        .iter()
        .zip(RESIDENT_WEIGHTS)
        .map(|(d, w)| d * w)
        .sum();
    let expected = RESIDENT_CHECK[(sum % 11) as usize];
    let last = chars.last().copied().unwrap_or(' ');
    check_last(last, expected, 18)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uscc_valid_examples() {
        for code in [
            "91350100M000100Y43",
            "91512081MA62K0260E",
            "914403001922038216",
        ] {
            assert_eq!(uscc_check(code), Ok(()), "{code}");
        }
    }

    #[test]
    fn uscc_worked_example_check_char() {
        // Σ = 1640, 1640 mod 31 = 28, 31 − 28 = 3.
        assert_eq!(uscc_check_char("91350100M000100Y4"), Some('3'));
        assert_eq!(uscc_check_char("91512081MA62K0260"), Some('E'));
        assert_eq!(uscc_check_char("91440300192203821"), Some('6'));
        assert_eq!(uscc_check_char("9135010"), None);
        assert_eq!(uscc_check_char("91350100M000100Y43"), None);
        assert_eq!(uscc_check_char("91350100O000100Y4"), None);
    }

    #[test]
    fn uscc_wrong_check_char_names_expected() {
        let err = uscc_check("91350100M000100Y4Z").unwrap_err();
        assert_eq!(
            err,
            IdentError::CheckChar {
                found: 'Z',
                expected: '3'
            }
        );
        assert_eq!(err.to_string(), "check character is Z, expected 3");
        assert_eq!(
            uscc_check("91350100M000100Y44"),
            Err(IdentError::CheckChar {
                found: '4',
                expected: '3'
            })
        );
    }

    #[test]
    fn uscc_check_char_covers_zero_and_y() {
        // Find bodies whose check value is 0 (31 → 0) and 30 (Y) by varying
        // position 17, and confirm the full codes pass.
        let mut seen = std::collections::BTreeSet::new();
        for c in USCC_ALPHABET.chars() {
            let body = format!("9111010800000000{c}");
            let check = uscc_check_char(&body).unwrap();
            seen.insert(check);
            assert_eq!(uscc_check(&format!("{body}{check}")), Ok(()));
        }
        // Weight 28 is coprime to 31, so all 31 values appear once each.
        assert_eq!(seen.len(), 31);
    }

    #[test]
    fn uscc_rejects_bad_shapes() {
        assert_eq!(
            uscc_check(""),
            Err(IdentError::Length {
                expected: 18,
                found: 0
            })
        );
        assert_eq!(
            uscc_check("91350100M000100Y4"),
            Err(IdentError::Length {
                expected: 18,
                found: 17
            })
        );
        assert_eq!(
            uscc_check("91350100M000100Y433"),
            Err(IdentError::Length {
                expected: 18,
                found: 19
            })
        );
        assert_eq!(
            uscc_check("91350100O000100Y43"),
            Err(IdentError::InvalidChar {
                position: 9,
                found: 'O'
            })
        );
        assert_eq!(
            uscc_check("91350100m000100Y43"),
            Err(IdentError::Lowercase {
                position: 9,
                found: 'm'
            })
        );
        assert_eq!(
            uscc_check("9135A100M000100Y43"),
            Err(IdentError::NotDigit {
                position: 5,
                found: 'A'
            })
        );
        assert_eq!(
            uscc_check("91512081MA62K0260e"),
            Err(IdentError::Lowercase {
                position: 18,
                found: 'e'
            })
        );
        // Multi-byte characters count as one position, not several bytes.
        assert_eq!(
            uscc_check("９1350100M000100Y43"),
            Err(IdentError::InvalidChar {
                position: 1,
                found: '９'
            })
        );
    }

    #[test]
    fn resident_id_standard_examples() {
        assert_eq!(resident_id_check("11010519491231002X"), Ok(()));
        assert_eq!(resident_id_check("440524188001010014"), Ok(()));
    }

    #[test]
    fn resident_id_wrong_check_char() {
        let err = resident_id_check("110105194912310021").unwrap_err();
        assert_eq!(
            err,
            IdentError::CheckChar {
                found: '1',
                expected: 'X'
            }
        );
        assert_eq!(err.to_string(), "check character is 1, expected X");
        assert_eq!(
            resident_id_check("44052418800101001X"),
            Err(IdentError::CheckChar {
                found: 'X',
                expected: '4'
            })
        );
    }

    #[test]
    fn resident_id_lowercase_x_gets_a_hint() {
        let err = resident_id_check("11010519491231002x").unwrap_err();
        assert_eq!(
            err,
            IdentError::Lowercase {
                position: 18,
                found: 'x'
            }
        );
        assert_eq!(err.to_string(), "character 18 is 'x'; write X in capitals");
    }

    #[test]
    fn resident_id_birth_date_must_exist() {
        // Valid check character for the body, so only the date is wrong.
        let body = "11010519490230002";
        let sum: u32 = body
            .chars()
            .zip(RESIDENT_WEIGHTS)
            .map(|(c, w)| c.to_digit(10).unwrap() * w)
            .sum();
        let id = format!("{body}{}", RESIDENT_CHECK[(sum % 11) as usize]);
        let err = resident_id_check(&id).unwrap_err();
        assert_eq!(err, IdentError::BirthDate("19490230".into()));
        assert_eq!(
            err.to_string(),
            "birth date 19490230 is not a calendar date"
        );
        assert!(matches!(
            resident_id_check("110105194913010021"),
            Err(IdentError::BirthDate(_))
        ));
    }

    #[test]
    fn resident_id_rejects_bad_shapes() {
        assert_eq!(
            resident_id_check("11010519491231002"),
            Err(IdentError::Length {
                expected: 18,
                found: 17
            })
        );
        assert_eq!(
            resident_id_check("1101051949123100X2"),
            Err(IdentError::NotDigit {
                position: 17,
                found: 'X'
            })
        );
        assert_eq!(
            resident_id_check("١١010519491231002X"),
            Err(IdentError::NotDigit {
                position: 1,
                found: '١'
            })
        );
        assert_eq!(
            resident_id_check("11010519491231002Y"),
            Err(IdentError::CheckChar {
                found: 'Y',
                expected: 'X'
            })
        );
    }
}
