//! The shell's grammar, as much of POSIX `sh` as a student types inside a pod: words with
//! single and double quotes and backslashes, `$VAR`, `${VAR}` and `$?`, `#` comments, lists
//! with `;`, newlines, `&&` and `||`, pipelines with `|`, and the redirections `2>&1`, `>&2`,
//! `N>FILE` and `N>>FILE`. Expansion happens when a command runs (so `$?` is the status of the
//! command before it); unquoted expansions split into fields on whitespace.

use std::sync::Arc;

/// A piece of a word before expansion.
#[derive(Debug, Clone, PartialEq)]
pub(super) enum Part {
    /// Text as written (quotes removed).
    Lit(String),
    /// `$NAME` outside double quotes: split into fields.
    Var(String),
    /// `"$NAME"`: one field.
    QuotedVar(String),
    /// `$(COMMANDS)`: their output, without trailing newlines; split into fields unless quoted.
    Subst(String, bool),
    /// `$((EXPR))`: integer arithmetic.
    Arith(String),
}

/// A word: its parts, and whether any of it was quoted (`""` is an empty field, not none).
#[derive(Debug, Clone, PartialEq, Default)]
pub(super) struct Word {
    pub(super) parts: Vec<Part>,
    pub(super) quoted: bool,
}

/// Where an output descriptor goes.
#[derive(Debug, Clone, PartialEq)]
pub(super) enum Target {
    /// `>&1`, `>&2`.
    Fd(u8),
    /// A file (`/dev/null`, or one the read-only file system refuses).
    File(Word, bool),
}

/// A redirection: descriptor and target.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct Redirect {
    pub(super) fd: u8,
    pub(super) to: Target,
}

/// One simple command.
#[derive(Debug, Clone, PartialEq, Default)]
pub(super) struct Command {
    pub(super) words: Vec<Word>,
    pub(super) redirects: Vec<Redirect>,
}

/// How a pipeline joins the one before it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) enum Join {
    /// `;` or a newline (or the first).
    Then,
    /// `&&`.
    And,
    /// `||`.
    Or,
}

/// One item of a list: a pipeline, or a compound command (busybox `sh`'s `while`, `until`,
/// `for` and `if`).
#[derive(Debug, Clone, PartialEq)]
pub(super) enum Node {
    /// Commands joined by `|`.
    Pipeline(Vec<Command>),
    /// `while COND; do BODY; done` (or `until`).
    While {
        /// `until`: the body runs while the condition fails.
        until: bool,
        /// The condition.
        cond: Arc<Script>,
        /// The body.
        body: Arc<Script>,
    },
    /// `for NAME in WORDS; do BODY; done`.
    For {
        /// The variable.
        var: String,
        /// The words, expanded when the loop starts.
        words: Vec<Word>,
        /// The body.
        body: Arc<Script>,
    },
    /// `if C; then A; elif C2; then B; else E; fi`.
    If {
        /// Conditions and their branches, in order.
        arms: Vec<(Arc<Script>, Arc<Script>)>,
        /// The `else` branch.
        otherwise: Option<Arc<Script>>,
    },
}

/// A script: pipelines and compound commands, each with how it joins the previous one.
pub(super) type Script = Vec<(Join, Node)>;

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    Word(Word),
    Op(&'static str),
    Redir(u8, Option<u8>, bool),
}

/// The words that open a compound command.
const OPENERS: &[&str] = &["while", "until", "for", "if"];
/// The words that end a part of one.
const CLOSERS: &[&str] = &["do", "done", "then", "elif", "else", "fi"];

/// Parses a script; the error is what busybox `sh` prints (`sh: syntax error: ...`).
pub(super) fn parse(src: &str) -> Result<Script, String> {
    let mut p = Parser {
        toks: tokenize(src)?,
        pos: 0,
    };
    let (script, end) = p.list(&[])?;
    match end {
        None => Ok(script),
        Some(w) => Err(format!("sh: syntax error: unexpected \"{w}\"")),
    }
}

struct Parser {
    toks: Vec<Tok>,
    pos: usize,
}

/// The reserved word a token is, if it is an unquoted plain word.
fn reserved(t: Option<&Tok>) -> Option<&'static str> {
    let Some(Tok::Word(w)) = t else { return None };
    if w.quoted {
        return None;
    }
    let [Part::Lit(s)] = w.parts.as_slice() else {
        return None;
    };
    OPENERS
        .iter()
        .chain(CLOSERS)
        .copied()
        .find(|r| *r == s.as_str())
}

impl Parser {
    fn peek(&self) -> Option<&Tok> {
        self.toks.get(self.pos)
    }

    /// A list up to one of `ends` (returned) or the end of the input (`None`).
    fn list(&mut self, ends: &[&'static str]) -> Result<(Script, Option<&'static str>), String> {
        let unexpected = |t: &str| format!("sh: syntax error: unexpected \"{t}\"");
        let mut script: Script = Vec::new();
        let mut join = Join::Then;
        loop {
            while let Some(Tok::Op(op @ (";" | "\n"))) = self.peek() {
                let op = *op;
                if join != Join::Then || (op == ";" && script.is_empty()) {
                    return Err(unexpected(op));
                }
                self.pos += 1;
            }
            if self.peek().is_none() {
                if join != Join::Then {
                    return Err("sh: syntax error: unexpected end of file".into());
                }
                return Ok((script, None));
            }
            if let Some(w) = reserved(self.peek()).filter(|w| CLOSERS.contains(w)) {
                if join != Join::Then || !ends.contains(&w) {
                    return Err(unexpected(w));
                }
                self.pos += 1;
                return Ok((script, Some(w)));
            }
            let node = self.node()?;
            script.push((join, node));
            match self.peek() {
                None => join = Join::Then,
                Some(Tok::Op(op @ ("&&" | "||"))) => {
                    join = if *op == "&&" { Join::And } else { Join::Or };
                    self.pos += 1;
                    while let Some(Tok::Op("\n")) = self.peek() {
                        self.pos += 1;
                    }
                }
                Some(Tok::Op(";" | "\n")) => {
                    join = Join::Then;
                    self.pos += 1;
                }
                // `done` right after a compound command (`... done; fi` without the `;`).
                Some(t) if reserved(Some(t)).is_some_and(|w| CLOSERS.contains(&w)) => {
                    join = Join::Then;
                }
                Some(Tok::Op(op)) => return Err(unexpected(op)),
                Some(_) => return Err(unexpected("word")),
            }
        }
    }

    /// A list that must end with `end` (`done`, `fi`...).
    fn block(&mut self, ends: &[&'static str]) -> Result<(Arc<Script>, &'static str), String> {
        let (script, end) = self.list(ends)?;
        let Some(end) = end else {
            return Err(format!(
                "sh: syntax error: unexpected end of file (expecting \"{}\")",
                ends[0]
            ));
        };
        Ok((Arc::new(script), end))
    }

    fn node(&mut self) -> Result<Node, String> {
        match reserved(self.peek()) {
            Some(w @ ("while" | "until")) => {
                self.pos += 1;
                let (cond, _) = self.block(&["do"])?;
                let (body, _) = self.block(&["done"])?;
                Ok(Node::While {
                    until: w == "until",
                    cond,
                    body,
                })
            }
            Some("for") => {
                self.pos += 1;
                let var = match self.toks.get(self.pos) {
                    Some(Tok::Word(Word {
                        parts,
                        quoted: false,
                    })) if matches!(parts.as_slice(), [Part::Lit(n)] if n.chars().next().is_some_and(is_name_start) && n.chars().all(is_name)) => {
                        match parts.as_slice() {
                            [Part::Lit(n)] => n.clone(),
                            _ => String::new(),
                        }
                    }
                    _ => return Err("sh: syntax error: bad for loop variable".into()),
                };
                self.pos += 1;
                let mut words = Vec::new();
                let in_word = matches!(self.peek(), Some(Tok::Word(w)) if !w.quoted && w.parts == [Part::Lit("in".into())]);
                if in_word {
                    self.pos += 1;
                    while let Some(Tok::Word(w)) = self.peek() {
                        words.push(w.clone());
                        self.pos += 1;
                    }
                }
                while let Some(Tok::Op(";" | "\n")) = self.peek() {
                    self.pos += 1;
                }
                if reserved(self.peek()) != Some("do") {
                    return Err(
                        "sh: syntax error: unexpected end of file (expecting \"do\")".into(),
                    );
                }
                self.pos += 1;
                let (body, _) = self.block(&["done"])?;
                Ok(Node::For { var, words, body })
            }
            Some("if") => {
                self.pos += 1;
                let mut arms = Vec::new();
                let mut otherwise = None;
                loop {
                    let (cond, _) = self.block(&["then"])?;
                    let (then, end) = self.block(&["fi", "elif", "else"])?;
                    arms.push((cond, then));
                    match end {
                        "elif" => continue,
                        "else" => {
                            otherwise = Some(self.block(&["fi"])?.0);
                            break;
                        }
                        _ => break,
                    }
                }
                Ok(Node::If { arms, otherwise })
            }
            _ => self.pipeline().map(Node::Pipeline),
        }
    }

    fn pipeline(&mut self) -> Result<Vec<Command>, String> {
        let unexpected = |t: &str| format!("sh: syntax error: unexpected \"{t}\"");
        let mut pipeline = Vec::new();
        let mut cmd = Command::default();
        loop {
            match self.peek().cloned() {
                Some(Tok::Word(w)) => {
                    cmd.words.push(w);
                    self.pos += 1;
                }
                Some(Tok::Redir(fd, Some(to), _)) => {
                    cmd.redirects.push(Redirect {
                        fd,
                        to: Target::Fd(to),
                    });
                    self.pos += 1;
                }
                Some(Tok::Redir(fd, None, append)) => {
                    self.pos += 1;
                    match self.peek().cloned() {
                        Some(Tok::Word(w)) => {
                            self.pos += 1;
                            cmd.redirects.push(Redirect {
                                fd,
                                to: Target::File(w, append),
                            });
                        }
                        _ => return Err("sh: syntax error: unexpected newline".into()),
                    }
                }
                Some(Tok::Op("|")) => {
                    if cmd.words.is_empty() && cmd.redirects.is_empty() {
                        return Err(unexpected("|"));
                    }
                    self.pos += 1;
                    pipeline.push(std::mem::take(&mut cmd));
                    while let Some(Tok::Op("\n")) = self.peek() {
                        self.pos += 1;
                    }
                    if reserved(self.peek()).is_some_and(|w| OPENERS.contains(&w)) {
                        return Err("sh: kubesim's shell pipes no compound command".into());
                    }
                }
                Some(Tok::Op(op)) => {
                    if cmd.words.is_empty() && cmd.redirects.is_empty() {
                        return Err(unexpected(op));
                    }
                    break;
                }
                None => {
                    if cmd.words.is_empty() && cmd.redirects.is_empty() {
                        return Err("sh: syntax error: unexpected end of file".into());
                    }
                    break;
                }
            }
        }
        pipeline.push(cmd);
        Ok(pipeline)
    }
}

fn is_name_start(c: char) -> bool {
    c.is_ascii_alphabetic() || c == '_'
}

fn is_name(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_'
}

/// Reads a `$` expansion after the `$`; `None` when the `$` is literal.
fn dollar(chars: &mut std::iter::Peekable<std::str::Chars<'_>>) -> Result<Option<String>, String> {
    match chars.peek().copied() {
        Some('{') => {
            chars.next();
            let mut name = String::new();
            for c in chars.by_ref() {
                if c == '}' {
                    return if name.chars().all(is_name) || name == "?" {
                        Ok(Some(name))
                    } else {
                        Err(format!("sh: syntax error: bad substitution ${{{name}}}"))
                    };
                }
                name.push(c);
            }
            Err("sh: syntax error: missing '}'".into())
        }
        Some('?') | Some('$') | Some('#') => Ok(chars.next().map(String::from)),
        Some(c) if c.is_ascii_digit() => Ok(chars.next().map(String::from)),
        Some(c) if is_name_start(c) => {
            let mut name = String::new();
            while let Some(&c) = chars.peek() {
                if !is_name(c) {
                    break;
                }
                name.push(c);
                chars.next();
            }
            Ok(Some(name))
        }
        _ => Ok(None),
    }
}

/// After `$`, at `(`: a command substitution `$(...)` or an arithmetic expansion `$((...))`,
/// read to its matching parenthesis (quotes inside are skipped over).
fn substitution(
    chars: &mut std::iter::Peekable<std::str::Chars<'_>>,
    quoted: bool,
) -> Result<Part, String> {
    chars.next();
    let arith = chars.peek() == Some(&'(');
    if arith {
        chars.next();
    }
    let mut depth = 0usize;
    let mut text = String::new();
    while let Some(c) = chars.next() {
        match c {
            '\'' | '"' => {
                text.push(c);
                for q in chars.by_ref() {
                    text.push(q);
                    if q == c {
                        break;
                    }
                }
            }
            '(' => {
                depth += 1;
                text.push(c);
            }
            ')' if depth > 0 => {
                depth -= 1;
                text.push(c);
            }
            ')' if arith => {
                if chars.next() != Some(')') {
                    return Err("sh: arithmetic syntax error".into());
                }
                return Ok(Part::Arith(text));
            }
            ')' => return Ok(Part::Subst(text, quoted)),
            c => text.push(c),
        }
    }
    Err("sh: syntax error: unterminated $(".into())
}

fn tokenize(src: &str) -> Result<Vec<Tok>, String> {
    let mut toks = Vec::new();
    let mut chars = src.chars().peekable();
    let mut word = Word::default();
    let mut lit = String::new();
    let mut in_word = false;
    fn flush_lit(word: &mut Word, lit: &mut String) {
        if !lit.is_empty() {
            word.parts.push(Part::Lit(std::mem::take(lit)));
        }
    }
    #[allow(unused_assignments)]
    macro_rules! end_word {
        () => {
            if in_word {
                flush_lit(&mut word, &mut lit);
                toks.push(Tok::Word(std::mem::take(&mut word)));
                in_word = false;
            }
        };
    }
    while let Some(c) = chars.next() {
        match c {
            ' ' | '\t' => end_word!(),
            '\n' => {
                end_word!();
                toks.push(Tok::Op("\n"));
            }
            '#' if !in_word => {
                while chars.peek().is_some_and(|&c| c != '\n') {
                    chars.next();
                }
            }
            ';' => {
                end_word!();
                toks.push(Tok::Op(";"));
            }
            '&' => {
                end_word!();
                if chars.peek() == Some(&'&') {
                    chars.next();
                    toks.push(Tok::Op("&&"));
                } else {
                    return Err(
                        "sh: kubesim's shell runs nothing in the background (`&`)".to_string()
                    );
                }
            }
            '|' => {
                end_word!();
                if chars.peek() == Some(&'|') {
                    chars.next();
                    toks.push(Tok::Op("||"));
                } else {
                    toks.push(Tok::Op("|"));
                }
            }
            '>' | '<' => {
                // `2>`: the digits just read are the descriptor, if they are all the word.
                let fd = if in_word
                    && word.parts.is_empty()
                    && !word.quoted
                    && (lit == "1" || lit == "2")
                {
                    let fd = if lit == "1" { 1 } else { 2 };
                    lit.clear();
                    in_word = false;
                    fd
                } else {
                    end_word!();
                    1
                };
                if c == '<' {
                    return Err("sh: kubesim's shell has no input redirection (`<`)".into());
                }
                let append = chars.peek() == Some(&'>');
                if append {
                    chars.next();
                }
                if chars.peek() == Some(&'&') {
                    chars.next();
                    match chars.next() {
                        Some('1') => toks.push(Tok::Redir(fd, Some(1), false)),
                        Some('2') => toks.push(Tok::Redir(fd, Some(2), false)),
                        _ => return Err("sh: syntax error: bad fd number".into()),
                    }
                } else {
                    toks.push(Tok::Redir(fd, None, append));
                }
            }
            '\'' => {
                in_word = true;
                word.quoted = true;
                loop {
                    match chars.next() {
                        Some('\'') => break,
                        Some(c) => lit.push(c),
                        None => return Err("sh: syntax error: unterminated quoted string".into()),
                    }
                }
            }
            '"' => {
                in_word = true;
                word.quoted = true;
                loop {
                    match chars.next() {
                        Some('"') => break,
                        Some('\\') => match chars.next() {
                            Some(c @ ('"' | '\\' | '$' | '`')) => lit.push(c),
                            Some('\n') => {}
                            Some(c) => {
                                lit.push('\\');
                                lit.push(c);
                            }
                            None => {
                                return Err("sh: syntax error: unterminated quoted string".into());
                            }
                        },
                        Some('$') if chars.peek() == Some(&'(') => {
                            flush_lit(&mut word, &mut lit);
                            word.parts.push(substitution(&mut chars, true)?);
                        }
                        Some('$') => match dollar(&mut chars)? {
                            Some(name) => {
                                flush_lit(&mut word, &mut lit);
                                word.parts.push(Part::QuotedVar(name));
                            }
                            None => lit.push('$'),
                        },
                        Some(c) => lit.push(c),
                        None => return Err("sh: syntax error: unterminated quoted string".into()),
                    }
                }
            }
            '\\' => match chars.next() {
                Some('\n') => {}
                Some(c) => {
                    in_word = true;
                    word.quoted = true;
                    lit.push(c);
                }
                None => {
                    in_word = true;
                    lit.push('\\');
                }
            },
            '$' if chars.peek() == Some(&'(') => {
                in_word = true;
                flush_lit(&mut word, &mut lit);
                word.parts.push(substitution(&mut chars, false)?);
            }
            '$' => {
                in_word = true;
                match dollar(&mut chars)? {
                    Some(name) => {
                        flush_lit(&mut word, &mut lit);
                        word.parts.push(Part::Var(name));
                    }
                    None => lit.push('$'),
                }
            }
            '`' => return Err("sh: kubesim's shell has no command substitution (`...`)".into()),
            '(' | ')' => {
                return Err(format!("sh: syntax error: unexpected \"{c}\""));
            }
            c => {
                in_word = true;
                lit.push(c);
            }
        }
    }
    if in_word {
        flush_lit(&mut word, &mut lit);
        toks.push(Tok::Word(word));
    }
    Ok(toks)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lit(s: &str) -> Word {
        Word {
            parts: vec![Part::Lit(s.into())],
            quoted: false,
        }
    }

    fn first(s: &Script) -> &Command {
        match &s[0].1 {
            Node::Pipeline(p) => &p[0],
            other => panic!("not a pipeline: {other:?}"),
        }
    }

    #[test]
    fn loops_and_conditionals() {
        let s = parse("while true; do echo hi; sleep 5; done").unwrap();
        let Node::While { until, cond, body } = &s[0].1 else {
            panic!("{s:?}")
        };
        assert!(!until);
        assert_eq!(cond.len(), 1);
        assert_eq!(body.len(), 2);
        let s = parse("for i in 1 2 3\ndo\n  echo $i\ndone; echo end").unwrap();
        assert_eq!(s.len(), 2);
        let Node::For { var, words, body } = &s[0].1 else {
            panic!("{s:?}")
        };
        assert_eq!((var.as_str(), words.len(), body.len()), ("i", 3, 1));
        let s = parse("if false; then echo a; elif true; then echo b; else echo c; fi && echo d")
            .unwrap();
        let Node::If { arms, otherwise } = &s[0].1 else {
            panic!("{s:?}")
        };
        assert_eq!((arms.len(), otherwise.is_some()), (2, true));
        assert_eq!(s[1].0, Join::And);
        // A reserved word that is not at a command's start is a plain word.
        let s = parse("echo done").unwrap();
        assert_eq!(first(&s).words, [lit("echo"), lit("done")]);
        assert_eq!(
            parse("while true; do echo").unwrap_err(),
            "sh: syntax error: unexpected end of file (expecting \"done\")"
        );
        assert_eq!(
            parse("echo a; done").unwrap_err(),
            "sh: syntax error: unexpected \"done\""
        );
    }

    #[test]
    fn lists_pipelines_and_joins() {
        let s = parse("echo a; false || echo b && env | grep X\n").unwrap();
        let joins: Vec<Join> = s.iter().map(|(j, _)| *j).collect();
        assert_eq!(joins, [Join::Then, Join::Then, Join::Or, Join::And]);
        let Node::Pipeline(p) = &s[3].1 else {
            panic!("a pipeline")
        };
        assert_eq!(p.len(), 2);
        assert_eq!(p[1].words, [lit("grep"), lit("X")]);
    }

    #[test]
    fn quotes_and_variables() {
        let s = parse(r#"echo 'a $X' "b $X" c$Y\ d ${Z}"#).unwrap();
        let w = &first(&s).words;
        assert_eq!(
            w[1],
            Word {
                parts: vec![Part::Lit("a $X".into())],
                quoted: true
            }
        );
        assert_eq!(
            w[2].parts,
            [Part::Lit("b ".into()), Part::QuotedVar("X".into())]
        );
        assert_eq!(
            w[3].parts,
            [
                Part::Lit("c".into()),
                Part::Var("Y".into()),
                Part::Lit(" d".into())
            ]
        );
        assert_eq!(w[4].parts, [Part::Var("Z".into())]);
    }

    #[test]
    fn redirections() {
        let s = parse("curl x 2>&1 >/dev/null").unwrap();
        let c = first(&s);
        assert_eq!(c.words, [lit("curl"), lit("x")]);
        assert_eq!(
            c.redirects,
            [
                Redirect {
                    fd: 2,
                    to: Target::Fd(1)
                },
                Redirect {
                    fd: 1,
                    to: Target::File(lit("/dev/null"), false)
                }
            ]
        );
    }

    #[test]
    fn syntax_errors_are_the_shells() {
        assert_eq!(
            parse("echo 'a").unwrap_err(),
            "sh: syntax error: unterminated quoted string"
        );
        assert_eq!(
            parse("| grep x").unwrap_err(),
            "sh: syntax error: unexpected \"|\""
        );
        assert_eq!(
            parse("echo a &&").unwrap_err(),
            "sh: syntax error: unexpected end of file"
        );
        assert!(parse("").unwrap().is_empty());
        assert!(parse("# just a comment").unwrap().is_empty());
    }
}
