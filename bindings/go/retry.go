package portcullis

// #include "portcullis.h"
import "C"

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"runtime"
	"time"
)

// Backoff is the shape of a retry schedule.
type Backoff uint32

// Backoffs.
const (
	BackoffConstant    Backoff = C.PCL_RETRY_BACKOFF_CONSTANT
	BackoffLinear      Backoff = C.PCL_RETRY_BACKOFF_LINEAR
	BackoffExponential Backoff = C.PCL_RETRY_BACKOFF_EXPONENTIAL
	BackoffFibonacci   Backoff = C.PCL_RETRY_BACKOFF_FIBONACCI
)

// Jitter is how a delay is randomised.
type Jitter uint32

// Jitters (the AWS formulas; docs/semantics/retry.md).
const (
	JitterNone         Jitter = C.PCL_RETRY_JITTER_NONE
	JitterFull         Jitter = C.PCL_RETRY_JITTER_FULL
	JitterEqual        Jitter = C.PCL_RETRY_JITTER_EQUAL
	JitterDecorrelated Jitter = C.PCL_RETRY_JITTER_DECORRELATED
	JitterProportional Jitter = C.PCL_RETRY_JITTER_PROPORTIONAL
)

// ErrorClass is what an attempt's error means to the retry policy.
type ErrorClass uint32

// Error classes.
const (
	Retryable      ErrorClass = C.PCL_RETRY_RETRYABLE
	NotRetryable   ErrorClass = C.PCL_RETRY_NOT_RETRYABLE
	RetryableAfter ErrorClass = C.PCL_RETRY_RETRYABLE_AFTER // after the server's push-back delay
	StopRetrying   ErrorClass = C.PCL_RETRY_STOP_RETRYING
)

// RetryConfig configures a RetryPolicy. Start from DefaultRetryConfig; semantics in
// docs/semantics/retry.md.
type RetryConfig struct {
	MaxAttempts        uint32 // the most attempts of one call, the first included; at least 1
	Backoff            Backoff
	MultiplierPermille uint32 // exponential growth in thousandths (2000 doubles)
	Jitter             Jitter
	JitterPPM          uint32        // proportional jitter's spread per million
	BaseDelay          time.Duration // the first delay
	MaxDelay           time.Duration // the cap on one delay
	TotalBudget        time.Duration // no retry starts this long after the first attempt; 0: none
	PushbackMin        time.Duration // a server's push-back is raised to at least this
	PushbackMax        time.Duration // and lowered to at most this

	// Classify tells what an attempt's error means, and for RetryableAfter the server's delay.
	// Nil: context errors stop, every other error is retryable.
	Classify func(err error) (ErrorClass, time.Duration)
	// Throttle, if set, is shared by every call of the client: failures take tokens, successes
	// give them back, and no retry starts while it is at or below half (gRPC retry throttling).
	Throttle *RetryThrottle
}

// DefaultRetryConfig is the C library's default (pcl_retry_config_default).
func DefaultRetryConfig() RetryConfig {
	c := C.pcl_retry_config_default()
	cfg := RetryConfig{
		MaxAttempts: uint32(c.max_attempts), Backoff: Backoff(c.backoff),
		MultiplierPermille: uint32(c.multiplier_permille), Jitter: Jitter(c.jitter),
		JitterPPM: uint32(c.jitter_ppm), BaseDelay: time.Duration(c.base_delay_ns),
		MaxDelay: time.Duration(c.max_delay_ns), PushbackMin: time.Duration(c.pushback_min_ns),
		PushbackMax: time.Duration(c.pushback_max_ns),
	}
	if c.total_budget_ns != C.PCL_RETRY_NO_BUDGET {
		cfg.TotalBudget = time.Duration(c.total_budget_ns)
	}
	return cfg
}

// RetryPolicy answers "retry? after how long?" for each attempt of a call. Safe for concurrent
// use: each call has its own state. Close must not race with other calls.
type RetryPolicy struct {
	p        *C.pcl_retry_policy
	classify func(error) (ErrorClass, time.Duration)
	throttle *RetryThrottle
}

// NewRetryPolicy makes a policy; an invalid field is reported by its own error
// (ErrInvalidRetry...).
func NewRetryPolicy(cfg RetryConfig) (*RetryPolicy, error) {
	if err := firstNegative(
		durationField{cfg.BaseDelay, ErrInvalidRetryBaseDelay},
		durationField{cfg.MaxDelay, ErrInvalidRetryMaxDelay},
		durationField{cfg.TotalBudget, ErrInvalidRetryTotalBudget},
		durationField{cfg.PushbackMin, ErrInvalidArgument},
		durationField{cfg.PushbackMax, ErrInvalidRetryPushbackMax},
	); err != nil {
		return nil, err
	}
	c := C.pcl_retry_config_default()
	c.max_attempts = C.uint32_t(cfg.MaxAttempts)
	c.backoff = C.uint32_t(cfg.Backoff)
	c.multiplier_permille = C.uint32_t(cfg.MultiplierPermille)
	c.jitter = C.uint32_t(cfg.Jitter)
	c.jitter_ppm = C.uint32_t(cfg.JitterPPM)
	c.base_delay_ns = nanos(cfg.BaseDelay)
	c.max_delay_ns = nanos(cfg.MaxDelay)
	c.total_budget_ns = C.PCL_RETRY_NO_BUDGET
	if cfg.TotalBudget != 0 {
		c.total_budget_ns = nanos(cfg.TotalBudget)
	}
	c.pushback_min_ns = nanos(cfg.PushbackMin)
	c.pushback_max_ns = nanos(cfg.PushbackMax)
	var p *C.pcl_retry_policy
	if err := check(C.pcl_retry_policy_new(&c, &p)); err != nil {
		return nil, err
	}
	r := &RetryPolicy{p: p, classify: cfg.Classify, throttle: cfg.Throttle}
	runtime.SetFinalizer(r, (*RetryPolicy).Close)
	return r, nil
}

// Close frees the policy. Idempotent; every later call returns ErrClosed.
func (r *RetryPolicy) Close() error {
	if r.p != nil {
		C.pcl_retry_policy_free(r.p)
		r.p = nil
		runtime.SetFinalizer(r, nil)
	}
	return nil
}

func (r *RetryPolicy) classOf(err error) (ErrorClass, time.Duration) {
	if r.classify != nil {
		return r.classify(err)
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return StopRetrying, 0
	}
	return Retryable, 0
}

// RetryState is the state of one call: attempts made, position in the schedule, deadline and
// its own random generator. Plain data; not for concurrent use.
type RetryState struct {
	c C.pcl_retry_state
}

// StartAt begins a call whose first attempt starts at nowNs; deadlineNs is the call's absolute
// deadline on the clock of Now (0: none); the same seed replays the same delays.
func (r *RetryPolicy) StartAt(nowNs, deadlineNs, seed uint64) (*RetryState, error) {
	if r.p == nil {
		return nil, ErrClosed
	}
	d := C.uint64_t(deadlineNs)
	if deadlineNs == 0 {
		d = C.UINT64_MAX
	}
	s := &RetryState{}
	err := check(C.pcl_retry_state_init(r.p, C.uint64_t(nowNs), d, C.uint64_t(seed), &s.c))
	runtime.KeepAlive(r)
	return s, err
}

// Attempts is the number of attempts made so far, the first included.
func (s *RetryState) Attempts() uint32 {
	var n C.uint32_t
	_ = C.pcl_retry_state_attempts(&s.c, &n)
	return uint32(n)
}

// DecideAt decides, after an attempt that ended at nowNs with class (pushback is the server's
// delay, read only for RetryableAfter), whether to retry: the delay before the next attempt,
// or a stop reason (ErrRetryStop...). With the policy's Throttle, the failure is recorded there
// and a retry it does not allow stops with ErrRetryStopBudgetExhausted.
func (r *RetryPolicy) DecideAt(s *RetryState, class ErrorClass, pushback time.Duration, nowNs uint64) (time.Duration, error) {
	if s == nil {
		return 0, ErrNullArgument
	}
	if pushback < 0 {
		return 0, ErrInvalidArgument
	}
	if r.p == nil {
		return 0, ErrClosed
	}
	var delay C.uint64_t
	var st C.pcl_status
	if r.throttle != nil && r.throttle.p != nil {
		st = C.pcl_retry_decide_throttled(r.p, &s.c, C.uint32_t(class), C.uint64_t(pushback), C.uint64_t(nowNs), r.throttle.p, &delay)
		runtime.KeepAlive(r.throttle)
	} else {
		st = C.pcl_retry_decide(r.p, &s.c, C.uint32_t(class), C.uint64_t(pushback), C.uint64_t(nowNs), &delay)
	}
	runtime.KeepAlive(r)
	return durationOf(uint64(delay)), check(st)
}

// Do runs fn until it succeeds, the policy stops (the error wraps both the stop reason and
// fn's last error: errors.Is works for either), or ctx is done while waiting (ctx's error and
// fn's last error). ctx's deadline is the call's deadline: a delay that would pass it is
// shortened to end at it (the last retry starts at the deadline at the latest), and no retry
// starts after it (docs/semantics/retry.md). The policy's Throttle sees every success and
// failure. A nil ctx is ErrNilContext.
func (r *RetryPolicy) Do(ctx context.Context, fn func(context.Context) error) error {
	if ctx == nil {
		return ErrNilContext
	}
	var deadline uint64
	if d, ok := ctx.Deadline(); ok {
		deadline = NanosOf(d)
	}
	s, err := r.StartAt(Now(), deadline, rand.Uint64())
	if err != nil {
		return err
	}
	for {
		last := fn(ctx)
		if last == nil {
			if t := r.throttle; t != nil {
				_ = t.RecordSuccess()
			}
			return nil
		}
		class, pushback := r.classOf(last)
		delay, stop := r.DecideAt(s, class, pushback, Now())
		if stop != nil {
			return fmt.Errorf("%w after %d attempts: %w", stop, s.Attempts(), last)
		}
		if delay > 0 {
			t := time.NewTimer(delay)
			select {
			case <-t.C:
			case <-ctx.Done():
				t.Stop()
				return fmt.Errorf("%w while waiting to retry: %w", ctx.Err(), last)
			}
		}
	}
}

// RetryThrottle is gRPC's retry throttling (gRFC A6), shared by every call of a client: each
// failure takes a token, each success gives back TokenRatio, and retries are allowed only while
// more than half of MaxTokens remain. Safe for concurrent use; Close must not race.
type RetryThrottle struct {
	p *C.pcl_retry_throttle
}

// NewRetryThrottle makes a throttle of maxTokens (at least 1) giving back tokenRatioMilli
// thousandths of a token per success (at least 1).
func NewRetryThrottle(maxTokens, tokenRatioMilli uint32) (*RetryThrottle, error) {
	c := C.pcl_retry_throttle_config_default()
	c.max_tokens = C.uint32_t(maxTokens)
	c.token_ratio_milli = C.uint32_t(tokenRatioMilli)
	var p *C.pcl_retry_throttle
	if err := check(C.pcl_retry_throttle_new(&c, &p)); err != nil {
		return nil, err
	}
	t := &RetryThrottle{p: p}
	runtime.SetFinalizer(t, (*RetryThrottle).Close)
	return t, nil
}

// Close frees the throttle. Idempotent.
func (t *RetryThrottle) Close() error {
	if t.p != nil {
		C.pcl_retry_throttle_free(t.p)
		t.p = nil
		runtime.SetFinalizer(t, nil)
	}
	return nil
}

// RecordSuccess gives back a fraction of a token.
func (t *RetryThrottle) RecordSuccess() error {
	if t.p == nil {
		return ErrClosed
	}
	err := check(C.pcl_retry_throttle_record_success(t.p))
	runtime.KeepAlive(t)
	return err
}

// RecordFailure takes a token; ErrRetryStopBudgetExhausted when no retry is allowed after it.
func (t *RetryThrottle) RecordFailure() error {
	if t.p == nil {
		return ErrClosed
	}
	err := check(C.pcl_retry_throttle_record_failure(t.p))
	runtime.KeepAlive(t)
	return err
}

// Allowed reports whether a retry is allowed now, and the tokens left (in thousandths).
func (t *RetryThrottle) Allowed() (bool, uint64, error) {
	if t.p == nil {
		return false, 0, ErrClosed
	}
	var milli C.uint64_t
	st := C.pcl_retry_throttle_check(t.p, &milli)
	runtime.KeepAlive(t)
	if st == C.PCL_STATUS_RETRY_STOP_BUDGET_EXHAUSTED {
		return false, uint64(milli), nil
	}
	return st == C.PCL_STATUS_OK, uint64(milli), check(st)
}
