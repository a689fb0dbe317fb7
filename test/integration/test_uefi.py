"""UEFI boot: the same ISO (GRUB's EFI build beside its BIOS one) boots under OVMF, and the
kernel finds its memory map, its ACPI tables (the ACPI 2.0 RSDP from the new-ACPI tag) and its
CPUs as it does under BIOS, then passes a stress run."""
import re

from qemu import CLEAN_EXIT
from run import parametrize
from test_boot import BANNER
from screen import font_next_to, read_screen
from test_screen import expect_screen_shows_serial_tail
from test_shell import check_summary

USABLE = re.compile(r"mem: usable (\S+ \S+) \((\d+) frames\) of .*?; (\d+) areas")
RSDP_TAG = "boot: RSDP copy (36 bytes) in the new-ACPI (15) tag"
RSDP_LINE = re.compile(r"acpi: RSDP revision 2 \(v2, ACPI 2\.0\+\) from the boot loader's copy, "
                       r"OEM '[^']*'; XSDT at 0x[0-9a-f]+ lists (\d+) tables")
# The memory a machine is given and the least of it the kernel must find usable: OVMF keeps
# some for itself (its runtime services, ACPI tables) and the kernel carves out its image.
USABLE_AT_LEAST = {"512M": 480 * 256, "4G": 3900 * 256}


@parametrize("smp", [1, 4])
@parametrize("memory", ["512M", "4G"])
def test_uefi_boot_mem_cpus_and_stress(ctx, smp, memory):
    with ctx.boot(uefi=True, smp=smp, memory=memory, timeout=240, idle_timeout=90,
                  monitor=True) as m:
        m.expect("GRUB")  # GRUB's EFI build, started by OVMF from the ISO's EFI boot image
        banner = m.expect(BANNER).group(0)
        m.expect(RSDP_TAG)
        m.expect("console: framebuffer 1024x768")  # GOP through GRUB's efi_gop, not VGA text
        usable = m.expect(USABLE)
        frames = int(usable.group(2))
        assert frames >= USABLE_AT_LEAST[memory], f"only {frames} frames usable of {memory}"
        rsdp = m.expect(RSDP_LINE)
        assert int(rsdp.group(1)) >= 3, f"the XSDT lists only {rsdp.group(1)} tables"
        m.expect(f"smp: {smp} CPUs online")
        m.expect("MarkerOS ready")
        m.expect_prompt()

        out = m.command("mem --check")
        assert "invariants: ok" in out, out
        assert re.search(r"(?m)^free\s", out), out
        out = m.command("cpus")
        assert f"{smp} CPUs online" in out, out
        rows = re.findall(r"(?m)^\s+(\d+)\s+(\d+)\s+online\s", out)
        assert [int(c) for c, _ in rows] == list(range(smp)), out
        out = m.command("stress --ops 20000 --max-frames 32 --remote 30", timeout=150)
        check_summary(m, out, smp)
        assert "invariants: ok" in m.command("mem --check")
        # The GOP framebuffer shows the same text as serial (the boot log has scrolled by now).
        expect_screen_shows_serial_tail(m, read_screen(m, font_next_to(ctx.iso)), banner)
        m.command("poweroff", expect_prompt=False)
        m.expect_exit(CLEAN_EXIT)
