"""The object heap from the shell: slabs, kmalloc, kfree (and its refusals), stress --heap on
1, 4, 8 and 64 CPUs, and bench's heap row."""
import re

from qemu import CLEAN_EXIT, PANIC_EXIT
from run import parametrize

SUMMARY = re.compile(r"stress: ops=(\d+) duplicates=(\d+) lost=(\d+) errors=(\d+) time=\d+ ms "
                     r"cpus=(\d+)")
KMALLOC = re.compile(r"kmalloc: (\d+) bytes at (0x[0-9a-f]+)")


def ready(m):
    m.expect("MarkerOS ready")
    m.expect_prompt()


def finish(m):
    m.command("poweroff", expect_prompt=False)
    m.expect_exit(CLEAN_EXIT)


def cache_row(out, name):
    """slabs' row for one cache as a dict, or None."""
    match = re.search(rf"(?m)^{re.escape(name)}\s+(\d+)\s+(\d+)x(\d+)\s+(\d+)\s+(\d+)\s+(\d+)\s+"
                      r"(\d+)\s+(\d+)/(\d+)\s+(\d+)\s+(\d+)\.(\d)$", out)
    if not match:
        return None
    g = [int(x) for x in match.groups()]
    return {"size": g[0], "per_slab": g[1], "slab_frames": g[2], "in_use": g[3], "free": g[4],
            "in_mags": g[5], "slabs": g[6], "frames": g[9], "hit": g[10] * 10 + g[11]}


def test_kmalloc_kfree_and_slabs(ctx):
    with ctx.boot(smp=2) as m:
        ready(m)
        out = m.command("slabs")
        for size in [16, 32, 48, 64, 96, 128, 192, 256, 384, 512, 768, 1024, 1536, 2048, 3072,
                     4096]:
            row = cache_row(out, f"kmalloc-{size}")
            assert row is not None, f"slabs lacks kmalloc-{size}:\n{out}"
            assert row["size"] == size
        assert "total:" in out and "per-CPU magazines" in out

        out = m.command("kmalloc 100")
        address = KMALLOC.search(out).group(2)
        assert int(address, 16) % 16 == 0
        row = cache_row(m.command("slabs"), "kmalloc-128")
        assert row["in_use"] == 1 and row["slabs"] == 1, row
        # A pointer into the object, then the right one, then the same one again.
        inside = hex(int(address, 16) + 8)
        out = m.command(f"kfree {inside}")
        assert "not the start of an object" in out and "cache kmalloc-128" in out, out
        assert "caller" in out and "refused" in out
        assert f"kfree: freed {address}" in m.command(f"kfree {address}")
        out = m.command(f"kfree {address}")
        assert "object freed twice" in out and "nothing was changed" in out, out
        row = cache_row(m.command("slabs"), "kmalloc-128")
        assert row["in_use"] == 0, row

        out = m.command("kmalloc 20000")  # above 4 KiB: whole frames
        large = KMALLOC.search(out).group(2)
        assert int(large, 16) % 4096 == 0
        assert re.search(r"5 in large allocations \(1\)", m.command("slabs")), "large frames"
        assert "freed" in m.command(f"kfree {large}")
        assert "not a heap pointer" in m.command(f"kfree {large}")
        assert "not a heap pointer" in m.command("kfree 0x1000")

        assert "invalid size" in m.command("kmalloc 0")
        assert "invalid size" in m.command("kmalloc 99999999999")
        assert "usage: kmalloc" in m.command("kmalloc lots")
        assert "usage: kfree" in m.command("kfree")

        out = m.command("slabs --reclaim --check")
        assert re.search(r"reclaim: every CPU's magazines flushed; \d+ frames given back", out)
        assert "invariants: ok" in out, out
        assert cache_row(out, "kmalloc-128")["slabs"] == 0
        finish(m)


@parametrize("smp", [1, 4, 8, 64])
def test_stress_heap_is_clean(ctx, smp):
    with ctx.boot(smp=smp, memory="512M", timeout=120) as m:
        ready(m)
        ops = 40000 if smp < 64 else 64000
        out = m.command(f"stress --heap --ops {ops} --remote 30 --seed {smp}", timeout=90)
        match = SUMMARY.search(out)
        assert match, out
        total, duplicates, lost, errors, cpus = (int(x) for x in match.groups())
        assert (duplicates, lost, errors) == (0, 0, 0), out
        assert cpus == smp and total >= ops
        if smp > 1:
            sent = [int(x) for x in re.findall(r"(?m)^\s+\d+\s+\d+\s+\d+\s+\d+\s+(\d+)\s", out)]
            assert sum(sent) > 0, "no remote frees were made"
        out = m.command("slabs --check")
        assert "invariants: ok" in out, out
        finish(m)


def test_stress_heap_options(ctx):
    with ctx.boot(smp=2) as m:
        ready(m)
        out = m.command("stress --heap --seconds 1 --mode global-lock --cpus 2", timeout=30)
        assert "global-lock heap" in out
        match = SUMMARY.search(out)
        assert match and match.group(2, 3, 4) == ("0", "0", "0"), out
        assert "--heap takes no" in m.command("stress --heap --fill")
        assert "--heap takes no" in m.command("stress --heap --pattern bulk")
        assert "--heap takes no" in m.command("stress --heap --max-frames 4")
        assert "pick one" in m.command("stress --heap --vm")
        assert "per-CPU magazines" in m.command("slabs")  # the mode is put back
        finish(m)


def test_bench_has_a_heap_row(ctx):
    with ctx.boot(smp=2) as m:
        ready(m)
        out = m.command("bench --ops 20000", timeout=90)
        row = re.search(r"(?m)^heap\s+(\d+)\s+(\d+)\s+(\d+)\s+(\d+)\.(\d)x$", out)
        assert row, out
        assert int(row.group(2)) > 0 and int(row.group(3)) > 0
        finish(m)


def debug_fill_iso(ctx):
    from pathlib import Path
    return str(Path(ctx.iso).parent / "debug-fill" / "kernel.iso")


def test_debug_heap_survives_stress_and_reports_an_overflow(ctx):
    """The DEBUG_FILL=1 kernel's heap has red zones and poison: a stress run passes every check,
    and a write past an object's end panics naming the object's cache and the offset."""
    with ctx.boot(iso=debug_fill_iso(ctx), smp=4, memory="256M", timeout=120) as m:
        ready(m)
        out = m.command("stress --heap --ops 20000 --remote 30", timeout=90)
        assert re.search(r"duplicates=0 lost=0 errors=0", out), out
        m.command("crash heap-overflow", expect_prompt=False)
        m.expect(re.compile(r"PANIC on CPU 0 .*heap: red zone of 0x[0-9a-f]+ \(cache kmalloc-48\) "
                            r"overwritten at offset 48: 0x0 instead of 0xbb"))
        m.expect("backtrace:")
        m.expect_exit(PANIC_EXIT)


def test_heap_overflow_crash_needs_the_debug_kernel(ctx):
    with ctx.boot(smp=1) as m:
        ready(m)
        assert "red zones are not checked" in m.command("crash heap-overflow")
        finish(m)
