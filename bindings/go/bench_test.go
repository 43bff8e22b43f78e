package portcullis

// Benchmarks of the Go binding beside its floors and its peers, in one `go test -bench` run:
// an empty cgo call, a sync/atomic add and a sync.Mutex counter (floors), and
// golang.org/x/time/rate and sony/gobreaker (peers). scripts/bench.sh runs them and reports the
// ratios; `go test -run XXX -bench . -benchtime 1x` only checks that they run.

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
