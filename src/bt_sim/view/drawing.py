"""Pictures for the view: a cached layout, colours, the network image and SVG line charts.

Everything here is a pure function of arrays (no Solara), so it is tested without a browser.
The network is drawn with numpy and Pillow rather than matplotlib: the neighbourhoods and ties
are painted once per model into a background image, and each frame only stamps the households'
discs onto a copy of it (a few milliseconds at 2,000 households, about 15 ms with the PNG).
"""

from __future__ import annotations

import io
import math
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from html import escape

import numpy as np

# Okabe & Ito (2008), a palette that colour-blind viewers tell apart.
OKABE_ITO = (
    "#0072B2",  # blue
    "#E69F00",  # orange
    "#009E73",  # bluish green
    "#CC79A7",  # reddish purple
    "#56B4E9",  # sky blue
    "#D55E00",  # vermillion
    "#F0E442",  # yellow
    "#000000",  # black
)
NOT_ADOPTED = "#BDBDBD"
MEMBER_RING = "#000000"
# Viridis, sampled: a sequential scale that stays readable in grey and for colour-blind viewers.
SEQUENTIAL = ("#A0DA39", "#4AC16D", "#1FA187", "#277F8E", "#365C8D", "#46327E")
BACKGROUND = "#FFFFFF"
CELL = "#F2F2F2"
CELL_HOSTED = "#FBE7C6"  # a light orange: the neighbourhood has a collective
EDGE = "#D4D4D4"
MAX_EDGES = 3000


def hex_to_rgb(colour: str) -> tuple[int, int, int]:
    """``"#RRGGBB"`` as a tuple of ints.

    >>> hex_to_rgb("#0072B2")
    (0, 114, 178)
    """
    c = colour.lstrip("#")
    return int(c[0:2], 16), int(c[2:4], 16), int(c[4:6], 16)


def behaviour_colour(j: int) -> str:
    """The colour of behaviour ``j`` (curves and the 'by behaviour' network colouring)."""
    return OKABE_ITO[j % len(OKABE_ITO)]


def count_colours(b: int) -> list[str]:
    """Colours for 0, 1, ..., b behaviours adopted: grey, then a sequential scale.

    >>> count_colours(1)
    ['#BDBDBD', '#0072B2']
    >>> len(count_colours(5)), count_colours(5)[0]
    (6, '#BDBDBD')
    """
    if b <= 1:
        return [NOT_ADOPTED, OKABE_ITO[0]]
    picks = np.linspace(0, len(SEQUENTIAL) - 1, b).round().astype(int)
    return [NOT_ADOPTED, *(SEQUENTIAL[i] for i in picks)]


def node_colour_index(adopted: np.ndarray, mode: int | None) -> np.ndarray:
    """Per household, an index into the legend's colours.

    ``mode=None``: the number of behaviours adopted (0 .. b); ``mode=j``: 1 if behaviour j is
    adopted, else 0.

    >>> a = np.array([[True, False], [True, True], [False, False]])
    >>> node_colour_index(a, None).tolist(), node_colour_index(a, 1).tolist()
    ([1, 2, 0], [0, 1, 0])
    """
    if mode is None:
        return adopted.sum(axis=1, dtype=np.int64)
    return adopted[:, mode].astype(np.int64)


# ---- layout ----
@dataclass(frozen=True)
class Layout:
    """Household positions in the unit square and the neighbourhood cells (x0, y0, x1, y1)."""

    xy: np.ndarray  # (n, 2) float64 in [0, 1]
    cells: np.ndarray  # (c, 4)
    spacing: float  # typical distance between neighbouring households


def grid_shape(c: int) -> tuple[int, int]:
    """Columns and rows of a near-square grid holding ``c`` cells.

    >>> grid_shape(10), grid_shape(1), grid_shape(4)
    ((4, 3), (1, 1), (2, 2))
    """
    cols = math.ceil(math.sqrt(c))
    return cols, math.ceil(c / cols)


def _sunflower(m: int) -> np.ndarray:
    """``m`` evenly spread points in the unit disc (Vogel's spiral), shape (m, 2)."""
    i = np.arange(m) + 0.5
    r = np.sqrt(i / m)
    a = i * math.pi * (3 - math.sqrt(5))
    return np.column_stack([r * np.cos(a), r * np.sin(a)])


def layout(bounds: tuple[int, ...], ring: bool = False, seed: int = 0) -> Layout:
    """Positions of households: neighbourhoods on a grid, households spread in each.

    ``bounds`` are the neighbourhoods' start offsets (length c + 1; households of a
    neighbourhood are contiguous). Inside its cell a neighbourhood's households sit on a
    sunflower spiral, in a shuffled order, with a small random jitter; ``ring=True`` puts a
    single neighbourhood on a circle in household order (shows a ring lattice). Cached: the
    same bounds give the same object.
    """
    return _layout(tuple(int(b) for b in bounds), bool(ring), int(seed))


@lru_cache(maxsize=32)
def _layout(bounds: tuple[int, ...], ring: bool, seed: int) -> Layout:
    rng = np.random.default_rng(seed)
    c = len(bounds) - 1
    n = bounds[-1]
    cols, rows = grid_shape(c)
    side = 1.0 / max(cols, rows)
    gap = 0.04 * side
    cells = np.zeros((c, 4))
    xy = np.zeros((n, 2))
    spacing = 1.0
    ox = (1.0 - cols * side) / 2
    oy = (1.0 - rows * side) / 2
    for nb in range(c):
        col, row = nb % cols, nb // cols
        x0, y0 = ox + col * side + gap, oy + row * side + gap
        x1, y1 = x0 + side - 2 * gap, y0 + side - 2 * gap
        cells[nb] = (x0, y0, x1, y1)
        lo, hi = bounds[nb], bounds[nb + 1]
        m = hi - lo
        if m == 0:
            continue
        centre = np.array([(x0 + x1) / 2, (y0 + y1) / 2])
        radius = 0.44 * (x1 - x0)
        if ring and c == 1:
            a = 2 * math.pi * np.arange(m) / m - math.pi / 2
            pts = np.column_stack([np.cos(a), np.sin(a)])
            spacing = min(spacing, 2 * math.pi * radius / m)
        else:
            pts = _sunflower(m)[rng.permutation(m)]
            step = radius * math.sqrt(math.pi / m)  # area per household, as a distance
            spacing = min(spacing, step)
            pts = pts + rng.normal(0.0, 0.15 * step / radius, pts.shape)
        xy[lo:hi] = centre + radius * pts
    return Layout(xy=np.clip(xy, 0.0, 1.0), cells=cells, spacing=spacing)


# ---- the network image ----
def _disc(r: float) -> tuple[np.ndarray, np.ndarray]:
    rr = math.ceil(r)
    dy, dx = np.mgrid[-rr : rr + 1, -rr : rr + 1]
    keep = dx * dx + dy * dy <= r * r
    return dy[keep], dx[keep]


def _ring(r: float, width: float) -> tuple[np.ndarray, np.ndarray]:
    rr = math.ceil(r + width)
    dy, dx = np.mgrid[-rr : rr + 1, -rr : rr + 1]
    d2 = dx * dx + dy * dy
    keep = (d2 > r * r) & (d2 <= (r + width) ** 2)
    return dy[keep], dx[keep]


def sample_edges(indptr: np.ndarray, indices: np.ndarray, limit: int = MAX_EDGES, seed: int = 0):
    """The ties as (u, v) pairs with u < v, at most ``limit`` of them (a fixed random sample)."""
    n = indptr.size - 1
    u = np.repeat(np.arange(n), np.diff(indptr))
    v = np.asarray(indices)
    keep = u < v
    u, v = u[keep], v[keep]
    if u.size > limit:
        pick = np.sort(np.random.default_rng(seed).choice(u.size, limit, replace=False))
        u, v = u[pick], v[pick]
    return u, v


class NetworkPainter:
    """Paints households as discs on a background of neighbourhood cells and ties.

    Parameters
    ----------
    lay : Layout
    edges : (u, v) arrays of ties to draw, or None (a complete graph: no lines)
    hosted : bool array, per neighbourhood, whether it hosts a collective (shaded cell)
    size : image width and height in pixels
    """

    def __init__(self, lay: Layout, edges, hosted: np.ndarray, size: int = 720):
        from PIL import Image, ImageDraw

        self.size = size
        n = lay.xy.shape[0]
        pad = 4
        scale = size - 2 * pad
        # Crop the unit square to the rows of cells in use (a 4 x 3 grid is not square).
        top = int(np.floor(lay.cells[:, 1].min() * scale)) if len(lay.cells) else 0
        bottom = int(np.ceil(lay.cells[:, 3].max() * scale)) if len(lay.cells) else scale
        self.height = bottom - top + 2 * pad
        shift = np.array([pad, pad - top], float)
        px = np.rint(shift + lay.xy * scale).astype(np.int64)
        self.px = px
        img = Image.new("RGB", (size, self.height), BACKGROUND)
        draw = ImageDraw.Draw(img)
        for nb, (x0, y0, x1, y1) in enumerate(lay.cells):
            fill = CELL_HOSTED if nb < hosted.size and hosted[nb] else CELL
            box = [
                shift[0] + x0 * scale,
                shift[1] + y0 * scale,
                shift[0] + x1 * scale,
                shift[1] + y1 * scale,
            ]
            draw.rounded_rectangle(box, radius=10, fill=fill)
        if edges is not None and len(edges[0]):
            u, v = edges
            width = 1 if n > 500 else 2
            for a, b in zip(px[u].tolist(), px[v].tolist(), strict=True):
                draw.line((a[0], a[1], b[0], b[1]), fill=EDGE, width=width)
        if len(lay.cells) > 1:
            font = _font(max(14, int(size / 30)))
            for nb, (x0, y0, _, _) in enumerate(lay.cells):
                draw.text(
                    (shift[0] + x0 * scale + 6, shift[1] + y0 * scale + 2),
                    str(nb + 1),
                    fill="#555555",
                    font=font,
                )
        self.background = np.asarray(img, dtype=np.uint8).copy()
        r = float(np.clip(0.42 * lay.spacing * scale, 1.5, 9.0))
        self.radius = r
        self.fill_idx, self.fill_node = self._stamp(*_disc(r))
        self.ring_idx, self.ring_node = self._stamp(*_ring(r, max(1.2, r / 3)))

    def _stamp(self, dy: np.ndarray, dx: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        n = self.px.shape[0]
        x = self.px[:, 0:1] + dx[None, :]
        y = self.px[:, 1:2] + dy[None, :]
        ok = (x >= 0) & (x < self.size) & (y >= 0) & (y < self.height)
        node = np.broadcast_to(np.arange(n)[:, None], x.shape)
        return (y * self.size + x)[ok], node[ok]

    def paint(self, colour_index: np.ndarray, palette: list[str], member: np.ndarray) -> np.ndarray:
        """The picture as an RGB array: disc colours from ``palette[colour_index]``, members
        ringed."""
        rgb = np.array([hex_to_rgb(c) for c in palette], np.uint8)
        img = self.background.copy()
        flat = img.reshape(-1, 3)
        flat[self.fill_idx] = rgb[colour_index[self.fill_node]]
        if member.any():
            on = member[self.ring_node]
            flat[self.ring_idx[on]] = hex_to_rgb(MEMBER_RING)
        return img

    def png(self, colour_index: np.ndarray, palette: list[str], member: np.ndarray) -> bytes:
        """The picture as PNG bytes."""
        return png_bytes(self.paint(colour_index, palette, member))


def png_bytes(img: np.ndarray) -> bytes:
    """An RGB array as PNG bytes (fast compression: the picture changes every frame)."""
    from PIL import Image

    buf = io.BytesIO()
    Image.fromarray(img).save(buf, format="PNG", compress_level=1)
    return buf.getvalue()


@lru_cache(maxsize=4)
def _font(size: int):
    from PIL import ImageFont

    try:
        return ImageFont.load_default(size=size)
    except TypeError:  # Pillow < 10.1
        return ImageFont.load_default()


# ---- line charts ----
@dataclass(frozen=True)
class Series:
    """One line of a chart: a label, a colour, the values (NaN: no point) and a dash style."""

    label: str
    colour: str
    values: np.ndarray
    dashed: bool = False


def nice_ticks(lo: float, hi: float, count: int = 5) -> list[float]:
    """Round tick values covering [lo, hi].

    >>> nice_ticks(0, 100)
    [0.0, 20.0, 40.0, 60.0, 80.0, 100.0]
    >>> nice_ticks(0, 0.3)
    [0.0, 0.1, 0.2, 0.3]
    """
    if not hi > lo:
        hi = lo + 1.0
    raw = (hi - lo) / count
    mag = 10 ** math.floor(math.log10(raw))
    step = next(m * mag for m in (1, 2, 2.5, 5, 10) if m * mag >= raw)
    first = math.floor(lo / step + 1e-9) * step
    ticks = []
    t = first
    while t <= hi + 1e-9 * step:
        ticks.append(float(round(t, 10)))
        t += step
    return ticks


def span(arrays) -> tuple[float, float]:
    """The y range a chart of ``arrays`` shows by default: their finite values, with 0 in it,
    at least 1 wide.

    >>> span([np.array([0.5, 2.0]), np.array([np.nan, -1.0])]), span([np.array([0.0])])
    ((-1.0, 2.0), (0.0, 1.0))
    """
    vals = [a[np.isfinite(a)] for a in arrays]
    lo = min([0.0, *(float(v.min()) for v in vals if v.size)])
    hi = max([0.0, *(float(v.max()) for v in vals if v.size)])
    return lo, hi if hi - lo >= 1e-9 else lo + 1.0


def _fmt(v: float) -> str:
    return f"{v:g}" if abs(v) >= 1e-12 else "0"


def svg_line_chart(
    series: list[Series],
    x_max: float,
    title: str,
    x_label: str,
    y_label: str,
    y_range: tuple[float, float] | None = None,
    width: int = 600,
    height: int = 330,
    font: int = 18,
    css_class: str = "",
    tick_format: Callable[[float], str] | None = None,
) -> str:
    """A line chart as an SVG string (x from 0 to ``x_max``; each series' values at x = 0, 1,
    ...). Labels are escaped; the lines carry ``class="curve"`` and their points. Tick values
    are written by ``tick_format`` (default: as briefly as they go, the English way)."""
    fmt = tick_format or _fmt
    left, right, top = 3.6 * font, 1.4 * font, 2.0 * font
    per_row = 3 if max((len(s.label) for s in series), default=0) <= 12 else 2
    legend_rows = math.ceil(len(series) / per_row) if len(series) > 1 else 0
    bottom = 3.0 * font + legend_rows * 1.4 * font
    pw, ph = width - left - right, height - top - bottom
    lo, hi = span([s.values for s in series]) if y_range is None else y_range
    ticks = nice_ticks(lo, hi)
    lo, hi = min(lo, ticks[0]), max(hi, ticks[-1])
    x_max = max(x_max, 1.0)

    def sx(x):
        return left + pw * np.asarray(x, float) / x_max

    def sy(y):
        return top + ph * (1 - (np.asarray(y, float) - lo) / (hi - lo))

    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" '
        f'width="100%" class="bt-chart {escape(css_class)}" role="img" '
        f'font-family="sans-serif" font-size="{font}">',
        f"<title>{escape(title)}</title>",
        f'<text x="{left}" y="{font * 1.3:.1f}" font-weight="bold">{escape(title)}</text>',
    ]
    for t in ticks:
        y = float(sy(t))
        out.append(
            f'<line x1="{left}" x2="{left + pw}" y1="{y:.1f}" y2="{y:.1f}" stroke="#E0E0E0"/>'
            f'<text x="{left - 6}" y="{y + font * 0.35:.1f}" text-anchor="end">'
            f"{escape(fmt(t))}</text>"
        )
    for t in nice_ticks(0, x_max, 6):
        if t > x_max + 1e-9:
            continue
        x = float(sx(t))
        out.append(
            f'<line x1="{x:.1f}" x2="{x:.1f}" y1="{top + ph}" y2="{top + ph + 5}" stroke="#444"/>'
            f'<text x="{x:.1f}" y="{top + ph + 1.2 * font:.1f}" text-anchor="middle">'
            f"{escape(fmt(t))}</text>"
        )
    out.append(
        f'<line x1="{left}" x2="{left + pw}" y1="{top + ph}" y2="{top + ph}" stroke="#444"/>'
        f'<text x="{left + pw / 2:.1f}" y="{top + ph + 2.4 * font:.1f}" '
        f'text-anchor="middle">{escape(x_label)}</text>'
        f'<text transform="translate({font:.1f},{top + ph / 2:.1f}) rotate(-90)" '
        f'text-anchor="middle">{escape(y_label)}</text>'
    )
    for s in series:
        v = np.asarray(s.values, float)
        ok = np.isfinite(v)
        xs, ys = sx(np.flatnonzero(ok)), sy(v[ok])
        pts = " ".join(f"{a:.1f},{b:.1f}" for a, b in zip(xs, ys, strict=True))
        dash = ' stroke-dasharray="8 5"' if s.dashed else ""
        out.append(
            f'<polyline class="curve" fill="none" stroke="{s.colour}" stroke-width="3"{dash} '
            f'points="{pts}"><title>{escape(s.label)}</title></polyline>'
        )
    if legend_rows:
        col_w = pw / per_row
        for i, s in enumerate(series):
            x = left + (i % per_row) * col_w
            y = top + ph + 3.4 * font + (i // per_row) * 1.4 * font
            dash = ' stroke-dasharray="8 5"' if s.dashed else ""
            out.append(
                f'<line x1="{x:.1f}" x2="{x + 28:.1f}" y1="{y - font * 0.35:.1f}" '
                f'y2="{y - font * 0.35:.1f}" stroke="{s.colour}" stroke-width="4"{dash}/>'
                f'<text x="{x + 34:.1f}" y="{y:.1f}">{escape(s.label)}</text>'
            )
    out.append("</svg>")
    return "".join(out)
