//! FastAPI-shaped request validation: 422 bodies like pydantic v1's, naming each bad field.
//!
//! `{"detail":[{"loc":["body","income"],"msg":"field required","type":"value_error.missing"}]}`
//! Every field error is collected before answering, so a client sees all its mistakes at once.
#![allow(dead_code)]

use crate::cgi::{Request, Response};
use crate::json::{obj, parse_bytes, Json};

/// Field errors gathered while reading one request body.
#[derive(Default)]
pub struct Validation {
    errors: Vec<Json>,
}

impl Validation {
    pub fn new() -> Validation {
        Validation::default()
    }

    /// Records one error at `loc` (after `"body"`), with pydantic's message and type.
    pub fn error(&mut self, loc: &[Json], msg: &str, kind: &str, ctx: Option<Json>) {
        let mut full = vec![Json::from("body")];
        full.extend_from_slice(loc);
        let mut fields = vec![("loc", Json::Arr(full)), ("msg", Json::from(msg)), ("type", Json::from(kind))];
        if let Some(ctx) = ctx {
            fields.push(("ctx", ctx));
        }
        self.errors.push(obj(fields));
    }

    pub fn missing(&mut self, field: &str) {
        self.error(&[Json::from(field)], "field required", "value_error.missing", None);
    }

    /// A required number field.
    pub fn number(&mut self, body: &Json, field: &str) -> Option<f64> {
        match body.get(field) {
            None => {
                self.missing(field);
                None
            }
            Some(v) => self.as_number(v, field),
        }
    }

    /// An optional number field (absent or null means None).
    pub fn opt_number(&mut self, body: &Json, field: &str) -> Option<f64> {
        match body.get(field) {
            None | Some(Json::Null) => None,
            Some(v) => self.as_number(v, field),
        }
    }

    /// An optional integer field (absent or null means None).
    pub fn opt_integer(&mut self, body: &Json, field: &str) -> Option<i64> {
        match body.get(field) {
            None | Some(Json::Null) => None,
            Some(Json::Num(x)) if *x == x.trunc() && x.abs() < 9.0e15 => Some(*x as i64),
            Some(_) => {
                self.error(
                    &[Json::from(field)],
                    "value is not a valid integer",
                    "type_error.integer",
                    None,
                );
                None
            }
        }
    }

    /// A required string field.
    pub fn string<'a>(&mut self, body: &'a Json, field: &str) -> Option<&'a str> {
        match body.get(field) {
            None => {
                self.missing(field);
                None
            }
            Some(Json::Str(s)) => Some(s),
            Some(_) => {
                self.error(&[Json::from(field)], "str type expected", "type_error.str", None);
                None
            }
        }
    }

    fn as_number(&mut self, v: &Json, field: &str) -> Option<f64> {
        match v {
            Json::Num(x) => Some(*x),
            _ => {
                self.error(&[Json::from(field)], "value is not a valid float", "type_error.float", None);
                None
            }
        }
    }

    /// `field` must be > `limit` (pydantic's `gt`).
    pub fn greater_than(&mut self, field: &str, value: f64, limit: f64) -> bool {
        if value > limit {
            return true;
        }
        let msg = format!("ensure this value is greater than {}", Json::from(limit).to_text());
        let ctx = obj(vec![("limit_value", Json::from(limit))]);
        self.error(&[Json::from(field)], &msg, "value_error.number.not_gt", Some(ctx));
        false
    }

    /// `field` must be >= `limit` (pydantic's `ge`).
    pub fn at_least(&mut self, field: &str, value: f64, limit: f64) -> bool {
        if value >= limit {
            return true;
        }
        let msg = format!("ensure this value is greater than or equal to {}", Json::from(limit).to_text());
        let ctx = obj(vec![("limit_value", Json::from(limit))]);
        self.error(&[Json::from(field)], &msg, "value_error.number.not_ge", Some(ctx));
        false
    }

    /// `field` must be <= `limit` (pydantic's `le`).
    pub fn at_most(&mut self, field: &str, value: f64, limit: f64) -> bool {
        if value <= limit {
            return true;
        }
        let msg = format!("ensure this value is less than or equal to {}", Json::from(limit).to_text());
        let ctx = obj(vec![("limit_value", Json::from(limit))]);
        self.error(&[Json::from(field)], &msg, "value_error.number.not_le", Some(ctx));
        false
    }

    pub fn is_empty(&self) -> bool {
        self.errors.is_empty()
    }

    /// Ok when no field failed, else the 422 response listing every error.
    pub fn finish(self) -> Result<(), Response> {
        if self.errors.is_empty() {
            Ok(())
        } else {
            Err(Response::json(422, &obj(vec![("detail", Json::Arr(self.errors))])))
        }
    }
}

/// The request body as a JSON object, or FastAPI's 422 for bad JSON or a non-object body.
pub fn json_object_body(req: &Request) -> Result<Json, Response> {
    let body = match parse_bytes(&req.body) {
        Ok(v) => v,
        Err(e) => {
            let mut v = Validation::new();
            let ctx = obj(vec![
                ("msg", Json::from(e.msg.as_str())),
                ("pos", Json::from(e.pos)),
                ("lineno", Json::from(e.line)),
                ("colno", Json::from(e.col)),
            ]);
            v.error(&[Json::from(e.pos)], &e.to_string(), "value_error.jsondecode", Some(ctx));
            return Err(v.finish().unwrap_err());
        }
    };
    match body {
        Json::Obj(_) => Ok(body),
        _ => {
            let mut v = Validation::new();
            v.error(&[], "value is not a valid dict", "type_error.dict", None);
            Err(v.finish().unwrap_err())
        }
    }
}

/// 404 `{"detail":"Not Found"}`.
pub fn not_found() -> Response {
    Response::detail(404, "Not Found")
}

/// 405 `{"detail":"Method Not Allowed"}`.
pub fn method_not_allowed() -> Response {
    Response::detail(405, "Method Not Allowed")
}
