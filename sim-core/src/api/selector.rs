//! Label selectors: parsing (`kubectl -l`), conversion from `LabelSelector`, matching and the
//! canonical string form.
//!
//! Port of apimachinery `pkg/labels/selector.go` (`Parse`, `NewRequirement`,
//! `Requirement.Matches`, `Requirement.String`) and `LabelSelectorAsSelector` from
//! `pkg/apis/meta/v1/helpers.go`.

use std::collections::BTreeMap;
use std::fmt;

use k8s_openapi::apimachinery::pkg::apis::meta::v1::LabelSelector;

use super::validation::{is_qualified_name, is_valid_label_value};

/// A parsed label selector: requirements ANDed together, sorted by key like `labels.Selector`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Selector {
    requirements: Vec<Requirement>,
}

/// Why a selector could not be built.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SelectorError {
    /// The `-l` text is not selector syntax; the message is Go's parser's
    /// (`found ',', expected: identifier after ','`, `unable to parse requirement: …`).
    #[error("{0}")]
    Syntax(String),
    /// A key, value or value count is invalid (`NewRequirement`'s field errors).
    #[error("{0}")]
    Invalid(String),
    /// A `matchExpressions` operator is not In, NotIn, Exists or DoesNotExist.
    #[error("{0:?} is not a valid label selector operator")]
    Operator(String),
}

/// One `key op values` term.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Requirement {
    key: String,
    op: Operator,
    values: Vec<String>,
}

/// `selection.Operator`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Operator {
    Equals,
    DoubleEquals,
    NotEquals,
    In,
    NotIn,
    Exists,
    DoesNotExist,
    GreaterThan,
    LessThan,
}

impl Selector {
    /// The selector that matches every label set (and prints as `""`).
    pub fn everything() -> Selector {
        Selector {
            requirements: Vec::new(),
        }
    }

    /// Converts a `LabelSelector` (matchLabels and matchExpressions) as
    /// `metav1.LabelSelectorAsSelector` does. An empty selector matches everything.
    pub fn from_label_selector(sel: &LabelSelector) -> Result<Selector, SelectorError> {
        let mut requirements = Vec::new();
        for (k, v) in sel.match_labels.iter().flatten() {
            requirements.push(Requirement::new(k, Operator::Equals, vec![v.clone()])?);
        }
        for expr in sel.match_expressions.iter().flatten() {
            let op = match expr.operator.as_str() {
                "In" => Operator::In,
                "NotIn" => Operator::NotIn,
                "Exists" => Operator::Exists,
                "DoesNotExist" => Operator::DoesNotExist,
                other => return Err(SelectorError::Operator(other.to_owned())),
            };
            let values = expr.values.clone().unwrap_or_default();
            requirements.push(Requirement::new(&expr.key, op, values)?);
        }
        Ok(Selector::sorted(requirements))
    }

    /// Parses the `kubectl -l` syntax: `a=b`, `a==b`, `a!=b`, `a in (x,y)`, `a notin (x)`,
    /// `a`, `!a`, `a>1`, `a<1`, joined with commas.
    pub fn parse(s: &str) -> Result<Selector, SelectorError> {
        let tokens = lex(s);
        let mut p = Parser { tokens, pos: 0 };
        let mut requirements = Vec::new();
        loop {
            match p.peek_value() {
                Token::Ident(_) | Token::Not => {
                    let r = p.requirement().map_err(|e| {
                        SelectorError::Syntax(format!("unable to parse requirement: {e}"))
                    })?;
                    requirements.push(r);
                    match p.next_value() {
                        Token::End => break,
                        Token::Comma => {
                            let t = p.peek_value();
                            if !matches!(t, Token::Ident(_) | Token::Not) {
                                return Err(SelectorError::Syntax(format!(
                                    "found '{}', expected: identifier after ','",
                                    t.text()
                                )));
                            }
                        }
                        other => {
                            return Err(SelectorError::Syntax(format!(
                                "found '{}', expected: ',' or 'end of string'",
                                other.text()
                            )));
                        }
                    }
                }
                Token::End => break,
                other => {
                    return Err(SelectorError::Syntax(format!(
                        "found '{}', expected: !, identifier, or 'end of string'",
                        other.text()
                    )));
                }
            }
        }
        Ok(Selector::sorted(requirements))
    }

    /// Whether every requirement holds for `labels`.
    pub fn matches(&self, labels: &BTreeMap<String, String>) -> bool {
        self.requirements.iter().all(|r| r.matches(labels))
    }

    /// Whether the selector has no requirements (and so matches everything).
    pub fn is_empty(&self) -> bool {
        self.requirements.is_empty()
    }

    fn sorted(mut requirements: Vec<Requirement>) -> Selector {
        // Go sorts with sort.Sort(ByKey); for the handful of terms a selector has that is an
        // insertion sort, which is stable, like sort_by.
        requirements.sort_by(|a, b| a.key.cmp(&b.key));
        Selector { requirements }
    }
}

/// Whether `labels` match `sel`; an invalid selector matches nothing.
pub fn label_selector_matches(sel: &LabelSelector, labels: &BTreeMap<String, String>) -> bool {
    Selector::from_label_selector(sel).is_ok_and(|s| s.matches(labels))
}

impl fmt::Display for Selector {
    /// The canonical form, as `labels.Selector.String()`: `app=x,tier in (a,b)`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, r) in self.requirements.iter().enumerate() {
            if i > 0 {
                f.write_str(",")?;
            }
            write!(f, "{r}")?;
        }
        Ok(())
    }
}

impl Requirement {
    /// `labels.NewRequirement`: validates the key, the values and their count.
    fn new(key: &str, op: Operator, values: Vec<String>) -> Result<Requirement, SelectorError> {
        let mut errs = Vec::new();
        let key_errs = is_qualified_name(key);
        if !key_errs.is_empty() {
            errs.push(format!(
                "key: Invalid value: {key:?}: {}",
                key_errs.join("; ")
            ));
        }
        let count_err = match op {
            Operator::In | Operator::NotIn if values.is_empty() => {
                Some("for 'in', 'notin' operators, values set can't be empty")
            }
            Operator::Equals | Operator::DoubleEquals | Operator::NotEquals
                if values.len() != 1 =>
            {
                Some("exact-match compatibility requires one single value")
            }
            Operator::Exists | Operator::DoesNotExist if !values.is_empty() => {
                Some("values set must be empty for exists and does not exist")
            }
            Operator::GreaterThan | Operator::LessThan if values.len() != 1 => {
                Some("for 'Gt', 'Lt' operators, exactly one value is required")
            }
            _ => None,
        };
        if let Some(msg) = count_err {
            errs.push(format!("values: Invalid value: {values:?}: {msg}"));
        }
        for (i, v) in values.iter().enumerate() {
            if matches!(op, Operator::GreaterThan | Operator::LessThan) {
                if v.parse::<i64>().is_err() {
                    errs.push(format!(
                        "values[{i}]: Invalid value: {v:?}: for 'Gt', 'Lt' operators, \
                         the value must be an integer"
                    ));
                }
                continue;
            }
            let value_errs = is_valid_label_value(v);
            if !value_errs.is_empty() {
                errs.push(format!(
                    "values[{i}]: Invalid value: {v:?}: {}",
                    value_errs.join("; ")
                ));
            }
        }
        if errs.is_empty() {
            Ok(Requirement {
                key: key.to_owned(),
                op,
                values,
            })
        } else if errs.len() == 1 {
            Err(SelectorError::Invalid(errs.remove(0)))
        } else {
            Err(SelectorError::Invalid(format!("[{}]", errs.join(", "))))
        }
    }

    fn matches(&self, labels: &BTreeMap<String, String>) -> bool {
        let got = labels.get(&self.key);
        match self.op {
            Operator::Equals | Operator::DoubleEquals | Operator::In => {
                got.is_some_and(|v| self.values.contains(v))
            }
            Operator::NotEquals | Operator::NotIn => got.is_none_or(|v| !self.values.contains(v)),
            Operator::Exists => got.is_some(),
            Operator::DoesNotExist => got.is_none(),
            Operator::GreaterThan | Operator::LessThan => {
                let (Some(have), Some(want)) = (
                    got.and_then(|v| v.parse::<i64>().ok()),
                    self.values.first().and_then(|v| v.parse::<i64>().ok()),
                ) else {
                    return false;
                };
                if self.op == Operator::GreaterThan {
                    have > want
                } else {
                    have < want
                }
            }
        }
    }
}

impl fmt::Display for Requirement {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.op == Operator::DoesNotExist {
            f.write_str("!")?;
        }
        f.write_str(&self.key)?;
        let op = match self.op {
            Operator::Exists | Operator::DoesNotExist => return Ok(()),
            Operator::Equals => "=",
            Operator::DoubleEquals => "==",
            Operator::NotEquals => "!=",
            Operator::In => " in ",
            Operator::NotIn => " notin ",
            Operator::GreaterThan => ">",
            Operator::LessThan => "<",
        };
        f.write_str(op)?;
        let set = matches!(self.op, Operator::In | Operator::NotIn);
        if set {
            f.write_str("(")?;
        }
        // Values print sorted, without changing the requirement (Go's safeSort).
        let mut values: Vec<&str> = self.values.iter().map(String::as_str).collect();
        values.sort_unstable();
        f.write_str(&values.join(","))?;
        if set {
            f.write_str(")")?;
        }
        Ok(())
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
enum Token {
    Ident(String),
    Not,
    Equals,
    DoubleEquals,
    NotEquals,
    Greater,
    Less,
    OpenPar,
    ClosePar,
    Comma,
    End,
}

impl Token {
    fn text(&self) -> &str {
        match self {
            Token::Ident(s) => s,
            Token::Not => "!",
            Token::Equals => "=",
            Token::DoubleEquals => "==",
            Token::NotEquals => "!=",
            Token::Greater => ">",
            Token::Less => "<",
            Token::OpenPar => "(",
            Token::ClosePar => ")",
            Token::Comma => ",",
            Token::End => "",
        }
    }
}

/// Splits selector text into tokens; identifiers run until whitespace or a special character.
fn lex(s: &str) -> Vec<Token> {
    let mut out = Vec::new();
    let mut chars = s.chars().peekable();
    while let Some(&c) = chars.peek() {
        if c.is_whitespace() {
            chars.next();
            continue;
        }
        let special = |c: char| matches!(c, '=' | '!' | '(' | ')' | ',' | '>' | '<');
        if special(c) {
            chars.next();
            let next_eq = chars.peek() == Some(&'=');
            out.push(match c {
                '=' if next_eq => {
                    chars.next();
                    Token::DoubleEquals
                }
                '=' => Token::Equals,
                '!' if next_eq => {
                    chars.next();
                    Token::NotEquals
                }
                '!' => Token::Not,
                '(' => Token::OpenPar,
                ')' => Token::ClosePar,
                ',' => Token::Comma,
                '>' => Token::Greater,
                _ => Token::Less,
            });
            continue;
        }
        let mut ident = String::new();
        while let Some(&c) = chars.peek() {
            if c.is_whitespace() || special(c) {
                break;
            }
            ident.push(c);
            chars.next();
        }
        out.push(Token::Ident(ident));
    }
    out.push(Token::End);
    out
}

struct Parser {
    tokens: Vec<Token>,
    pos: usize,
}

/// A parser error before wrapping (Go's `fmt.Errorf` texts in `labels/selector.go`).
fn found(t: &Token, expected: &str) -> SelectorError {
    SelectorError::Syntax(format!("found '{}', expected: {expected}", t.text()))
}

impl Parser {
    /// The next token where a value may stand: the keywords `in`/`notin` are plain identifiers
    /// there (Go's `Values` scan context).
    fn peek_value(&self) -> Token {
        self.tokens.get(self.pos).cloned().unwrap_or(Token::End)
    }

    fn next_value(&mut self) -> Token {
        let t = self.peek_value();
        self.pos += 1;
        t
    }

    /// `parseRequirement`.
    fn requirement(&mut self) -> Result<Requirement, SelectorError> {
        let mut negated = false;
        let mut tok = self.next_value();
        if tok == Token::Not {
            negated = true;
            tok = self.next_value();
        }
        let Token::Ident(key) = tok else {
            return Err(found(&tok, "identifier"));
        };
        let key_errs = is_qualified_name(&key);
        if !key_errs.is_empty() {
            return Err(SelectorError::Invalid(format!(
                "key: Invalid value: {key:?}: {}",
                key_errs.join("; ")
            )));
        }
        let at_end = matches!(self.peek_value(), Token::End | Token::Comma);
        if negated {
            return Requirement::new(&key, Operator::DoesNotExist, Vec::new());
        }
        if at_end {
            return Requirement::new(&key, Operator::Exists, Vec::new());
        }
        let op = match self.next_value() {
            Token::Equals => Operator::Equals,
            Token::DoubleEquals => Operator::DoubleEquals,
            Token::NotEquals => Operator::NotEquals,
            Token::Greater => Operator::GreaterThan,
            Token::Less => Operator::LessThan,
            Token::Ident(w) if w == "in" => Operator::In,
            Token::Ident(w) if w == "notin" => Operator::NotIn,
            other => {
                let ops = "in, notin, =, ==, !=, >, <";
                return Err(SelectorError::Syntax(if other.text().is_empty() {
                    format!("found '', expected: {ops}")
                } else {
                    format!("invalid operator '{}', expected: {ops}", other.text())
                }));
            }
        };
        let values = if matches!(op, Operator::In | Operator::NotIn) {
            self.value_set()?
        } else {
            self.exact_value()?
        };
        Requirement::new(&key, op, values)
    }

    /// `parseExactValue`: one identifier, or the empty value before `,` or the end.
    fn exact_value(&mut self) -> Result<Vec<String>, SelectorError> {
        match self.peek_value() {
            Token::End | Token::Comma => Ok(vec![String::new()]),
            _ => match self.next_value() {
                Token::Ident(v) => Ok(vec![v]),
                other => Err(found(&other, "identifier")),
            },
        }
    }

    /// `parseValues` and `parseIdentifiersList`: `( v1, v2 )` as a sorted set, where empty
    /// elements (`(,a)`, `()`) stand for the empty value.
    fn value_set(&mut self) -> Result<Vec<String>, SelectorError> {
        let open = self.next_value();
        if open != Token::OpenPar {
            return Err(SelectorError::Syntax(format!(
                "found '{}' expected: '('",
                open.text()
            )));
        }
        let mut set = std::collections::BTreeSet::new();
        match self.peek_value() {
            Token::ClosePar => {
                self.next_value();
                set.insert(String::new());
            }
            Token::Ident(_) | Token::Comma => {
                loop {
                    match self.next_value() {
                        Token::Ident(v) => {
                            set.insert(v);
                            match self.peek_value() {
                                Token::Comma => continue,
                                Token::ClosePar => break,
                                other => return Err(found(&other, "',' or ')'")),
                            }
                        }
                        Token::Comma => {
                            if set.is_empty() {
                                set.insert(String::new());
                            }
                            match self.peek_value() {
                                Token::ClosePar => {
                                    set.insert(String::new());
                                    break;
                                }
                                Token::Comma => {
                                    self.next_value();
                                    set.insert(String::new());
                                }
                                _ => {}
                            }
                        }
                        other => return Err(found(&other, "',', or identifier")),
                    }
                }
                let close = self.next_value();
                if close != Token::ClosePar {
                    return Err(found(&close, "')'"));
                }
            }
            other => return Err(found(&other, "',', ')' or identifier")),
        }
        Ok(set.into_iter().collect())
    }
}

#[cfg(test)]
mod tests {
    //! Cases from apimachinery `selector_test.go` (`TestSelectorParse`, `TestSelectorMatches`,
    //! `TestSetSelectorParser`, `TestLexer`-style round trips) and `helpers_test.go`
    //! (`TestLabelSelectorAsSelector`).
    use super::*;
    use k8s_openapi::apimachinery::pkg::apis::meta::v1::LabelSelectorRequirement;

    fn labels(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    /// Parses `text`, checks its canonical string, and checks it against matching/non-matching sets.
    fn check(text: &str, canonical: &str, yes: &[&[(&str, &str)]], no: &[&[(&str, &str)]]) {
        let sel = Selector::parse(text).unwrap_or_else(|e| panic!("{text}: {e}"));
        assert_eq!(sel.to_string(), canonical, "canonical form of {text:?}");
        for l in yes {
            assert!(sel.matches(&labels(l)), "{text:?} should match {l:?}");
        }
        for l in no {
            assert!(!sel.matches(&labels(l)), "{text:?} should not match {l:?}");
        }
    }

    #[test]
    fn parse_good() {
        check("", "", &[&[], &[("x", "y")]], &[]);
        check(
            "x=a,y=b,z=c",
            "x=a,y=b,z=c",
            &[&[("x", "a"), ("y", "b"), ("z", "c")]],
            &[&[("x", "a")]],
        );
        check(
            "x!=a,y=b",
            "x!=a,y=b",
            &[&[("y", "b")], &[("x", "z"), ("y", "b")]],
            &[&[("x", "a"), ("y", "b")]],
        );
        check("x=", "x=", &[&[("x", "")]], &[&[], &[("x", "a")]]);
        check("x= ", "x=", &[&[("x", "")]], &[]);
        check("x=,z= ", "x=,z=", &[&[("x", ""), ("z", "")]], &[]);
        check(
            "x in (a,b)",
            "x in (a,b)",
            &[&[("x", "a")], &[("x", "b")]],
            &[&[("x", "c")], &[]],
        );
        check("x in (b,a)", "x in (a,b)", &[], &[]);
        check(
            "x notin (a)",
            "x notin (a)",
            &[&[], &[("x", "b")]],
            &[&[("x", "a")]],
        );
        check("x in (,a)", "x in (,a)", &[&[("x", "")]], &[]);
        check("x in ()", "x in ()", &[&[("x", "")]], &[&[("x", "a")]]);
        check("x in (a,a,b)", "x in (a,b)", &[], &[]);
        check("x=in", "x=in", &[&[("x", "in")]], &[]);
        check("x", "x", &[&[("x", "")]], &[&[]]);
        check("!x", "!x", &[&[]], &[&[("x", "a")]]);
        check(" x ", "x", &[], &[]);
        check("z=b,a=c", "a=c,z=b", &[], &[]);
        check(
            "x>1",
            "x>1",
            &[&[("x", "2")]],
            &[&[("x", "1")], &[("x", "a")], &[]],
        );
        check("x<1", "x<1", &[&[("x", "0")]], &[&[("x", "1")]]);
        check(
            "app=rest-api,phase=live-coding",
            "app=rest-api,phase=live-coding",
            &[],
            &[],
        );
        check(
            "example.com/tier=fe",
            "example.com/tier=fe",
            &[&[("example.com/tier", "fe")]],
            &[],
        );
    }

    #[test]
    fn parse_bad() {
        for bad in [
            "x=a||y=b",
            "x==a==b",
            "x==a==b==c",
            "!x=a",
            "x<a",
            "x=a,",
            ",x=a",
            "x in",
            "x in (a",
            "(x)",
            "x=a b",
            "x=-a",
            "x in (a b)",
            "Bad Key=a",
            "a/b/c=d",
        ] {
            assert!(Selector::parse(bad).is_err(), "{bad:?} should not parse");
        }
    }

    #[test]
    fn parse_error_messages() {
        let err = |s: &str| Selector::parse(s).unwrap_err().to_string();
        assert_eq!(err("x=a,"), "found '', expected: identifier after ','");
        assert_eq!(err("x=a b"), "found 'b', expected: ',' or 'end of string'");
        assert_eq!(
            err("(x)"),
            "found '(', expected: !, identifier, or 'end of string'"
        );
        assert_eq!(
            err("x foo y"),
            "unable to parse requirement: invalid operator 'foo', expected: in, notin, =, ==, !=, >, <"
        );
        assert_eq!(
            err("x in a"),
            "unable to parse requirement: found 'a' expected: '('"
        );
    }

    #[test]
    fn from_label_selector_cases() {
        let sel = LabelSelector {
            match_labels: Some(labels(&[("phase", "live-coding"), ("app", "rest-api")])),
            match_expressions: Some(vec![LabelSelectorRequirement {
                key: "tier".into(),
                operator: "In".into(),
                values: Some(vec!["b".into(), "a".into()]),
            }]),
        };
        let s = Selector::from_label_selector(&sel).expect("valid");
        assert_eq!(
            s.to_string(),
            "app=rest-api,phase=live-coding,tier in (a,b)"
        );
        assert!(s.matches(&labels(&[
            ("phase", "live-coding"),
            ("app", "rest-api"),
            ("tier", "a")
        ])));
        assert!(!s.matches(&labels(&[("phase", "live-coding"), ("app", "rest-api")])));
        assert!(label_selector_matches(
            &sel,
            &labels(&[("phase", "live-coding"), ("app", "rest-api"), ("tier", "b")])
        ));

        let empty = Selector::from_label_selector(&LabelSelector::default()).expect("valid");
        assert!(empty.is_empty());
        assert_eq!(empty, Selector::everything());
        assert!(empty.matches(&labels(&[("any", "thing")])));

        let bad_op = LabelSelector {
            match_expressions: Some(vec![LabelSelectorRequirement {
                key: "k".into(),
                operator: "Equals".into(),
                values: None,
            }]),
            ..Default::default()
        };
        assert_eq!(
            Selector::from_label_selector(&bad_op)
                .unwrap_err()
                .to_string(),
            "\"Equals\" is not a valid label selector operator"
        );
        assert!(!label_selector_matches(&bad_op, &labels(&[("k", "v")])));

        let no_values = LabelSelector {
            match_expressions: Some(vec![LabelSelectorRequirement {
                key: "k".into(),
                operator: "In".into(),
                values: None,
            }]),
            ..Default::default()
        };
        assert!(Selector::from_label_selector(&no_values).is_err());
    }
}
