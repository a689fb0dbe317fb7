#!/usr/bin/env python3
"""Takes the README's picture: boots the ISO in QEMU, starts a stress run on every CPU and saves
the screen (QEMU's screendump) as a PNG halfway through it, the live memory picture included.

    python3 tools/screenshot.py [--iso build/kernel.iso] [--out docs/screen-stress.png] [--uefi]
"""
import argparse
import re
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "test" / "integration"))
import qemu  # noqa: E402


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--iso", default=str(ROOT / "build" / "kernel.iso"))
    parser.add_argument("--out", default=str(ROOT / "docs" / "screen-stress.png"))
    parser.add_argument("--smp", type=int, default=4)
    parser.add_argument("--memory", default="2G")
    parser.add_argument("--uefi", action="store_true")
    parser.add_argument("--stress", default="stress --seconds 8 --max-frames 64 --remote 20")
    args = parser.parse_args()
    with qemu.QemuMachine(iso=args.iso, smp=args.smp, memory=args.memory, uefi=args.uefi,
                          monitor=True, timeout=180, idle_timeout=60) as m:
        m.expect("MarkerOS ready")
        m.expect_prompt()
        m.send_line(args.stress)
        # The whole line, newline included: the console draws a line (and any scrolling it
        # causes) before it sends it to serial, so the screen is complete once it arrives.
        m.expect(re.compile(r"stress: 3 s, \d+ ops so far\n"), timeout=60)
        width, height, pixels = m.screendump()
        qemu.write_png(args.out, width, height, pixels)
        m.expect(re.compile(r"stress: ops=.*errors=0"), timeout=60)
        m.expect_prompt()
        m.command("poweroff", expect_prompt=False)
        m.wait_exit()
    print(f"screenshot: {args.out} ({width}x{height})")


if __name__ == "__main__":
    main()
