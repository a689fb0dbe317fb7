"""The exercise knobs of docs/LEARNING.md: a kernel rebuilt with another area size, take-over
floor and the global lock from boot runs, says so in `mem`, and passes a checked stress run.
Not in `make test` (it builds a second kernel): `make test-knobs`."""
import re
import subprocess
from pathlib import Path

from qemu import CLEAN_EXIT

ROOT = Path(__file__).resolve().parents[3]
BUILD = "build/knobs"


def test_knobs_rebuild_the_kernel_with_other_values(ctx):
    subprocess.run(["make", "-s", "--no-print-directory", "-C", str(ROOT), f"BUILD={BUILD}",
                    f"ISO_STAGING={BUILD}/iso", "AREA_FRAMES=4096", "TAKE_OVER_FLOOR=1024",
                    "GLOBAL_LOCK=1", f"{BUILD}/kernel.iso"], check=True, timeout=900)
    with ctx.boot(iso=str(ROOT / BUILD / "kernel.iso"), smp=4, memory="256M", timeout=120) as m:
        m.expect("MarkerOS ready")
        m.expect_prompt()
        out = m.command("mem")
        assert re.search(r"areas\s+\d+ of up to 4096 frames \(16 MiB\)", out), out
        assert "one global lock" in out, out
        out = m.command("stress --ops 20000 --remote 30", timeout=90)
        assert re.search(r"duplicates=0 lost=0 errors=0", out), out
        assert "invariants: ok" in m.command("mem --check")
        m.command("poweroff", expect_prompt=False)
        m.expect_exit(CLEAN_EXIT)
