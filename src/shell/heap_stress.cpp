#include "shell/heap_stress.hpp"

#include <atomic>
#include <new>

#include "arch/x86_64/cpu.hpp"
#include "arch/x86_64/tsc.hpp"
#include "kernel/console.hpp"
#include "kernel/kernel_heap.hpp"
#include "kernel/panic.hpp"
#include "kernel/percpu.hpp"
#include "kernel/spinlock.hpp"
#include "shell/stress_inbox.hpp"
#include "smp/idle.hpp"

namespace heap_stress {
namespace {

constexpr std::uint64_t kTagMagic = 0x4845415054414721;  // "HEAPTAG!"
constexpr std::size_t kLiveCapacity = 512;
constexpr std::size_t kInboxCapacity = 256;

struct Object {
    void* pointer;
    std::uint32_t bytes;
    std::uint32_t owner;
    std::uint64_t sequence;

    std::uint64_t tag() const { return kTagMagic ^ (std::uint64_t{owner} << 48) ^ sequence; }
};

// Each CPU's working memory, itself from the heap (a large allocation): its live objects and
// the inbox where other CPUs leave objects for it to free.
struct Workspace {
    std::uint32_t live_count = 0;
    std::atomic<std::uint64_t> ops{0};  // read by CPU 0 for the progress line
    shell::StressInbox<Object, kInboxCapacity> inbox{"heap stress inbox"};
    Object live[kLiveCapacity];
};

struct Run {
    Options options;
    Result* result;
    std::uint32_t cpus;
    std::uint64_t deadline_tsc;
    std::uint64_t ops_per_cpu;
    std::uint64_t started_tsc;
    Workspace* workspaces[smp::kMaxCpus];
    std::atomic<std::uint32_t> barrier_arrived{0};
    std::atomic<std::uint32_t> barrier_generation{0};
};

Run run_state;

void barrier() {
    Run& run = run_state;
    std::uint32_t generation = run.barrier_generation.load(std::memory_order_acquire);
    if (run.barrier_arrived.fetch_add(1, std::memory_order_acq_rel) + 1 == run.cpus) {
        run.barrier_arrived.store(0, std::memory_order_relaxed);
        run.barrier_generation.fetch_add(1, std::memory_order_release);
        return;
    }
    while (run.barrier_generation.load(std::memory_order_acquire) == generation) {
        cpu::pause();
    }
}

class Worker {
  public:
    explicit Worker(std::uint32_t cpu)
        : cpu_(cpu),
          workspace_(*run_state.workspaces[cpu]),
          stats_(run_state.result->per_cpu[cpu]),
          random_(run_state.options.seed * 0x9E3779B97F4A7C15ull + cpu * 0x2545F4914F6CDD1Dull +
                  1) {}

    void run() {
        while (!finished()) {
            if (run_state.options.pairs) {
                Object object;
                if (allocate(run_state.options.pair_bytes, object)) {
                    release(object, true);
                }
            } else {
                one_step();
            }
            if ((stats_.ops & 15) == 0) {
                drain_inbox(false);
            }
        }
        barrier();  // nobody sends remote frees after this
        drain_inbox(true);
        while (workspace_.live_count > 0) {
            release(workspace_.live[--workspace_.live_count], false);
        }
        barrier();  // every object is freed: the magazines can be given back
        kheap::heap().flush_this_cpu();
    }

  private:
    std::uint64_t next() {
        random_ ^= random_ << 13;
        random_ ^= random_ >> 7;
        random_ ^= random_ << 17;
        return random_;
    }
    std::uint64_t below(std::uint64_t bound) { return bound == 0 ? 0 : next() % bound; }

    bool finished() {
        const Run& run = run_state;
        if (run.ops_per_cpu != 0 && stats_.ops >= run.ops_per_cpu) {
            return true;
        }
        if ((stats_.ops & 63) != 0) {
            return false;
        }
        std::uint64_t now = cpu::read_tsc();
        if (cpu_ == 0 && run.options.progress) {
            std::uint64_t second = (now - run.started_tsc) / (tsc::tsc_per_microsecond() * 1000000);
            if (second > last_progress_second_) {
                last_progress_second_ = second;
                std::uint64_t total = 0;
                for (std::uint32_t i = 0; i < run.cpus; ++i) {
                    total += run.workspaces[i]->ops.load(std::memory_order_relaxed);
                }
                kprint("stress: {} s, {} ops so far\n", second, total);
            }
        }
        return run.ops_per_cpu == 0 && now >= run.deadline_tsc;
    }

    void count_op() {
        ++stats_.ops;
        workspace_.ops.store(stats_.ops, std::memory_order_relaxed);
    }

    // Mostly the size classes' range, one in 64 a large allocation of up to 4 frames.
    std::uint32_t random_size() {
        if (below(64) == 0) {
            return std::uint32_t(4097 + below(3 * 4096));
        }
        return std::uint32_t(16 + below(below(4) == 0 ? 4096 - 15 : 256));
    }

    bool allocate(std::uint32_t bytes, Object& out) {
        count_op();
        auto result = kheap::kmalloc(bytes);
        if (!result) {
            if (result.error() == heap::AllocError::out_of_memory) {
                ++stats_.out_of_memory;
            } else {
                ++stats_.errors;
            }
            return false;
        }
        ++stats_.allocations;
        out = {result.value(), bytes, cpu_, ++sequence_};
        if (run_state.options.tags) {
            auto* words = static_cast<std::uint64_t*>(out.pointer);
            words[0] = out.tag();
            words[bytes / 8 - 1] = ~out.tag();
        }
        return true;
    }

    void free_now(const Object& object) {
        if (run_state.options.tags) {
            auto* words = static_cast<std::uint64_t*>(object.pointer);
            if (words[0] != object.tag() || words[object.bytes / 8 - 1] != ~object.tag()) {
                if (stats_.duplicates == 0) {
                    kprint(
                        "stress: CPU {}: object {:#x} ({} bytes) allocated by CPU {} carries tag "
                        "{:#x}: handed out twice or overwritten?\n",
                        cpu_, reinterpret_cast<std::uint64_t>(object.pointer), object.bytes,
                        object.owner, words[0]);
                }
                ++stats_.duplicates;
            }
        }
        if (!kheap::kfree(object.pointer)) {
            ++stats_.errors;
        }
        ++stats_.frees;
    }

    void release(const Object& object, bool may_send) {
        count_op();
        const Run& run = run_state;
        if (may_send && run.cpus > 1 && below(100) < run.options.remote_percent) {
            std::uint32_t target = std::uint32_t(below(run.cpus - 1));
            target += target >= cpu_ ? 1 : 0;
            // A busy or full inbox means "free here".
            if (run.workspaces[target]->inbox.try_post(object)) {
                ++stats_.remote_frees_sent;
                return;
            }
        }
        free_now(object);
    }

    void drain_inbox(bool wait) {
        workspace_.inbox.drain(wait, [this](const Object& object) { free_now(object); });
    }

    void one_step() {
        if (workspace_.live_count == 0 ||
            (workspace_.live_count < kLiveCapacity && below(2) == 0)) {
            Object object;
            if (allocate(random_size(), object)) {
                workspace_.live[workspace_.live_count++] = object;
                return;
            }
            if (workspace_.live_count == 0) {
                return;
            }
        }
        std::uint32_t index = std::uint32_t(below(workspace_.live_count));
        Object object = workspace_.live[index];
        workspace_.live[index] = workspace_.live[--workspace_.live_count];
        release(object, true);
    }

    std::uint32_t cpu_;
    Workspace& workspace_;
    stress::CpuResult& stats_;
    std::uint64_t random_;
    std::uint64_t sequence_ = 0;
    std::uint64_t last_progress_second_ = 0;
};

void work(std::uint32_t cpu, void*) {
    Worker worker(cpu);
    worker.run();
}

// Objects handed to callers and not freed, over every cache, and frames of large allocations.
std::uint64_t heap_in_use() {
    auto& heap = kheap::heap();
    std::uint64_t in_use = heap.large_frames();
    for (auto* cache = heap.first(); cache != nullptr; cache = heap.next(cache)) {
        in_use += cache->stats().in_use;
    }
    return in_use;
}

void free_workspaces(std::uint32_t count) {
    for (std::uint32_t i = 0; i < count; ++i) {
        run_state.workspaces[i]->~Workspace();
        (void)kheap::kfree(run_state.workspaces[i]);
    }
}

}  // namespace

void run(const Options& options, Result& result) {
    Run& run = run_state;
    ASSERT(smp::cpu_index() == 0);
    result = Result{};
    run.options = options;
    run.result = &result;
    run.cpus = options.cpus == 0 || options.cpus > smp::online_cpu_count() ? smp::online_cpu_count()
                                                                           : options.cpus;
    result.cpus = run.cpus;
    for (std::uint32_t i = 0; i < run.cpus; ++i) {
        auto memory = kheap::kmalloc(sizeof(Workspace));
        if (!memory) {
            kprint("stress: no memory for CPU {}'s workspace\n", i);
            free_workspaces(i);
            result.errors = 1;
            return;
        }
        run.workspaces[i] = new (memory.value()) Workspace;
    }

    auto& heap = kheap::heap();
    heap::Mode previous_mode = heap.mode();
    heap.set_mode(options.mode);
    std::uint64_t in_use_before = heap_in_use();
    run.ops_per_cpu = options.ops == 0 ? 0 : (options.ops + run.cpus - 1) / run.cpus;
    run.started_tsc = cpu::read_tsc();
    run.deadline_tsc = run.started_tsc + options.seconds * 1000000 * tsc::tsc_per_microsecond();

    smp::run_on_cpus(run.cpus, work, nullptr);

    result.elapsed_ns = tsc::tsc_to_ns(cpu::read_tsc() - run.started_tsc);
    std::uint64_t in_use_after = heap_in_use();
    result.lost = in_use_after > in_use_before ? in_use_after - in_use_before : 0;
    heap::InvariantReport invariants = heap.check_invariants();
    result.invariants_ok = invariants.ok;
    if (!invariants.ok) {
        kprint("stress: heap invariant broken after the run in {}: {} (expected {}, found {})\n",
               invariants.cache, invariants.what, invariants.expected, invariants.found);
        ++result.errors;
    }
    heap.set_mode(previous_mode);
    for (std::uint32_t i = 0; i < run.cpus; ++i) {
        const stress::CpuResult& c = result.per_cpu[i];
        result.ops += c.ops;
        result.duplicates += c.duplicates;
        result.errors += c.errors;
    }
    free_workspaces(run.cpus);
    heap.reclaim();
}

}  // namespace heap_stress
