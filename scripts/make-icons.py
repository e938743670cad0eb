#!/usr/bin/env python3
"""Draws Tern's app icons into public/icons/.

    pip install pillow
    python3 scripts/make-icons.py

The mark is a white tern seen from below -- long angled wings and the deeply forked "sea swallow"
tail -- on the deep-sea blue #0b3d66. Shapes are drawn at 8x and downsampled, which gives clean
anti-aliased edges without any extra dependencies.

  icon-192.png, icon-512.png  purpose "any": rounded square, transparent corners
  icon-maskable-512.png       purpose "maskable": full-bleed background, bird inside the central
                              80% safe zone (a circle of radius 0.4 * size) with margin to spare
  favicon-32.png              rounded square, for <link rel="icon">
"""

from __future__ import annotations

import math
from pathlib import Path

from PIL import Image, ImageDraw

BLUE = (0x0B, 0x3D, 0x66, 255)
WHITE = (255, 255, 255, 255)
SUPERSAMPLE = 8
OUT_DIR = Path(__file__).resolve().parent.parent / "public" / "icons"

Point = tuple[float, float]


def cubic(p0: Point, p1: Point, p2: Point, p3: Point, steps: int = 48) -> list[Point]:
    """Points along a cubic Bezier curve, excluding the start point."""
    pts = []
    for i in range(1, steps + 1):
        t = i / steps
        u = 1 - t
        x = u**3 * p0[0] + 3 * u * u * t * p1[0] + 3 * u * t * t * p2[0] + t**3 * p3[0]
        y = u**3 * p0[1] + 3 * u * u * t * p1[1] + 3 * u * t * t * p2[1] + t**3 * p3[1]
        pts.append((x, y))
    return pts


def path(start: Point, *segments: tuple[Point, ...]) -> list[Point]:
    """A closed outline: each segment is either (end,) for a line or (c1, c2, end) for a curve."""
    pts = [start]
    for seg in segments:
        if len(seg) == 1:
            pts.append(seg[0])
        else:
            pts.extend(cubic(pts[-1], *seg))
    return pts


def mirror(pts: list[Point]) -> list[Point]:
    return [(100 - x, y) for x, y in reversed(pts)]


# The bird in a 100 x 100 design box (y grows downwards), symmetric about x = 50.
# Right half of the body: beak tip, head, chest, waist, tail fork.
BODY_RIGHT = path(
    (50, 8),  # beak tip
    ((51.6, 13), (53.2, 17), (54.2, 20)),  # beak to crown
    ((56.2, 22.5), (57.6, 28), (57.6, 34)),  # head and shoulders
    ((57.6, 44), (55.6, 52), (54, 58)),  # chest to the base of the tail
    ((58, 68), (61.5, 78), (64.5, 91)),  # outer tail streamer
    ((59, 82), (54.5, 74), (50, 69)),  # inner edge of the fork, back to the notch
)
BODY = BODY_RIGHT + mirror(BODY_RIGHT)[1:]

# Right wing: shoulder out to the wrist (leading edge bulges forward), then the swept-back pointed
# hand; the trailing edge curves back to the flank.
WING_RIGHT = path(
    (55, 30),  # shoulder, leading edge
    ((62, 24), (68, 19.5), (75, 18.5)),  # arm, up to the wrist
    ((84, 18), (93, 26), (99, 40)),  # hand, swept back to the pointed tip
    ((92, 34), (85, 31), (78, 31)),  # trailing edge of the hand
    ((69, 31.5), (62, 38), (55, 44)),  # trailing edge of the arm, into the flank
)
WING_LEFT = mirror(WING_RIGHT)


def draw_bird(draw: ImageDraw.ImageDraw, cx: float, cy: float, width: float) -> None:
    """Draws the bird centred on (cx, cy), `width` pixels from wing tip to wing tip."""
    scale = width / 98.0  # the wing tips span x = 1..99
    ys = [y for shape in (WING_RIGHT, BODY) for _, y in shape]
    mid = (min(ys) + max(ys)) / 2  # centre the bird's vertical extent

    def tf(pts: list[Point]) -> list[Point]:
        return [(cx + (x - 50) * scale, cy + (y - mid) * scale) for x, y in pts]

    for shape in (WING_LEFT, WING_RIGHT, BODY):
        draw.polygon(tf(shape), fill=WHITE)


def render(size: int, *, maskable: bool, bird_width: float, corner: float = 0.0) -> Image.Image:
    s = size * SUPERSAMPLE
    img = Image.new("RGBA", (s, s), (0, 0, 0, 0))
    draw = ImageDraw.Draw(img)
    if maskable:
        draw.rectangle((0, 0, s, s), fill=BLUE)
    else:
        draw.rounded_rectangle((0, 0, s - 1, s - 1), radius=corner * s, fill=BLUE)
    draw_bird(draw, s / 2, s / 2, bird_width * s)
    return img.resize((size, size), Image.Resampling.LANCZOS)


def check_safe_zone(img: Image.Image) -> None:
    """Every white-ish pixel of a maskable icon must lie inside the central safe-zone circle."""
    size = img.width
    radius = 0.4 * size
    c = (size - 1) / 2
    px = img.load()
    for y in range(size):
        for x in range(size):
            r, g, b, _ = px[x, y]
            if r > 0x40 and math.hypot(x - c, y - c) > radius:
                raise SystemExit(f"maskable icon: glyph pixel at ({x}, {y}) is outside the safe zone")


def main() -> None:
    OUT_DIR.mkdir(parents=True, exist_ok=True)
    icons = {
        "icon-192.png": render(192, maskable=False, bird_width=0.80, corner=0.22),
        "icon-512.png": render(512, maskable=False, bird_width=0.80, corner=0.22),
        # 0.62 of the width keeps the wing tips well inside the 0.8-diameter safe circle.
        "icon-maskable-512.png": render(512, maskable=True, bird_width=0.62),
        "favicon-32.png": render(32, maskable=False, bird_width=0.90, corner=0.18),
    }
    check_safe_zone(icons["icon-maskable-512.png"])
    for name, img in icons.items():
        out = OUT_DIR / name
        if "maskable" in name:
            img = img.convert("RGB")  # full bleed: no alpha needed
        # Two flat colours plus anti-aliasing fit a small palette: a quarter of the bytes, and the
        # service worker precaches every icon.
        img = img.quantize(colors=48, method=Image.Quantize.FASTOCTREE, dither=Image.Dither.NONE)
        img.save(out, optimize=True)
        print(f"{out.relative_to(OUT_DIR.parent.parent)}  {img.width}x{img.height}  {out.stat().st_size} B")


if __name__ == "__main__":
    main()
