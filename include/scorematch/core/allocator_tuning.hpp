// Keeps glibc's malloc from returning step-sized buffers to the kernel after every use.
//
// Why: glibc serves blocks above M_MMAP_THRESHOLD (128 KiB at start) with mmap and unmaps them on
// free. A training step at d = 256 allocates several 128 KiB matrices per chunk (noise, ∇φ, jet
// layers): each step then page-faults them in again, and with two threads each munmap also sends
// a TLB-shootdown interrupt to the other core, which kept two threads well short of a 2×
// speed-up (docs/PERFORMANCE.md). Blocks up to 32 MiB (glibc's maximum threshold) now come from
// the heap and are reused; larger ones (data sets) still use mmap, and the heap top is trimmed
// only above 64 MiB. A process-level setting: only the executables' main() calls it (core code
// never does); a no-op without glibc.
#pragma once
#include <cstdlib>  // defines __GLIBC__ on glibc systems
#if defined(__GLIBC__)
#include <malloc.h>
#endif

namespace scorematch {

inline void tune_allocator() {
#if defined(__GLIBC__)
  mallopt(M_MMAP_THRESHOLD, 32 << 20);
  mallopt(M_TRIM_THRESHOLD, 64 << 20);
#endif
}

}  // namespace scorematch
