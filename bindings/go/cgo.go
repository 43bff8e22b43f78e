package portcullis

// The only #cgo lines of the package. lib/ holds libportcullis.a, built from the repository's
// ffi/ crate by scripts/build-go-lib.sh; only the static library is placed there, so the linker
// cannot pick a shared one.

/*
#cgo CFLAGS: -I${SRCDIR}/../../include
#cgo LDFLAGS: -L${SRCDIR}/lib -lportcullis -lpthread -ldl -lm
#include "portcullis.h"
*/
import "C"
