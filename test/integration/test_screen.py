"""The screen console, read back through QEMU's screendump: the framebuffer console draws the
boot log and the shell with the built-in font, cell for cell as serial shows them, in the
console's colours; without a framebuffer the kernel falls back to VGA text (BIOS) or serial
alone (UEFI, which has no text mode) and says so."""
import re
from pathlib import Path

from qemu import CLEAN_EXIT
from screen import TONES, font_next_to, read_screen

CONSOLE_LINE = re.compile(r"console: framebuffer (\d+)x(\d+), 32 bits per pixel at 0x[0-9a-f]+, "
                          r"mapped write-combining \(PAT\); (\d+)x(\d+) characters of 8x16 pixels")


def wrap(line, columns):
    """The rows a line takes on the console: a full row continues on the next one, taking its
    last word along when the word is shorter than a third of a row (src/gfx/text_screen.cpp)."""
    rows, current = [], ""
    for char in line:
        if len(current) == columns:
            after_space = current.rfind(" ") + 1
            moved = columns - after_space
            if after_space > 0 and 0 < moved < columns // 3:
                rows.append(current[:after_space])
                current = current[after_space:]
            else:
                rows.append(current)
                current = ""
        current += char
    rows.append(current)
    return [row.rstrip() for row in rows]


def expect_screen_shows_serial_tail(m, screen, banner):
    """The screen's rows are the last rows of the serial output from the banner on, wrapped as
    the console wraps them; the prompt's row is the cursor's, the bottom one once it scrolled."""
    lines = [line.rstrip() for line in m.log[m.log.index(banner):].split("\n")]
    rows = [row for line in lines for row in wrap(line, screen.columns)]
    shown = rows[-screen.rows:]
    for row, expected in enumerate(shown):
        assert screen.text(row) == expected, f"row {row}: {screen.text(row)!r} != {expected!r}"
    assert all(screen.text(row) == "" for row in range(len(shown), screen.rows))
    return rows


def text_iso(ctx):
    return str(Path(ctx.iso).with_name("kernel-text.iso"))


def test_framebuffer_console_shows_the_log_cell_for_cell(ctx):
    """Row for row what serial shows, before and after the screen scrolls."""
    with ctx.boot(smp=2, memory="256M", monitor=True) as m:
        console = m.expect(CONSOLE_LINE)
        assert console.groups() == ("1024", "768", "128", "48"), console.group(0)
        m.expect("MarkerOS ready")
        m.expect_prompt()
        # A line longer than a row (128 columns): the echo of a long mistyped command.
        assert "unknown command" in m.command("no-such-command" + " with-a-long-tail" * 8)
        screen = read_screen(m, font_next_to(ctx.iso))
        assert (screen.columns, screen.rows) == (128, 48)

        # A known string at a known cell: the banner, the first line the kernel prints, at (0, 0).
        banner = re.search(r"(?m)^MarkerOS \S+ booting on CPU 0$", m.log).group(0)
        assert screen.text(0) == banner, f"row 0 shows {screen.text(0)!r}"

        # The rows are the serial log's lines from the banner on, long ones wrapped at a word
        # (the mistyped command's echo is longer than 128 characters): nothing lost, nothing
        # scrolled away.
        lines = [line.rstrip() for line in m.log[m.log.index(banner):].split("\n")]
        rows = [row for line in lines for row in wrap(line, screen.columns)]
        assert len(rows) > len(lines), "no line wrapped: the test checks less than it says"
        assert len(rows) <= screen.rows, f"{len(rows)} rows: the screen has scrolled"
        for row, expected in enumerate(rows):
            assert screen.text(row) == expected, f"row {row}: {screen.text(row)!r} != {expected!r}"
        assert all(screen.text(row) == "" for row in range(len(rows), screen.rows))

        # Colours: a log prefix ("mem:") in cyan, its message in grey, the prompt in green.
        mem_row = next(row for row, line in enumerate(lines) if line.startswith("mem: usable"))
        assert all(screen.colour(c, mem_row) == TONES["prefix"] for c in range(4))
        assert screen.colour(5, mem_row) == TONES["text"]
        prompt_row = len(rows) - 1
        assert screen.text(prompt_row) == ">"
        assert screen.colour(0, prompt_row) == TONES["prompt"]

        # `log` prints the boot log again: the screen scrolls, and then shows the last rows of
        # the same output, the prompt on its bottom row.
        m.command("log")
        # The replayed log holds earlier prompts, at which command() stops: wait for the end.
        m.expect("> log\n> ")
        assert m.log.count(banner) == 2, "`log` must show the log once, not log itself again"
        screen = read_screen(m, font_next_to(ctx.iso))
        rows = expect_screen_shows_serial_tail(m, screen, banner)
        assert len(rows) > screen.rows, "the log did not fill the screen"
        m.command("poweroff", expect_prompt=False)
        m.expect_exit(CLEAN_EXIT)


def test_text_mode_falls_back_to_vga_text(ctx):
    with ctx.boot(iso=text_iso(ctx), monitor=True) as m:
        m.expect("console: VGA text, 80x25 (no usable framebuffer: not a direct-RGB framebuffer)")
        m.expect("MarkerOS ready")
        m.expect_prompt()
        width, height, _ = m.screendump()
        assert (width, height) == (720, 400), f"QEMU shows {width}x{height}, not VGA text mode"
        m.command("poweroff", expect_prompt=False)
        m.expect_exit(CLEAN_EXIT)


def test_uefi_text_mode_falls_back_to_serial_only(ctx):
    with ctx.boot(iso=text_iso(ctx), uefi=True, timeout=120, idle_timeout=60) as m:
        m.expect("console: serial only (the loader described no screen)")
        m.expect("MarkerOS ready")
        m.expect_prompt()
        assert "invariants: ok" in m.command("mem --check")
        m.command("poweroff", expect_prompt=False)
        m.expect_exit(CLEAN_EXIT)
