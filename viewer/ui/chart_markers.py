"""How a point of the trend chart looks: a marker per source, range status and comparator, and the legend
keys that explain them. Nothing is told by colour alone: the source is a colour the legend names, out of
range is a triangle pointing the way the value is out, a comparator value (`<5`) is hollow with an arrow
the way it is open.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from types import MappingProxyType

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QPainter, QPen, QPixmap, QPolygonF
from PySide6.QtWidgets import QWidget

from viewer.domain.provenance import SourceKind
from viewer.record.trends import RangeStatus, TrendPoint

# Okabe-Ito colours: told apart with the common colour-vision deficiencies, and named in the legend.
SOURCE_COLOURS = MappingProxyType({
    (SourceKind.GP,): "#0072b2",
    (SourceKind.HOSPITAL,): "#d55e00",
})
BOTH_COLOUR = "#cc79a7"
BAND_COLOUR = "#2d009e73"  # #AARRGGBB: the reference range, light enough for the markers over it
BAND_EDGE = "#00785a"
MARKER = 4.5  # radius of a marker, px


class Shape(Enum):
    CIRCLE = "in range or not classed"
    UP = "above the reference range"
    DOWN = "below the reference range"


@dataclass(frozen=True, slots=True)
class MarkerStyle:
    colour: str
    shape: Shape
    comparator: str | None  # "<" (open downwards) / ">" (open upwards) / None


def source_colour(sources: tuple[SourceKind, ...]) -> str:
    return SOURCE_COLOURS.get(sources, BOTH_COLOUR)


def marker_style(point: TrendPoint) -> MarkerStyle:
    status = point.status
    shape = {RangeStatus.ABOVE: Shape.UP, RangeStatus.BELOW: Shape.DOWN}.get(status, Shape.CIRCLE)
    comparator = point.comparator[0] if point.comparator else None
    return MarkerStyle(source_colour(point.sources), shape, comparator)


def mix(colour: QColor, background: QColor, amount: float) -> QColor:
    """`amount` of colour over background, opaque: a translucent pen makes the raster engine blend every
    pixel of a line (a 1,300 px grid line cost 0.4 ms translucent, 0.01 ms opaque)."""
    return QColor.fromRgbF(*(a * amount + b * (1 - amount) for a, b in (
        (colour.redF(), background.redF()), (colour.greenF(), background.greenF()),
        (colour.blueF(), background.blueF()))))


class MarkerSprites:
    """Each marker drawn once per style and reused for every point: painting 3,000 points is then 3,000
    small pixmap copies, not 3,000 antialiased paths. `clear()` when the palette or screen changes."""

    def __init__(self, widget: QWidget):
        self.widget = widget
        self._cache: dict[tuple[MarkerStyle, bool, bool], tuple[QPixmap, int]] = {}

    def clear(self) -> None:
        self._cache.clear()

    def get(self, style: MarkerStyle, *, focused: bool = False, small: bool = False) -> tuple[QPixmap, int]:
        """The marker and half its size (its centre)."""
        key = (style, focused, small)
        found = self._cache.get(key)
        if found is not None:
            return found
        radius = MARKER + (1.5 if style.shape is not Shape.CIRCLE else 0) + (1 if focused else 0)
        radius *= 0.6 if small else 1
        arrow = 8 if style.comparator else 0
        half = int(radius * 1.3 + arrow + 3)
        ratio = self.widget.devicePixelRatioF()
        sprite = QPixmap(int(2 * half * ratio), int(2 * half * ratio))
        sprite.setDevicePixelRatio(ratio)
        sprite.fill(Qt.GlobalColor.transparent)
        p = QPainter(sprite)
        try:
            p.setRenderHint(QPainter.RenderHint.Antialiasing, True)
            c = QPointF(half, half)
            colour = QColor(style.colour)
            palette = self.widget.palette()
            outline = colour if style.shape is Shape.CIRCLE else QColor(palette.windowText().color())
            p.setPen(QPen(outline if style.comparator is None else colour, 2 if style.comparator else 1))
            p.setBrush(palette.base() if style.comparator else colour)
            if style.shape is Shape.CIRCLE:
                p.drawEllipse(c, radius, radius)
            else:
                sign = -1 if style.shape is Shape.UP else 1
                p.drawPolygon(QPolygonF([
                    QPointF(c.x(), c.y() + sign * radius * 1.2),
                    QPointF(c.x() - radius * 1.1, c.y() - sign * radius * 0.8),
                    QPointF(c.x() + radius * 1.1, c.y() - sign * radius * 0.8),
                ]))
            if style.comparator:
                # an arrow the way the value is open: `<5` means somewhere below 5
                sign = 1 if style.comparator == "<" else -1
                tip = QPointF(c.x(), c.y() + sign * (radius + arrow))
                p.setPen(QPen(colour, 1.5))
                p.drawLine(QPointF(c.x(), c.y() + sign * radius), tip)
                p.drawLine(tip, QPointF(tip.x() - 3, tip.y() - sign * 3))
                p.drawLine(tip, QPointF(tip.x() + 3, tip.y() - sign * 3))
        finally:
            p.end()
        self._cache[key] = (sprite, half)
        return sprite, half


def paint_key(painter: QPainter, kind: str, centre: QPointF, sprites: MarkerSprites) -> None:
    """The legend's key for `kind`: `source:gp[,hospital]`, `band`, `partial`, `<`/`>`, or a Shape name."""
    text = sprites.widget.palette().windowText().color()
    grey = text.name()
    if kind.startswith("source:"):
        sources = tuple(SourceKind(v) for v in kind.split(":", 1)[1].split(","))
        style = MarkerStyle(source_colour(sources), Shape.CIRCLE, None)
    elif kind == "band":
        painter.fillRect(QRectF(centre.x() - 9, centre.y() - 6, 18, 12), QColor(BAND_COLOUR))
        painter.setPen(QPen(QColor(BAND_EDGE), 1, Qt.PenStyle.DashLine))
        painter.drawLine(QPointF(centre.x() - 9, centre.y() - 6), QPointF(centre.x() + 9, centre.y() - 6))
        painter.drawLine(QPointF(centre.x() - 9, centre.y() + 6), QPointF(centre.x() + 9, centre.y() + 6))
        return
    elif kind == "partial":
        painter.setPen(QPen(text, 1.5))
        painter.drawLine(QPointF(centre.x() - 9, centre.y()), QPointF(centre.x() + 9, centre.y()))
        end = centre.x() + 9
        painter.drawLine(QPointF(end, centre.y() - 4), QPointF(end, centre.y() + 4))
        return
    elif kind in ("<", ">"):
        style = MarkerStyle(grey, Shape.CIRCLE, kind)
    else:
        style = MarkerStyle(grey, Shape[kind], None)
    sprite, half = sprites.get(style)
    painter.drawPixmap(int(centre.x()) - half, int(centre.y()) - half, sprite)
