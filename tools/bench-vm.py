#!/usr/bin/env python3
"""Run the kernel's `vmbench` shell command at several CPU counts, several boots each.

    tools/bench-vm.py [--iso build/kernel.iso] [--cpus 1,2,4,8] [--runs 3] [--rounds 200]

Prints each boot's output, then a Markdown table of ratios measured inside one boot (TCG's
times, and the TSC calibration they rest on, move from boot to boot; ratios within a boot do
not): 2 MiB pages against 4 KiB pages in MiB mapped per second, a shootdown round against a
local invlpg, and a vfree's 32 pages in one round against a round per page. Each cell is the
median over --runs boots, with the lowest and highest beside it. A benchmark, not a test.
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

MAP = re.compile(r"vmbench: (4 KiB|2 MiB) pages: .* = (\d+) MiB/s, unmap (\d+) MiB/s")
ROUND = re.compile(r"round trip: (\d+) ns per round .* ratio (\d+)x")
BATCH = re.compile(r"batched into 1 round (\d+) ns, one round per page (\d+) ns")


def run(iso, cpus, rounds, log_dir, attempt):
    log_path = os.path.join(log_dir, f"bench-vm-smp{cpus}-{attempt}.log")
    with qemu.QemuMachine(iso=iso, smp=cpus, memory="512M", timeout=600, idle_timeout=300,
                          log_path=log_path) as machine:
        machine.expect("MarkerOS ready", timeout=120)
        machine.expect_prompt()
        out = machine.command(f"vmbench --rounds {rounds}", timeout=600)
        machine.command("poweroff", expect_prompt=False)
        machine.expect_exit(qemu.CLEAN_EXIT)
    return out


def spread(values):
    if not values:
        return "–"
    median = statistics.median(values)
    if len(values) == 1:
        return f"{median:.1f}x"
    return f"{median:.1f}x ({min(values):.1f} to {max(values):.1f})"


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--iso", default=str(ROOT / "build" / "kernel.iso"))
    parser.add_argument("--cpus", default="1,2,4,8")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--rounds", type=int, default=200)
    parser.add_argument("--log-dir", default=str(ROOT / "build" / "bench"))
    args = parser.parse_args()
    os.makedirs(args.log_dir, exist_ok=True)
    counts = [int(c) for c in args.cpus.split(",")]
    rows = {"2 MiB / 4 KiB pages, MiB mapped per second": {},
            "shootdown round / local invlpg": {},
            "32 pages: a round per page / one batched round": {}}
    for attempt in range(1, args.runs + 1):
        for cpus in counts:
            out = run(args.iso, cpus, args.rounds, args.log_dir, attempt)
            print(f"## boot {attempt}: -smp {cpus}\n\n{out.strip()}\n")
            maps = {size: int(rate) for size, rate, _ in MAP.findall(out)}
            if maps.get("4 KiB"):
                rows["2 MiB / 4 KiB pages, MiB mapped per second"].setdefault(cpus, []).append(
                    maps.get("2 MiB", 0) / maps["4 KiB"])
            found = ROUND.search(out)
            if found:
                rows["shootdown round / local invlpg"].setdefault(cpus, []).append(
                    float(found.group(2)))
            found = BATCH.search(out)
            if found and int(found.group(1)):
                rows["32 pages: a round per page / one batched round"].setdefault(
                    cpus, []).append(int(found.group(2)) / int(found.group(1)))
    print(f"| ratio (median of {args.runs} boots) | " +
          " | ".join(f"-smp {c}" for c in counts) + " |")
    print("|---|" + "---:|" * len(counts))
    for name, by_cpus in rows.items():
        print(f"| {name} | " + " | ".join(spread(by_cpus.get(c, [])) for c in counts) + " |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
