"""What a newcomer meets first (issue 16): `log` returns, arguments are checked strictly, the
terminal's editing keys, Tab and over-long lines behave, and Ctrl-C stops every long command
with a partial summary and nothing lost."""
import re
from pathlib import Path

from qemu import CLEAN_EXIT

ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")
FREE_FRAMES = re.compile(r"(?m)^free\s+.*\((\d+) frames\)")


def ready(m):
    m.expect("MarkerOS ready")
    m.expect_prompt()


def finish(m):
    m.command("poweroff", expect_prompt=False)
    m.expect_exit(CLEAN_EXIT)


def test_newcomer_log_replays_the_boot_log_once(ctx):
    """The replay is not logged again: each `log` prints the boot banner once, and returns."""
    with ctx.boot() as m:
        ready(m)
        for marker in ["help log", "help mem"]:  # a line the replayed log does not hold yet
            start = len(m.log)
            m.send_line("log")
            m.expect("MarkerOS ready", timeout=20)
            m.command(marker, timeout=20)
            replay = m.log[start:m.log.rindex(marker)]
            assert len(re.findall(r"MarkerOS \S+ booting on CPU 0", replay)) == 1, replay[-2000:]
        finish(m)


# command line -> text its error must contain
REFUSALS = {
    "stress 5": "stress: takes no arguments, got '5' (see: help stress)",
    "alloc 1 2": "alloc: unexpected '2' (usage: alloc [N])",
    "mem extra": "mem: takes no arguments, got 'extra' (see: help mem)",
    "free": "free: missing ADDR (usage: free ADDR [N])",
    "help mem cpus": "help: unexpected 'cpus'",
    "stress --cpus 0": "option '--cpus' takes 1..2, not 0",
    "stress --cpus 99": "option '--cpus' takes 1..2, not 99",
    "stress --seconds 0": "option '--seconds' takes 1..3600, not 0",
    "stress --max-frames 513": "option '--max-frames' takes 1..512, not 513",
    "stress --remote 101": "option '--remote' takes 0..100, not 101",
    "stress --fill --ops 100": "--fill runs until memory is full; it takes no --ops or --seconds",
    "stress --ops 10 --seconds 1": "--ops and --seconds both say when to stop",
    "stress --mode sideways": "--mode takes per-cpu or global-lock",
    "stress --seed x": "option '--seed' needs a number",
    "stress --nope": "unknown option '--nope' (see: help stress)",
    "bench --cpus 3": "bench: option '--cpus' takes 1..2, not 3",
    "bench --ops 10": "bench: option '--ops' takes 1000..",
    "alloc 3 --align=3": "alloc: --align takes a power of two up to 8192 frames, not 3",
    "alloc 0": "alloc: N takes 1..8192 frames, not 0",
    "areas --width 4": "areas: option '--width' takes 8..200, not 4",
    "crash": "crash: which fault?\nkinds: page-fault divide invalid-opcode assert stack-overflow "
             "use-after-free",
    "crash sideways": "crash: unknown fault 'sideways'\nkinds: page-fault",
}


def test_newcomer_arguments_are_checked_and_help_is_tidy(ctx):
    with ctx.boot(smp=2, memory="512M") as m:
        ready(m)
        wide = [line for line in m.command("help").splitlines() if len(line) > 80]
        assert not wide, f"help is wider than 80 columns: {wide}"
        for line, error in REFUSALS.items():
            out = m.command(line)
            assert error in out, f"{line!r} answered {out!r}, expected {error!r}"
        # Singular and plural, and both option spellings of alloc.
        out = m.command("alloc")
        address = re.search(r"allocated 1 frame at (0x[0-9a-f]+) \(free with: free \1 1\)",
                            out).group(1)
        assert f"freed 1 frame at {address}" in m.command(f"free {address}")
        out = m.command("alloc 2 --align 512")
        address = int(re.search(r"allocated 2 frames at (0x[0-9a-f]+)", out).group(1), 16)
        assert address % (2 << 20) == 0, hex(address)
        assert "freed 2 frames" in m.command(f"free {address:#x} 2")
        # Every command's help; option descriptions start in one column.
        for name in ["help", "log", "poweroff", "reboot", "crash", "mem", "areas", "alloc", "free",
                     "cpus", "stress", "bench", "on"]:
            out = m.command(f"help {name}")
            assert out.startswith(name), out
            starts = {len(re.match(r"\s+--\S+\s+", line).group(0))
                      for line in out.splitlines() if line.startswith("  --")}
            assert len(starts) <= 1, f"help {name}: ragged option columns {starts}\n{out}"
            wide = [line for line in out.splitlines() if len(line) > 80]
            assert not wide, f"help {name} is wider than 80 columns: {wide}"
        out = m.command("help crash")
        assert "kinds: page-fault divide invalid-opcode assert stack-overflow use-after-free" in out
        assert "under make run (-no-reboot) QEMU exits" in m.command("help reboot")
        # Options not covered elsewhere: --cpus, --seconds, --mode, --seed of stress; --width.
        out = m.command("stress --cpus 1 --seconds 1 --mode global-lock --seed 7", timeout=30)
        assert "on 1 CPUs" in out and "global-lock mode" in out, out
        assert re.search(r"duplicates=0 lost=0 errors=0 .* cpus=1 ", out), out
        out = m.command("areas --width 8")
        rows = re.findall(r"(?m)^0x[0-9a-f]+ \|(.*)\|$", out)
        assert len(rows) > 1 and all(len(r) <= 8 for r in rows) and len(rows[0]) == 8, out
        finish(m)


def test_newcomer_terminal_keys_tab_completion_long_lines_and_80_columns(ctx):
    with ctx.boot(smp=4) as m:
        ready(m)
        # "xmem", Home (ESC [ 1 ~), Delete (ESC [ 3 ~), End (ESC [ 4 ~): runs "mem".
        m.send_raw(b"xmem\x1b[1~\x1b[3~\x1b[4~\r")
        m.expect(re.compile(r"(?m)^total\s"))
        m.expect_prompt()
        # "em", Home as ESC O H, "m", End as ESC O F, " --check": runs "mem --check".
        m.send_raw(b"em\x1bOHm\x1bOF --check\r")
        m.expect("invariants: ok")
        m.expect_prompt()
        # Tab completes "cp" to "cpus ".
        m.send_raw(b"cp\t\r")
        m.expect("CPUs online")
        m.expect_prompt()
        # Tab on "a" lists both commands that start with it.
        m.send_raw(b"a\t")
        m.expect(re.compile(r"alloc\s+areas|areas\s+alloc"))
        m.send_raw(b"\x15\r")
        m.expect_prompt()
        # A line over the capacity is refused as a whole, with a message.
        m.send_raw(b"alloc " + b"1" * 250 + b"\r")
        m.expect("error: line longer than 200 characters; nothing was run")
        m.expect_prompt()
        # `cpus` fits an 80-column terminal and the VGA screen.
        out = ANSI.sub("", m.command("cpus"))
        wide = [line for line in out.splitlines() if len(line) > 80]
        assert not wide, f"cpus prints lines over 80 columns: {wide}"
        assert re.search(r"(?m)^\s+3\s+\d+\s+online\s", out), out
        finish(m)


def free_frames(m):
    return int(FREE_FRAMES.search(m.command("mem")).group(1))


def test_newcomer_ctrl_c_stops_long_commands_and_loses_nothing(ctx):
    with ctx.boot(smp=4, memory="4G", timeout=150) as m:
        ready(m)
        before = free_frames(m)
        # An hour-long stress run: progress each second, Ctrl-C ends it with a partial summary.
        m.send_line("stress --seconds 3600 --remote 20")
        m.expect(re.compile(r"stress: 1 s, \d+ ops so far"), timeout=30)
        m.send_raw(b"\x03")
        m.expect("stress: interrupted by Ctrl-C", timeout=10)
        m.expect_prompt()
        out = m.log[m.log.rindex("stress: ops="):]
        assert re.search(r"duplicates=0 lost=0 errors=0", out), out
        # A fill of 4 GiB one frame at a time, stopped half-way.
        m.send_line("stress --fill --max-frames 1")
        m.expect(re.compile(r"stress: 1 s, \d+ ops so far"), timeout=30)
        m.send_raw(b"\x03")
        m.expect("stress: interrupted by Ctrl-C", timeout=10)
        m.expect_prompt()
        # mem --verify at 4 GiB: progress, then Ctrl-C; every frame it took is freed.
        m.send_line("mem --verify")
        m.expect(re.compile(r"verify: 1 s, \d+ of \d+ frames allocated"), timeout=30)
        m.send_raw(b"\x03")
        m.expect(re.compile(r"verify: \d+ frames allocated, 0 in reserved memory, 0 outside "
                            r"the map's available memory; all freed: yes"), timeout=10)
        m.expect("verify: interrupted by Ctrl-C")
        m.expect_prompt()
        # bench with far too many operations: Ctrl-C ends it after its header.
        m.send_line("bench --ops 100000000")
        m.expect("per-CPU ops/s", timeout=10)
        m.expect(re.compile(r"bench: per-CPU: 1 s, \d+ ops so far"), timeout=20)
        m.send_raw(b"\x03")
        m.expect("bench: interrupted by Ctrl-C", timeout=20)
        m.expect_prompt()
        out = m.command("mem --check")
        assert "invariants: ok" in out, out
        assert free_frames(m) == before, "a stopped command kept frames"
        # Each Ctrl-C was taken by the command it stopped, not left for the prompt as "> ^C".
        assert "^C" not in m.log
        finish(m)


def cpu_row(cpus_output, cpu):
    """{column: value} of one CPU in the first table of `cpus`."""
    lines = cpus_output.splitlines()
    header = next(line.split() for line in lines if line.split()[:2] == ["cpu", "apic"])
    row = next(line.split() for line in lines if line.split()[:1] == [str(cpu)])
    return dict(zip(header, row))


def test_newcomer_on_runs_a_command_on_another_cpu_and_areas_watch(ctx):
    with ctx.boot(smp=4, memory="256M") as m:
        ready(m)
        out = m.command("on 2 alloc 1")
        assert "on: running 'alloc 1' on CPU 2" in out, out
        address = re.search(r"allocated 1 frame at (0x[0-9a-f]+)", out).group(1)
        assert cpu_row(m.command("cpus"), 2)["allocs"] == "1"
        # Freed by CPU 1, the frame lies in CPU 2's area: a remote free, counted for CPU 1.
        assert f"freed 1 frame at {address}" in m.command(f"on 1 free {address}")
        assert cpu_row(m.command("cpus"), 1)["remote"] == "1"
        # Options after the command belong to it, not to `on`.
        out = m.command("on 3 alloc 2 --align 4")
        assert re.search(r"allocated 2 frames at 0x[0-9a-f]*[048c]000 ", out), out
        assert "on: CPU takes 0..3 (the online CPUs), not '9'" in m.command("on 9 mem")
        assert "on: usage: on CPU COMMAND" in m.command("on 1")
        assert "unknown command 'nosuch'" in m.command("on 1 nosuch")
        assert "drives the CPUs from CPU 0 itself" in m.command("on 1 stress")
        assert "mem: takes no arguments" in m.command("on 1 mem extra")
        # The map redrawn each second until a key; and drawn by stress --areas as it runs.
        m.send_line("areas --watch --width 16")
        m.expect("areas: redrawn every second (1); press any key to stop", timeout=10)
        m.send("q")
        m.expect_prompt(timeout=5)
        out = m.command("stress --seconds 2 --areas", timeout=30)
        after_progress = out.split("stress: 1 s,", 1)[1]
        assert "fill: ' ' empty" in after_progress and re.search(r"owner \|[-0-3]+\|", out), out
        assert re.search(r"duplicates=0 lost=0 errors=0", out), out
        finish(m)


def vga_screen(monitor):
    """The 80x25 text screen as 25 strings, read from QEMU's memory through its monitor."""
    import socket
    import time
    monitor.settimeout(0.5)
    try:  # whatever the monitor said before (its banner, earlier prompts)
        while monitor.recv(65536):
            pass
    except socket.timeout:
        pass
    monitor.sendall(b"xp /2000hx 0xb8000\n")
    data, deadline = b"", time.monotonic() + 15
    cells = []
    while len(cells) < 2000 and time.monotonic() < deadline:
        try:
            data += monitor.recv(65536)
        except socket.timeout:
            continue
        cells = [int(word, 16) for line in data.decode(errors="replace").splitlines()
                 if re.match(r"^[0-9a-f]+:", line.strip())
                 for word in line.split(":", 1)[1].split() if word.startswith("0x")]
    assert len(cells) >= 2000, f"the monitor returned {len(cells)} screen cells: {data[-300:]!r}"
    text = "".join(chr(c & 0xFF) if 0x20 <= (c & 0xFF) < 0x7F else " " for c in cells[:2000])
    return [text[i:i + 80] for i in range(0, 2000, 80)]


def test_newcomer_vga_screen_follows_the_editing_and_the_watch(ctx):
    """The VGA screen (QEMU's window) follows the line editor's and `areas --watch`'s escape
    sequences instead of showing their bytes."""
    import os
    import socket
    import tempfile
    path = os.path.join(tempfile.mkdtemp(prefix="markeros-vga-"), "monitor.sock")
    # The ISO whose GRUB menu keeps text mode: with a framebuffer the console draws there instead.
    text_iso = str(Path(ctx.iso).with_name("kernel-text.iso"))
    with ctx.boot(iso=text_iso, extra_args=["-monitor", f"unix:{path},server,nowait"]) as m:
        ready(m)
        monitor = socket.socket(socket.AF_UNIX)
        monitor.connect(path)
        m.send_raw(b"xmem\x1b[1~\x1b[3~\r")
        m.expect(re.compile(r"(?m)^total\s"))
        m.expect_prompt()
        screen = vga_screen(monitor)
        assert any(line.rstrip() == "> mem" for line in screen), "\n".join(screen)
        assert not any("[K" in line or "[1~" in line for line in screen), "\n".join(screen)
        m.send_line("areas --watch")
        m.expect("areas: redrawn every second (1)", timeout=10)
        m.send("q")
        m.expect_prompt(timeout=5)
        screen = vga_screen(monitor)
        assert screen[0].startswith("fill: ' ' empty"), "\n".join(screen)
        monitor.close()
        finish(m)
