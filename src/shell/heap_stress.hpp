// `stress --heap`: every online CPU (or the first N) allocates and frees heap objects of random
// sizes at once, hands a share of them to other CPUs to free (remote frees), tags every object
// with its owner and sequence number at both ends, and checks the tag before freeing, so an
// object handed out twice or overwritten is caught. Ends like the frame stress: duplicates, lost
// objects, errors.
#pragma once

#include <cstdint>

#include "heap/heap_types.hpp"
#include "shell/stress.hpp"

namespace heap_stress {

struct Options {
    std::uint32_t cpus = 0;     // 0: all online CPUs
    std::uint64_t seconds = 2;  // used when ops == 0
    std::uint64_t ops = 0;      // total operations across CPUs; 0: run for `seconds`
    std::uint32_t remote_percent = 0;
    bool tags = true;      // write and check tags (bench turns them off)
    bool progress = true;  // a line per second
    bool pairs = false;    // allocate and free at once, one size (bench); else random sizes
    std::uint32_t pair_bytes = 64;
    heap::Mode mode = heap::Mode::per_cpu;
    std::uint64_t seed = 1;
};

// The frame stress's result: ops, duplicates, lost (objects in use after the run that were not
// before, and frames of large allocations), errors, per CPU figures (sent = remote frees).
using Result = stress::Result;

// Runs to completion on the calling CPU (which must be CPU 0) and the others.
void run(const Options& options, Result& result);

}  // namespace heap_stress
