#include "kernel/kernel_memory.hpp"

#include "kernel/panic.hpp"

namespace kmem {
namespace {

FrameAllocator frame_allocator;

}  // namespace

bool KernelPlatform::Lock::try_lock() {
    if (held_by_this_cpu()) {
        PANIC("frame allocator re-entered on CPU {}: it already holds the allocator's '{}' lock",
              smp::cpu_index(), name());
    }
    return smp::Spinlock::try_lock();
}

void KernelPlatform::report_use_after_free(mm::PhysAddr frame, std::size_t offset,
                                           std::uint64_t found, unsigned cpu) {
    PANIC(
        "write after free: frame {:#x} offset {:#x} holds {:#x} instead of the fill pattern "
        "(noticed by CPU {} when handing it out again)",
        frame, offset, found, cpu);
}

void KernelPlatform::assertion_failed(const char* expression, const char* file, int line) {
    // Reported at the allocator's line, not this one.
    ::panic_detail::panic(file, line, "frame allocator assertion failed: {}", expression);
}

std::uint64_t metadata_bytes_for(std::span<const mm::PhysRange> usable) {
    return FrameAllocator::metadata_bytes(usable);
}

void init(std::span<const mm::PhysRange> usable, mm::PhysRange metadata) {
    auto status = frame_allocator.init(usable, phys_to_virt(metadata.begin), metadata.size());
    if (!status) {
        PANIC("frame allocator refused its set-up (error {})", int(status.error()));
    }
#if defined(MARKEROS_GLOBAL_LOCK) && MARKEROS_GLOBAL_LOCK
    // `make GLOBAL_LOCK=1`: every allocation behind one lock from boot on, to compare.
    frame_allocator.set_mode(mm::Mode::global_lock);
#endif
}

FrameAllocator& allocator() {
    return frame_allocator;
}
std::size_t area_count() {
    return frame_allocator.area_count();
}

lib::Result<mm::PhysAddr, mm::AllocError> allocate_frames(std::size_t frames, std::size_t align) {
    return frame_allocator.allocate(frames, align);
}

lib::Status<mm::FreeError> free_frames(mm::PhysAddr address, std::size_t frames) {
    return frame_allocator.free(address, frames);
}

const char* to_string(mm::AllocError error) {
    switch (error) {
        case mm::AllocError::invalid_request:
            return "invalid request (frames must be 1..8192, alignment a power of two up to 8192)";
        case mm::AllocError::out_of_memory:
            return "out of memory";
    }
    return "unknown error";
}

const char* to_string(mm::FreeError error) {
    switch (error) {
        case mm::FreeError::misaligned:
            return "address is not the start of a frame";
        case mm::FreeError::invalid_size:
            return "invalid number of frames";
        case mm::FreeError::outside_areas:
            return "frames are not managed by the allocator (or span two areas)";
        case mm::FreeError::not_allocated:
            return "frames are not allocated (double free?)";
    }
    return "unknown error";
}

}  // namespace kmem
