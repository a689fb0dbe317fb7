// Host benchmarks of the object heap (`make bench`): kmalloc+kfree pairs of 64 B and 1 KiB on 1
// and 2 threads, a producer/consumer pair of threads (every free is remote), and a bulk shape
// (allocate many, free them all), each for the heap with per-CPU magazines, the same heap under
// one lock per cache (global_lock) and the host's malloc as a reference point; plus the memory
// each size class loses to slab headers and tail waste. docs/BENCHMARKS.md records the figures.
//
//   heap_bench [--smoke] [Google Benchmark flags]
#include <benchmark/benchmark.h>

#include <atomic>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "bench_platform.hpp"
#include "bench_thread.hpp"
#include "heap/heap.hpp"
#include "lib/units.hpp"
#include "mm/frame_allocator.hpp"

namespace {

// The heap needs memory it can write (slab headers, magazines): a host buffer plays physical
// memory [0, kMemoryBytes).
constexpr std::size_t kMemoryBytes = 256 * lib::MiB;
unsigned char* memory_base = nullptr;

struct HeapBenchPlatform {
    using Lock = bench::BenchPlatform::Lock;
    static unsigned cpu_index() { return bench::BenchPlatform::current_cpu; }
    static void* phys_to_virt(mm::PhysAddr address) { return memory_base + address; }
    static mm::PhysAddr virt_to_phys(const void* pointer) {
        return mm::PhysAddr(static_cast<const unsigned char*>(pointer) - memory_base);
    }
    static void stop_point(heap::StopPoint) {}
    static void report_bad_free(const heap::BadFree&) { std::abort(); }
    static void report_corruption(const heap::Corruption&) { std::abort(); }
};

using Frames = mm::FrameAllocator<bench::BenchPlatform>;
using Heap = heap::Heap<HeapBenchPlatform, false, 64>;

struct World {
    Frames frames;
    heap::FrameAllocatorSource<Frames> source{frames};
    std::vector<std::uint64_t> frame_metadata;
    std::vector<std::uint64_t> map;
    Heap heap;

    World() {
        std::vector<mm::PhysRange> regions{{mm::kFrameSize, kMemoryBytes}};
        frame_metadata.resize(Frames::metadata_bytes(regions) / 8 + 8);
        auto* buffer = reinterpret_cast<void*>(
            (reinterpret_cast<std::uintptr_t>(frame_metadata.data()) + 63) & ~std::uintptr_t{63});
        if (!frames.init(regions, buffer, frame_metadata.size() * 8 - 64)) {
            std::abort();
        }
        map.resize(Heap::map_bytes(regions[0]) / 8 + 1);
        heap.init(regions[0], map.data(), source);
        frames.set_reclaim_hook(&Heap::reclaim_hook, &heap);
    }
};
World* world = nullptr;

enum Variant : std::int64_t { per_cpu = 0, global_lock = 1, host_malloc = 2 };
const char* const kVariantNames[] = {"per_cpu", "global_lock", "malloc"};

// Between runs, with no thread inside: every magazine back to the slabs, the variant's mode set.
void setup(const benchmark::State& state) {
    world->heap.set_mode(heap::Mode::global_lock);  // flushes every CPU's magazines
    world->heap.reclaim();
    world->heap.set_mode(state.range(0) == global_lock ? heap::Mode::global_lock
                                                       : heap::Mode::per_cpu);
}

inline void* allocate(Variant variant, std::size_t bytes) {
    if (variant == host_malloc) {
        return std::malloc(bytes);
    }
    return world->heap.allocate(bytes).value_or(nullptr);
}

inline void release(Variant variant, void* object) {
    if (variant == host_malloc) {
        std::free(object);
    } else {
        (void)world->heap.free(object, nullptr);
    }
}

// kmalloc+kfree of one size, in a loop: the time per pair.
void pair_shape(benchmark::State& state) {
    bench::BenchThread thread(state);
    auto variant = Variant(state.range(0));
    auto bytes = std::size_t(state.range(1));
    for (auto _ : state) {
        void* object = allocate(variant, bytes);
        benchmark::DoNotOptimize(object);
        release(variant, object);
    }
}

// As pair_shape, but thread i uses objects of (i + 1) times the size: every thread its own cache,
// so no slab header is written by two threads. Against pair_shape it shows what the threads'
// sharing of slab headers (their objects' state bytes) costs.
void pair_apart_shape(benchmark::State& state) {
    bench::BenchThread thread(state);
    auto variant = Variant(state.range(0));
    auto bytes = std::size_t(state.range(1)) * std::size_t(state.thread_index() + 1);
    for (auto _ : state) {
        void* object = allocate(variant, bytes);
        benchmark::DoNotOptimize(object);
        release(variant, object);
    }
}

// Allocate `count` objects, then free them all: the time per object (an allocation and a free).
void bulk_shape(benchmark::State& state) {
    bench::BenchThread thread(state);
    auto variant = Variant(state.range(0));
    auto bytes = std::size_t(state.range(1));
    std::vector<void*> held(std::size_t(state.range(2)));
    for (auto _ : state) {
        for (void*& object : held) {
            object = allocate(variant, bytes);
            benchmark::DoNotOptimize(object);
        }
        for (void* object : held) {
            release(variant, object);
        }
    }
    state.SetItemsProcessed(state.iterations() * state.range(2));
}

// A single-producer single-consumer ring of pointers that publishes its indices in batches of
// kBatch and caches the other side's index, so that the ring's own cache-line transfers (about
// 240 ns each on this machine, docs/BENCHMARKS.md) are shared by a batch of objects instead of
// dwarfing the allocator's cost per object.
struct Ring {
    static constexpr std::size_t kSize = 4096;
    static constexpr std::uint64_t kBatch = 64;
    alignas(64) std::atomic<std::uint64_t> head{0};  // written by the producer
    alignas(64) std::atomic<std::uint64_t> tail{0};  // written by the consumer
    alignas(64) void* slots[kSize];
};
Ring ring;

// Thread 0 allocates and passes each object through the ring; thread 1 frees it: every free is
// a remote one. Both loop the same number of iterations (a multiple of the batch); the time is
// per object.
void producer_consumer_shape(benchmark::State& state) {
    bench::BenchThread thread(state);
    auto variant = Variant(state.range(0));
    auto bytes = std::size_t(state.range(1));
    if (state.thread_index() == 0) {
        std::uint64_t head = ring.head.load(std::memory_order_relaxed);
        std::uint64_t tail = ring.tail.load(std::memory_order_acquire);
        for (auto _ : state) {
            void* object = allocate(variant, bytes);
            while (head - tail == Ring::kSize) {
                bench::BenchPlatform::relax();
                tail = ring.tail.load(std::memory_order_acquire);
            }
            ring.slots[head % Ring::kSize] = object;
            if (++head % Ring::kBatch == 0) {
                ring.head.store(head, std::memory_order_release);
            }
        }
        ring.head.store(head, std::memory_order_release);
    } else {
        std::uint64_t tail = ring.tail.load(std::memory_order_relaxed);
        std::uint64_t head = ring.head.load(std::memory_order_acquire);
        for (auto _ : state) {
            while (head == tail) {
                bench::BenchPlatform::relax();
                head = ring.head.load(std::memory_order_acquire);
            }
            void* object = ring.slots[tail % Ring::kSize];
            if (++tail % Ring::kBatch == 0) {
                ring.tail.store(tail, std::memory_order_release);
            }
            release(variant, object);
        }
        ring.tail.store(tail, std::memory_order_release);
    }
}

// Fills one size class with 20000 objects and reports the share of the frames it took that
// holds no object: slab headers (with the state bytes) and the tail each slab cannot use.
void memory_shape(benchmark::State& state) {
    bench::BenchThread thread(state);
    std::size_t cls = std::size_t(state.range(0));
    auto& cache = world->heap.size_class(cls);
    std::vector<void*> held(20000);
    for (auto _ : state) {
        for (void*& object : held) {
            object = cache.allocate().value_or(nullptr);
        }
        heap::CacheStats s = cache.stats();
        std::uint64_t bytes = s.frames_held() * mm::kFrameSize;
        std::uint64_t objects_bytes = s.slabs * s.objects_per_slab * s.object_size;
        state.counters["waste_per_mille"] = double((bytes - objects_bytes) * 1000 / bytes);
        state.counters["size"] = double(s.object_size);
        for (void* object : held) {
            (void)cache.free(object, nullptr);
        }
    }
}

void register_benchmarks(bool smoke) {
    std::int64_t pairs = smoke ? 1000 : 20000000;
    for (std::int64_t variant : {per_cpu, global_lock, host_malloc}) {
        std::string name = kVariantNames[variant];
        for (std::int64_t bytes : {64, 1024}) {
            for (int threads : {1, 2}) {
                benchmark::RegisterBenchmark(("pair/" + name).c_str(), pair_shape)
                    ->Setup(setup)
                    ->Args({variant, bytes})
                    ->ArgNames({"variant", "bytes"})
                    ->Iterations(pairs)
                    ->Threads(threads);
            }
            benchmark::RegisterBenchmark(("pair_apart/" + name).c_str(), pair_apart_shape)
                ->Setup(setup)
                ->Args({variant, bytes})
                ->ArgNames({"variant", "bytes"})
                ->Iterations(pairs)
                ->Threads(2);
            benchmark::RegisterBenchmark(("producer_consumer/" + name).c_str(),
                                         producer_consumer_shape)
                ->Setup(setup)
                ->Args({variant, bytes})
                ->ArgNames({"variant", "bytes"})
                ->Iterations(smoke ? 1024 : pairs / 4)
                ->UseRealTime()
                ->Threads(2);
        }
        benchmark::RegisterBenchmark(("bulk/" + name).c_str(), bulk_shape)
            ->Setup(setup)
            ->Args({variant, 64, 10000})
            ->ArgNames({"variant", "bytes", "count"})
            ->Iterations(smoke ? 2 : 400);
    }
    for (std::size_t cls = 0; cls < heap::kSizeClasses.size(); ++cls) {
        benchmark::RegisterBenchmark("memory", memory_shape)
            ->Setup(setup)
            ->Args({std::int64_t(cls)})
            ->ArgNames({"class"})
            ->Iterations(1)
            ->Repetitions(1);
    }
}

}  // namespace

int main(int argc, char** argv) {
    bool smoke = false;
    std::vector<char*> arguments;
    for (int i = 0; i < argc; ++i) {
        if (std::strcmp(argv[i], "--smoke") == 0) {
            smoke = true;
        } else {
            arguments.push_back(argv[i]);
        }
    }
    memory_base = static_cast<unsigned char*>(std::aligned_alloc(mm::kFrameSize, kMemoryBytes));
    auto owned = std::make_unique<World>();
    world = owned.get();
    register_benchmarks(smoke);
    int count = static_cast<int>(arguments.size());
    arguments.push_back(nullptr);
    benchmark::Initialize(&count, arguments.data());
    if (benchmark::ReportUnrecognizedArguments(count, arguments.data())) {
        return 1;
    }
    benchmark::RunSpecifiedBenchmarks();
    benchmark::Shutdown();
    {
        heap::InvariantReport report = world->heap.check_invariants();
        if (!report.ok) {
            std::fprintf(stderr, "heap_bench: heap invariant broken: %s in %s\n", report.what,
                         report.cache);
            return 1;
        }
    }
    std::free(memory_base);
    return 0;
}
