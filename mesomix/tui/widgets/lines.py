"""A scrolling list of entries drawn with Textual's line API, for what changes on every check.

Why: in Textual a widget that is mounted, removed, or changes height lays the whole screen out
again, and that layout is most of what a redraw costs (Compose's plan and findings change their
number of lines as a mixture is typed: a q.s. line comes and goes, a finding grows a line). Here
the box keeps its size: an entry is rendered to lines once (and kept while the box keeps its
width, so typing a value back and forth renders nothing), only the lines that differ from what
is shown are drawn again, and the screen is laid out again only when the scrollbar must come or
go, or the box is resized. Entries are wrapped, never cropped: every word of a long one can be
read.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable
from typing import Generic, TypeVar

from rich.console import RenderableType
from rich.segment import Segment
from rich.style import Style
from textual.cache import LRUCache
from textual.geometry import Size
from textual.scroll_view import ScrollView
from textual.strip import Strip
from textual.widget import Widget

Entry = TypeVar("Entry", bound=Hashable)  # what a line view shows, drawn by its subclass

KEPT = 256  # entries whose lines are kept (a plan's draws and findings, typed back and forth)


class LineView(ScrollView, Generic[Entry], can_focus=True):
    """Entries one under the other, each shown with a component class of the view ("" for
    none: its background, colour and weight come from the stylesheet). Subclasses say what an
    entry shows (`draw`)."""

    DEFAULT_CSS = """
    LineView {
        overflow-x: hidden;
        overflow-y: auto;
    }
    """

    def __init__(self, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self.entries: list[tuple[Entry, str]] = []  # what is shown: (entry, component class)
        self._lines: list[tuple[Entry, int, str]] = []  # (entry, its line, component) a line
        self._strips: LRUCache[Entry, list[Strip]] = LRUCache(KEPT)  # at self._width
        self._shown: dict[Entry, list[Strip]] = {}  # the lines of the entries shown
        self._styles: dict[str, Style] = {}  # each component's whole style, from the stylesheet
        self._width = 0
        self._laid_out: tuple[Size, Size] | None = None  # (outer size, virtual size), last layout

    def draw(self, entry: Entry) -> RenderableType:
        """What an entry shows (a subclass's)."""
        raise NotImplementedError

    def show(self, entries: Iterable[tuple[Entry, str]]) -> None:
        """Show these entries; a line already shown as it is is not drawn again."""
        entries = list(entries)
        if entries != self.entries:
            self.entries = entries
            self._redraw()

    @property
    def line_count(self) -> int:
        """How many lines the entries take at the box's width."""
        return len(self._lines)

    def text(self) -> list[str]:
        """The entries' words line by line, as drawn (what a person can scroll through)."""
        return [self._shown[entry][at].text.rstrip() for entry, at, _ in self._lines]

    def _redraw(self) -> None:
        width = self.scrollable_content_region.width
        if width <= 0:
            return  # not laid out yet: drawn when it is (on_resize)
        if width != self._width:  # every line is drawn again at the new width
            self._width, self._lines = width, []
            self._strips.clear()
        after: list[tuple[Entry, int, str]] = []
        shown: dict[Entry, list[Strip]] = {}
        for entry, component in self.entries:
            strips = self._strips.get(entry)
            if strips is None:
                strips = self._strips_of(entry, width)
                self._strips.set(entry, strips)
            shown[entry] = strips
            after.extend((entry, at, component) for at in range(len(strips)))
        self._shown = shown
        before, self._lines = self._lines, after
        self._resize_to(len(after))
        if len(before) == len(after):  # the lines below stay where they are
            for y, (old, new) in enumerate(zip(before, after, strict=True)):
                if old != new:
                    self.refresh_line(y)
        else:
            changed = next(
                (y for y, (old, new) in enumerate(zip(before, after, strict=False)) if old != new),
                min(len(before), len(after)),
            )
            self.refresh_lines(changed, max(len(before), len(after)) - changed)

    def _strips_of(self, entry: Entry, width: int) -> list[Strip]:
        console = self.app.console
        lines = console.render_lines(
            self.draw(entry), console.options.update_width(width), pad=True
        )
        return [Strip(Segment.simplify(line), width) for line in lines]

    def _resize_to(self, height: int) -> None:
        """The scrollable height; a layout only when the scrollbar comes or goes."""
        size = Size(self._width, height)
        if size == self.virtual_size:
            return
        if (height > self.scrollable_content_region.height) != self.show_vertical_scrollbar:
            self.virtual_size = size  # a layout: the width for the words changes
            return
        self.set_reactive(Widget.virtual_size, size)
        if self.show_vertical_scrollbar:
            self.vertical_scrollbar.window_virtual_size = height
            self.vertical_scrollbar.refresh()
        self.scroll_y = self.scroll_y  # kept within the new height
        self._laid_out = (self.outer_size, size)  # the scrollbar knows already

    def _size_updated(
        self, size: Size, virtual_size: Size, container_size: Size, layout: bool = True
    ) -> bool:
        """Nothing to do when neither size changed. (ScrollView's own test compares the parent's
        size with its own, which differ while the scrollbar shows: every layout of the screen,
        a keystroke's included, then redrew the scrollbar in a frame of its own.)"""
        if (size, self.virtual_size) == self._laid_out:
            return False
        self._laid_out = (size, self.virtual_size)
        changed = super()._size_updated(size, virtual_size, container_size, layout)
        if self._width and self.scrollable_content_region.width != self._width:
            # the scrollbar came or went (the box kept its size, so no resize event): the words
            # are wrapped again to the width left for them, never cut under the bar
            self.call_later(self._redraw)
        return changed

    def render_line(self, y: int) -> Strip:
        at = self.scroll_offset.y + y
        width = self.scrollable_content_region.width
        base = self._style("")
        if at >= len(self._lines):
            return Strip.blank(width, base)
        entry, line, component = self._lines[at]
        strip = self._shown[entry][line].crop_extend(0, width, None)
        return strip.apply_style(self._style(component))

    def _style(self, component: str) -> Style:
        style = self._styles.get(component)
        if style is None:
            style = self.rich_style
            if component:
                style += self.get_component_rich_style(component)
            self._styles[component] = style
        return style

    def on_resize(self) -> None:
        if self.scrollable_content_region.width != self._width:
            self._redraw()

    def notify_style_update(self) -> None:
        """A new theme or class: the lines are drawn again in its colours."""
        super().notify_style_update()
        self._styles.clear()
        self.refresh()
