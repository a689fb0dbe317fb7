#include "shell/stress.hpp"

#include <atomic>
#include <new>

#include "arch/x86_64/cpu.hpp"
#include "arch/x86_64/direct_map.hpp"
#include "arch/x86_64/tsc.hpp"
#include "kernel/console.hpp"
#include "kernel/kernel_memory.hpp"
#include "kernel/panic.hpp"
#include "kernel/percpu.hpp"
#include "kernel/spinlock.hpp"
#include "shell/area_map.hpp"
#include "shell/picture.hpp"
#include "shell/shell.hpp"
#include "shell/stress_inbox.hpp"
#include "smp/idle.hpp"

namespace stress {
namespace {

constexpr std::uint64_t kTagMagic = 0x5354524553535447;  // "STRESSTG"
constexpr std::size_t kLiveCapacity = 512;
constexpr std::size_t kInboxCapacity = 256;
constexpr std::size_t kWorkspaceFrames = 8;

struct Allocation {
    mm::PhysAddr address;
    std::uint32_t frames;
    std::uint32_t owner;  // the CPU that allocated it and wrote its tags
    std::uint64_t sequence;
};

// Written at the start of every frame of an allocation.
struct Tag {
    std::uint64_t magic;
    std::uint32_t owner;
    std::uint32_t frame;  // index within the allocation
    std::uint64_t sequence;
};

// With --fill the allocations are chained through their own first frame, after the tag.
struct FillLink {
    mm::PhysAddr next;
    std::uint64_t frames;
};

// Each CPU's working memory, taken from the frame allocator before the run (and so not
// counted in it): its live allocations and the inbox where other CPUs leave frames to free.
struct Workspace {
    std::uint32_t live_count = 0;
    std::atomic<std::uint64_t> ops{0};  // read by CPU 0 for the progress line
    mm::PhysAddr fill_head = 0;
    shell::StressInbox<Allocation, kInboxCapacity> inbox{"stress inbox"};
    Allocation live[kLiveCapacity];
};
static_assert(sizeof(Workspace) <= kWorkspaceFrames * mm::kFrameSize);

struct Run {
    Options options;
    Result* result;
    std::uint32_t cpus;
    std::uint64_t deadline_tsc;
    std::uint64_t ops_per_cpu;
    std::uint64_t started_tsc;
    Workspace* workspaces[smp::kMaxCpus];
    mm::PhysAddr workspace_frames[smp::kMaxCpus];
    std::atomic<std::uint32_t> barrier_arrived{0};
    std::atomic<std::uint32_t> barrier_generation{0};
    // Set by CPU 0 when Ctrl-C arrives; every worker checks it where it checks the time.
    std::atomic<bool> stop{false};
};

Run run_state;

struct Random {
    std::uint64_t state;
    std::uint64_t next() {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        return state;
    }
    std::uint64_t below(std::uint64_t bound) { return bound == 0 ? 0 : next() % bound; }
};

// All participating CPUs wait here until every one has arrived.
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

Tag* tag_of(mm::PhysAddr address, std::uint32_t frame) {
    return static_cast<Tag*>(phys_to_virt(address + std::uint64_t{frame} * mm::kFrameSize));
}

void write_tags(const Allocation& a) {
    if (!run_state.options.tags) {
        return;
    }
    for (std::uint32_t i = 0; i < a.frames; ++i) {
        *tag_of(a.address, i) = {kTagMagic, a.owner, i, a.sequence};
    }
}

// Counts frames whose tag is not the one their owner wrote: another CPU received them too.
std::uint64_t check_tags(const Allocation& a) {
    if (!run_state.options.tags) {
        return 0;
    }
    std::uint64_t bad = 0;
    for (std::uint32_t i = 0; i < a.frames; ++i) {
        const Tag& t = *tag_of(a.address, i);
        if (t.magic != kTagMagic || t.owner != a.owner || t.frame != i ||
            t.sequence != a.sequence) {
            if (bad == 0) {
                kprint(
                    "stress: CPU {}: frame {:#x} of an allocation by CPU {} carries tag "
                    "(cpu {}, seq {}): handed out twice?\n",
                    smp::cpu_index(), a.address + i * mm::kFrameSize, a.owner, t.owner, t.sequence);
            }
            ++bad;
        }
    }
    return bad;
}

class Worker {
  public:
    explicit Worker(std::uint32_t cpu)
        : cpu_(cpu),
          workspace_(*run_state.workspaces[cpu]),
          stats_(run_state.result->per_cpu[cpu]),
          random_{run_state.options.seed * 0x9E3779B97F4A7C15ull + cpu * 0x2545F4914F6CDD1Dull +
                  1} {}

    void run() {
        const Options& options = run_state.options;
        if (options.fill) {
            fill();
        } else {
            while (!finished()) {
                one_step();
                if ((stats_.ops & 15) == 0) {
                    drain_inbox(false);
                }
            }
        }
        // After this barrier nobody sends remote frees, so every inbox can be emptied for good.
        barrier();
        drain_inbox(true);
        while (workspace_.live_count > 0) {
            release(workspace_.live[--workspace_.live_count], false);
        }
    }

  private:
    bool finished() {
        const Run& run = run_state;
        if (run.ops_per_cpu != 0 && stats_.ops >= run.ops_per_cpu) {
            return true;
        }
        if ((stats_.ops & 63) != 0) {
            return false;
        }
        std::uint64_t now = cpu::read_tsc();
        if (cpu_ == 0) {
            poll_console(now);
        }
        return stopping() || (run.ops_per_cpu == 0 && now >= run.deadline_tsc);
    }

    static bool stopping() { return run_state.stop.load(std::memory_order_relaxed); }

    // CPU 0 alone reads the console: Ctrl-C there stops every CPU at its next check.
    void poll_console(std::uint64_t now) {
        if (run_state.options.progress) {
            report_progress(now);
        }
        if (run_state.options.live_picture) {
            picture::tick(now);  // CPU 0 pays for the live picture, a few redraws per second
        }
        if (!stopping() && shell::interrupted()) {
            run_state.stop.store(true, std::memory_order_relaxed);
        }
    }

    void report_progress(std::uint64_t now) {
        std::uint64_t second =
            (now - run_state.started_tsc) / (tsc::tsc_per_microsecond() * 1000000);
        if (second <= last_progress_second_) {
            return;
        }
        last_progress_second_ = second;
        std::uint64_t total = 0;
        for (std::uint32_t i = 0; i < run_state.cpus; ++i) {
            total += run_state.workspaces[i]->ops.load(std::memory_order_relaxed);
        }
        kprint("{}: {} s, {} ops so far\n", run_state.options.label, second, total);
        if (run_state.options.area_map) {
            shell::print_area_map(60);
        }
    }

    void count_op() {
        ++stats_.ops;
        workspace_.ops.store(stats_.ops, std::memory_order_relaxed);
    }

    std::uint32_t request_size() {
        std::uint32_t max = run_state.options.max_frames;
        return run_state.options.pattern == Pattern::repeat ? max
                                                            : 1 + std::uint32_t(random_.below(max));
    }

    bool allocate(std::uint32_t frames, Allocation& out) {
        count_op();
        auto result = kmem::allocate_frames(frames);
        if (!result) {
            if (result.error() == mm::AllocError::out_of_memory) {
                ++stats_.out_of_memory;
            } else {
                ++stats_.errors;
            }
            return false;
        }
        ++stats_.allocations;
        out = {result.value(), frames, cpu_, ++sequence_};
        write_tags(out);
        return true;
    }

    void free_now(const Allocation& a) {
        stats_.duplicates += check_tags(a);
        auto status = kmem::free_frames(a.address, a.frames);
        if (!status) {
            kprint("stress: CPU {}: free of {} frames at {:#x} refused: {}\n", cpu_, a.frames,
                   a.address, kmem::to_string(status.error()));
            ++stats_.errors;
        }
        ++stats_.frees;
    }

    // Frees the allocation here, or (for --remote) leaves it in another CPU's inbox.
    void release(const Allocation& a, bool may_send) {
        count_op();
        const Run& run = run_state;
        if (may_send && run.cpus > 1 && random_.below(100) < run.options.remote_percent) {
            std::uint32_t target = std::uint32_t(random_.below(run.cpus - 1));
            target += target >= cpu_ ? 1 : 0;
            // A busy or full inbox means "free here".
            if (run.workspaces[target]->inbox.try_post(a)) {
                ++stats_.remote_frees_sent;
                return;
            }
        }
        free_now(a);
    }

    // `wait`: the final drain must empty the inbox; the periodic one skips a busy inbox.
    void drain_inbox(bool wait) {
        workspace_.inbox.drain(wait, [this](const Allocation& a) { free_now(a); });
    }

    void release_random_live() {
        std::uint32_t index = std::uint32_t(random_.below(workspace_.live_count));
        Allocation a = workspace_.live[index];
        workspace_.live[index] = workspace_.live[--workspace_.live_count];
        release(a, true);
    }

    void one_step() {
        Allocation a;
        switch (run_state.options.pattern) {
            case Pattern::random:
                if (workspace_.live_count == 0 ||
                    (workspace_.live_count < kLiveCapacity && random_.below(2) == 0)) {
                    if (allocate(request_size(), a)) {
                        workspace_.live[workspace_.live_count++] = a;
                    } else if (workspace_.live_count > 0) {
                        release_random_live();  // out of memory: give some back
                    }
                } else {
                    release_random_live();
                }
                return;
            case Pattern::bulk:
                if (!draining_ && workspace_.live_count < kLiveCapacity &&
                    allocate(request_size(), a)) {
                    workspace_.live[workspace_.live_count++] = a;
                    return;
                }
                draining_ = workspace_.live_count > 0;
                if (draining_) {
                    release(workspace_.live[--workspace_.live_count], true);
                }
                return;
            case Pattern::repeat:
                if (allocate(request_size(), a)) {
                    release(a, true);
                }
                return;
        }
    }

    // Takes memory until none is left (halving the request on each refusal), checks that
    // requests then fail cleanly, and gives everything back.
    // The fill loops have no deadline to check; CPU 0 looks at the clock every 64 steps.
    void poll_picture() {
        if (cpu_ == 0 && run_state.options.live_picture && (++picture_polls_ & 63) == 0) {
            picture::tick(cpu::read_tsc());
        }
    }

    void fill() {
        std::uint32_t size = run_state.options.max_frames;
        Allocation a;
        for (;;) {
            if ((stats_.ops & 63) == 0 && cpu_ == 0) {
                poll_console(cpu::read_tsc());
            }
            if (stopping()) {
                break;
            }
            if (allocate(size, a)) {
                auto* link = reinterpret_cast<FillLink*>(tag_of(a.address, 0) + 1);
                *link = {workspace_.fill_head, a.frames};
                workspace_.fill_head = a.address;
                filled_ += a.frames;
                continue;
            }
            if (size == 1) {
                break;
            }
            size /= 2;
        }
        barrier();  // now memory is gone on every CPU, unless Ctrl-C came first
        for (std::uint32_t frames : {1u, run_state.options.max_frames, 512u}) {
            if (stopping()) {
                break;  // memory is not full: a request succeeding proves nothing
            }
            auto result = kmem::allocate_frames(frames, frames == 512 ? 512 : 1);
            if (result) {
                kprint("stress: CPU {}: a {}-frame request succeeded with memory full\n", cpu_,
                       frames);
                ++stats_.errors;
                (void)kmem::free_frames(result.value(), frames);
            } else if (result.error() != mm::AllocError::out_of_memory) {
                ++stats_.errors;
            }
        }
        barrier();
        while (workspace_.fill_head != 0) {
            mm::PhysAddr address = workspace_.fill_head;
            FillLink link = *reinterpret_cast<FillLink*>(tag_of(address, 0) + 1);
            const Tag& tag = *tag_of(address, 0);
            workspace_.fill_head = link.next;
            poll_picture();
            count_op();
            free_now({address, std::uint32_t(link.frames), cpu_, tag.sequence});
        }
        std::atomic_ref<std::uint64_t>(run_state.result->filled_frames)
            .fetch_add(filled_, std::memory_order_relaxed);
    }

    std::uint32_t cpu_;
    Workspace& workspace_;
    CpuResult& stats_;
    Random random_;
    std::uint64_t sequence_ = 0;
    std::uint64_t last_progress_second_ = 0;
    std::uint64_t picture_polls_ = 0;
    std::uint64_t filled_ = 0;
    bool draining_ = false;
};

void work(std::uint32_t cpu, void*) {
    Worker worker(cpu);
    worker.run();
}

}  // namespace

const char* pattern_name(Pattern pattern) {
    switch (pattern) {
        case Pattern::random:
            return "random";
        case Pattern::bulk:
            return "bulk";
        case Pattern::repeat:
            return "repeat";
    }
    return "?";
}

void run(const Options& options, Result& result) {
    Run& run = run_state;
    ASSERT(smp::cpu_index() == 0);
    result = Result{};
    run.options = options;
    run.result = &result;
    run.cpus = options.cpus == 0 || options.cpus > smp::online_cpu_count() ? smp::online_cpu_count()
                                                                           : options.cpus;
    result.cpus = run.cpus;
    run.stop.store(false, std::memory_order_relaxed);
    for (std::uint32_t i = 0; i < run.cpus; ++i) {
        auto frames = kmem::allocate_frames(kWorkspaceFrames);
        if (!frames) {
            kprint("stress: no memory for CPU {}'s workspace\n", i);
            for (std::uint32_t j = 0; j < i; ++j) {
                (void)kmem::free_frames(run.workspace_frames[j], kWorkspaceFrames);
            }
            result.errors = 1;
            return;
        }
        run.workspace_frames[i] = frames.value();
        run.workspaces[i] = new (phys_to_virt(frames.value())) Workspace;
    }

    auto& allocator = kmem::allocator();
    mm::Mode previous_mode = allocator.mode();
    allocator.set_mode(options.mode);
    std::uint64_t free_before = allocator.totals().free_frames;
    run.ops_per_cpu = options.ops == 0 ? 0 : (options.ops + run.cpus - 1) / run.cpus;
    run.started_tsc = cpu::read_tsc();
    run.deadline_tsc = run.started_tsc + options.seconds * 1000000 * tsc::tsc_per_microsecond();

    smp::run_on_cpus(run.cpus, work, nullptr);

    result.elapsed_ns = tsc::tsc_to_ns(cpu::read_tsc() - run.started_tsc);
    result.interrupted = run.stop.load(std::memory_order_relaxed);
    std::uint64_t free_after = allocator.totals().free_frames;
    result.lost = free_before > free_after ? free_before - free_after : 0;
    mm::InvariantReport invariants = allocator.check_invariants();
    result.invariants_ok = invariants.ok;
    if (!invariants.ok) {
        kprint(
            "stress: allocator invariant broken after the run: {} (area {}, expected {}, "
            "found {})\n",
            invariants.what, invariants.area, invariants.expected, invariants.found);
        ++result.errors;
    }
    allocator.set_mode(previous_mode);
    for (std::uint32_t i = 0; i < run.cpus; ++i) {
        const CpuResult& c = result.per_cpu[i];
        result.ops += c.ops;
        result.duplicates += c.duplicates;
        result.errors += c.errors;
        (void)kmem::free_frames(run.workspace_frames[i], kWorkspaceFrames);
    }
}

}  // namespace stress
