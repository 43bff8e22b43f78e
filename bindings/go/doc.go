// Package portcullis is the Go binding of portcullis, a lock-free admission-control library:
// sliding windows (and, as the C API grows, circuit breakers, rate limiters and bulkheads) whose
// decisions cost one cgo call and never allocate on the C side.
//
// Handles own C objects: call Close when done (it is idempotent; a finalizer frees a forgotten
// handle as a backstop). Every method of a closed handle returns ErrClosed. Statuses of the C API
// are Go errors of type Status, so errors.Is(err, portcullis.ErrRateLimited) works.
//
// Time: methods without a time argument read the C library's monotonic clock (Now); the ...At
// variants take nanoseconds from Now, which lets one reading serve several calls or a test drive a
// virtual clock.
package portcullis
