//! The host functions a guest may import: a small WASI preview 1 over in-memory streams, and
//! `kubesim.http_request`. Anything else a module imports is linked as a trap, so a module built
//! elsewhere still instantiates and fails clearly only if it calls what kubesim does not give.

use sim_core::program::Network;
use wasmtime::{Caller, Extern, Linker, ResourceLimiter};

/// WASI errno values (`wasi_snapshot_preview1` witx).
mod errno {
    pub(super) const SUCCESS: i32 = 0;
    pub(super) const BADF: i32 = 8;
    pub(super) const FAULT: i32 = 21;
    pub(super) const INVAL: i32 = 28;
    pub(super) const NOSYS: i32 = 52;
    pub(super) const SPIPE: i32 = 70;
}

/// Output beyond this many bytes per stream is dropped (a guest printing forever).
const MAX_OUTPUT: usize = 1 << 20;

/// A guest called `proc_exit`.
#[derive(Debug)]
pub(crate) struct ProcExit(pub(crate) i32);

impl std::fmt::Display for ProcExit {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "exit({})", self.0)
    }
}

impl std::error::Error for ProcExit {}

/// Memory limit that remembers being hit, so an allocation failure reads as OOMKilled.
#[derive(Debug)]
pub(crate) struct Limits {
    pub(crate) memory: u64,
    pub(crate) hit: bool,
}

impl ResourceLimiter for Limits {
    fn memory_growing(
        &mut self,
        _current: usize,
        desired: usize,
        _maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        let ok = desired as u64 <= self.memory;
        self.hit |= !ok;
        Ok(ok)
    }

    fn table_growing(
        &mut self,
        _current: usize,
        desired: usize,
        _maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        Ok(desired <= 100_000)
    }
}

/// What one invocation's guest sees and writes.
pub(crate) struct Host {
    pub(crate) args: Vec<Vec<u8>>,
    pub(crate) env: Vec<Vec<u8>>,
    pub(crate) stdin: Vec<u8>,
    pub(crate) stdin_pos: usize,
    pub(crate) stdout: Vec<u8>,
    pub(crate) stderr: Vec<u8>,
    pub(crate) clock_ns: u64,
    pub(crate) rng: u64,
    pub(crate) limits: Limits,
    pub(crate) net: Option<Box<dyn Network>>,
}

impl Host {
    /// SplitMix64: a seeded stream for `random_get`.
    fn next_random(&mut self) -> u64 {
        self.rng = self.rng.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.rng;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
}

type Cx<'a> = Caller<'a, Host>;

fn memory(caller: &mut Cx<'_>) -> Option<wasmtime::Memory> {
    match caller.get_export("memory") {
        Some(Extern::Memory(m)) => Some(m),
        _ => None,
    }
}

fn read_bytes(caller: &mut Cx<'_>, ptr: i32, len: i32) -> Option<Vec<u8>> {
    let mem = memory(caller)?;
    let (ptr, len) = (ptr as u32 as usize, len as u32 as usize);
    mem.data(&caller)
        .get(ptr..ptr.checked_add(len)?)
        .map(<[u8]>::to_vec)
}

fn write_bytes(caller: &mut Cx<'_>, ptr: i32, bytes: &[u8]) -> bool {
    let Some(mem) = memory(caller) else {
        return false;
    };
    let ptr = ptr as u32 as usize;
    let data = mem.data_mut(caller);
    match ptr
        .checked_add(bytes.len())
        .and_then(|end| data.get_mut(ptr..end))
    {
        Some(dst) => {
            dst.copy_from_slice(bytes);
            true
        }
        None => false,
    }
}

fn write_u32(caller: &mut Cx<'_>, ptr: i32, v: u32) -> bool {
    write_bytes(caller, ptr, &v.to_le_bytes())
}

/// `(ptr, len)` pairs of an iovec array.
fn iovecs(caller: &mut Cx<'_>, iovs: i32, n: i32) -> Option<Vec<(i32, i32)>> {
    let raw = read_bytes(caller, iovs, n.checked_mul(8)?)?;
    Some(
        raw.chunks_exact(8)
            .map(|c| {
                (
                    i32::from_le_bytes([c[0], c[1], c[2], c[3]]),
                    i32::from_le_bytes([c[4], c[5], c[6], c[7]]),
                )
            })
            .collect(),
    )
}

/// `*_sizes_get` and `*_get` for a list of NUL-terminated strings (args, environ).
fn strings_sizes(caller: &mut Cx<'_>, list: &[Vec<u8>], count_ptr: i32, size_ptr: i32) -> i32 {
    let size: usize = list.iter().map(|s| s.len() + 1).sum();
    if write_u32(caller, count_ptr, list.len() as u32) && write_u32(caller, size_ptr, size as u32) {
        errno::SUCCESS
    } else {
        errno::FAULT
    }
}

fn strings_get(caller: &mut Cx<'_>, list: &[Vec<u8>], ptrs: i32, buf: i32) -> i32 {
    let mut at = buf;
    for (i, s) in list.iter().enumerate() {
        let mut z = s.clone();
        z.push(0);
        if !write_u32(caller, ptrs + 4 * i as i32, at as u32) || !write_bytes(caller, at, &z) {
            return errno::FAULT;
        }
        at += z.len() as i32;
    }
    errno::SUCCESS
}

/// Links every host function of the ABI into `linker`.
pub(crate) fn link(linker: &mut Linker<Host>) -> wasmtime::Result<()> {
    const W: &str = "wasi_snapshot_preview1";
    linker.func_wrap(W, "args_sizes_get", |mut c: Cx<'_>, n: i32, s: i32| {
        let list = c.data().args.clone();
        strings_sizes(&mut c, &list, n, s)
    })?;
    linker.func_wrap(W, "args_get", |mut c: Cx<'_>, p: i32, b: i32| {
        let list = c.data().args.clone();
        strings_get(&mut c, &list, p, b)
    })?;
    linker.func_wrap(W, "environ_sizes_get", |mut c: Cx<'_>, n: i32, s: i32| {
        let list = c.data().env.clone();
        strings_sizes(&mut c, &list, n, s)
    })?;
    linker.func_wrap(W, "environ_get", |mut c: Cx<'_>, p: i32, b: i32| {
        let list = c.data().env.clone();
        strings_get(&mut c, &list, p, b)
    })?;
    linker.func_wrap(
        W,
        "fd_write",
        |mut c: Cx<'_>, fd: i32, iovs: i32, n: i32, written: i32| {
            if fd != 1 && fd != 2 {
                return errno::BADF;
            }
            let Some(vecs) = iovecs(&mut c, iovs, n) else {
                return errno::FAULT;
            };
            let mut total = 0u32;
            for (ptr, len) in vecs {
                let Some(bytes) = read_bytes(&mut c, ptr, len) else {
                    return errno::FAULT;
                };
                total += bytes.len() as u32;
                let out = if fd == 1 {
                    &mut c.data_mut().stdout
                } else {
                    &mut c.data_mut().stderr
                };
                let room = MAX_OUTPUT.saturating_sub(out.len());
                out.extend_from_slice(&bytes[..bytes.len().min(room)]);
            }
            if write_u32(&mut c, written, total) {
                errno::SUCCESS
            } else {
                errno::FAULT
            }
        },
    )?;
    linker.func_wrap(
        W,
        "fd_read",
        |mut c: Cx<'_>, fd: i32, iovs: i32, n: i32, read: i32| {
            if fd != 0 {
                return errno::BADF;
            }
            let Some(vecs) = iovecs(&mut c, iovs, n) else {
                return errno::FAULT;
            };
            let mut total = 0u32;
            for (ptr, len) in vecs {
                let (pos, end) = (c.data().stdin_pos, c.data().stdin.len());
                let take = (len as u32 as usize).min(end - pos);
                let chunk = c.data().stdin[pos..pos + take].to_vec();
                if !write_bytes(&mut c, ptr, &chunk) {
                    return errno::FAULT;
                }
                c.data_mut().stdin_pos += take;
                total += take as u32;
                if take < len as u32 as usize {
                    break;
                }
            }
            if write_u32(&mut c, read, total) {
                errno::SUCCESS
            } else {
                errno::FAULT
            }
        },
    )?;
    linker.func_wrap(W, "fd_close", |_: Cx<'_>, fd: i32| {
        if (0..=2).contains(&fd) {
            errno::SUCCESS
        } else {
            errno::BADF
        }
    })?;
    linker.func_wrap(W, "fd_fdstat_get", |mut c: Cx<'_>, fd: i32, stat: i32| {
        if !(0..=2).contains(&fd) {
            return errno::BADF;
        }
        // filetype CHARACTER_DEVICE (2), no flags, all rights.
        let mut b = [0u8; 24];
        b[0] = 2;
        b[8..16].copy_from_slice(&u64::MAX.to_le_bytes());
        if write_bytes(&mut c, stat, &b) {
            errno::SUCCESS
        } else {
            errno::FAULT
        }
    })?;
    linker.func_wrap(
        W,
        "fd_seek",
        |_: Cx<'_>, _fd: i32, _off: i64, _whence: i32, _new: i32| errno::SPIPE,
    )?;
    // No preopened directories: the guest has no filesystem.
    linker.func_wrap(W, "fd_prestat_get", |_: Cx<'_>, _fd: i32, _p: i32| {
        errno::BADF
    })?;
    linker.func_wrap(
        W,
        "fd_prestat_dir_name",
        |_: Cx<'_>, _fd: i32, _p: i32, _l: i32| errno::BADF,
    )?;
    linker.func_wrap(
        W,
        "clock_time_get",
        |mut c: Cx<'_>, id: i32, _precision: i64, out: i32| {
            if !(0..=3).contains(&id) {
                return errno::INVAL;
            }
            let now = c.data().clock_ns;
            if write_bytes(&mut c, out, &now.to_le_bytes()) {
                errno::SUCCESS
            } else {
                errno::FAULT
            }
        },
    )?;
    linker.func_wrap(W, "clock_res_get", |mut c: Cx<'_>, _id: i32, out: i32| {
        if write_bytes(&mut c, out, &1_000_000u64.to_le_bytes()) {
            errno::SUCCESS
        } else {
            errno::FAULT
        }
    })?;
    linker.func_wrap(W, "random_get", |mut c: Cx<'_>, buf: i32, len: i32| {
        let len = len as u32 as usize;
        let mut bytes = Vec::with_capacity(len);
        while bytes.len() < len {
            let r = c.data_mut().next_random().to_le_bytes();
            bytes.extend_from_slice(&r[..(len - bytes.len()).min(8)]);
        }
        if write_bytes(&mut c, buf, &bytes) {
            errno::SUCCESS
        } else {
            errno::FAULT
        }
    })?;
    linker.func_wrap(W, "sched_yield", |_: Cx<'_>| errno::SUCCESS)?;
    linker.func_wrap(
        W,
        "poll_oneoff",
        |_: Cx<'_>, _i: i32, _o: i32, _n: i32, _e: i32| errno::NOSYS,
    )?;
    linker.func_wrap(
        W,
        "proc_exit",
        |_: Cx<'_>, code: i32| -> wasmtime::Result<()> {
            Err(wasmtime::Error::new(ProcExit(code)))
        },
    )?;
    link_http(linker)?;
    Ok(())
}

/// `kubesim.http_request(method, method_len, url, url_len, body, body_len, out, out_cap,
/// out_len_ptr) -> status`.
fn link_http(linker: &mut Linker<Host>) -> wasmtime::Result<&mut Linker<Host>> {
    linker.func_wrap(
        "kubesim",
        "http_request",
        |mut c: Cx<'_>,
         mp: i32,
         ml: i32,
         up: i32,
         ul: i32,
         bp: i32,
         bl: i32,
         op: i32,
         oc: i32,
         ol: i32|
         -> i32 { http_request(&mut c, (mp, ml), (up, ul), (bp, bl), (op, oc), ol) },
    )
}

/// Status (> 0), or -1 when the call could not be made, -2 for a bad argument.
fn http_request(
    c: &mut Cx<'_>,
    method: (i32, i32),
    url: (i32, i32),
    body: (i32, i32),
    out: (i32, i32),
    out_len: i32,
) -> i32 {
    let (Some(method), Some(url), Some(body)) = (
        read_bytes(c, method.0, method.1),
        read_bytes(c, url.0, url.1),
        read_bytes(c, body.0, body.1),
    ) else {
        return -2;
    };
    let method = String::from_utf8_lossy(&method).into_owned();
    let url = String::from_utf8_lossy(&url).into_owned();
    let Some(mut net) = c.data_mut().net.take() else {
        return -1;
    };
    let result = net.http_request(&method, &url, &body);
    c.data_mut().net = Some(net);
    match result {
        Ok((status, resp)) => {
            let cap = out.1 as u32 as usize;
            let n = resp.len().min(cap);
            if !write_bytes(c, out.0, &resp[..n]) || !write_u32(c, out_len, resp.len() as u32) {
                return -2;
            }
            i32::from(status)
        }
        Err(_) => -1,
    }
}
