// The area map shared by `areas` and `stress --areas`: one character per area for how full it
// is, and under it one for the CPU that owns it.
#include "shell/area_map.hpp"

#include "kernel/console.hpp"
#include "kernel/kernel_memory.hpp"

namespace shell {

// One character per area for its fill level, and under it one for its owner.
void print_area_map(std::size_t width) {
    auto& allocator = kmem::allocator();
    static const char kFill[] = " .:-=+*#%@";  // 0 % .. 100 % used, in tenths
    kprint("fill: ' ' empty . : - = + * # % @ full\n");
    kprint("owner: CPU index (0-9, a-z, A-Z), '-' none, '?' above 61\n");
    std::size_t count = allocator.area_count();
    for (std::size_t row = 0; row < count; row += width) {
        std::size_t end = row + width < count ? row + width : count;
        char fill[201];
        char owner[201];
        for (std::size_t i = row; i < end; ++i) {
            mm::AreaInfo info = allocator.area_info(i);
            std::uint64_t used = info.frames - info.free;
            std::size_t level = info.frames == 0 ? 0 : std::size_t(used * 9 / info.frames);
            if (used > 0 && level == 0) {
                level = 1;  // anything in use shows
            }
            fill[i - row] = kFill[level];
            std::uint32_t o = info.owner;
            owner[i - row] = o == mm::kNoOwner ? '-'
                             : o < 10          ? char('0' + o)
                             : o < 36          ? char('a' + o - 10)
                             : o < 62          ? char('A' + o - 36)
                                               : '?';
        }
        mm::PhysAddr base = allocator.area_info(row).base;
        kprint("{:#014x} |{}|\n", base, lib::StringView{fill, end - row});
        kprint("{:>14} |{}|\n", "owner", lib::StringView{owner, end - row});
    }
}

}  // namespace shell
