"""Slide layout of an exported image: title, legend, attribution and
trigger-point labels drawn around (never over) the rendered body.

Every size is a fraction of the image height, so a 4K export looks like a
1080p one, only sharper. Text is drawn with Pillow, which gives exact text
metrics (VTK's text actors do not), so boxes can be laid out and checked for
overlap. With a transparent background, text and marks get a halo in the
opposite colour: dark text with a white outline reads on a white and on a
black slide.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from functools import lru_cache

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from viewer.errors import ViewerError
from viewer.render.style import Theme

# A patient handout is one readable page: its notes are limited.
MAX_NOTES_CHARS = 3_000      # notes past this no longer fit one readable page (looked at: 5,000
MAX_NOTES_LINES = 80         # characters left the picture a thumbnail and the text tiny)


def check_notes(notes: str, where: str = "notes") -> str:
    """Notes that fit a one-page patient handout.

    Parameters
    ----------
    notes : str
        The therapist's notes.
    where : str
        The argument named in the error.

    Returns
    -------
    str
        `notes`, unchanged.

    Raises
    ------
    ViewerError
        More than `MAX_NOTES_CHARS` characters or `MAX_NOTES_LINES` lines.
    """
    if len(notes) > MAX_NOTES_CHARS or notes.count("\n") >= MAX_NOTES_LINES:
        raise ViewerError(f"the notes are {len(notes):,} characters on {notes.count(chr(10)) + 1:,} lines; a "
                          f"one-page handout holds at most {MAX_NOTES_CHARS:,} characters and "
                          f"{MAX_NOTES_LINES} lines.", path=where,
                          fix="shorten the notes (a handout is one page); keep the full notes in the session.")
    return notes


FONT_FILES = {False: ("DejaVuSans.ttf", "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"),
              True: ("DejaVuSans-Bold.ttf", "/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf")}

# Sizes as fractions of the image height.
MARGIN = 0.03
TITLE = 0.045
SUBTITLE = 0.027
LEGEND = 0.026
ATTRIBUTION = 0.019      # font size; the ink of a line is >= 1.5% of the height (tested)
ATTRIBUTION_MIN = 0.0175  # of the real height, for portrait images
LABEL = 0.024


@lru_cache(maxsize=64)
def font(size: int, bold: bool = False) -> ImageFont.FreeTypeFont:
    """DejaVu Sans (installed by scripts/setup.sh), else Pillow's bundled font."""
    size = max(6, int(round(size)))
    for name in FONT_FILES[bold]:
        try:
            return ImageFont.truetype(name, size)
        except OSError:
            continue
    return ImageFont.load_default(size=size)


def text_size(text: str, f) -> tuple[int, int]:
    """Width and height in pixels of `text` drawn in the Pillow font `f` (its ink box)."""
    x0, y0, x1, y1 = f.getbbox(text)
    return int(x1 - x0), int(y1 - y0)


def line_height(f) -> int:
    """Distance in pixels between the baselines of two lines of the Pillow font `f`."""
    ascent, descent = f.getmetrics()
    return int((ascent + descent) * 1.15)


def wrap(text: str, f, width: float) -> list[str]:
    """Greedy word wrap to a pixel width."""
    lines, cur = [], ""
    for word in text.split():
        trial = f"{cur} {word}".strip()
        if cur and f.getlength(trial) > width:
            lines.append(cur)
            cur = word
        else:
            cur = trial
    if cur:
        lines.append(cur)
    return lines


def halo_width(size_px: float) -> int:
    """Width in pixels of the outline that keeps text of `size_px` readable on any background."""
    return max(1, int(round(size_px * 0.11)))


@dataclass
class Decorations:
    """What to draw around the body; None or empty leaves a part out."""
    title: str | None = None
    subtitle: str | None = None
    legend: list[tuple[str, str, str]] = field(default_factory=list)  # (kind 'swatch'|'dot', colour, text)
    attribution: str | None = None


@dataclass
class Layout:
    """Boxes (x0, y0, x1, y1) in pixels of an image of ``size``."""
    size: tuple[int, int]
    body: tuple[int, int, int, int]
    title_xy: tuple[int, int] | None
    subtitle_xy: tuple[int, int] | None
    legend_box: tuple[int, int, int, int] | None
    attribution_lines: list[str]
    attribution_xy: tuple[int, int] | None
    px: dict

    @property
    def body_size(self) -> tuple[int, int]:
        """Width and height in pixels of the box the rendered body goes in."""
        x0, y0, x1, y1 = self.body
        return x1 - x0, y1 - y0


def plan(size: tuple[int, int], deco: Decorations) -> Layout:
    """Where everything goes: title band on top, attribution band at the
    bottom, legend in a right-hand column (a bottom row on narrow images), the
    body in the remaining box."""
    w, h = size
    # Sizes follow the height of a 16:9 image of this width at most, so a
    # portrait image does not get text wider than itself.
    ref = min(h, w * 9 / 16)
    px = {k: max(6, round(v * ref)) for k, v in
          dict(margin=MARGIN, title=TITLE, subtitle=SUBTITLE, legend=LEGEND, label=LABEL).items()}
    # the attribution stays >= 1.5% of the image height whatever the shape
    px["attribution"] = max(6, math.ceil(max(ATTRIBUTION * ref, ATTRIBUTION_MIN * h)))
    m = px["margin"]
    if deco.title:                                 # a long name on a narrow image: smaller title
        while px["title"] > px["subtitle"] and font(px["title"], True).getlength(deco.title) > w - 2 * m:
            px["title"] -= 1
    top = m
    title_xy = subtitle_xy = None
    if deco.title:
        title_xy = (m, top)
        top += line_height(font(px["title"], True))
    if deco.subtitle:
        subtitle_xy = (m, top)
        top += line_height(font(px["subtitle"]))
    if deco.title or deco.subtitle:
        top += m // 2
    bottom = h - m
    att_lines, att_xy = [], None
    if deco.attribution:
        fa = font(px["attribution"])
        att_lines = wrap(deco.attribution, fa, w - 2 * m)
        bottom -= line_height(fa) * len(att_lines)
        att_xy = (m, bottom)
        bottom -= m // 2
    legend_box = None
    right = w - m
    if deco.legend:
        fl = font(px["legend"])
        sw = px["legend"]                          # swatch side
        row = int(line_height(fl) * 1.25)
        text_w = max(fl.getlength(t) for _, _, t in deco.legend)
        col_w = int(sw * 1.6 + text_w)
        row_w = sum(sw * 3.1 + fl.getlength(t) for _, _, t in deco.legend)
        px["legend_row"] = 0
        head_w = max([font(px["title"], True).getlength(deco.title or ""),
                      font(px["subtitle"]).getlength(deco.subtitle or "")])
        if w / h >= 1.3 and head_w + col_w + 3 * m <= w:
            # landscape: a column at the top right, beside the title, so the body gets the
            # whole width (a column beside the body left a strip of the slide empty)
            legend_box = (w - m - col_w, m, w - m, m + row * len(deco.legend))
            top = max(top, legend_box[3] + m // 2)
        elif w / h >= 1.3:                         # landscape, long title: a column at the top right
            legend_box = (w - m - col_w, top, w - m, top + row * len(deco.legend))
            right = legend_box[0] - m
        elif row_w <= w - 2 * m:                   # portrait or square: a row above the attribution
            px["legend_row"] = 1
            legend_box = (m, bottom - row, w - m, bottom)
            bottom -= row + m // 2
        else:                                      # too narrow for a row: a column at the bottom
            legend_box = (m, bottom - row * len(deco.legend), m + col_w, bottom)
            bottom -= row * len(deco.legend) + m // 2
    body = (m, top, max(m + 16, right), max(top + 16, bottom))
    return Layout(size, body, title_xy, subtitle_xy, legend_box, att_lines, att_xy, px)


def _text(draw, xy, text, f, fill, halo, anchor="la"):
    extra = {"stroke_width": halo_width(f.size), "stroke_fill": halo} if halo else {}
    draw.text(xy, text, font=f, fill=fill, anchor=anchor, **extra)


def compose(body: np.ndarray, layout: Layout, deco: Decorations, theme: Theme, *, transparent: bool,
            labels: list | None = None, marks: list | None = None) -> np.ndarray:
    """The final RGBA image: background (or none), the body render in its box,
    trigger-point marks and labels, then the text."""
    w, h = layout.size
    bg = (0, 0, 0, 0) if transparent else theme.background
    img = Image.new("RGBA", (w, h), bg)
    x0, y0, _, _ = layout.body
    img.alpha_composite(Image.fromarray(body, "RGBA"), (x0, y0))
    draw = ImageDraw.Draw(img)
    halo = theme.halo if transparent else None
    px = layout.px
    for (mx, my), r, color in marks or []:
        draw.ellipse((mx - r, my - r, mx + r, my + r), fill=color, outline="#ffffff",
                     width=max(1, round(r * 0.35)))
    fl = font(px["label"])
    for lab in labels or []:
        (ax, ay), (bx0, by0, bx1, by1), text = lab["anchor"], lab["box"], lab["text"]
        if lab.get("leader"):
            cx, cy = min(max(ax, bx0), bx1), min(max(ay, by0), by1)
            lw = max(1, round(px["label"] * 0.08))
            draw.line((ax, ay, cx, cy), fill=theme.halo if not transparent else "#ffffff", width=lw * 3)
            draw.line((ax, ay, cx, cy), fill=theme.text if not transparent else "#1a1a1a", width=lw)
        # Labels sit on the body (light skin) or the background: a rounded plate
        # in the theme's background colour keeps them legible on both.
        pad = round(px["label"] * 0.25)
        plate = theme.background if not transparent else theme.halo
        draw.rounded_rectangle((bx0, by0, bx1, by1), radius=pad, fill=plate,
                               outline=theme.muted, width=max(1, round(px["label"] * 0.05)))
        draw.text((bx0 + pad, by0 + pad), text, font=fl, fill=theme.text, anchor="lt")
    if deco.title and layout.title_xy:
        _text(draw, layout.title_xy, deco.title, font(px["title"], True), theme.text, halo)
    if deco.subtitle and layout.subtitle_xy:
        _text(draw, layout.subtitle_xy, deco.subtitle, font(px["subtitle"]), theme.muted, halo)
    if deco.legend and layout.legend_box:
        _legend(draw, layout, deco.legend, theme, halo)
    if layout.attribution_lines:
        fa = font(px["attribution"])
        ax, ay = layout.attribution_xy
        for i, line in enumerate(layout.attribution_lines):
            _text(draw, (ax, ay + i * line_height(fa)), line, fa, theme.muted, halo)
    return np.asarray(img)


def _legend(draw, layout: Layout, items, theme: Theme, halo) -> None:
    fl = font(layout.px["legend"])
    sw = layout.px["legend"]
    row = int(line_height(fl) * 1.25)
    x, y, x1, _ = layout.legend_box
    column = not layout.px.get("legend_row")
    outline = max(1, round(sw * 0.08))
    for kind, color, text in items:
        box = (x, y + (row - sw) // 2, x + sw, y + (row + sw) // 2)
        edge = halo or theme.text
        if kind == "dot":
            draw.ellipse(box, fill=color, outline="#ffffff", width=max(1, round(sw * 0.12)))
        else:
            draw.rectangle(box, fill=color, outline=edge, width=outline)
        _text(draw, (x + int(sw * 1.6), y + row // 2), text, fl, theme.text, halo, anchor="lm")
        if column:
            y += row
        else:
            x += int(sw * 1.6 + fl.getlength(text) + sw * 1.5)


# -- trigger-point labels -------------------------------------------------------
def _overlaps(a, b, gap=0) -> bool:
    return not (a[2] + gap <= b[0] or b[2] + gap <= a[0] or a[3] + gap <= b[1] or b[3] + gap <= a[1])


def place_labels(anchors, texts, bounds, size_px: int, *, avoid=()) -> list[dict]:
    """Boxes for labels near their anchor points that overlap neither each
    other, nor any anchor's mark, nor the ``avoid`` boxes, and stay inside
    ``bounds``. Greedy: candidate spots on rings of growing radius around the
    anchor, nearest first; a label that fits nowhere is left out (returned with
    ``box`` None) rather than drawn over another."""
    f = font(size_px)
    pad = round(size_px * 0.25)
    gap = max(2, round(size_px * 0.2))
    r_mark = round(size_px * 0.45)
    placed: list[dict] = []
    taken = [tuple(b) for b in avoid]
    taken += [(ax - r_mark, ay - r_mark, ax + r_mark, ay + r_mark) for ax, ay in anchors]
    bx0, by0, bx1, by1 = bounds
    order = np.argsort([a[1] for a in anchors]) if len(anchors) else []
    for i in order:
        ax, ay = anchors[i]
        tw, th = text_size(texts[i], f)
        bw, bh = tw + 2 * pad, th + 2 * pad
        best = None
        for radius in np.arange(1.0, 12.0, 0.5) * size_px:
            for ang in np.deg2rad([0, 180, -30, 210, 30, 150, -60, 240, 60, 120, -90, 90]):
                cx, cy = ax + radius * np.cos(ang), ay - radius * np.sin(ang)
                # attach the box by its near side/corner toward the anchor
                x0 = cx if np.cos(ang) > 0.3 else (cx - bw if np.cos(ang) < -0.3 else cx - bw / 2)
                y0 = cy - bh / 2 if abs(np.sin(ang)) < 0.7 else (cy - bh if np.sin(ang) > 0 else cy)
                box = (int(x0), int(y0), int(x0 + bw), int(y0 + bh))
                if box[0] < bx0 or box[1] < by0 or box[2] > bx1 or box[3] > by1:
                    continue
                if any(_overlaps(box, t, gap) for t in taken):
                    continue
                best = box
                break
            if best:
                break
        entry = {"anchor": (int(ax), int(ay)), "text": texts[i], "box": best,
                 "leader": best is not None and radius > 1.6 * size_px}
        if best:
            taken.append(best)
        placed.append(entry)
    return placed


# -- plates: panels side by side ------------------------------------------------
def _water_fill(room, total):
    """Share ``total`` among slots each taking at most its ``room``, evenly."""
    room = [max(0.0, float(r)) for r in room]
    give = [0.0] * len(room)
    left = float(total)
    open_ = [i for i, r in enumerate(room) if r > 1e-9]
    while left > 1e-6 and open_:
        share = left / len(open_)
        for i in list(open_):
            g = min(share, room[i] - give[i])
            give[i] += g
            left -= g
            if room[i] - give[i] <= 1e-9:
                open_.remove(i)
    return give


def arrange_panels(box, contents, limits, *, gap: int, caption: int = 0):
    """Boxes for a plate's panels in the body box: a row (or a column, whichever
    draws the body larger), all at one scale (mm to pixels, so the panels compare),
    each at least its ``content`` extent (width, height) in mm and grown into the
    room left up to its ``limit`` (the body's extent in that view), the group centred.
    ``caption`` pixels are kept under each panel.

    Returns
    -------
    list of ((x0, y0, x1, y1) pixel box, (width, height) extent in mm)
    """
    x0, y0, x1, y1 = box
    W, H = x1 - x0, y1 - y0
    n = len(contents)
    cw = [float(c[0]) for c in contents]
    ch = [float(c[1]) for c in contents]
    s_row = min((W - gap * (n - 1)) / sum(cw), (H - caption) / max(ch))
    s_col = min(W / max(cw), (H - n * caption - gap * (n - 1)) / sum(ch))
    row = n == 1 or s_row >= s_col
    s = max(1e-6, s_row if row else s_col)
    ext = [[w, h] for w, h in zip(cw, ch)]
    if row:
        for e, lim in zip(ext, limits):
            e[1] = max(e[1], min(float(lim[1]), (H - caption) / s))
        free = (W - gap * (n - 1)) / s - sum(cw)
        for e, g in zip(ext, _water_fill([float(lim[0]) - e[0] for e, lim in zip(ext, limits)], free)):
            e[0] += g
    else:
        for e, lim in zip(ext, limits):
            e[0] = max(e[0], min(float(lim[0]), W / s))
        free = (H - n * caption - gap * (n - 1)) / s - sum(ch)
        for e, g in zip(ext, _water_fill([float(lim[1]) - e[1] for e, lim in zip(ext, limits)], free)):
            e[1] += g
    px = [(max(16, int(e[0] * s)), max(16, int(e[1] * s))) for e in ext]
    out = []
    if row:
        x = x0 + (W - sum(w for w, _ in px) - gap * (n - 1)) // 2
        for (w, h), e in zip(px, ext):
            top = y0 + (H - caption - h) // 2
            out.append(((x, top, x + w, top + h), (w / s, h / s)))
            x += w + gap
    else:
        y = y0 + (H - sum(h for _, h in px) - n * caption - gap * (n - 1)) // 2
        for (w, h), e in zip(px, ext):
            left = x0 + (W - w) // 2
            out.append(((left, y, left + w, y + h), (w / s, h / s)))
            y += h + caption + gap
    return out
