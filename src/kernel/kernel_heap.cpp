#include "kernel/kernel_heap.hpp"

#include "arch/x86_64/cpu.hpp"
#include "kernel/console.hpp"
#include "kernel/memory_setup.hpp"
#include "kernel/panic.hpp"
#include "kernel/symbols.hpp"

namespace kheap {
namespace {

KernelHeap kernel_heap;
heap::FrameAllocatorSource<kmem::FrameAllocator> frame_source{kmem::allocator()};
mm::PhysRange heap_span;

// The map takes one word per frame of the span; its frames come in one piece from the frame
// allocator, so a span is cut where the largest request ends (8192 frames of map: 16 GiB).
constexpr std::uint64_t kMaxMapFrames = mm::kMaxAllocationFrames;
// Several seconds even under emulation: a heap critical section is a few hundred instructions.
constexpr std::uint64_t kDeadlockSpins = std::uint64_t{1} << 31;

void print_caller(const void* caller) {
    symbols::Match match;
    auto address = reinterpret_cast<std::uint64_t>(caller);
    if (symbols::lookup(address, match)) {
        kprint("{}+{:#x}", match.name, match.offset);
    } else {
        kprint("{:#x}", address);
    }
}

}  // namespace

void KernelHeapPlatform::Lock::lock() {
    if (held_by_this_cpu()) {
        PANIC("heap re-entered on CPU {}: it already holds a '{}' lock", smp::cpu_index(), name());
    }
    for (std::uint64_t spins = 0; !try_lock(); ++spins) {
        cpu::pause();
        if (spins == kDeadlockSpins) {
            PANIC("heap lock: CPU {} waited {} spins", smp::cpu_index(), spins);
        }
    }
}

void KernelHeapPlatform::report_bad_free(const heap::BadFree& report) {
    kprint("heap: refused to free {:#x}: {} (cache {}, caller ",
           reinterpret_cast<std::uint64_t>(report.pointer), heap::to_string(report.error),
           report.cache != nullptr ? report.cache : "none");
    print_caller(report.caller);
    kprint(", CPU {})\n", report.cpu);
}

void KernelHeapPlatform::report_corruption(const heap::Corruption& report) {
    PANIC("heap: {} of {:#x} (cache {}) overwritten at offset {}: {:#x} instead of {:#x}",
          report.kind == heap::CorruptionKind::red_zone ? "red zone" : "poisoned free object",
          reinterpret_cast<std::uint64_t>(report.object), report.cache, report.offset, report.found,
          report.expected);
}

void init() {
    const auto& usable = memory_setup::layout().usable;
    if (usable.size() == 0) {
        PANIC("heap: no usable memory");
    }
    heap_span = {usable[0].begin, usable[usable.size() - 1].end};
    std::uint64_t frames_per_map_frame = mm::kFrameSize / sizeof(std::uint64_t);
    std::uint64_t max_span = kMaxMapFrames * frames_per_map_frame * mm::kFrameSize;
    if (heap_span.size() > max_span) {
        kprint("heap: slabs only below {:#x}: the frame map covers {}\n",
               heap_span.begin + max_span, lib::Bytes{max_span});
        heap_span.end = heap_span.begin + max_span;
    }
    std::uint64_t map_frames =
        (KernelHeap::map_bytes(heap_span) + mm::kFrameSize - 1) / mm::kFrameSize;
    auto map = kmem::allocate_frames(map_frames);
    if (!map) {
        PANIC("heap: no {} frames for the frame map", map_frames);
    }
    kernel_heap.init(heap_span, ::phys_to_virt(map.value()), frame_source);
    kmem::allocator().set_reclaim_hook(&KernelHeap::reclaim_hook, &kernel_heap);
    kprint("heap: {} size classes of 16 B..4 KiB on slabs, larger requests in frames; map {}\n",
           heap::kSizeClasses.size(), lib::Bytes{map_frames * mm::kFrameSize});
}

KernelHeap& heap() {
    return kernel_heap;
}
mm::PhysRange span() {
    return heap_span;
}

lib::Result<void*, heap::AllocError> kmalloc(std::size_t bytes) {
    return kernel_heap.allocate(bytes);
}

[[gnu::noinline]] lib::Status<heap::FreeError> kfree(void* object) {
    return kernel_heap.free(object, __builtin_return_address(0));
}

const char* to_string(heap::AllocError error) {
    switch (error) {
        case heap::AllocError::invalid_size:
            return "invalid size (1 byte .. 32 MiB)";
        case heap::AllocError::out_of_memory:
            return "out of memory";
    }
    return "unknown error";
}

}  // namespace kheap
