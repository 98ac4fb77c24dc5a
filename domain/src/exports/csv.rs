//! Writing CSV lines as RFC 4180 says (comma-separated, CRLF line ends, a
//! field quoted when it holds `"`, `,`, CR or LF, inner quotes doubled), with
//! the OWASP guard against formula injection.
//!
//! Two kinds of cell:
//! - [`Line::text`] is for text that users or customers wrote (names, answers,
//!   notes, references): when it starts with `=`, `+`, `-`, `@`, TAB or CR it
//!   gets a leading `'`, so a spreadsheet shows it as text instead of running
//!   it as a formula.
//! - [`Line::value`] is for values the code itself produces from numbers,
//!   dates and enums (ids, points, ratings, instants, `yes`/`no`): never
//!   guarded, so a point debit stays the number `-50` in a spreadsheet.

use std::fmt::Display;
use std::fmt::Write as _;

/// Characters that make a spreadsheet read a cell as a formula (OWASP, "CSV
/// injection").
const FORMULA_STARTS: [char; 6] = ['=', '+', '-', '@', '\t', '\r'];

/// One CSV record being written.
#[derive(Default)]
pub(crate) struct Line {
    text: String,
    fields: usize,
}

impl Line {
    /// An empty record.
    pub(crate) fn new() -> Self {
        Self::default()
    }

    fn separate(&mut self) {
        if self.fields > 0 {
            self.text.push(',');
        }
        self.fields += 1;
    }

    /// A cell of user-written text, guarded and quoted as needed.
    pub(crate) fn text(&mut self, value: &str) -> &mut Self {
        self.separate();
        if value.starts_with(FORMULA_STARTS) {
            let guarded = format!("'{value}");
            quote_into(&mut self.text, &guarded);
        } else {
            quote_into(&mut self.text, value);
        }
        self
    }

    /// A cell of user-written text, or an empty cell.
    pub(crate) fn opt_text(&mut self, value: Option<&str>) -> &mut Self {
        self.text(value.unwrap_or(""))
    }

    /// A cell the code produced from a number, a date or an enum.
    pub(crate) fn value(&mut self, value: impl Display) -> &mut Self {
        self.separate();
        let start = self.text.len();
        // Writing into a String cannot fail.
        let _ = write!(self.text, "{value}");
        if self.text[start..].contains(['"', ',', '\r', '\n']) {
            let raw = self.text.split_off(start);
            quote_into(&mut self.text, &raw);
        }
        self
    }

    /// A produced value, or an empty cell.
    pub(crate) fn opt_value(&mut self, value: Option<impl Display>) -> &mut Self {
        match value {
            Some(v) => self.value(v),
            None => self.value(""),
        }
    }

    /// `yes` or `no`.
    pub(crate) fn yes_no(&mut self, value: bool) -> &mut Self {
        self.value(if value { "yes" } else { "no" })
    }

    /// Ends the record with CRLF and appends it to `out`.
    pub(crate) fn end(&mut self, out: &mut Vec<u8>) {
        out.extend_from_slice(self.text.as_bytes());
        out.extend_from_slice(b"\r\n");
        self.text.clear();
        self.fields = 0;
    }
}

/// Appends `value`, quoted when it holds a character RFC 4180 reserves.
fn quote_into(out: &mut String, value: &str) {
    if value.contains(['"', ',', '\r', '\n']) {
        out.push('"');
        for c in value.chars() {
            if c == '"' {
                out.push('"');
            }
            out.push(c);
        }
        out.push('"');
    } else {
        out.push_str(value);
    }
}

/// A header record from its column names.
pub(crate) fn header(names: &[String], out: &mut Vec<u8>) {
    let mut line = Line::new();
    for name in names {
        line.text(name);
    }
    line.end(out);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn render(build: impl FnOnce(&mut Line)) -> String {
        let mut line = Line::new();
        build(&mut line);
        let mut out = Vec::new();
        line.end(&mut out);
        String::from_utf8(out).expect("utf-8")
    }

    #[test]
    fn text_cells_are_quoted_and_guarded() {
        let cases: &[(&str, &str)] = &[
            ("plain", "plain"),
            ("a,b", "\"a,b\""),
            ("say \"hi\"", "\"say \"\"hi\"\"\""),
            ("two\nlines", "\"two\nlines\""),
            ("cr\rhere", "\"cr\rhere\""),
            ("=SUM(A1:A2)", "'=SUM(A1:A2)"),
            ("+1", "'+1"),
            ("-1", "'-1"),
            ("@cmd", "'@cmd"),
            ("\tx", "'\tx"),
            ("\rx", "\"'\rx\""),
            (
                "=HYPERLINK(\"x\",\"y\")",
                "\"'=HYPERLINK(\"\"x\"\",\"\"y\"\")\"",
            ),
            ("Zoë ☕", "Zoë ☕"),
            ("", ""),
        ];
        for (input, expected) in cases {
            assert_eq!(
                render(|l| {
                    l.text(input);
                }),
                format!("{expected}\r\n"),
                "text {input:?}"
            );
        }
    }

    #[test]
    fn produced_values_are_not_guarded() {
        assert_eq!(
            render(|l| {
                l.value(-50)
                    .value("2026-01-02")
                    .yes_no(true)
                    .opt_value(None::<i64>);
            }),
            "-50,2026-01-02,yes,\r\n"
        );
    }
}
