"""`make debug` and `make gdb` as the README describes them, driven without a person: QEMU waits
for gdb, gdb stops in the shell, its backtrace ends cleanly at the entry code (no `??` frames,
no corrupt-stack message), and quitting gdb leaves no QEMU behind."""
import os
import re
import socket
import subprocess
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
FRAME = re.compile(r"(?m)^#(\d+)\s+(?:0x[0-9a-f]+ in )?(\S+)")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for_port(port, process, seconds):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            return False
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            return True
        except OSError:
            time.sleep(0.2)
    return False


def test_make_debug_and_make_gdb_backtrace_ends_at_the_entry_code(ctx):
    port = free_port()
    log_dir = Path(ctx.log_dir)
    log_dir.mkdir(parents=True, exist_ok=True)
    make = ["make", "-s", "--no-print-directory", "-C", str(ROOT), f"GDB_PORT={port}"]
    env = {k: v for k, v in os.environ.items() if k not in ("TMUX", "MAKEFLAGS", "MFLAGS")}
    with open(log_dir / "make-debug.log", "wb") as qemu_log:
        qemu = subprocess.Popen(make + ["debug"], stdin=subprocess.PIPE, stdout=qemu_log,
                                stderr=subprocess.STDOUT, env=env, start_new_session=True)
        try:
            # QEMU listens before the first instruction runs: the stub exists once it is up.
            # (Connecting to test it costs nothing: the stub accepts a later gdb.)
            assert wait_for_port(port, qemu, 60), "make debug: QEMU never listened for gdb"
            gdb = subprocess.run(
                make + ["gdb", "GDB_ARGS=-batch -x test/integration/gdb-backtrace.gdb"],
                stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=90, env=env)
            (log_dir / "make-gdb.log").write_text(gdb.stdout + gdb.stderr)
            out = gdb.stdout + gdb.stderr
            frames = FRAME.findall(out)
            assert frames, f"no backtrace from gdb:\n{out}"
            names = [name for _, name in frames]
            assert names[0].startswith("shell::run"), names
            assert "kernel_main" in names, names
            assert names[-1] == "long_mode_high", f"the backtrace does not end at the entry: {names}"
            backtrace = [line for line in out.splitlines() if line.startswith("#")]
            assert not any("??" in line for line in backtrace), out
            assert "Backtrace stopped" not in out and "corrupt stack" not in out, out
            # Quitting gdb ended QEMU, and with it `make debug`.
            qemu.wait(timeout=15)
        finally:
            if qemu.poll() is None:
                os.killpg(qemu.pid, 9)
                qemu.wait()
                raise AssertionError("QEMU outlived gdb")
