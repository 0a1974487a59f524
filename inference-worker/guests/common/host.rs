//! `kubesim.http_request`, the host import a guest calls other Services with (docs/worker-abi.md),
//! and the virtual clock as a date for log lines.
#![allow(dead_code)]

/// What a call gave: the status and body, or why no connection could be made, in the host's
/// words (`dial tcp: lookup redis: no such host`, `dial tcp 10.96.0.7:6379: connect: connection
/// refused`).
pub type Reply = Result<(u16, Vec<u8>), String>;

#[cfg(target_arch = "wasm32")]
mod import {
    #[link(wasm_import_module = "kubesim")]
    extern "C" {
        pub fn http_request(
            method_ptr: *const u8,
            method_len: usize,
            url_ptr: *const u8,
            url_len: usize,
            body_ptr: *const u8,
            body_len: usize,
            out_ptr: *mut u8,
            out_cap: usize,
            out_len: *mut usize,
        ) -> i32;
    }
}

/// Sends one request through the host.
#[cfg(target_arch = "wasm32")]
pub fn call(method: &str, url: &str, body: &[u8]) -> Reply {
    let mut out = vec![0u8; 64 * 1024];
    let mut out_len = 0usize;
    // SAFETY: every pointer/length pair describes a live buffer of this invocation, and the host
    // writes at most `out.len()` bytes to `out` and one usize to `out_len`.
    let status = unsafe {
        import::http_request(
            method.as_ptr(),
            method.len(),
            url.as_ptr(),
            url.len(),
            body.as_ptr(),
            body.len(),
            out.as_mut_ptr(),
            out.len(),
            &mut out_len,
        )
    };
    out.truncate(out_len.min(out.len()));
    if status < 0 {
        let why = String::from_utf8_lossy(&out).into_owned();
        // A host that gives no reason means what -1 always meant: no such Service, or none
        // of its endpoints is ready.
        return Err(if why.is_empty() { format!("dial tcp: lookup {}: no such host", url) } else { why });
    }
    Ok((status as u16, out))
}

/// Outside wasm (native tests) there is no host: every call fails as an unknown host.
#[cfg(not(target_arch = "wasm32"))]
pub fn call(_method: &str, url: &str, _body: &[u8]) -> Reply {
    Err(format!("dial tcp: lookup {}: no such host", url))
}

/// Milliseconds since the Unix epoch on the virtual clock.
pub fn now_ms() -> u64 {
    match std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH) {
        Ok(d) => d.as_millis() as u64,
        Err(_) => 0,
    }
}

/// The civil date of a day count since 1970-01-01 (Howard Hinnant's `civil_from_days`).
pub fn civil(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = if z >= 0 { z } else { z - 146_096 } / 146_097;
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

/// (year, month, day, hour, minute, second, millisecond) of a Unix time in milliseconds.
pub fn parts(ms: u64) -> (i64, u32, u32, u64, u64, u64, u64) {
    let secs = ms / 1000;
    let (y, m, d) = civil((secs / 86_400) as i64);
    let s = secs % 86_400;
    (y, m, d, s / 3600, s / 60 % 60, s % 60, ms % 1000)
}

#[cfg(test)]
mod tests {
    #[test]
    fn dates() {
        assert_eq!(super::civil(0), (1970, 1, 1));
        // 2026-12-07 is day 20_794.
        assert_eq!(super::civil(20_794), (2026, 12, 7));
        assert_eq!(super::parts(86_400_000 + 3_723_004), (1970, 1, 2, 1, 2, 3, 4));
    }
}
