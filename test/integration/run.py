#!/usr/bin/env python3
"""Run the QEMU integration tests (test_*.py next to this file).

    python3 test/integration/run.py [--iso build/kernel.iso] [-k substring] [-j 2]
                                    [--list] [--timeout-scale F] [--qemu CMD]

A test is a function named test_* taking a ctx; ctx.boot(**machine_options)
returns a QemuMachine to use in a `with` block. @parametrize(name, values)
runs a test once per value (stacked decorators give every combination).
The last line printed is always "N passed, N failed"; the exit status is
non-zero if a test failed or if no test matched.
"""
import argparse
import concurrent.futures
import importlib.util
import itertools
import os
import re
import sys
import time
import traceback
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
sys.path.insert(0, str(HERE))
sys.modules.setdefault("run", sys.modules[__name__])  # tests do `from run import parametrize`
import qemu  # noqa: E402


def parametrize(name, values):
    """Run the decorated test once per value, passing it as keyword `name`."""
    def mark(func):
        func.params = [(name, list(values))] + getattr(func, "params", [])
        return func
    return mark


class Context:
    """What a test gets: its name, the ISO, the log directory and boot()."""

    def __init__(self, name, args):
        self.name, self.iso, self.log_dir = name, args.iso, args.log_dir
        self.qemu, self.timeout_scale = args.qemu, args.timeout_scale
        self.machines = []

    def boot(self, name=None, **options):
        """A QemuMachine (not started yet: use it with `with`) logging to log_dir."""
        if name is None:
            name = self.name if not self.machines else f"{self.name}.{len(self.machines) + 1}"
        log_path = os.path.join(self.log_dir, log_name(name) + ".log")
        options.setdefault("iso", self.iso)
        machine = qemu.QemuMachine(log_path=log_path, qemu=self.qemu,
                                   timeout_scale=self.timeout_scale, **options)
        self.machines.append(machine)
        return machine


def log_name(name):
    return re.sub(r"[^\w.=,+-]+", "_", name).strip("_")


def collect(tests_dir):
    """[(name, function, kwargs)] for every test and parameter combination."""
    cases = []
    for path in sorted(Path(tests_dir).glob("test_*.py")):
        spec = importlib.util.spec_from_file_location(path.stem, path)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        for name, func in vars(module).items():
            if not (name.startswith("test_") and callable(func)):
                continue
            params = getattr(func, "params", [])
            for values in itertools.product(*(values for _, values in params)):
                kwargs = dict(zip((key for key, _ in params), values))
                label = ",".join(f"{key}={value}" for key, value in kwargs.items())
                cases.append((f"{name}[{label}]" if label else name, func, kwargs))
    names = [name for name, _, _ in cases]
    duplicates = sorted({name for name in names if names.count(name) > 1})
    if duplicates:
        sys.exit(f"error: duplicate test names: {', '.join(duplicates)}")
    return cases


def run_case(case, args):
    name, func, kwargs = case
    ctx = Context(name, args)
    start = time.monotonic()
    error = None
    try:
        func(ctx, **kwargs)
    except qemu.MachineFailure as e:
        error = str(e)
    except Exception:
        error = traceback.format_exc().rstrip()
        error += "".join(f"\n{machine.tail()}" for machine in ctx.machines if machine.proc)
    finally:
        for machine in ctx.machines:
            machine.close()
    return name, error, time.monotonic() - start


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--iso", default=os.path.relpath(ROOT / "build" / "kernel.iso"))
    parser.add_argument("-k", dest="filter", default="", help="run tests whose name contains this")
    parser.add_argument("-j", dest="jobs", type=int, default=2, help="tests run in parallel (default 2)")
    parser.add_argument("--list", action="store_true", help="print the test names and stop")
    parser.add_argument("--timeout-scale", type=float, default=1.0, help="multiply every timeout")
    parser.add_argument("--qemu", default=qemu.default_qemu(),
                        help=f"command run instead of qemu-system-x86_64 (or set {qemu.QEMU_ENV})")
    parser.add_argument("--log-dir", default=os.path.relpath(ROOT / "build" / "integration-logs"))
    parser.add_argument("--tests-dir", default=str(HERE), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)

    cases = [case for case in collect(args.tests_dir) if args.filter in case[0]]
    if not cases:
        print(f"error: no test matches -k {args.filter!r}")
        print("0 passed, 0 failed")
        return 1
    if args.list:
        print("\n".join(name for name, _, _ in cases))
        return 0
    if args.qemu == "qemu-system-x86_64" and not os.path.exists(args.iso):
        print(f"error: {args.iso} does not exist (build the ISO first)")
        print(f"0 passed, {len(cases)} failed")
        return 1

    passed = failed = 0
    pool = concurrent.futures.ThreadPoolExecutor(max_workers=max(1, args.jobs))
    try:
        futures = [pool.submit(run_case, case, args) for case in cases]
        for future in concurrent.futures.as_completed(futures):
            name, error, seconds = future.result()
            if error is None:
                passed += 1
                print(f"PASS {name} ({seconds:.1f} s)", flush=True)
            else:
                failed += 1
                print(f"FAIL {name} ({seconds:.1f} s)", flush=True)
                print("    " + error.replace("\n", "\n    "), flush=True)
    except KeyboardInterrupt:
        print("interrupted: killing QEMU", flush=True)
        pool.shutdown(wait=False, cancel_futures=True)
        qemu.kill_all()
        failed += len(cases) - passed - failed
    pool.shutdown(wait=True)
    print(f"{passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
