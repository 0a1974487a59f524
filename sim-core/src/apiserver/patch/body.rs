//! Reading a patch body as the API server's Go code reads it.
//!
//! `encoding/json` (and its fork `sigs.k8s.io/json`) checks the whole body's syntax before it
//! decodes anything, so a malformed body fails with the scanner's words (`invalid character
//! 'x' looking for beginning of value`, `unexpected end of JSON input`) whatever type it was
//! meant for. [`parse`] runs a port of that scanner (`encoding/json/scanner.go`), then lets
//! serde_json build the value. The scanner also bounds nesting: Go refuses past 10,000
//! levels (`exceeded max depth`); we refuse past [`super::MAX_DEPTH`], with the same words,
//! so nothing downstream recurses without limit.

use serde_json::Value;

use super::gofmt::go_quote_byte;

/// A body's syntax error, worded as Go's `json.SyntaxError`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) struct SyntaxError(pub(super) String);

/// Parses a body as JSON, refusing what Go's scanner refuses and nesting deeper than
/// `max_depth`.
pub(super) fn parse(body: &[u8], max_depth: usize) -> Result<Value, SyntaxError> {
    check_valid(body, max_depth)?;
    // Go decodes invalid UTF-8 inside strings as U+FFFD; the scanner has already refused any
    // such byte outside a string.
    let text = String::from_utf8_lossy(body);
    serde_json::from_str(&text).map_err(|e| SyntaxError(e.to_string()))
}

/// What the scanner expects next (Go's `step` functions).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum State {
    BeginValueOrEmpty,
    BeginValue,
    BeginStringOrEmpty,
    BeginString,
    EndValue,
    EndTop,
    InString,
    InStringEsc,
    InStringEscU(u8),
    Neg,
    One,
    Zero,
    Dot,
    Dot0,
    E,
    ESign,
    E0,
    /// Inside `true`, `false` or `null`: the literal and how many bytes of it were read.
    Literal(&'static [u8], usize),
}

/// Where in a container the scanner is (Go's `parseState`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Parse {
    ObjectKey,
    ObjectValue,
    ArrayValue,
}

struct Scanner {
    state: State,
    stack: Vec<Parse>,
    max_depth: usize,
}

fn is_space(c: u8) -> bool {
    matches!(c, b' ' | b'\t' | b'\r' | b'\n')
}

fn error(c: u8, context: &str) -> SyntaxError {
    SyntaxError(format!("invalid character {} {context}", go_quote_byte(c)))
}

/// Go's `checkValid`: scan every byte, then an implicit space for the end of input.
fn check_valid(body: &[u8], max_depth: usize) -> Result<(), SyntaxError> {
    let mut s = Scanner {
        state: State::BeginValue,
        stack: Vec::new(),
        max_depth,
    };
    for &c in body {
        s.step(c)?;
    }
    // Go's `eof`: a value that ends at the end of input (a number) ends on this space; any
    // other unfinished state is an unexpected end, or an invalid ' ' inside a literal.
    if s.state == State::EndTop {
        return Ok(());
    }
    s.step(b' ')?;
    if s.state == State::EndTop {
        Ok(())
    } else {
        Err(SyntaxError("unexpected end of JSON input".to_owned()))
    }
}

impl Scanner {
    fn push(&mut self, c: u8, p: Parse) -> Result<(), SyntaxError> {
        self.stack.push(p);
        if self.stack.len() > self.max_depth {
            return Err(error(c, "exceeded max depth"));
        }
        Ok(())
    }

    fn step(&mut self, c: u8) -> Result<(), SyntaxError> {
        use State::*;
        self.state = match self.state {
            BeginValueOrEmpty if is_space(c) => BeginValueOrEmpty,
            BeginValueOrEmpty if c == b']' => return self.end_value(c),
            BeginValueOrEmpty | BeginValue => return self.begin_value(c),
            BeginStringOrEmpty if is_space(c) => BeginStringOrEmpty,
            BeginStringOrEmpty if c == b'}' => {
                if let Some(top) = self.stack.last_mut() {
                    *top = Parse::ObjectValue;
                }
                return self.end_value(c);
            }
            BeginStringOrEmpty | BeginString => {
                if is_space(c) {
                    BeginString
                } else if c == b'"' {
                    InString
                } else {
                    return Err(error(c, "looking for beginning of object key string"));
                }
            }
            EndValue => return self.end_value(c),
            EndTop => {
                if is_space(c) {
                    EndTop
                } else {
                    return Err(error(c, "after top-level value"));
                }
            }
            InString => match c {
                b'"' => EndValue,
                b'\\' => InStringEsc,
                c if c < 0x20 => return Err(error(c, "in string literal")),
                _ => InString,
            },
            InStringEsc => match c {
                b'b' | b'f' | b'n' | b'r' | b't' | b'\\' | b'/' | b'"' => InString,
                b'u' => InStringEscU(0),
                _ => return Err(error(c, "in string escape code")),
            },
            InStringEscU(n) => {
                if !c.is_ascii_hexdigit() {
                    return Err(error(c, "in \\u hexadecimal character escape"));
                }
                if n == 3 {
                    InString
                } else {
                    InStringEscU(n + 1)
                }
            }
            Neg => match c {
                b'0' => Zero,
                b'1'..=b'9' => One,
                _ => return Err(error(c, "in numeric literal")),
            },
            One if c.is_ascii_digit() => One,
            One | Zero => match c {
                b'.' => Dot,
                b'e' | b'E' => E,
                _ => return self.end_value(c),
            },
            Dot if c.is_ascii_digit() => Dot0,
            Dot => return Err(error(c, "after decimal point in numeric literal")),
            Dot0 => match c {
                b'0'..=b'9' => Dot0,
                b'e' | b'E' => E,
                _ => return self.end_value(c),
            },
            E if c == b'+' || c == b'-' => ESign,
            E | ESign => {
                if c.is_ascii_digit() {
                    E0
                } else {
                    return Err(error(c, "in exponent of numeric literal"));
                }
            }
            E0 if c.is_ascii_digit() => E0,
            E0 => return self.end_value(c),
            Literal(word, read) => {
                if c != word[read] {
                    let name = String::from_utf8_lossy(word);
                    let expecting = char::from(word[read]);
                    return Err(error(
                        c,
                        &format!("in literal {name} (expecting '{expecting}')"),
                    ));
                }
                if read + 1 == word.len() {
                    EndValue
                } else {
                    Literal(word, read + 1)
                }
            }
        };
        Ok(())
    }

    fn begin_value(&mut self, c: u8) -> Result<(), SyntaxError> {
        use State::*;
        self.state = match c {
            c if is_space(c) => BeginValue,
            b'{' => {
                self.push(c, Parse::ObjectKey)?;
                BeginStringOrEmpty
            }
            b'[' => {
                self.push(c, Parse::ArrayValue)?;
                BeginValueOrEmpty
            }
            b'"' => InString,
            b'-' => Neg,
            b'0' => Zero,
            b'1'..=b'9' => One,
            b't' => Literal(b"true", 1),
            b'f' => Literal(b"false", 1),
            b'n' => Literal(b"null", 1),
            _ => return Err(error(c, "looking for beginning of value")),
        };
        Ok(())
    }

    /// Go's `stateEndValue`: a value just ended; what may follow depends on its container.
    fn end_value(&mut self, c: u8) -> Result<(), SyntaxError> {
        let Some(&top) = self.stack.last() else {
            self.state = State::EndTop;
            return self.step(c);
        };
        if is_space(c) {
            self.state = State::EndValue;
            return Ok(());
        }
        self.state = match (top, c) {
            (Parse::ObjectKey, b':') => {
                if let Some(t) = self.stack.last_mut() {
                    *t = Parse::ObjectValue;
                }
                State::BeginValue
            }
            (Parse::ObjectKey, _) => return Err(error(c, "after object key")),
            (Parse::ObjectValue, b',') => {
                if let Some(t) = self.stack.last_mut() {
                    *t = Parse::ObjectKey;
                }
                State::BeginString
            }
            (Parse::ObjectValue, b'}') | (Parse::ArrayValue, b']') => {
                self.stack.pop();
                if self.stack.is_empty() {
                    State::EndTop
                } else {
                    State::EndValue
                }
            }
            (Parse::ObjectValue, _) => return Err(error(c, "after object key:value pair")),
            (Parse::ArrayValue, b',') => State::BeginValue,
            (Parse::ArrayValue, _) => return Err(error(c, "after array element")),
        };
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn err(body: &str) -> String {
        match parse(body.as_bytes(), 100) {
            Ok(v) => panic!("{body:?} parsed as {v}"),
            Err(SyntaxError(m)) => m,
        }
    }

    /// The messages of Go's `encoding/json` for the same inputs (its `scanner_test.go` and
    /// what `go run` prints).
    #[test]
    fn syntax_errors_are_worded_as_go_words_them() {
        assert_eq!(err(""), "unexpected end of JSON input");
        assert_eq!(err("  "), "unexpected end of JSON input");
        assert_eq!(err("{"), "unexpected end of JSON input");
        assert_eq!(err("[1,"), "unexpected end of JSON input");
        assert_eq!(err(r#"{"a""#), "unexpected end of JSON input");
        assert_eq!(
            err("x"),
            "invalid character 'x' looking for beginning of value"
        );
        assert_eq!(
            err("{a:1}"),
            "invalid character 'a' looking for beginning of object key string"
        );
        assert_eq!(err(r#"{"a" 1}"#), "invalid character '1' after object key");
        assert_eq!(
            err(r#"{"a":1 "b":2}"#),
            "invalid character '\"' after object key:value pair"
        );
        assert_eq!(err("[1 2]"), "invalid character '2' after array element");
        assert_eq!(err("{} x"), "invalid character 'x' after top-level value");
        assert_eq!(
            err("[1,]"),
            "invalid character ']' looking for beginning of value"
        );
        assert_eq!(
            err("tru"),
            "invalid character ' ' in literal true (expecting 'e')"
        );
        assert_eq!(
            err("nul!"),
            "invalid character '!' in literal null (expecting 'l')"
        );
        assert_eq!(err("-x"), "invalid character 'x' in numeric literal");
        assert_eq!(
            err("1.x"),
            "invalid character 'x' after decimal point in numeric literal"
        );
        assert_eq!(
            err("1ex"),
            "invalid character 'x' in exponent of numeric literal"
        );
        assert_eq!(err("01"), "invalid character '1' after top-level value");
        assert_eq!(err("\"a\nb\""), r"invalid character '\n' in string literal");
        assert_eq!(
            err(r#""\x""#),
            "invalid character 'x' in string escape code"
        );
        assert_eq!(
            err(r#""\u12g4""#),
            r"invalid character 'g' in \u hexadecimal character escape"
        );
        assert_eq!(
            err("{'a':1}"),
            r"invalid character '\'' looking for beginning of object key string"
        );
    }

    #[test]
    fn valid_bodies_parse() {
        let v = parse(
            br#" {"a": [1, -2.5e+3, true, false, null, "x\u00e9\n"], "b": {}} "#,
            100,
        );
        assert_eq!(
            v,
            Ok(json!({"a": [1, -2500.0, true, false, null, "x\u{e9}\n"], "b": {}}))
        );
        assert_eq!(parse(b"[]", 100), Ok(json!([])));
        assert_eq!(parse(b"0", 100), Ok(json!(0)));
        // Invalid UTF-8 inside a string is kept as U+FFFD, as Go decodes it.
        assert_eq!(parse(b"\"a\xffb\"", 100), Ok(json!("a\u{fffd}b")));
    }

    #[test]
    fn nesting_is_bounded() {
        let deep = |n: usize| format!("{}{}", "[".repeat(n), "]".repeat(n));
        assert!(parse(deep(100).as_bytes(), 100).is_ok());
        assert_eq!(
            parse(deep(101).as_bytes(), 100),
            Err(SyntaxError(
                "invalid character '[' exceeded max depth".to_owned()
            ))
        );
        // A body far deeper than serde_json's own limit is refused by the scanner first,
        // without recursion.
        assert!(parse(deep(1_000_000).as_bytes(), 100).is_err());
    }
}
