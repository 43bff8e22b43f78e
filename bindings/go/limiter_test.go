package portcullis

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

func TestLimiterBurstThenRate(t *testing.T) {
	l, err := NewLimiter(10, 3) // one permit per 100 ms, 3 at once
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	now := Now()
	for i := 0; i < 3; i++ {
		if err := l.AcquireAt(now, 1); err != nil {
			t.Fatalf("permit %d of the burst: %v", i, err)
		}
	}
	if err := l.AcquireAt(now, 1); !errors.Is(err, ErrRateLimited) {
		t.Fatalf("beyond the burst: %v", err)
	}
	if w, err := l.WaitTimeAt(now, 2); err != nil || w != 200*time.Millisecond {
		t.Fatalf("wait for 2: %v %v", w, err)
	}
	if err := l.AcquireAt(now+uint64(100*time.Millisecond), 1); err != nil {
		t.Fatalf("after one interval: %v", err)
	}
	if err := l.AcquireAt(now, 4); !errors.Is(err, ErrExceedsCapacity) {
		t.Fatalf("above the burst: %v", err)
	}
	if err := l.AcquireAt(now, -1); !errors.Is(err, ErrInvalidArgument) {
		t.Fatalf("negative n: %v", err)
	}
}

func TestLimiterAllowNTakesTimeTimes(t *testing.T) {
	l, _ := NewLimiter(1, 2)
	defer l.Close()
	now := time.Now()
	if !l.AllowN(now, 2) || l.AllowN(now, 1) {
		t.Fatal("a burst of 2 at one instant")
	}
	if !l.AllowN(now.Add(time.Second), 1) {
		t.Fatal("one permit a second later")
	}
	if l.AllowN(now, -1) || l.AllowN(now, 3) {
		t.Fatal("negative or above the burst")
	}
	if !l.AllowN(now, 0) {
		t.Fatal("zero permits are always allowed")
	}
}

func TestLimiterReserveAndCancel(t *testing.T) {
	l, _ := NewLimiterConfig(LimiterConfig{RatePerSecond: 10, Burst: 1, StartEmpty: true, Counting: true})
	defer l.Close()
	now := Now()
	r, err := l.ReserveAt(now, 1, time.Second)
	// The limiter's clock started at its construction, a little before now.
	if d := r.DelayFrom(now); err != nil || !r.OK() || d > 100*time.Millisecond || d < 90*time.Millisecond {
		t.Fatalf("reserve: %v %v", r.DelayFrom(now), err)
	}
	if _, err := l.ReserveAt(now, 1, 150*time.Millisecond); !errors.Is(err, ErrReservationTooFar) {
		t.Fatalf("a second one would wait 200 ms: %v", err)
	}
	if err := r.CancelAt(now); err != nil {
		t.Fatalf("cancel: %v", err)
	}
	if err := r.CancelAt(now); !errors.Is(err, ErrNotCancelled) {
		t.Fatalf("cancel twice: %v", err)
	}
	if w, _ := l.WaitTimeAt(now, 1); w > 100*time.Millisecond || w < 90*time.Millisecond {
		t.Fatalf("after cancel the permit is back: wait %v", w)
	}
	if rr := l.ReserveN(time.Now(), 5); rr.OK() {
		t.Fatal("5 permits above a burst of 1")
	}
	st, _ := l.StatsAt(now)
	if st.Burst != 1 || st.Interval != 100*time.Millisecond || st.Admitted == NotCounted {
		t.Fatalf("%+v", st)
	}
}

func TestLimiterWaitFailsAtOnceWhenTheDeadlineIsTooClose(t *testing.T) {
	l, _ := NewLimiterConfig(LimiterConfig{RatePerSecond: 1, Burst: 1, StartEmpty: true})
	defer l.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	start := time.Now()
	if err := l.Wait(ctx); !errors.Is(err, ErrWouldExceedDeadline) || !errors.Is(err, ErrReservationTooFar) {
		t.Fatalf("%v", err)
	}
	if time.Since(start) > 40*time.Millisecond {
		t.Fatalf("Wait slept %v before failing", time.Since(start))
	}
	// Nothing was taken: the first permit is still due in about a second.
	if w, _ := l.WaitTimeAt(Now(), 1); w < 900*time.Millisecond {
		t.Fatalf("the refused wait took a permit: next in %v", w)
	}
	if err := l.Wait(nil); !errors.Is(err, ErrNilContext) { //nolint:staticcheck // a nil context on purpose
		t.Fatalf("nil context: %v", err)
	}
	if err := l.WaitN(context.Background(), 2); !errors.Is(err, ErrExceedsCapacity) {
		t.Fatalf("above the burst: %v", err)
	}
}

func TestLimiterWaitSleepsAndIsCancelled(t *testing.T) {
	l, _ := NewLimiterConfig(LimiterConfig{RatePerSecond: 50, Burst: 1, StartEmpty: true})
	defer l.Close()
	if err := l.Wait(context.Background()); err != nil {
		t.Fatal(err)
	}
	l2, _ := NewLimiterConfig(LimiterConfig{RatePerSecond: 1, Burst: 1, StartEmpty: true})
	defer l2.Close()
	ctx, cancel := context.WithCancel(context.Background())
	go func() { time.Sleep(10 * time.Millisecond); cancel() }()
	if err := l2.Wait(ctx); !errors.Is(err, context.Canceled) {
		t.Fatalf("%v", err)
	}
	if w, _ := l2.WaitTimeAt(Now(), 1); w < 900*time.Millisecond {
		t.Fatalf("the cancelled wait kept its permit: next in %v", w)
	}
}

func TestLimiterSetRateKeepsState(t *testing.T) {
	l, _ := NewLimiter(10, 2)
	defer l.Close()
	now := Now()
	_ = l.AcquireAt(now, 2)
	if err := l.SetRateAt(now, 1, 0, 4); err != nil {
		t.Fatal(err)
	}
	if err := l.AcquireAt(now, 1); !errors.Is(err, ErrRateLimited) {
		t.Fatalf("spent permits came back: %v", err)
	}
	if err := l.SetRateAt(now, 0, 0, 4); !errors.Is(err, ErrInvalidLimiterInterval) {
		t.Fatalf("no rate: %v", err)
	}
}

func TestLimiterConfigErrorsAndClose(t *testing.T) {
	if _, err := NewLimiter(10, 0); !errors.Is(err, ErrInvalidLimiterBurst) {
		t.Fatal(err)
	}
	if _, err := NewLimiter(2_000_000_000, 1); !errors.Is(err, ErrInvalidLimiterRate) {
		t.Fatal(err)
	}
	if _, err := NewLimiterConfig(LimiterConfig{Interval: -time.Second, Burst: 1}); !errors.Is(err, ErrInvalidLimiterInterval) {
		t.Fatal(err)
	}
	l, _ := NewLimiter(10, 1)
	r, _ := l.ReserveAt(Now(), 1, 0)
	_ = l.Close()
	_ = l.Close()
	if l.Allow() || l.AllowN(time.Now(), 1) {
		t.Fatal("a closed limiter allowed")
	}
	if err := l.AcquireAt(Now(), 1); !errors.Is(err, ErrClosed) {
		t.Fatal(err)
	}
	if err := r.Cancel(); !errors.Is(err, ErrClosed) {
		t.Fatal(err)
	}
	if err := l.Wait(context.Background()); !errors.Is(err, ErrClosed) {
		t.Fatal(err)
	}
}

func TestLimiterConcurrentAllowNeverExceedsTheBurst(t *testing.T) {
	l, _ := NewLimiterConfig(LimiterConfig{Interval: time.Hour, Burst: 100})
	defer l.Close()
	var admitted atomic.Int64
	var wg sync.WaitGroup
	for g := 0; g < 4; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 100; i++ {
				if l.Allow() {
					admitted.Add(1)
				}
			}
		}()
	}
	wg.Wait()
	if admitted.Load() != 100 {
		t.Fatalf("admitted %d of a burst of 100 with no refill", admitted.Load())
	}
}

func TestNanosOfMatchesNow(t *testing.T) {
	a := Now()
	n := NanosOf(time.Now())
	b := Now()
	// The pair (epochTime, epochNs) was read a few hundred ns apart; allow 1 ms.
	if n+uint64(time.Millisecond) < a || n > b+uint64(time.Millisecond) {
		t.Fatalf("NanosOf(time.Now()) = %d, outside [%d, %d]", n, a, b)
	}
	if NanosOf(time.Time{}) != 0 {
		t.Fatal("the zero time")
	}
}
