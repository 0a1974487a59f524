//! The guests' allocator: an invocation's allocations come from an arena that starts empty every
//! time, so an invocation burns the same fuel whether it runs on a fresh instance (`_start`) or
//! on one kept for its container (`kubesim_handle`, docs/worker-abi.md).
//!
//! With the standard allocator (wasi-libc's dlmalloc), what a request costs depends on the heap
//! earlier requests left behind (free lists, where the top is), so a kept instance would burn
//! a little more or less fuel than a fresh one, request by request, and a request's simulated
//! service time would depend on what the container served before. Here [`enter`] opens the
//! arena, [`leave`] empties it, and in between every allocation is a bump of one pointer
//! (freeing or growing the last block works in place; other frees are no-ops until `leave`).
//!
//! Memory: the arena starts at the end of linear memory when it is first opened, and every
//! invocation grows it through the same `memory.grow` calls: it keeps a *virtual* end that
//! restarts at the arena's start on every [`enter`], and on passing it asks for the pages
//! still missing (zero when a kept instance already has them). So the operators executed,
//! hence fuel, do not depend on what the instance did before; only the memory already present
//! does, and the host accounts for that (`inference-worker/src/process.rs`).
//!
//! Outside an invocation (the runtime's start and exit) allocations go to the system allocator.
//! Natively (tests, the native benchmark) it is the system allocator throughout.
#![allow(dead_code)]

use std::alloc::{GlobalAlloc, Layout, System};

/// The allocator a guest installs with `#[global_allocator]`.
pub struct Arena;

/// Opens the arena for an invocation.
pub fn enter() {
    imp::enter();
}

/// Empties the arena: everything allocated since [`enter`] is gone.
pub fn leave() {
    imp::leave();
}

unsafe impl GlobalAlloc for Arena {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        imp::alloc(layout)
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        imp::dealloc(ptr, layout)
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        imp::realloc(ptr, layout, new_size)
    }
}

#[cfg(target_arch = "wasm32")]
mod imp {
    use super::*;
    use core::arch::wasm32::{memory_grow, memory_size};

    const PAGE: usize = 65536;

    /// Whether an invocation is under way.
    static mut ACTIVE: bool = false;
    /// Where the arena starts (0: never opened), and the end of the memory it grew itself.
    static mut BASE: usize = 0;
    static mut TOP: usize = 0;
    /// The next free byte, and the virtual end (see the module docs).
    static mut NEXT: usize = 0;
    static mut VEND: usize = 0;
    /// The last block handed out (grown or freed in place).
    static mut LAST: usize = 0;
    /// Someone else grew memory past the arena: this invocation's remaining allocations go
    /// to the system allocator.
    static mut SPILLED: bool = false;

    pub(super) fn enter() {
        // SAFETY: wasm32 guests are single-threaded; nothing else touches these statics.
        unsafe {
            // Without a branch, so a kept instance's later invocations run the operators its
            // first did: the arena starts at the end of memory the first time only.
            let end = memory_size(0) * PAGE;
            let first = (BASE == 0) as usize;
            BASE += first * end;
            TOP += first * end;
            NEXT = BASE;
            VEND = BASE;
            LAST = 0;
            SPILLED = false;
            ACTIVE = true;
        }
    }

    pub(super) fn leave() {
        // SAFETY: as in `enter`.
        unsafe {
            ACTIVE = false;
            NEXT = BASE;
            VEND = BASE;
            LAST = 0;
        }
    }

    /// Whether `ptr` is an arena block.
    unsafe fn ours(ptr: *mut u8) -> bool {
        let p = ptr as usize;
        p >= BASE && p < TOP && BASE != 0
    }

    /// Makes `[.., end)` usable: the pages missing are grown (none when present already).
    unsafe fn reach(end: usize) -> bool {
        let have = memory_size(0);
        if have * PAGE != TOP {
            // Memory grown by someone else (the system allocator) lies past the arena.
            SPILLED = true;
            return false;
        }
        let want = (end + PAGE - 1) / PAGE;
        let missing = want.max(have) - have;
        if memory_grow(0, missing) == usize::MAX {
            return false;
        }
        TOP = TOP.max(want * PAGE);
        VEND = want * PAGE;
        true
    }

    pub(super) unsafe fn alloc(layout: Layout) -> *mut u8 {
        if !ACTIVE || SPILLED {
            return System.alloc(layout);
        }
        let p = (NEXT + layout.align() - 1) & !(layout.align() - 1);
        let end = p + layout.size();
        if end > VEND && !reach(end) {
            if SPILLED {
                return System.alloc(layout);
            }
            return core::ptr::null_mut();
        }
        NEXT = end;
        LAST = p;
        p as *mut u8
    }

    pub(super) unsafe fn dealloc(ptr: *mut u8, layout: Layout) {
        if !ours(ptr) {
            return System.dealloc(ptr, layout);
        }
        if ptr as usize == LAST && ACTIVE {
            NEXT = LAST;
            LAST = 0;
        }
    }

    pub(super) unsafe fn realloc(ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        if !ours(ptr) {
            return System.realloc(ptr, layout, new_size);
        }
        if ptr as usize == LAST && ACTIVE && !SPILLED {
            let end = LAST + new_size;
            if end <= VEND || reach(end) {
                NEXT = end;
                return ptr;
            }
            if !SPILLED {
                return core::ptr::null_mut();
            }
        }
        let new = alloc(Layout::from_size_align_unchecked(new_size, layout.align()));
        if !new.is_null() {
            core::ptr::copy_nonoverlapping(ptr, new, layout.size().min(new_size));
            dealloc(ptr, layout);
        }
        new
    }
}

#[cfg(not(target_arch = "wasm32"))]
mod imp {
    use super::*;

    pub(super) fn enter() {}

    pub(super) fn leave() {}

    pub(super) unsafe fn alloc(layout: Layout) -> *mut u8 {
        System.alloc(layout)
    }

    pub(super) unsafe fn dealloc(ptr: *mut u8, layout: Layout) {
        System.dealloc(ptr, layout)
    }

    pub(super) unsafe fn realloc(ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        System.realloc(ptr, layout, new_size)
    }
}
