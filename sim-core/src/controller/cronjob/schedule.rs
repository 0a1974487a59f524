//! Cron schedules: a port of robfig/cron v3's standard parser (`ParseStandard`: five fields
//! minute, hour, day of month, month, day of week, plus the `@yearly`..`@hourly` and `@every`
//! descriptors and a `TZ=`/`CRON_TZ=` prefix) and of `SpecSchedule.Next`, over Unix seconds.
//!
//! Time zones: sim-core reads no time zone database, so only zones with a fixed offset are
//! known (`UTC`, `Etc/UTC`, `GMT`, `Etc/GMT±N`, ...); any other name is refused as Go's
//! `time.LoadLocation` refuses a zone it cannot find.

/// A parsed schedule.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Schedule {
    /// A cron spec (`SpecSchedule`): one bit per allowed value, plus the star bit.
    Spec {
        /// Minutes 0–59.
        minute: u64,
        /// Hours 0–23.
        hour: u64,
        /// Days of month 1–31.
        dom: u64,
        /// Months 1–12.
        month: u64,
        /// Days of week 0–6 (Sunday 0).
        dow: u64,
        /// The zone's offset east of UTC, in seconds.
        offset: i64,
    },
    /// `@every D` (`ConstantDelaySchedule`), in whole seconds (at least 1).
    Every(i64),
}

const STAR_BIT: u64 = 1 << 63;

struct Bounds {
    min: u32,
    max: u32,
    names: &'static [(&'static str, u32)],
}

const MINUTES: Bounds = Bounds {
    min: 0,
    max: 59,
    names: &[],
};
const HOURS: Bounds = Bounds {
    min: 0,
    max: 23,
    names: &[],
};
const DOM: Bounds = Bounds {
    min: 1,
    max: 31,
    names: &[],
};
const MONTHS: Bounds = Bounds {
    min: 1,
    max: 12,
    names: &[
        ("jan", 1),
        ("feb", 2),
        ("mar", 3),
        ("apr", 4),
        ("may", 5),
        ("jun", 6),
        ("jul", 7),
        ("aug", 8),
        ("sep", 9),
        ("oct", 10),
        ("nov", 11),
        ("dec", 12),
    ],
};
const DOW: Bounds = Bounds {
    min: 0,
    max: 6,
    names: &[
        ("sun", 0),
        ("mon", 1),
        ("tue", 2),
        ("wed", 3),
        ("thu", 4),
        ("fri", 5),
        ("sat", 6),
    ],
};

/// `cron.ParseStandard`, with its error texts.
pub fn parse_standard(spec: &str) -> Result<Schedule, String> {
    if spec.is_empty() {
        return Err("empty spec string".into());
    }
    let mut spec = spec;
    let mut offset = 0;
    if spec.starts_with("TZ=") || spec.starts_with("CRON_TZ=") {
        let eq = spec.find('=').unwrap_or(0);
        let end = spec.find(' ').unwrap_or(spec.len());
        let name = spec.get(eq + 1..end).unwrap_or("");
        offset = location(name).map_err(|e| format!("provided bad location {name}: {e}"))?;
        spec = spec.get(end..).unwrap_or("").trim();
    }
    if spec.starts_with('@') {
        return descriptor(spec, offset);
    }
    let fields: Vec<&str> = spec.split_whitespace().collect();
    if fields.len() != 5 {
        return Err(format!(
            "expected exactly 5 fields, found {}: [{}]",
            fields.len(),
            fields.join(" ")
        ));
    }
    Ok(Schedule::Spec {
        minute: get_field(fields[0], &MINUTES)?,
        hour: get_field(fields[1], &HOURS)?,
        dom: get_field(fields[2], &DOM)?,
        month: get_field(fields[3], &MONTHS)?,
        dow: get_field(fields[4], &DOW)?,
        offset,
    })
}

/// The offset of a zone `time.LoadLocation` would find, for the zones with a fixed one.
pub fn location(name: &str) -> Result<i64, String> {
    match name {
        "" | "UTC" | "Etc/UTC" | "GMT" | "Etc/GMT" | "Etc/GMT0" | "Etc/GMT+0" | "Etc/GMT-0"
        | "Etc/Greenwich" | "Etc/UCT" | "Etc/Universal" | "Etc/Zulu" | "UCT" | "Universal"
        | "Zulu" | "Greenwich" | "GMT0" | "GMT+0" | "GMT-0" => return Ok(0),
        _ => {}
    }
    // Etc/GMT+5 is five hours *behind* UTC (POSIX signs).
    if let Some(rest) = name.strip_prefix("Etc/GMT")
        && let Some(sign) = rest.chars().next()
        && (sign == '+' || sign == '-')
        && let Ok(h) = rest[1..].parse::<i64>()
        && ((sign == '+' && (1..=12).contains(&h)) || (sign == '-' && (1..=14).contains(&h)))
        && !rest[1..].starts_with('0')
    {
        return Ok(if sign == '+' { -h * 3600 } else { h * 3600 });
    }
    Err(format!("unknown time zone {name}"))
}

fn descriptor(spec: &str, offset: i64) -> Result<Schedule, String> {
    let all = |b: &Bounds| bits(b.min, b.max, 1) | STAR_BIT;
    let one = |b: &Bounds| 1u64 << b.min;
    let s = |minute, hour, dom, month, dow| Schedule::Spec {
        minute,
        hour,
        dom,
        month,
        dow,
        offset,
    };
    Ok(match spec {
        "@yearly" | "@annually" => s(
            one(&MINUTES),
            one(&HOURS),
            one(&DOM),
            one(&MONTHS),
            all(&DOW),
        ),
        "@monthly" => s(
            one(&MINUTES),
            one(&HOURS),
            one(&DOM),
            all(&MONTHS),
            all(&DOW),
        ),
        "@weekly" => s(
            one(&MINUTES),
            one(&HOURS),
            all(&DOM),
            all(&MONTHS),
            one(&DOW),
        ),
        "@daily" | "@midnight" => s(
            one(&MINUTES),
            one(&HOURS),
            all(&DOM),
            all(&MONTHS),
            all(&DOW),
        ),
        "@hourly" => s(
            one(&MINUTES),
            all(&HOURS),
            all(&DOM),
            all(&MONTHS),
            all(&DOW),
        ),
        _ => {
            if let Some(d) = spec.strip_prefix("@every ") {
                let secs = parse_go_duration(d).ok_or_else(|| {
                    format!("failed to parse duration {spec}: time: invalid duration {d:?}")
                })?;
                return Ok(Schedule::Every(secs.max(1)));
            }
            return Err(format!("unrecognized descriptor: {spec}"));
        }
    })
}

/// A Go duration (`1h30m`, `90s`) in whole seconds (fractions of a second dropped, as
/// `Every` truncates to the second).
fn parse_go_duration(d: &str) -> Option<i64> {
    let mut total_ms: i64 = 0;
    let mut rest = d;
    if rest.is_empty() {
        return None;
    }
    while !rest.is_empty() {
        let n = rest
            .find(|c: char| !c.is_ascii_digit())
            .unwrap_or(rest.len());
        if n == 0 {
            return None;
        }
        let v: i64 = rest[..n].parse().ok()?;
        rest = &rest[n..];
        let u = rest
            .find(|c: char| c.is_ascii_digit())
            .unwrap_or(rest.len());
        let ms = match &rest[..u] {
            "h" => 3_600_000,
            "m" => 60_000,
            "s" => 1_000,
            "ms" => 1,
            _ => return None,
        };
        total_ms = total_ms.checked_add(v.checked_mul(ms)?)?;
        rest = &rest[u..];
    }
    Some(total_ms / 1000)
}

fn get_field(field: &str, b: &Bounds) -> Result<u64, String> {
    let mut out = 0;
    for expr in field.split(',') {
        out |= get_range(expr, b)?;
    }
    Ok(out)
}

fn get_range(expr: &str, b: &Bounds) -> Result<u64, String> {
    let range_and_step: Vec<&str> = expr.split('/').collect();
    let low_and_high: Vec<&str> = range_and_step[0].split('-').collect();
    let single = low_and_high.len() == 1;
    let mut extra = 0;
    let (start, mut end);
    if low_and_high[0] == "*" || low_and_high[0] == "?" {
        start = b.min;
        end = b.max;
        extra = STAR_BIT;
    } else {
        start = int_or_name(low_and_high[0], b)?;
        end = match low_and_high.len() {
            1 => start,
            2 => int_or_name(low_and_high[1], b)?,
            _ => return Err(format!("too many hyphens: {expr}")),
        };
    }
    let step = match range_and_step.len() {
        1 => 1,
        2 => {
            let step = must_parse_int(range_and_step[1])?;
            // "N/step" means "N-max/step".
            if single {
                end = b.max;
            }
            if step > 1 {
                extra = 0;
            }
            step
        }
        _ => return Err(format!("too many slashes: {expr}")),
    };
    if start < b.min {
        return Err(format!(
            "beginning of range ({start}) below minimum ({}): {expr}",
            b.min
        ));
    }
    if end > b.max {
        return Err(format!(
            "end of range ({end}) above maximum ({}): {expr}",
            b.max
        ));
    }
    if start > end {
        return Err(format!(
            "beginning of range ({start}) beyond end of range ({end}): {expr}"
        ));
    }
    if step == 0 {
        return Err(format!("step of range should be a positive number: {expr}"));
    }
    Ok(bits(start, end, step) | extra)
}

fn int_or_name(expr: &str, b: &Bounds) -> Result<u32, String> {
    let lower = expr.to_ascii_lowercase();
    if let Some((_, v)) = b.names.iter().find(|(n, _)| *n == lower) {
        return Ok(*v);
    }
    must_parse_int(expr)
}

/// `mustParseInt`: `strconv.Atoi`'s errors, and no negative numbers.
fn must_parse_int(expr: &str) -> Result<u32, String> {
    let digits = expr.strip_prefix(['+', '-']).unwrap_or(expr);
    if digits.is_empty() || !digits.bytes().all(|c| c.is_ascii_digit()) {
        return Err(format!(
            "failed to parse int from {expr}: strconv.Atoi: parsing {expr:?}: invalid syntax"
        ));
    }
    let n: i64 = expr.parse().map_err(|_| {
        format!(
            "failed to parse int from {expr}: strconv.Atoi: parsing {expr:?}: value out of range"
        )
    })?;
    if n < 0 {
        return Err(format!("negative number ({n}) not allowed: {expr}"));
    }
    // Values past 63 never fit a field's bounds; keep them large enough to be refused.
    Ok(u32::try_from(n).unwrap_or(u32::MAX))
}

fn bits(min: u32, max: u32, step: u32) -> u64 {
    if step == 1 {
        return !(u64::MAX << (max + 1)) & (u64::MAX << min);
    }
    let mut b = 0;
    let mut i = min;
    while i <= max {
        b |= 1 << i;
        i += step;
    }
    b
}

// ---- civil time (proleptic Gregorian, days since 1970-01-01) ----

fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (i64::from(m) + 9) % 12;
    let doy = (153 * mp + 2) / 5 + i64::from(d) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

/// Local wall time of a Unix second in a fixed-offset zone.
#[derive(Clone, Copy)]
struct Civil {
    year: i64,
    month: u32,
    day: u32,
    hour: u32,
    minute: u32,
    weekday: u32,
}

fn civil(local: i64) -> Civil {
    let days = local.div_euclid(86_400);
    let secs = local.rem_euclid(86_400);
    let (year, month, day) = civil_from_days(days);
    Civil {
        year,
        month,
        day,
        hour: (secs / 3600) as u32,
        minute: ((secs % 3600) / 60) as u32,
        // 1970-01-01 was a Thursday.
        weekday: ((days + 4).rem_euclid(7)) as u32,
    }
}

impl Schedule {
    /// `Schedule.Next`: the first activation strictly after `t` (Unix seconds, whole or not:
    /// `t_ms` in milliseconds), in Unix milliseconds; `None` when none is found within five
    /// years (an impossible date such as `0 0 30 2 *`).
    pub fn next(&self, t_ms: i64) -> Option<i64> {
        match *self {
            Schedule::Every(secs) => {
                // `t.Add(delay - nanoseconds)`: whole seconds after the start of t's second.
                Some(t_ms.div_euclid(1000) * 1000 + secs * 1000)
            }
            Schedule::Spec {
                minute,
                hour,
                dom,
                month,
                dow,
                offset,
            } => {
                // Start at the upcoming whole second, in local seconds.
                let mut t = t_ms.div_euclid(1000) + 1 + offset;
                let year_limit = civil(t).year + 5;
                let mut added = false;
                'wrap: loop {
                    let c = civil(t);
                    if c.year > year_limit {
                        return None;
                    }
                    // Month.
                    let mut c = c;
                    while (1u64 << c.month) & month == 0 {
                        added = true;
                        let (y, m) = if c.month == 12 {
                            (c.year + 1, 1)
                        } else {
                            (c.year, c.month + 1)
                        };
                        t = days_from_civil(y, m, 1) * 86_400;
                        c = civil(t);
                        if c.month == 1 {
                            continue 'wrap;
                        }
                    }
                    // Day.
                    while !day_matches(dom, dow, &c) {
                        if !added {
                            added = true;
                            t = days_from_civil(c.year, c.month, c.day) * 86_400;
                        }
                        t += 86_400;
                        c = civil(t);
                        if c.day == 1 {
                            continue 'wrap;
                        }
                    }
                    // Hour.
                    while (1u64 << c.hour) & hour == 0 {
                        if !added {
                            added = true;
                            t = t.div_euclid(3600) * 3600;
                        }
                        t += 3600;
                        c = civil(t);
                        if c.hour == 0 {
                            continue 'wrap;
                        }
                    }
                    // Minute.
                    while (1u64 << c.minute) & minute == 0 {
                        if !added {
                            added = true;
                            t = t.div_euclid(60) * 60;
                        }
                        t += 60;
                        c = civil(t);
                        if c.minute == 0 {
                            continue 'wrap;
                        }
                    }
                    // Second: only 0 in a standard spec.
                    if t.rem_euclid(60) != 0 {
                        added = true;
                        t = t.div_euclid(60) * 60 + 60;
                        continue 'wrap;
                    }
                    return Some((t - offset) * 1000);
                }
            }
        }
    }
}

fn day_matches(dom: u64, dow: u64, c: &Civil) -> bool {
    let dom_match = (1u64 << c.day) & dom != 0;
    let dow_match = (1u64 << c.weekday) & dow != 0;
    if dom & STAR_BIT != 0 || dow & STAR_BIT != 0 {
        dom_match && dow_match
    } else {
        dom_match || dow_match
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Unix milliseconds of a UTC wall time.
    fn at(y: i64, mo: u32, d: u32, h: i64, mi: i64, s: i64) -> i64 {
        (days_from_civil(y, mo, d) * 86_400 + h * 3600 + mi * 60 + s) * 1000
    }

    #[test]
    fn parse_errors_are_robfigs() {
        // robfig/cron parser_test.go TestParseScheduleErrors and TestRange's error rows.
        let cases = [
            (
                "* 5 j * *",
                "failed to parse int from j: strconv.Atoi: parsing \"j\": invalid syntax",
            ),
            (
                "@every Xm",
                "failed to parse duration @every Xm: time: invalid duration \"Xm\"",
            ),
            (
                "@unrecognized * * * *",
                "unrecognized descriptor: @unrecognized * * * *",
            ),
            ("* * * *", "expected exactly 5 fields, found 4: [* * * *]"),
            ("", "empty spec string"),
            ("65 * * * *", "end of range (65) above maximum (59): 65"),
            (
                "5-3 * * * *",
                "beginning of range (5) beyond end of range (3): 5-3",
            ),
            ("0 0 0 * *", "beginning of range (0) below minimum (1): 0"),
            (
                "*/0 * * * *",
                "step of range should be a positive number: */0",
            ),
            ("1-2-3 * * * *", "too many hyphens: 1-2-3"),
            ("*/2/3 * * * *", "too many slashes: */2/3"),
            ("* * * * 7", "end of range (7) above maximum (6): 7"),
            (
                "TZ=Mars/Base * * * * *",
                "provided bad location Mars/Base: unknown time zone Mars/Base",
            ),
        ];
        for (spec, want) in cases {
            assert_eq!(parse_standard(spec), Err(want.to_string()), "{spec}");
        }
    }

    #[test]
    fn fields_and_names_set_bits() {
        // TestRange / TestField rows.
        assert_eq!(get_range("5", &MINUTES), Ok(1 << 5));
        assert_eq!(get_range("5-7", &MINUTES), Ok(0b1110_0000));
        assert_eq!(
            get_range("5-20/5", &MINUTES),
            Ok(1 << 5 | 1 << 10 | 1 << 15 | 1 << 20)
        );
        assert_eq!(get_range("55/2", &MINUTES), Ok(1 << 55 | 1 << 57 | 1 << 59));
        assert_eq!(get_range("*", &HOURS), Ok(bits(0, 23, 1) | STAR_BIT));
        assert_eq!(get_range("*/2", &HOURS), Ok(bits(0, 23, 2)));
        assert_eq!(get_field("mon-wed,fri", &DOW), Ok(0b10_1110));
        assert_eq!(get_field("JAN,dec", &MONTHS), Ok(1 << 1 | 1 << 12));
    }

    #[test]
    fn next_follows_spec_schedule_next() {
        // robfig/cron spec_test.go TestNext, UTC rows of the standard (5-field) kind.
        let cases = [
            (
                (2012, 7, 9, 14, 45, 0),
                "0/15 * * * *",
                Some((2012, 7, 9, 15, 0, 0)),
            ),
            (
                (2012, 7, 9, 14, 59, 0),
                "0/15 * * * *",
                Some((2012, 7, 9, 15, 0, 0)),
            ),
            (
                (2012, 7, 9, 14, 59, 59),
                "0/15 * * * *",
                Some((2012, 7, 9, 15, 0, 0)),
            ),
            // Wrap around hours and days.
            (
                (2012, 7, 9, 15, 45, 0),
                "20-35/15 * * * *",
                Some((2012, 7, 9, 16, 20, 0)),
            ),
            (
                (2012, 7, 9, 23, 46, 0),
                "*/15 * * * *",
                Some((2012, 7, 10, 0, 0, 0)),
            ),
            (
                (2012, 7, 9, 23, 45, 0),
                "20-35/15 * * * *",
                Some((2012, 7, 10, 0, 20, 0)),
            ),
            (
                (2012, 7, 9, 23, 35, 51),
                "20-35/15 * 1/1 * *",
                Some((2012, 7, 10, 0, 20, 0)),
            ),
            (
                (2012, 7, 9, 23, 35, 51),
                "20-35/15 10-12 * * *",
                Some((2012, 7, 10, 10, 20, 0)),
            ),
            (
                (2012, 7, 9, 23, 35, 51),
                "20-35/15 1/2 */2 * *",
                Some((2012, 7, 11, 1, 20, 0)),
            ),
            (
                (2012, 7, 9, 23, 35, 51),
                "20-35/15 * 9-20 jul *",
                Some((2012, 7, 10, 0, 20, 0)),
            ),
            // Wrap around months and years.
            (
                (2012, 7, 9, 23, 35, 0),
                "0 0 9 Apr-Oct ?",
                Some((2012, 8, 9, 0, 0, 0)),
            ),
            (
                (2012, 7, 9, 23, 35, 0),
                "0 0 * Feb,Apr mon-fri",
                Some((2013, 2, 1, 0, 0, 0)),
            ),
            (
                (2012, 7, 9, 23, 35, 0),
                "0 0 1 Feb *",
                Some((2013, 2, 1, 0, 0, 0)),
            ),
            // Leap year.
            (
                (2012, 7, 9, 23, 35, 0),
                "0 0 29 Feb ?",
                Some((2016, 2, 29, 0, 0, 0)),
            ),
            // Day of week or of month (both restricted: either).
            (
                (2012, 7, 9, 23, 35, 0),
                "0 0 1 * sun",
                Some((2012, 7, 15, 0, 0, 0)),
            ),
            // Impossible.
            ((2012, 7, 9, 23, 35, 0), "0 0 30 Feb ?", None),
            ((2012, 7, 9, 23, 35, 0), "0 0 31 Apr ?", None),
            // Descriptors.
            (
                (2012, 7, 9, 23, 35, 0),
                "@hourly",
                Some((2012, 7, 10, 0, 0, 0)),
            ),
            (
                (2012, 7, 9, 23, 35, 0),
                "@daily",
                Some((2012, 7, 10, 0, 0, 0)),
            ),
            (
                (2012, 7, 9, 23, 35, 0),
                "@weekly",
                Some((2012, 7, 15, 0, 0, 0)),
            ),
            (
                (2012, 7, 9, 23, 35, 0),
                "@monthly",
                Some((2012, 8, 1, 0, 0, 0)),
            ),
            (
                (2012, 7, 9, 23, 35, 0),
                "@yearly",
                Some((2013, 1, 1, 0, 0, 0)),
            ),
        ];
        for ((y, mo, d, h, mi, s), spec, want) in cases {
            let sched = parse_standard(spec).expect(spec);
            let got = sched.next(at(y, mo, d, h, mi, s));
            let want = want.map(|(y, mo, d, h, mi, s)| at(y, mo, d, h, mi, s));
            assert_eq!(got, want, "{spec} after {y}-{mo}-{d} {h}:{mi}:{s}");
        }
    }

    #[test]
    fn fixed_offset_zones_shift_the_wall_clock() {
        // 9:00 in Etc/GMT-2 (two hours ahead of UTC) is 7:00 UTC.
        let s = parse_standard("TZ=Etc/GMT-2 0 9 * * *").expect("spec");
        assert_eq!(
            s.next(at(2024, 3, 1, 0, 0, 0)),
            Some(at(2024, 3, 1, 7, 0, 0))
        );
        assert_eq!(
            location("America/New_York"),
            Err("unknown time zone America/New_York".into())
        );
        assert_eq!(
            parse_standard("@every 90s").map(|s| s.next(at(2024, 1, 1, 0, 0, 0))),
            Ok(Some(at(2024, 1, 1, 0, 1, 30)))
        );
    }
}
