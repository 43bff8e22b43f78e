package portcullis

// #include "portcullis.h"
import "C"

// Status is a status of the C API. OK is not an error; every other Status is, and is returned as
// one, so errors.Is(err, ErrRateLimited) works.
type Status uint32

// ErrClosed is returned by every method of a handle after Close.
var ErrClosed = closedError{}

type closedError struct{}

func (closedError) Error() string { return "portcullis: use of a closed handle" }

// Error describes the status (the C library's pcl_status_str).
func (s Status) Error() string { return "portcullis: " + s.String() }

// String is the C library's description of the status.
func (s Status) String() string { return C.GoString(C.pcl_status_str(C.uint32_t(s))) }

// IsRefusal reports whether s is a normal refusal (an answer such as "rate limited"), not an
// error of the caller or of the library.
func (s Status) IsRefusal() bool { return s != StatusOK && !bool(C.pcl_status_is_error(C.uint32_t(s))) }

// check turns a C status into a Go error (nil for OK).
func check(s C.pcl_status) error {
	if s == C.PCL_STATUS_OK {
		return nil
	}
	return Status(s)
}

// Version is the C library's version as major*10000 + minor*100 + patch.
func Version() uint32 { return uint32(C.pcl_version()) }

// HeaderVersion is the version of the header this package was compiled against.
const HeaderVersion = C.PCL_VERSION_MAJOR*10000 + C.PCL_VERSION_MINOR*100 + C.PCL_VERSION_PATCH

// Now is the C library's monotonic clock (CLOCK_MONOTONIC) in nanoseconds.
func Now() uint64 { return uint64(C.pcl_now_ns()) }

// NowCoarse is the cheaper coarse monotonic clock (CLOCK_MONOTONIC_COARSE on Linux, 1-4 ms
// resolution), comparable with Now.
func NowCoarse() uint64 { return uint64(C.pcl_now_coarse_ns()) }
