/* A function in another translation unit: the cost of one plain, non-inlined C call. */
#include <stdint.h>

uint64_t bench_empty_call(uint64_t x);

uint64_t bench_empty_call(uint64_t x) { return x + 1; }
