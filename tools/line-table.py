#!/usr/bin/env python3
"""Writes the kernel's line table for panic backtraces: every code address the DWARF line
program names, with its file:line and the chain of functions inlined there, read with binutils
(objdump for the addresses, addr2line -i for the locations) from the ELF's debug information.

One line per address where the answer changes, sorted, so the kernel takes the last line at or
below an address (see src/kernel/line_table.hpp):

    ffffffff80101234 src/shell/shell.cpp:42|lib::copy_memory@src/lib/string.hpp:53

The first location is in the function the symbol table names; each `function@file:line`
after it is one inlining level deeper. Paths are relative to the source tree.

usage: tools/line-table.py build/kernel.elf build/kernel.lines
"""
import os
import subprocess
import sys


def line_addresses(elf):
    out = subprocess.run(["objdump", "--dwarf=decodedline", elf], check=True,
                         capture_output=True, text=True).stdout
    addresses = set()
    for line in out.splitlines():
        fields = line.split()
        if len(fields) >= 3 and fields[2].startswith("0x"):
            addresses.add(int(fields[2], 16))
    return sorted(addresses)


def relative(location, root):
    location = location.split(" (discriminator")[0]
    return location[len(root):] if location.startswith(root) else location


def inline_chains(elf, addresses, root):
    """{address: [(function, file:line), ...]} innermost first, as addr2line -i prints them."""
    text = "".join(f"{a:#x}\n" for a in addresses)
    out = subprocess.run(["addr2line", "-e", elf, "-a", "-i", "-f", "-C"], input=text, check=True,
                         capture_output=True, text=True).stdout.splitlines()
    chains, current, i = {}, None, 0
    while i < len(out):
        if out[i].startswith("0x"):  # `-a`: the address; no function name starts so
            current = int(out[i], 16)
            chains[current] = []
            i += 1
            continue
        chains[current].append((out[i], relative(out[i + 1], root)))
        i += 2
    return chains


def same_function(name, outer):
    """True when `name` is `outer` again, spelled in full or short ("ns::f()" and "f")."""
    base = name.split("(")[0]
    outer_base = outer.split("(")[0]
    return base == outer_base or base.endswith("::" + outer_base) or \
        outer_base.endswith("::" + base)


def main():
    elf, output = sys.argv[1], sys.argv[2]
    root = os.getcwd().rstrip("/") + "/"
    addresses = line_addresses(elf)
    chains = inline_chains(elf, addresses, root)
    previous = None
    with open(output, "w") as f:
        for address in addresses:
            chain = chains.get(address, [])
            if not chain or chain[-1][1].startswith("??"):
                entry = "??"
            else:
                # Outermost location first, then each inlined function inwards. Where the
                # inlining data has a gap, addr2line names a level after the function around it
                # instead of the inlined one: such a level keeps its location, without a name.
                parts = [chain[-1][1]]
                outer = chain[-1][0]
                for fn, loc in reversed(chain[:-1]):
                    parts.append(f"{'' if same_function(fn, outer) else fn}@{loc}")
                    outer = fn
                entry = "|".join(parts)
            if entry != previous:
                f.write(f"{address:016x} {entry}\n")
                previous = entry


if __name__ == "__main__":
    main()
