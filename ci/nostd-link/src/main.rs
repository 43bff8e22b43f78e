//! Calls the windows of a core built without `std` and `alloc`, and exits 0 only if they count
//! as documented. Any `std` or `alloc` in the core makes this fail to build (a second
//! `panic_impl` lang item, or a missing `#[global_allocator]`).
#![no_std]
#![no_main]

use core::panic::PanicInfo;
use portcullis::Nanos;
use portcullis::deadline::decode_grpc_timeout;
use portcullis::window::{CountWindow, Outcome, TimeWindow};

/// Statics: no allocator exists, and the windows' constructors are `const`.
static COUNT: CountWindow<4> = CountWindow::new();

/// The C entry point, called by `crt1.o`.
#[unsafe(no_mangle)]
pub extern "C" fn main(_argc: i32, _argv: *const *const u8) -> i32 {
    for o in [
        Outcome::Success,
        Outcome::Failure,
        Outcome::SlowFailure,
        Outcome::Success,
        Outcome::Failure,
    ] {
        COUNT.record(o);
    }
    let c = COUNT.counts();
    // The first success was evicted: 4 calls, 3 failures... of which the last four are
    // Failure, SlowFailure, Success, Failure.
    if (c.calls, c.failures, c.slow) != (4, 3, 1) {
        return 1;
    }
    let Ok(time) = TimeWindow::<4>::new(Nanos::from_millis(400)) else { return 2 };
    time.record(Outcome::Failure, Nanos::from_millis(10));
    if time.counts(Nanos::from_millis(500)).calls != 0
        || time.counts(Nanos::from_millis(399)).calls != 1
    {
        return 3;
    }
    match decode_grpc_timeout(b"250m") {
        Ok(t) if t == Nanos::from_millis(250) => 0,
        _ => 4,
    }
}

#[panic_handler]
fn panic(_: &PanicInfo<'_>) -> ! {
    loop {}
}
