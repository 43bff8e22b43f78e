package portcullis

import (
	"errors"
	"sync"
	"testing"
	"time"
)

// twoFailures trips on 2 consecutive failures, stays open 1 s, admits one probe.
func twoFailures() BreakerConfig {
	cfg := DefaultBreakerConfig()
	cfg.ConsecutiveFailures = 2
	cfg.OpenDuration = time.Second
	cfg.MaxOpenDuration = time.Second
	cfg.JitterPPM = 0
	cfg.HalfOpenProbes = 1
	cfg.SuccessesToClose = 1
	cfg.ProbeTimeout = time.Second
	return cfg
}

const sec = uint64(time.Second)

func TestBreakerTripsRejectsProbesAndCloses(t *testing.T) {
	var seen []Transition
	cfg := twoFailures()
	cfg.OnTransition = func(tr Transition) { seen = append(seen, tr) }
	b, err := NewBreaker(cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()

	for i := 0; i < 2; i++ {
		p, _, err := b.AcquireAt(0)
		if err != nil {
			t.Fatal(err)
		}
		if err := b.RecordAt(p, Failure, 0); err != nil {
			t.Fatal(err)
		}
	}
	if s, _ := b.State(); s != StateOpen {
		t.Fatalf("state %v after two failures", s)
	}
	// The open period ends at 1 s rounded up to the state word's 2^20 ns tick.
	const tick = uint64(1 << 20)
	end := (sec + tick - 1) / tick * tick
	_, after, err := b.AcquireAt(sec / 4)
	if !errors.Is(err, ErrRejectedOpen) || after != time.Duration(end-sec/4) {
		t.Fatalf("open: %v, retry after %v", err, after)
	}
	probe, _, err := b.AcquireAt(2 * sec)
	if err != nil || !probe.Probe() || probe.Transition() != TransitionHalfOpened {
		t.Fatalf("probe: %+v %v", probe, err)
	}
	if _, _, err := b.AcquireAt(2 * sec); !errors.Is(err, ErrRejectedHalfOpenFull) {
		t.Fatalf("second probe: %v", err)
	}
	if err := b.RecordAt(probe, Success, 2*sec); err != nil {
		t.Fatal(err)
	}
	want := []Transition{TransitionOpened, TransitionHalfOpened, TransitionClosed}
	if len(seen) != len(want) {
		t.Fatalf("transitions %v, want %v", seen, want)
	}
	for i := range want {
		if seen[i] != want[i] {
			t.Fatalf("transitions %v, want %v", seen, want)
		}
	}
	st, err := b.StatsAt(2 * sec)
	if err != nil || st.State != StateClosed || st.TimesTripped != 1 || st.OpenRemaining != -1 {
		t.Fatalf("%+v %v", st, err)
	}
}

func TestBreakerLateOutcomeIsNotCounted(t *testing.T) {
	b, _ := NewBreaker(twoFailures())
	defer b.Close()
	late, _, _ := b.AcquireAt(0)
	for i := 0; i < 2; i++ {
		p, _, _ := b.AcquireAt(0)
		_ = b.RecordAt(p, Failure, 0)
	}
	if err := b.RecordAt(late, Failure, 0); !errors.Is(err, ErrNotCounted) {
		t.Fatalf("an outcome from the old generation: %v", err)
	}
	if err := b.RecordAt(late, Outcome(77), 0); !errors.Is(err, ErrInvalidArgument) {
		t.Fatalf("unknown outcome: %v", err)
	}
}

func TestBreakerIgnoreFreesTheProbe(t *testing.T) {
	b, _ := NewBreaker(twoFailures())
	defer b.Close()
	_, _ = b.ForceOpen()
	_, _ = b.ForceClose()
	for i := 0; i < 2; i++ {
		p, _, _ := b.AcquireAt(0)
		_ = b.RecordAt(p, Failure, 0)
	}
	probe, _, err := b.AcquireAt(2 * sec)
	if err != nil {
		t.Fatal(err)
	}
	if err := b.Ignore(probe); err != nil {
		t.Fatal(err)
	}
	if _, _, err := b.AcquireAt(2 * sec); err != nil {
		t.Fatalf("the ignored probe's place: %v", err)
	}
}

func TestBreakerRecordBatch(t *testing.T) {
	b, _ := NewBreaker(twoFailures())
	defer b.Close()
	permits := make([]Permit, 4)
	for i := range permits {
		permits[i], _, _ = b.AcquireAt(0)
	}
	if _, err := b.RecordBatchAt(permits, []Outcome{Failure}, 0); !errors.Is(err, ErrInvalidArgument) {
		t.Fatalf("lengths differ: %v", err)
	}
	if _, err := b.RecordBatchAt(permits, []Outcome{Failure, Failure, 9, Success}, 0); !errors.Is(err, ErrInvalidArgument) {
		t.Fatalf("unknown outcome: %v", err)
	}
	if st, _ := b.StatsAt(0); st.Calls != 0 {
		t.Fatalf("a refused batch recorded %d calls", st.Calls)
	}
	n, err := b.RecordBatchAt(permits, []Outcome{Failure, Failure, Failure, Success}, 0)
	if err != nil || n != 2 {
		t.Fatalf("counted %d (%v); want 2: the batch trips the breaker after two", n, err)
	}
	if s, _ := b.State(); s != StateOpen {
		t.Fatalf("state %v", s)
	}
	if n, err := b.RecordBatchAt(nil, nil, 0); n != 0 || err != nil {
		t.Fatalf("empty batch: %d %v", n, err)
	}
}

func TestBreakerExecuteAndAllow(t *testing.T) {
	cfg := twoFailures()
	errIgnored := errors.New("not a failure")
	cfg.IsSuccessful = func(err error) bool { return err == nil || errors.Is(err, errIgnored) }
	b, _ := NewBreaker(cfg)
	defer b.Close()
	boom := errors.New("boom")
	if err := b.Execute(func() error { return errIgnored }); !errors.Is(err, errIgnored) {
		t.Fatal(err)
	}
	if st, _ := b.Stats(); st.Failures != 0 || st.Calls != 1 {
		t.Fatalf("an ignored error counted as a failure: %+v", st)
	}
	for i := 0; i < 2; i++ {
		if err := b.Execute(func() error { return boom }); !errors.Is(err, boom) {
			t.Fatal(err)
		}
	}
	ran := false
	if err := b.Execute(func() error { ran = true; return nil }); !errors.Is(err, ErrRejectedOpen) || ran {
		t.Fatalf("open breaker ran the function (%v) or answered %v", ran, err)
	}
	if done, err := b.Allow(); done != nil || !errors.Is(err, ErrRejectedOpen) {
		t.Fatalf("Allow on an open breaker: %v", err)
	}
	_, _ = b.Reset()
	done, err := b.Allow()
	if err != nil {
		t.Fatal(err)
	}
	done(false)
	if st, _ := b.Stats(); st.Failures != 1 {
		t.Fatalf("done(false) recorded %+v", st)
	}
}

func TestBreakerExecuteRecordsAPanicAsAFailure(t *testing.T) {
	b, _ := NewBreaker(twoFailures())
	defer b.Close()
	func() {
		defer func() {
			if recover() == nil {
				t.Fatal("the panic was swallowed")
			}
		}()
		_ = b.Execute(func() error { panic("boom") })
	}()
	if st, _ := b.Stats(); st.Failures != 1 {
		t.Fatalf("%+v", st)
	}
}

func TestBreakerOperatorCalls(t *testing.T) {
	b, _ := NewBreaker(twoFailures())
	defer b.Close()
	if prev, err := b.ForceOpen(); err != nil || prev != StateClosed {
		t.Fatal(prev, err)
	}
	if _, err := b.Acquire(); !errors.Is(err, ErrRejectedForcedOpen) {
		t.Fatal(err)
	}
	if prev, _ := b.Disable(); prev != StateForcedOpen {
		t.Fatal(prev)
	}
	p, err := b.Acquire()
	if err != nil {
		t.Fatal(err)
	}
	if err := b.Record(p, Failure); !errors.Is(err, ErrNotCounted) {
		t.Fatalf("disabled breaker counted: %v", err)
	}
	if prev, _ := b.MetricsOnly(); prev != StateDisabled {
		t.Fatal(prev)
	}
	if s, _ := b.State(); s != StateMetricsOnly || s.String() != "metrics-only" {
		t.Fatal(s)
	}
}

func TestBreakerShadowAdmitsAndReportsTheRefusal(t *testing.T) {
	cfg := twoFailures()
	cfg.Shadow = true
	b, _ := NewBreaker(cfg)
	defer b.Close()
	for i := 0; i < 2; i++ {
		p, _, _ := b.AcquireAt(0)
		_ = b.RecordAt(p, Failure, 0)
	}
	p, _, err := b.AcquireAt(0)
	if err != nil || !p.Shadow() || !errors.Is(p.ShadowRejection(), ErrRejectedOpen) {
		t.Fatalf("%+v %v", p, err)
	}
}

func TestBreakerConfigErrors(t *testing.T) {
	cases := []struct {
		edit func(*BreakerConfig)
		want error
	}{
		{func(c *BreakerConfig) { c.FailureRatePPM = 1_000_001 }, ErrInvalidBreakerFailureRate},
		{func(c *BreakerConfig) { c.OpenDuration = 0 }, ErrInvalidBreakerOpenDuration},
		{func(c *BreakerConfig) { c.OpenDuration = -time.Second }, ErrInvalidBreakerOpenDuration},
		{func(c *BreakerConfig) { c.MaxOpenDuration = time.Millisecond }, ErrInvalidBreakerMaxOpenDuration},
		{func(c *BreakerConfig) { c.HalfOpenProbes = 0 }, ErrInvalidBreakerHalfOpenProbes},
		{func(c *BreakerConfig) { c.SuccessesToClose = 2 }, ErrInvalidBreakerSuccessesToClose},
		{func(c *BreakerConfig) { c.ProbeTimeout = 0 }, ErrInvalidBreakerProbeTimeout},
		{func(c *BreakerConfig) { c.WindowSize = 0 }, ErrInvalidWindowSize},
	}
	for i, tc := range cases {
		cfg := twoFailures()
		tc.edit(&cfg)
		b, err := NewBreaker(cfg)
		if !errors.Is(err, tc.want) || b != nil {
			t.Errorf("case %d: %v, want %v", i, err, tc.want)
		}
	}
}

func TestBreakerUseAfterClose(t *testing.T) {
	b, _ := NewBreaker(twoFailures())
	p, _ := b.Acquire()
	_ = b.Close()
	_ = b.Close() // idempotent
	if _, err := b.Acquire(); !errors.Is(err, ErrClosed) {
		t.Fatal(err)
	}
	if err := b.Record(p, Success); !errors.Is(err, ErrClosed) {
		t.Fatal(err)
	}
	if _, err := b.RecordBatch([]Permit{p}, []Outcome{Success}); !errors.Is(err, ErrClosed) {
		t.Fatal(err)
	}
	if err := b.Execute(func() error { return nil }); !errors.Is(err, ErrClosed) {
		t.Fatal(err)
	}
	if _, err := b.State(); !errors.Is(err, ErrClosed) {
		t.Fatal(err)
	}
	if _, err := b.ForceOpen(); !errors.Is(err, ErrClosed) {
		t.Fatal(err)
	}
}

func TestBreakerConcurrentCallers(t *testing.T) {
	cfg := DefaultBreakerConfig()
	cfg.ConsecutiveFailures = 0
	cfg.FailureRatePPM = 500_000
	cfg.MinCalls = 10
	b, _ := NewBreaker(cfg)
	defer b.Close()
	var wg sync.WaitGroup
	for g := 0; g < 4; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			batch := make([]Permit, 0, 8)
			for i := 0; i < 2000; i++ {
				p, err := b.Acquire()
				if err != nil {
					continue
				}
				batch = append(batch, p)
				if len(batch) == cap(batch) {
					_, _ = b.RecordBatch(batch, []Outcome{Success, Success, Success, Success, Success, Success, Success, Success})
					batch = batch[:0]
				}
			}
		}()
	}
	wg.Wait()
	st, err := b.Stats()
	if err != nil || st.State != StateClosed || st.Failures != 0 || st.Calls == 0 {
		t.Fatalf("%+v %v", st, err)
	}
}

func TestBreakerWeightedFailureTripsAlone(t *testing.T) {
	b, _ := NewBreaker(twoFailures())
	defer b.Close()
	p, _, _ := b.AcquireAt(0)
	if err := b.RecordWeightedAt(p, Failure, 0, 0); !errors.Is(err, ErrInvalidArgument) {
		t.Fatal(err)
	}
	if err := b.RecordWeightedAt(p, Failure, MaxWeight+1, 0); !errors.Is(err, ErrInvalidArgument) {
		t.Fatal(err)
	}
	if err := b.RecordWeightedAt(p, Failure, 2, 0); err != nil {
		t.Fatal(err)
	}
	if s, _ := b.State(); s != StateOpen {
		t.Fatalf("a failure of weight 2 against a rule of 2: %v", s)
	}
}

func TestBreakerAcquireInGoAgreesWithC(t *testing.T) {
	b, _ := NewBreaker(twoFailures())
	defer b.Close()
	for round := uint64(0); round < 3; round++ {
		fast, err := b.Acquire() // decided in Go from the state word
		if err != nil {
			t.Fatal(err)
		}
		slow, _, err := b.AcquireAt(Now()) // decided by the C library
		if err != nil || fast != slow {
			t.Fatalf("round %d: Go %+v, C %+v (%v)", round, fast, slow, err)
		}
		// The Go-made permit records like any other: two failures trip the breaker.
		if err := b.Record(fast, Failure); err != nil {
			t.Fatal(err)
		}
		if err := b.Record(slow, Failure); err != nil {
			t.Fatal(err)
		}
		if _, err := b.Acquire(); !errors.Is(err, ErrRejectedOpen) {
			t.Fatalf("open, through the C library: %v", err)
		}
		_, _ = b.ForceClose() // a new generation
	}
	_, _ = b.MetricsOnly()
	p, err := b.Acquire()
	if err != nil || p.Probe() || p.Shadow() {
		t.Fatalf("metrics-only: %+v %v", p, err)
	}
}
