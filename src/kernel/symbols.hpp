// Function names for backtraces. The build writes the kernel's symbol table (`nm -n` output)
// into a file that GRUB loads as a Multiboot2 module named "symbols"; this looks addresses up in
// it. Keeping the table out of the kernel image means the image never has to be linked twice.
#pragma once

#include <cstddef>
#include <cstdint>

#include "lib/format.hpp"

namespace symbols {

void init(const char* table, std::size_t length);
bool available();

struct Match {
    lib::StringView name;
    std::uint64_t offset;  // from the start of the function
};

// False when no function in the table contains `address`.
bool lookup(std::uint64_t address, Match& match);

}  // namespace symbols
