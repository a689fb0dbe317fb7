// The vocabulary of kernel virtual memory shared by the page-table walker, the range allocator,
// vmalloc and the TLB shootdown. Plain integers: nothing here is dereferenced.
#pragma once

#include <cstdint>

#include "lib/result.hpp"
#include "mm/allocator_types.hpp"
#include "mm/frame.hpp"

namespace vm {

using VirtAddr = std::uint64_t;

inline constexpr std::uint64_t kPageSize = mm::kFrameSize;
inline constexpr std::uint64_t kLargePageSize = mm::kHugeFrameSize;
inline constexpr std::uint64_t kFramesPerLargePage = mm::kFramesPerHugeFrame;

enum class PageSize : std::uint8_t { small, large };  // 4 KiB, 2 MiB

constexpr std::uint64_t bytes_of(PageSize size) {
    return size == PageSize::large ? kLargePageSize : kPageSize;
}

// Kernel data is no-execute and global (the same in every address space, so it survives CR3
// loads); write protection is asked for explicitly.
struct PageFlags {
    bool writable = true;
    bool executable = false;
    bool global = true;
};

// Where frames come from and go back to: the frame allocator in the kernel, a fake physical
// memory in host tests (some of which fail on purpose). A small interface, not a template, so
// that tests can inject failures without a second instantiation of everything.
class FrameSource {
  public:
    virtual lib::Result<mm::PhysAddr, mm::AllocError> allocate(std::size_t frames,
                                                               std::size_t align_frames) = 0;
    virtual void free(mm::PhysAddr address, std::size_t frames) = 0;

  protected:
    ~FrameSource() = default;  // never deleted through the interface
};

}  // namespace vm
