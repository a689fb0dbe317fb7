"""The most CPUs QEMU's software emulation allows: all 255 must come online. Not part of
`make test` (it takes tens of seconds here); run it with `make test-smp-255`."""
import re

from qemu import CLEAN_EXIT

ONLINE = re.compile(r"smp: (\d+) CPUs online")


def test_255_cpus_come_online(ctx):
    with ctx.boot(smp=255, memory="1G", timeout=900, idle_timeout=300) as m:
        online = int(m.expect(ONLINE).group(1))
        m.expect("MarkerOS ready")
        assert online == 255, f"{online} of 255 CPUs online"
        m.expect_prompt()
        m.command("poweroff", expect_prompt=False)
        m.expect_exit(CLEAN_EXIT, timeout=120)
