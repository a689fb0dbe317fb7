"""Boot the kernel, reach the shell, power off; and make it panic on purpose."""
import re

from qemu import CLEAN_EXIT, PANIC_EXIT
from run import parametrize

BANNER = re.compile(r"(?m)^(?=.*MarkerOS)(?=.*booting).*$")  # both words, one line
PANIC_LINE = re.compile(r"(?m)^(?=.*PANIC)")                  # start of the report


@parametrize("machine", ["pc", "q35"])
@parametrize("smp", [1, 4])
@parametrize("memory", ["128M", "4G"])
def test_boot_and_poweroff(ctx, machine, smp, memory):
    with ctx.boot(machine=machine, smp=smp, memory=memory) as m:
        m.expect(BANNER)
        m.expect("MarkerOS ready")
        m.expect_prompt()
        m.command("poweroff", expect_prompt=False)
        m.expect_exit(CLEAN_EXIT)


# crash command argument -> what the panic report must contain, in any order
CRASHES = {
    # Function, offset and file:line (from the "lines" module GRUB loads beside the symbols).
    # The write is an always-inlined helper's: the frame lists it under the function.
    "page-fault": ["page fault", re.compile(r"(?s)backtrace:.*crash_page_fault\(\)\+0x[0-9a-f]+ "
                                            r"at src/shell/commands_system\.cpp:\d+\n"
                                            r"\s+inlined (?:code|: \S*write_to\S*) at "
                                            r"src/shell/commands_system\.cpp:\d+\n")],
    "divide": [re.compile(r"(?i)divide"), re.compile(r"(?s)backtrace:.*crash_divide_error")],
    "invalid-opcode": ["invalid opcode", re.compile(r"(?s)backtrace:.*crash_invalid_opcode")],
    "assert": ["assertion failed", re.compile(r"[\w./-]+\.(?:cpp|hpp|h|S):\d+")],
    # The guard page below the boot stack turns an overflow into a fault that cannot push its
    # frame; the double-fault handler runs on its own IST stack, names the overflow, and prints
    # the recursion once with a count; the backtrace ends at the entry code.
    "stack-overflow": ["double fault", "stack overflow: the stack ran into its guard page",
                       re.compile(r"(?s)backtrace:.*crash_stack_overflow"),
                       re.compile(r"\.\.\. the frame above \d+ more times"),
                       re.compile(r"long_mode_high\+0x[0-9a-f]+ at src/boot/entry\.S:\d+\n"
                                  r"System halted")],
}


@parametrize("kind", list(CRASHES))
def test_crash_panics(ctx, kind):
    with ctx.boot() as m:
        m.expect("MarkerOS ready")
        m.expect_prompt()
        m.command(f"crash {kind}", expect_prompt=False)
        start = m.expect(PANIC_LINE).start()
        m.expect("backtrace:")
        m.expect_exit(PANIC_EXIT)
        report = m.log[start:]
        for needle in CRASHES[kind]:
            if isinstance(needle, str) and needle not in report:
                m.fail(f"the panic report lacks {needle!r}")
            if isinstance(needle, re.Pattern) and not needle.search(report):
                m.fail(f"the panic report does not match /{needle.pattern}/")
        if kind == "stack-overflow":
            recursion = re.findall(r"(?m)^  #\d+ .*crash_stack_overflow\(", report)
            assert len(recursion) <= 2, f"{len(recursion)} recursion frames printed one by one"


@parametrize("machine", ["pc", "q35"])
def test_poweroff_through_acpi(ctx, machine):
    """Without the test exit device, `poweroff` must switch the machine off through the FADT's
    PM1 control registers and the DSDT's \\_S5 values; QEMU then exits by itself."""
    with ctx.boot(machine=machine, debug_exit=False) as m:
        m.expect("MarkerOS ready")
        m.expect_prompt()
        m.command("poweroff", expect_prompt=False)
        m.expect("Powering off.")
        status = m.wait_exit(timeout=20)
        assert "Power-off failed" not in m.log, "the kernel fell through every power-off method"
        assert "no power-off data" not in m.log, "ACPI power-off data was not found"
        assert status == 0, f"QEMU exited with {status} after an ACPI power-off"


def debug_fill_iso(ctx):
    from pathlib import Path
    return str(Path(ctx.iso).parent / "debug-fill" / "kernel.iso")


def test_debug_fill_kernel_survives_stress_and_reports_a_write_after_free(ctx):
    """The DEBUG_FILL=1 kernel fills every freed frame and checks the fill when the frame is
    handed out again: a stress run must pass every check, and a write into a freed frame
    must end in a report naming the frame and the CPU."""
    with ctx.boot(iso=debug_fill_iso(ctx), smp=4, memory="256M", timeout=180) as m:
        m.expect("MarkerOS ready")
        m.expect_prompt()
        out = m.command("stress --ops 20000 --max-frames 8 --remote 30", timeout=150)
        assert re.search(r"duplicates=0 lost=0 errors=0", out), out
        m.command("crash use-after-free", expect_prompt=False)
        report = m.expect(re.compile(r"PANIC on CPU (\d+) .*write after free: frame (0x[0-9a-f]+) "
                                     r"offset 0x38 holds 0xbad .*noticed by CPU (\d+)"))
        assert report.group(1) == report.group(3) == "0", report.group(0)
        m.expect("backtrace:")
        m.expect_exit(PANIC_EXIT)


def test_reboot_resets_the_machine(ctx):
    """`reboot` resets the machine through the keyboard controller; with -no-reboot QEMU turns
    the reset into an exit with status 0 instead of booting again."""
    with ctx.boot() as m:
        m.expect("MarkerOS ready")
        m.expect_prompt()
        m.command("reboot", expect_prompt=False)
        m.expect("Rebooting.")
        assert m.wait_exit(timeout=20) == 0
        assert "PANIC" not in m.log
