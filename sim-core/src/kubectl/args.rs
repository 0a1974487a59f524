//! The command line: shell-like word splitting, flags (kubectl's pflag spellings: `-n x`,
//! `--namespace=x`, repeated flags, `--` before a container's command) and resource names.

use super::{Output, unknown_kind};
use crate::store::Kind;

/// Splits a command line like a shell: spaces separate words, quotes group them.
pub fn split_words(line: &str) -> Result<Vec<String>, String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut quote: Option<char> = None;
    let mut any = false;
    for ch in line.chars() {
        match (quote, ch) {
            (Some(q), c) if c == q => quote = None,
            (Some(_), c) => cur.push(c),
            (None, '"' | '\'') => {
                quote = Some(ch);
                any = true;
            }
            (None, c) if c.is_whitespace() => {
                if any || !cur.is_empty() {
                    out.push(std::mem::take(&mut cur));
                    any = false;
                }
            }
            (None, c) => cur.push(c),
        }
    }
    if quote.is_some() {
        return Err("unterminated quote".into());
    }
    if any || !cur.is_empty() {
        out.push(cur);
    }
    Ok(out)
}

pub(super) struct Args {
    pub(super) positional: Vec<String>,
    pub(super) flags: Vec<(String, Option<String>)>,
    /// The words after `--` (a container's command).
    pub(super) rest: Vec<String>,
}

const VALUE_FLAGS: [&str; 38] = [
    "--timeout",
    "-p",
    "--patch",
    "--subresource",
    "--tcp",
    "--node-port",
    "--target-port",
    "--type",
    "--name",
    "--protocol",
    "--clusterip",
    "--image",
    "--labels",
    "--port",
    "--restart",
    "--env",
    "--grace-period",
    "-n",
    "--namespace",
    "-f",
    "--filename",
    "-o",
    "--output",
    "-l",
    "--selector",
    "-c",
    "--container",
    "--replicas",
    "--to-revision",
    "--revision",
    "--tail",
    "--min",
    "--max",
    "--cpu-percent",
    "--sort-by",
    "--from-literal",
    "--from-file",
    "--from-env-file",
];

impl Args {
    pub(super) fn parse(words: &[String]) -> Args {
        let mut positional = Vec::new();
        let mut flags = Vec::new();
        let mut rest = Vec::new();
        let mut i = 0;
        while i < words.len() {
            let w = &words[i];
            if w == "--" {
                rest = words[i + 1..].to_vec();
                break;
            }
            if let Some((k, v)) = w.split_once('=').filter(|_| w.starts_with('-')) {
                flags.push((k.to_string(), Some(v.to_string())));
            } else if w.starts_with('-') && w.len() > 1 {
                if VALUE_FLAGS.contains(&w.as_str()) && i + 1 < words.len() {
                    flags.push((w.clone(), Some(words[i + 1].clone())));
                    i += 1;
                } else {
                    flags.push((w.clone(), None));
                }
            } else {
                positional.push(w.clone());
            }
            i += 1;
        }
        Args {
            positional,
            flags,
            rest,
        }
    }
    pub(super) fn get(&self, names: &[&str]) -> Option<&str> {
        self.flags
            .iter()
            .rev()
            .find(|(k, _)| names.contains(&k.as_str()))
            .and_then(|(_, v)| v.as_deref())
    }
    pub(super) fn all(&self, names: &[&str]) -> Vec<&str> {
        self.flags
            .iter()
            .filter(|(k, _)| names.contains(&k.as_str()))
            .filter_map(|(_, v)| v.as_deref())
            .collect()
    }
    pub(super) fn has(&self, names: &[&str]) -> bool {
        self.flags.iter().any(|(k, _)| names.contains(&k.as_str()))
    }
}

/// A resource name as kubectl accepts it (`po`, `pods`, `deploy`, `deployment.apps`, ...).
pub fn parse_kind(word: &str) -> Option<Kind> {
    crate::api::resource::by_word(word).map(|r| r.kind)
}

pub(super) fn target(args: &Args) -> Result<(Kind, String), Output> {
    let p = &args.positional;
    let (kind_word, name) = match p.first().and_then(|w| w.split_once('/')) {
        Some((k, n)) => (k.to_string(), n.to_string()),
        None => match (p.first(), p.get(1)) {
            (Some(k), Some(n)) => (k.clone(), n.clone()),
            (Some(k), None) => {
                return Err(Output::err(format!(
                    "error: you must specify the name of the resource (kind {k})"
                )));
            }
            _ => {
                return Err(Output::err(
                    "error: you must specify the type of resource and its name",
                ));
            }
        },
    };
    let kind = parse_kind(&kind_word).ok_or_else(|| unknown_kind(&kind_word))?;
    Ok((kind, name))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_split_like_a_shell() {
        assert_eq!(
            split_words("get pods -n 'live coding'").unwrap(),
            ["get", "pods", "-n", "live coding"]
        );
        assert_eq!(split_words(r#"a "" b"#).unwrap(), ["a", "", "b"]);
        assert!(split_words("get 'oops").is_err());
    }
}
