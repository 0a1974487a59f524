//! `/compare`: two strategies side by side on one clock, their image change and speed.

use askama::Template;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;

use super::control::PlayQuery;
use super::{render, wants_json};
use crate::sandbox::Speed;
use crate::{AppState, compare};

#[derive(Deserialize)]
pub(crate) struct CompareQuery {
    left: Option<String>,
    right: Option<String>,
    left_strategy: Option<String>,
    right_strategy: Option<String>,
    /// Presenter mode: the slide of the two strategies, large type, the summary on top.
    present: Option<String>,
}

/// One side of the compare view: a written strategy block wins over the preset.
fn side(
    preset: Option<&str>,
    custom: Option<&str>,
    default: compare::Preset,
) -> Result<compare::Side, String> {
    if let Some(y) = custom.filter(|y| !y.trim().is_empty()) {
        if y.len() > 4096 {
            return Err("a strategy block is at most 4 KiB".into());
        }
        if let Some(p) = compare::Preset::ALL
            .iter()
            .find(|p| p.strategy_yaml().trim() == y.trim())
        {
            return Ok((*p).into());
        }
        let words = y.split_whitespace().collect::<Vec<_>>().join(" ");
        return Ok(compare::Side {
            label: format!("custom: {words}"),
            strategy: y.to_string(),
        });
    }
    match preset {
        None => Ok(default.into()),
        Some(k) => compare::Preset::parse(k).map(Into::into).ok_or_else(|| {
            let keys: Vec<&str> = compare::Preset::ALL.iter().map(|p| p.key()).collect();
            format!("unknown strategy {k:?}; choose one of: {}", keys.join(", "))
        }),
    }
}

pub(crate) async fn compare_page(
    State(st): State<AppState>,
    Query(q): Query<CompareQuery>,
) -> Response {
    let left = side(
        q.left.as_deref(),
        q.left_strategy.as_deref(),
        compare::Preset::Recreate,
    );
    let right = side(
        q.right.as_deref(),
        q.right_strategy.as_deref(),
        compare::Preset::RollingSurge2,
    );
    let (left, right) = match (left, right) {
        (Ok(l), Ok(r)) => (l, r),
        (Err(e), _) | (_, Err(e)) => return (StatusCode::BAD_REQUEST, e).into_response(),
    };
    let asked = q.left.is_some()
        || q.right.is_some()
        || q.left_strategy.is_some()
        || q.right_strategy.is_some();
    let page = {
        let mut c = st.cmp();
        if asked || c.is_none() {
            match compare::Compare::new(left, right) {
                Ok(n) => *c = Some(n),
                Err(e) => {
                    return (
                        StatusCode::UNPROCESSABLE_ENTITY,
                        format!("this strategy does not apply: {e}"),
                    )
                        .into_response();
                }
            }
        }
        let Some(cur) = c.as_ref() else {
            return StatusCode::INTERNAL_SERVER_ERROR.into_response();
        };
        compare::ComparePage {
            form_token: st.form_token.to_string(),
            left: cur.left.label.clone(),
            right: cur.right.label.clone(),
            left_yaml: cur.left.strategy.clone(),
            right_yaml: cur.right.strategy.clone(),
            choices: compare::Preset::ALL
                .iter()
                .map(|p| {
                    (
                        p.key(),
                        p.label(),
                        p.label() == cur.left.label,
                        p.label() == cur.right.label,
                    )
                })
                .collect(),
            panels: cur.panels().into_iter().collect(),
            summary: cur.summary().render().unwrap_or_default(),
            present: q.present.is_some(),
        }
    };
    st.notify();
    render(&page)
}

#[derive(Deserialize)]
pub(crate) struct KindQuery {
    kind: Option<String>,
}

pub(crate) async fn compare_image(
    State(st): State<AppState>,
    h: HeaderMap,
    Query(q): Query<KindQuery>,
) -> Response {
    if let Err(r) =
        current(&mut st.cmp()).map(|c| c.change_image(q.kind.as_deref().unwrap_or("good")))
    {
        return *r;
    }
    answered(&st, &h)
}

/// The compare view, or a new one when there is none yet (both sides rolled out, paused); the
/// answer to send when the demo cannot be set up.
fn current(c: &mut Option<compare::Compare>) -> Result<&mut compare::Compare, Box<Response>> {
    match c {
        Some(cur) => Ok(cur),
        None => match compare::Compare::new(
            compare::Preset::Recreate.into(),
            compare::Preset::RollingSurge2.into(),
        ) {
            Ok(n) => Ok(c.insert(n)),
            Err(e) => Err(Box::new(
                (StatusCode::INTERNAL_SERVER_ERROR, e.to_string()).into_response(),
            )),
        },
    }
}

/// `rollout undo` on both sides at the same moment.
pub(crate) async fn compare_undo(State(st): State<AppState>, h: HeaderMap) -> Response {
    if let Err(r) = current(&mut st.cmp()).map(compare::Compare::undo) {
        return *r;
    }
    answered(&st, &h)
}

/// The compare view's current moment as one SVG image, for slides: the summary line, then
/// each side's charts under its strategy.
pub(crate) async fn compare_svg(State(st): State<AppState>) -> Response {
    let svg = match current(&mut st.cmp()) {
        Ok(c) => c.export_svg(),
        Err(r) => return *r,
    };
    (
        [
            (axum::http::header::CONTENT_TYPE, "image/svg+xml"),
            (
                axum::http::header::CONTENT_DISPOSITION,
                "inline; filename=\"kubesim-compare.svg\"",
            ),
        ],
        svg,
    )
        .into_response()
}

pub(crate) async fn compare_speed(
    State(st): State<AppState>,
    h: HeaderMap,
    Query(q): Query<PlayQuery>,
) -> Response {
    let speed = match q.speed.as_deref() {
        Some("max") => Speed::Max,
        Some("step") => {
            if let Some(c) = st.cmp().as_mut() {
                c.step_event();
            }
            st.notify();
            return if wants_json(&h) {
                axum::Json(serde_json::json!({"speed": "paused"})).into_response()
            } else {
                Redirect::to("/compare").into_response()
            };
        }
        Some(x) => match x.parse::<f64>() {
            Ok(0.0) => Speed::Paused,
            Ok(v) if (0.01..=1000.0).contains(&v) => Speed::Times(v),
            _ => {
                return (
                    StatusCode::BAD_REQUEST,
                    "speed must be 0, a number from 0.01 to 1000, max or step",
                )
                    .into_response();
            }
        },
        None => Speed::Times(1.0),
    };
    if let Some(c) = st.cmp().as_mut() {
        c.set_speed(speed);
    }
    st.notify();
    if wants_json(&h) {
        axum::Json(serde_json::json!({"speed": speed.label()})).into_response()
    } else {
        Redirect::to("/compare").into_response()
    }
}

/// After a change to the compare view: the tabs told, then `{"ok": true}` to a script or back
/// to the page.
fn answered(st: &AppState, h: &HeaderMap) -> Response {
    st.notify();
    if wants_json(h) {
        axum::Json(serde_json::json!({"ok": true})).into_response()
    } else {
        Redirect::to("/compare").into_response()
    }
}
