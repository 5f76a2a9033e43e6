"""One result series drawn with QPainter: time axis, value axis with the unit, the reference range shaded.

PySide6-Essentials has no QtCharts, and a chart of 3,000 results must not cost a widget per point, so this
paints straight from the series: only the points inside the visible time window, each marker a cached
pixmap (chart_markers.py says how each looks), one per 2 x 2 px cell. A date known only to the month or
year carries a bar over that period. Keyboard: Left/Right move between points,
Home/End go to the first/last, +/- zoom around the focused point, 0 shows the whole series.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from datetime import UTC, datetime

from PySide6.QtCore import QEvent, QPoint, QPointF, QRectF, QSize, Qt, Signal
from PySide6.QtGui import (
    QColor,
    QFocusEvent,
    QFontMetrics,
    QHelpEvent,
    QKeyEvent,
    QMouseEvent,
    QPainter,
    QPaintEvent,
    QPen,
    QPixmap,
    QPolygonF,
    QWheelEvent,
)
from PySide6.QtWidgets import QToolTip, QWidget

from viewer.domain.dates import format_date
from viewer.domain.provenance import SourceKind
from viewer.record.trends import TrendSeries
from viewer.ui.chart_axes import date_ticks, nice_range, value_label, value_ticks
from viewer.ui.chart_markers import (
    BAND_COLOUR,
    BAND_EDGE,
    MARKER,
    MarkerSprites,
    MarkerStyle,
    Shape,
    marker_style,
    mix,
    paint_key,
)

HIT = 10  # how close the pointer must be to a point for its tooltip, px
MIN_SPAN = 2 * 86400.0  # the narrowest zoom, seconds
Run = tuple[int, int, float | None, float | None]


def _band_runs(ranges: list[tuple[float | None, float | None]]) -> list[Run]:
    """(first index, last index, low, high) of consecutive points sharing one reference range."""
    runs: list[Run] = []
    for i, bounds in enumerate(ranges):
        if runs and (runs[-1][2], runs[-1][3]) == bounds:
            runs[-1] = (runs[-1][0], i, *bounds)
        else:
            runs.append((i, i, *bounds))
    return runs


class TrendChart(QWidget):
    """Paints one TrendSeries.

    Signals:
        focused_changed(int): the index (in the series, oldest first) of the point with the keyboard
            focus, -1 when there is none; the point's text is `point_text(index)`.
    """

    focused_changed = Signal(int)

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("trendChart")
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.setMouseTracking(True)
        self.setMinimumSize(320, 180)
        self.setAccessibleName("Trend chart")
        self._series: TrendSeries | None = None
        self._xs: list[float] = []
        self._ys: list[float] = []
        self._styles: list[MarkerStyle] = []  # the distinct marker styles of the series
        self._style_of: list[int] = []  # per point, its index in _styles
        self._ranges: list[tuple[float | None, float | None]] = []
        self._runs: list[Run] = []
        self._legend_items: list[tuple[str, str]] = []
        self._full: tuple[float, float] = (0.0, 1.0)
        self._view: tuple[float, float] = (0.0, 1.0)
        self._focus = -1
        self._sprites = MarkerSprites(self)
        self._screen: list[tuple[float, float, int]] = []  # (x, y, index) of the markers last painted
        self._layer: QPixmap | None = None
        self._layer_key: tuple[int, int, float, tuple[float, float]] | None = None
        self._geometry: tuple[QRectF, float, float] | None = None

    # ----- content ----------------------------------------------------------------------------------
    @property
    def series(self) -> TrendSeries | None:
        return self._series

    def set_series(self, series: TrendSeries | None) -> None:
        """Show a series (None: an empty chart); the focus starts on the latest result."""
        self._series = series
        points = series.points if series else ()
        self._xs = [p.at.timestamp() for p in points]
        self._ys = [p.number for p in points]
        self._styles, self._style_of = [], []
        index_of: dict[tuple[object, ...], int] = {}
        for p in points:
            key = (p.sources, p.status, p.observation.comparator)
            index = index_of.get(key)
            if index is None:
                index = index_of[key] = len(self._styles)
                self._styles.append(marker_style(p))
            self._style_of.append(index)
        self._ranges = [(p.range_low, p.range_high) for p in points]
        self._runs = _band_runs(self._ranges)
        self._legend_items = self._legend()
        if points:
            ends = [p.until.timestamp() for p in points if p.until is not None]
            start, end = self._xs[0], max(self._xs[-1], *ends) if ends else self._xs[-1]
            pad = max((end - start) * 0.03, 15 * 86400.0)
            self._full = (start - pad, end + pad)
        else:
            self._full = (0.0, 1.0)
        self._view = self._full
        self._focus = len(points) - 1
        self._layer = None
        if series is None:
            self.setAccessibleName("Trend chart")
            self.setAccessibleDescription("No results to chart.")
        else:
            self.setAccessibleName(f"Trend chart of {series.name}")
            self.setAccessibleDescription(series.summary())
        self.update()
        self.focused_changed.emit(self._focus)

    @property
    def focused_index(self) -> int:
        return self._focus

    @property
    def visible_span(self) -> tuple[float, float]:
        """The time window shown, as POSIX seconds."""
        return self._view

    def point_text(self, index: int) -> str:
        if self._series is None or not 0 <= index < len(self._series.points):
            return ""
        return self._series.points[index].describe()

    def set_focused(self, index: int) -> None:
        """Move the keyboard focus to a point, bring it into view and show its tooltip."""
        if not self._xs:
            return
        index = max(0, min(index, len(self._xs) - 1))
        x = self._xs[index]
        start, end = self._view
        if not start <= x <= end:
            half = (end - start) / 2
            self._set_view(x - half, x + half)
        if index != self._focus:
            self._focus = index
            self.focused_changed.emit(index)
        self.update()
        if self.hasFocus() and self.isVisible():
            where = self.mapToGlobal(self._to_screen(index).toPoint())
            QToolTip.showText(where, self.point_text(index), self)

    def visible_range(self) -> tuple[int, int]:
        """Indices [first, last) of the points inside the time window."""
        start, end = self._view
        return bisect_left(self._xs, start), bisect_right(self._xs, end)

    def zoom(self, factor: float, around: float | None = None) -> None:
        """Narrow (factor < 1) or widen the time window around a time (the focused point by default)."""
        start, end = self._view
        if around is None:
            around = self._xs[self._focus] if 0 <= self._focus < len(self._xs) else (start + end) / 2
        span = max((end - start) * factor, MIN_SPAN)
        left = (around - start) / (end - start) if end > start else 0.5
        self._set_view(around - span * left, around + span * (1 - left))
        self.update()

    def reset_zoom(self) -> None:
        self._view = self._full
        self.update()

    def _set_view(self, start: float, end: float) -> None:
        full_start, full_end = self._full
        span = min(end - start, full_end - full_start)
        start = max(full_start, min(start, full_end - span))
        self._view = (start, start + span)

    # ----- geometry ---------------------------------------------------------------------------------
    def sizeHint(self) -> QSize:
        return QSize(900, 320)

    def _layout(self) -> tuple[QRectF, list[tuple[float, str]], float, float, list[tuple[float, str]]]:
        """The plot rectangle, value ticks (value, label), the value range, and the date ticks."""
        fm = QFontMetrics(self.font())
        line = fm.height()
        lo, hi = self.visible_range()
        values = self._ys[lo:hi] or self._ys[-1:] or [0.0]
        ranges = set(self._ranges[lo:hi] or self._ranges[-1:])  # the band stays in view
        bounds = [b for pair in ranges for b in pair if b is not None]
        low, high = min(min(values), *bounds, float("inf")), max(max(values), *bounds, -float("inf"))
        pad = (high - low) * 0.06
        low, high = low - pad, high + pad
        top = self._legend_height(fm) + 4 + line / 2 + 4
        bottom = line + 12
        rows = max(int((self.height() - top - bottom) / (line * 1.8)), 2)
        first, last, step = nice_range(low, high, rows)
        ticks = [(v, value_label(v, step)) for v in value_ticks(first, last, step)]
        left = max(fm.horizontalAdvance(text) for _, text in ticks) + 14
        plot = QRectF(left, top, max(self.width() - left - 20, 10), max(self.height() - top - bottom, 10))
        label_width = fm.horizontalAdvance("00-Mmm-0000") + 24
        start, end = self._view
        when = date_ticks(_utc(start), _utc(end), max(int(plot.width() / label_width), 1))
        dates = [(t.timestamp(), format_date(t)) for t in when]
        return plot, ticks, first, last, dates

    def _legend(self) -> list[tuple[str, str]]:
        """(kind, text) of what this series shows, in the legend's order; kinds absent are left out."""
        if self._series is None:
            return []
        points = self._series.points
        items: list[tuple[str, str]] = []
        sources = list(dict.fromkeys(p.sources for p in points))
        order = list(SourceKind)
        for sources_of in sorted(sources, key=lambda group: (len(group), [order.index(s) for s in group])):
            items.append(("source:" + ",".join(s.value for s in sources_of),
                          " + ".join(s.label for s in sources_of)))
        if any(p.range_low is not None or p.range_high is not None for p in points):
            items.append(("band", "reference range"))
        shapes = {s.shape for s in self._styles}
        for shape in (Shape.UP, Shape.DOWN):
            if shape in shapes:
                items.append((shape.name, shape.value.replace("the reference range", "range")))
        comparators = {s.comparator for s in self._styles} - {None}
        for comparator in sorted(comparators):
            items.append((comparator, "less-than value" if comparator == "<" else "greater-than value"))
        if any(p.partial for p in points):
            items.append(("partial", "date known to the month or year only"))
        return items

    def _title(self) -> str:
        return f"Value ({self._series.unit_label})" if self._series is not None else ""

    def _legend_rows(self, fm: QFontMetrics) -> list[list[tuple[str, str, float]]]:
        """The value axis' title, then the legend, flowed into rows that fit the width: (kind, text, x)."""
        rows: list[list[tuple[str, str, float]]] = [[("title", self._title(), 0.0)]]
        x = fm.horizontalAdvance(self._title()) + 24.0
        for kind, text in self._legend_items:
            width = 26 + fm.horizontalAdvance(text) + 16
            if rows[-1] and x + width > self.width() - 20:
                rows.append([])
                x = 0.0
            rows[-1].append((kind, text, x))
            x += width
        return rows

    def _legend_height(self, fm: QFontMetrics) -> float:
        return len(self._legend_rows(fm)) * (fm.height() + 4)

    def _to_screen(self, index: int) -> QPointF:
        plot, _ticks, first, last, _dates = self._layout()
        return self._map(plot, first, last, self._xs[index], self._ys[index])

    def _map(self, plot: QRectF, first: float, last: float, x: float, y: float) -> QPointF:
        start, end = self._view
        px = plot.left() + (x - start) / (end - start) * plot.width()
        py = plot.bottom() - (y - first) / (last - first) * plot.height()
        return QPointF(px, py)

    # ----- painting ---------------------------------------------------------------------------------
    def paintEvent(self, event: QPaintEvent) -> None:
        """The series is painted once into a cached layer; moving the focused point only repaints the
        focus marks over it, so holding an arrow key never repaints 3,000 markers per step."""
        key = (self.width(), self.height(), self.devicePixelRatioF(), self._view)
        if self._layer is None or self._layer_key != key:
            ratio = self.devicePixelRatioF()
            layer = QPixmap(int(self.width() * ratio), int(self.height() * ratio))
            layer.setDevicePixelRatio(ratio)
            layer_painter = QPainter(layer)
            try:
                self._geometry = self._paint_layer(layer_painter)
            finally:
                layer_painter.end()
            self._layer, self._layer_key = layer, key
        painter = QPainter(self)
        try:
            painter.drawPixmap(0, 0, self._layer)
            if self._geometry is not None:
                self._paint_focus(painter, *self._geometry)
        finally:
            painter.end()

    def _invalidate(self) -> None:
        self._layer = None
        self.update()

    def changeEvent(self, event: QEvent) -> None:
        if event.type() in (QEvent.Type.PaletteChange, QEvent.Type.FontChange, QEvent.Type.StyleChange):
            self._sprites.clear()
            self._invalidate()
        super().changeEvent(event)

    def _paint_layer(self, painter: QPainter) -> tuple[QRectF, float, float] | None:
        """Everything but the focus marks; returns the plot rectangle and value range it used."""
        palette = self.palette()
        text_colour = palette.windowText().color()
        fm = QFontMetrics(self.font())
        painter.fillRect(self.rect(), palette.base())
        if not self._xs:
            painter.setPen(text_colour)
            painter.drawText(self.rect(), Qt.AlignmentFlag.AlignCenter, "No numeric values to chart")
            self._screen = []
            return None
        plot, ticks, first, last, dates = self._layout()
        painter.setPen(text_colour)
        self._paint_legend(painter, fm, 4)
        lo, hi = self.visible_range()
        self._paint_axes(painter, fm, plot, ticks, first, last, dates)  # the grid first: the band's edges
        painter.save()                                                  # must not be hidden under it
        painter.setClipRect(plot)
        self._paint_bands(painter, plot, first, last, lo, hi)
        painter.restore()
        painter.save()
        painter.setClipRect(plot.adjusted(-MARKER * 3, -MARKER * 3, MARKER * 3, MARKER * 3))
        self._paint_points(painter, plot, first, last, lo, hi)
        painter.restore()
        return plot, first, last

    def _paint_focus(self, painter: QPainter, plot: QRectF, first: float, last: float) -> None:
        """The focused point (a ring, a guide line, its marker on top) and, with keyboard focus, a frame."""
        highlight = self.palette().highlight().color()
        painter.setRenderHint(QPainter.RenderHint.Antialiasing, True)
        lo, hi = self.visible_range()
        if lo <= self._focus < hi:
            centre = self._map(plot, first, last, self._xs[self._focus], self._ys[self._focus])
            painter.setPen(QPen(highlight, 1, Qt.PenStyle.DashLine))
            painter.drawLine(QPointF(centre.x(), plot.top()), QPointF(centre.x(), plot.bottom()))
            painter.setPen(QPen(highlight, 2.5))
            painter.setBrush(Qt.BrushStyle.NoBrush)
            painter.drawEllipse(centre, MARKER + 5, MARKER + 5)
            sprite, half = self._sprites.get(self._styles[self._style_of[self._focus]], focused=True)
            painter.drawPixmap(int(centre.x()) - half, int(centre.y()) - half, sprite)
        if self.hasFocus():
            painter.setPen(QPen(highlight, 1, Qt.PenStyle.DotLine))
            painter.setBrush(Qt.BrushStyle.NoBrush)
            painter.drawRect(plot.adjusted(-3, -3, 3, 3))

    def _paint_legend(self, painter: QPainter, fm: QFontMetrics, top: float) -> None:
        for row, items in enumerate(self._legend_rows(fm)):
            y = top + row * (fm.height() + 4)
            for kind, text, x in items:
                painter.setPen(self.palette().windowText().color())
                if kind == "title":
                    painter.drawText(QPointF(8, y + fm.ascent()), text)
                    continue
                centre = QPointF(8 + x + 9, y + fm.height() / 2)
                paint_key(painter, kind, centre, self._sprites)
                painter.setPen(self.palette().windowText().color())
                painter.drawText(QPointF(8 + x + 24, y + fm.ascent()), text)

    def _paint_bands(self, painter: QPainter, plot: QRectF, first: float, last: float, lo: int,
                     hi: int) -> None:
        """The reference range, shaded per run of points that share it: from halfway to the previous
        point to halfway to the next, so a range that changed is drawn where it applied."""
        assert self._series is not None
        points = self._series.points
        lo, hi = max(lo - 1, 0), min(hi + 1, len(points))
        for start, end, low, high in self._runs:
            if (low is None and high is None) or end < lo - 1 or start > hi:
                continue
            x0 = plot.left() - MARKER * 3 if start == 0 else self._map(
                plot, first, last, (self._xs[start - 1] + self._xs[start]) / 2, 0).x()
            x1 = plot.right() + MARKER * 3 if end == len(points) - 1 else self._map(
                plot, first, last, (self._xs[end] + self._xs[end + 1]) / 2, 0).x()
            y_top = plot.top() if high is None else self._map(plot, first, last, 0, high).y()
            y_bottom = plot.bottom() if low is None else self._map(plot, first, last, 0, low).y()
            painter.fillRect(QRectF(QPointF(x0, y_top), QPointF(x1, y_bottom)), QColor(BAND_COLOUR))
            painter.setPen(QPen(QColor(BAND_EDGE), 1, Qt.PenStyle.DashLine))
            for bound, y in ((high, y_top), (low, y_bottom)):
                if bound is not None:
                    painter.drawLine(QPointF(x0, y), QPointF(x1, y))

    def _paint_axes(self, painter: QPainter, fm: QFontMetrics, plot: QRectF, ticks: list[tuple[float, str]],
                    first: float, last: float, dates: list[tuple[float, str]]) -> None:
        palette = self.palette()
        grid = mix(palette.mid().color(), palette.base().color(), 0.45)
        text_colour = palette.windowText().color()
        for value, text in ticks:
            y = self._map(plot, first, last, 0, value).y()
            painter.setPen(QPen(grid, 1))
            painter.drawLine(QPointF(plot.left(), y), QPointF(plot.right(), y))
            painter.setPen(text_colour)
            painter.drawText(QRectF(0, y - fm.height() / 2, plot.left() - 8, fm.height()),
                             Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter, text)
        for when, text in dates:
            x = self._map(plot, first, last, when, 0).x()
            painter.setPen(QPen(grid, 1))
            painter.drawLine(QPointF(x, plot.top()), QPointF(x, plot.bottom() + 4))
            painter.setPen(text_colour)
            width = fm.horizontalAdvance(text)
            left = min(max(x - width / 2, plot.left() - 8), self.width() - width - 2)
            painter.drawText(QPointF(left, plot.bottom() + 6 + fm.ascent()), text)
        painter.setPen(QPen(text_colour, 1))
        painter.drawLine(plot.bottomLeft(), plot.bottomRight())
        painter.drawLine(plot.bottomLeft(), plot.topLeft())

    def _paint_points(self, painter: QPainter, plot: QRectF, first: float, last: float, lo: int,
                      hi: int) -> None:
        assert self._series is not None
        points = self._series.points
        start, end = self._view
        sx = plot.width() / (end - start)
        sy = plot.height() / (last - first)
        left, bottom = plot.left(), plot.bottom()
        xs = [left + (x - start) * sx for x in self._xs[lo:hi]]
        ys = [bottom - (y - first) * sy for y in self._ys[lo:hi]]
        small = hi - lo > plot.width() / 6  # crowded: smaller markers, no line; the range stays readable
        painter.setRenderHint(QPainter.RenderHint.Antialiasing, True)
        if not small:
            palette = self.palette()
            painter.setPen(QPen(mix(palette.windowText().color(), palette.base().color(), 0.4), 1))
            # joined to the neighbours just outside the window too, so the line runs off the edges
            painter.drawPolyline(QPolygonF([
                QPointF(left + (self._xs[i] - start) * sx, bottom - (self._ys[i] - first) * sy)
                for i in range(max(lo - 1, 0), min(hi + 1, len(points)))]))
        painter.setPen(QPen(self.palette().windowText().color(), 1.5))
        for offset, point in enumerate(points[lo:hi]):
            if point.until is not None:
                x1 = left + (point.until.timestamp() - start) * sx
                y = ys[offset]
                if x1 - xs[offset] >= 3:
                    painter.drawLine(QPointF(xs[offset], y), QPointF(x1, y))
                    painter.drawLine(QPointF(x1, y - 4), QPointF(x1, y + 4))
        # one marker per 2 x 2 px cell and style (markers are wider than that): a crowded series paints what
        # shows, not every point under another; the key is one int, the cheapest thing to hash
        drawn: set[int] = set()
        screen: list[tuple[float, float, int]] = []
        sprites = [self._sprites.get(style, focused=False, small=small) for style in self._styles]
        draw = painter.drawPixmap
        for index, x, y, style in zip(range(lo, hi), xs, ys, self._style_of[lo:hi], strict=True):
            ix, iy = int(x), int(y)
            spot = ((ix >> 1) << 32) | ((iy >> 1) << 12) | style
            if spot in drawn:
                continue
            drawn.add(spot)
            screen.append((x, y, index))
            sprite, half = sprites[style]
            draw(ix - half, iy - half, sprite)
        self._screen = screen

    # ----- interaction ------------------------------------------------------------------------------
    def point_at(self, pos: QPointF | QPoint) -> int:
        """The index of the painted point nearest `pos` within HIT px; -1 if none."""
        x, y = pos.x(), pos.y()
        best, best_distance = -1, HIT * HIT
        for px, py, index in self._screen:
            distance = (px - x) ** 2 + (py - y) ** 2
            if distance <= best_distance:
                best, best_distance = index, distance
        return best

    def event(self, event: QEvent) -> bool:
        if event.type() == QEvent.Type.ToolTip and isinstance(event, QHelpEvent):
            index = self.point_at(event.pos())
            if index >= 0:
                QToolTip.showText(event.globalPos(), self.point_text(index), self)
            else:
                QToolTip.hideText()
                event.ignore()
            return True
        return super().event(event)

    def mousePressEvent(self, event: QMouseEvent) -> None:
        index = self.point_at(event.position())
        if index >= 0:
            self.set_focused(index)
        super().mousePressEvent(event)

    def wheelEvent(self, event: QWheelEvent) -> None:
        if not self._xs or event.angleDelta().y() == 0:
            return super().wheelEvent(event)
        plot = self._layout()[0]
        start, end = self._view
        around = start + (event.position().x() - plot.left()) / plot.width() * (end - start)
        self.zoom(0.8 if event.angleDelta().y() > 0 else 1.25, around)
        event.accept()
        return None

    def keyPressEvent(self, event: QKeyEvent) -> None:
        key = event.key()
        moves = {Qt.Key.Key_Left: self._focus - 1, Qt.Key.Key_Right: self._focus + 1,
                 Qt.Key.Key_Home: 0, Qt.Key.Key_End: len(self._xs) - 1}
        if key in moves and self._xs:
            self.set_focused(moves[key])
        elif key in (Qt.Key.Key_Plus, Qt.Key.Key_Equal):
            self.zoom(0.5)
        elif key == Qt.Key.Key_Minus:
            self.zoom(2.0)
        elif key == Qt.Key.Key_0:
            self.reset_zoom()
        else:
            super().keyPressEvent(event)

    def focusInEvent(self, event: QFocusEvent) -> None:
        super().focusInEvent(event)
        self.update()

    def focusOutEvent(self, event: QFocusEvent) -> None:
        super().focusOutEvent(event)
        self.update()


def _utc(seconds: float) -> datetime:
    return datetime.fromtimestamp(seconds, UTC)
