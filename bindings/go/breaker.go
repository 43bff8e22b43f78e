package portcullis

/*
#include "portcullis.h"

// Results returned by value, so that no Go pointer is passed to C on the hot path (a Go pointer
// argument would make the result escape to the heap and be checked by cgo on every call).
typedef struct {
	pcl_breaker_permit permit;
	uint64_t retry_after_ns;
	pcl_status status;
} pcl_go_acquired;

static pcl_go_acquired pcl_go_breaker_acquire(const pcl_breaker *b, int at, uint64_t now_ns) {
	pcl_go_acquired r = {0};
	r.status = at ? pcl_breaker_try_acquire(b, now_ns, &r.permit, &r.retry_after_ns)
	              : pcl_breaker_try_acquire_now(b, &r.permit, &r.retry_after_ns);
	return r;
}

typedef struct {
	pcl_status status;
	uint32_t transition;
} pcl_go_recorded;

typedef struct {
	pcl_status status;
	uint32_t transition;
	size_t counted;
} pcl_go_batch;

static pcl_go_batch pcl_go_breaker_record_batch(const pcl_breaker *b,
                                                const pcl_breaker_permit *permits,
                                                const uint32_t *outcomes, size_t n,
                                                uint64_t now_ns) {
	pcl_go_batch r = {0};
	r.status = pcl_breaker_record_batch(b, permits, outcomes, n, now_ns, &r.counted, &r.transition);
	return r;
}

static pcl_go_recorded pcl_go_breaker_record(const pcl_breaker *b, pcl_breaker_permit p,
                                             uint32_t outcome, int at, uint64_t now_ns) {
	pcl_go_recorded r = {0};
	r.status = at ? pcl_breaker_record(b, &p, outcome, now_ns, &r.transition)
	              : pcl_breaker_record_now(b, &p, outcome, &r.transition);
	return r;
}

static pcl_go_recorded pcl_go_breaker_record_weighted(const pcl_breaker *b, pcl_breaker_permit p,
                                                      uint32_t outcome, uint32_t weight,
                                                      uint64_t now_ns) {
	pcl_go_recorded r = {0};
	r.status = pcl_breaker_record_weighted(b, &p, outcome, weight, now_ns, &r.transition);
	return r;
}
*/
import "C"

import (
	"runtime"
	"sync/atomic"
	"time"
	"unsafe"
)

// BreakerState is a circuit breaker's state.
type BreakerState uint32

// Breaker states.
const (
	StateClosed      BreakerState = C.PCL_BREAKER_CLOSED
	StateOpen        BreakerState = C.PCL_BREAKER_OPEN
	StateHalfOpen    BreakerState = C.PCL_BREAKER_HALF_OPEN
	StateForcedOpen  BreakerState = C.PCL_BREAKER_FORCED_OPEN
	StateDisabled    BreakerState = C.PCL_BREAKER_DISABLED
	StateMetricsOnly BreakerState = C.PCL_BREAKER_METRICS_ONLY
)

func (s BreakerState) String() string {
	switch s {
	case StateClosed:
		return "closed"
	case StateOpen:
		return "open"
	case StateHalfOpen:
		return "half-open"
	case StateForcedOpen:
		return "forced-open"
	case StateDisabled:
		return "disabled"
	case StateMetricsOnly:
		return "metrics-only"
	}
	return "unknown"
}

// Transition is a state change a breaker made while answering a call.
type Transition uint32

// Transitions.
const (
	TransitionNone       Transition = C.PCL_BREAKER_TRANSITION_NONE
	TransitionOpened     Transition = C.PCL_BREAKER_TRANSITION_OPENED
	TransitionHalfOpened Transition = C.PCL_BREAKER_TRANSITION_HALF_OPENED
	TransitionClosed     Transition = C.PCL_BREAKER_TRANSITION_CLOSED
)

func (t Transition) String() string {
	switch t {
	case TransitionNone:
		return "none"
	case TransitionOpened:
		return "opened"
	case TransitionHalfOpened:
		return "half-opened"
	case TransitionClosed:
		return "closed"
	}
	return "unknown"
}

// BreakerConfig configures a Breaker. Start from DefaultBreakerConfig; a rule whose field is 0
// is off (ConsecutiveFailures, FailureRatePPM, SlowRatePPM, SlowCallDuration). The semantics of
// every field are those of pcl_breaker_config in portcullis.h and docs/semantics/breaker.md.
type BreakerConfig struct {
	// TimeWindow selects a time window of WindowDuration in WindowBuckets buckets; otherwise
	// the window is the last WindowSize calls.
	TimeWindow     bool
	WindowSize     uint32
	WindowDuration time.Duration
	WindowBuckets  uint32

	ConsecutiveFailures uint32        // trip after this many failures in a row
	FailureRatePPM      uint32        // trip when failures per million calls reach this
	SlowRatePPM         uint32        // trip when slow calls per million calls reach this
	MinCalls            uint32        // rates are judged once the window holds this many calls
	SlowCallDuration    time.Duration // a call longer than this is slow

	OpenDuration    time.Duration // the first open period
	MaxOpenDuration time.Duration // open periods double per consecutive trip up to this
	JitterPPM       uint32        // random spread of each open period, per million
	Seed            uint64        // seed of the jitter

	HalfOpenProbes   uint32        // probes admitted per half-open period
	SuccessesToClose uint32        // successful probes that close the breaker
	HalfOpenByRate   bool          // judge the probes by the rates once all have reported
	ProbeTimeout     time.Duration // how long a half-open period waits for its probes

	Shadow          bool // decide and count, but always admit
	CountRejections bool // count rejections in BreakerStats.Rejected

	// OnTransition, if set, is called with each state change a call of this handle caused,
	// in the goroutine that made the call, after the C call has returned (C never calls into
	// Go). Transitions made through other handles of the same breaker are not seen here:
	// poll State or Stats for those.
	OnTransition func(Transition)

	// IsSuccessful classifies the error of a function run by Execute or reported through
	// Allow's done (nil: success exactly when err == nil), as gobreaker's IsSuccessful does.
	IsSuccessful func(err error) bool
}

// DefaultBreakerConfig is the C library's default configuration (pcl_breaker_config_default).
func DefaultBreakerConfig() BreakerConfig {
	c := C.pcl_breaker_config_default()
	return BreakerConfig{
		TimeWindow:          c.window_kind == C.PCL_BREAKER_WINDOW_TIME,
		WindowSize:          uint32(c.window_size),
		WindowDuration:      time.Duration(c.window_duration_ns),
		WindowBuckets:       uint32(c.window_buckets),
		ConsecutiveFailures: uint32(c.consecutive_failures),
		FailureRatePPM:      uint32(c.failure_rate_ppm),
		SlowRatePPM:         uint32(c.slow_rate_ppm),
		MinCalls:            uint32(c.min_calls),
		SlowCallDuration:    time.Duration(c.slow_call_duration_ns),
		OpenDuration:        time.Duration(c.open_duration_ns),
		MaxOpenDuration:     time.Duration(c.max_open_duration_ns),
		JitterPPM:           uint32(c.jitter_ppm),
		Seed:                uint64(c.seed),
		HalfOpenProbes:      uint32(c.half_open_probes),
		SuccessesToClose:    uint32(c.successes_to_close),
		HalfOpenByRate:      bool(c.half_open_by_rate),
		ProbeTimeout:        time.Duration(c.probe_timeout_ns),
		Shadow:              bool(c.shadow),
		CountRejections:     bool(c.count_rejections),
	}
}

// nanos converts a duration already checked to be non-negative.
func nanos(d time.Duration) C.uint64_t { return C.uint64_t(d) }

// firstNegative is the error of the first negative duration (each with the error of its field),
// or nil: a negative duration would otherwise wrap to a huge one.
func firstNegative(fields ...durationField) error {
	for _, f := range fields {
		if f.d < 0 {
			return f.err
		}
	}
	return nil
}

type durationField = struct {
	d   time.Duration
	err error
}

func (cfg *BreakerConfig) toC() (C.pcl_breaker_config, error) {
	c := C.pcl_breaker_config_default()
	if err := firstNegative(
		durationField{cfg.WindowDuration, ErrInvalidWindowDuration},
		durationField{cfg.SlowCallDuration, ErrInvalidArgument},
		durationField{cfg.OpenDuration, ErrInvalidBreakerOpenDuration},
		durationField{cfg.MaxOpenDuration, ErrInvalidBreakerMaxOpenDuration},
		durationField{cfg.ProbeTimeout, ErrInvalidBreakerProbeTimeout},
	); err != nil {
		return c, err
	}
	if cfg.TimeWindow {
		c.window_kind = C.PCL_BREAKER_WINDOW_TIME
	} else {
		c.window_kind = C.PCL_BREAKER_WINDOW_COUNT
	}
	c.window_size = C.uint32_t(cfg.WindowSize)
	c.window_duration_ns = nanos(cfg.WindowDuration)
	c.window_buckets = C.uint32_t(cfg.WindowBuckets)
	c.consecutive_failures = C.uint32_t(cfg.ConsecutiveFailures)
	c.failure_rate_ppm = C.uint32_t(cfg.FailureRatePPM)
	c.slow_rate_ppm = C.uint32_t(cfg.SlowRatePPM)
	c.min_calls = C.uint32_t(cfg.MinCalls)
	c.slow_call_duration_ns = nanos(cfg.SlowCallDuration)
	c.open_duration_ns = nanos(cfg.OpenDuration)
	c.max_open_duration_ns = nanos(cfg.MaxOpenDuration)
	c.jitter_ppm = C.uint32_t(cfg.JitterPPM)
	c.seed = C.uint64_t(cfg.Seed)
	c.half_open_probes = C.uint32_t(cfg.HalfOpenProbes)
	c.successes_to_close = C.uint32_t(cfg.SuccessesToClose)
	c.half_open_by_rate = C.bool(cfg.HalfOpenByRate)
	c.probe_timeout_ns = nanos(cfg.ProbeTimeout)
	c.shadow = C.bool(cfg.Shadow)
	c.count_rejections = C.bool(cfg.CountRejections)
	return c, nil
}

// Breaker is a circuit breaker. Safe for concurrent use; Close must not race with other calls.
type Breaker struct {
	p *C.pcl_breaker
	// The breaker's packed state word in C memory (pcl_breaker_state_word): Acquire decides a
	// closed breaker's admission with one atomic load of it, without a cgo call.
	word         *uint64
	onTransition func(Transition)
	isSuccessful func(error) bool
}

// NewBreaker makes a breaker; an invalid field is reported by its own error
// (ErrInvalidBreaker...; ErrInvalidArgument for a negative SlowCallDuration), before anything
// is allocated.
func NewBreaker(cfg BreakerConfig) (*Breaker, error) {
	c, err := cfg.toC()
	if err != nil {
		return nil, err
	}
	var p *C.pcl_breaker
	if err := check(C.pcl_breaker_new(&c, &p)); err != nil {
		return nil, err
	}
	b := &Breaker{p: p, onTransition: cfg.OnTransition, isSuccessful: cfg.IsSuccessful}
	// The word lives in C memory, freed only by Close: not a Go pointer, never moved.
	b.word = (*uint64)(unsafe.Pointer(C.pcl_breaker_state_word(p)))
	runtime.SetFinalizer(b, (*Breaker).Close)
	return b, nil
}

// Close frees the breaker. Idempotent; every later call returns ErrClosed.
func (b *Breaker) Close() error {
	if b.p != nil {
		b.word = nil
		C.pcl_breaker_free(b.p)
		b.p = nil
		runtime.SetFinalizer(b, nil)
	}
	return nil
}

// Permit is one admitted call: record its outcome with Record (or RecordBatch), or release it
// with Ignore, exactly once. It is plain data (a copy of the C library's pcl_breaker_permit):
// it may be copied and stored, and a slice of permits is handed to C as it is.
type Permit struct {
	c C.pcl_breaker_permit
}

// Probe reports whether the permit is a half-open probe.
func (p Permit) Probe() bool { return p.c.kind == C.PCL_BREAKER_PERMIT_PROBE }

// Shadow reports whether shadow mode admitted the call against the breaker's decision; the
// refusal it would have returned is ShadowRejection.
func (p Permit) Shadow() bool { return p.c.kind == C.PCL_BREAKER_PERMIT_SHADOW }

// ShadowRejection is the refusal an enforcing breaker would have returned (nil if none).
func (p Permit) ShadowRejection() error { return check(C.pcl_status(p.c.shadow_rejection)) }

// Transition is the state change the admission made (half-opened, for a first probe).
func (p Permit) Transition() Transition { return Transition(p.c.transition) }

func (b *Breaker) report(t C.uint32_t) {
	if t != C.PCL_BREAKER_TRANSITION_NONE && b.onTransition != nil {
		b.onTransition(Transition(t))
	}
}

// AcquireAt asks to make a call at nowNs (a Now reading): a Permit, or ErrRejectedOpen (with the
// time until the open period ends in retryAfter), ErrRejectedHalfOpenFull or
// ErrRejectedForcedOpen.
func (b *Breaker) AcquireAt(nowNs uint64) (p Permit, retryAfter time.Duration, err error) {
	return b.acquire(1, nowNs)
}

// Acquire is AcquireAt at the C library's clock. While the breaker is closed (or
// metrics-only) it is decided in Go by one atomic load of the breaker's state word, exactly as
// the C library decides it (pcl_breaker_state_word), with no cgo call and no clock read; in
// every other state it calls the C library, which reads the clock only if the decision needs it.
func (b *Breaker) Acquire() (Permit, error) {
	if w := b.word; w != nil {
		word := atomic.LoadUint64(w) // sequentially consistent: at least the acquire C asks for
		if s := word & C.PCL_BREAKER_WORD_STATE_MASK; s == C.PCL_BREAKER_CLOSED || s == C.PCL_BREAKER_METRICS_ONLY {
			runtime.KeepAlive(b) // the word stays valid until the load is done
			var p Permit
			p.c.generation = C.uint32_t((word >> C.PCL_BREAKER_WORD_GENERATION_SHIFT) & C.PCL_BREAKER_WORD_GENERATION_MASK)
			p.c.kind = C.PCL_BREAKER_PERMIT_TRACKED
			p.c.transition = C.PCL_BREAKER_TRANSITION_NONE
			p.c.shadow_rejection = C.PCL_STATUS_OK
			return p, nil
		}
	}
	p, _, err := b.acquire(0, 0)
	return p, err
}

func (b *Breaker) acquire(at C.int, nowNs uint64) (Permit, time.Duration, error) {
	if b.p == nil {
		return Permit{}, 0, ErrClosed
	}
	r := C.pcl_go_breaker_acquire(b.p, at, C.uint64_t(nowNs))
	runtime.KeepAlive(b)
	if r.status != C.PCL_STATUS_OK {
		return Permit{}, time.Duration(r.retry_after_ns), Status(r.status)
	}
	b.report(r.permit.transition)
	return Permit{r.permit}, 0, nil
}

// RecordAt records the outcome of the call p stands for, observed at nowNs. ErrNotCounted when
// the outcome did not count (the breaker moved to another generation since the admission, or
// the permit is untracked or shadow); ErrInvalidArgument for an unknown outcome.
func (b *Breaker) RecordAt(p Permit, o Outcome, nowNs uint64) error {
	return b.record(p, o, 1, nowNs)
}

// Record is RecordAt at the C library's clock, read inside the same cgo call.
func (b *Breaker) Record(p Permit, o Outcome) error { return b.record(p, o, 0, 0) }

func (b *Breaker) record(p Permit, o Outcome, at C.int, nowNs uint64) error {
	if b.p == nil {
		return ErrClosed
	}
	r := C.pcl_go_breaker_record(b.p, p.c, C.uint32_t(o), at, C.uint64_t(nowNs))
	runtime.KeepAlive(b)
	b.report(C.uint32_t(r.transition))
	return check(r.status)
}

// MaxWeight is the largest weight of RecordWeighted.
const MaxWeight = C.PCL_BREAKER_MAX_WEIGHT

// RecordWeightedAt records an outcome that counts as weight calls (1..=MaxWeight), observed at
// nowNs: it enters the window weight times and a failure adds weight to the consecutive-failure
// count, so that some errors weigh more than others (docs/semantics/breaker.md, "Weights"). A
// half-open probe is one probe whatever its weight. ErrInvalidArgument for a weight out of range.
func (b *Breaker) RecordWeightedAt(p Permit, o Outcome, weight uint32, nowNs uint64) error {
	if b.p == nil {
		return ErrClosed
	}
	r := C.pcl_go_breaker_record_weighted(b.p, p.c, C.uint32_t(o), C.uint32_t(weight), C.uint64_t(nowNs))
	runtime.KeepAlive(b)
	b.report(C.uint32_t(r.transition))
	return check(r.status)
}

// RecordWeighted is RecordWeightedAt at Now().
func (b *Breaker) RecordWeighted(p Permit, o Outcome, weight uint32) error {
	return b.RecordWeightedAt(p, o, weight, Now())
}

// RecordBatchAt records outcomes[i] for permits[i], in order, all observed at nowNs, in one cgo
// call; it returns how many counted. The slices must have the same length
// (ErrInvalidArgument otherwise); one unknown outcome records nothing (ErrInvalidArgument).
// The generation rule holds inside the batch: once it trips the breaker, the rest of its
// permits no longer count. OnTransition sees the last state change of the batch.
func (b *Breaker) RecordBatchAt(permits []Permit, outcomes []Outcome, nowNs uint64) (int, error) {
	if b.p == nil {
		return 0, ErrClosed
	}
	if len(permits) != len(outcomes) {
		return 0, ErrInvalidArgument
	}
	if len(permits) == 0 {
		return 0, nil
	}
	// Permit is a pcl_breaker_permit and Outcome a uint32_t, and neither holds a Go pointer, so
	// the slices' arrays are passed as they are (cgo pins them for the call).
	r := C.pcl_go_breaker_record_batch(b.p,
		(*C.pcl_breaker_permit)(unsafe.Pointer(unsafe.SliceData(permits))),
		(*C.uint32_t)(unsafe.Pointer(unsafe.SliceData(outcomes))),
		C.size_t(len(permits)), C.uint64_t(nowNs))
	runtime.KeepAlive(b)
	runtime.KeepAlive(permits)
	runtime.KeepAlive(outcomes)
	b.report(C.uint32_t(r.transition))
	return int(r.counted), check(r.status)
}

// RecordBatch is RecordBatchAt at Now().
func (b *Breaker) RecordBatch(permits []Permit, outcomes []Outcome) (int, error) {
	return b.RecordBatchAt(permits, outcomes, Now())
}

// Ignore releases the call p stands for without an outcome: a probe's place is freed, nothing
// is counted.
func (b *Breaker) Ignore(p Permit) error {
	if b.p == nil {
		return ErrClosed
	}
	err := check(C.pcl_breaker_ignore(b.p, &p.c))
	runtime.KeepAlive(b)
	return err
}

func (b *Breaker) successful(err error) bool {
	if b.isSuccessful != nil {
		return b.isSuccessful(err)
	}
	return err == nil
}

// Allow asks to make a call, in the shape of sony/gobreaker's TwoStepCircuitBreaker: on
// success, call done exactly once with whether the call succeeded. done records at the C
// library's clock; it allocates one closure per call (Acquire and Record do not).
func (b *Breaker) Allow() (done func(success bool), err error) {
	p, err := b.Acquire()
	if err != nil {
		return nil, err
	}
	return func(success bool) {
		o := Failure
		if success {
			o = Success
		}
		_ = b.Record(p, o) // ErrNotCounted is normal for a call that outlived its generation
	}, nil
}

// Execute runs fn if the breaker admits a call and records its outcome (IsSuccessful decides
// whether its error is a failure), as sony/gobreaker's Execute does. It returns the refusal
// without running fn, or fn's error. A panic in fn is recorded as a failure and re-raised.
func (b *Breaker) Execute(fn func() error) error {
	p, err := b.Acquire()
	if err != nil {
		return err
	}
	defer func() {
		if r := recover(); r != nil {
			_ = b.Record(p, Failure)
			panic(r)
		}
	}()
	ferr := fn()
	o := Failure
	if b.successful(ferr) {
		o = Success
	}
	_ = b.Record(p, o)
	return ferr
}

// State is the current state (one load).
func (b *Breaker) State() (BreakerState, error) {
	if b.p == nil {
		return 0, ErrClosed
	}
	var s C.uint32_t
	err := check(C.pcl_breaker_state(b.p, &s))
	runtime.KeepAlive(b)
	return BreakerState(s), err
}

// BreakerStats are a breaker's state and counters at one moment.
type BreakerStats struct {
	State                          BreakerState
	Generation                     uint32
	Calls, Failures, Slow          uint64 // in the window
	FailureRatePPM, SlowRatePPM    uint32 // NoRate when the window is empty
	ConsecutiveFailures            uint64
	ConsecutiveTrips               uint32
	ProbesAdmitted, ProbeSuccesses uint32
	ProbeFailures                  uint32
	TimesTripped, Rejected         uint64
	// OpenRemaining is the time until the open period ends (0 once it has), or -1 when the
	// breaker is not open.
	OpenRemaining time.Duration
}

// NoRate is the rate of an empty window in BreakerStats.
const NoRate = uint32(C.PCL_BREAKER_NO_RATE)

// StatsAt reads the state and counters at nowNs.
func (b *Breaker) StatsAt(nowNs uint64) (BreakerStats, error) {
	if b.p == nil {
		return BreakerStats{}, ErrClosed
	}
	var s C.pcl_breaker_stats
	err := check(C.pcl_breaker_snapshot(b.p, C.uint64_t(nowNs), &s))
	runtime.KeepAlive(b)
	remaining := time.Duration(-1)
	if s.open_remaining_ns != C.PCL_BREAKER_NOT_OPEN {
		remaining = time.Duration(s.open_remaining_ns)
	}
	return BreakerStats{
		State: BreakerState(s.state), Generation: uint32(s.generation),
		Calls: uint64(s.calls), Failures: uint64(s.failures), Slow: uint64(s.slow),
		FailureRatePPM: uint32(s.failure_rate_ppm), SlowRatePPM: uint32(s.slow_rate_ppm),
		ConsecutiveFailures: uint64(s.consecutive_failures), ConsecutiveTrips: uint32(s.consecutive_trips),
		ProbesAdmitted: uint32(s.probes_admitted), ProbeSuccesses: uint32(s.probe_successes),
		ProbeFailures: uint32(s.probe_failures), TimesTripped: uint64(s.times_tripped),
		Rejected: uint64(s.rejected), OpenRemaining: remaining,
	}, err
}

// Stats is StatsAt(Now()).
func (b *Breaker) Stats() (BreakerStats, error) { return b.StatsAt(Now()) }

type operatorCall func(*C.pcl_breaker, *C.uint32_t) C.pcl_status

func (b *Breaker) operator(f operatorCall) (BreakerState, error) {
	if b.p == nil {
		return 0, ErrClosed
	}
	var prev C.uint32_t
	err := check(f(b.p, &prev))
	runtime.KeepAlive(b)
	return BreakerState(prev), err
}

// ForceOpen holds the breaker open until ForceClose or Reset; it returns the state it replaced.
func (b *Breaker) ForceOpen() (BreakerState, error) {
	return b.operator(func(p *C.pcl_breaker, o *C.uint32_t) C.pcl_status { return C.pcl_breaker_force_open(p, o) })
}

// ForceClose closes the breaker with an empty window.
func (b *Breaker) ForceClose() (BreakerState, error) {
	return b.operator(func(p *C.pcl_breaker, o *C.uint32_t) C.pcl_status { return C.pcl_breaker_force_close(p, o) })
}

// Disable admits every call and records nothing.
func (b *Breaker) Disable() (BreakerState, error) {
	return b.operator(func(p *C.pcl_breaker, o *C.uint32_t) C.pcl_status { return C.pcl_breaker_disable(p, o) })
}

// MetricsOnly admits every call, and records and reports outcomes.
func (b *Breaker) MetricsOnly() (BreakerState, error) {
	return b.operator(func(p *C.pcl_breaker, o *C.uint32_t) C.pcl_status { return C.pcl_breaker_metrics_only(p, o) })
}

// Reset returns the breaker to closed with everything cleared.
func (b *Breaker) Reset() (BreakerState, error) {
	return b.operator(func(p *C.pcl_breaker, o *C.uint32_t) C.pcl_status { return C.pcl_breaker_reset(p, o) })
}
