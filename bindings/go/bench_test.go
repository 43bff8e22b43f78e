package portcullis

// Benchmarks of the Go binding beside its floors and its peers, in one `go test -bench` run:
// an empty cgo call, a sync/atomic add, a clock read plus a CAS and a sync.Mutex counter
// (floors), and golang.org/x/time/rate and sony/gobreaker (peers). scripts/bench.sh runs them
// and reports the ratios; `go test -run XXX -bench . -benchtime 1x` only checks that they run.

import (
	"errors"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/sony/gobreaker/v2"
	"golang.org/x/time/rate"
)

func BenchmarkBaselineEmptyCgoCall(b *testing.B) {
	for i := 0; i < b.N; i++ {
		emptyCgoCall()
	}
}

func BenchmarkBaselineAtomicAdd(b *testing.B) {
	var n atomic.Uint64
	for i := 0; i < b.N; i++ {
		n.Add(1)
	}
}

// The floor of an exact rate-limit check on one word with the precise clock: read
// CLOCK_MONOTONIC (runtime.nanotime) and move a shared word forward by one CAS. With several
// goroutines every admission takes the word's cache line from another core.
func BenchmarkBaselineClockCAS(b *testing.B) {
	var w atomic.Uint64
	for i := 0; i < b.N; i++ {
		clockCAS(&w)
	}
}

func BenchmarkBaselineClockCASParallel(b *testing.B) {
	var w atomic.Uint64
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			clockCAS(&w)
		}
	})
}

func clockCAS(w *atomic.Uint64) {
	now := uint64(nanotime())
	for {
		old := w.Load()
		if w.CompareAndSwap(old, max(old, now)+1) {
			return
		}
	}
}

func BenchmarkBaselineMutexCounter(b *testing.B) {
	var mu sync.Mutex
	n := 0
	for i := 0; i < b.N; i++ {
		mu.Lock()
		n++
		mu.Unlock()
	}
	_ = n
}

func BenchmarkCountWindowRecord(b *testing.B) {
	w, _ := NewCountWindow(100)
	defer w.Close()
	for i := 0; i < b.N; i++ {
		_ = w.Record(Success)
	}
}

func BenchmarkCountWindowRecordParallel(b *testing.B) {
	w, _ := NewCountWindow(100)
	defer w.Close()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			_ = w.Record(Success)
		}
	})
}

func BenchmarkBulkheadAcquireRelease(b *testing.B) {
	h, _ := NewBulkhead(1 << 20)
	defer h.Close()
	for i := 0; i < b.N; i++ {
		if h.TryAcquire(1) == nil {
			_ = h.Release(1)
		}
	}
}

func BenchmarkPeerXTimeRateAllow(b *testing.B) {
	l := rate.NewLimiter(rate.Limit(1e12), 1<<30)
	for i := 0; i < b.N; i++ {
		_ = l.Allow()
	}
}

func BenchmarkPeerXTimeRateAllowParallel(b *testing.B) {
	l := rate.NewLimiter(rate.Limit(1e12), 1<<30)
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			_ = l.Allow()
		}
	})
}

var errBench = errors.New("bench")

func BenchmarkPeerGobreakerExecute(b *testing.B) {
	cb := gobreaker.NewCircuitBreaker[struct{}](gobreaker.Settings{Name: "bench"})
	for i := 0; i < b.N; i++ {
		_, _ = cb.Execute(func() (struct{}, error) { return struct{}{}, nil })
	}
	_ = errBench
}

// An admission decision: the breaker is closed, so the permit needs no release.
func BenchmarkBreakerAcquire(b *testing.B) {
	cb, _ := NewBreaker(DefaultBreakerConfig())
	defer cb.Close()
	for i := 0; i < b.N; i++ {
		_, _ = cb.Acquire()
	}
}

func BenchmarkBreakerAcquireAt(b *testing.B) {
	cb, _ := NewBreaker(DefaultBreakerConfig())
	defer cb.Close()
	now := Now()
	for i := 0; i < b.N; i++ {
		_, _, _ = cb.AcquireAt(now)
	}
}

func BenchmarkBreakerAcquireRecord(b *testing.B) {
	cb, _ := NewBreaker(DefaultBreakerConfig())
	defer cb.Close()
	for i := 0; i < b.N; i++ {
		if p, err := cb.Acquire(); err == nil {
			_ = cb.Record(p, Success)
		}
	}
}

func BenchmarkBreakerExecute(b *testing.B) {
	cb, _ := NewBreaker(DefaultBreakerConfig())
	defer cb.Close()
	for i := 0; i < b.N; i++ {
		_ = cb.Execute(func() error { return nil })
	}
}

func BenchmarkBreakerAcquireParallel(b *testing.B) {
	cb, _ := NewBreaker(DefaultBreakerConfig())
	defer cb.Close()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			_, _ = cb.Acquire()
		}
	})
}

// batchItems is the batch size of the batched-record benchmarks; they report ns/item.
const batchItems = 256

func BenchmarkBreakerRecordBatch(b *testing.B) {
	cb, _ := NewBreaker(DefaultBreakerConfig())
	defer cb.Close()
	permits := make([]Permit, batchItems)
	outcomes := make([]Outcome, batchItems)
	for i := range permits {
		permits[i], _ = cb.Acquire()
		outcomes[i] = Success
	}
	now := Now()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		_, _ = cb.RecordBatchAt(permits, outcomes, now)
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/batchItems, "ns/item")
}

func BenchmarkCountWindowRecordBatch(b *testing.B) {
	w, _ := NewCountWindow(100)
	defer w.Close()
	outcomes := make([]Outcome, batchItems)
	for i := range outcomes {
		outcomes[i] = Success
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		_, _ = w.RecordBatch(outcomes)
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/batchItems, "ns/item")
}

// The limiter never refuses here (a rate far above the loop's), as in the x/time/rate peer.
func BenchmarkLimiterAllow(b *testing.B) {
	l, _ := NewLimiter(1_000_000_000, 1<<40)
	defer l.Close()
	for i := 0; i < b.N; i++ {
		_ = l.Allow()
	}
}

func BenchmarkLimiterAllowParallel(b *testing.B) {
	l, _ := NewLimiter(1_000_000_000, 1<<40)
	defer l.Close()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			_ = l.Allow()
		}
	})
}

func BenchmarkPeerGobreakerAllow(b *testing.B) {
	cb := gobreaker.NewTwoStepCircuitBreaker[struct{}](gobreaker.Settings{Name: "bench"})
	for i := 0; i < b.N; i++ {
		if done, err := cb.Allow(); err == nil {
			done(nil)
		}
	}
}

func BenchmarkBreakerAllow(b *testing.B) {
	cb, _ := NewBreaker(DefaultBreakerConfig())
	defer cb.Close()
	for i := 0; i < b.N; i++ {
		if done, err := cb.Allow(); err == nil {
			done(true)
		}
	}
}

func BenchmarkLimiterAllowCoarseClock(b *testing.B) {
	l, _ := NewLimiterConfig(LimiterConfig{RatePerSecond: 1_000_000_000, Burst: 1 << 40, CoarseClock: true})
	defer l.Close()
	for i := 0; i < b.N; i++ {
		_ = l.Allow()
	}
}

func BenchmarkLimiterAllowCoarseClockParallel(b *testing.B) {
	l, _ := NewLimiterConfig(LimiterConfig{RatePerSecond: 1_000_000_000, Burst: 1 << 40, CoarseClock: true})
	defer l.Close()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			_ = l.Allow()
		}
	})
}
