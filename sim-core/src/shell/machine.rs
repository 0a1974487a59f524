//! The interpreter as a machine with an explicit stack, so a running script can stop at a
//! `sleep` and go on from there when a timer wakes its container (`process.rs`), and so the
//! work of one instant is bounded: a slice runs at most a budget of commands.
//!
//! Each frame is a list being run, or a compound command waiting for the list it pushed
//! (a `while`'s condition or body, a `for`'s body, an `if`'s condition or branch).

use std::sync::Arc;

use super::parse::{Join, Node, Script};
use super::{Io, Shell};

/// Commands an exec may run before kubesim stops it (a loop that never sleeps).
pub(super) const EXEC_STEPS: u32 = 100_000;
/// Commands a container's process runs in one slice of virtual time; more, and it is a
/// CPU-bound loop that goes on a virtual second later.
pub const PROCESS_STEPS: u32 = 2_000;

/// Where a script is.
#[derive(Clone, Debug)]
pub(super) enum Frame {
    /// Running a list: the next item's index.
    List { list: Arc<Script>, next: usize },
    /// A `while`/`until` loop whose condition (or body) is running.
    While {
        until: bool,
        cond: Arc<Script>,
        body: Arc<Script>,
        in_body: bool,
        last: i32,
    },
    /// A `for` loop: its values, the next one, its body.
    For {
        var: String,
        values: Vec<String>,
        next: usize,
        body: Arc<Script>,
        last: i32,
    },
    /// An `if` whose condition `arm` (or chosen branch) is running.
    If {
        arms: Vec<(Arc<Script>, Arc<Script>)>,
        otherwise: Option<Arc<Script>>,
        arm: usize,
        chosen: bool,
    },
}

impl Frame {
    /// A frame that runs `script` from its start.
    pub(super) fn list(script: Script) -> Frame {
        Frame::List {
            list: Arc::new(script),
            next: 0,
        }
    }
}

/// Why a slice of a script stopped.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Stop {
    /// It ended (or exited).
    Done,
    /// It sleeps this many milliseconds (`None`: `sleep infinity`).
    Sleep(Option<u64>),
    /// It ran its whole budget of commands without sleeping.
    Busy,
}

impl Shell<'_> {
    /// Runs the stack until the script ends, sleeps or spends its budget.
    pub(super) fn machine(&mut self, io: &mut Io) -> Stop {
        loop {
            if self.exited.is_some() {
                self.stack.clear();
                return Stop::Done;
            }
            let Some(top) = self.stack.last_mut() else {
                return Stop::Done;
            };
            match top {
                Frame::List { list, next } => {
                    let Some((join, _)) = list.get(*next) else {
                        self.stack.pop();
                        continue;
                    };
                    let go = match join {
                        Join::Then => true,
                        Join::And => self.status == 0,
                        Join::Or => self.status != 0,
                    };
                    if !go {
                        *next += 1;
                        continue;
                    }
                    if self.steps >= self.budget {
                        return Stop::Busy;
                    }
                    self.steps += 1;
                    let index = *next;
                    *next += 1;
                    let list = list.clone();
                    let node = &list[index].1;
                    if let Some(stop) = self.node(node, io) {
                        return stop;
                    }
                }
                Frame::While {
                    until,
                    cond,
                    body,
                    in_body,
                    last,
                } => {
                    if *in_body {
                        *last = self.status;
                        *in_body = false;
                        let cond = cond.clone();
                        // Each turn of a loop counts, so an empty body cannot spin for free.
                        if self.steps >= self.budget {
                            // Come back to the condition when the slice resumes.
                            self.stack.push(Frame::List {
                                list: cond,
                                next: 0,
                            });
                            return Stop::Busy;
                        }
                        self.steps += 1;
                        self.stack.push(Frame::List {
                            list: cond,
                            next: 0,
                        });
                    } else if (self.status == 0) != *until {
                        *in_body = true;
                        let body = body.clone();
                        self.stack.push(Frame::List {
                            list: body,
                            next: 0,
                        });
                    } else {
                        self.status = *last;
                        self.stack.pop();
                    }
                }
                Frame::For {
                    var,
                    values,
                    next,
                    body,
                    last,
                } => {
                    if *next > 0 {
                        *last = self.status;
                    }
                    match values.get(*next).cloned() {
                        Some(v) => {
                            *next += 1;
                            let (var, body) = (var.clone(), body.clone());
                            self.set_var(&var, &v);
                            self.stack.push(Frame::List {
                                list: body,
                                next: 0,
                            });
                        }
                        None => {
                            self.status = *last;
                            self.stack.pop();
                        }
                    }
                }
                Frame::If {
                    arms,
                    otherwise,
                    arm,
                    chosen,
                } => {
                    if *chosen {
                        self.stack.pop();
                        continue;
                    }
                    let branch = if self.status == 0 {
                        arms.get(*arm).map(|(_, then)| then.clone())
                    } else {
                        *arm += 1;
                        match arms.get(*arm) {
                            Some((cond, _)) => {
                                let cond = cond.clone();
                                self.stack.push(Frame::List {
                                    list: cond,
                                    next: 0,
                                });
                                continue;
                            }
                            None => otherwise.clone(),
                        }
                    };
                    *chosen = true;
                    match branch {
                        Some(list) => self.stack.push(Frame::List { list, next: 0 }),
                        None => {
                            self.status = 0;
                            self.stack.pop();
                        }
                    }
                }
            }
        }
    }

    /// Starts one item: runs a pipeline (or stops at a `sleep`), or pushes a compound
    /// command's frames.
    fn node(&mut self, node: &Node, io: &mut Io) -> Option<Stop> {
        match node {
            Node::Pipeline(cmds) => {
                if let [cmd] = cmds.as_slice()
                    && self.can_sleep
                {
                    let argv: Vec<String> = cmd.words.iter().flat_map(|w| self.expand(w)).collect();
                    if argv.first().map(String::as_str) == Some("sleep") {
                        match sleep_ms(&argv[1..]) {
                            Ok(Some(0)) => self.status = 0,
                            Ok(ms) => {
                                self.status = 0;
                                return Some(Stop::Sleep(ms));
                            }
                            Err(e) => {
                                io.err.extend_from_slice(e.as_bytes());
                                self.status = 1;
                            }
                        }
                        return None;
                    }
                }
                let input = self.stdin.take().unwrap_or_default();
                self.status = self.pipeline(cmds, &input, io);
            }
            Node::While { until, cond, body } => {
                self.stack.push(Frame::While {
                    until: *until,
                    cond: cond.clone(),
                    body: body.clone(),
                    in_body: false,
                    last: 0,
                });
                self.stack.push(Frame::List {
                    list: cond.clone(),
                    next: 0,
                });
            }
            Node::For { var, words, body } => {
                let values = words.iter().flat_map(|w| self.expand(w)).collect();
                self.stack.push(Frame::For {
                    var: var.clone(),
                    values,
                    next: 0,
                    body: body.clone(),
                    last: 0,
                });
            }
            Node::If { arms, otherwise } => {
                let (cond, _) = arms.first()?;
                self.stack.push(Frame::If {
                    arms: arms.clone(),
                    otherwise: otherwise.clone(),
                    arm: 0,
                    chosen: false,
                });
                self.stack.push(Frame::List {
                    list: cond.clone(),
                    next: 0,
                });
            }
        }
        None
    }
}

/// busybox `sleep`'s arguments as milliseconds: each a number with an optional suffix
/// (`s`, `m`, `h`, `d`), summed; `infinity` never ends (`None`).
pub(super) fn sleep_ms(args: &[String]) -> Result<Option<u64>, String> {
    if args.is_empty() {
        return Err("sleep: missing operand\n".into());
    }
    let mut total: f64 = 0.0;
    for a in args {
        if a == "infinity" || a == "inf" {
            return Ok(None);
        }
        let (num, unit) = match a.char_indices().last() {
            Some((i, c @ ('s' | 'm' | 'h' | 'd'))) => (&a[..i], c),
            _ => (a.as_str(), 's'),
        };
        let n: f64 = num
            .parse()
            .ok()
            .filter(|n: &f64| n.is_finite() && *n >= 0.0 && !num.starts_with('+'))
            .ok_or_else(|| format!("sleep: invalid number '{a}'\n"))?;
        let scale = match unit {
            'm' => 60.0,
            'h' => 3600.0,
            'd' => 86_400.0,
            _ => 1.0,
        };
        total += n * scale;
    }
    // Longer than a sandbox can run is as good as forever.
    if total > 1e12 {
        return Ok(None);
    }
    Ok(Some((total * 1000.0).round() as u64))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sleep_reads_busybox_durations() {
        let ms = |a: &[&str]| sleep_ms(&a.iter().map(|s| s.to_string()).collect::<Vec<_>>());
        assert_eq!(ms(&["5"]), Ok(Some(5_000)));
        assert_eq!(ms(&["0.5"]), Ok(Some(500)));
        assert_eq!(ms(&["1m", "30"]), Ok(Some(90_000)));
        assert_eq!(ms(&["2h"]), Ok(Some(7_200_000)));
        assert_eq!(ms(&["infinity"]), Ok(None));
        assert_eq!(ms(&["x"]), Err("sleep: invalid number 'x'\n".into()));
        assert_eq!(ms(&[]), Err("sleep: missing operand\n".into()));
    }
}
