#include "kernel/kernel_vm.hpp"

#include <new>

#include "arch/x86_64/direct_map.hpp"
#include "arch/x86_64/layout.h"
#include "kernel/kernel_memory.hpp"
#include "kernel/paging.hpp"
#include "kernel/panic.hpp"
#include "kernel/percpu.hpp"
#include "kernel/spinlock.hpp"
#include "kernel/tlb_shootdown.hpp"

namespace kvm {
namespace {

struct KernelVmPlatform {
    class Lock : public smp::Spinlock {
      public:
        constexpr Lock() : smp::Spinlock("vmalloc") {}
    };
    static void* phys_to_virt(mm::PhysAddr address) { return ::phys_to_virt(address); }
    static unsigned cpu_index() { return smp::cpu_index(); }
    static void flush(const vm::FlushBatch& batch) { tlb::flush(batch); }
};

// Page tables and backing frames come from, and go back to, the frame allocator.
class AllocatorFrames final : public vm::FrameSource {
  public:
    lib::Result<mm::PhysAddr, mm::AllocError> allocate(std::size_t frames,
                                                       std::size_t align_frames) override {
        return kmem::allocate_frames(frames, align_frames);
    }
    void free(mm::PhysAddr address, std::size_t frames) override {
        auto status = kmem::free_frames(address, frames);
        if (!status) {
            PANIC("vmalloc: the frame allocator refused {} frames at {:#x}: {}", frames, address,
                  kmem::to_string(status.error()));
        }
    }
};

using Area = vm::Vmalloc<KernelVmPlatform>;

AllocatorFrames frames;
alignas(Area) unsigned char area_storage[sizeof(Area)];
Area* area = nullptr;

Area& the_area() {
    ASSERT(area != nullptr);
    return *area;
}

}  // namespace

void init() {
    area =
        new (area_storage) Area(paging::kernel_page_table_root(), frames, paging::no_execute_bit());
    area->init(VMALLOC_BASE, VMALLOC_BASE + VMALLOC_SIZE, kGuardBytes);
}

lib::Result<void*, vm::VmError> vmalloc(std::uint64_t bytes, vm::RangeKind kind, bool large_pages) {
    auto result = the_area().allocate(bytes, kind, large_pages);
    if (!result) {
        return lib::fail(result.error());
    }
    return reinterpret_cast<void*>(result.value());
}

lib::Result<void*, vm::VmError> vmap(std::span<const mm::PhysAddr> frame_list,
                                     vm::PageFlags flags) {
    auto result = the_area().map_frames(frame_list, flags);
    if (!result) {
        return lib::fail(result.error());
    }
    return reinterpret_cast<void*>(result.value());
}

lib::Status<vm::VmError> vfree(const void* address) {
    return the_area().free(reinterpret_cast<std::uint64_t>(address));
}

bool in_area(std::uint64_t address) {
    return area != nullptr && address >= VMALLOC_BASE && address - VMALLOC_BASE < VMALLOC_SIZE;
}

bool locate(std::uint64_t address, vm::Place& out) {
    return area != nullptr && area->try_locate(address, out);
}

vm::VmStats stats() {
    return the_area().stats();
}

std::uint64_t mapping_at(std::size_t i) {
    return the_area().range_at(i);
}

bool describe(std::uint64_t begin, vm::MappingDescription& out, std::span<vm::BackingRun> runs) {
    return the_area().describe(begin, out, runs);
}

}  // namespace kvm
