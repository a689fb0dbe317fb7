#!/usr/bin/env python3
"""Run the kernel's `bench` shell command at several CPU counts, one boot each.

    tools/bench-kernel.py [--iso build/kernel.iso] [--cpus 1,2,4,8] [--memory 8G]
                          [--ops 200000] [--runs 3]

Prints each boot's table as the kernel printed it, then Markdown tables with the per-CPU /
global-lock throughput ratio of every shape at every CPU count, and the per-CPU throughput
against -smp 1: each the median over --runs boots, with the lowest and highest beside it. The
times are QEMU's emulated (TCG) times: only ratios measured inside one boot mean something, so
that is all the summary shows, and TCG moves them by a third from boot to boot, hence the
repeated boots. A benchmark, not a test: nothing is judged.

8 GiB by default: `bench`'s bulk shape lets every CPU hold up to 512 requests of up to 512 frames
(about 512 MiB on average), so on a smaller guest eight CPUs run memory out and the figures
measure the out-of-memory path instead of the allocator's scaling.
"""
import argparse
import os
import re
import statistics
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "test" / "integration"))
import qemu  # noqa: E402

ROW = re.compile(r"(?m)^(\w+)\s+(\d+)\s+(\d+)\s+(\d+)\s+(\d+\.\d)x$")
RECALC = re.compile(r"(?m)^bench: recalculation of .*$")


def run(iso, cpus, memory, ops, log_dir, attempt):
    log_path = os.path.join(log_dir, f"bench-kernel-smp{cpus}-{attempt}.log")
    with qemu.QemuMachine(iso=iso, smp=cpus, memory=memory, timeout=1800,
                          idle_timeout=600, log_path=log_path) as machine:
        machine.expect("MarkerOS ready", timeout=120)
        machine.expect_prompt()
        out = machine.command(f"bench --ops {ops}", timeout=1800)
        machine.command("poweroff", expect_prompt=False)
        machine.expect_exit(qemu.CLEAN_EXIT)
    return out


def spread(values, digits, suffix=""):
    """median (lowest to highest) of the values, or a dash."""
    if not values:
        return "–"
    median = statistics.median(values)
    if len(values) == 1:
        return f"{median:.{digits}f}{suffix}"
    return f"{median:.{digits}f}{suffix} ({min(values):.{digits}f} to {max(values):.{digits}f})"


def table(counts, rows, cell):
    header = ["shape", "frames"] + [f"-smp {c}" for c in counts]
    lines = ["| " + " | ".join(header) + " |", "|---|---|" + "---:|" * len(counts)]
    for (shape, frames), by_cpus in rows.items():
        lines.append(f"| {shape} | {frames} | " +
                     " | ".join(cell(by_cpus.get(c, [])) for c in counts) + " |")
    return "\n".join(lines)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--iso", default=str(ROOT / "build" / "kernel.iso"))
    parser.add_argument("--cpus", default="1,2,4,8")
    parser.add_argument("--memory", default="8G")
    parser.add_argument("--ops", type=int, default=200000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--log-dir", default=str(ROOT / "build" / "bench"))
    args = parser.parse_args()
    os.makedirs(args.log_dir, exist_ok=True)

    counts = [int(c) for c in args.cpus.split(",")]
    ratios = {}  # (shape, frames) -> {cpus: [per-CPU / global-lock, one per boot]}
    rates = {}   # (shape, frames) -> {cpus: [per-CPU ops/s, one per boot]}
    recalcs = {}
    for attempt in range(1, args.runs + 1):
        for cpus in counts:
            out = run(args.iso, cpus, args.memory, args.ops, args.log_dir, attempt)
            print(f"## boot {attempt}: -smp {cpus} -m {args.memory}\n")
            print(out.strip().replace("\r", ""))
            print()
            for shape, frames, per_cpu, global_lock, _ in ROW.findall(out):
                ratio = int(per_cpu) / int(global_lock) if int(global_lock) else 0.0
                ratios.setdefault((shape, frames), {}).setdefault(cpus, []).append(ratio)
                rates.setdefault((shape, frames), {}).setdefault(cpus, []).append(int(per_cpu))
            found = RECALC.search(out)
            recalcs.setdefault(cpus, []).append(found.group(0) if found else "(none)")

    print(f"### per-CPU / global-lock throughput, same boot, same workload "
          f"(median of {args.runs} boots, lowest to highest)\n")
    print(table(counts, ratios, lambda values: spread(values, 1, "x")))
    # Against the median -smp 1 throughput of the same shape.
    relative = {}
    for key, by_cpus in rates.items():
        base = statistics.median(by_cpus.get(counts[0], [0])) or 1
        relative[key] = {c: [v / base for v in values] for c, values in by_cpus.items()}
    print(f"\n### per-CPU throughput relative to -smp {counts[0]} (emulated ops/s of all CPUs "
          f"together; median of {args.runs} boots)\n")
    print(table(counts, relative, lambda values: spread(values, 2)))
    print()
    for cpus in counts:
        for line in recalcs[cpus]:
            print(f"-smp {cpus}: {line}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
