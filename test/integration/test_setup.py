"""tools/install-deps.sh installs per target: `make run` needs no test tools, `GUI=1` adds QEMU's
window, `make test` the rest; without dpkg it checks the commands and goes ahead when they are
there. Runs the script against fake PATHs: no QEMU, no root, nothing installed for real."""
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "tools" / "install-deps.sh"
BASICS = ["bash", "grep", "id", "cat"]
RUN_COMMANDS = ["grub-mkrescue", "xorriso", "mformat", "qemu-system-x86_64", "g++", "make", "ld",
                "nm", "objdump", "addr2line", "python3"]


def fake_path(directory, commands, dpkg_query=None):
    """A PATH holding exactly `commands` (stubs) and, if given, a dpkg-query script."""
    os.makedirs(directory, exist_ok=True)
    for name in commands:
        real = shutil.which(name)
        target = os.path.join(directory, name)
        if name in BASICS and real:
            os.symlink(real, target)
        else:
            Path(target).write_text("#!/bin/sh\nexit 0\n")
            os.chmod(target, 0o755)
    if dpkg_query is not None:
        Path(directory, "dpkg-query").write_text(f"#!/bin/sh\n{dpkg_query}\n")
        os.chmod(os.path.join(directory, "dpkg-query"), 0o755)
    return directory


def run(profile, path):
    return subprocess.run([shutil.which("bash"), str(SCRIPT), profile], capture_output=True,
                          text=True, env={"PATH": path}, timeout=30)


def test_install_deps_asks_per_target_and_trusts_present_tools_without_apt(ctx):
    with tempfile.TemporaryDirectory() as tmp:
        # Debian with nothing installed and no apt-get: the script names what each target needs.
        debian = fake_path(os.path.join(tmp, "debian"), BASICS, dpkg_query="exit 1")
        wanted = {}
        for profile in ["run", "gui", "debug", "test"]:
            result = run(profile, debian)
            assert result.returncode == 1, (profile, result.stdout, result.stderr)
            line = next(l for l in result.stdout.splitlines() if "missing Debian packages" in l)
            wanted[profile] = set(line.rsplit(": ", 1)[1].split())
        assert {"qemu-system-x86", "grub-pc-bin", "xorriso", "mtools", "g++"} <= wanted["run"]
        assert not wanted["run"] & {"valgrind", "clang", "libbenchmark-dev", "doctest-dev", "gdb",
                                    "qemu-system-gui"}, wanted["run"]
        assert wanted["gui"] == wanted["run"] | {"qemu-system-gui"}
        assert wanted["debug"] == wanted["run"] | {"gdb"}
        assert {"valgrind", "clang", "libbenchmark-dev", "doctest-dev"} <= wanted["test"]
        # Another distribution (no dpkg-query) with every tool present: the target goes ahead.
        other = fake_path(os.path.join(tmp, "other"), BASICS + RUN_COMMANDS)
        result = run("run", other)
        assert result.returncode == 0, result.stderr
        # ... and with QEMU missing, it names it.
        lacking = fake_path(os.path.join(tmp, "lacking"),
                            BASICS + [c for c in RUN_COMMANDS if c != "qemu-system-x86_64"])
        result = run("run", lacking)
        assert result.returncode == 1 and "qemu-system-x86_64" in result.stderr, result.stderr
        assert "unknown target" in run("bogus", other).stderr


def test_make_targets_ask_for_their_own_packages(ctx):
    """make run (and GUI=1), make debug/gdb and make test call the installer for their target."""
    def planned(*args):
        env = {k: v for k, v in os.environ.items() if k not in ("MAKEFLAGS", "MFLAGS")}
        return subprocess.run(["make", "-n", "--no-print-directory", "-C", str(ROOT), *args],
                              capture_output=True, text=True, env=env, timeout=60).stdout
    assert "tools/install-deps.sh run" in planned("deps-run")
    assert "tools/install-deps.sh gui" in planned("deps-run", "GUI=1")
    assert "tools/install-deps.sh debug" in planned("deps-debug")
    assert "tools/install-deps.sh test" in planned("deps")
