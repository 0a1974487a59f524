//! The shell's grammar, as much of POSIX `sh` as a student types inside a pod: words with
//! single and double quotes and backslashes, `$VAR`, `${VAR}` and `$?`, `#` comments, lists
//! with `;`, newlines, `&&` and `||`, pipelines with `|`, and the redirections `2>&1`, `>&2`,
//! `N>FILE` and `N>>FILE`. Expansion happens when a command runs (so `$?` is the status of the
//! command before it); unquoted expansions split into fields on whitespace.

/// A piece of a word before expansion.
#[derive(Debug, Clone, PartialEq)]
pub(super) enum Part {
    /// Text as written (quotes removed).
    Lit(String),
    /// `$NAME` outside double quotes: split into fields.
    Var(String),
    /// `"$NAME"`: one field.
    QuotedVar(String),
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

/// A script: pipelines, each with how it joins the previous one.
pub(super) type Script = Vec<(Join, Vec<Command>)>;

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    Word(Word),
    Op(&'static str),
    Redir(u8, Option<u8>, bool),
}

/// Parses a script; the error is what busybox `sh` prints (`sh: syntax error: ...`).
pub(super) fn parse(src: &str) -> Result<Script, String> {
    let toks = tokenize(src)?;
    let mut script: Script = Vec::new();
    let mut join = Join::Then;
    let mut pipeline: Vec<Command> = Vec::new();
    let mut cmd = Command::default();
    let mut it = toks.into_iter().peekable();
    let unexpected = |t: &str| format!("sh: syntax error: unexpected \"{t}\"");
    while let Some(t) = it.next() {
        match t {
            Tok::Word(w) => cmd.words.push(w),
            Tok::Redir(fd, Some(to), _) => cmd.redirects.push(Redirect {
                fd,
                to: Target::Fd(to),
            }),
            Tok::Redir(fd, None, append) => match it.next() {
                Some(Tok::Word(w)) => cmd.redirects.push(Redirect {
                    fd,
                    to: Target::File(w, append),
                }),
                _ => return Err("sh: syntax error: unexpected newline".into()),
            },
            Tok::Op(op) => {
                let empty = cmd.words.is_empty() && cmd.redirects.is_empty();
                if op == "|" {
                    if empty {
                        return Err(unexpected("|"));
                    }
                    pipeline.push(std::mem::take(&mut cmd));
                    continue;
                }
                if empty {
                    if !pipeline.is_empty() || op != ";" && op != "\n" {
                        return Err(unexpected(op));
                    }
                    if op == ";" && join == Join::Then && script.is_empty() {
                        return Err(unexpected(";"));
                    }
                    continue;
                }
                pipeline.push(std::mem::take(&mut cmd));
                script.push((join, std::mem::take(&mut pipeline)));
                join = match op {
                    "&&" => Join::And,
                    "||" => Join::Or,
                    _ => Join::Then,
                };
            }
        }
    }
    if cmd.words.is_empty() && cmd.redirects.is_empty() {
        if !pipeline.is_empty() || join != Join::Then {
            return Err("sh: syntax error: unexpected end of file".into());
        }
    } else {
        pipeline.push(cmd);
        script.push((join, pipeline));
    }
    Ok(script)
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
                if c == '(' && lit.ends_with('$') {
                    return Err("sh: kubesim's shell has no command substitution ($(...))".into());
                }
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

    #[test]
    fn lists_pipelines_and_joins() {
        let s = parse("echo a; false || echo b && env | grep X\n").unwrap();
        let joins: Vec<Join> = s.iter().map(|(j, _)| *j).collect();
        assert_eq!(joins, [Join::Then, Join::Then, Join::Or, Join::And]);
        assert_eq!(s[3].1.len(), 2);
        assert_eq!(s[3].1[1].words, [lit("grep"), lit("X")]);
    }

    #[test]
    fn quotes_and_variables() {
        let s = parse(r#"echo 'a $X' "b $X" c$Y\ d ${Z}"#).unwrap();
        let w = &s[0].1[0].words;
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
        let c = &s[0].1[0];
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
