//! CSV files Guanai hands out (the audit log's export): UTF-8 with a byte-order mark, so
//! Excel and WPS open them in Chinese, lines ending in CRLF, and every field safe to open
//! in a spreadsheet. Written line by line, so an export of any length is streamed.

/// The byte-order mark every CSV file starts with.
pub const BOM: &str = "\u{feff}";

/// What a spreadsheet would take as the start of a formula (or, for a tab or a carriage
/// return, skip before reading the formula that follows).
const FORMULA_STARTS: [char; 6] = ['=', '+', '-', '@', '\t', '\r'];

/// One field: a leading `=`, `+`, `-`, `@`, tab or carriage return gets a `'` in front, so
/// a spreadsheet shows the text instead of running it (CSV injection); a field with a
/// comma, quote or line break is quoted.
pub fn field(value: &str) -> String {
    let guarded = if value.starts_with(FORMULA_STARTS) { format!("'{value}") } else { value.to_owned() };
    if guarded.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", guarded.replace('"', "\"\""))
    } else {
        guarded
    }
}

/// One line of fields, with its CRLF.
pub fn line<S: AsRef<str>>(fields: &[S]) -> String {
    let mut out = fields.iter().map(|f| field(f.as_ref())).collect::<Vec<_>>().join(",");
    out.push_str("\r\n");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_are_quoted_and_formula_safe() {
        assert_eq!(field("a,b"), "\"a,b\"");
        assert_eq!(field("say \"hi\""), "\"say \"\"hi\"\"\"");
        assert_eq!(field("=SUM(A1)"), "'=SUM(A1)");
        for risky in ["+1", "-1", "@SUM(A1)", "\t=1+2", "\r=cmd"] {
            assert!(field(risky).trim_start_matches('"').starts_with('\''), "{risky:?}");
        }
        assert_eq!(field("\t=1+2"), "'\t=1+2");
        assert_eq!(field("\r=cmd"), "\"'\r=cmd\"");
        assert_eq!(field("吉州区"), "吉州区");
        assert_eq!(field(" =x"), " =x", "only the first character starts a formula");
        assert_eq!(line(&["a", "=b"]), "a,'=b\r\n");
    }
}
