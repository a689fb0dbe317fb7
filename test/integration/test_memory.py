"""Physical memory at boot: what the kernel reports as usable for several RAM sizes, with holes
punched by GRUB's cutmem, and that reserved memory is never handed out."""
import re
from pathlib import Path

from qemu import CLEAN_EXIT
from run import parametrize

MiB = 1 << 20
GiB = 1 << 30
FRAME = 4096

ADDRESS_BITS = re.compile(
    r"mem: the CPU addresses (\d+) bits of physical memory; the direct map ends at (0x[0-9a-f]+)\r?\n")
LEFT_OUT = re.compile(r"mem: left out (.+?) of available memory at or above (0x[0-9a-f]+) \((.+?)\)")
USABLE = re.compile(r"mem: usable .*? \((\d+) frames\) of .*?; (\d+) areas; metadata")
USABLE_REGION = re.compile(r"(?m)^mem:   \[(0x[0-9a-f]+), (0x[0-9a-f]+)\)\s+\S+ \S+$")
SIZES = {"128M": 128 * MiB, "1G": 1 * GiB, "6G": 6 * GiB, "16G": 16 * GiB}


def usable_frames(machine):
    match = machine.expect(USABLE)
    return int(match.group(1)), int(match.group(2))


def expected_bounds(ram):
    """The usable memory QEMU's RAM leaves after what the kernel must carve out.

    Below: the first MiB, the kernel image (a few MiB with its page-table pool), the ACPI
    tables and BIOS areas at the top of low memory, and the allocator's metadata (at most
    40 KiB per GiB). 12 MiB plus the metadata covers all of them."""
    return ram - 12 * MiB - (ram // GiB + 1) * 40 * 1024, ram


@parametrize("memory", list(SIZES))
def test_usable_memory_matches_ram(ctx, memory):
    with ctx.boot(memory=memory, timeout=120) as m:
        # The allocator's limit: below what the CPU addresses and the direct map covers, which
        # leaves out none of QEMU's RAM.
        bits_line = m.expect(ADDRESS_BITS)
        bits, mapped_end = int(bits_line.group(1)), int(bits_line.group(2), 16)
        if not 36 <= bits <= 52 or mapped_end < SIZES[memory]:
            m.fail(f"{bits} address bits, direct map to {mapped_end:#x} for -m {memory}")
        left_out = m.expect(LEFT_OUT)
        if left_out.group(1) != "0 B" or int(left_out.group(2), 16) != min(mapped_end, 1 << bits):
            m.fail(f"unexpected limit line: {left_out.group(0)}")
        frames, areas = usable_frames(m)
        m.expect("MarkerOS ready")
        low, high = expected_bounds(SIZES[memory])
        usable = frames * FRAME
        if not low <= usable <= high:
            m.fail(f"usable {usable} bytes is outside [{low}, {high}] for -m {memory}")
        if areas < 1:
            m.fail("no allocator areas")
        m.expect_prompt()
        m.command("poweroff", expect_prompt=False)
        m.expect_exit(CLEAN_EXIT)


def usable_regions(log):
    """The 'usable regions' table of the boot log as [(begin, end)]."""
    section = log.split("mem: usable regions:", 1)[1]
    regions = []
    for line in section.splitlines()[1:]:
        match = USABLE_REGION.match(line)
        if not match:
            break
        regions.append((int(match.group(1), 16), int(match.group(2), 16)))
    return regions


def test_cutmem_holes_are_not_usable(ctx):
    iso = Path(ctx.iso).with_name("kernel-cutmem.iso")
    with ctx.boot(iso=str(iso), memory="256M") as m:
        frames, _ = usable_frames(m)
        m.expect("MarkerOS ready")
        # grub-cutmem.cfg removes [64 MiB, 96 MiB) and [160 MiB, 161 MiB).
        for hole in ((64 * MiB, 96 * MiB), (160 * MiB, 161 * MiB)):
            for begin, end in usable_regions(m.log):
                if begin < hole[1] and hole[0] < end:
                    m.fail(f"usable region [{begin:#x}, {end:#x}) overlaps the cut {hole}")
        low, high = expected_bounds(256 * MiB)
        if not low - 33 * MiB <= frames * FRAME <= high - 33 * MiB:
            m.fail(f"usable {frames * FRAME} bytes does not reflect the 33 MiB cut")
        m.command("poweroff", expect_prompt=False)
        m.expect_exit(CLEAN_EXIT)


@parametrize("memory", ["128M", "1G"])
def test_reserved_memory_is_never_handed_out(ctx, memory):
    """`mem --verify` allocates every frame there is, checks that none lies in frame 0, the
    kernel image, the boot information, a module, the first MiB or a non-available map entry
    (ACPI tables), then frees them all."""
    with ctx.boot(memory=memory, timeout=180) as m:
        m.expect("MarkerOS ready")
        m.expect_prompt()
        out = m.command("mem --verify", timeout=150)
        match = re.search(r"verify: (\d+) frames allocated, (\d+) in reserved memory, "
                          r"(\d+) outside the map's available memory; all freed: (yes|no)", out)
        if not match:
            m.fail("no verify summary")
        allocated, reserved, outside, freed = match.groups()
        if int(allocated) == 0 or reserved != "0" or outside != "0" or freed != "yes":
            m.fail(f"verify failed: {match.group(0)}")
        m.command("poweroff", expect_prompt=False)
        m.expect_exit(CLEAN_EXIT)
