//! `window_ops`: random operation sequences against a count window and a time window through the
//! C ABI (`pcl_*_window_*`), checked after every step against a sequential reference model.
//!
//! Properties: every call returns one of the statuses its documentation lists; the counts equal
//! the model's exactly; `calls <= window size`, `failures <= calls`, `slow <= calls`; a NULL
//! window or output pointer gives `PCL_STATUS_NULL_ARGUMENT`; an invalid outcome code gives
//! `PCL_STATUS_INVALID_ARGUMENT` and changes nothing.
//!
//! Input: byte 0 picks the window kind; then the config; then one operation per 1 to 9 bytes.
use crate::Bytes;
use core::ffi::c_void;
use portcullis_ffi::status::pcl_status;
use portcullis_ffi::window::{
    PCL_COUNT_WINDOW_MAX_SIZE, PCL_OUTCOME_FAILURE, PCL_OUTCOME_SLOW_FAILURE,
    PCL_OUTCOME_SLOW_SUCCESS, PCL_OUTCOME_SUCCESS, PCL_TIME_WINDOW_MAX_BUCKETS, pcl_count_window,
    pcl_count_window_config_default, pcl_count_window_counts, pcl_count_window_free,
    pcl_count_window_new, pcl_count_window_record, pcl_count_window_reset, pcl_time_window,
    pcl_time_window_align, pcl_time_window_config_default, pcl_time_window_counts,
    pcl_time_window_init, pcl_time_window_record, pcl_time_window_reset, pcl_time_window_size,
    pcl_window_counts,
};
use std::alloc::Layout;

/// An outcome as the model sees it: (failed, slow).
fn decode_outcome(code: u32) -> Option<(bool, bool)> {
    match code {
        PCL_OUTCOME_SUCCESS => Some((false, false)),
        PCL_OUTCOME_FAILURE => Some((true, false)),
        PCL_OUTCOME_SLOW_SUCCESS => Some((false, true)),
        PCL_OUTCOME_SLOW_FAILURE => Some((true, true)),
        _ => None,
    }
}

/// What the model counts in a list of outcomes.
fn tally<'a>(outcomes: impl Iterator<Item = &'a (bool, bool)>) -> pcl_window_counts {
    let mut c = pcl_window_counts::default();
    for &(failed, slow) in outcomes {
        c.calls += 1;
        c.failures += u64::from(failed);
        c.slow += u64::from(slow);
    }
    c
}

/// The invariants every counts reading obeys, whatever the model says.
fn assert_bounded(c: pcl_window_counts, capacity: u64) {
    assert!(c.calls <= capacity, "{c:?} holds more than the window's {capacity}");
    assert!(c.failures <= c.calls && c.slow <= c.calls, "{c:?}: a subset exceeds the calls");
}

/// Runs one input.
pub fn check(data: &[u8]) {
    let mut b = Bytes::new(data);
    if b.u8().is_multiple_of(2) { check_count(&mut b) } else { check_time(&mut b) }
}

fn check_count(b: &mut Bytes<'_>) {
    let mut cfg = pcl_count_window_config_default();
    // Mostly valid sizes, with 0 and values past the maximum now and then.
    let raw = b.u16();
    cfg.window_size =
        if raw & 0x8000 != 0 { u32::from(raw & 0x7fff) } else { u32::from(raw % 64) + 1 };
    let mut w: *mut pcl_count_window = core::ptr::null_mut();
    // SAFETY: `cfg` is a valid config with a truthful `size`; `w` is writable.
    let st = unsafe { pcl_count_window_new(&cfg, &mut w) };
    let valid = (1..=PCL_COUNT_WINDOW_MAX_SIZE).contains(&cfg.window_size);
    if !valid {
        assert_eq!(st, pcl_status::InvalidWindowSize, "window_size {}", cfg.window_size);
        assert!(w.is_null(), "no window on error");
        return;
    }
    assert_eq!(st, pcl_status::Ok);
    assert!(!w.is_null());
    let size = usize::try_from(cfg.window_size).unwrap_or(usize::MAX);
    let mut model: Vec<(bool, bool)> = Vec::new();
    let mut ops = 0;
    while !b.is_empty() && ops < 4096 {
        ops += 1;
        let op = b.u8();
        match op % 8 {
            0..=4 => {
                let code = u32::from(b.u8() % 6);
                // SAFETY: `w` is live.
                let st = unsafe { pcl_count_window_record(w, code) };
                match decode_outcome(code) {
                    Some(o) => {
                        assert_eq!(st, pcl_status::Ok, "a sequential record is always counted");
                        model.push(o);
                    }
                    None => assert_eq!(st, pcl_status::InvalidArgument, "outcome {code}"),
                }
            }
            5 => {
                // SAFETY: `w` is live.
                assert_eq!(unsafe { pcl_count_window_reset(w) }, pcl_status::Ok);
                model.clear();
            }
            6 => {
                // NULL arguments are reported, never dereferenced.
                // SAFETY: NULL is allowed by the contract.
                unsafe {
                    assert_eq!(
                        pcl_count_window_record(core::ptr::null(), 1),
                        pcl_status::NullArgument
                    );
                    assert_eq!(
                        pcl_count_window_counts(w, core::ptr::null_mut()),
                        pcl_status::NullArgument
                    );
                    assert_eq!(pcl_count_window_reset(core::ptr::null()), pcl_status::NullArgument);
                }
            }
            _ => {} // a read only: reads happen after every step
        }
        let mut got = pcl_window_counts::default();
        // SAFETY: `w` is live; `got` is writable.
        assert_eq!(unsafe { pcl_count_window_counts(w, &mut got) }, pcl_status::Ok);
        assert_bounded(got, u64::from(cfg.window_size));
        let expected = tally(model.iter().rev().take(size));
        assert_eq!(got, expected, "count window of {size} after op {op}");
    }
    // SAFETY: `w` came from `pcl_count_window_new` and is not used afterwards.
    unsafe { pcl_count_window_free(w) };
}

/// The reference model of a time window: accepted outcomes with their epochs, and the newest
/// epoch any record reached (a reset keeps it, as the window does).
struct TimeModel {
    width: u64,
    buckets: u64,
    accepted: Vec<(u64, (bool, bool))>,
    newest: Option<u64>,
}

impl TimeModel {
    fn epoch(&self, now: u64) -> u64 {
        (now / self.width).min(u64::MAX - 1)
    }

    fn record(&mut self, o: (bool, bool), now: u64) -> bool {
        let e = self.epoch(now);
        if self.newest.is_some_and(|n| n.saturating_sub(e) >= self.buckets) {
            return false;
        }
        self.newest = Some(self.newest.map_or(e, |n| n.max(e)));
        self.accepted.push((e, o));
        true
    }

    fn counts(&self, now: u64) -> pcl_window_counts {
        let Some(newest) = self.newest else { return pcl_window_counts::default() };
        let e = self.epoch(now).max(newest);
        let k = self.buckets;
        tally(
            self.accepted
                .iter()
                .filter(|(re, _)| re.saturating_add(k) > e && *re <= e)
                .map(|(_, o)| o),
        )
    }
}

fn check_time(b: &mut Bytes<'_>) {
    let mut cfg = pcl_time_window_config_default();
    let raw_buckets = b.u8();
    let raw_width = b.u16();
    let (buckets, width) = if raw_buckets & 0x80 != 0 {
        // Arbitrary, often invalid: zero, too many buckets, a duration not divisible.
        (u32::from(raw_buckets & 0x7f) * 2, u64::from(raw_width))
    } else {
        (u32::from(raw_buckets % 16) + 1, u64::from(raw_width % 1000) + 1)
    };
    cfg.window_buckets = buckets;
    cfg.window_duration_ns =
        if raw_buckets & 0x80 != 0 { width } else { width * u64::from(buckets) };
    // Placed in caller memory of exactly the documented size and alignment.
    let layout = Layout::from_size_align(pcl_time_window_size(), pcl_time_window_align())
        .expect("documented layout");
    // SAFETY: non-zero size.
    let mem = unsafe { std::alloc::alloc(layout) };
    assert!(!mem.is_null());
    // SAFETY: `mem` is writable for `layout.size()` bytes; `cfg` is a valid config.
    let st = unsafe { pcl_time_window_init(mem.cast::<c_void>(), layout.size(), &cfg) };
    let d = cfg.window_duration_ns;
    let expected_status = if buckets == 0 || buckets > PCL_TIME_WINDOW_MAX_BUCKETS {
        pcl_status::InvalidWindowBuckets
    } else if d == 0 || !d.is_multiple_of(u64::from(buckets)) {
        pcl_status::InvalidWindowDuration
    } else {
        pcl_status::Ok
    };
    if st != pcl_status::Ok || expected_status != pcl_status::Ok {
        assert!(
            matches!(st, pcl_status::InvalidWindowBuckets | pcl_status::InvalidWindowDuration)
                && expected_status != pcl_status::Ok,
            "init returned {st:?} for buckets {buckets}, duration {d}; expected {expected_status:?}"
        );
        // SAFETY: allocated above with `layout`.
        unsafe { std::alloc::dealloc(mem, layout) };
        return;
    }
    let w = mem.cast::<pcl_time_window>().cast_const();
    let lap = d;
    let mut model = TimeModel {
        width: d / u64::from(buckets),
        buckets: u64::from(buckets),
        accepted: Vec::new(),
        newest: None,
    };
    // Start anywhere, including a few laps before the end of the clock.
    let mut now = match b.u8() % 4 {
        0 => u64::MAX - u64::from(b.u16()),
        _ => u64::from(b.u32()),
    };
    let mut ops = 0;
    while !b.is_empty() && ops < 4096 {
        ops += 1;
        let op = b.u8();
        match op % 10 {
            0..=3 => {
                let code = u32::from(b.u8() % 6);
                // SAFETY: `w` is live.
                let st = unsafe { pcl_time_window_record(w, code, now) };
                match decode_outcome(code) {
                    Some(o) => {
                        let counted = model.record(o, now);
                        let want = if counted { pcl_status::Ok } else { pcl_status::NotCounted };
                        assert_eq!(st, want, "record at {now}");
                    }
                    None => assert_eq!(st, pcl_status::InvalidArgument, "outcome {code}"),
                }
            }
            4 | 5 => now = now.saturating_add(u64::from(b.u16()) % (3 * model.width + 1)),
            6 => now = now.saturating_sub(u64::from(b.u16()) % (2 * lap + 1)),
            7 => {
                // Idle gaps of millions of laps, around the wrap of the bucket tags.
                let laps = (1u64 << (20 + b.u8() % 6)) + u64::from(b.u8() % 4);
                now = now.saturating_add(laps.saturating_mul(lap));
            }
            8 => {
                // SAFETY: `w` is live.
                assert_eq!(unsafe { pcl_time_window_reset(w) }, pcl_status::Ok);
                model.accepted.clear();
            }
            _ => {
                // SAFETY: NULL is allowed by the contract.
                unsafe {
                    assert_eq!(
                        pcl_time_window_record(core::ptr::null(), 1, now),
                        pcl_status::NullArgument
                    );
                    assert_eq!(
                        pcl_time_window_counts(w, now, core::ptr::null_mut()),
                        pcl_status::NullArgument
                    );
                }
            }
        }
        for at in [now, 0, now.saturating_add(model.width)] {
            let mut got = pcl_window_counts::default();
            // SAFETY: `w` is live; `got` is writable.
            assert_eq!(unsafe { pcl_time_window_counts(w, at, &mut got) }, pcl_status::Ok);
            assert_bounded(got, u64::MAX);
            assert_eq!(got, model.counts(at), "time window read at {at} after op {op} (now {now})");
        }
    }
    // SAFETY: `mem` was allocated with `layout`; the window holds no resources.
    unsafe { std::alloc::dealloc(mem, layout) };
}
