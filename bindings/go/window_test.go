package portcullis

import (
	"errors"
	"sync"
	"testing"
	"time"
)

func TestVersionMatchesHeader(t *testing.T) {
	if Version() != HeaderVersion {
		t.Fatalf("library %d, header %d", Version(), HeaderVersion)
	}
}

func TestStatusesAreErrors(t *testing.T) {
	if !errors.Is(ErrRateLimited, ErrRateLimited) || errors.Is(ErrRateLimited, ErrNoPermits) {
		t.Fatal("errors.Is does not distinguish statuses")
	}
	if ErrRateLimited.Error() != "portcullis: rejected: rate limited" {
		t.Fatalf("message %q", ErrRateLimited.Error())
	}
	if !ErrRateLimited.(Status).IsRefusal() || ErrNullArgument.(Status).IsRefusal() {
		t.Fatal("IsRefusal")
	}
	if Status(9999).String() != "unknown status" {
		t.Fatal("unknown status text")
	}
}

func TestClocks(t *testing.T) {
	a, c, b := Now(), NowCoarse(), Now()
	if a == 0 || b < a || c > b || b-c > uint64(50*time.Millisecond) {
		t.Fatalf("clocks: %d %d %d", a, c, b)
	}
}

func TestCountWindow(t *testing.T) {
	w, err := NewCountWindow(3)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	for _, o := range []Outcome{Failure, SlowSuccess, Success, Success} {
		if err := w.Record(o); err != nil {
			t.Fatal(err)
		}
	}
	c, err := w.Counts()
	if err != nil || c != (WindowCounts{Calls: 3, Failures: 0, Slow: 1}) {
		t.Fatalf("%+v %v", c, err)
	}
	if err := w.Record(Outcome(0)); !errors.Is(err, ErrInvalidArgument) {
		t.Fatalf("invalid outcome: %v", err)
	}
	if err := w.Reset(); err != nil {
		t.Fatal(err)
	}
	if c, _ := w.Counts(); c.Calls != 0 {
		t.Fatal("reset")
	}
}

func TestCountWindowInvalidSizes(t *testing.T) {
	for _, size := range []uint32{0, 1025} {
		if _, err := NewCountWindow(size); !errors.Is(err, ErrInvalidWindowSize) {
			t.Fatalf("size %d: %v", size, err)
		}
	}
}

func TestCloseIsIdempotentAndUseAfterCloseIsAnError(t *testing.T) {
	w, err := NewCountWindow(10)
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if err := w.Record(Success); !errors.Is(err, ErrClosed) {
		t.Fatalf("record after close: %v", err)
	}
	if _, err := w.Counts(); !errors.Is(err, ErrClosed) {
		t.Fatalf("counts after close: %v", err)
	}
}

func TestTimeWindowExpiryAndBackwardsRecord(t *testing.T) {
	w, err := NewTimeWindow(400*time.Nanosecond, 4)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	if err := w.RecordAt(Failure, 250); err != nil {
		t.Fatal(err)
	}
	if c, _ := w.CountsAt(599); c.Failures != 1 {
		t.Fatalf("at 599: %+v", c)
	}
	if c, _ := w.CountsAt(600); c.Failures != 0 {
		t.Fatalf("at 600: %+v", c)
	}
	if err := w.RecordAt(Success, 1000); err != nil {
		t.Fatal(err)
	}
	if err := w.RecordAt(Failure, 100); !errors.Is(err, ErrNotCounted) {
		t.Fatalf("old record: %v", err)
	}
}

func TestTimeWindowInvalidConfig(t *testing.T) {
	if _, err := NewTimeWindow(0, 10); !errors.Is(err, ErrInvalidWindowDuration) {
		t.Fatal(err)
	}
	if _, err := NewTimeWindow(-time.Second, 10); !errors.Is(err, ErrInvalidWindowDuration) {
		t.Fatal(err)
	}
	if _, err := NewTimeWindow(1001, 10); !errors.Is(err, ErrInvalidWindowDuration) {
		t.Fatal(err)
	}
	if _, err := NewTimeWindow(time.Second, 0); !errors.Is(err, ErrInvalidWindowBuckets) {
		t.Fatal(err)
	}
}

func TestConcurrentRecordsFromGoroutines(t *testing.T) {
	w, err := NewCountWindow(1024)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	var wg sync.WaitGroup
	for g := 0; g < 4; g++ {
		wg.Add(1)
		go func(g int) {
			defer wg.Done()
			for i := 0; i < 250; i++ {
				o := Success
				if g%2 == 0 {
					o = Failure
				}
				if err := w.Record(o); err != nil {
					t.Error(err)
				}
			}
		}(g)
	}
	wg.Wait()
	if c, _ := w.Counts(); c != (WindowCounts{Calls: 1000, Failures: 500}) {
		t.Fatalf("%+v", c)
	}
}

func TestCountWindowRecordBatch(t *testing.T) {
	w, _ := NewCountWindow(4)
	defer w.Close()
	n, err := w.RecordBatch([]Outcome{Failure, Success, SlowSuccess, SlowFailure, Success, Success})
	if err != nil || n != 6 {
		t.Fatalf("%d %v", n, err)
	}
	c, _ := w.Counts()
	if c != (WindowCounts{Calls: 4, Failures: 1, Slow: 2}) {
		t.Fatalf("the last four: %+v", c)
	}
	if _, err := w.RecordBatch([]Outcome{Failure, 0}); !errors.Is(err, ErrInvalidArgument) {
		t.Fatal(err)
	}
	if c2, _ := w.Counts(); c2 != c {
		t.Fatalf("a refused batch changed the window: %+v", c2)
	}
	if n, err := w.RecordBatch(nil); n != 0 || err != nil {
		t.Fatal(n, err)
	}
	_ = w.Close()
	if _, err := w.RecordBatch([]Outcome{Success}); !errors.Is(err, ErrClosed) {
		t.Fatal(err)
	}
}
