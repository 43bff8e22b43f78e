//! The C decision paths allocate nothing: a per-thread counting allocator around every window
//! call made through the C ABI (construction in caller memory included; only `_new` allocates).

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::mem::MaybeUninit;

use portcullis_ffi::status::pcl_status;
use portcullis_ffi::window::*;

thread_local! {
    static ARMED: Cell<bool> = const { Cell::new(false) };
    static ALLOCATIONS: Cell<usize> = const { Cell::new(0) };
}

struct Counting;

// SAFETY: forwards to `System`; counting touches no memory handed out.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        if ARMED.with(Cell::get) {
            ALLOCATIONS.with(|n| n.set(n.get() + 1));
        }
        // SAFETY: forwarded with the caller's layout.
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: `ptr` came from `System.alloc` with this layout.
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

fn allocations_in(f: impl FnOnce()) -> usize {
    let before = ALLOCATIONS.with(Cell::get);
    ARMED.with(|a| a.set(true));
    f();
    ARMED.with(|a| a.set(false));
    ALLOCATIONS.with(Cell::get) - before
}

#[repr(C, align(128))]
struct Storage<const N: usize>([u8; N]);

#[test]
fn positive_control() {
    assert_eq!(allocations_in(|| drop(std::hint::black_box(vec![1u8; 8]))), 1);
}

#[test]
fn window_calls_through_the_c_abi_never_allocate() {
    let mut count_mem = Box::new(MaybeUninit::<Storage<PCL_COUNT_WINDOW_SIZE>>::uninit());
    let mut time_mem = Box::new(MaybeUninit::<Storage<PCL_TIME_WINDOW_SIZE>>::uninit());
    let n = allocations_in(|| {
        let ccfg = pcl_count_window_config_default();
        let tcfg = pcl_time_window_config_default();
        // SAFETY: the memory blocks are large enough, aligned, and outlive every use below.
        unsafe {
            let cm = count_mem.as_mut_ptr().cast();
            let tm = time_mem.as_mut_ptr().cast();
            assert_eq!(
                pcl_count_window_init(cm, PCL_COUNT_WINDOW_SIZE, &raw const ccfg),
                pcl_status::Ok
            );
            assert_eq!(
                pcl_time_window_init(tm, PCL_TIME_WINDOW_SIZE, &raw const tcfg),
                pcl_status::Ok
            );
            let cw = cm.cast::<pcl_count_window>().cast_const();
            let tw = tm.cast::<pcl_time_window>().cast_const();
            let mut counts = pcl_window_counts::default();
            for i in 0..50_000u32 {
                let outcome = 1 + i % 4;
                let _ = pcl_count_window_record(cw, outcome);
                let _ = pcl_count_window_counts(cw, &raw mut counts);
                let _ = pcl_time_window_record(tw, outcome, u64::from(i) * 1_000_000);
                let _ = pcl_time_window_record_now(tw, outcome);
                let _ = pcl_time_window_counts(tw, u64::from(i) * 1_000_000, &raw mut counts);
                let _ = pcl_time_window_counts_now(tw, &raw mut counts);
                let _ = pcl_count_window_record(cw, 99); // invalid: an error path
                let _ = pcl_count_window_record(core::ptr::null(), 1); // NULL: an error path
            }
            let _ = pcl_count_window_reset(cw);
            let _ = pcl_time_window_reset(tw);
        }
    });
    assert_eq!(n, 0);
}

#[test]
#[allow(clippy::too_many_lines, reason = "one straight walk over every decision path")]
fn breaker_limiter_and_retry_calls_through_the_c_abi_never_allocate() {
    use portcullis_ffi::breaker::*;
    use portcullis_ffi::limiter::*;
    use portcullis_ffi::retry::*;

    let mut breaker_mem = Box::new(MaybeUninit::<Storage<PCL_BREAKER_SIZE>>::uninit());
    let mut time_breaker_mem = Box::new(MaybeUninit::<Storage<PCL_BREAKER_SIZE>>::uninit());
    let mut limiter_mem = Box::new(MaybeUninit::<Storage<PCL_LIMITER_SIZE>>::uninit());
    let mut policy_mem = Box::new(MaybeUninit::<Storage<PCL_RETRY_POLICY_SIZE>>::uninit());
    let mut throttle_mem = Box::new(MaybeUninit::<Storage<PCL_RETRY_THROTTLE_SIZE>>::uninit());
    let mut ratio_mem = Box::new(MaybeUninit::<Storage<PCL_RETRY_RATIO_BUDGET_SIZE>>::uninit());
    let n = allocations_in(|| {
        let mut count_cfg = pcl_breaker_config_default();
        count_cfg.consecutive_failures = 3;
        count_cfg.failure_rate_ppm = 500_000;
        count_cfg.min_calls = 10;
        count_cfg.open_duration_ns = 1_000_000;
        count_cfg.max_open_duration_ns = 4_000_000;
        let mut time_cfg = count_cfg;
        time_cfg.window_kind = PCL_BREAKER_WINDOW_TIME;
        let lcfg = pcl_limiter_config_default();
        let policy_cfg = pcl_retry_config_default();
        let throttle_cfg = pcl_retry_throttle_config_default();
        let ratio_cfg = pcl_retry_ratio_budget_config_default();
        // SAFETY: the memory blocks are large enough, aligned, and outlive every use below.
        unsafe {
            let bm = breaker_mem.as_mut_ptr().cast();
            let tbm = time_breaker_mem.as_mut_ptr().cast();
            let lm = limiter_mem.as_mut_ptr().cast();
            let pm = policy_mem.as_mut_ptr().cast();
            let thm = throttle_mem.as_mut_ptr().cast();
            let rbm = ratio_mem.as_mut_ptr().cast();
            assert_eq!(
                pcl_breaker_init(bm, PCL_BREAKER_SIZE, &raw const count_cfg),
                pcl_status::Ok
            );
            assert_eq!(
                pcl_breaker_init(tbm, PCL_BREAKER_SIZE, &raw const time_cfg),
                pcl_status::Ok
            );
            assert_eq!(pcl_limiter_init(lm, PCL_LIMITER_SIZE, &raw const lcfg), pcl_status::Ok);
            assert_eq!(
                pcl_retry_policy_init(pm, PCL_RETRY_POLICY_SIZE, &raw const policy_cfg),
                pcl_status::Ok
            );
            assert_eq!(
                pcl_retry_throttle_init(thm, PCL_RETRY_THROTTLE_SIZE, &raw const throttle_cfg),
                pcl_status::Ok
            );
            assert_eq!(
                pcl_retry_ratio_budget_init(rbm, PCL_RETRY_RATIO_BUDGET_SIZE, &raw const ratio_cfg),
                pcl_status::Ok
            );
            let breakers = [bm.cast::<pcl_breaker>().cast_const(), tbm.cast_const().cast()];
            let l = lm.cast::<pcl_limiter>().cast_const();
            let p = pm.cast::<pcl_retry_policy>().cast_const();
            let th = thm.cast::<pcl_retry_throttle>().cast_const();
            let rb = rbm.cast::<pcl_retry_ratio_budget>().cast_const();
            let mut permit = pcl_breaker_permit::default();
            let mut stats = pcl_breaker_stats::default();
            let mut lstats = pcl_limiter_stats::default();
            let mut res = pcl_limiter_reservation::default();
            let (mut after, mut t, mut st) = (0u64, 0u32, 0u32);
            for i in 0..20_000u64 {
                let now = i * 100_000;
                // Runs of 50 failures and 50 successes: the breakers trip, open, probe and close.
                let outcome = if (i / 50) % 2 == 0 { 2 } else { 1 };
                for &b in &breakers {
                    if pcl_breaker_try_acquire(b, now, &raw mut permit, &raw mut after)
                        == pcl_status::Ok
                    {
                        let _ = pcl_breaker_record(b, &raw const permit, outcome, now, &raw mut t);
                    }
                    let _ = pcl_breaker_try_acquire_now(b, &raw mut permit, core::ptr::null_mut());
                    let _ = pcl_breaker_ignore(b, &raw const permit);
                    let _ = pcl_breaker_state(b, &raw mut st);
                    let _ = pcl_breaker_snapshot(b, now, &raw mut stats);
                    let _ = pcl_breaker_record(b, &raw const permit, 99, now, &raw mut t);
                }
                let _ = pcl_limiter_try_acquire(l, 1 + i % 3, now, &raw mut after);
                let _ = pcl_limiter_try_acquire(l, 1_000, now, &raw mut after);
                let _ = pcl_limiter_try_acquire_now(l, 1, core::ptr::null_mut());
                let _ = pcl_limiter_wait_time(l, 2, now, &raw mut after);
                if pcl_limiter_reserve(l, 1, now, 1_000_000_000, &raw mut res) == pcl_status::Ok {
                    let _ = pcl_limiter_cancel(l, &raw const res, now);
                }
                let _ = pcl_limiter_snapshot(l, now, &raw mut lstats);
                let mut call = pcl_retry_state::default();
                let _ = pcl_retry_state_init(p, now, u64::MAX, i, &raw mut call);
                let _ =
                    pcl_retry_decide(p, &raw mut call, PCL_RETRY_RETRYABLE, 0, now, &raw mut after);
                let _ = pcl_retry_decide_throttled(
                    p,
                    &raw mut call,
                    PCL_RETRY_RETRYABLE_AFTER,
                    5,
                    now,
                    th,
                    &raw mut after,
                );
                let _ = pcl_retry_decide_budgeted(
                    p,
                    &raw mut call,
                    PCL_RETRY_RETRYABLE,
                    0,
                    now,
                    rb,
                    &raw mut after,
                );
                let _ = pcl_retry_decide(p, &raw mut call, 42, 0, now, &raw mut after);
                let _ = pcl_retry_throttle_record_success(th);
                let _ = pcl_retry_ratio_budget_record_request(rb, now);
                let _ = pcl_retry_ratio_budget_try_withdraw(rb, now);
            }
            let _ = pcl_limiter_reconfigure(l, 50, 0, 10, 0);
            for &b in &breakers {
                // The trip, half-open and close paths were all taken.
                let _ = pcl_breaker_snapshot(b, 0, &raw mut stats);
                assert!(stats.times_tripped > 1, "{stats:?}");
                let _ = pcl_breaker_force_open(b, &raw mut st);
                let _ = pcl_breaker_metrics_only(b, &raw mut st);
                let _ = pcl_breaker_disable(b, core::ptr::null_mut());
                let _ = pcl_breaker_force_close(b, &raw mut st);
                let _ = pcl_breaker_reset(b, &raw mut st);
            }
        }
    });
    assert_eq!(n, 0);
}

#[test]
fn histogram_and_hedge_calls_through_the_c_abi_never_allocate() {
    use portcullis_ffi::hedge::*;

    let mut histogram_mem = Box::new(MaybeUninit::<Storage<PCL_HISTOGRAM_SIZE>>::uninit());
    let mut hedge_mem = Box::new(MaybeUninit::<Storage<PCL_HEDGE_POLICY_SIZE>>::uninit());
    let n = allocations_in(|| {
        let mut cfg = pcl_hedge_config_default();
        cfg.min_samples = 10;
        // SAFETY: the memory blocks are large enough, aligned, and outlive every use below.
        unsafe {
            let hm = histogram_mem.as_mut_ptr().cast();
            let pm = hedge_mem.as_mut_ptr().cast();
            assert_eq!(pcl_histogram_init(hm, PCL_HISTOGRAM_SIZE), pcl_status::Ok);
            assert_eq!(
                pcl_hedge_policy_init(pm, PCL_HEDGE_POLICY_SIZE, &raw const cfg),
                pcl_status::Ok
            );
            let h = hm.cast::<pcl_histogram>().cast_const();
            let p = pm.cast::<pcl_hedge_policy>().cast_const();
            let (mut v, mut delay) = (0u64, 0u64);
            for i in 0..20_000u64 {
                let now = i * 1_000_000;
                let _ = pcl_histogram_record(h, i % 1_000 * 1_000);
                let _ = pcl_histogram_percentile(h, 990_000, &raw mut v);
                let _ = pcl_histogram_count(h, &raw mut v);
                let _ = pcl_hedge_policy_on_call(p);
                let _ = pcl_hedge_policy_record_latency(p, i % 100 * 100_000, now);
                let _ = pcl_hedge_policy_decide(p, 0, now, now + 5_000_000, &raw mut delay);
                let _ = pcl_hedge_policy_decide(p, 0, now, PCL_NO_DEADLINE, &raw mut delay);
                let _ = pcl_hedge_policy_try_launch(p, 0);
                let _ = pcl_hedge_policy_try_launch(p, 1);
            }
            let _ = pcl_histogram_reset(h);
        }
    });
    assert_eq!(n, 0);
}

#[test]
fn adaptive_calls_through_the_c_abi_never_allocate() {
    use portcullis_ffi::adaptive::*;
    use portcullis_ffi::bulkhead::*;

    let mut aimd_mem = Box::new(MaybeUninit::<Storage<PCL_AIMD_SIZE>>::uninit());
    let mut gradient_mem = Box::new(MaybeUninit::<Storage<PCL_GRADIENT_SIZE>>::uninit());
    let mut bulkhead_mem = Box::new(MaybeUninit::<Storage<PCL_BULKHEAD_SIZE>>::uninit());
    let n = allocations_in(|| {
        let acfg = pcl_aimd_config_default();
        let gcfg = pcl_gradient_config_default();
        let bcfg = pcl_bulkhead_config_default();
        // SAFETY: the memory blocks are large enough, aligned, and outlive every use below.
        unsafe {
            let am = aimd_mem.as_mut_ptr().cast();
            let gm = gradient_mem.as_mut_ptr().cast();
            let bm = bulkhead_mem.as_mut_ptr().cast();
            assert_eq!(pcl_aimd_init(am, PCL_AIMD_SIZE, &raw const acfg), pcl_status::Ok);
            assert_eq!(pcl_gradient_init(gm, PCL_GRADIENT_SIZE, &raw const gcfg), pcl_status::Ok);
            assert_eq!(pcl_bulkhead_init(bm, PCL_BULKHEAD_SIZE, &raw const bcfg), pcl_status::Ok);
            let a = am.cast::<pcl_aimd>().cast_const();
            let g = gm.cast::<pcl_gradient>().cast_const();
            let b = bm.cast::<pcl_bulkhead>().cast_const();
            let (mut limit, mut changed) = (0u32, false);
            for i in 0..20_000u64 {
                let rtt = (i % 200) * 1_000_000;
                let dropped = i % 97 == 0;
                let _ = pcl_aimd_record(a, rtt, 10, dropped, &raw mut changed);
                let _ = pcl_aimd_feed(a, b, rtt, 10, dropped, &raw mut limit);
                let _ = pcl_gradient_record(g, rtt, 20, dropped, &raw mut changed);
                let _ = pcl_gradient_feed(g, b, rtt, 20, dropped, &raw mut limit);
                let _ = pcl_aimd_limit(a, &raw mut limit);
                let _ = pcl_gradient_limit(g, &raw mut limit);
            }
        }
    });
    assert_eq!(n, 0);
}
