//! `pkg/controller/cronjob/utils.go`: the most recent unmet schedule time (with the
//! missed-schedules estimate and `startingDeadlineSeconds`), when to look again, and the
//! name a scheduled Job gets. Times are Unix milliseconds.

use super::schedule::Schedule;

/// `nextScheduleDelta`: the controller looks again 100 ms after the next schedule time.
pub const NEXT_SCHEDULE_DELTA_MS: i64 = 100;

/// How many start times were missed (`missedSchedulesType`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Missed {
    /// `noneMissed`.
    None,
    /// `fewMissed`.
    Few,
    /// `manyMissed`: more than 100.
    Many,
}

/// What `mostRecentScheduleTime` reads of a CronJob.
#[derive(Clone, Copy, Debug)]
pub struct Times {
    /// `metadata.creationTimestamp`.
    pub created: i64,
    /// `status.lastScheduleTime`.
    pub last_schedule: Option<i64>,
    /// `spec.startingDeadlineSeconds`.
    pub starting_deadline_seconds: Option<i64>,
}

/// `mostRecentScheduleTime`: (earliest time considered, the most recent schedule time not
/// after `now`, how many were missed), or an error for a schedule that fires twice within a
/// second (never for a standard spec).
pub fn most_recent_schedule_time(
    cj: Times,
    now: i64,
    schedule: &Schedule,
    include_starting_deadline: bool,
) -> Result<(i64, Option<i64>, Missed), String> {
    let mut earliest = cj.last_schedule.unwrap_or(cj.created);
    if include_starting_deadline && let Some(d) = cj.starting_deadline_seconds {
        let deadline = now - d * 1000;
        if deadline > earliest {
            earliest = deadline;
        }
    }
    let Some(t1) = schedule.next(earliest) else {
        return Ok((earliest, None, Missed::None));
    };
    if now < t1 {
        return Ok((earliest, None, Missed::None));
    }
    let Some(t2) = schedule.next(t1) else {
        return Ok((earliest, Some(t1), Missed::None));
    };
    if now < t2 {
        return Ok((earliest, Some(t1), Missed::None));
    }
    // Round to the second, as `Duration.Round(time.Second)`.
    let between = (t2 - t1 + 500).div_euclid(1000);
    if between < 1 {
        return Err("time difference between two schedules is less than 1 second".into());
    }
    let elapsed = (now - t1).div_euclid(1000);
    let missed = elapsed / between + 1;
    let potential_earliest = t1 + (missed - 2) * between * 1000;
    let mut most_recent = None;
    let mut t = schedule.next(potential_earliest);
    while let Some(x) = t {
        if x > now {
            break;
        }
        most_recent = Some(x);
        t = schedule.next(x);
    }
    let kind = if missed > 100 {
        Missed::Many
    } else if missed > 0 {
        Missed::Few
    } else {
        Missed::None
    };
    Ok((earliest, most_recent, kind))
}

/// `nextScheduleTime`: the schedule time to act on now, if any (with `startingDeadlineSeconds`
/// applied), and whether to warn of too many missed start times.
pub fn next_schedule_time(
    cj: Times,
    now: i64,
    schedule: &Schedule,
) -> Result<(Option<i64>, bool), String> {
    let (_, recent, missed) = most_recent_schedule_time(cj, now, schedule, true)?;
    match recent {
        Some(t) if t <= now => Ok((Some(t), missed == Missed::Many)),
        _ => Ok((None, false)),
    }
}

/// `nextScheduleTimeDuration`: how long until the controller should look again.
pub fn next_schedule_time_duration(cj: Times, now: i64, schedule: &Schedule) -> Option<i64> {
    let (earliest, recent, missed) = most_recent_schedule_time(cj, now, schedule, false).ok()?;
    let base = match recent {
        Some(t) => t,
        None if missed == Missed::None => earliest,
        None => now,
    };
    let next = schedule.next(base)?;
    Some(next + NEXT_SCHEDULE_DELTA_MS - now)
}

/// `getJobName`: the CronJob's name and the scheduled time in minutes since the epoch.
pub fn job_name(cronjob: &str, scheduled_ms: i64) -> String {
    format!("{cronjob}-{}", scheduled_ms.div_euclid(60_000))
}

#[cfg(test)]
mod tests {
    use super::super::schedule::parse_standard;
    use super::*;

    /// 2016-05-19 10:00 UTC, the reference time of `utils_test.go` (`topOfTheHour`).
    const TOP_OF_THE_HOUR: i64 = 1_463_652_000_000;
    const MIN: i64 = 60_000;
    const HOUR: i64 = 60 * MIN;

    fn times(created: i64, last: Option<i64>, deadline: Option<i64>) -> Times {
        Times {
            created,
            last_schedule: last,
            starting_deadline_seconds: deadline,
        }
    }

    #[test]
    fn most_recent_schedule_time_follows_utils_test() {
        // TestMostRecentScheduleTime rows ("0 * * * *", hourly).
        let hourly = parse_standard("0 * * * *").expect("spec");
        let t = TOP_OF_THE_HOUR;
        // Created 10 minutes before the hour, now 5 minutes before: nothing yet.
        let r =
            most_recent_schedule_time(times(t - 10 * MIN, None, None), t - 5 * MIN, &hourly, false);
        assert_eq!(r, Ok((t - 10 * MIN, None, Missed::None)));
        // Now just after the hour: the hour.
        let r =
            most_recent_schedule_time(times(t - 10 * MIN, None, None), t + 5 * MIN, &hourly, false);
        assert_eq!(r, Ok((t - 10 * MIN, Some(t), Missed::None)));
        // Last scheduled at the hour, now two hours later: missed one, the most recent +2h.
        let r = most_recent_schedule_time(
            times(t - 10 * MIN, Some(t), None),
            t + 2 * HOUR + 5 * MIN,
            &hourly,
            false,
        );
        assert_eq!(r, Ok((t, Some(t + 2 * HOUR), Missed::Few)));
        // A week of hourly misses is more than 100.
        let r = most_recent_schedule_time(
            times(t - 10 * MIN, Some(t), None),
            t + 200 * HOUR,
            &hourly,
            false,
        );
        assert_eq!(
            r.map(|x| (x.1, x.2)),
            Ok((Some(t + 200 * HOUR), Missed::Many))
        );
        // startingDeadlineSeconds moves the earliest time forward.
        let r = most_recent_schedule_time(
            times(t - 10 * MIN, Some(t), Some(600)),
            t + 200 * HOUR + 5 * MIN,
            &hourly,
            true,
        );
        assert_eq!(
            r,
            Ok((t + 200 * HOUR - 5 * MIN, Some(t + 200 * HOUR), Missed::None))
        );
        // Every minute, created at the hour, 3 missed.
        let minutely = parse_standard("*/1 * * * *").expect("spec");
        let r =
            most_recent_schedule_time(times(t, None, None), t + 3 * MIN + 30_000, &minutely, false);
        assert_eq!(r, Ok((t, Some(t + 3 * MIN), Missed::Few)));
    }

    #[test]
    fn next_schedule_time_and_the_wait_until_then() {
        // TestNextScheduleTime / TestNextScheduleTimeDuration.
        let hourly = parse_standard("0 * * * *").expect("spec");
        let t = TOP_OF_THE_HOUR;
        assert_eq!(
            next_schedule_time(times(t - 10 * MIN, None, None), t - 5 * MIN, &hourly),
            Ok((None, false))
        );
        assert_eq!(
            next_schedule_time(times(t - 10 * MIN, None, None), t + MIN, &hourly),
            Ok((Some(t), false))
        );
        // Already scheduled at the hour: nothing until the next.
        assert_eq!(
            next_schedule_time(times(t - 10 * MIN, Some(t), None), t + MIN, &hourly),
            Ok((None, false))
        );
        assert_eq!(
            next_schedule_time(times(t - 10 * MIN, Some(t), None), t + 200 * HOUR, &hourly),
            Ok((Some(t + 200 * HOUR), true))
        );
        assert_eq!(
            next_schedule_time_duration(times(t - 10 * MIN, Some(t), None), t + MIN, &hourly),
            Some(59 * MIN + NEXT_SCHEDULE_DELTA_MS)
        );
        assert_eq!(
            next_schedule_time_duration(times(t - 10 * MIN, None, None), t - 5 * MIN, &hourly),
            Some(5 * MIN + NEXT_SCHEDULE_DELTA_MS)
        );
    }

    #[test]
    fn job_names_are_minutes_since_the_epoch() {
        assert_eq!(job_name("hello", TOP_OF_THE_HOUR), "hello-24394200");
    }
}
