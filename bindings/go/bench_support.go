package portcullis

/*
#include "portcullis.h"
static void pcl_go_empty_call(void) {}
*/
import "C"

// emptyCgoCall is one cgo call into a C function that does nothing: the floor every binding call
// pays, measured beside the real calls in the benchmarks.
func emptyCgoCall() { C.pcl_go_empty_call() }
