package portcullis_test

import (
	"context"
	"errors"
	"fmt"
	"time"

	"portcullis"
)

func ExampleCountWindow() {
	w, err := portcullis.NewCountWindow(100)
	if err != nil {
		panic(err)
	}
	defer w.Close()
	for i := 0; i < 10; i++ {
		outcome := portcullis.Success
		if i%5 == 0 {
			outcome = portcullis.Failure
		}
		_ = w.Record(outcome)
	}
	c, _ := w.Counts()
	fmt.Printf("%d calls, %d failed\n", c.Calls, c.Failures)
	// Output: 10 calls, 2 failed
}

func ExampleTimeWindow_RecordAt() {
	// Four buckets of 100 ns on a virtual clock: an outcome at 250 ns expires at 600 ns.
	w, _ := portcullis.NewTimeWindow(400*time.Nanosecond, 4)
	defer w.Close()
	_ = w.RecordAt(portcullis.Failure, 250)
	before, _ := w.CountsAt(599)
	after, _ := w.CountsAt(600)
	fmt.Println(before.Failures, after.Failures)
	// Output: 1 0
}

func ExampleBreaker_Execute() {
	cfg := portcullis.DefaultBreakerConfig()
	cfg.ConsecutiveFailures = 3
	b, err := portcullis.NewBreaker(cfg)
	if err != nil {
		panic(err)
	}
	defer b.Close()
	down := errors.New("dependency down")
	for i := 0; i < 4; i++ {
		err := b.Execute(func() error { return down })
		fmt.Println(i, err)
	}
	// Output:
	// 0 dependency down
	// 1 dependency down
	// 2 dependency down
	// 3 portcullis: rejected: circuit breaker open
}

func ExampleLimiter_Wait() {
	// 10 permits per second, 2 at once: the third Wait would take about 100 ms, more than the
	// context allows, so it fails at once and takes nothing.
	l, _ := portcullis.NewLimiter(10, 2)
	defer l.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Millisecond)
	defer cancel()
	fmt.Println(l.Wait(ctx), l.Wait(ctx))
	fmt.Println(errors.Is(l.Wait(ctx), portcullis.ErrWouldExceedDeadline))
	// Output:
	// <nil> <nil>
	// true
}

func ExampleRetryPolicy_Do() {
	cfg := portcullis.DefaultRetryConfig()
	cfg.MaxAttempts = 3
	cfg.BaseDelay = time.Millisecond
	p, _ := portcullis.NewRetryPolicy(cfg)
	defer p.Close()
	attempts := 0
	err := p.Do(context.Background(), func(context.Context) error {
		attempts++
		if attempts < 3 {
			return errors.New("transient")
		}
		return nil
	})
	fmt.Println(err, attempts)
	// Output: <nil> 3
}
