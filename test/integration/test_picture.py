"""The live memory picture: Ctrl-P (PS/2 keyboard or serial) and `picture on|off` show and hide it, `stress` shows it while
it runs, and read back from a screendump every area's cell has the colour of the CPU that owns it
(as `areas` and `cpus` report the owners), shaded by how full the area is."""
import re
import time

from qemu import CLEAN_EXIT

# gfx::owner_colour's palette (src/gfx/memory_picture.cpp); index = CPU, then unowned grey.
OWNER_COLOURS = [
    (0xe6, 0x19, 0x4b), (0x3c, 0xb4, 0x4b), (0x43, 0x63, 0xd8), (0xff, 0xe1, 0x19),
    (0xf5, 0x82, 0x31), (0x91, 0x1e, 0xb4), (0x46, 0xf0, 0xf0), (0xf0, 0x32, 0xe6),
]
UNOWNED = (0x90, 0x90, 0x90)
GEOMETRY = re.compile(r"picture: panel from pixel row (\d+); cells of (\d+) pixels, (\d+) per row, "
                      r"from \((\d+), (\d+)\)")
STATUS = re.compile(r"picture: (shown|hidden); (\d+) redraws")


def is_shade_of(colour, base):
    """True when colour is base scaled by one factor between a quarter and one (fill_shade)."""
    brightest = max(range(3), key=lambda i: base[i])
    factor = colour[brightest] / base[brightest]
    if not 0.24 <= factor <= 1.0:
        return False
    return all(abs(colour[i] - base[i] * factor) <= 2 for i in range(3))


def owners_from_areas(out):
    """The owner of every area, in order, from `areas` ('-' = none): CPU index or None."""
    owners = []
    for row in re.findall(r"(?m)^\s+owner \|(.*)\|$", out):
        for char in row:
            owners.append(None if char == "-" else int(char, 36))
    return owners


def status(m, command="picture"):
    out = m.command(command)
    match = STATUS.search(out)
    assert match, out
    return match.group(1), int(match.group(2)), out


def cell_reader(m, out):
    """A function from area index to its cell's colour in a screendump taken now."""
    _, cell, per_row, x0, y0 = map(int, GEOMETRY.search(out).groups())
    width, _, pixels = m.screendump()

    def colour(index):
        x = x0 + (index % per_row) * (cell + 1) + cell // 2
        y = y0 + (index // per_row) * (cell + 1) + cell // 2
        at = (y * width + x) * 3
        return tuple(pixels[at:at + 3])
    return colour


def which_owner(colour, cpus):
    """The CPU (or None, unowned) whose colour this is a shade of; fails when none or several."""
    candidates = [cpu for cpu in range(cpus) if is_shade_of(colour, OWNER_COLOURS[cpu])]
    if is_shade_of(colour, UNOWNED):
        candidates.append(None)
    assert len(candidates) == 1, f"{colour} is a shade of {candidates}"
    return candidates[0]


def test_picture_cells_take_their_owners_colours(ctx):
    with ctx.boot(smp=4, memory="256M", monitor=True, timeout=150) as m:
        m.expect("MarkerOS ready")
        m.expect_prompt()
        assert status(m)[0] == "hidden"
        m.monitor_command("sendkey ctrl-p")  # Ctrl-P on the PS/2 keyboard shows it
        time.sleep(0.5)
        shown, redraws, _ = status(m)
        assert (shown, redraws > 0) == ("shown", True)

        # At rest: CPU 0 owns the area it allocated from, no other area has an owner.
        assert "allocated 300 frames" in m.command("alloc 300")
        cpus = m.command("cpus")
        owners = owners_from_areas(m.command("areas --width 200"))
        _, redraws_before, out = status(m)
        time.sleep(1.0)  # a redraw or more at the prompt, of the state now
        assert status(m)[1] > redraws_before, "the picture is not redrawn at the prompt"
        colour = cell_reader(m, out)
        assert len(owners) > 4, owners
        for index, owner in enumerate(owners):
            assert which_owner(colour(index), 4) == owner, f"area {index}, owner {owner}"
        rows = re.findall(r"(?m)^\s+(\d+)\s+\d+\s+online\s+(\S+)\s", cpus)
        cpu0_area = int(rows[0][1])
        assert owners[cpu0_area] == 0 and which_owner(colour(cpu0_area), 4) == 0
        # 300 of an area's frames in use: brighter than an empty area would be.
        assert colour(cpu0_area) != tuple(c // 4 for c in OWNER_COLOURS[0])

        # During a run every CPU that `cpus` then shows working owns areas in its colour.
        m.send_line("stress --seconds 8 --max-frames 64")
        m.expect("1 s,", timeout=60)
        # Areas change hands during the run, so one picture may catch a CPU between two areas:
        # a few pictures, a second or so apart, must together show every CPU's colour.
        seen = set()
        for _ in range(5):
            colour = cell_reader(m, out)
            seen |= {which_owner(colour(index), 4) for index in range(len(owners))}
            if {0, 1, 2, 3} <= seen:
                break
        m.expect(re.compile(r"stress: ops=.*duplicates=0 lost=0 errors=0"), timeout=60)
        m.expect_prompt()
        assert status(m)[0] == "shown", "stress hid a picture it did not show"
        worked = re.findall(r"(?m)^\s+(\d+)\s+\d+\s+online\s+\S+\s+([1-9]\d*)\s",
                            m.command("cpus"))
        assert {int(cpu) for cpu, _ in worked} == {0, 1, 2, 3}
        assert {0, 1, 2, 3} <= seen, f"colours seen during the run: {seen}"

        m.send("\x10")  # Ctrl-P on the serial terminal hides it
        assert status(m)[0] == "hidden"
        assert status(m, "picture on")[0] == "shown"
        assert status(m, "picture off")[0] == "hidden"
        assert "neither on nor off" in m.command("picture sideways")
        assert "unexpected 'off' (usage: picture [on|off])" in m.command("picture on off")
        assert status(m)[0] == "hidden"  # the refusals changed nothing
        m.command("poweroff", expect_prompt=False)
        m.expect_exit(CLEAN_EXIT)


def test_stress_and_bench_show_the_picture_while_they_run(ctx):
    with ctx.boot(smp=2, memory="256M", timeout=120) as m:
        m.expect("MarkerOS ready")
        m.expect_prompt()
        _, before, _ = status(m)
        out = m.command("stress --seconds 2", timeout=60)
        assert re.search(r"duplicates=0 lost=0 errors=0", out), out
        state, after, _ = status(m)
        assert state == "hidden", "the picture stays after the run that showed it"
        assert after >= before + 4, f"{after - before} redraws during a 2-second run"
        # bench shows it too, redrawn between its timed runs, never during them.
        out = m.command("bench --ops 4000", timeout=100)
        assert "rescanned per second" in out, out
        state, after_bench, _ = status(m)
        assert state == "hidden"
        assert after_bench >= after + 2, f"{after_bench - after} redraws during bench"
        m.command("poweroff", expect_prompt=False)
        m.expect_exit(CLEAN_EXIT)


def test_picture_needs_a_framebuffer(ctx):
    from test_screen import text_iso
    with ctx.boot(iso=text_iso(ctx)) as m:
        m.expect("MarkerOS ready")
        m.expect_prompt()
        assert "needs the framebuffer console" in m.command("picture on")
        m.command("poweroff", expect_prompt=False)
        m.expect_exit(CLEAN_EXIT)
