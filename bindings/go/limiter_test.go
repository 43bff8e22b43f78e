package portcullis

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
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

// The Go path reads the clock with runtime.nanotime; it must be the clock of Now (pcl_now_ns,
// CLOCK_MONOTONIC), or Allow would decide at another instant than the C library.
func TestNanotimeIsTheClockOfNow(t *testing.T) {
	for i := 0; i < 10_000; i++ {
		a := Now()
		b := uint64(nanotime())
		c := Now()
		d := uint64(nanotime())
		if a > b || b > c || c > d {
			t.Fatalf("Now %d, nanotime %d, Now %d, nanotime %d: not one clock", a, b, c, d)
		}
	}
}

// stateOf reads a limiter's state word (its Go path must be on).
func stateOf(t *testing.T, l *Limiter) uint64 {
	t.Helper()
	if l.state == nil {
		t.Fatal("the limiter has no Go path")
	}
	return atomic.LoadUint64(l.state)
}

// The Go path decides exactly as the C library: two limiters with one config and one origin get
// the same random sequence of times, permit counts, reconfigurations and reservations, one
// acquiring through Go and one through C; every decision and every state word must agree.
func TestLimiterGoPathDecidesAsTheCLibrary(t *testing.T) {
	const origin = uint64(1_000_000_000)
	configs := []LimiterConfig{
		{RatePerSecond: 10, Burst: 3},
		{Interval: 7, Burst: 1000},
		{Interval: 1, Burst: 1 << 56},
		{Interval: 1 << 56, Burst: 1},
		{RatePerSecond: 3, Burst: 5, StartEmpty: true},
	}
	rng := rand.New(rand.NewPCG(1, 2))
	for ci, cfg := range configs {
		viaGo, err := newLimiter(cfg, origin)
		if err != nil {
			t.Fatal(err)
		}
		viaC, _ := newLimiter(cfg, origin)
		interval := uint64(cfg.Interval)
		if cfg.RatePerSecond != 0 {
			interval = (1_000_000_000 + cfg.RatePerSecond - 1) / cfg.RatePerSecond
		}
		now := origin
		var seen [3]int // admitted, rate limited, above the capacity
		for step := 0; step < 20_000; step++ {
			switch rng.IntN(20) {
			case 0: // anywhere, at every magnitude: before the origin, beyond the word's range
				now = rng.Uint64() >> rng.IntN(64)
			case 1: // backwards
				now -= min(now, rng.Uint64N(1<<40))
			default:
				now += rng.Uint64N(2*min(interval, 1<<60) + 1)
			}
			n := rng.IntN(4)
			switch rng.IntN(10) {
			case 0:
				n = int(rng.Int64()) >> rng.IntN(63) // overflows n * interval, or not
			case 1:
				n = 0
			}
			what := fmt.Sprintf("config %d, step %d, n %d, now %d", ci, step, n, now)
			switch rng.IntN(50) {
			case 0:
				rate, iv, burst := rng.Uint64N(20), time.Duration(rng.Uint64N(1<<30)), rng.Uint64N(10)
				e1, e2 := viaGo.SetRateAt(now, rate, iv, burst), viaC.SetRateAt(now, rate, iv, burst)
				if e1 != e2 {
					t.Fatalf("%s: SetRateAt %v vs %v", what, e1, e2)
				}
			case 1:
				maxWait := time.Duration(rng.Int64N(int64(time.Second)))
				r1, e1 := viaGo.ReserveAt(now, n, maxWait)
				r2, e2 := viaC.ReserveAt(now, n, maxWait)
				if e1 != e2 || r1.ReadyAt() != r2.ReadyAt() {
					t.Fatalf("%s: ReserveAt (%d, %v) vs (%d, %v)", what, r1.ReadyAt(), e1, r2.ReadyAt(), e2)
				}
			default:
				e1 := viaGo.AcquireAt(now, n)
				e2 := viaC.acquireC(uint64(n), now)
				if e1 != e2 {
					t.Fatalf("%s: Go path %v, C library %v", what, e1, e2)
				}
				switch {
				case e1 == nil:
					seen[0]++
				case errors.Is(e1, ErrRateLimited):
					seen[1]++
				default:
					seen[2]++
				}
			}
			if g, c := stateOf(t, viaGo), stateOf(t, viaC); g != c {
				t.Fatalf("%s: state word %#x through Go, %#x through C", what, g, c)
			}
		}
		for _, k := range seen {
			if k < 100 {
				t.Fatalf("config %d: decisions admitted/refused/above capacity %v: the sequence missed a case", ci, seen)
			}
		}
		viaGo.Close()
		viaC.Close()
	}
}

// Counting and shadow mode are decided by the C library (their decisions also count or admit a
// refusal); the coarse clock only changes how Allow reads the time.
func TestLimiterGoPathOnlyForPlainLimiters(t *testing.T) {
	for _, cfg := range []LimiterConfig{
		{RatePerSecond: 1, Burst: 1, Counting: true},
		{RatePerSecond: 1, Burst: 1, Shadow: true},
	} {
		l, _ := NewLimiterConfig(cfg)
		if l.state != nil {
			t.Fatalf("%+v: Go path on", cfg)
		}
		now := Now()
		if err := l.AcquireAt(now, 1); err != nil {
			t.Fatal(err)
		}
		err := l.AcquireAt(now, 1)
		st, _ := l.StatsAt(now)
		if cfg.Shadow && (err != nil || !st.Shadow) || cfg.Counting && (!errors.Is(err, ErrRateLimited) || st.Admitted != 1 || st.Rejected != 1) {
			t.Fatalf("%+v: %v, %+v", cfg, err, st)
		}
		l.Close()
	}
	l, _ := NewLimiterConfig(LimiterConfig{RatePerSecond: 1, Burst: 1, CoarseClock: true})
	defer l.Close()
	if l.state == nil || !l.Allow() || l.Allow() || l.AcquireAt(Now(), 1) == nil {
		t.Fatal("a coarse-clock limiter: one permit")
	}
}

// Goroutines deciding through Go and through C on one limiter while another reconfigures it
// never take more than the burst: nothing refills in the test's time, and a reconfiguration
// keeps the fill level without rounding it up.
func TestLimiterGoAndCPathsTogetherNeverExceedTheBurst(t *testing.T) {
	for _, reconfigure := range []bool{false, true} {
		l, _ := NewLimiterConfig(LimiterConfig{Interval: time.Hour, Burst: 100})
		var admitted atomic.Int64
		var wg sync.WaitGroup
		stop := make(chan struct{})
		if reconfigure {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := 0; ; i++ {
					select {
					case <-stop:
						return
					default:
					}
					iv := time.Hour << (i % 2)
					if err := l.SetRateAt(Now(), 0, iv, 100); err != nil && !errors.Is(err, ErrReconfigureInProgress) {
						t.Error(err)
					}
				}
			}()
		}
		var deciders sync.WaitGroup
		for g := 0; g < 4; g++ {
			deciders.Add(1)
			go func() {
				defer deciders.Done()
				for i := 0; i < 100; i++ {
					var err error
					switch g {
					case 0:
						if !l.Allow() {
							err = ErrRateLimited
						}
					case 1:
						err = l.AcquireAt(Now(), 1)
					case 2:
						err = l.acquireC(1, Now())
					case 3:
						if err = l.AcquireAt(Now(), 2); err == nil {
							admitted.Add(1)
						}
					}
					if err == nil {
						admitted.Add(1)
					}
				}
			}()
		}
		deciders.Wait()
		close(stop)
		wg.Wait()
		got := admitted.Load()
		if got > 100 || !reconfigure && got != 100 {
			t.Fatalf("reconfiguring %v: %d permits taken from a burst of 100 with no refill", reconfigure, got)
		}
		l.Close()
	}
}

// On the real clock, goroutines calling Allow together take at most burst + elapsed / interval.
func TestLimiterConcurrentAllowKeepsTheRate(t *testing.T) {
	const interval, burst = time.Millisecond, 5
	start := Now()
	l, _ := NewLimiterConfig(LimiterConfig{Interval: interval, Burst: burst})
	defer l.Close()
	var admitted atomic.Int64
	var wg sync.WaitGroup
	for g := 0; g < 3; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for Now()-start < uint64(50*time.Millisecond) {
				if l.Allow() {
					admitted.Add(1)
				}
			}
		}()
	}
	wg.Wait()
	bound := burst + int64((Now()-start)/uint64(interval))
	if got := admitted.Load(); got > bound || got < burst {
		t.Fatalf("%d admitted, bound %d", got, bound)
	}
}
