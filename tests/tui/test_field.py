"""A Field (every text field of mesomix) scrolls its text inside itself as it is typed in, and
does not lay the screen out for it: the layout Textual's Input asks for on every keystroke (its
virtual size changes with its text) cost Compose most of a keystroke's time."""

from __future__ import annotations

from textual.app import App, ComposeResult
from textual.screen import Screen
from textual.widgets import Input, Label

from mesomix.tui.widgets.field import Field
from tests.tui.pilot import screen_text

LONG = "ascorbic acid 500 mg/mL 2 mL"


class Fields(App[None]):
    CSS = """
    #fixed { width: 12; }
    #auto { width: auto; }
    """

    def compose(self) -> ComposeResult:
        yield Label("above")
        yield Field(id="fixed", compact=True)
        yield Field(id="auto", compact=True)
        yield Input(id="plain", compact=True)


def counting_layouts(app: App[None]) -> list[int]:
    laid_out = [0]
    screen: Screen[None] = app.screen
    refresh_layout = screen._refresh_layout

    def counted(*args, **kwargs):  # type: ignore[no-untyped-def]
        laid_out[0] += 1
        return refresh_layout(*args, **kwargs)

    screen._refresh_layout = counted  # type: ignore[method-assign]
    return laid_out


def shown_lines(app: App[None]) -> list[str]:
    return [line.rstrip() for line in screen_text(app).splitlines()]


async def type_into(pilot, field_id: str, text: str, laid_out: list[int]) -> None:  # type: ignore[no-untyped-def]
    """Focus the field (the focus restyles it), then type: the layouts counted are the typing's."""
    pilot.app.query_one(f"#{field_id}").focus()
    await pilot.pause()
    laid_out[0] = 0
    await pilot.press(*[{" ": "space", "/": "slash"}.get(c, c) for c in text])
    await pilot.pause()


async def test_a_long_value_scrolls_inside_its_field_without_laying_the_screen_out():
    app = Fields()
    async with app.run_test(size=(40, 8)) as pilot:
        laid_out = counting_layouts(app)
        await type_into(pilot, "fixed", LONG, laid_out)
        field = app.query_one("#fixed", Field)
        assert field.value == LONG
        assert laid_out[0] == 0
        assert " mg/mL 2 mL" in shown_lines(app)  # the end, where the cursor is
        await pilot.press("home")
        await pilot.pause()
        assert "ascorbic aci" in shown_lines(app)


async def test_a_field_sized_by_its_text_and_a_plain_input_are_laid_out_as_before():
    app = Fields()
    async with app.run_test(size=(40, 8)) as pilot:
        laid_out = counting_layouts(app)
        await type_into(pilot, "auto", "20 mg", laid_out)
        assert laid_out[0] > 0
        await type_into(pilot, "plain", "20 mg", laid_out)
        assert laid_out[0] > 0
