#!/usr/bin/env python3
"""Run the kernel's `bench` shell command at several CPU counts, one boot each.

    tools/bench-kernel.py [--iso build/kernel.iso] [--cpus 1,2,4,8] [--memory 8G]
                          [--ops 200000]

Prints each boot's table as the kernel printed it, then one Markdown table with the per-CPU /
global-lock throughput ratio of every shape at every CPU count. The times are QEMU's emulated
(TCG) times: only ratios measured inside one boot mean something, so that is all the summary
shows. A benchmark, not a test: nothing is judged.

8 GiB by default: `bench`'s bulk shape lets every CPU hold up to 512 requests of up to 512 frames
(about 512 MiB on average), so on a smaller guest eight CPUs run memory out and the figures
measure the out-of-memory path instead of the allocator's scaling.
"""
import argparse
import os
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "test" / "integration"))
import qemu  # noqa: E402

ROW = re.compile(r"(?m)^(\w+)\s+(\d+)\s+(\d+)\s+(\d+)\s+(\d+\.\d)x$")
RECALC = re.compile(r"(?m)^bench: recalculation of .*$")


def run(iso, cpus, memory, ops, log_dir):
    log_path = os.path.join(log_dir, f"bench-kernel-smp{cpus}.log")
    with qemu.QemuMachine(iso=iso, smp=cpus, memory=memory, timeout=1800,
                          idle_timeout=600, log_path=log_path) as machine:
        machine.expect("MarkerOS ready", timeout=120)
        machine.expect_prompt()
        out = machine.command(f"bench --ops {ops}", timeout=1800)
        machine.command("poweroff", expect_prompt=False)
        machine.expect_exit(qemu.CLEAN_EXIT)
    return out


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--iso", default=str(ROOT / "build" / "kernel.iso"))
    parser.add_argument("--cpus", default="1,2,4,8")
    parser.add_argument("--memory", default="8G")
    parser.add_argument("--ops", type=int, default=200000)
    parser.add_argument("--log-dir", default=str(ROOT / "build" / "bench"))
    args = parser.parse_args()
    os.makedirs(args.log_dir, exist_ok=True)

    counts = [int(c) for c in args.cpus.split(",")]
    ratios = {}  # (shape, frames) -> {cpus: ratio}
    rates = {}   # (shape, frames) -> {cpus: (per_cpu, global)}
    recalcs = {}
    for cpus in counts:
        out = run(args.iso, cpus, args.memory, args.ops, args.log_dir)
        print(f"## -smp {cpus} -m {args.memory}\n")
        print(out.strip().replace("\r", ""))
        print()
        for shape, frames, per_cpu, global_lock, ratio in ROW.findall(out):
            ratios.setdefault((shape, frames), {})[cpus] = ratio
            rates.setdefault((shape, frames), {})[cpus] = (int(per_cpu), int(global_lock))
        found = RECALC.search(out)
        recalcs[cpus] = found.group(0) if found else "(no recalculation line)"

    header = ["shape", "frames"] + [f"-smp {c}" for c in counts]
    print("### per-CPU / global-lock throughput, same boot, same workload\n")
    print("| " + " | ".join(header) + " |")
    print("|---|---|" + "---:|" * len(counts))
    for (shape, frames), by_cpus in ratios.items():
        cells = [f"{by_cpus[c]}x" if c in by_cpus else "–" for c in counts]
        print(f"| {shape} | {frames} | " + " | ".join(cells) + " |")
    print("\n### per-CPU throughput relative to -smp 1 (emulated ops/s; same shape)\n")
    print("| " + " | ".join(header) + " |")
    print("|---|---|" + "---:|" * len(counts))
    for (shape, frames), by_cpus in rates.items():
        base = by_cpus.get(counts[0], (0, 0))[0]
        cells = [f"{by_cpus[c][0] / base:.2f}" if base and c in by_cpus else "–" for c in counts]
        print(f"| {shape} | {frames} | " + " | ".join(cells) + " |")
    print()
    for cpus in counts:
        print(f"-smp {cpus}: {recalcs[cpus]}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
