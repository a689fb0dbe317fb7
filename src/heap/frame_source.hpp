// Where the heap takes its frames from and gives them back to: a small interface, so the heap
// does not depend on one allocator's template parameters. FrameAllocatorSource adapts anything
// with the frame allocator's allocate/free (the kernel's allocator, the host tests' one).
#pragma once

#include <cstddef>

#include "lib/result.hpp"
#include "mm/allocator_types.hpp"
#include "mm/frame.hpp"

namespace heap {

class FrameSource {
  public:
    virtual lib::Result<mm::PhysAddr, mm::AllocError> take_frames(std::size_t frames) = 0;
    // False when the allocator refused the free (a heap bug: the heap frees only its own frames).
    virtual bool give_frames(mm::PhysAddr address, std::size_t frames) = 0;

  protected:
    ~FrameSource() = default;
};

template <typename Allocator>
class FrameAllocatorSource final : public FrameSource {
  public:
    explicit FrameAllocatorSource(Allocator& allocator) : allocator_(allocator) {}
    lib::Result<mm::PhysAddr, mm::AllocError> take_frames(std::size_t frames) override {
        return allocator_.allocate(frames);
    }
    bool give_frames(mm::PhysAddr address, std::size_t frames) override {
        return allocator_.free(address, frames).ok();
    }

  private:
    Allocator& allocator_;
};

}  // namespace heap
