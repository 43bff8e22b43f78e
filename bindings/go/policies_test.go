package portcullis

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"
)

func TestBulkheadTryAcquireReleaseAndOverRelease(t *testing.T) {
	b, err := NewBulkhead(2)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	if err := b.TryAcquire(2); err != nil {
		t.Fatal(err)
	}
	if err := b.TryAcquire(1); !errors.Is(err, ErrNoPermits) {
		t.Fatalf("full: %v", err)
	}
	if err := b.TryAcquire(3); !errors.Is(err, ErrExceedsCapacity) {
		t.Fatalf("above the limit: %v", err)
	}
	if err := b.Release(3); !errors.Is(err, ErrOverRelease) {
		t.Fatalf("over-release: %v", err)
	}
	if err := b.Release(2); err != nil {
		t.Fatal(err)
	}
	s, err := b.Stats()
	if err != nil || s.InFlight != 0 || s.Limit != 2 || s.OverReleases != 1 {
		t.Fatalf("%+v %v", s, err)
	}
	if _, err := NewBulkhead(1 << 23); !errors.Is(err, ErrInvalidBulkheadLimit) {
		t.Fatalf("invalid limit: %v", err)
	}
}

func TestBulkheadAcquireHonoursTheContext(t *testing.T) {
	b, _ := NewBulkhead(1)
	defer b.Close()
	if err := b.TryAcquire(1); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	start := time.Now()
	if err := b.Acquire(ctx, 1); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("expected the deadline, got %v", err)
	}
	if time.Since(start) > time.Second {
		t.Fatal("Acquire waited far past the context's deadline")
	}
	go func() {
		time.Sleep(5 * time.Millisecond)
		_ = b.Release(1)
	}()
	if err := b.Acquire(context.Background(), 1); err != nil {
		t.Fatalf("a released permit must be taken: %v", err)
	}
	var noContext context.Context // nil on purpose: the guard must answer, not crash
	if err := b.Acquire(noContext, 1); !errors.Is(err, ErrNilContext) {
		t.Fatalf("nil context: %v", err)
	}
}

func TestBulkheadNeverOversubscribedUnderGoroutines(t *testing.T) {
	b, _ := NewBulkhead(3)
	defer b.Close()
	var mu sync.Mutex
	in, peak := 0, 0
	var wg sync.WaitGroup
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 200; i++ {
				if b.TryAcquire(1) != nil {
					continue
				}
				mu.Lock()
				in++
				if in > peak {
					peak = in
				}
				mu.Unlock()
				mu.Lock()
				in--
				mu.Unlock()
				if err := b.Release(1); err != nil {
					t.Error(err)
				}
			}
		}()
	}
	wg.Wait()
	if peak > 3 {
		t.Fatalf("peak %d above the limit", peak)
	}
}

func TestHealthMachineHysteresis(t *testing.T) {
	h, err := NewHealthMachine(DefaultHealthConfig())
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close()
	for i := 0; i < 3; i++ {
		if _, _, err := h.RecordAt(false, uint64(i)); err != nil {
			t.Fatal(err)
		}
	}
	if s, _ := h.State(); s != Degraded {
		t.Fatalf("after 3 failures: %v", s)
	}
	for i := 0; i < 4; i++ {
		_, _, _ = h.RecordAt(true, 10)
	}
	if s, _ := h.State(); s != Degraded {
		t.Fatalf("4 successes must not recover: %v", s)
	}
	if from, to, _ := h.RecordAt(true, 11); from != Degraded || to != Healthy {
		t.Fatalf("5th success: %v -> %v", from, to)
	}
	bad := DefaultHealthConfig()
	bad.RecoverAfter[1] = bad.DegradeAfter[1]
	if _, err := NewHealthMachine(bad); !errors.Is(err, ErrInvalidHealthRecoverAfter) {
		t.Fatalf("no hysteresis: %v", err)
	}
}

func TestDeadlinesFromContexts(t *testing.T) {
	if left, err := Remaining(context.Background()); err != nil || left < time.Hour {
		t.Fatalf("no deadline: %v %v", left, err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	left, err := Remaining(ctx)
	if err != nil || left <= 0 || left > time.Second {
		t.Fatalf("%v %v", left, err)
	}
	if !RetryAllowed(ctx, 10*time.Millisecond, 10*time.Millisecond) || RetryAllowed(ctx, 2*time.Second, 0) {
		t.Fatal("RetryAllowed")
	}
	expired, cancel2 := context.WithDeadline(context.Background(), time.Now().Add(-time.Second))
	defer cancel2()
	if _, err := Remaining(expired); !errors.Is(err, ErrExpired) {
		t.Fatalf("expired: %v", err)
	}
}

func TestGRPCTimeoutHeaders(t *testing.T) {
	v, err := EncodeGRPCTimeout(250 * time.Millisecond)
	if err != nil {
		t.Fatal(err)
	}
	if d, err := DecodeGRPCTimeout(v); err != nil || d != 250*time.Millisecond {
		t.Fatalf("%q -> %v %v", v, d, err)
	}
	if _, err := EncodeGRPCTimeout(0); !errors.Is(err, ErrExpired) {
		t.Fatal(err)
	}
	cases := map[string]error{"": ErrHeaderEmpty, "m": ErrHeaderMissingValue, "100": ErrHeaderMissingUnit,
		"123456789n": ErrHeaderTooManyDigits, "10s": ErrHeaderBadUnit, "1-0m": ErrHeaderNotADigit,
		"5124096H": ErrHeaderOverflow}
	for in, want := range cases {
		if _, err := DecodeGRPCTimeout(in); !errors.Is(err, want) {
			t.Fatalf("%q: got %v, want %v", in, err, want)
		}
	}
}
