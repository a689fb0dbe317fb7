// File:line and inlined functions for backtraces. The build writes, from the ELF's DWARF line
// program and inlining data (tools/line-table.py, binutils), a text table that GRUB loads as a
// Multiboot2 module named "lines", one line per code address where the answer changes:
//     ffffffff80101234 src/shell/shell.cpp:42|lib::copy_memory@src/lib/string.hpp:53
// The first location lies in the function the symbol table names; each function@location after
// it is one inlining level deeper. Like the symbol table, it stays out of the kernel image.
#pragma once

#include <cstddef>
#include <cstdint>

#include "lib/format.hpp"

namespace line_table {

void init(const char* table, std::size_t length);
bool available();

// The table's entry for `address` (the text after the address), or false if it has none.
bool lookup(std::uint64_t address, lib::StringView& entry);

// Splits an entry into its '|'-separated parts; false past the last one.
bool next_part(lib::StringView& rest, lib::StringView& part);

}  // namespace line_table
