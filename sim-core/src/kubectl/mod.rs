//! kubectl: command parsing and printers (text in, text out).

pub mod print;
