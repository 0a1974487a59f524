//! The events table at the end of every describe (`DescribeEvents`).

use k8s_openapi::api::core::v1::Event;
use k8s_openapi::jiff::Timestamp;

use super::PrefixWriter;
use crate::kubectl::print::duration::since;
use crate::kubectl::print::util::s;

/// `DescribeEvents`: `Events:  <none>`, or a table sorted by last timestamp with ages such as
/// `45s (x5 over 4m10s)`.
pub(crate) fn describe_events(events: &[Event], w: &mut PrefixWriter, now: Timestamp) {
    if events.is_empty() {
        w.write(0, "Events:\t<none>\n");
        return;
    }
    w.flush();
    let mut sorted: Vec<&Event> = events.iter().collect();
    // SortableEvents orders by lastTimestamp; a stable sort keeps equal times in list order.
    sorted.sort_by_key(|e| e.last_timestamp.as_ref().map(|t| t.0));
    w.write(0, "Events:\n  Type\tReason\tAge\tFrom\tMessage\n");
    w.write(1, "----\t------\t----\t----\t-------\n");
    let age = |t: Option<Timestamp>| {
        t.map(|t| since(t, now))
            .unwrap_or_else(|| "<unknown>".to_string())
    };
    for e in sorted {
        let first = match &e.event_time {
            Some(t) => age(Some(t.0)),
            None => age(e.first_timestamp.as_ref().map(|t| t.0)),
        };
        let count = e.count.unwrap_or(0);
        let interval = if let Some(series) = &e.series {
            format!(
                "{} (x{} over {first})",
                age(series.last_observed_time.as_ref().map(|t| t.0)),
                series.count.unwrap_or(0)
            )
        } else if count > 1 {
            format!(
                "{} (x{count} over {first})",
                age(e.last_timestamp.as_ref().map(|t| t.0))
            )
        } else {
            first
        };
        let source = e
            .source
            .as_ref()
            .and_then(|s| s.component.as_deref())
            .filter(|c| !c.is_empty())
            .or(e.reporting_component.as_deref())
            .unwrap_or("");
        let mut message = s(&e.message).trim().to_string();
        if let Some(fp) = e
            .involved_object
            .field_path
            .as_deref()
            .filter(|f| !f.is_empty())
        {
            message = format!("{fp}: {message}");
        }
        w.write(
            1,
            &format!(
                "{}\t{}\t{interval}\t{source}\t{message}\n",
                s(&e.type_),
                s(&e.reason)
            ),
        );
    }
}
