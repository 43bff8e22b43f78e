package portcullis

// #include "portcullis.h"
import "C"

import (
	"context"
	"errors"
	"time"
	"unsafe"
)

// ErrNilContext is returned when a nil context.Context is passed.
var ErrNilContext = errors.New("portcullis: nil context")

// DeadlineNever is the deadline of a context without one.
const DeadlineNever = uint64(C.PCL_DEADLINE_NEVER)

// DeadlineOf is the context's deadline on the clock of Now (DeadlineNever if it has none).
func DeadlineOf(ctx context.Context) uint64 {
	if ctx == nil {
		return DeadlineNever
	}
	d, ok := ctx.Deadline()
	if !ok {
		return DeadlineNever
	}
	now := Now()
	left := time.Until(d)
	if left <= 0 {
		return now
	}
	if uint64(left) > DeadlineNever-now {
		return DeadlineNever
	}
	return now + uint64(left)
}

// Remaining is the time left before the context's deadline: ErrExpired at or after it (never a
// negative duration), and a very long duration when the context has no deadline.
func Remaining(ctx context.Context) (time.Duration, error) {
	if ctx == nil {
		return 0, ErrNilContext
	}
	var left C.uint64_t
	if err := check(C.pcl_deadline_remaining(C.uint64_t(DeadlineOf(ctx)), C.uint64_t(Now()), &left)); err != nil {
		return 0, err
	}
	if uint64(left) > uint64(1<<63-1) {
		return time.Duration(1<<63 - 1), nil
	}
	return time.Duration(left), nil
}

// RetryAllowed reports whether a retry after delay still leaves minAttempt before the context's
// deadline (the delay is never shortened to fit).
func RetryAllowed(ctx context.Context, delay, minAttempt time.Duration) bool {
	if ctx == nil || delay < 0 || minAttempt < 0 {
		return false
	}
	return C.pcl_deadline_retry_allowed(C.uint64_t(DeadlineOf(ctx)), C.uint64_t(Now()),
		C.uint64_t(delay), C.uint64_t(minAttempt)) == C.PCL_STATUS_OK
}

// EncodeGRPCTimeout is the grpc-timeout header value for timeout (finest unit that fits 8
// digits, rounded down); ErrExpired for a timeout that is zero or negative.
func EncodeGRPCTimeout(timeout time.Duration) (string, error) {
	if timeout <= 0 {
		return "", ErrExpired
	}
	var buf [16]C.char
	var n C.size_t
	if err := check(C.pcl_grpc_timeout_encode(C.uint64_t(timeout), &buf[0], C.size_t(len(buf)), &n)); err != nil {
		return "", err
	}
	return C.GoStringN(&buf[0], C.int(n)), nil
}

// DecodeGRPCTimeout parses a grpc-timeout header value; malformed values give the
// ErrHeader... error naming what is wrong.
func DecodeGRPCTimeout(value string) (time.Duration, error) {
	var t C.uint64_t
	// A Go byte slice may be passed to C for the duration of the call (cgo pointer rules); a
	// one-byte buffer stands in for the empty string so the pointer is never NULL.
	b := append([]byte(value), 0)
	p := (*C.char)(unsafe.Pointer(&b[0]))
	if err := check(C.pcl_grpc_timeout_decode(p, C.size_t(len(value)), &t)); err != nil {
		return 0, err
	}
	if uint64(t) > uint64(1<<63-1) {
		return 0, ErrHeaderOverflow
	}
	return time.Duration(t), nil
}
