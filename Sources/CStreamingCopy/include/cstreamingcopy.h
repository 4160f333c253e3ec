// Copies into memory that will not be read again soon, bypassing the cache.
//
// A RAM LUN's pages are cold when a write lands on them: an ordinary copy first reads
// every destination cache line from memory (read for ownership), then writes it back
// later. Non-temporal stores write whole lines straight to memory instead. Measured on
// the project's machine (2-core AMD EPYC VM) into random places of 1 GiB: 4 KiB copies
// 0.80 -> 0.35 us, 1 MiB copies 133 -> 41 us.

#ifndef SWIFTPORT_CSTREAMINGCOPY_H
#define SWIFTPORT_CSTREAMINGCOPY_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/// Copies `count` bytes from `source` to `destination` (the ranges must not overlap),
/// with non-temporal stores where the CPU has them (x86-64: SSE2) and `count` is at
/// least a few cache lines; memcpy otherwise. Ends with a store fence, so the bytes are
/// visible to other threads once it returns, as after memcpy.
void swiftport_streaming_copy(void *destination, const void *source, size_t count);

#ifdef __cplusplus
}
#endif

#endif
