// Host benchmarks of the frame allocator (`make bench`): the LLFree shapes for the per-CPU
// allocator, the same source in global-lock mode and a first-fit bitmap baseline, plus
// fragmentation, recalculation rate and metadata size. docs/BENCHMARKS.md explains the shapes
// and records the figures.
//
//   frame_allocator_bench [--smoke] [Google Benchmark flags]
//
// --smoke runs every benchmark for a few iterations on a 128 MiB map (unless BENCH_MEMORY_MIB
// says otherwise): `make test` only checks that the benchmarks build and run.
#include <benchmark/benchmark.h>

#include <unistd.h>
#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <thread>
#include <type_traits>
#include <vector>

#include "allocator_variants.hpp"
#include "bench_memory.hpp"
#include "bench_run.hpp"
#include "lib/units.hpp"
#include "line_transfer.hpp"
#include "quality_shapes.hpp"
#include "recalculation_shapes.hpp"
#include "timed_shapes.hpp"

namespace {

using bench::FirstFit;
using bench::GlobalLock;
using bench::PerCpu;

struct Plan {
    bool smoke = false;
    std::uint64_t total_frames = 0;
};

// Requests per repetition that give the fast allocators a stable median without running long.
constexpr std::uint64_t kTargetRequests = std::uint64_t{1} << 21;

// Rounds of a half-memory shape (bulk, rand), counting the uncounted warm-up round. The
// first-fit baseline scans from frame 0 on every call, so a round of single frames costs it
// O(frames^2): one round (counted), and few of the cheap ones.
template <typename Variant>
std::int64_t rounds_for(const Plan& plan, std::int64_t frames) {
    if (plan.smoke) {
        return 2;
    }
    std::uint64_t per_round = std::max<std::uint64_t>(1, plan.total_frames / 2 / frames);
    bool first_fit = std::is_same_v<Variant, FirstFit>;
    if (first_fit && frames == 1) {
        return 1;
    }
    std::uint64_t rounds =
        std::clamp<std::uint64_t>(kTargetRequests / per_round, 1, first_fit ? 20 : 200);
    return static_cast<std::int64_t>(rounds) + 1;
}

// Batches of pairs_per_batch() pairs per thread of a repeat or sweep run: 2^20 pairs for the
// fast allocators, 2^14 for the baseline, whose pairs scan the filled part of the bitmap.
template <typename Variant>
std::int64_t batches_for(const Plan& plan) {
    if (plan.smoke) {
        return 1;
    }
    return std::is_same_v<Variant, FirstFit> ? 4 : 256;
}

// The baseline's single-frame runs take seconds each (its pre-fills and bulk rounds scan from
// frame 0 for every request) and differ from the other allocators by orders of magnitude: one
// repetition is enough, and it keeps `make bench` within a few minutes.
template <typename Variant>
bool run_once(std::int64_t frames) {
    return std::is_same_v<Variant, FirstFit> && frames == 1;
}

template <typename Variant>
benchmark::internal::Benchmark* add(const std::string& name, void (*shape)(benchmark::State&),
                                    std::int64_t frames) {
    benchmark::internal::Benchmark* benchmark = benchmark::RegisterBenchmark(name.c_str(), shape)
                                                    ->Setup(bench::setup_run<Variant>)
                                                    ->Teardown(bench::teardown_run<Variant>);
    if (run_once<Variant>(frames)) {
        benchmark->Repetitions(1);
    }
    return benchmark;
}

template <typename Variant>
void register_variant(const Plan& plan) {
    const std::string variant = Variant::kName;
    std::vector<int> threads = plan.smoke ? std::vector<int>{1, 2} : std::vector<int>{1, 2, 4};
    for (std::int64_t frames : {1, 512}) {
        for (int count : threads) {
            add<Variant>("bulk/" + variant, bench::bulk_shape<Variant>, frames)
                ->Args({frames})
                ->ArgNames({"frames"})
                ->Iterations(rounds_for<Variant>(plan, frames))
                ->UseManualTime()
                ->Threads(count);
            add<Variant>("repeat/" + variant, bench::repeat_shape<Variant>, frames)
                ->Args({frames, 50})
                ->ArgNames({"frames", "fill"})
                ->Iterations(batches_for<Variant>(plan))
                ->UseManualTime()
                ->Threads(count);
            add<Variant>("rand/" + variant, bench::rand_shape<Variant>, frames)
                ->Args({frames})
                ->ArgNames({"frames"})
                ->Iterations(rounds_for<Variant>(plan, frames))
                ->UseManualTime()
                ->Threads(count);
        }
        for (std::int64_t fill : {0, 50, 90, 99}) {
            add<Variant>("sweep/" + variant, bench::repeat_shape<Variant>, frames)
                ->Args({frames, fill})
                ->ArgNames({"frames", "fill"})
                ->Iterations(batches_for<Variant>(plan))
                ->UseManualTime()
                ->Threads(1);
        }
    }
}

// Seeded, hence deterministic: one repetition is the answer.
template <typename Variant>
void register_fragmentation() {
    for (std::int64_t frames : {1, 512}) {
        add<Variant>(std::string("fragmentation/") + Variant::kName,
                     bench::fragmentation_shape<Variant>, frames)
            ->Args({frames})
            ->ArgNames({"frames"})
            ->Iterations(1)
            ->Repetitions(1)
            ->Unit(benchmark::kMillisecond);
    }
}

// The console reporter, counting benchmarks that reported an error (a failed allocation, a
// state that could not be built): they make the program fail, so `make bench-smoke` does too.
class CheckingReporter : public benchmark::ConsoleReporter {
  public:
    CheckingReporter() : ConsoleReporter(isatty(STDOUT_FILENO) != 0 ? OO_Color : OO_None) {}

    void ReportRuns(const std::vector<Run>& runs) override {
        for (const Run& run : runs) {
            errors_ += run.error_occurred ? 1 : 0;
        }
        ConsoleReporter::ReportRuns(runs);
    }
    int errors() const { return errors_; }

  private:
    int errors_ = 0;
};

// The cache-line transfer time between the two threads' cores; `when` 0 runs first, 1 last.
void register_line_transfer(std::int64_t when, const Plan& plan) {
    benchmark::RegisterBenchmark("machine/line_transfer", bench::line_transfer_shape)
        ->Arg(when)
        ->ArgName("when")
        ->Iterations(plan.smoke ? 1000 : 100000)
        ->UseRealTime()
        ->Threads(2);
}

void register_benchmarks(const Plan& plan) {
    register_line_transfer(0, plan);
    register_variant<PerCpu>(plan);
    register_variant<GlobalLock>(plan);
    register_variant<FirstFit>(plan);
    // Single-threaded, global-lock mode runs the same code as per-CPU mode with one cursor and
    // gives the same figures, so it is left out.
    register_fragmentation<PerCpu>();
    register_fragmentation<FirstFit>();
    for (bench::Pattern pattern :
         {bench::Pattern::alternate, bench::Pattern::random, bench::Pattern::words}) {
        add<PerCpu>("recalculation/per_cpu", bench::recalculation_shape, 1)
            ->Args({static_cast<std::int64_t>(pattern)})
            ->ArgNames({"pattern"})
            ->Iterations(plan.smoke ? 1 : 10)
            ->UseManualTime()
            ->Unit(benchmark::kMicrosecond);
        add<PerCpu>("rescan/per_cpu", bench::rescan_shape, 1)
            ->Args({static_cast<std::int64_t>(pattern)})
            ->ArgNames({"pattern"})
            ->Iterations(plan.smoke ? 1 : 3)
            ->UseManualTime()
            ->Unit(benchmark::kMicrosecond);
    }
    benchmark::RegisterBenchmark("metadata", bench::metadata_shape)->Iterations(1)->Repetitions(1);
    register_line_transfer(1, plan);
}

}  // namespace

int main(int argc, char** argv) {
    Plan plan;
    std::vector<char*> arguments;
    for (int i = 0; i < argc; ++i) {
        if (std::strcmp(argv[i], "--smoke") == 0) {
            plan.smoke = true;
        } else {
            arguments.push_back(argv[i]);
        }
    }
    std::uint64_t mib = bench::memory_mib_from_environment();
    if (plan.smoke && std::getenv("BENCH_MEMORY_MIB") == nullptr) {
        mib = 128;
    }
    if (mib == 0) {
        std::fprintf(stderr, "BENCH_MEMORY_MIB: a multiple of 64 from 64 to 65536, please\n");
        return 2;
    }
    bench::bench_memory() = bench::bench_regions(mib);
    bench::pairs_per_batch() = plan.smoke ? 100 : 4096;
    plan.total_frames = bench::total_bytes(bench::bench_memory()) >> mm::kFrameShift;
    register_benchmarks(plan);

    int count = static_cast<int>(arguments.size());
    arguments.push_back(nullptr);
    benchmark::Initialize(&count, arguments.data());
    if (benchmark::ReportUnrecognizedArguments(count, arguments.data())) {
        return 1;
    }
    benchmark::AddCustomContext("managed_memory_mib",
                                std::to_string(plan.total_frames * mm::kFrameSize / lib::MiB));
    benchmark::AddCustomContext("regions", bench::describe_regions(bench::bench_memory()));
    benchmark::AddCustomContext("host_threads",
                                std::to_string(std::thread::hardware_concurrency()) +
                                    " hardware threads; runs with more threads oversubscribe");
    CheckingReporter reporter;
    benchmark::RunSpecifiedBenchmarks(&reporter);
    benchmark::Shutdown();
    if (reporter.errors() != 0) {
        std::fprintf(stderr, "frame_allocator_bench: %d benchmark(s) failed\n", reporter.errors());
        return 1;
    }
    return 0;
}
