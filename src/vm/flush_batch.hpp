// The pages one shootdown round flushes. Unmapping collects them here instead of flushing page
// by page, so a vfree of many pages costs one round of IPIs; past kMaxPages it is cheaper to
// flush everything than to send a long list, so the batch turns into "flush all".
#pragma once

#include <cstddef>
#include <cstdint>

#include "vm/types.hpp"

namespace vm {

struct FlushBatch {
    static constexpr std::size_t kMaxPages = 32;

    VirtAddr pages[kMaxPages] = {};
    std::size_t count = 0;  // entries of pages[] in use
    bool everything = false;
    std::uint64_t total = 0;  // pages added, listed or not

    // Any address inside a 2 MiB page flushes that whole page, so one entry serves either size.
    void add(VirtAddr page) {
        ++total;
        if (everything) {
            return;
        }
        if (count == kMaxPages) {
            everything = true;
            return;
        }
        pages[count++] = page;
    }
    bool empty() const { return total == 0; }
};

}  // namespace vm
