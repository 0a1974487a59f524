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
    pub(super) const ISDIR: i32 = 31;
    pub(super) const NOENT: i32 = 44;
    pub(super) const NOSYS: i32 = 52;
    pub(super) const NOTDIR: i32 = 54;
    pub(super) const ROFS: i32 = 69;
    pub(super) const SPIPE: i32 = 70;
}

/// WASI file types (`filetype`).
mod filetype {
    pub(super) const CHARACTER_DEVICE: u8 = 2;
    pub(super) const DIRECTORY: u8 = 3;
    pub(super) const REGULAR_FILE: u8 = 4;
}

/// The preopened directory `/`.
const PREOPEN: i32 = 3;

/// An open file or directory of the read-only file system.
#[derive(Clone, Debug)]
pub(crate) enum Open {
    File { path: String, pos: u64 },
    Dir { path: String },
}

/// The container's files (absolute path → contents) and what the guest has open.
#[derive(Debug, Default)]
pub(crate) struct Files {
    files: std::collections::BTreeMap<String, Vec<u8>>,
    open: std::collections::BTreeMap<i32, Open>,
    next: i32,
}

impl Files {
    pub(crate) fn new(files: std::collections::BTreeMap<String, Vec<u8>>) -> Files {
        Files {
            files,
            open: std::collections::BTreeMap::new(),
            next: PREOPEN + 1,
        }
    }

    /// Whether `path` is a directory: the root, or a parent of some file.
    fn is_dir(&self, path: &str) -> bool {
        if path == "/" {
            return true;
        }
        let prefix = format!("{path}/");
        self.files
            .range(prefix.clone()..)
            .next()
            .is_some_and(|(k, _)| k.starts_with(&prefix))
    }
}

/// `path` (guest memory) resolved against directory `fd`, `.` and `..` applied.
fn resolve(c: &mut Cx<'_>, fd: i32, path: i32, len: i32) -> Result<String, i32> {
    let base = match fd {
        PREOPEN => "/".to_string(),
        _ => match c.data().fs.open.get(&fd) {
            Some(Open::Dir { path }) => path.clone(),
            Some(Open::File { .. }) => return Err(errno::NOTDIR),
            None => return Err(errno::BADF),
        },
    };
    let raw = read_bytes(c, path, len).ok_or(errno::FAULT)?;
    let rel = String::from_utf8(raw).map_err(|_| errno::INVAL)?;
    let mut parts: Vec<&str> = Vec::new();
    for part in base.split('/').chain(rel.split('/')) {
        match part {
            "" | "." => {}
            ".." => {
                parts.pop();
            }
            p => parts.push(p),
        }
    }
    Ok(format!("/{}", parts.join("/")))
}

/// Reads an open file at its position into the iovecs.
fn file_read(c: &mut Cx<'_>, fd: i32, iovs: i32, n: i32, read: i32) -> i32 {
    let (path, mut pos) = match c.data().fs.open.get(&fd) {
        Some(Open::File { path, pos }) => (path.clone(), *pos as usize),
        Some(Open::Dir { .. }) => return errno::ISDIR,
        None => return errno::BADF,
    };
    let Some(vecs) = iovecs(c, iovs, n) else {
        return errno::FAULT;
    };
    let data = c.data().fs.files.get(&path).cloned().unwrap_or_default();
    let mut total = 0u32;
    for (ptr, len) in vecs {
        let take = (len as u32 as usize).min(data.len().saturating_sub(pos));
        if !write_bytes(c, ptr, &data[pos..pos + take]) {
            return errno::FAULT;
        }
        pos += take;
        total += take as u32;
        if take < len as u32 as usize {
            break;
        }
    }
    if let Some(Open::File { pos: p, .. }) = c.data_mut().fs.open.get_mut(&fd) {
        *p = pos as u64;
    }
    if write_u32(c, read, total) {
        errno::SUCCESS
    } else {
        errno::FAULT
    }
}

/// Writes the `filestat` of `path` (a file's size, or a directory).
fn filestat(c: &mut Cx<'_>, path: &str, buf: i32) -> i32 {
    let fs = &c.data().fs;
    let (ty, size) = match fs.files.get(path) {
        Some(data) => (filetype::REGULAR_FILE, data.len() as u64),
        None if fs.is_dir(path) => (filetype::DIRECTORY, 0),
        None => return errno::NOENT,
    };
    let ino = fs
        .files
        .keys()
        .position(|k| k == path)
        .map_or(1, |i| i as u64 + 2);
    // dev, ino, filetype, nlink, size, atim, mtim, ctim.
    let mut b = [0u8; 64];
    b[8..16].copy_from_slice(&ino.to_le_bytes());
    b[16] = ty;
    b[24..32].copy_from_slice(&1u64.to_le_bytes());
    b[32..40].copy_from_slice(&size.to_le_bytes());
    if write_bytes(c, buf, &b) {
        errno::SUCCESS
    } else {
        errno::FAULT
    }
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
#[derive(Debug, Default)]
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
#[derive(Default)]
pub(crate) struct Host {
    pub(crate) args: Vec<Vec<u8>>,
    pub(crate) env: Vec<Vec<u8>>,
    pub(crate) stdin: Vec<u8>,
    pub(crate) stdin_pos: usize,
    /// The read-only file system (the container's ConfigMap and Secret volumes).
    pub(crate) fs: Files,
    pub(crate) stdout: Vec<u8>,
    pub(crate) stderr: Vec<u8>,
    pub(crate) clock_ns: u64,
    pub(crate) rng: u64,
    pub(crate) limits: Limits,
}

thread_local! {
    /// The networks of the invocations under way on this thread, innermost last: a guest's
    /// call runs the callee's invocation on the same thread. Kept here rather than in [`Host`]
    /// so a store is `Send` and a container's process can live in the simulation.
    static NETWORKS: std::cell::RefCell<Vec<Box<dyn Network>>> =
        const { std::cell::RefCell::new(Vec::new()) };
}

/// Runs `f` (one invocation) with `net` serving its `kubesim.http_request` calls.
pub(crate) fn with_network<R>(
    net: Box<dyn Network>,
    f: impl FnOnce() -> R,
) -> (R, Box<dyn Network>) {
    NETWORKS.with(|n| n.borrow_mut().push(net));
    let r = f();
    let net = NETWORKS
        .with(|n| n.borrow_mut().pop())
        .unwrap_or_else(|| Box::new(sim_core::program::NoNetwork));
    (r, net)
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
    // The pointer array and the NUL-terminated strings, each written in one go.
    let mut pointers = Vec::with_capacity(4 * list.len());
    let mut strings = Vec::with_capacity(list.iter().map(|s| s.len() + 1).sum());
    for s in list {
        let at = (buf as u32).wrapping_add(strings.len() as u32);
        pointers.extend_from_slice(&at.to_le_bytes());
        strings.extend_from_slice(s);
        strings.push(0);
    }
    if write_bytes(caller, ptrs, &pointers) && write_bytes(caller, buf, &strings) {
        errno::SUCCESS
    } else {
        errno::FAULT
    }
}

/// Links every host function of the ABI into `linker`.
pub(crate) fn link(linker: &mut Linker<Host>) -> wasmtime::Result<()> {
    const W: &str = "wasi_snapshot_preview1";
    linker.func_wrap(W, "args_sizes_get", |mut c: Cx<'_>, n: i32, s: i32| {
        let list = std::mem::take(&mut c.data_mut().args);
        let r = strings_sizes(&mut c, &list, n, s);
        c.data_mut().args = list;
        r
    })?;
    linker.func_wrap(W, "args_get", |mut c: Cx<'_>, p: i32, b: i32| {
        let list = std::mem::take(&mut c.data_mut().args);
        let r = strings_get(&mut c, &list, p, b);
        c.data_mut().args = list;
        r
    })?;
    linker.func_wrap(W, "environ_sizes_get", |mut c: Cx<'_>, n: i32, s: i32| {
        let list = std::mem::take(&mut c.data_mut().env);
        let r = strings_sizes(&mut c, &list, n, s);
        c.data_mut().env = list;
        r
    })?;
    linker.func_wrap(W, "environ_get", |mut c: Cx<'_>, p: i32, b: i32| {
        let list = std::mem::take(&mut c.data_mut().env);
        let r = strings_get(&mut c, &list, p, b);
        c.data_mut().env = list;
        r
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
                return file_read(&mut c, fd, iovs, n, read);
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
    linker.func_wrap(W, "fd_close", |mut c: Cx<'_>, fd: i32| {
        if (0..=PREOPEN).contains(&fd) || c.data_mut().fs.open.remove(&fd).is_some() {
            errno::SUCCESS
        } else {
            errno::BADF
        }
    })?;
    linker.func_wrap(W, "fd_fdstat_get", |mut c: Cx<'_>, fd: i32, stat: i32| {
        let filetype = match fd {
            0..=2 => filetype::CHARACTER_DEVICE,
            PREOPEN => filetype::DIRECTORY,
            _ => match c.data().fs.open.get(&fd) {
                Some(Open::File { .. }) => filetype::REGULAR_FILE,
                Some(Open::Dir { .. }) => filetype::DIRECTORY,
                None => return errno::BADF,
            },
        };
        // The file type, no flags, all rights (base and inheriting).
        let mut b = [0u8; 24];
        b[0] = filetype;
        b[8..16].copy_from_slice(&u64::MAX.to_le_bytes());
        b[16..24].copy_from_slice(&u64::MAX.to_le_bytes());
        if write_bytes(&mut c, stat, &b) {
            errno::SUCCESS
        } else {
            errno::FAULT
        }
    })?;
    linker.func_wrap(
        W,
        "fd_seek",
        |mut c: Cx<'_>, fd: i32, off: i64, whence: i32, new: i32| {
            let Some(Open::File { path, pos }) = c.data_mut().fs.open.get(&fd).cloned() else {
                return errno::SPIPE;
            };
            let size = c.data().fs.files.get(&path).map_or(0, Vec::len) as i64;
            let base = match whence {
                0 => 0,
                1 => pos as i64,
                2 => size,
                _ => return errno::INVAL,
            };
            let Some(to) = base.checked_add(off).filter(|t| *t >= 0) else {
                return errno::INVAL;
            };
            if let Some(Open::File { pos, .. }) = c.data_mut().fs.open.get_mut(&fd) {
                *pos = to as u64;
            }
            if write_bytes(&mut c, new, &(to as u64).to_le_bytes()) {
                errno::SUCCESS
            } else {
                errno::FAULT
            }
        },
    )?;
    // One preopened directory, `/`: the container's ConfigMap and Secret files, read only.
    linker.func_wrap(W, "fd_prestat_get", |mut c: Cx<'_>, fd: i32, p: i32| {
        if fd != PREOPEN {
            return errno::BADF;
        }
        // prestat: tag 0 (directory), then the name's length.
        let mut b = [0u8; 8];
        b[4..8].copy_from_slice(&1u32.to_le_bytes());
        if write_bytes(&mut c, p, &b) {
            errno::SUCCESS
        } else {
            errno::FAULT
        }
    })?;
    linker.func_wrap(
        W,
        "fd_prestat_dir_name",
        |mut c: Cx<'_>, fd: i32, p: i32, l: i32| {
            if fd != PREOPEN {
                return errno::BADF;
            }
            if l < 1 {
                return errno::INVAL;
            }
            if write_bytes(&mut c, p, b"/") {
                errno::SUCCESS
            } else {
                errno::FAULT
            }
        },
    )?;
    linker.func_wrap(
        W,
        "path_open",
        |mut c: Cx<'_>,
         fd: i32,
         _dirflags: i32,
         path: i32,
         path_len: i32,
         oflags: i32,
         _rights: i64,
         _inheriting: i64,
         fdflags: i32,
         out: i32| {
            let full = match resolve(&mut c, fd, path, path_len) {
                Ok(p) => p,
                Err(e) => return e,
            };
            // O_CREAT, O_EXCL, O_TRUNC or append: a write to a read-only file system.
            if oflags & (1 | 4 | 8) != 0 || fdflags & 1 != 0 {
                return errno::ROFS;
            }
            let fs = &mut c.data_mut().fs;
            let open = if fs.files.contains_key(&full) {
                if oflags & 2 != 0 {
                    return errno::NOTDIR;
                }
                Open::File { path: full, pos: 0 }
            } else if fs.is_dir(&full) {
                Open::Dir { path: full }
            } else {
                return errno::NOENT;
            };
            let new = fs.next;
            fs.next += 1;
            fs.open.insert(new, open);
            if write_u32(&mut c, out, new as u32) {
                errno::SUCCESS
            } else {
                errno::FAULT
            }
        },
    )?;
    linker.func_wrap(W, "fd_filestat_get", |mut c: Cx<'_>, fd: i32, buf: i32| {
        let path = match fd {
            PREOPEN => "/".to_string(),
            _ => match c.data().fs.open.get(&fd) {
                Some(Open::File { path, .. } | Open::Dir { path }) => path.clone(),
                None => return errno::BADF,
            },
        };
        filestat(&mut c, &path, buf)
    })?;
    linker.func_wrap(
        W,
        "path_filestat_get",
        |mut c: Cx<'_>, fd: i32, _flags: i32, path: i32, path_len: i32, buf: i32| match resolve(
            &mut c, fd, path, path_len,
        ) {
            Ok(full) => filestat(&mut c, &full, buf),
            Err(e) => e,
        },
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

/// Status (> 0), or -1 when the call could not be made (the reason's text in `out`), -2 for a
/// bad argument.
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
    let Some(mut net) = NETWORKS.with(|n| n.borrow_mut().pop()) else {
        return -1;
    };
    let result = net.http_request(&method, &url, &body);
    NETWORKS.with(|n| n.borrow_mut().push(net));
    match result {
        Ok((status, resp)) => {
            let cap = out.1 as u32 as usize;
            let n = resp.len().min(cap);
            if !write_bytes(c, out.0, &resp[..n]) || !write_u32(c, out_len, resp.len() as u32) {
                return -2;
            }
            i32::from(status)
        }
        // Why, in the host's words (`dial tcp: lookup redis: no such host`), so a client can
        // tell an unknown host from a refused connection as its socket errors would.
        Err(why) => {
            let cap = out.1 as u32 as usize;
            let why = why.as_bytes();
            let n = why.len().min(cap);
            if !write_bytes(c, out.0, &why[..n]) || !write_u32(c, out_len, why.len() as u32) {
                return -2;
            }
            -1
        }
    }
}
