//! The live stream: one Server-Sent Events stream per tab carries every panel of its page.
//!
//! The first message has every panel's HTML. After that a message carries only what changed,
//! at most every 50 ms: the tiles that changed for a cluster drawn as tiles
//! ([`Tiles::diff`](crate::view::Tiles::diff)), the keyed parts that changed for the
//! Deployments and events panels ([`Parts::diff`]), a timeline's frame and the points its
//! lines grew by ([`Grown::diff`]), and the HTML of any other panel whose HTML changed
//! (app.js morphs it in place). A panel whose change a tab would not see (an
//! event row only a second older) is not sent at all.

use std::collections::BTreeMap;
use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;

use axum::response::sse::{Event, KeepAlive, Sse};
use tokio::sync::watch;
use tokio_stream::wrappers::ReceiverStream;

use crate::timeline::Grown;
use crate::view::{Delta, Live, Parts, Tiles};

/// What one tab has been sent, panel by panel.
#[derive(Default)]
pub(crate) struct Sent {
    html: BTreeMap<&'static str, String>,
    tiles: BTreeMap<&'static str, Arc<Tiles>>,
    parts: BTreeMap<&'static str, Arc<Parts>>,
    grown: BTreeMap<&'static str, Arc<Grown>>,
}

impl Sent {
    /// The message that brings the tab from what it has to `live`, as the JSON array app.js
    /// reads (`None`: nothing to send), and records it as sent.
    pub(crate) fn message(&mut self, live: &Live) -> Option<String> {
        let mut batch = Vec::new();
        for (id, html) in &live.panels {
            if self.html.get(id) == Some(html) {
                continue;
            }
            // What app.js reads the data as ("tiles", "parts" or "grow"), and the change itself.
            let (as_what, delta) = match (live.tiles_of(id), self.tiles.get(id)) {
                (Some(new), Some(old)) => ("tiles", new.diff(old).map_or(Delta::Html, Delta::Data)),
                _ => match (live.parts_of(id), self.parts.get(id)) {
                    (Some(new), Some(old)) => ("parts", new.diff(old)),
                    _ => match (live.grown_of(id), self.grown.get(id)) {
                        (Some(new), Some(old)) => ("grow", new.diff(old)),
                        _ => ("html", Delta::Html),
                    },
                },
            };
            match delta {
                Delta::Nothing => {}
                Delta::Data(d) => batch.push(serde_json::json!({"id": id, as_what: d})),
                Delta::Html => batch.push(serde_json::json!({"id": id, "html": html})),
            }
            self.html.insert(id, html.clone());
            match live.tiles_of(id) {
                Some(t) => self.tiles.insert(id, t.clone()),
                None => self.tiles.remove(id),
            };
            match live.parts_of(id) {
                Some(p) => self.parts.insert(id, p.clone()),
                None => self.parts.remove(id),
            };
            match live.grown_of(id) {
                Some(g) => self.grown.insert(id, g.clone()),
                None => self.grown.remove(id),
            };
        }
        (!batch.is_empty()).then(|| serde_json::Value::Array(batch).to_string())
    }
}

/// A tab's stream: a message whenever `changes` moves (at most every 50 ms), built from the
/// panels `live` gives for that change number, until the tab closes or the server stops.
pub(crate) fn sse<F>(
    mut changes: watch::Receiver<u64>,
    mut shutdown: watch::Receiver<bool>,
    live: F,
) -> Sse<axum::response::sse::KeepAliveStream<ReceiverStream<Result<Event, Infallible>>>>
where
    F: Fn(u64) -> Arc<Live> + Send + 'static,
{
    let (tx, rx) = tokio::sync::mpsc::channel::<Result<Event, Infallible>>(16);
    tokio::spawn(async move {
        let mut sent = Sent::default();
        loop {
            let version = *changes.borrow_and_update();
            if let Some(data) = sent.message(&live(version))
                && tx
                    .send(Ok(Event::default().event("panels").data(data)))
                    .await
                    .is_err()
            {
                return; // the tab closed
            }
            tokio::select! {
                _ = tokio::time::sleep(Duration::from_millis(50)) => {}
                _ = tx.closed() => return,
                _ = shutdown.changed() => return,
            }
            tokio::select! {
                r = changes.changed() => if r.is_err() { return },
                _ = tx.closed() => return,
                _ = shutdown.changed() => return,
            }
        }
    });
    Sse::new(ReceiverStream::new(rx)).keep_alive(KeepAlive::default())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sandbox::{Action, Sandbox};

    fn sandbox() -> Sandbox {
        Sandbox::new(crate::DEMO, None).unwrap()
    }

    fn ids(message: &str) -> Vec<(String, &'static str)> {
        let v: serde_json::Value = serde_json::from_str(message).unwrap();
        v.as_array()
            .unwrap()
            .iter()
            .map(|p| {
                let how = ["tiles", "parts", "grow", "html"]
                    .into_iter()
                    .find(|k| p.get(*k).is_some())
                    .unwrap();
                (p["id"].as_str().unwrap().to_string(), how)
            })
            .collect()
    }

    #[test]
    fn a_tab_gets_every_panel_once_then_only_what_changed() {
        let mut sb = sandbox();
        let mut sent = Sent::default();
        let first = sent.message(&crate::view::live(&sb, None)).unwrap();
        assert!(ids(&first).iter().all(|(_, how)| *how == "html"));
        assert_eq!(ids(&first).len(), 5, "{first}");
        assert_eq!(
            sent.message(&crate::view::live(&sb, None)),
            None,
            "nothing new"
        );

        // Time passes: the clock and timeline move, the events only age.
        sb.run_to(sb.sim.now() + sim_core::SimDuration::from_secs(5));
        let later = sent.message(&crate::view::live(&sb, None)).unwrap();
        let later = ids(&later);
        assert!(!later.iter().any(|(id, _)| id == "events"), "{later:?}");
        assert!(later.contains(&("clock".to_string(), "html")));
        // The traffic chart appeared with the first requests; from then on the timeline's
        // lines only grow: its frame and the new points are sent, not the lines again.
        sb.run_to(sb.sim.now() + sim_core::SimDuration::from_secs(5));
        let grown = sent.message(&crate::view::live(&sb, None)).unwrap();
        assert!(
            ids(&grown).contains(&("timeline".to_string(), "grow")),
            "{grown}"
        );
        let v: serde_json::Value = serde_json::from_str(&grown).unwrap();
        let timeline = v
            .as_array()
            .unwrap()
            .iter()
            .find(|p| p["id"] == "timeline")
            .unwrap();
        let append = timeline["grow"]["append"].as_object().unwrap();
        assert!(
            append.keys().any(|k| k.ends_with("/requests/0")),
            "the requests line grew: {append:?}"
        );
        // What moved with the clock: the window and the time label, not the axes.
        let live = timeline["grow"]["live"].as_object().unwrap();
        assert!(live.keys().any(|k| k.ends_with("/plot")), "{live:?}");
        assert!(live.keys().any(|k| k.ends_with("/now")), "{live:?}");
        assert!(timeline["grow"].get("frame").is_none(), "{timeline}");

        // A scale: tiles, the Deployment's article, the new event rows.
        sb.act(Action::Kubectl(
            "scale deployment credit-scoring-api -n live-coding --replicas=12".into(),
        ));
        sb.run_to(sb.sim.now() + sim_core::SimDuration::from_secs(1));
        let scaled = ids(&sent.message(&crate::view::live(&sb, None)).unwrap());
        for want in [
            ("cluster", "tiles"),
            ("deployments", "parts"),
            ("events", "parts"),
        ] {
            assert!(
                scaled.contains(&(want.0.to_string(), want.1)),
                "{want:?} in {scaled:?}"
            );
        }
    }
}
