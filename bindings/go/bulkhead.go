package portcullis

// #include "portcullis.h"
import "C"

import (
	"context"
	"runtime"
	"time"
)

// Bulkhead bounds how many calls run at once: a semaphore of permits. Safe for concurrent use.
type Bulkhead struct {
	p *C.pcl_bulkhead
}

// BulkheadStats are a bulkhead's counters.
type BulkheadStats struct {
	Admitted, Rejected, OverReleases uint64
	InFlight, Limit, Available       uint32
	Shadow                           bool
}

// NewBulkhead makes a bulkhead of limit permits (0..=8388607).
func NewBulkhead(limit uint32) (*Bulkhead, error) {
	cfg := C.pcl_bulkhead_config_default()
	cfg.limit = C.uint32_t(limit)
	var p *C.pcl_bulkhead
	if err := check(C.pcl_bulkhead_new(&cfg, &p)); err != nil {
		return nil, err
	}
	b := &Bulkhead{p: p}
	runtime.SetFinalizer(b, (*Bulkhead).Close)
	return b, nil
}

// Close frees the bulkhead. Idempotent; must not race with other calls.
func (b *Bulkhead) Close() error {
	if b.p != nil {
		C.pcl_bulkhead_free(b.p)
		b.p = nil
		runtime.SetFinalizer(b, nil)
	}
	return nil
}

// TryAcquire takes n permits, all or nothing, without waiting: ErrNoPermits when not enough are
// free, ErrExceedsCapacity when n is above the limit. Release them with Release(n).
func (b *Bulkhead) TryAcquire(n uint32) error {
	if b.p == nil {
		return ErrClosed
	}
	err := check(C.pcl_bulkhead_try_acquire(b.p, C.uint32_t(n)))
	runtime.KeepAlive(b)
	return err
}

// Acquire takes n permits, waiting until they are free, the context is done, or the context's
// deadline would pass. It waits in slices of at most 10 ms inside the C library (parking, no
// spinning) and checks the context between slices.
func (b *Bulkhead) Acquire(ctx context.Context, n uint32) error {
	if ctx == nil {
		return ErrNilContext
	}
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		slice := 10 * time.Millisecond
		if d, ok := ctx.Deadline(); ok {
			left := time.Until(d)
			if left <= 0 {
				return context.DeadlineExceeded
			}
			if left < slice {
				slice = left
			}
		}
		if b.p == nil {
			return ErrClosed
		}
		err := check(C.pcl_bulkhead_acquire_timeout(b.p, C.uint32_t(n), C.uint64_t(slice)))
		runtime.KeepAlive(b)
		if err != ErrNoPermits {
			return err
		}
	}
}

// Release gives n permits back. ErrOverRelease when more than are out: nothing is released.
func (b *Bulkhead) Release(n uint32) error {
	if b.p == nil {
		return ErrClosed
	}
	err := check(C.pcl_bulkhead_release(b.p, C.uint32_t(n)))
	runtime.KeepAlive(b)
	return err
}

// Resize changes the limit; permits out above it stay out until released.
func (b *Bulkhead) Resize(limit uint32) error {
	if b.p == nil {
		return ErrClosed
	}
	err := check(C.pcl_bulkhead_resize(b.p, C.uint32_t(limit)))
	runtime.KeepAlive(b)
	return err
}

// Stats reads the counters.
func (b *Bulkhead) Stats() (BulkheadStats, error) {
	if b.p == nil {
		return BulkheadStats{}, ErrClosed
	}
	var s C.pcl_bulkhead_stats
	err := check(C.pcl_bulkhead_snapshot(b.p, &s))
	runtime.KeepAlive(b)
	return BulkheadStats{
		Admitted: uint64(s.admitted), Rejected: uint64(s.rejected), OverReleases: uint64(s.over_releases),
		InFlight: uint32(s.in_flight), Limit: uint32(s.limit), Available: uint32(s.available), Shadow: bool(s.shadow),
	}, err
}
