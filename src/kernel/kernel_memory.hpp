// The kernel's one frame allocator, with the kernel's answers to what src/mm/ asks of a
// platform: the CPU index from GS, spinlocks, the direct map, and a panic for a write after
// free. Everything else in the kernel allocates physical memory through here.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

#include "arch/x86_64/cpu.hpp"
#include "arch/x86_64/cpu_limits.hpp"
#include "arch/x86_64/direct_map.hpp"
#include "kernel/percpu.hpp"
#include "kernel/spinlock.hpp"
#include "lib/result.hpp"
#include "mm/frame_allocator.hpp"

namespace kmem {

struct KernelPlatform {
    // The allocator's locks are created with the allocator, so they need a default constructor.
    class Lock : public smp::Spinlock {
      public:
        constexpr Lock() : smp::Spinlock("frame allocator") {}
        // The allocator waits with try_lock in a loop (to count its spins), which would spin
        // forever on a lock this CPU already holds, that is in a re-entered allocator: that
        // bug panics here instead of hanging.
        bool try_lock();
    };
    static unsigned cpu_index() { return smp::cpu_index(); }
    static void relax() { cpu::pause(); }
    static void* phys_to_virt(mm::PhysAddr address) { return ::phys_to_virt(address); }
    static void report_use_after_free(mm::PhysAddr frame, std::size_t offset, std::uint64_t found,
                                      unsigned cpu);
    [[noreturn]] static void assertion_failed(const char* expression, const char* file, int line);
    // No stop_at: the allocator's stop points compile to nothing in the kernel.
};

#ifdef KERNEL_DEBUG_FILL
inline constexpr bool kDebugFill = true;
#else
inline constexpr bool kDebugFill = false;
#endif

using FrameAllocator = mm::FrameAllocator<KernelPlatform, kDebugFill, smp::kMaxCpus>;

std::uint64_t metadata_bytes_for(std::span<const mm::PhysRange> usable);
void init(std::span<const mm::PhysRange> usable, mm::PhysRange metadata);
FrameAllocator& allocator();
std::size_t area_count();

[[nodiscard]] lib::Result<mm::PhysAddr, mm::AllocError> allocate_frames(std::size_t frames,
                                                                        std::size_t align = 1);
[[nodiscard]] lib::Status<mm::FreeError> free_frames(mm::PhysAddr address, std::size_t frames);

const char* to_string(mm::AllocError error);
const char* to_string(mm::FreeError error);

}  // namespace kmem
