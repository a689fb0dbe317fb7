// Instructions per allocator operation, counted by callgrind: stable where wall-clock figures
// are not (a shared machine, 2 cores). Single-threaded, a fixed number of operations per shape,
// each measured section bracketed by CALLGRIND_ZERO_STATS and CALLGRIND_DUMP_STATS_AT(name).
// tools/bench-instructions.sh runs it under valgrind and divides by the operation count, which
// each dump's name carries ("per_cpu/bulk_alloc/frames:1/ops:16384").
//
// Outside valgrind the client requests do nothing and the program just runs the shapes. The
// counts include the driver's loop, a handful of instructions per operation.
#include <valgrind/callgrind.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <random>
#include <string>
#include <type_traits>
#include <vector>

#include "allocator_variants.hpp"
#include "bench_memory.hpp"

namespace {

using bench::kNoAddress;
using mm::PhysAddr;

// Managed memory: small enough for valgrind (the baseline scans are quadratic), 8 areas.
constexpr std::uint64_t kMemoryMiB = 256;
// Pairs per repeat or sweep measurement; the baseline's pairs scan the filled part of its bitmap
// (holes included), so it gets fewer.
template <typename Variant>
constexpr std::size_t kPairs = std::is_same_v<Variant, bench::FirstFit> ? 2000 : 20000;

// One measured section: counts from here to the dump belong to `name`.
class Section {
  public:
    Section(std::string name, std::size_t ops)
        : name_(std::move(name) + "/ops:" + std::to_string(ops)) {
        CALLGRIND_ZERO_STATS;
    }
    ~Section() { CALLGRIND_DUMP_STATS_AT(name_.c_str()); }

  private:
    std::string name_;
};

// Fills `held` (sized by the caller, outside the measured section) with new allocations.
template <typename Variant>
void allocate_many(Variant& allocator, std::vector<PhysAddr>& held, std::size_t frames) {
    for (PhysAddr& address : held) {
        address = allocator.allocate(frames, frames).value_or(kNoAddress);
    }
}

template <typename Variant>
std::size_t free_many(Variant& allocator, const std::vector<PhysAddr>& held, std::size_t frames) {
    std::size_t refused = 0;
    for (PhysAddr address : held) {
        refused += allocator.free(address, frames) ? 0 : 1;
    }
    return refused;
}

template <typename Variant>
std::size_t pairs(Variant& allocator, std::size_t count, std::size_t frames) {
    std::size_t failed = 0;
    for (std::size_t i = 0; i < count; ++i) {
        auto address = allocator.allocate(frames, frames);
        failed += address && allocator.free(*address, frames) ? 0 : 1;
    }
    return failed;
}

template <typename Variant>
std::size_t run_variant(const std::vector<mm::PhysRange>& regions) {
    Variant allocator;
    std::size_t failures = 0;
    for (std::size_t frames : {std::size_t{1}, std::size_t{512}}) {
        std::string prefix = std::string(Variant::kName) + "/";
        std::string suffix = "/frames:" + std::to_string(frames);
        allocator.init(regions);
        std::size_t half = allocator.total_frames() / 2 / frames;
        std::vector<PhysAddr> held(half);
        {
            Section section(prefix + "bulk_alloc" + suffix, half);
            allocate_many(allocator, held, frames);
        }
        {
            Section section(prefix + "bulk_free" + suffix, half);
            failures += free_many(allocator, held, frames);
        }
        allocator.init(regions);
        allocate_many(allocator, held, frames);
        std::shuffle(held.begin(), held.end(), std::mt19937_64(42));
        {
            Section section(prefix + "rand_free" + suffix, half);
            failures += free_many(allocator, held, frames);
        }
        for (std::uint64_t fill : {0, 50, 90, 99}) {
            allocator.init(regions);
            std::uint64_t requests = allocator.total_frames() * fill / 100 / frames;
            requests = std::min(requests, allocator.total_frames() / frames - 2);
            held.assign(requests, kNoAddress);
            allocate_many(allocator, held, frames);
            Section section(prefix + "pairs_fill" + std::to_string(fill) + suffix, kPairs<Variant>);
            failures += pairs(allocator, kPairs<Variant>, frames);
        }
        failures += static_cast<std::size_t>(std::count(held.begin(), held.end(), kNoAddress));
    }
    return failures;
}

}  // namespace

int main() {
    std::vector<mm::PhysRange> regions = bench::bench_regions(kMemoryMiB);
    std::size_t failures = run_variant<bench::PerCpu>(regions);
    failures += run_variant<bench::GlobalLock>(regions);
    failures += run_variant<bench::FirstFit>(regions);
    std::printf("instruction_counts: %s managed, %zu failed operations\n",
                bench::describe_regions(regions).c_str(), failures);
    return failures == 0 ? 0 : 1;
}
