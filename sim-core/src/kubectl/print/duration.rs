//! Human-readable durations and ages, as kubectl prints them.
//!
//! Port of `staging/src/k8s.io/apimachinery/pkg/util/duration/duration.go` and of
//! `translateTimestampSince` in `pkg/printers/internalversion/printers.go`.

use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
use k8s_openapi::jiff::{SignedDuration, Timestamp};

/// `duration.HumanDuration`: about two significant figures, such as `45s`, `2m30s`, `10m`,
/// `3h5m`, `2d3h` or `2y10d`.
///
/// Up to one second in the future is shown as `0s` (clock skew); further ahead is `<invalid>`.
pub fn human_duration(d: SignedDuration) -> String {
    // Go's int(d.Seconds()) and d / time.Minute truncate toward zero, as as_secs() does.
    let seconds = d.as_secs();
    if seconds < -1 {
        return "<invalid>".to_string();
    } else if seconds < 0 {
        return "0s".to_string();
    } else if seconds < 60 * 2 {
        return format!("{seconds}s");
    }
    let minutes = seconds / 60;
    if minutes < 10 {
        let s = seconds % 60;
        if s == 0 {
            return format!("{minutes}m");
        }
        return format!("{minutes}m{s}s");
    } else if minutes < 60 * 3 {
        return format!("{minutes}m");
    }
    let hours = seconds / 3600;
    if hours < 8 {
        let m = minutes % 60;
        if m == 0 {
            return format!("{hours}h");
        }
        return format!("{hours}h{m}m");
    } else if hours < 48 {
        return format!("{hours}h");
    } else if hours < 24 * 8 {
        let h = hours % 24;
        if h == 0 {
            return format!("{}d", hours / 24);
        }
        return format!("{}d{h}h", hours / 24);
    } else if hours < 24 * 365 * 2 {
        return format!("{}d", hours / 24);
    } else if hours < 24 * 365 * 8 {
        let dy = (hours / 24) % 365;
        if dy == 0 {
            return format!("{}y", hours / 24 / 365);
        }
        return format!("{}y{dy}d", hours / 24 / 365);
    }
    format!("{}y", hours / 24 / 365)
}

/// `duration.ShortHumanDuration`: one unit only (`5s`, `10m`, `3h`, `2d`, `1y`).
pub fn short_human_duration(d: SignedDuration) -> String {
    let seconds = d.as_secs();
    if seconds < -1 {
        "<invalid>".to_string()
    } else if seconds < 0 {
        "0s".to_string()
    } else if seconds < 60 {
        format!("{seconds}s")
    } else if seconds / 60 < 60 {
        format!("{}m", seconds / 60)
    } else if seconds / 3600 < 24 {
        format!("{}h", seconds / 3600)
    } else if seconds / 3600 < 24 * 365 {
        format!("{}d", seconds / 3600 / 24)
    } else {
        format!("{}y", seconds / 3600 / 24 / 365)
    }
}

/// `translateTimestampSince`: the age of `created` at `now`, or `<unknown>` when it is unset.
pub fn age(created: Option<&Time>, now: Timestamp) -> String {
    match created {
        Some(t) => since(t.0, now),
        None => "<unknown>".to_string(),
    }
}

/// The human duration from `t` to `now`.
pub(crate) fn since(t: Timestamp, now: Timestamp) -> String {
    human_duration(now.duration_since(t))
}

#[cfg(test)]
mod tests {
    //! Ported from `apimachinery/pkg/util/duration/duration_test.go`
    //! (TestHumanDuration and TestShortHumanDuration).
    use super::*;

    fn secs(s: i64) -> SignedDuration {
        SignedDuration::from_secs(s)
    }

    fn check(d: SignedDuration, human: &str) {
        assert_eq!(human_duration(d), human, "{d:?}");
    }

    #[test]
    fn human_duration_table() {
        let minute = 60;
        let hour = 60 * minute;
        let day = 24 * hour;
        let year = 365 * day;
        let cases = [
            (secs(1), "1s"),
            (SignedDuration::from_millis(1070), "1s"),
            (secs(70), "70s"),
            (secs(104), "104s"),
            (secs(119), "119s"),
            (secs(2 * minute), "2m"),
            (secs(2 * minute + 30), "2m30s"),
            (secs(4 * minute + 59), "4m59s"),
            (secs(9 * minute + 59), "9m59s"),
            (secs(10 * minute), "10m"),
            (secs(50 * minute), "50m"),
            (secs(179 * minute), "179m"),
            (secs(3 * hour), "3h"),
            (secs(3 * hour + 5 * minute), "3h5m"),
            (secs(4 * hour), "4h"),
            (secs(7 * hour + 59 * minute), "7h59m"),
            (secs(8 * hour), "8h"),
            (secs(8 * hour + 59 * minute), "8h"),
            (secs(47 * hour + 59 * minute), "47h"),
            (secs(2 * day), "2d"),
            (secs(2 * day + 3 * hour), "2d3h"),
            (secs(7 * day + 23 * hour), "7d23h"),
            (secs(8 * day), "8d"),
            (secs(729 * day), "729d"),
            (secs(2 * year), "2y"),
            (secs(2 * year + 23 * day), "2y23d"),
            (secs(7 * year + 364 * day), "7y364d"),
            (secs(8 * year), "8y"),
            (secs(8 * year + 364 * day), "8y"),
            (secs(0), "0s"),
            (SignedDuration::from_millis(-1500), "0s"),
            (secs(-2), "<invalid>"),
        ];
        for (d, want) in cases {
            check(d, want);
        }
    }

    #[test]
    fn short_human_duration_table() {
        let cases = [
            (secs(1), "1s"),
            (secs(59), "59s"),
            (secs(60), "1m"),
            (secs(3599), "59m"),
            (secs(3600), "1h"),
            (secs(86399), "23h"),
            (secs(86400), "1d"),
            (secs(365 * 86400), "1y"),
            (secs(-2), "<invalid>"),
            (SignedDuration::from_millis(-500), "0s"),
        ];
        for (d, want) in cases {
            assert_eq!(short_human_duration(d), want, "{d:?}");
        }
    }

    #[test]
    fn age_of_missing_timestamp_is_unknown() {
        let now: Timestamp = "2026-11-23T12:00:00Z".parse().expect("timestamp");
        assert_eq!(age(None, now), "<unknown>");
        let created = Time("2026-11-23T11:00:00Z".parse().expect("timestamp"));
        assert_eq!(age(Some(&created), now), "60m");
    }
}
