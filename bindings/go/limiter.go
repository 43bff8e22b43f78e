package portcullis

/*
#include "portcullis.h"

// One permit decision at the precise or the coarse clock, read inside the one cgo call.
static pcl_status pcl_go_limiter_acquire_now(const pcl_limiter *l, uint64_t n, int coarse) {
	return pcl_limiter_try_acquire(l, n, coarse ? pcl_now_coarse_ns() : pcl_now_ns(), NULL);
}
*/
import "C"

import (
	"context"
	"errors"
	"fmt"
	"math"
	"math/bits"
	"runtime"
	"sync/atomic"
	"time"
	"unsafe"
)

// LimiterConfig configures a Limiter (a GCRA rate limiter on one atomic word; semantics in
// docs/semantics/rate-limiter.md). The rate is RatePerSecond when it is non-zero, else one
// permit every Interval.
type LimiterConfig struct {
	RatePerSecond uint64        // permits per second, 1..=10^9; 0 to use Interval
	Interval      time.Duration // one permit every Interval, when RatePerSecond is 0
	Burst         uint64        // the most permits available at once, >= 1
	StartEmpty    bool          // start with no permits (default: full)
	Counting      bool          // count admitted and refused decisions in LimiterStats
	Shadow        bool          // decide and count, but always admit
	// CoarseClock makes Allow read NowCoarse (CLOCK_MONOTONIC_COARSE: a few ns, but 1-4 ms
	// resolution) instead of Now (CLOCK_MONOTONIC): permits then become available up to one
	// tick of that clock late, never early, so the limiter never admits more than its rate.
	// The coarse clock is read in C, so Allow then makes a cgo call: it costs more than Allow
	// with the precise clock, which is read and decided in Go.
	CoarseClock bool
}

// Limiter is a rate limiter with the shape of golang.org/x/time/rate's Limiter: Allow, AllowN,
// Reserve and Wait. Safe for concurrent use; Close must not race with other calls.
type Limiter struct {
	p      *C.pcl_limiter
	coarse C.int
	// The limiter's state word and its four configuration words in C memory
	// (pcl_limiter_state_word): AcquireAt, AllowN and Allow (with the precise clock) decide on
	// them in Go, exactly as the C library does, without a cgo call. nil for a limiter with
	// counting or shadow mode, whose decisions the C library makes.
	state  *uint64
	slots  *[4]uint64
	origin uint64
}

// NewLimiter makes a limiter of ratePerSecond permits per second with burst permits at most
// available at once, starting full.
func NewLimiter(ratePerSecond, burst uint64) (*Limiter, error) {
	return NewLimiterConfig(LimiterConfig{RatePerSecond: ratePerSecond, Burst: burst})
}

// NewLimiterConfig makes a limiter; an invalid field is reported by its own error
// (ErrInvalidLimiter...). Its clock starts at Now().
func NewLimiterConfig(cfg LimiterConfig) (*Limiter, error) {
	return newLimiter(cfg, Now())
}

// newLimiter makes a limiter whose clock starts at originNs (tests drive a virtual clock).
func newLimiter(cfg LimiterConfig, originNs uint64) (*Limiter, error) {
	if cfg.Interval < 0 {
		return nil, ErrInvalidLimiterInterval
	}
	c := C.pcl_limiter_config_default()
	c.rate_per_second = C.uint64_t(cfg.RatePerSecond)
	c.interval_ns = nanos(cfg.Interval)
	c.burst = C.uint64_t(cfg.Burst)
	c.origin_ns = C.uint64_t(originNs)
	if cfg.StartEmpty {
		c.start = C.PCL_LIMITER_START_EMPTY
	} else {
		c.start = C.PCL_LIMITER_START_FULL
	}
	c.counting = C.bool(cfg.Counting)
	c.shadow = C.bool(cfg.Shadow)
	var p *C.pcl_limiter
	if err := check(C.pcl_limiter_new(&c, &p)); err != nil {
		return nil, err
	}
	l := &Limiter{p: p}
	if cfg.CoarseClock {
		l.coarse = 1
	}
	var w C.pcl_limiter_words
	if C.pcl_limiter_state_word(p, &w) == C.PCL_STATUS_OK && !bool(w.counting) && !bool(w.shadow) {
		// C memory, freed only by Close: not Go pointers, never moved.
		l.state = (*uint64)(unsafe.Pointer(w.state))
		l.slots = (*[4]uint64)(unsafe.Pointer(w.slots))
		l.origin = uint64(w.origin_ns)
	}
	runtime.SetFinalizer(l, (*Limiter).Close)
	return l, nil
}

// Close frees the limiter. Idempotent; every later call returns ErrClosed (or false).
func (l *Limiter) Close() error {
	if l.p != nil {
		l.state, l.slots = nil, nil
		C.pcl_limiter_free(l.p)
		l.p = nil
		runtime.SetFinalizer(l, nil)
	}
	return nil
}

// The instant Go's monotonic clock and the C library's clock were read together, to place a
// time.Time on the C library's clock (both are CLOCK_MONOTONIC on Linux; the pair is read once).
var (
	epochTime = time.Now()
	epochNs   = Now()
)

// NanosOf places t on the clock of Now(): exact for times from time.Now() (their monotonic
// readings are compared); for times without a monotonic reading, their wall-clock distance
// from the package's start is used. Times before the clock's zero give 0.
func NanosOf(t time.Time) uint64 {
	d := t.Sub(epochTime)
	if d < 0 && uint64(-d) > epochNs {
		return 0
	}
	return uint64(int64(epochNs) + int64(d))
}

// count converts a Go permit count; ok is false for a negative one.
func count(n int) (C.uint64_t, bool) {
	if n < 0 {
		return 0, false
	}
	return C.uint64_t(n), true
}

// The layout of the state word (pcl_limiter_state_word).
const (
	wordTatMask         = uint64(C.PCL_LIMITER_WORD_TAT_MASK)
	wordGenerationShift = C.PCL_LIMITER_WORD_GENERATION_SHIFT
	wordGenerationMask  = uint64(C.PCL_LIMITER_WORD_GENERATION_MASK)
	maxRelativeNow      = uint64(C.PCL_LIMITER_MAX_RELATIVE_NOW_NS)
)

// acquireWord is pcl_limiter_try_acquire(n, nowNs) decided in Go on the limiter's words, by the
// procedure pcl_limiter_state_word documents (GCRA: admit iff max(tat, now) + n*interval - now
// <= interval*burst, then move tat there by one CAS). Go's atomics are sequentially consistent:
// at least the acquire loads and release CAS the procedure asks for, in program order.
func acquireWord(state *uint64, slots *[4]uint64, origin, n, nowNs uint64) C.pcl_status {
	if n == 0 {
		return C.PCL_STATUS_OK
	}
	var rel uint64 // nowNs relative to the origin, clamped to the range the word tells apart
	if nowNs > origin {
		rel = min(nowNs-origin, maxRelativeNow)
	}
	word := atomic.LoadUint64(state)
	for {
		// Both slots are loaded and the one of word's generation taken, as the C library does.
		e0, e1 := atomic.LoadUint64(&slots[0]), atomic.LoadUint64(&slots[1])
		o0, o1 := atomic.LoadUint64(&slots[2]), atomic.LoadUint64(&slots[3])
		interval, span := e0, e1
		if word>>wordGenerationShift&1 != 0 {
			interval, span = o0, o1
		}
		refusal := C.pcl_status(C.PCL_STATUS_EXCEEDS_CAPACITY)
		if hi, cost := bits.Mul64(n, interval); hi == 0 && cost <= span {
			// tat < 2^60 and cost <= span <= 2^56: no overflow.
			newTat := max(word&wordTatMask, rel) + cost
			if newTat-rel <= span {
				// Only tat changes; the generation and the reconfiguration bit are kept.
				if atomic.CompareAndSwapUint64(state, word, word&^wordTatMask|newTat) {
					return C.PCL_STATUS_OK
				}
				word = atomic.LoadUint64(state)
				continue
			}
			refusal = C.PCL_STATUS_RATE_LIMITED
		}
		// A refusal stands unless a reconfiguration completed since word was read: the slot
		// loads may then have seen it rewrite the slot. Decide again on the new word.
		again := atomic.LoadUint64(state)
		if (again^word)>>wordGenerationShift&wordGenerationMask == 0 {
			return refusal
		}
		word = again
	}
}

// Allow takes one permit now if it is available (now: see LimiterConfig.CoarseClock). With the
// precise clock it is decided in Go on the limiter's state word, reading CLOCK_MONOTONIC
// through the Go runtime, with no cgo call; with the coarse clock, counting or shadow mode it
// calls the C library.
func (l *Limiter) Allow() bool {
	if s := l.state; s != nil && l.coarse == 0 {
		ok := acquireWord(s, l.slots, l.origin, 1, uint64(nanotime())) == C.PCL_STATUS_OK
		runtime.KeepAlive(l) // the words stay valid until the decision is done
		return ok
	}
	if l.p == nil {
		return false
	}
	s := C.pcl_go_limiter_acquire_now(l.p, 1, l.coarse)
	runtime.KeepAlive(l)
	return s == C.PCL_STATUS_OK
}

// AllowN takes n permits at now, all or nothing, if they are available. A negative n, n above
// the burst and a closed limiter are never allowed (AcquireAt tells them apart).
func (l *Limiter) AllowN(now time.Time, n int) bool {
	return l.AcquireAt(NanosOf(now), n) == nil
}

// AcquireAt takes n permits at nowNs (a Now reading), all or nothing: nil, ErrRateLimited
// (nothing taken; see WaitTime), ErrExceedsCapacity (n above the burst: never admissible),
// ErrInvalidArgument (negative n) or ErrClosed. Decided in Go on the limiter's state word, as
// Allow, unless the limiter counts or is in shadow mode.
func (l *Limiter) AcquireAt(nowNs uint64, n int) error {
	cn, ok := count(n)
	if !ok {
		return ErrInvalidArgument
	}
	if s := l.state; s != nil {
		st := acquireWord(s, l.slots, l.origin, uint64(cn), nowNs)
		runtime.KeepAlive(l)
		return check(st)
	}
	return l.acquireC(uint64(cn), nowNs)
}

// acquireC is AcquireAt decided by the C library.
func (l *Limiter) acquireC(n, nowNs uint64) error {
	if l.p == nil {
		return ErrClosed
	}
	err := check(C.pcl_limiter_try_acquire(l.p, C.uint64_t(n), C.uint64_t(nowNs), nil))
	runtime.KeepAlive(l)
	return err
}

// WaitTimeAt is how long from nowNs until n permits fit (0: now), taking nothing.
func (l *Limiter) WaitTimeAt(nowNs uint64, n int) (time.Duration, error) {
	cn, ok := count(n)
	if !ok {
		return 0, ErrInvalidArgument
	}
	if l.p == nil {
		return 0, ErrClosed
	}
	var w C.uint64_t
	err := check(C.pcl_limiter_wait_time(l.p, cn, C.uint64_t(nowNs), &w))
	runtime.KeepAlive(l)
	return durationOf(uint64(w)), err
}

func durationOf(ns uint64) time.Duration {
	if ns > math.MaxInt64 {
		return time.Duration(math.MaxInt64)
	}
	return time.Duration(ns)
}

// Reservation holds permits taken now for a later time, as golang.org/x/time/rate's
// Reservation: use them after Delay, or give them back with Cancel.
type Reservation struct {
	l  *Limiter
	c  C.pcl_limiter_reservation
	ok bool
}

// OK reports whether the permits were reserved (false: n above the burst, negative, beyond the
// wait allowed, or a closed limiter).
func (r *Reservation) OK() bool { return r.ok }

// ReadyAt is the instant (on the clock of Now) from which the permits may be used.
func (r *Reservation) ReadyAt() uint64 { return uint64(r.c.ready_at_ns) }

// DelayFrom is how long after nowNs the permits may be used (0: now).
func (r *Reservation) DelayFrom(nowNs uint64) time.Duration {
	if !r.ok || uint64(r.c.ready_at_ns) <= nowNs {
		return 0
	}
	return durationOf(uint64(r.c.ready_at_ns) - nowNs)
}

// Delay is DelayFrom(Now()).
func (r *Reservation) Delay() time.Duration { return r.DelayFrom(Now()) }

// CancelAt gives the permits back at nowNs if nothing was taken after them and they are not
// valid yet; otherwise ErrNotCancelled (they stay taken). Cancelling twice is ErrNotCancelled.
func (r *Reservation) CancelAt(nowNs uint64) error {
	if !r.ok {
		return ErrNotCancelled
	}
	if r.l.p == nil {
		return ErrClosed
	}
	err := check(C.pcl_limiter_cancel(r.l.p, &r.c, C.uint64_t(nowNs)))
	runtime.KeepAlive(r.l)
	if err == nil {
		r.ok = false
	}
	return err
}

// Cancel is CancelAt(Now()).
func (r *Reservation) Cancel() error { return r.CancelAt(Now()) }

// ReserveAt reserves n permits at nowNs for the earliest time they fit, if that is at most
// maxWait away: the permits are taken now. ErrReservationTooFar (nothing taken) when they
// would fit only later, ErrExceedsCapacity above the burst.
func (l *Limiter) ReserveAt(nowNs uint64, n int, maxWait time.Duration) (*Reservation, error) {
	r := &Reservation{l: l}
	cn, ok := count(n)
	if !ok || maxWait < 0 {
		return r, ErrInvalidArgument
	}
	if l.p == nil {
		return r, ErrClosed
	}
	err := check(C.pcl_limiter_reserve(l.p, cn, C.uint64_t(nowNs), C.uint64_t(maxWait), &r.c))
	runtime.KeepAlive(l)
	r.ok = err == nil
	return r, err
}

// Reserve reserves one permit now with no bound on the wait; check OK.
func (l *Limiter) Reserve() *Reservation { return l.ReserveN(time.Now(), 1) }

// ReserveN reserves n permits at now with no bound on the wait; check OK.
func (l *Limiter) ReserveN(now time.Time, n int) *Reservation {
	r, _ := l.ReserveAt(NanosOf(now), n, time.Duration(math.MaxInt64))
	return r
}

// ErrWouldExceedDeadline is returned by Wait and WaitN, at once and with nothing taken, when the
// permits would fit only after the context's deadline. errors.Is(err, ErrReservationTooFar)
// also holds.
var ErrWouldExceedDeadline = fmt.Errorf("portcullis: the wait would pass the context's deadline: %w", ErrReservationTooFar)

// Wait is WaitN(ctx, 1).
func (l *Limiter) Wait(ctx context.Context) error { return l.WaitN(ctx, 1) }

// WaitN waits until n permits may be used, as golang.org/x/time/rate's WaitN: it reserves them
// for the earliest time they fit and sleeps until then. It fails at once, with nothing taken,
// when the context is done, when the wait would pass its deadline (ErrWouldExceedDeadline), or
// when n is above the burst (ErrExceedsCapacity). When the context is done during the wait, the
// reservation is cancelled (the permits are given back if nothing was taken after them) and the
// context's error is returned. A nil context is ErrNilContext.
func (l *Limiter) WaitN(ctx context.Context, n int) error {
	if ctx == nil {
		return ErrNilContext
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	now := Now()
	maxWait := time.Duration(math.MaxInt64)
	if d, ok := ctx.Deadline(); ok {
		maxWait = time.Until(d)
		if maxWait <= 0 {
			return context.DeadlineExceeded
		}
	}
	r, err := l.ReserveAt(now, n, maxWait)
	if errors.Is(err, ErrReservationTooFar) {
		return ErrWouldExceedDeadline
	}
	if err != nil {
		return err
	}
	delay := r.DelayFrom(now)
	if delay == 0 {
		return nil
	}
	t := time.NewTimer(delay)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		_ = r.Cancel() // ErrNotCancelled: permits taken after ours; they stay spent
		return ctx.Err()
	}
}

// SetRateAt changes the rate (permits per second; 0 to use interval) and the burst at nowNs,
// keeping the state: permits already spent stay spent.
func (l *Limiter) SetRateAt(nowNs uint64, ratePerSecond uint64, interval time.Duration, burst uint64) error {
	if interval < 0 {
		return ErrInvalidLimiterInterval
	}
	if l.p == nil {
		return ErrClosed
	}
	err := check(C.pcl_limiter_reconfigure(l.p, C.uint64_t(ratePerSecond), nanos(interval), C.uint64_t(burst), C.uint64_t(nowNs)))
	runtime.KeepAlive(l)
	return err
}

// LimiterStats are a limiter's state at one moment.
type LimiterStats struct {
	Available uint64        // permits AllowN would admit now
	Interval  time.Duration // the emission interval in force
	Burst     uint64
	// Admitted and Rejected decisions; NotCounted unless the limiter was made with Counting.
	Admitted, Rejected uint64
	Shadow             bool
}

// NotCounted is the value of LimiterStats' counters of a limiter made without Counting.
const NotCounted = uint64(C.PCL_LIMITER_NOT_COUNTED)

// StatsAt reads the limiter's state at nowNs.
func (l *Limiter) StatsAt(nowNs uint64) (LimiterStats, error) {
	if l.p == nil {
		return LimiterStats{}, ErrClosed
	}
	var s C.pcl_limiter_stats
	err := check(C.pcl_limiter_snapshot(l.p, C.uint64_t(nowNs), &s))
	runtime.KeepAlive(l)
	return LimiterStats{
		Available: uint64(s.available), Interval: durationOf(uint64(s.interval_ns)), Burst: uint64(s.burst),
		Admitted: uint64(s.admitted), Rejected: uint64(s.rejected), Shadow: bool(s.shadow),
	}, err
}

// Stats is StatsAt(Now()).
func (l *Limiter) Stats() (LimiterStats, error) { return l.StatsAt(Now()) }
