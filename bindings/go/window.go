package portcullis

/*
#include "portcullis.h"

// The count of a batch returned by value: no Go pointer but the batch itself is passed to C.
typedef struct {
	pcl_status status;
	size_t counted;
} pcl_go_counted;

static pcl_go_counted pcl_go_count_window_record_batch(const pcl_count_window *w,
                                                       const uint32_t *outcomes, size_t n) {
	pcl_go_counted r = {0};
	r.status = pcl_count_window_record_batch(w, outcomes, n, &r.counted);
	return r;
}
*/
import "C"

import (
	"runtime"
	"time"
	"unsafe"
)

// Outcome is the outcome of one call, as windows count it.
type Outcome uint32

// Outcomes.
const (
	Success     Outcome = C.PCL_OUTCOME_SUCCESS
	Failure     Outcome = C.PCL_OUTCOME_FAILURE
	SlowSuccess Outcome = C.PCL_OUTCOME_SLOW_SUCCESS
	SlowFailure Outcome = C.PCL_OUTCOME_SLOW_FAILURE
)

// WindowCounts is what a window holds: calls, failed calls, slow calls.
type WindowCounts struct {
	Calls, Failures, Slow uint64
}

func countsFromC(c C.pcl_window_counts) WindowCounts {
	return WindowCounts{Calls: uint64(c.calls), Failures: uint64(c.failures), Slow: uint64(c.slow)}
}

// CountWindow holds the last Size outcomes. Safe for concurrent use.
type CountWindow struct {
	p *C.pcl_count_window
}

// NewCountWindow makes a window of the last size outcomes (1..=1024).
func NewCountWindow(size uint32) (*CountWindow, error) {
	cfg := C.pcl_count_window_config_default()
	cfg.window_size = C.uint32_t(size)
	var p *C.pcl_count_window
	if err := check(C.pcl_count_window_new(&cfg, &p)); err != nil {
		return nil, err
	}
	w := &CountWindow{p: p}
	runtime.SetFinalizer(w, (*CountWindow).Close)
	return w, nil
}

// Close frees the window. Idempotent.
func (w *CountWindow) Close() error {
	if w.p != nil {
		C.pcl_count_window_free(w.p)
		w.p = nil
		runtime.SetFinalizer(w, nil)
	}
	return nil
}

// Record adds one outcome.
func (w *CountWindow) Record(o Outcome) error {
	if w.p == nil {
		return ErrClosed
	}
	err := check(C.pcl_count_window_record(w.p, C.uint32_t(o)))
	runtime.KeepAlive(w)
	return err
}

// RecordBatch adds outcomes in order in one cgo call and returns how many counted; one
// unknown outcome records nothing (ErrInvalidArgument).
func (w *CountWindow) RecordBatch(outcomes []Outcome) (int, error) {
	if w.p == nil {
		return 0, ErrClosed
	}
	if len(outcomes) == 0 {
		return 0, nil
	}
	// Outcome is a uint32_t: the slice's array is passed as it is (cgo pins it for the call).
	r := C.pcl_go_count_window_record_batch(w.p,
		(*C.uint32_t)(unsafe.Pointer(unsafe.SliceData(outcomes))), C.size_t(len(outcomes)))
	runtime.KeepAlive(w)
	runtime.KeepAlive(outcomes)
	return int(r.counted), check(r.status)
}

// Counts reads what the window holds.
func (w *CountWindow) Counts() (WindowCounts, error) {
	if w.p == nil {
		return WindowCounts{}, ErrClosed
	}
	var c C.pcl_window_counts
	err := check(C.pcl_count_window_counts(w.p, &c))
	runtime.KeepAlive(w)
	return countsFromC(c), err
}

// Reset empties the window.
func (w *CountWindow) Reset() error {
	if w.p == nil {
		return ErrClosed
	}
	err := check(C.pcl_count_window_reset(w.p))
	runtime.KeepAlive(w)
	return err
}

// TimeWindow holds the outcomes of the last Buckets buckets covering Duration. Safe for
// concurrent use.
type TimeWindow struct {
	p *C.pcl_time_window
}

// NewTimeWindow makes a window covering d with buckets buckets (1..=128); d must be a positive
// whole number of nanoseconds divisible by buckets.
func NewTimeWindow(d time.Duration, buckets uint32) (*TimeWindow, error) {
	if d <= 0 {
		return nil, ErrInvalidWindowDuration
	}
	cfg := C.pcl_time_window_config_default()
	cfg.window_duration_ns = C.uint64_t(d)
	cfg.window_buckets = C.uint32_t(buckets)
	var p *C.pcl_time_window
	if err := check(C.pcl_time_window_new(&cfg, &p)); err != nil {
		return nil, err
	}
	w := &TimeWindow{p: p}
	runtime.SetFinalizer(w, (*TimeWindow).Close)
	return w, nil
}

// Close frees the window. Idempotent.
func (w *TimeWindow) Close() error {
	if w.p != nil {
		C.pcl_time_window_free(w.p)
		w.p = nil
		runtime.SetFinalizer(w, nil)
	}
	return nil
}

// RecordAt adds one outcome observed at nowNs (a reading of Now). ErrNotCounted means the time is
// already outside the window.
func (w *TimeWindow) RecordAt(o Outcome, nowNs uint64) error {
	if w.p == nil {
		return ErrClosed
	}
	err := check(C.pcl_time_window_record(w.p, C.uint32_t(o), C.uint64_t(nowNs)))
	runtime.KeepAlive(w)
	return err
}

// Record adds one outcome observed now.
func (w *TimeWindow) Record(o Outcome) error { return w.RecordAt(o, Now()) }

// CountsAt reads what the window holds at nowNs.
func (w *TimeWindow) CountsAt(nowNs uint64) (WindowCounts, error) {
	if w.p == nil {
		return WindowCounts{}, ErrClosed
	}
	var c C.pcl_window_counts
	err := check(C.pcl_time_window_counts(w.p, C.uint64_t(nowNs), &c))
	runtime.KeepAlive(w)
	return countsFromC(c), err
}

// Counts reads what the window holds now.
func (w *TimeWindow) Counts() (WindowCounts, error) { return w.CountsAt(Now()) }

// Reset empties the window.
func (w *TimeWindow) Reset() error {
	if w.p == nil {
		return ErrClosed
	}
	err := check(C.pcl_time_window_reset(w.p))
	runtime.KeepAlive(w)
	return err
}
