//! The panic boundary, versioned config reading, and placement of objects in caller memory.

use core::alloc::Layout;
use core::ffi::c_void;
use std::panic::{AssertUnwindSafe, catch_unwind};

use crate::status::pcl_status;

/// Runs `f`, turning a panic into [`pcl_status::Panic`] so that no unwind crosses into C.
///
/// The core is panic-free by lint; this is the backstop that makes that a guarantee at the ABI.
///
/// Its cost is its frame: `f`'s captures are stored to memory for the unwinder, and a store
/// that is still in the store buffer delays the next atomic read-modify-write until it drains.
/// So a hot path may run a first part before the boundary (the closed breaker's admission, the
/// counting half of a breaker record) when that part is marked
/// `#[cfg_attr(all(feature = "no-panic-check", not(debug_assertions)), no_panic::no_panic)]`:
/// `scripts/no-panic-check.sh` builds the release library with that feature, where the link
/// fails if the optimised code of a marked function can still panic. (Debug builds check
/// arithmetic overflow, which that proof does not cover: there a panic in such a part would
/// abort the process, as Rust does for any unwind that reaches an `extern "C"` function.)
pub(crate) fn boundary(f: impl FnOnce() -> pcl_status) -> pcl_status {
    catch_unwind(AssertUnwindSafe(f)).unwrap_or(pcl_status::Panic)
}

/// The largest `size` a config struct may declare: a bound on how many bytes are read from a
/// caller pointer, whatever its `size` field says.
pub(crate) const MAX_CONFIG_SIZE: usize = 4096;

/// A `#[repr(C)]` config struct whose first field is `size: size_t`.
///
/// # Safety
///
/// Implementors must be `#[repr(C)]`, start with a `usize` field holding the struct's size, and be
/// valid for every bit pattern of their fields once [`sanitize`](Config::sanitize) has run (plain
/// integers, and `bool` fields that `sanitize` rewrites).
pub(crate) unsafe trait Config: Copy {
    /// The size of the first published version of the struct: a caller's `size` below it is
    /// [`pcl_status::VersionMismatch`].
    const MIN_SIZE: usize;
    /// The defaults, with `size` set to `size_of::<Self>()`.
    fn defaults() -> Self;
    /// Makes a struct holding a caller's bytes a valid value: a C `bool` is any byte, a Rust
    /// `bool` only 0 or 1, so each `bool` field is rewritten with [`normalize_bool`] (any non-zero
    /// byte is true) before the struct is read as `Self`. No-op for structs of integers.
    ///
    /// # Safety
    ///
    /// `raw` must point to a writable `Self` whose bytes may not be a valid `Self` yet.
    unsafe fn sanitize(raw: *mut Self) {
        let _ = raw;
    }
}

/// Rewrites the byte of a `bool` field as 0 or 1 (any non-zero byte is true).
///
/// # Safety
///
/// `field` must be valid for a one-byte read and write (`&raw mut (*raw).field`).
pub(crate) unsafe fn normalize_bool(field: *mut bool) {
    let byte = field.cast::<u8>();
    // SAFETY: readable and writable (contract); read and written as a plain u8.
    unsafe { byte.write(u8::from(byte.read() != 0)) };
}

/// Reads a config from C with the extensible-struct rule: `size` says how many bytes the caller's
/// struct has. Fields past `size` (an older caller) take their defaults; bytes past what this
/// library knows (a newer caller) must be zero.
///
/// # Safety
///
/// `ptr` must be NULL or valid for reads of `min(its size field, MAX_CONFIG_SIZE)` bytes and
/// aligned for `T`.
pub(crate) unsafe fn read_config<T: Config>(ptr: *const T) -> Result<T, pcl_status> {
    if ptr.is_null() {
        return Err(pcl_status::NullArgument);
    }
    if !(ptr as usize).is_multiple_of(align_of::<T>()) {
        return Err(pcl_status::Misaligned);
    }
    // SAFETY: non-NULL and aligned (checked above); every config starts with a `usize` (trait
    // contract), which the caller guarantees is readable.
    let size = unsafe { ptr.cast::<usize>().read() };
    if size < T::MIN_SIZE || size > MAX_CONFIG_SIZE {
        return Err(pcl_status::VersionMismatch);
    }
    let known = size_of::<T>();
    let bytes = ptr.cast::<u8>();
    if size > known {
        // SAFETY: the caller guarantees `size` (<= MAX_CONFIG_SIZE) readable bytes at `ptr`.
        let extra = unsafe { core::slice::from_raw_parts(bytes.add(known), size - known) };
        if extra.iter().any(|b| *b != 0) {
            return Err(pcl_status::VersionMismatch);
        }
    }
    // The caller's bytes go into raw memory first: they become a `T` only once every field holds
    // a valid value (a `bool` byte other than 0 or 1 must never be read as a Rust `bool`).
    let mut cfg = core::mem::MaybeUninit::new(T::defaults());
    // SAFETY: copies min(size, known) bytes from the caller's struct (readable, see above) into
    // the local (writable, `known` bytes); the regions cannot overlap. `sanitize` then makes every
    // field valid (trait contract), so `assume_init` reads a valid `T`.
    unsafe {
        core::ptr::copy_nonoverlapping(bytes, cfg.as_mut_ptr().cast::<u8>(), size.min(known));
        T::sanitize(cfg.as_mut_ptr());
        Ok(cfg.assume_init())
    }
}

/// Moves `value` into caller memory `mem` of `size` bytes after checking NULL, size and alignment.
///
/// # Safety
///
/// `mem` must be NULL or valid for writes of `size` bytes, and not in use by a live object
/// (it is overwritten without dropping what was there).
pub(crate) unsafe fn place<T>(mem: *mut c_void, size: usize, value: T) -> pcl_status {
    if mem.is_null() {
        return pcl_status::NullArgument;
    }
    if size < size_of::<T>() {
        return pcl_status::BufferTooSmall;
    }
    if !(mem as usize).is_multiple_of(align_of::<T>()) {
        return pcl_status::Misaligned;
    }
    // SAFETY: non-NULL, large enough and aligned (checked above); writable per the contract.
    unsafe { mem.cast::<T>().write(value) };
    pcl_status::Ok
}

/// Moves `value` to a new heap block and stores its address in `*out`; the C `_free` function
/// releases it with [`free_boxed`]. Reports allocation failure instead of aborting.
///
/// # Safety
///
/// `out` must be NULL or valid for one pointer write.
pub(crate) unsafe fn new_boxed<T>(out: *mut *mut T, value: T) -> pcl_status {
    if out.is_null() {
        return pcl_status::NullArgument;
    }
    let layout = Layout::new::<T>();
    // SAFETY: every object type here has a non-zero size (they hold atomic words).
    let mem = unsafe { std::alloc::alloc(layout) }.cast::<T>();
    if mem.is_null() {
        return pcl_status::OutOfMemory;
    }
    // SAFETY: `mem` is a fresh allocation for `T`'s layout; `out` is writable (contract, checked
    // non-NULL above).
    unsafe {
        mem.write(value);
        out.write(mem);
    }
    pcl_status::Ok
}

/// Drops and frees an object made by [`new_boxed`]; NULL is a no-op.
///
/// # Safety
///
/// `ptr` must be NULL or a pointer returned by [`new_boxed`] for the same `T`, not yet freed, and
/// not used afterwards.
pub(crate) unsafe fn free_boxed<T>(ptr: *mut T) {
    if ptr.is_null() {
        return;
    }
    // SAFETY: `ptr` came from `new_boxed::<T>` (contract): a live `T` in a block of `T`'s layout.
    unsafe {
        ptr.drop_in_place();
        std::alloc::dealloc(ptr.cast::<u8>(), Layout::new::<T>());
    }
}

/// Runs `f` on the object behind `ptr`, or returns [`pcl_status::NullArgument`].
///
/// # Safety
///
/// `ptr` must be NULL or point to a live, initialised `T` (from `_new` or `_init`).
pub(crate) unsafe fn with<T>(ptr: *const T, f: impl FnOnce(&T) -> pcl_status) -> pcl_status {
    // SAFETY: NULL is handled by `as_ref`; otherwise the caller guarantees a live `T`.
    match unsafe { ptr.as_ref() } {
        Some(obj) => boundary(|| f(obj)),
        None => pcl_status::NullArgument,
    }
}

/// The body of every `pcl_X_init`: reads the config, builds the object, places it in `mem`.
///
/// # Safety
///
/// As [`read_config`] for `config` and as [`place`] for `mem`/`size`.
pub(crate) unsafe fn init_object<C: Config, T>(
    mem: *mut c_void,
    size: usize,
    config: *const C,
    build: impl FnOnce(&C) -> Result<T, pcl_status>,
) -> pcl_status {
    boundary(|| {
        // SAFETY: forwarded caller guarantees.
        let cfg = match unsafe { read_config(config) } {
            Ok(c) => c,
            Err(s) => return s,
        };
        match build(&cfg) {
            // SAFETY: forwarded caller guarantees on `mem`/`size`.
            Ok(obj) => unsafe { place(mem, size, obj) },
            Err(s) => s,
        }
    })
}

/// The body of every `pcl_X_new`: reads the config, builds the object on the heap.
///
/// # Safety
///
/// As [`read_config`] for `config`; `out` must be NULL or valid for one pointer write.
pub(crate) unsafe fn new_object<C: Config, T>(
    config: *const C,
    out: *mut *mut T,
    build: impl FnOnce(&C) -> Result<T, pcl_status>,
) -> pcl_status {
    boundary(|| {
        if out.is_null() {
            return pcl_status::NullArgument;
        }
        // SAFETY: forwarded caller guarantees.
        let cfg = match unsafe { read_config(config) } {
            Ok(c) => c,
            Err(s) => return s,
        };
        match build(&cfg) {
            // SAFETY: `out` is non-NULL and writable (contract).
            Ok(obj) => unsafe { new_boxed(out, obj) },
            Err(s) => s,
        }
    })
}

/// Writes `value` through `out`, or reports NULL.
///
/// # Safety
///
/// `out` must be NULL or valid for one write of `T`.
pub(crate) unsafe fn write_out<T>(out: *mut T, value: T) -> pcl_status {
    if out.is_null() {
        return pcl_status::NullArgument;
    }
    // SAFETY: non-NULL; the caller guarantees one valid write.
    unsafe { out.write(value) };
    pcl_status::Ok
}

/// Writes `value` through `out` unless `out` is NULL (an optional result).
///
/// # Safety
///
/// `out` must be NULL or valid for one write of `T`.
pub(crate) unsafe fn write_opt<T>(out: *mut T, value: T) {
    if !out.is_null() {
        // SAFETY: non-NULL; the caller guarantees one valid write.
        unsafe { out.write(value) };
    }
}

/// Reads a `bool` field of a config copied from C as the byte it is, so that a caller's byte
/// other than 0 or 1 is never read as a Rust `bool`: any non-zero byte is true.
///
/// # Safety
///
/// `field` must be valid for a one-byte read (`&raw const cfg.field` of a local config).
pub(crate) unsafe fn read_bool(field: *const bool) -> bool {
    // SAFETY: readable (contract); reads the byte behind the bool as a plain u8 (any value is a
    // valid u8), never as a Rust bool.
    unsafe { field.cast::<u8>().read() != 0 }
}

/// The `n` elements a C caller passed at `ptr` as a slice: empty for `n == 0` (whatever `ptr`),
/// `NullArgument` for a NULL `ptr` with `n > 0`, `InvalidArgument` for a `ptr` not aligned for
/// `T` or an `n` whose byte size no object can have (above `isize::MAX`).
///
/// # Safety
///
/// Unless NULL, `ptr` must be valid for reads of `n` elements of `T` (every bit pattern of which
/// is a valid `T`: plain integers), not written during the call.
pub(crate) unsafe fn read_slice<'a, T>(ptr: *const T, n: usize) -> Result<&'a [T], pcl_status> {
    if n == 0 {
        return Ok(&[]);
    }
    if ptr.is_null() {
        return Err(pcl_status::NullArgument);
    }
    let fits = n.checked_mul(size_of::<T>()).is_some_and(|b| isize::try_from(b).is_ok());
    if !ptr.is_aligned() || !fits {
        return Err(pcl_status::InvalidArgument);
    }
    // SAFETY: non-NULL, aligned, a size an object can have; the caller guarantees `n` readable
    // elements that stay unchanged during the call.
    Ok(unsafe { core::slice::from_raw_parts(ptr, n) })
}
