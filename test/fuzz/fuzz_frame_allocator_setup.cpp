// Feeds arbitrary memory maps through the region builder and hands its output to the frame
// allocator, as the kernel does at boot: the layout must keep its invariants, metadata_bytes
// must answer at once whatever the map claims (an entry up to 2^64 included), and init must
// accept every region list the builder produces, set up exactly the usable frames, and allocate
// and free them.
//
// Input: 8 bytes of address limit (0 means none), then 17-byte entries: base (8), length (8),
// type (1).
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <mutex>
#include <vector>

#include "mm/frame_allocator.hpp"
#include "mm/memory_regions.hpp"

namespace {

struct FuzzPlatform {
    class Lock {
      public:
        void lock() { mutex_.lock(); }
        void unlock() { mutex_.unlock(); }
        bool try_lock() { return mutex_.try_lock(); }

      private:
        std::mutex mutex_;
    };
    static unsigned cpu_index() { return 0; }
    static void relax() {}
    static void* phys_to_virt(mm::PhysAddr) { std::abort(); }  // No debug fill here.
    static void report_use_after_free(mm::PhysAddr, std::size_t, std::uint64_t, unsigned) {
        std::abort();
    }
    [[noreturn]] static void assertion_failed(const char*, const char*, int) { std::abort(); }
};

using Allocator = mm::FrameAllocator<FuzzPlatform, false, 4>;

// Metadata the fuzzer really allocates: up to about 30 GiB of managed memory's worth.
constexpr std::size_t kMaxMetadata = 1u << 20;

void require(bool condition) {
    if (!condition) {
        std::abort();
    }
}

std::uint64_t read_u64(const std::uint8_t* bytes) {
    std::uint64_t value;
    std::memcpy(&value, bytes, sizeof value);
    return value;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size < 8) {
        return 0;
    }
    std::uint64_t limit = read_u64(data);
    if (limit == 0) {
        limit = mm::kNoAddressLimit;
    }
    std::vector<mm::MemoryMapEntry> map;
    for (std::size_t at = 8; at + 17 <= size && map.size() < 64; at += 17) {
        map.push_back({read_u64(data + at), read_u64(data + at + 8), data[at + 16] % 8u});
    }
    static mm::MemoryLayout layout;
    const mm::ReservedRange reserved[] = {{{0, 0x100000}, "first MiB"},
                                          {{0x100000, 0x400000}, "kernel image"}};
    mm::build_memory_layout(map, reserved, layout, limit);
    require(layout.check_invariants());
    for (const mm::PhysRange& range : layout.usable) {
        require(range.end <= limit);
    }

    std::span<const mm::PhysRange> usable{layout.usable.data(), layout.usable.size()};
    std::size_t bytes = Allocator::metadata_bytes(usable);
    auto allocator = std::make_unique<Allocator>();
    if (bytes > kMaxMetadata) {
        alignas(64) static unsigned char small[4096];
        auto status = allocator->init(usable, small, sizeof small);
        require(!status.ok());
        require(status.error() == mm::InitError::buffer_too_small ||
                status.error() == mm::InitError::too_many_areas);
        return 0;
    }
    std::size_t rounded = (bytes + 63) / 64 * 64 + 64;
    void* buffer = std::aligned_alloc(64, rounded);
    auto status = allocator->init(usable, buffer, rounded);
    require(status.ok());
    require(allocator->totals().total_frames == layout.usable_bytes / mm::kFrameSize);
    require(allocator->check_invariants().ok);

    // Every area hands out its first frame and takes it back; then one 2 MiB block if any fits.
    std::vector<mm::PhysAddr> taken;
    for (std::size_t i = 0; i < allocator->area_count() && i < 64; ++i) {
        auto frame = allocator->allocate(1);
        require(frame.ok());
        taken.push_back(frame.value());
    }
    for (mm::PhysAddr frame : taken) {
        require(allocator->free(frame, 1).ok());
    }
    require(!allocator->free(taken.empty() ? 0x1000 : taken.front(), 1).ok());
    require(allocator->check_invariants().ok);
    require(allocator->totals().allocated_frames == 0);
    std::free(buffer);
    return 0;
}
