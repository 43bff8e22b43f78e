package portcullis_test

import (
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
