// The kernel's one object heap, on the kernel's frame allocator, with the kernel's answers to
// what src/heap/ asks of a platform: the CPU index from GS, spinlocks, the direct map, bad frees
// printed with the caller's symbol, and a panic for corruption the debug build finds. The frame
// allocator calls the heap's reclaim before it reports out of memory.
#pragma once

#include <cstddef>

#include "arch/x86_64/cpu_limits.hpp"
#include "arch/x86_64/direct_map.hpp"
#include "heap/heap.hpp"
#include "kernel/kernel_memory.hpp"
#include "kernel/percpu.hpp"
#include "kernel/spinlock.hpp"
#include "lib/result.hpp"

namespace kheap {

struct KernelHeapPlatform {
    // Taken by spinning on try_lock, as the frame allocator takes its locks: under emulation a
    // vCPU may not run for a while, and a FIFO ticket would hand the lock to a waiter that is
    // not running while the others queue behind it (64 vCPUs on two host cores crawled so).
    class Lock : public smp::Spinlock {
      public:
        constexpr Lock() : smp::Spinlock("heap") {}
        // Panics on a lock this CPU already holds (a re-entered heap) instead of spinning, and
        // on a wait of billions of spins (a deadlock).
        void lock();
    };
    static unsigned cpu_index() { return smp::cpu_index(); }
    static void* phys_to_virt(mm::PhysAddr address) { return ::phys_to_virt(address); }
    static mm::PhysAddr virt_to_phys(const void* pointer) { return ::virt_to_phys(pointer); }
    static void stop_point(heap::StopPoint) {}
    static void report_bad_free(const heap::BadFree& report);
    static void report_corruption(const heap::Corruption& report);
};

// The debug build of the heap (red zones, poison, compare-exchange frees) comes with the frame
// allocator's debug fill: DEBUG_FILL=1.
using KernelHeap = heap::Heap<KernelHeapPlatform, kmem::kDebugFill, smp::kMaxCpus>;
using Cache = KernelHeap::Cache;

// After kmem::init, before other CPUs start.
void init();
KernelHeap& heap();
// The physical span whose frames the heap may use (frames beyond it are never used for slabs).
mm::PhysRange span();

[[nodiscard]] lib::Result<void*, heap::AllocError> kmalloc(std::size_t bytes);
// Refused frees are printed (with this function's caller) and change nothing.
lib::Status<heap::FreeError> kfree(void* object);

const char* to_string(heap::AllocError error);

}  // namespace kheap
