//! `$((EXPR))`: the shell's integer arithmetic (64-bit, as busybox `sh`): numbers, variables
//! (`i` or `$i`; unset or empty is 0), unary `-`, `+`, `!`, `* / %`, `+ -`, the comparisons
//! (1 or 0), `&&`, `||` and parentheses. Division by zero is an error.

/// Evaluates `expr`, reading variables through `var`.
pub(super) fn eval(expr: &str, var: &dyn Fn(&str) -> Option<String>) -> Result<i64, String> {
    let toks = tokens(expr, var)?;
    let mut p = P { toks, pos: 0 };
    let v = p.binary(0)?;
    if p.pos != p.toks.len() {
        return Err("sh: arithmetic syntax error".into());
    }
    Ok(v)
}

#[derive(Debug, Clone, PartialEq)]
enum T {
    Num(i64),
    Op(&'static str),
}

const OPS: &[&str] = &[
    "||", "&&", "==", "!=", "<=", ">=", "<", ">", "+", "-", "*", "/", "%", "(", ")", "!",
];

fn tokens(expr: &str, var: &dyn Fn(&str) -> Option<String>) -> Result<Vec<T>, String> {
    let mut out = Vec::new();
    let b = expr.as_bytes();
    let mut i = 0;
    while i < b.len() {
        let c = b[i] as char;
        if c.is_ascii_whitespace() {
            i += 1;
        } else if c.is_ascii_digit() {
            let start = i;
            while i < b.len() && (b[i] as char).is_ascii_digit() {
                i += 1;
            }
            let n = expr[start..i]
                .parse()
                .map_err(|_| "sh: arithmetic syntax error".to_string())?;
            out.push(T::Num(n));
        } else if c == '$' || c.is_ascii_alphabetic() || c == '_' {
            if c == '$' {
                i += 1;
            }
            let start = i;
            while i < b.len() && ((b[i] as char).is_ascii_alphanumeric() || b[i] == b'_') {
                i += 1;
            }
            let value = var(&expr[start..i]).unwrap_or_default();
            let value = value.trim();
            let n = if value.is_empty() {
                0
            } else {
                value
                    .parse()
                    .map_err(|_| "sh: arithmetic syntax error".to_string())?
            };
            out.push(T::Num(n));
        } else {
            let op = OPS
                .iter()
                .find(|op| expr[i..].starts_with(**op))
                .ok_or_else(|| "sh: arithmetic syntax error".to_string())?;
            i += op.len();
            out.push(T::Op(op));
        }
    }
    Ok(out)
}

struct P {
    toks: Vec<T>,
    pos: usize,
}

fn precedence(op: &str) -> Option<u8> {
    Some(match op {
        "||" => 1,
        "&&" => 2,
        "==" | "!=" => 3,
        "<" | ">" | "<=" | ">=" => 4,
        "+" | "-" => 5,
        "*" | "/" | "%" => 6,
        _ => return None,
    })
}

impl P {
    fn binary(&mut self, min: u8) -> Result<i64, String> {
        let mut left = self.unary()?;
        while let Some(T::Op(op)) = self.toks.get(self.pos).cloned() {
            let Some(prec) = precedence(op).filter(|p| *p > min) else {
                break;
            };
            self.pos += 1;
            let right = self.binary(prec)?;
            left = match op {
                "||" => i64::from(left != 0 || right != 0),
                "&&" => i64::from(left != 0 && right != 0),
                "==" => i64::from(left == right),
                "!=" => i64::from(left != right),
                "<" => i64::from(left < right),
                ">" => i64::from(left > right),
                "<=" => i64::from(left <= right),
                ">=" => i64::from(left >= right),
                "+" => left.wrapping_add(right),
                "-" => left.wrapping_sub(right),
                "*" => left.wrapping_mul(right),
                "/" | "%" if right == 0 => return Err("sh: arithmetic: divide by zero".into()),
                "/" => left.wrapping_div(right),
                _ => left.wrapping_rem(right),
            };
        }
        Ok(left)
    }

    fn unary(&mut self) -> Result<i64, String> {
        let t = self.toks.get(self.pos).cloned();
        self.pos += 1;
        match t {
            Some(T::Num(n)) => Ok(n),
            Some(T::Op("-")) => Ok(self.unary()?.wrapping_neg()),
            Some(T::Op("+")) => self.unary(),
            Some(T::Op("!")) => Ok(i64::from(self.unary()? == 0)),
            Some(T::Op("(")) => {
                let v = self.binary(0)?;
                if self.toks.get(self.pos) != Some(&T::Op(")")) {
                    return Err("sh: arithmetic syntax error".into());
                }
                self.pos += 1;
                Ok(v)
            }
            _ => Err("sh: arithmetic syntax error".into()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn integer_arithmetic() {
        let var = |n: &str| (n == "i").then(|| "4".to_string());
        let e = |s: &str| eval(s, &var);
        assert_eq!(e("i+1"), Ok(5));
        assert_eq!(e("$i * (2 + 3)"), Ok(20));
        assert_eq!(e("10 - 2 - 3"), Ok(5));
        assert_eq!(e("7 / 2 + 7 % 2"), Ok(4));
        assert_eq!(e("-i + unset"), Ok(-4));
        assert_eq!(e("i > 3 && i <= 4"), Ok(1));
        assert_eq!(e("!i"), Ok(0));
        assert!(e("1 / 0").is_err());
        assert!(e("1 +").is_err());
    }
}
