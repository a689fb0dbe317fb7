"""SMP bring-up: exactly the CPUs the MADT lists as enabled come online, for many CPU counts,
both machine types, disabled entries, sparse APIC ids and no ACPI at all."""
import re

from qemu import CLEAN_EXIT
from run import parametrize

ONLINE = re.compile(r"smp: (\d+) CPUs online")
CPU_LINE = re.compile(r"smp: CPU (\d+) online \(APIC id (\d+)\)")


def boot_and_count(ctx, smp, machine="pc", extra_args=(), timeout=120):
    with ctx.boot(smp=smp, machine=machine, extra_args=extra_args, timeout=timeout,
                  idle_timeout=60) as m:
        online = int(m.expect(ONLINE).group(1))
        m.expect("MarkerOS ready")
        m.expect_prompt()
        apic_ids = [int(a) for _, a in CPU_LINE.findall(m.log)]
        m.command("poweroff", expect_prompt=False)
        m.expect_exit(CLEAN_EXIT)
        return online, apic_ids, m.log


@parametrize("machine", ["pc", "q35"])
@parametrize("cpus", [1, 2, 4, 7, 8, 16, 64])
def test_every_cpu_comes_online(ctx, machine, cpus):
    online, apic_ids, _ = boot_and_count(ctx, cpus, machine)
    assert online == cpus, f"{online} of {cpus} CPUs online"
    assert len(set(apic_ids)) == cpus - 1, f"APs started: {apic_ids}"


def test_disabled_madt_entries_are_not_started(ctx):
    # maxcpus=8 makes the MADT list 8 CPUs, 4 of them not enabled (hot-pluggable later).
    online, apic_ids, _ = boot_and_count(ctx, "4,maxcpus=8")
    assert online == 4, f"{online} CPUs online, expected the 4 enabled ones"
    assert sorted(apic_ids) == [1, 2, 3], apic_ids


def test_sparse_apic_ids(ctx):
    # 3 cores per socket round up to 4 APIC ids per socket: ids 0,1,2 and 4,5,6.
    online, apic_ids, _ = boot_and_count(ctx, "6,sockets=2,cores=3")
    assert online == 6, f"{online} of 6 CPUs online"
    assert sorted(apic_ids) == [1, 2, 4, 5, 6], apic_ids


def test_no_acpi_runs_on_the_boot_cpu(ctx):
    with ctx.boot(smp=4, machine="pc,acpi=off") as m:
        m.expect(re.compile(r"smp: .*ACPI.*boot CPU alone"))
        online = int(m.expect(ONLINE).group(1))
        m.expect("MarkerOS ready")
        assert online == 1, f"{online} CPUs online without ACPI"
        m.expect_prompt()
        m.command("poweroff", expect_prompt=False)
        m.expect_exit(CLEAN_EXIT)
