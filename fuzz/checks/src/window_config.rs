//! `window_config`: random bytes as `pcl_count_window_config` / `pcl_time_window_config`, with a
//! random `size` field, passed to `pcl_*_window_new` and `pcl_*_window_init`.
//!
//! The config lives in a heap buffer of exactly `max(size, 8)` bytes (8: the `size` field
//! itself), so AddressSanitizer reports any read past what `size` declares. Properties: only the
//! statuses the functions document; `size` below the first version or above 4096, or non-zero
//! bytes past the known struct, give `PCL_STATUS_VERSION_MISMATCH`; a misaligned config gives
//! `PCL_STATUS_MISALIGNED`; a successful `_new` and `_init` agree; caller memory that is too
//! small or misaligned is refused and left untouched.
use crate::Bytes;
use core::ffi::c_void;
use portcullis_ffi::status::pcl_status;
use portcullis_ffi::window::{
    pcl_count_window, pcl_count_window_align, pcl_count_window_config, pcl_count_window_counts,
    pcl_count_window_free, pcl_count_window_init, pcl_count_window_new, pcl_count_window_size,
    pcl_time_window, pcl_time_window_align, pcl_time_window_config, pcl_time_window_counts,
    pcl_time_window_free, pcl_time_window_init, pcl_time_window_new, pcl_time_window_size,
    pcl_window_counts,
};
use std::alloc::Layout;

/// The largest `size` the library reads (`MAX_CONFIG_SIZE` in the FFI crate).
const MAX_CONFIG_SIZE: usize = 4096;

/// Statuses a window constructor documents.
fn documented(st: pcl_status) -> bool {
    matches!(
        st,
        pcl_status::Ok
            | pcl_status::NullArgument
            | pcl_status::BufferTooSmall
            | pcl_status::Misaligned
            | pcl_status::VersionMismatch
            | pcl_status::InvalidWindowSize
            | pcl_status::InvalidWindowDuration
            | pcl_status::InvalidWindowBuckets
    )
}

/// Runs one input.
pub fn check(data: &[u8]) {
    let mut b = Bytes::new(data);
    let flags = b.u8();
    // The declared size: usually near the real struct, sometimes anywhere up to past the limit.
    let size =
        if flags & 0x10 != 0 { usize::from(b.u16() % 4200) } else { usize::from(b.u8() % 48) };
    let misaligned_config = flags & 0x20 != 0;
    let mem_shrink = if flags & 0x40 != 0 { usize::from(b.u8()) + 1 } else { 0 };
    let misaligned_mem = flags & 0x80 != 0;
    // The buffer: exactly `max(size, 8)` bytes (plus one leading byte when misaligned), filled
    // from the input, with the `size` field set to `size`.
    let len = size.max(8);
    let offset = usize::from(misaligned_config);
    let mut buf = vec![0u8; len + offset];
    let body = b.take(len);
    buf[offset..offset + body.len()].copy_from_slice(body);
    buf[offset..offset + 8].copy_from_slice(&size.to_ne_bytes());
    // `Vec<u8>` from the system allocator is 16-aligned; only `offset` misaligns it.
    let mut exact = buf.into_boxed_slice();
    let known = if flags & 1 == 0 {
        size_of::<pcl_count_window_config>()
    } else {
        size_of::<pcl_time_window_config>()
    };
    let read_ok = !misaligned_config && size >= known && size <= MAX_CONFIG_SIZE;
    let tail_zero =
        exact.get(offset + known..offset + size).is_none_or(|t| t.iter().all(|&x| x == 0));
    let ptr = exact.as_mut_ptr().wrapping_add(offset);
    if flags & 1 == 0 {
        count(ptr.cast(), read_ok && tail_zero, misaligned_config, mem_shrink, misaligned_mem);
    } else {
        time(ptr.cast(), read_ok && tail_zero, misaligned_config, mem_shrink, misaligned_mem);
    }
}

/// Checks the status of a config read: misaligned, version mismatch, or a config error.
fn check_refusal(st: pcl_status, readable: bool, misaligned: bool) {
    assert!(documented(st), "undocumented status {st:?}");
    if misaligned {
        assert_eq!(st, pcl_status::Misaligned);
    } else if !readable {
        assert_eq!(st, pcl_status::VersionMismatch);
    }
}

/// Caller memory for `_init`: `size` bytes at `align` (plus one byte when misaligned).
struct Mem {
    ptr: *mut u8,
    layout: Layout,
    offset: usize,
    size: usize,
}

impl Mem {
    fn new(size: usize, align: usize, misaligned: bool) -> Mem {
        let offset = usize::from(misaligned);
        let layout = Layout::from_size_align(size + offset + 1, align).expect("layout");
        // SAFETY: non-zero size.
        let ptr = unsafe { std::alloc::alloc(layout) };
        assert!(!ptr.is_null());
        // SAFETY: `ptr` is writable for `layout.size()` bytes.
        unsafe { ptr.write_bytes(0xA5, layout.size()) };
        Mem { ptr, layout, offset, size }
    }

    fn at(&self) -> *mut c_void {
        self.ptr.wrapping_add(self.offset).cast()
    }

    fn untouched(&self) -> bool {
        // SAFETY: allocated and initialised for `layout.size()` bytes.
        unsafe { core::slice::from_raw_parts(self.ptr, self.layout.size()) }
            .iter()
            .all(|&x| x == 0xA5)
    }
}

impl Drop for Mem {
    fn drop(&mut self) {
        // SAFETY: allocated in `new` with this layout; the windows hold no resources.
        unsafe { std::alloc::dealloc(self.ptr, self.layout) };
    }
}

fn count(
    cfg: *const pcl_count_window_config,
    readable: bool,
    misaligned: bool,
    shrink: usize,
    mis_mem: bool,
) {
    let mut w: *mut pcl_count_window = core::ptr::null_mut();
    // SAFETY: `cfg` is aligned or the function must report it before reading; readable for its
    // `size` bytes (exactly the buffer); `w` is writable.
    let st_new = unsafe { pcl_count_window_new(cfg, &mut w) };
    check_refusal(st_new, readable, misaligned);
    let full = pcl_count_window_size();
    let mem = Mem::new(full.saturating_sub(shrink), pcl_count_window_align(), mis_mem);
    // SAFETY: `mem` is writable for `mem.size` bytes; `cfg` as above.
    let st_init = unsafe { pcl_count_window_init(mem.at(), mem.size, cfg) };
    assert!(documented(st_init));
    if st_new == pcl_status::Ok {
        assert!(!w.is_null());
        let mut c = pcl_window_counts { calls: 1, failures: 1, slow: 1 };
        // SAFETY: `w` is live.
        assert_eq!(unsafe { pcl_count_window_counts(w, &mut c) }, pcl_status::Ok);
        assert_eq!(c, pcl_window_counts::default(), "a new window is empty");
        let want = if shrink > 0 {
            pcl_status::BufferTooSmall
        } else if mis_mem {
            pcl_status::Misaligned
        } else {
            pcl_status::Ok
        };
        assert_eq!(st_init, want, "init disagrees with new");
    } else {
        assert!(w.is_null(), "no window on error");
        assert_eq!(st_init, st_new, "init and new refuse the same config alike");
    }
    if st_init != pcl_status::Ok {
        assert!(mem.untouched(), "refused init wrote caller memory");
    }
    // SAFETY: `w` is NULL or from `_new`, freed once.
    unsafe { pcl_count_window_free(w) };
}

fn time(
    cfg: *const pcl_time_window_config,
    readable: bool,
    misaligned: bool,
    shrink: usize,
    mis_mem: bool,
) {
    let mut w: *mut pcl_time_window = core::ptr::null_mut();
    // SAFETY: as in `count`.
    let st_new = unsafe { pcl_time_window_new(cfg, &mut w) };
    check_refusal(st_new, readable, misaligned);
    let full = pcl_time_window_size();
    let mem = Mem::new(full.saturating_sub(shrink), pcl_time_window_align(), mis_mem);
    // SAFETY: as in `count`.
    let st_init = unsafe { pcl_time_window_init(mem.at(), mem.size, cfg) };
    assert!(documented(st_init));
    if st_new == pcl_status::Ok {
        assert!(!w.is_null());
        let mut c = pcl_window_counts { calls: 1, failures: 1, slow: 1 };
        // SAFETY: `w` is live.
        assert_eq!(unsafe { pcl_time_window_counts(w, 0, &mut c) }, pcl_status::Ok);
        assert_eq!(c, pcl_window_counts::default(), "a new window is empty");
        let want = if shrink > 0 {
            pcl_status::BufferTooSmall
        } else if mis_mem {
            pcl_status::Misaligned
        } else {
            pcl_status::Ok
        };
        assert_eq!(st_init, want, "init disagrees with new");
    } else {
        assert!(w.is_null(), "no window on error");
        assert_eq!(st_init, st_new, "init and new refuse the same config alike");
    }
    if st_init != pcl_status::Ok {
        assert!(mem.untouched(), "refused init wrote caller memory");
    }
    // SAFETY: `w` is NULL or from `_new`, freed once.
    unsafe { pcl_time_window_free(w) };
}
