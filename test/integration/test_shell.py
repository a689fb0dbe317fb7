"""The shell over serial: help, errors, garbage input, mem, cpus, and stress on several CPUs."""
import re

from qemu import CLEAN_EXIT
from run import parametrize

SUMMARY = re.compile(r"stress: ops=(\d+) duplicates=(\d+) lost=(\d+) errors=(\d+) time=\d+ ms "
                     r"cpus=(\d+)")
COMMANDS = ["help", "log", "poweroff", "reboot", "crash", "mem", "areas", "alloc", "free",
            "cpus", "stress", "slabs", "kmalloc", "kfree", "picture", "bench", "on"]


def ready(m):
    m.expect("MarkerOS ready")
    m.expect_prompt()


def finish(m):
    m.command("poweroff", expect_prompt=False)
    m.expect_exit(CLEAN_EXIT)


def test_help_lists_every_command_and_explains_options(ctx):
    with ctx.boot() as m:
        ready(m)
        out = m.command("help")
        for name in COMMANDS:
            assert re.search(rf"(?m)^\s+{name}\s+\S", out), f"help does not list {name}"
        out = m.command("help stress")
        for option in ["--cpus", "--seconds", "--ops", "--max-frames", "--pattern", "--remote",
                       "--fill", "--heap"]:
            assert option in out, f"help stress lacks {option}"
        assert "no command" in m.command("help nosuch")
        finish(m)


def test_unknown_command_and_bad_options_give_clear_errors(ctx):
    with ctx.boot() as m:
        ready(m)
        assert "unknown command 'frobnicate'" in m.command("frobnicate now")
        assert "unknown option '--bogus'" in m.command("stress --bogus")
        assert "needs a value" in m.command("stress --seconds")
        assert "needs a number" in m.command("stress --seconds=soon")
        assert "random, bulk or repeat" in m.command("stress --pattern sideways")
        assert "refused" in m.command("free 0x123 1")          # misaligned
        assert "refused" in m.command("free 0x7ff0000000 1")   # outside every area
        out = m.command("alloc 1")
        address = re.search(r"allocated 1 frame at (0x[0-9a-f]+)", out).group(1)
        assert "freed" in m.command(f"free {address} 1")
        assert "double free" in m.command(f"free {address} 1")
        assert "N takes 1..8192 frames, not 99999" in m.command("alloc 99999")
        finish(m)


def test_garbage_input_does_not_crash_the_shell(ctx):
    with ctx.boot() as m:
        ready(m)
        garbage = bytes(range(1, 256)).replace(b"\r", b"").replace(b"\n", b"").replace(b"\x03", b"")
        m.send_raw(garbage * 2 + b"x" * 600 + b"\r")
        m.expect_prompt(timeout=30)
        m.send_raw(b"\x1b[A\x1b[B\x1b[C\x1b[D\x1b[5~\x7f\x7f\x15\r")
        m.expect_prompt()
        assert "free" in m.command("mem")  # still answering
        finish(m)


def test_mem_and_cpus_report(ctx):
    with ctx.boot(smp=4, memory="256M") as m:
        ready(m)
        out = m.command("mem --check")
        for label in ["total", "used", "free", "areas", "2M-ready", "2M whole", "recalcs",
                      "metadata"]:
            assert re.search(rf"(?m)^{label}\s", out), f"mem lacks {label}"
        assert "invariants: ok" in out
        out = m.command("cpus")
        assert "4 CPUs online" in out
        rows = re.findall(r"(?m)^\s+(\d+)\s+(\d+)\s+online\s", out)
        assert [int(c) for c, _ in rows] == [0, 1, 2, 3], out
        assert "fill:" in m.command("areas")
        finish(m)


def check_summary(m, out, cpus):
    match = SUMMARY.search(out)
    if not match:
        m.fail("no stress summary line")
    ops, duplicates, lost, errors, ran_on = map(int, match.groups())
    assert ops > 0, "no operations"
    assert (duplicates, lost, errors) == (0, 0, 0), match.group(0)
    assert ran_on == cpus, f"ran on {ran_on} CPUs, expected {cpus}"


@parametrize("cpus", [4, 8])
@parametrize("pattern", ["random", "bulk", "repeat"])
def test_stress_every_pattern_with_remote_frees(ctx, cpus, pattern):
    with ctx.boot(smp=cpus, memory="256M", timeout=120) as m:
        ready(m)
        out = m.command(f"stress --pattern {pattern} --ops 60000 --max-frames 32 --remote 30",
                        timeout=90)
        check_summary(m, out, cpus)
        out = m.command("mem --check")
        assert "invariants: ok" in out
        finish(m)


@parametrize("cpus", [4, 8])
def test_stress_fill_runs_memory_out_and_back(ctx, cpus):
    with ctx.boot(smp=cpus, memory="256M", timeout=120) as m:
        ready(m)
        out = m.command("stress --fill --max-frames 512", timeout=90)
        check_summary(m, out, cpus)
        filled = int(re.search(r"filled (\d+) frames", out).group(1))
        assert filled > 60000, f"only {filled} frames filled of 256 MiB"
        assert "failed cleanly: yes" in out
        finish(m)


def test_bench_runs_both_allocators_and_reports_ratios(ctx):
    """A benchmark is not a test: this only checks that `bench` runs a few operations of every
    shape with both allocators and prints its table; the figures are not judged."""
    with ctx.boot(smp=4, memory="256M", timeout=120) as m:
        ready(m)
        out = m.command("bench --ops 4000 --cpus 2", timeout=100)
        rows = re.findall(r"(?m)^(bulk|repeat|rand)\s+(\d+)\s+(\d+)\s+(\d+)\s+(\d+\.\d)x$", out)
        assert len(rows) == 5, out
        assert "on 2 CPUs" in out, out
        # A ratio below 1 on a short run comes with a word on what it means, and only then.
        below_one = any(float(row[4]) < 1.0 for row in rows)
        assert below_one == ("a ratio below 1.0x" in out), out
        assert "rescanned per second" in out, out
        assert "invariants: ok" in m.command("mem --check")
        finish(m)


def test_stress_with_more_cpus_than_areas(ctx):
    """64 CPUs and 128 MiB (about 4 areas): most CPUs share areas they do not own, which the
    allocator allows without a lock because every bitmap and marker update is atomic."""
    with ctx.boot(smp=64, memory="128M", timeout=240, idle_timeout=90) as m:
        ready(m)
        out = m.command("stress --ops 40000 --max-frames 8 --remote 30", timeout=200)
        check_summary(m, out, 64)
        out = m.command("cpus")
        assert "64 CPUs online" in out
        # The second table: cpu claims shares sweeps ..., one row per CPU.
        lines = out.splitlines()
        header = next(i for i, line in enumerate(lines) if "shares" in line.split())
        shares = lines[header].split().index("shares")
        rows = [line.split() for line in lines[header + 1:header + 65]]
        assert sum(int(row[shares]) for row in rows) > 0, "no CPU shared an area"
        out = m.command("mem --check")
        assert "invariants: ok" in out
        finish(m)


def test_ps2_keyboard_types_into_the_shell(ctx):
    """Keys pressed on the emulated PS/2 keyboard (QEMU's `sendkey`, as a person typing in the
    QEMU window) reach the same shell: `cpus` typed there runs and answers on the console."""
    import os
    import socket
    import tempfile
    import time
    path = os.path.join(tempfile.mkdtemp(prefix="markeros-monitor-"), "monitor.sock")
    with ctx.boot(extra_args=["-monitor", f"unix:{path},server,nowait"]) as m:
        ready(m)
        monitor = socket.socket(socket.AF_UNIX)
        monitor.connect(path)
        for key in ["c", "p", "u", "s", "ret"]:
            monitor.sendall(f"sendkey {key}\n".encode())
            time.sleep(0.1)
        m.expect("CPUs online")
        m.expect_prompt()
        # Shift is honoured: an upper-case command is unknown, and says so.
        for key in ["shift-m", "e", "m", "ret"]:
            monitor.sendall(f"sendkey {key}\n".encode())
            time.sleep(0.1)
        m.expect("unknown command 'Mem'")
        monitor.close()
        finish(m)
