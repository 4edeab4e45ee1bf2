//! One mechanism for every enum that is written down as a text code: in a database column,
//! in JSON, in a form. [`stored_code!`](crate::stored_code) declares the enum with each
//! variant's code and Chinese label, and gives it the [`StoredCode`] trait, `const fn`
//! `code()` and `label()`, a strict `from_code`, and serde (de)serialisation by the code.
//! No enum writes its own `as_str`/`parse`/`label` table again.
//!
//! Reading a code is strict: a code no variant has is an [`UnknownCode`], never a silent
//! fallback to some default variant. Lenient readers of what people type (a roster's 妻 or
//! 长子, a label instead of a code) are separate functions of the enum, built on `ALL`.

/// An enum written down as a text code, with a Chinese label for people.
pub trait StoredCode: Sized + Copy + Eq + 'static {
    /// The type's name in messages for developers ("PolicyStatus").
    const NAME: &'static str;
    /// Every variant, in the order lists and filters show them.
    const ALL: &'static [Self];

    /// The code as stored and sent ("draft").
    fn code(self) -> &'static str;

    /// The label as people read it ("草稿").
    fn label(self) -> &'static str;

    /// The variant of a code, exactly as [`StoredCode::code`] writes it.
    fn from_code(code: &str) -> Result<Self, UnknownCode> {
        Self::ALL
            .iter()
            .copied()
            .find(|v| v.code() == code)
            .ok_or_else(|| UnknownCode { kind: Self::NAME, code: code.to_owned() })
    }
}

/// A code that no variant of `kind` has.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("未知的代码“{code}”（{kind}）")]
pub struct UnknownCode {
    pub kind: &'static str,
    pub code: String,
}

#[doc(hidden)]
pub use serde as __serde;

/// Declares an enum stored as a text code: each variant with its code and its label.
///
/// ```
/// guanai_domain::stored_code! {
///     /// How an audited action ended.
///     pub enum Outcome {
///         Ok => ("ok", "成功"),
///         /// Refused.
///         Denied => ("denied", "拒绝"),
///     }
/// }
/// use guanai_domain::StoredCode;
/// assert_eq!(Outcome::from_code("denied"), Ok(Outcome::Denied));
/// assert_eq!(Outcome::Ok.label(), "成功");
/// assert!(Outcome::from_code("Denied").is_err());
/// ```
#[macro_export]
macro_rules! stored_code {
    (
        $(#[$meta:meta])*
        $vis:vis enum $name:ident {
            $(
                $(#[$vmeta:meta])*
                $variant:ident => ($code:literal, $label:literal)
            ),+ $(,)?
        }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        $vis enum $name {
            $( $(#[$vmeta])* $variant, )+
        }

        impl $name {
            /// Every variant, in the order lists and filters show them.
            pub const ALL: [$name; [$($code),+].len()] = [$($name::$variant),+];

            /// The code as stored and sent.
            pub const fn code(self) -> &'static str {
                match self { $( $name::$variant => $code, )+ }
            }

            /// The label as people read it.
            pub const fn label(self) -> &'static str {
                match self { $( $name::$variant => $label, )+ }
            }

            /// The variant of a code, exactly as [`Self::code`] writes it.
            pub fn from_code(code: &str) -> ::core::result::Result<Self, $crate::codes::UnknownCode> {
                <$name as $crate::codes::StoredCode>::from_code(code)
            }
        }

        impl $crate::codes::StoredCode for $name {
            const NAME: &'static str = stringify!($name);
            const ALL: &'static [Self] = &$name::ALL;

            fn code(self) -> &'static str {
                $name::code(self)
            }

            fn label(self) -> &'static str {
                $name::label(self)
            }
        }

        impl $crate::codes::__serde::Serialize for $name {
            fn serialize<S: $crate::codes::__serde::Serializer>(
                &self,
                serializer: S,
            ) -> ::core::result::Result<S::Ok, S::Error> {
                serializer.serialize_str(self.code())
            }
        }

        // The API document lists the codes a value may take (only in this crate, whose
        // `openapi` feature decides whether the document is built).
        #[cfg(feature = "openapi")]
        impl utoipa::PartialSchema for $name {
            fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
                let codes = utoipa::openapi::schema::ObjectBuilder::new()
                    .schema_type(utoipa::openapi::schema::Type::String)
                    .enum_values(Some([$($code),+]))
                    .description(Some(concat!($($code, "：", $label, "；"),+)))
                    .build();
                utoipa::openapi::RefOr::T(utoipa::openapi::schema::Schema::Object(codes))
            }
        }

        #[cfg(feature = "openapi")]
        impl utoipa::ToSchema for $name {}

        impl<'de> $crate::codes::__serde::Deserialize<'de> for $name {
            fn deserialize<D: $crate::codes::__serde::Deserializer<'de>>(
                deserializer: D,
            ) -> ::core::result::Result<Self, D::Error> {
                let code = <::std::borrow::Cow<'de, str> as $crate::codes::__serde::Deserialize>::deserialize(
                    deserializer,
                )?;
                <$name as $crate::codes::StoredCode>::from_code(&code)
                    .map_err(<D::Error as $crate::codes::__serde::de::Error>::custom)
            }
        }
    };
}

/// Checks the rules every code table must keep: each code reads back as its variant, and
/// no two variants share a code or a label. For the unit tests of each enum.
pub fn check_table<T: StoredCode + std::fmt::Debug>() -> Result<(), String> {
    let mut codes = std::collections::HashSet::new();
    let mut labels = std::collections::HashSet::new();
    for &v in T::ALL {
        if T::from_code(v.code()) != Ok(v) {
            return Err(format!("{}::{v:?} does not read back from its code", T::NAME));
        }
        if v.code().is_empty() || v.code().trim() != v.code() || v.label().is_empty() {
            return Err(format!("{}::{v:?} has an empty or padded code or label", T::NAME));
        }
        if !codes.insert(v.code()) {
            return Err(format!("{}: the code '{}' twice", T::NAME, v.code()));
        }
        if !labels.insert(v.label()) {
            return Err(format!("{}: the label '{}' twice", T::NAME, v.label()));
        }
    }
    if T::ALL.is_empty() {
        return Err(format!("{} has no variant", T::NAME));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    crate::stored_code! {
        enum Sample {
            One => ("one", "一"),
            Two => ("two", "二"),
        }
    }

    crate::stored_code! {
        enum Twice {
            A => ("a", "同"),
            B => ("b", "同"),
        }
    }

    #[test]
    fn a_code_reads_back_and_an_unknown_one_is_an_error() {
        assert_eq!(Sample::from_code("two"), Ok(Sample::Two));
        let err = Sample::from_code("bogus").unwrap_err();
        assert_eq!(err, UnknownCode { kind: "Sample", code: "bogus".into() });
        assert_eq!(err.to_string(), "未知的代码“bogus”（Sample）");
        assert!(Sample::from_code(" one").is_err(), "codes are exact");
        assert_eq!(Sample::ALL, [Sample::One, Sample::Two]);
    }

    #[test]
    fn serde_writes_and_reads_the_code() {
        assert_eq!(serde_json::to_string(&Sample::Two).unwrap(), "\"two\"");
        assert_eq!(serde_json::from_str::<Sample>("\"one\"").unwrap(), Sample::One);
        assert!(serde_json::from_str::<Sample>("\"One\"").is_err());
    }

    #[test]
    fn every_code_table_of_the_domain_reads_back_with_unique_codes_and_labels() {
        use crate::*;
        let checks = [
            check_table::<audit::Outcome>(),
            check_table::<consents::ConsentKind>(),
            check_table::<cover::LateStart>(),
            check_table::<cover::LatePremium>(),
            check_table::<families::PovertyStatus>(),
            check_table::<families::Relationship>(),
            check_table::<families::MemberEvent>(),
            check_table::<funding::FundingKind>(),
            check_table::<orgs::OrgKind>(),
            check_table::<policies::PolicyStatus>(),
            check_table::<policies::Channel>(),
            check_table::<policies::ShownStatus>(),
            check_table::<policies::CertificateState>(),
            check_table::<products::ProductKind>(),
            check_table::<users::Role>(),
        ];
        for check in checks {
            check.unwrap();
        }
    }

    #[test]
    fn the_table_check_finds_a_label_twice() {
        assert_eq!(check_table::<Sample>(), Ok(()));
        assert_eq!(check_table::<Twice>(), Err("Twice: the label '同' twice".into()));
        assert_eq!(Twice::from_code("b"), Ok(Twice::B));
        let _ = Twice::A;
    }
}
