#!/usr/bin/env python3
"""Renders a `tmux capture-pane -e -p` screen (text with SGR escapes) to a PNG.

Usage: ansi2png.py SCREEN.ansi OUT.png [--cols N --rows N]
Needs Pillow (PyPI) and DejaVu Sans Mono (Debian fonts-dejavu-core).
"""
import re
import sys

from PIL import Image, ImageDraw, ImageFont

FONT = "/usr/share/fonts/truetype/dejavu/DejaVuSansMono.ttf"
BOLD = "/usr/share/fonts/truetype/dejavu/DejaVuSansMono-Bold.ttf"
SIZE = 15
BG = (24, 26, 33)
FG = (220, 223, 228)
# xterm's 16 colours, a little softened for a dark background.
BASIC = [
    (40, 42, 54), (230, 90, 90), (120, 200, 120), (230, 200, 90),
    (100, 150, 240), (210, 120, 220), (90, 200, 210), (220, 223, 228),
    (110, 115, 125), (255, 120, 120), (150, 230, 150), (255, 230, 120),
    (130, 180, 255), (235, 150, 245), (130, 230, 240), (255, 255, 255),
]


def xterm256(n):
    if n < 16:
        return BASIC[n]
    if n < 232:
        n -= 16
        steps = [0, 95, 135, 175, 215, 255]
        return (steps[n // 36], steps[(n // 6) % 6], steps[n % 6])
    v = 8 + (n - 232) * 10
    return (v, v, v)


SGR = re.compile(r"\x1b\[([0-9;]*)m")


def parse(text):
    """Yields rows of (char, fg, bg, bold)."""
    fg, bg, bold, rev = None, None, False, False
    for line in text.split("\n"):
        row = []
        pos = 0
        for m in SGR.finditer(line):
            for ch in line[pos:m.start()]:
                f, b = (bg, fg) if rev else (fg, bg)
                row.append((ch, f, b, bold, rev))
            pos = m.end()
            codes = [int(c) if c else 0 for c in m.group(1).split(";")] or [0]
            i = 0
            while i < len(codes):
                c = codes[i]
                if c == 0:
                    fg, bg, bold, rev = None, None, False, False
                elif c == 1:
                    bold = True
                elif c == 22:
                    bold = False
                elif c == 7:
                    rev = True
                elif c == 27:
                    rev = False
                elif 30 <= c <= 37:
                    fg = BASIC[c - 30]
                elif 90 <= c <= 97:
                    fg = BASIC[c - 90 + 8]
                elif 40 <= c <= 47:
                    bg = BASIC[c - 40]
                elif c == 39:
                    fg = None
                elif c == 49:
                    bg = None
                elif c in (38, 48) and i + 2 < len(codes) and codes[i + 1] == 5:
                    col = xterm256(codes[i + 2])
                    if c == 38:
                        fg = col
                    else:
                        bg = col
                    i += 2
                i += 1
        for ch in line[pos:]:
            f, b = (bg, fg) if rev else (fg, bg)
            row.append((ch, f, b, bold, rev))
        yield row


def main():
    src, out = sys.argv[1], sys.argv[2]
    text = open(src, encoding="utf-8").read().rstrip("\n")
    rows = list(parse(text))
    font = ImageFont.truetype(FONT, SIZE)
    bold = ImageFont.truetype(BOLD, SIZE)
    cw = round(font.getlength("M"))
    ch = SIZE + 4
    cols = max((len(r) for r in rows), default=1)
    img = Image.new("RGB", (cols * cw + 16, len(rows) * ch + 16), BG)
    d = ImageDraw.Draw(img)
    for y, row in enumerate(rows):
        for x, (c, f, b, is_bold, rev) in enumerate(row):
            px, py = 8 + x * cw, 8 + y * ch
            back = b if b is not None else (FG if rev and b is None else None)
            fore = f if f is not None else (BG if rev else FG)
            if back is not None:
                d.rectangle([px, py, px + cw - 1, py + ch - 1], fill=back)
            if c != " ":
                d.text((px, py + 1), c, font=bold if is_bold else font, fill=fore)
    img.save(out)


if __name__ == "__main__":
    main()
