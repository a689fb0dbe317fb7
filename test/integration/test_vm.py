"""Kernel virtual memory from the shell: vmalloc, vfree, vmaps, the fragmentation demonstration,
faults that name the mapping or the guard gap, and stress --vm on 1, 4 and 8 CPUs."""
import re

from qemu import CLEAN_EXIT, PANIC_EXIT
from run import parametrize

PANIC_LINE = re.compile(r"(?m)^(?=.*PANIC)")
MAPPING = re.compile(r"(0x[0-9a-f]+)\.\.(0x[0-9a-f]+)\s+\S+ \S+\s+(\w+)\s+cpu (\d+)\s+(\d+) x 4 KiB, "
                     r"(\d+) x 2 MiB, (\d+) physical runs")
SHOOTDOWNS = re.compile(r"shootdowns: rounds=(\d+) ipis-sent=(\d+) received=(\d+) "
                        r"pages-flushed=(\d+) full-flushes=(\d+) pages-batched=(\d+)")


def ready(m):
    m.expect("MarkerOS ready")
    m.expect_prompt()


def finish(m):
    m.command("poweroff", expect_prompt=False)
    m.expect_exit(CLEAN_EXIT)


def whole_blocks(mem_out):
    """The count `mem` gives of 2 MiB blocks the frame allocator handed out whole."""
    return int(re.search(r"(?m)^2M whole\s+(\d+) blocks", mem_out).group(1))


def mappings(out):
    return [MAPPING.search(line) for line in out.splitlines() if MAPPING.search(line)]


def test_vmalloc_vfree_and_vmaps(ctx):
    with ctx.boot(smp=4, memory="512M") as m:
        ready(m)
        help_out = m.command("help")
        for name in ["vmalloc", "vfree", "vmaps", "vmdemo"]:
            assert re.search(rf"(?m)^\s+{name}\s+\S", help_out), f"help does not list {name}"
        # The APs' stacks are mappings of their own, made by CPU 0, 16 KiB each in 4 KiB pages.
        before = m.command("vmaps")
        stacks = [s for s in mappings(before) if s.group(3) == "stack"]
        assert len(stacks) == 3, before
        assert all(int(s.group(5)) == 4 and int(s.group(6)) == 0 for s in stacks), before

        whole_before = whole_blocks(m.command("mem"))
        out = m.command("vmalloc 5M")
        address = re.search(r"vmalloc: 5 MiB at (0x[0-9a-f]+)", out).group(1)
        first = mappings(out)[0]
        # Fresh memory: two 2 MiB pages and 256 4 KiB pages for the last MiB.
        assert (int(first.group(5)), int(first.group(6))) == (256, 2), out
        # Each 2 MiB page is a whole block of the frame allocator, taken in one step.
        assert whole_blocks(m.command("mem")) == whole_before + 2
        assert int(address, 16) % (2 << 20) == 0, out
        assert "->" in out, "vmalloc shows where the first runs lie"

        small = m.command("vmalloc 12K")
        small_address = re.search(r"at (0x[0-9a-f]+)", small).group(1)
        listed = m.command("vmaps --runs")
        assert address in listed and small_address in listed
        assert re.search(r"(?m)^\s+0x[0-9a-f]+ -> 0x[0-9a-f]+ .* in 2 MiB pages$", listed), listed
        # Guard gaps: the 12 KiB mapping starts at least 16 KiB after the 5 MiB one ends.
        assert int(small_address, 16) >= int(address, 16) + (5 << 20) + 16 * 1024

        assert f"vfree: freed {address}" in m.command(f"vfree {address}")
        assert whole_blocks(m.command("mem")) == whole_before  # And returned in one step.
        after = m.command("vmaps")
        assert address not in after
        rounds = SHOOTDOWNS.search(after)
        assert rounds and int(rounds.group(1)) >= 1, after
        assert int(rounds.group(2)) >= 3, "a vfree on 4 CPUs sends IPIs to the 3 others"
        assert int(rounds.group(3)) >= 3, "and each of them answers"

        # Refusals change nothing.
        assert "no mapping starts at that address" in m.command(f"vfree {address}")
        assert "no mapping starts at that address" in m.command("vfree 0x1234")
        assert "expected a number" in m.command("vfree soon")
        stack = stacks[0].group(1)
        assert "is a CPU's kernel stack; refused" in m.command(f"vfree {stack}")
        assert len([s for s in mappings(m.command("vmaps")) if s.group(3) == "stack"]) == 3
        assert "invalid request" in m.command("vmalloc 0")
        assert "missing SIZE (usage: vmalloc SIZE)" in m.command("vmalloc")
        assert small_address in m.command("vmaps")
        assert f"vfree: freed {small_address}" in m.command(f"vfree {small_address}")
        finish(m)


def test_vmdemo_vmalloc_succeeds_where_contiguous_memory_fails(ctx):
    with ctx.boot(smp=2, memory="512M") as m:
        ready(m)
        out = m.command("vmdemo", timeout=40)
        pinned = re.search(r"pinned one frame in each of (\d+) free 2 MiB blocks", out)
        assert pinned and int(pinned.group(1)) > 100, out
        assert re.search(r"physically contiguous 2 MiB \(aligned\): out of memory; "
                         r"32 MiB: out of memory", out), out
        fragmented = re.search(r"fragmented: vmalloc 64 MiB succeeded at \S+: (\d+) x 4 KiB pages, "
                               r"(\d+) x 2 MiB pages, (\d+) physical runs; every page written and "
                               r"read back: ok", out)
        assert fragmented, out
        assert (int(fragmented.group(1)), int(fragmented.group(2))) == (16384, 0), out
        assert int(fragmented.group(3)) > 1, "the backing is scattered"
        unpinned = re.search(r"after unpinning: vmalloc 64 MiB succeeded at \S+: (\d+) x 4 KiB "
                             r"pages, (\d+) x 2 MiB pages", out)
        assert unpinned and (int(unpinned.group(1)), int(unpinned.group(2))) == (0, 32), out
        # Everything went back: memory is as free as before.
        assert "mappings=1 " in m.command("vmaps")  # only CPU 1's stack
        finish(m)


# crash kind -> what the panic report must say about the address
VM_CRASHES = {
    "vmalloc-guard": re.compile(r"is in a guard gap after the vmalloc mapping at "
                                r"0x[0-9a-f]+\.\.0x[0-9a-f]+ \(made by CPU 0\)"),
    "vfree-use": re.compile(r"is in the mapping at 0x[0-9a-f]+\.\.0x[0-9a-f]+, freed by CPU 0"),
    "ap-stack-overflow": re.compile(r"PANIC on CPU 1: double fault(?s:.*)is in the guard gap "
                                    r"below the stack mapping at 0x[0-9a-f]+\.\.0x[0-9a-f]+"),
}


@parametrize("kind", list(VM_CRASHES))
def test_vm_faults_name_the_mapping(ctx, kind):
    with ctx.boot(smp=2) as m:
        ready(m)
        m.command(f"crash {kind}", expect_prompt=False)
        start = m.expect(PANIC_LINE).start()
        m.expect("backtrace:")
        m.expect_exit(PANIC_EXIT)
        report = m.log[start:]
        if not VM_CRASHES[kind].search(report):
            m.fail(f"the panic report does not match /{VM_CRASHES[kind].pattern}/")


VM_STRESS = re.compile(r"stress --vm: cpus=(\d+) vmallocs=(\d+) vfrees=(\d+) handed=(\d+) "
                       r"large-pages=(\d+) oom=(\d+) probes=(\d+) missed-shootdowns=(\d+) "
                       r"dropped-probes=(\d+) bad-tags=(\d+) errors=(\d+) leaked-frames=(\d+) "
                       r"rounds=(\d+) ipis=(\d+) received=(\d+) time=\d+ ms: (\w+)")


# Operations per CPU: every vfree is a round that needs every CPU, and TCG on a busy host runs
# a round in tens of milliseconds at 8 CPUs, so the larger machines do fewer.
VM_STRESS_OPS = {1: 150, 4: 30, 8: 10}


@parametrize("cpus", [1, 4, 8])
def test_stress_vm_every_freed_address_faults_on_every_cpu(ctx, cpus):
    ops = VM_STRESS_OPS[cpus]
    with ctx.boot(smp=cpus, memory="512M") as m:
        ready(m)
        out = m.command(f"stress --vm --ops {ops}", timeout=50)
        s = VM_STRESS.search(out)
        assert s, out
        (n, vmallocs, vfrees, handed, large, oom, probes, missed, dropped, bad, errors, leaked,
         rounds, ipis, received, verdict) = s.groups()
        assert int(n) == cpus
        assert int(vmallocs) >= ops * cpus // 2 and int(vfrees) == int(vmallocs), out
        assert (missed, bad, errors, leaked, oom, verdict) == ("0", "0", "0", "0", "0", "clean"), out
        if cpus == 1:
            assert int(large) > 0, "some requests were big enough for a 2 MiB page"
        assert int(rounds) >= int(vfrees), "every vfree is one shootdown round"
        if cpus > 1:
            assert int(handed) > 0, "mappings were handed to other CPUs to free"
            # Every vfree probed on every other CPU (first and last page) unless a queue was full.
            assert int(probes) + int(dropped) >= int(vfrees) * (2 * (cpus - 1) + 1), out
            assert int(probes) >= int(vfrees) * (cpus - 1), out
            assert int(ipis) >= int(rounds) * (cpus - 1), "each round reaches every other CPU"
            assert int(received) >= int(rounds) * (cpus - 1), "and every other CPU answers"
        else:
            assert int(ipis) == 0 and int(handed) == 0
        assert "unknown option" not in out
        assert "--max-frames takes 1..512" in m.command("stress --vm --max-frames 0")
        finish(m)


def test_vmbench_reports_mapping_rates_and_shootdown_costs(ctx):
    """A benchmark is not a test: this only checks that `vmbench` runs and reports each figure."""
    with ctx.boot(smp=2, memory="512M") as m:
        ready(m)
        out = m.command("vmbench --rounds 20", timeout=40)
        small = re.search(r"4 KiB pages: (\d+) pages \((\d+) of them 2 MiB\); map \d+ pages/s", out)
        large = re.search(r"2 MiB pages: (\d+) pages \((\d+) of them 2 MiB\); map \d+ pages/s", out)
        assert small and small.groups() == ("131072", "0"), out
        assert large and large.groups() == ("256", "256"), out
        assert re.search(r"shootdown round trip: \d+ ns per round \(20 rounds of one page\); "
                         r"a local invlpg \d+ ns; ratio \d+x", out), out
        assert re.search(r"32 pages: batched into 1 round \d+ ns, one round per page \d+ ns "
                         r"\(31 rounds saved", out), out
        assert "--rounds takes 1..100000" in m.command("vmbench --rounds 0")
        finish(m)
