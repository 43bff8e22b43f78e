//! A second Rust static library that, like libportcullis, uses std (formatting, a panic boundary
//! and a heap allocation), so that its copy of std's symbols meets portcullis's at link time.

use std::panic::catch_unwind;

/// Returns the length of a formatted string, computed on the heap behind a panic boundary.
#[unsafe(no_mangle)]
pub extern "C" fn second_lib_answer() -> u32 {
    catch_unwind(|| u32::try_from(format!("{}-{}", 40, 2).len()).unwrap_or(0)).unwrap_or(0)
}
