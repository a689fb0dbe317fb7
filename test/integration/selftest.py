#!/usr/bin/env python3
"""Prove the harness itself, against fake_kernel.py instead of QEMU.

    python3 test/integration/selftest.py      (prints "N passed, N failed")
"""
import os
import shlex
import shutil
import signal
import subprocess
import sys
import tempfile
import textwrap
import time
import traceback
import uuid
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from qemu import MachineFailure, QemuMachine  # noqa: E402

LOGS = tempfile.mkdtemp(prefix="integration-selftest-")
MARK = uuid.uuid4().hex  # on every fake's command line, to find leftovers


def fake(mode="normal"):
    return f"{shlex.quote(sys.executable)} {shlex.quote(str(HERE / 'fake_kernel.py'))} --mode {mode} --mark {MARK}"


def machine(mode="normal", **options):
    return QemuMachine(qemu=fake(mode), log_path=os.path.join(LOGS, f"{mode}.log"), **options)


def fails(function, *needles):
    """function() must raise MachineFailure mentioning every needle."""
    try:
        function()
    except MachineFailure as e:
        missing = [n for n in needles if n not in str(e)]
        assert not missing, f"failure message lacks {missing}:\n{e}"
        return str(e)
    raise AssertionError(f"expected a MachineFailure mentioning {needles}")


def leftovers():
    found = []
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            if MARK.encode() in Path(f"/proc/{pid}/cmdline").read_bytes():
                found.append(pid)
        except OSError:
            pass
    return found


def test_pass_path():
    with machine(smp=4, machine="q35") as m:
        assert "booting: machine q35, smp 4" in m.expect("booting").string
        m.expect("MarkerOS ready")
        m.expect_prompt()
        assert m.command("echo hello  world") == "hello world"
        assert "unknown command: frob" in m.command("frob")
        m.command("poweroff", expect_prompt=False)
        assert m.expect_exit(33) == 33
    assert "\ufffd" in m.log, "invalid UTF-8 must be replaced, not fatal"
    text = Path(m.log_path).read_text()
    assert "> echo hello  world\nhello world\n" in text and "status 33 (clean exit)" in text, text


def test_expect_timeout_reports_what_why_and_tail():
    with machine() as m:
        m.expect("MarkerOS ready")
        fails(lambda: m.expect("never printed", timeout=0.3),
              "expected 'never printed'", "timed out after 0.3 s", "last 80 lines", "MarkerOS ready")


def test_overall_timeout():
    with machine("chatty", timeout=1) as m:
        start = time.monotonic()
        fails(lambda: m.expect("never printed"), "overall test timeout of 1 s", "tick 3")
        assert time.monotonic() - start < 2


def test_idle_timeout():
    with machine(idle_timeout=0.5) as m:
        m.expect_prompt()
        m.command("hang", expect_prompt=False)
        fails(lambda: m.expect("never printed"), "idle timeout: no output for")
        fails(lambda: m.wait_exit(), "expected QEMU to exit: idle timeout")


def test_exit_status_0_is_a_failure():
    with machine("triple-fault") as m:
        fails(lambda: m.expect("MarkerOS ready"), "QEMU exited with status 0 (reset or triple fault)")
        fails(lambda: m.expect_exit(33), "expected exit status 33", "exited with status 0")
    with machine() as m:
        m.expect_prompt()
        m.command("reset", expect_prompt=False)
        fails(lambda: m.expect_exit(33), "exited with status 0")


def test_panic_exit_status():
    with machine() as m:
        m.expect_prompt()
        m.command("crash page-fault", expect_prompt=False)
        m.expect("PANIC")
        m.expect_exit(35)
        fails(lambda: m.send_line("poweroff"), "cannot send")
    with machine() as m:
        m.expect_prompt()
        m.command("crash divide", expect_prompt=False)
        fails(lambda: m.expect_exit(33), "exited with status 35 (kernel panic)")


def test_qemu_is_killed_when_the_test_breaks():
    try:
        with machine() as m:
            m.command("hang", expect_prompt=False)
            raise KeyError("test bug")
    except KeyError:
        pass
    assert m.proc.returncode == -signal.SIGKILL
    assert "killed by signal 9" in Path(m.log_path).read_text()


def test_startup_errors_are_reported():
    with machine("broken") as m:
        fails(lambda: m.expect("MarkerOS"), "status 1", "QEMU stderr", "Could not open")
    fails(lambda: QemuMachine(qemu="/nonexistent/qemu").start(), "cannot start '/nonexistent/qemu'")


SAMPLE = '''
    import run
    @run.parametrize("n", [1, 2])
    def test_param(ctx, n):
        with ctx.boot() as m:
            assert m.command(f"echo {n}") == str(n)
    def test_ok(ctx):
        with ctx.boot(smp=2) as m:
            m.command("poweroff", expect_prompt=False)
            m.expect_exit(33)
    def test_bad(ctx):
        with ctx.boot() as m:
            m.expect("MarkerOS ready")
            assert 1 + 1 == 3, "arithmetic"
    def test_hang(ctx):
        with ctx.boot() as m:
            m.command("hang", expect_prompt=False)
            m.expect("forever")
'''


def runner(*args, mode="normal", wait=True):
    tests = os.path.join(LOGS, "tests")
    os.makedirs(tests, exist_ok=True)
    Path(tests, "test_sample.py").write_text(textwrap.dedent(SAMPLE))
    argv = [sys.executable, str(HERE / "run.py"), "--tests-dir", tests, "--qemu", fake(mode),
            "--log-dir", LOGS, *args]
    proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    if not wait:
        return proc
    out = proc.communicate(timeout=30)[0]
    return proc.returncode, out


def test_runner_reports_and_exit_status():
    rc, out = runner("-k", "test_", "--timeout-scale", "0.1")
    lines = out.splitlines()
    assert rc == 1 and lines[-1] == "3 passed, 2 failed", out
    for expected in ("PASS test_param[n=1] (", "PASS test_param[n=2] (", "PASS test_ok (",
                     "FAIL test_bad (", "FAIL test_hang ("):
        assert any(line.startswith(expected) for line in lines), f"{expected!r} missing:\n{out}"
    assert "AssertionError: arithmetic" in out and "MarkerOS ready" in out, out
    assert "idle timeout" in out and os.path.exists(os.path.join(LOGS, "test_param_n=2.log")), out
    rc, out = runner("-k", "test_ok")
    assert rc == 0 and out.splitlines()[-1] == "1 passed, 0 failed", out
    rc, out = runner("-k", "no such test")
    assert rc != 0 and out.splitlines()[-1] == "0 passed, 0 failed", out
    rc, out = runner("--list", "-k", "param")
    assert rc == 0 and out.split() == ["test_param[n=1]", "test_param[n=2]"], out


def test_runner_ctrl_c_leaves_no_process():
    proc = runner("-k", "hang", wait=False)
    time.sleep(1.0)
    assert leftovers(), "the fake kernel should be running by now"
    proc.send_signal(signal.SIGINT)
    out = proc.communicate(timeout=10)[0]
    assert proc.returncode != 0 and "interrupted" in out, out
    assert not leftovers(), f"processes left behind: {leftovers()}"


def test_kernel_tests_agree_with_the_fake():
    # The fake kernel knows the boot and panic protocol only, so only those tests are run.
    out = subprocess.run([sys.executable, str(HERE / "run.py"), "--qemu", fake(), "--log-dir", LOGS,
                          "-k", "test_boot_and_poweroff"],
                         capture_output=True, text=True, timeout=60).stdout
    assert out.splitlines()[-1] == "8 passed, 0 failed", out
    out = subprocess.run([sys.executable, str(HERE / "run.py"), "--qemu", fake("triple-fault"),
                          "--log-dir", LOGS, "-k", "crash"], capture_output=True, text=True, timeout=60).stdout
    crashes = out.count("FAIL ")
    assert crashes >= 3 and out.splitlines()[-1] == f"0 passed, {crashes} failed", out
    assert "status 0" in out, out


def main():
    passed = failed = 0
    for name, test in [(n, f) for n, f in globals().items() if n.startswith("test_")]:
        start = time.monotonic()
        try:
            test()
            passed += 1
            print(f"PASS {name} ({time.monotonic() - start:.1f} s)", flush=True)
        except Exception:
            failed += 1
            print(f"FAIL {name} ({time.monotonic() - start:.1f} s)", flush=True)
            print("    " + traceback.format_exc().rstrip().replace("\n", "\n    "), flush=True)
    if leftovers():
        failed += 1
        print(f"FAIL processes left behind: {leftovers()}")
    if failed:
        print(f"logs kept in {LOGS}")
    else:
        shutil.rmtree(LOGS)
    print(f"{passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
