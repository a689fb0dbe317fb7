// The cross-core allocation stress run behind the `stress` and `bench` commands. Every online
// CPU (or the first N) allocates and frees at once; every frame a CPU receives gets a tag
// (CPU, sequence number) written into it, checked again before the frame is freed, so a frame
// handed out twice is caught the moment its second owner's tag shows up in the first owner's
// frame.
#pragma once

#include <cstdint>

#include "mm/allocator_types.hpp"

namespace stress {

enum class Pattern : std::uint8_t {
    random,  // random sizes and lifetimes
    bulk,    // allocate many, then free them all
    repeat,  // allocate and free the same size in a loop
};

struct Options {
    std::uint32_t cpus = 0;         // 0: all online CPUs
    std::uint64_t seconds = 2;      // used when ops == 0
    std::uint64_t ops = 0;          // total operations across CPUs; 0: run for `seconds`
    std::uint32_t max_frames = 16;  // largest request
    Pattern pattern = Pattern::random;
    std::uint32_t remote_percent = 0;  // share of frees handed to another CPU
    bool fill = false;                 // allocate until memory is gone, check, free all
    bool tags = true;                  // write and check tags (bench turns them off)
    bool progress = true;              // a line per second
    // CPU 0 redraws the memory picture (when shown) while it runs; benchmarks turn this off so
    // that drawing is not timed with the allocator.
    bool live_picture = true;
    const char* label = "stress";  // what the progress line starts with
    bool area_map = false;         // and the area map under it (`stress --areas`)
    mm::Mode mode = mm::Mode::per_cpu;
    std::uint64_t seed = 1;
};

struct CpuResult {
    std::uint64_t ops = 0;
    std::uint64_t allocations = 0;
    std::uint64_t frees = 0;
    std::uint64_t remote_frees_sent = 0;
    std::uint64_t out_of_memory = 0;  // allocations that failed cleanly: expected near the end
    std::uint64_t duplicates = 0;     // frames whose tag was overwritten by another owner
    std::uint64_t errors = 0;         // refused frees, invalid-request answers, bad fill answers
};

struct Result {
    std::uint32_t cpus = 0;
    std::uint64_t elapsed_ns = 0;
    std::uint64_t ops = 0;
    std::uint64_t duplicates = 0;
    std::uint64_t lost = 0;  // frames free before the run and not free after it
    std::uint64_t errors = 0;
    std::uint64_t filled_frames = 0;  // with fill: frames allocated before memory ran out
    bool invariants_ok = true;
    bool interrupted = false;  // Ctrl-C stopped the run early; the figures are partial
    CpuResult per_cpu[256];
};

// Runs on the calling CPU (which must be CPU 0) and the others until done or until Ctrl-C at
// the console; either way every frame the run took is freed before it returns.
void run(const Options& options, Result& result);

const char* pattern_name(Pattern pattern);

}  // namespace stress
