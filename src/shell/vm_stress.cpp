#include "shell/vm_stress.hpp"

#include <atomic>

#include "arch/x86_64/cpu.hpp"
#include "arch/x86_64/cpu_limits.hpp"
#include "arch/x86_64/tsc.hpp"
#include "kernel/fault_probe.hpp"
#include "kernel/kernel_memory.hpp"
#include "kernel/kernel_vm.hpp"
#include "kernel/percpu.hpp"
#include "kernel/spinlock.hpp"
#include "kernel/tlb_shootdown.hpp"
#include "smp/idle.hpp"

namespace vm_stress {
namespace {

constexpr std::size_t kHeld = 8;
constexpr std::uint32_t kLargePages = 513;  // 2 MiB and a page: one 2 MiB page where possible

struct Mapping {
    std::uint64_t address = 0;
    std::uint32_t pages = 0;
    std::uint64_t tag = 0;
};

// A small queue one CPU posts into and another takes from.
template <typename T, std::size_t N>
class Queue {
  public:
    void reset() { head_ = count_ = 0; }
    bool push(const T& item) {
        smp::LockGuard guard(lock_);
        if (count_ == N) {
            return false;
        }
        items_[(head_ + count_++) % N] = item;
        return true;
    }
    bool pop(T& out) {
        smp::LockGuard guard(lock_);
        if (count_ == 0) {
            return false;
        }
        out = items_[head_];
        head_ = (head_ + 1) % N;
        --count_;
        return true;
    }

  private:
    smp::Spinlock lock_{"vm stress queue"};
    T items_[N];
    std::size_t head_ = 0;
    std::size_t count_ = 0;
};

struct alignas(64) CpuState {
    Queue<Mapping, 16> handoffs;      // mappings other CPUs gave this one to free
    Queue<std::uint64_t, 64> probes;  // freed addresses this CPU must find unmapped
    Mapping held[kHeld];
    std::size_t held_count = 0;
    std::uint64_t rng = 1;
    std::uint64_t next_tag = 0;
    Result counts;  // this CPU's share; only the counters are used
};

struct Run {
    const Options* options;
    std::uint32_t cpus;
    std::atomic<std::uint32_t> finished_ops{0};
    std::atomic<std::uint32_t> finished_frees{0};
};

CpuState states[smp::kMaxCpus];

std::uint64_t next_random(std::uint64_t& state) {
    state ^= state << 13;
    state ^= state >> 7;
    state ^= state << 17;
    return state;
}

std::uint64_t* page_word(const Mapping& m, std::uint32_t page) {
    return reinterpret_cast<std::uint64_t*>(m.address + std::uint64_t{page} * mm::kFrameSize);
}

void write_tags(const Mapping& m) {
    for (std::uint32_t i = 0; i < m.pages; ++i) {
        *page_word(m, i) = m.tag + i;
    }
}

// Reading every page also puts its translation in this CPU's TLB.
std::uint64_t count_bad_tags(const Mapping& m) {
    std::uint64_t bad = 0;
    for (std::uint32_t i = 0; i < m.pages; ++i) {
        bad += *page_word(m, i) == m.tag + i ? 0 : 1;
    }
    return bad;
}

void probe(CpuState& self, std::uint64_t address) {
    ++self.counts.probes;
    if (!probe_read(reinterpret_cast<const void*>(address))) {
        return;
    }
    // The read worked: fine only if the address was handed out again meanwhile.
    vm::Place place;
    while (!kvm::locate(address, place)) {
        cpu::pause();
    }
    if (place.kind != vm::Place::Kind::inside) {
        ++self.counts.missed;
    }
}

// Checks, frees, and asks every other CPU to find the first and last page unmapped.
void release(CpuState& self, std::uint32_t me, std::uint32_t cpus, const Mapping& m) {
    self.counts.bad_tags += count_bad_tags(m);
    if (!kvm::vfree(reinterpret_cast<const void*>(m.address))) {
        ++self.counts.errors;
        return;
    }
    ++self.counts.vfrees;
    std::uint64_t last = m.address + std::uint64_t{m.pages - 1} * mm::kFrameSize;
    for (std::uint32_t cpu = 0; cpu < cpus; ++cpu) {
        if (cpu == me) {
            continue;
        }
        for (std::uint64_t address : {m.address, last}) {
            if (!states[cpu].probes.push(address)) {
                ++self.counts.probes_dropped;
            }
        }
    }
    probe(self, m.address);
}

void keep_or_release(CpuState& self, std::uint32_t me, std::uint32_t cpus, const Mapping& m,
                     bool keep) {
    if (keep && self.held_count < kHeld) {
        self.held[self.held_count++] = m;
    } else {
        release(self, me, cpus, m);
    }
}

// Takes what other CPUs posted: mappings to touch and keep (or free), addresses to probe.
void serve(CpuState& self, std::uint32_t me, std::uint32_t cpus, bool keep) {
    Mapping m;
    while (self.handoffs.pop(m)) {
        self.counts.bad_tags += count_bad_tags(m);
        keep_or_release(self, me, cpus, m, keep);
    }
    std::uint64_t address;
    while (self.probes.pop(address)) {
        probe(self, address);
    }
}

void allocate_one(CpuState& self, std::uint32_t me, const Run& run, std::uint64_t r) {
    const Options& o = *run.options;
    std::uint32_t pages =
        (r >> 8) % 64 == 0 ? kLargePages : 1 + std::uint32_t((r >> 16) % o.max_pages);
    auto result = kvm::vmalloc(std::uint64_t{pages} * mm::kFrameSize);
    if (!result) {
        ++self.counts.out_of_memory;
        return;
    }
    ++self.counts.vmallocs;
    Mapping m{reinterpret_cast<std::uint64_t>(result.value()), pages,
              (std::uint64_t{me} << 48) | (self.next_tag++ << 16)};
    vm::MappingDescription d;
    if (kvm::describe(m.address, d, {})) {
        self.counts.large_pages += d.large_pages;
    }
    write_tags(m);
    if (run.cpus > 1 && (r >> 24) % 100 < o.remote_percent) {
        std::uint32_t target = std::uint32_t((me + 1 + (r >> 32) % (run.cpus - 1)) % run.cpus);
        if (states[target].handoffs.push(m)) {
            ++self.counts.handed;
            return;
        }
    }
    keep_or_release(self, me, run.cpus, m, true);
}

void wait_for_all(CpuState& self, std::uint32_t me, const Run& run,
                  std::atomic<std::uint32_t>& counter) {
    counter.fetch_add(1, std::memory_order_acq_rel);
    while (counter.load(std::memory_order_acquire) < run.cpus) {
        serve(self, me, run.cpus, false);
        cpu::pause();
    }
}

void work(std::uint32_t me, void* context) {
    Run& run = *static_cast<Run*>(context);
    CpuState& self = states[me];
    for (std::uint64_t op = 0; op < run.options->ops; ++op) {
        serve(self, me, run.cpus, true);
        std::uint64_t r = next_random(self.rng);
        if (self.held_count == 0 || (self.held_count < kHeld && r % 3 != 0)) {
            allocate_one(self, me, run, r);
        } else {
            std::size_t index = (r >> 8) % self.held_count;
            Mapping m = self.held[index];
            self.held[index] = self.held[--self.held_count];
            release(self, me, run.cpus, m);
        }
    }
    while (self.held_count > 0) {
        release(self, me, run.cpus, self.held[--self.held_count]);
    }
    // No CPU hands anything over once all are past their operations; the mappings handed over
    // before are freed while waiting, and the probes their frees post are served in the end.
    wait_for_all(self, me, run, run.finished_ops);
    serve(self, me, run.cpus, false);
    wait_for_all(self, me, run, run.finished_frees);
    serve(self, me, run.cpus, false);
}

}  // namespace

void run(const Options& options, Result& result) {
    std::uint32_t online = smp::online_cpu_count();
    std::uint32_t cpus = options.cpus == 0 || options.cpus > online ? online : options.cpus;
    result = {};
    result.cpus = cpus;
    for (std::uint32_t i = 0; i < cpus; ++i) {
        CpuState& s = states[i];
        s.handoffs.reset();
        s.probes.reset();
        s.held_count = 0;
        s.rng = options.seed * 0x9E3779B97F4A7C15ull + i + 1;
        s.next_tag = 0;
        s.counts = {};
    }
    std::uint64_t free_before = kmem::allocator().totals().free_frames;
    std::uint64_t waiting_before = kvm::stats().tables_waiting;
    vm::ShootdownCounters before = tlb::totals(online);

    static Run shared;  // atomics: not on the stack of a CPU that may return first
    shared.options = &options;
    shared.cpus = cpus;
    shared.finished_ops.store(0, std::memory_order_relaxed);
    shared.finished_frees.store(0, std::memory_order_relaxed);
    std::uint64_t started = tsc::now_ns();
    smp::run_on_cpus(cpus, work, &shared);
    result.elapsed_ns = tsc::now_ns() - started;

    vm::ShootdownCounters after = tlb::totals(online);
    result.rounds = after.rounds - before.rounds;
    result.ipis = after.ipis_sent - before.ipis_sent;
    result.received = after.received - before.received;
    for (std::uint32_t i = 0; i < cpus; ++i) {
        const Result& c = states[i].counts;
        result.vmallocs += c.vmallocs;
        result.vfrees += c.vfrees;
        result.handed += c.handed;
        result.large_pages += c.large_pages;
        result.out_of_memory += c.out_of_memory;
        result.probes += c.probes;
        result.missed += c.missed;
        result.probes_dropped += c.probes_dropped;
        result.bad_tags += c.bad_tags;
        result.errors += c.errors;
    }
    std::uint64_t free_after = kmem::allocator().totals().free_frames;
    std::uint64_t waiting_after = kvm::stats().tables_waiting;
    std::uint64_t accounted = free_after + waiting_after;
    std::uint64_t expected = free_before + waiting_before;
    result.leaked_frames = accounted < expected ? expected - accounted : 0;
}

}  // namespace vm_stress
