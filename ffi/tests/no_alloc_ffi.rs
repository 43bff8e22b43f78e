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
