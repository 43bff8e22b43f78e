package portcullis

import (
	"context"
	"errors"
	"testing"
	"time"
)

func fastRetries(attempts uint32) RetryConfig {
	cfg := DefaultRetryConfig()
	cfg.MaxAttempts = attempts
	cfg.Backoff = BackoffExponential
	cfg.Jitter = JitterNone
	cfg.BaseDelay = time.Millisecond
	cfg.MaxDelay = 4 * time.Millisecond
	return cfg
}

func TestRetryScheduleIsExponentialAndStops(t *testing.T) {
	p, err := NewRetryPolicy(fastRetries(4))
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	s, err := p.StartAt(0, 0, 1)
	if err != nil {
		t.Fatal(err)
	}
	var delays []time.Duration
	for {
		d, err := p.DecideAt(s, Retryable, 0, 0)
		if err != nil {
			if !errors.Is(err, ErrRetryStopAttemptsExhausted) {
				t.Fatalf("stop reason %v", err)
			}
			break
		}
		delays = append(delays, d)
	}
	want := []time.Duration{time.Millisecond, 2 * time.Millisecond, 4 * time.Millisecond}
	if len(delays) != len(want) || delays[0] != want[0] || delays[1] != want[1] || delays[2] != want[2] {
		t.Fatalf("delays %v, want %v", delays, want)
	}
	if s.Attempts() != 4 {
		t.Fatalf("attempts %d", s.Attempts())
	}
	s2, _ := p.StartAt(0, 0, 1)
	if _, err := p.DecideAt(s2, NotRetryable, 0, 0); !errors.Is(err, ErrRetryStopNotRetryable) {
		t.Fatal(err)
	}
	if d, err := p.DecideAt(s2, RetryableAfter, 3*time.Millisecond, 0); err != nil || d != 3*time.Millisecond {
		t.Fatalf("push-back: %v %v", d, err)
	}
	if _, err := p.DecideAt(s2, Retryable, -time.Second, 0); !errors.Is(err, ErrInvalidArgument) {
		t.Fatal(err)
	}
	if _, err := p.DecideAt(nil, Retryable, 0, 0); !errors.Is(err, ErrNullArgument) {
		t.Fatal(err)
	}
}

func TestRetryDoRetriesUntilSuccess(t *testing.T) {
	p, _ := NewRetryPolicy(fastRetries(5))
	defer p.Close()
	calls := 0
	err := p.Do(context.Background(), func(context.Context) error {
		calls++
		if calls < 3 {
			return errors.New("transient")
		}
		return nil
	})
	if err != nil || calls != 3 {
		t.Fatalf("%v after %d calls", err, calls)
	}
}

func TestRetryDoStopsAndWrapsBothErrors(t *testing.T) {
	p, _ := NewRetryPolicy(fastRetries(2))
	defer p.Close()
	boom := errors.New("boom")
	calls := 0
	err := p.Do(context.Background(), func(context.Context) error { calls++; return boom })
	if !errors.Is(err, boom) || !errors.Is(err, ErrRetryStopAttemptsExhausted) || calls != 2 {
		t.Fatalf("%v after %d calls", err, calls)
	}
	if err := p.Do(nil, func(context.Context) error { return nil }); !errors.Is(err, ErrNilContext) { //nolint:staticcheck // nil on purpose
		t.Fatal(err)
	}
}

func TestRetryDoRespectsTheContextDeadline(t *testing.T) {
	cfg := fastRetries(10)
	cfg.BaseDelay = 50 * time.Millisecond
	cfg.MaxDelay = 50 * time.Millisecond
	p, _ := NewRetryPolicy(cfg)
	defer p.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	start := time.Now()
	calls := 0
	err := p.Do(ctx, func(context.Context) error { calls++; return errors.New("slow dependency") })
	// The 50 ms delay is shortened to end at the deadline: one retry there, then a stop.
	if !errors.Is(err, ErrRetryStopDeadlineExceeded) || calls != 2 {
		t.Fatalf("%v after %d calls", err, calls)
	}
	if time.Since(start) > 40*time.Millisecond {
		t.Fatalf("waited %v: the delay was not shortened to the 20 ms deadline", time.Since(start))
	}
}

func TestRetryThrottleStopsARetryStorm(t *testing.T) {
	th, err := NewRetryThrottle(4, 100)
	if err != nil {
		t.Fatal(err)
	}
	defer th.Close()
	cfg := fastRetries(10)
	cfg.BaseDelay = time.Microsecond
	cfg.MaxDelay = time.Microsecond
	cfg.Throttle = th
	p, _ := NewRetryPolicy(cfg)
	defer p.Close()
	calls := 0
	err = p.Do(context.Background(), func(context.Context) error { calls++; return errors.New("down") })
	// 4 tokens: the first two failures leave 3 and 2; at 2 (half) retries stop.
	if !errors.Is(err, ErrRetryStopBudgetExhausted) || calls != 2 {
		t.Fatalf("%v after %d calls", err, calls)
	}
	if ok, milli, _ := th.Allowed(); ok || milli != 2000 {
		t.Fatalf("allowed %v with %d milli-tokens", ok, milli)
	}
	if _, err := NewRetryThrottle(0, 100); !errors.Is(err, ErrInvalidThrottleMaxTokens) {
		t.Fatal(err)
	}
}

func TestRetryConfigErrorsAndClose(t *testing.T) {
	cfg := fastRetries(0)
	if _, err := NewRetryPolicy(cfg); !errors.Is(err, ErrInvalidRetryMaxAttempts) {
		t.Fatal(err)
	}
	cfg = fastRetries(3)
	cfg.BaseDelay = -time.Second
	if _, err := NewRetryPolicy(cfg); !errors.Is(err, ErrInvalidRetryBaseDelay) {
		t.Fatal(err)
	}
	p, _ := NewRetryPolicy(fastRetries(3))
	s, _ := p.StartAt(0, 0, 1)
	_ = p.Close()
	_ = p.Close()
	if _, err := p.DecideAt(s, Retryable, 0, 0); !errors.Is(err, ErrClosed) {
		t.Fatal(err)
	}
	if err := p.Do(context.Background(), func(context.Context) error { return nil }); !errors.Is(err, ErrClosed) {
		t.Fatal(err)
	}
}
