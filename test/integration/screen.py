"""Read the framebuffer console back from a QEMU screendump: which character each cell shows
(matched pixel for pixel against the glyphs of the font the kernel links in) and in which colour.

    shot = read_screen(machine, font)   # after machine.screendump()
    shot.text(row)                      # the row's characters, trailing blanks dropped
    shot.colour(column, row)            # the cell's foreground colour, or None when blank
"""
import gzip
import struct
from pathlib import Path

BACKGROUND = (0, 0, 0)
# The console's palette (gfx::kConsolePalette in src/gfx/glyph.hpp).
TONES = {"text": (0xcc, 0xcc, 0xcc), "prefix": (0x4e, 0xc9, 0xe0),
         "prompt": (0x6a, 0xd9, 0x6a), "alert": (0xff, 0x5f, 0x56)}


class Font:
    """A PSF font's ASCII glyphs, as the kernel draws them (src/gfx/psf.cpp reads the same)."""

    def __init__(self, path):
        data = Path(path).read_bytes()
        if data[:2] == b"\x1f\x8b":
            data = gzip.decompress(data)
        if data[:2] == b"\x36\x04":  # PSF1: 8 pixels wide, 256 or 512 glyphs, UCS-2 table
            mode, height = data[2], data[3]
            width, header_size, length, glyph_size = 8, 4, 512 if mode & 1 else 256, height
            has_table = bool(mode & 6)
            table = data[header_size + length * glyph_size:]
            units = struct.unpack_from(f"<{len(table) // 2}H", table)
            entries, entry = [], []
            for unit in units:
                if unit == 0xFFFF:
                    entries.append(entry)
                    entry = []
                else:
                    entry.append(unit)
            entries = [e[:e.index(0xFFFE)] if 0xFFFE in e else e for e in entries]
            entries = ["".join(map(chr, e)) for e in entries]
        else:
            magic, _, header_size, flags, length, glyph_size, height, width = struct.unpack_from(
                "<8I", data)
            assert magic == 0x864AB572, f"{path} is not a PSF font"
            has_table = bool(flags & 1)
            table = data[header_size + length * glyph_size:]
            entries = [e.split(b"\xfe")[0].decode("utf-8", errors="ignore")
                       for e in table.split(b"\xff")]
        self.width, self.height = width, height
        row_bytes = (width + 7) // 8
        glyphs = [data[header_size + g * glyph_size:header_size + (g + 1) * glyph_size]
                  for g in range(length)]
        glyph_of = {}
        if has_table:
            for index, chars in enumerate(entries[:length]):
                for char in chars:
                    glyph_of.setdefault(char, index)
        else:
            glyph_of = {chr(c): c for c in range(min(length, 256))}
        # Bitmap (a tuple of row bit strings) -> character, for the printable ASCII range.
        self.char_of = {}
        for code in range(0x20, 0x7F):
            index = glyph_of.get(chr(code))
            if index is None:
                continue
            bits = tuple(
                "".join("1" if glyphs[index][r * row_bytes + x // 8] >> (7 - x % 8) & 1 else "0"
                        for x in range(width)) for r in range(height))
            self.char_of.setdefault(bits, chr(code))


class Screen:
    def __init__(self, width, height, pixels, font):
        self.width, self.height, self.pixels, self.font = width, height, pixels, font
        self.columns, self.rows = width // font.width, height // font.height

    def pixel(self, x, y):
        at = (y * self.width + x) * 3
        return tuple(self.pixels[at:at + 3])

    def cell(self, column, row):
        """(character or '\\ufffd' if no glyph matches, foreground colour or None)."""
        x0, y0 = column * self.font.width, row * self.font.height
        colours = set()
        bits = []
        for y in range(y0, y0 + self.font.height):
            line = []
            for x in range(x0, x0 + self.font.width):
                colour = self.pixel(x, y)
                if colour != BACKGROUND:
                    colours.add(colour)
                line.append("0" if colour == BACKGROUND else "1")
            bits.append("".join(line))
        char = self.font.char_of.get(tuple(bits), "\ufffd")
        return char, (colours.pop() if len(colours) == 1 else None if not colours else colours)

    def text(self, row):
        return "".join(self.cell(c, row)[0] for c in range(self.columns)).rstrip()

    def colour(self, column, row):
        return self.cell(column, row)[1]


def read_screen(machine, font, keep_as=None):
    width, height, pixels = machine.screendump(keep_as=keep_as)
    return Screen(width, height, pixels, font)


def font_next_to(iso):
    """The font file the build linked into the kernel of this ISO (see FONT in the Makefile)."""
    return Font(Path(iso).parent / "font" / "console.psf")
