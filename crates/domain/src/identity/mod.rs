//! Who a person or a company is: the resident ID number (身份证号, GB 11643-1999), the
//! mobile number and the company's 统一社会信用代码 (GB 32100-2015), plus the masking the
//! personal-information rules require.
//!
//! ID numbers and mobile numbers are personal information: their `Debug` shows the masked
//! form only, and they deliberately implement neither `Display` nor `Serialize`, so they
//! cannot end up in a page, a log line or a JSON body by accident. `as_str()` is the one
//! explicit way to reach the full value (for a role that needs it, with an audit entry).

mod id_number;
mod mobile;
mod uscc;

pub use id_number::{IdNumber, IdNumberError, ParsedIdNumber, Sex};
pub use mobile::{Mobile, MobileError};
pub use uscc::{Uscc, UsccError};

/// Maps a full-width ASCII form (`０`–`９`, `Ｘ`, `．`, `＋` …) and the ideographic space to
/// its half-width character; every other character is returned unchanged.
pub(crate) fn half_width(c: char) -> char {
    match c {
        '\u{3000}' => ' ',
        '\u{FF01}'..='\u{FF5E}' => char::from_u32(c as u32 - 0xFEE0).unwrap_or(c),
        _ => c,
    }
}

/// A person's name as it may be shown: the first character, then one star for each other
/// character ("张三" → "张*", "欧阳娜娜" → "欧***"); a one-character name stays as it is.
/// Surrounding white space is dropped.
pub fn mask_name(name: &str) -> String {
    let mut chars = name.trim().chars();
    match chars.next() {
        None => String::new(),
        Some(first) => std::iter::once(first).chain(chars.map(|_| '*')).collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_keep_their_first_character() {
        assert_eq!(mask_name("张三"), "张*");
        assert_eq!(mask_name("欧阳娜娜"), "欧***");
        assert_eq!(mask_name("李"), "李");
        assert_eq!(mask_name(" 王小明 "), "王**");
        assert_eq!(mask_name(""), "");
    }

    mod properties {
        use proptest::prelude::*;

        use super::super::*;

        proptest! {
            #[test]
            fn parsers_never_panic(input in "\\PC*") {
                let _ = IdNumber::parse(&input);
                let _ = Mobile::parse(&input);
                let _ = Uscc::parse(&input);
                let _ = mask_name(&input);
            }

            #[test]
            fn parsers_never_panic_on_near_misses(input in "[0-9xX．.Ｅ+Ee０-９ \u{3000}-]{0,20}") {
                let _ = IdNumber::parse(&input);
                let _ = Mobile::parse(&input);
                let _ = Uscc::parse(&input);
            }
        }
    }
}
