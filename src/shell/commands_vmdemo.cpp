// `vmdemo`: the point of paging in a single-address-space kernel, shown. Physical memory is
// fragmented on purpose so that no aligned 2 MiB run is free; then a physically contiguous
// request fails while a 64 MiB vmalloc succeeds from scattered 4 KiB frames.
//
// How the fragmentation is made: every aligned 2 MiB run the frame allocator can still hand out
// is taken, and all of it but its first frame is given back at once. The first frames stay
// pinned (one in 512, 0.2 % of memory), each holding the address of the next, so no list needs
// memory of its own; almost all memory is free, none of it as a whole 2 MiB block.
#include "arch/x86_64/direct_map.hpp"
#include "kernel/console.hpp"
#include "kernel/kernel_memory.hpp"
#include "kernel/kernel_vm.hpp"
#include "lib/units.hpp"
#include "shell/command.hpp"

namespace shell {
namespace {

constexpr std::uint64_t kDemoBytes = 64 * lib::MiB;

// Pins one frame in every free aligned 2 MiB run; returns the list head (0: none).
mm::PhysAddr pin_every_block(std::uint64_t& pinned) {
    mm::PhysAddr head = 0;
    pinned = 0;
    for (;;) {
        auto block = kmem::allocate_frames(mm::kFramesPerHugeFrame, mm::kFramesPerHugeFrame);
        if (!block) {
            return head;
        }
        if (!kmem::free_frames(block.value() + mm::kFrameSize, mm::kFramesPerHugeFrame - 1)) {
            kprint("vmdemo: could not give back the rest of the block at {:#x}\n", block.value());
        }
        *static_cast<mm::PhysAddr*>(phys_to_virt(block.value())) = head;
        head = block.value();
        ++pinned;
    }
}

void unpin(mm::PhysAddr head) {
    while (head != 0) {
        mm::PhysAddr next = *static_cast<mm::PhysAddr*>(phys_to_virt(head));
        if (!kmem::free_frames(head, 1)) {
            kprint("vmdemo: could not free the pinned frame {:#x}\n", head);
        }
        head = next;
    }
}

// Writes every page's address into it and reads all back: the mapping is real memory.
bool write_and_check(std::uint64_t begin, std::uint64_t bytes) {
    for (std::uint64_t va = begin; va < begin + bytes; va += mm::kFrameSize) {
        *reinterpret_cast<volatile std::uint64_t*>(va) = va;
    }
    for (std::uint64_t va = begin; va < begin + bytes; va += mm::kFrameSize) {
        if (*reinterpret_cast<volatile std::uint64_t*>(va) != va) {
            return false;
        }
    }
    return true;
}

// vmallocs 64 MiB, says how it is backed, checks it and frees it. False if it failed.
bool vmalloc_and_show(const char* when) {
    auto mapping = kvm::vmalloc(kDemoBytes);
    if (!mapping) {
        kprint("vmdemo: {}: vmalloc {} failed: {}\n", when, lib::Bytes{kDemoBytes},
               vm::to_string(mapping.error()));
        return false;
    }
    auto begin = reinterpret_cast<std::uint64_t>(mapping.value());
    vm::MappingDescription d;
    vm::BackingRun runs[1];
    bool described = kvm::describe(begin, d, runs);
    bool intact = write_and_check(begin, kDemoBytes);
    kprint(
        "vmdemo: {}: vmalloc {} succeeded at {:#x}: {} x 4 KiB pages, {} x 2 MiB pages, {} "
        "physical runs; every page written and read back: {}\n",
        when, lib::Bytes{kDemoBytes}, begin, described ? d.small_pages : 0,
        described ? d.large_pages : 0, described ? d.runs : 0, intact ? "ok" : "MISMATCH");
    if (!kvm::vfree(mapping.value())) {
        kprint("vmdemo: vfree failed\n");
    }
    return intact;
}

void run_vmdemo(Args&) {
    std::uint64_t pinned = 0;
    mm::PhysAddr head = pin_every_block(pinned);
    mm::Totals totals = kmem::allocator().totals();
    kprint(
        "vmdemo: pinned one frame in each of {} free 2 MiB blocks: {} free, no aligned 2 MiB "
        "run among it\n",
        pinned, lib::Bytes{totals.free_frames * mm::kFrameSize});

    // Physically contiguous: the smallest large page, and the largest request the frame
    // allocator takes at all (32 MiB; 64 MiB cannot even be asked for).
    auto block = kmem::allocate_frames(mm::kFramesPerHugeFrame, mm::kFramesPerHugeFrame);
    auto large = kmem::allocate_frames(8192);
    kprint("vmdemo: physically contiguous 2 MiB (aligned): {}; 32 MiB: {}\n",
           block ? "succeeded (unexpected)" : kmem::to_string(block.error()),
           large ? "succeeded (unexpected)" : kmem::to_string(large.error()));
    if (block) {
        (void)kmem::free_frames(block.value(), mm::kFramesPerHugeFrame);
    }
    if (large) {
        (void)kmem::free_frames(large.value(), 8192);
    }

    vmalloc_and_show("fragmented");
    unpin(head);
    vmalloc_and_show("after unpinning");
}
REGISTER_COMMAND("vmdemo", "", "fragment memory, then show vmalloc succeed where contiguous fails",
                 nullptr, 0, run_vmdemo);

}  // namespace
}  // namespace shell
