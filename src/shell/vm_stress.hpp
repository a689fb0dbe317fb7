// `stress --vm`: every CPU vmallocs, touches and vfrees ranges at once, hands some to other
// CPUs (which touch them too, so their TLBs hold the translations) to free there, and after
// every vfree asks every other CPU to read the old address: the read must fault. A read that
// succeeds means a CPU kept a stale translation, that is a missed shootdown.
#pragma once

#include <cstdint>

namespace vm_stress {

struct Options {
    std::uint32_t cpus = 0;        // 0: all online CPUs
    std::uint64_t ops = 300;       // operations per CPU
    std::uint32_t max_pages = 16;  // largest ordinary request, in 4 KiB pages
    std::uint32_t remote_percent = 50;
    std::uint64_t seed = 1;
};

struct Result {
    std::uint32_t cpus = 0;
    std::uint64_t elapsed_ns = 0;
    std::uint64_t vmallocs = 0, vfrees = 0, handed = 0, large_pages = 0, out_of_memory = 0;
    std::uint64_t probes = 0;          // reads of freed addresses on other CPUs
    std::uint64_t missed = 0;          // ... that did not fault: a missed shootdown
    std::uint64_t probes_dropped = 0;  // a CPU's probe queue was full
    std::uint64_t bad_tags = 0;        // a page did not hold what was written into it
    std::uint64_t errors = 0;          // refused vfrees
    std::uint64_t leaked_frames = 0;   // frames not free after the run (tables waiting aside)
    std::uint64_t rounds = 0, ipis = 0, received = 0;  // shootdown counters during the run
};

// On CPU 0, which takes part.
void run(const Options& options, Result& result);

}  // namespace vm_stress
