package portcullis

import _ "unsafe" // for go:linkname

// nanotime is the Go runtime's monotonic clock: on Linux a vDSO clock_gettime(CLOCK_MONOTONIC)
// in nanoseconds, the clock of Now (pcl_now_ns) read without a cgo call
// (TestNanotimeIsTheClockOfNow checks that the two agree). The runtime keeps this name and
// signature for the packages that link to it (go.dev/issue/67401).
//
//go:linkname nanotime runtime.nanotime
func nanotime() int64
