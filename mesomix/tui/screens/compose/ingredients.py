"""The ingredient rows, and the names offered for the one typed in (to pick with the arrows and
Ctrl+Space; the cursor stays in the field typed in)."""

from __future__ import annotations

from rich.text import Text
from textual.actions import SkipAction
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.suggester import SuggestFromList
from textual.widgets import Input, OptionList, Static
from textual.widgets.option_list import Option

from mesomix.domain.mixture import DraftIngredient
from mesomix.domain.search import Hit
from mesomix.tui.screens.compose.plan_view import pick_text
from mesomix.tui.widgets.field import Field


class NameOffers:
    """The names a typed ingredient may mean: a line under the ingredients saying so and a list
    beside them (never focused). Owned by the screen, which places the two widgets."""

    def __init__(self) -> None:
        self.hint = Static("", id="ingredient-hint")
        self.picks = OptionList(id="picks", compact=True)
        self.picks.can_focus = False
        self._names: list[tuple[Input, str]] = []  # (field, name) offered for it

    def offer(self, field: Input, typed: str, hits: list[Hit]) -> None:
        """Names found for what a field held; none once it holds something else."""
        if not hits or field.value != typed:
            if self._names:
                self.clear()
            return
        names = [(field, hit.name) for hit in hits]
        if names == self._names:
            return
        self._names = names
        self.hint.update(Text("did you mean (↑ ↓ choose, Ctrl+Space takes it):"))
        self.picks.clear_options()
        # Whole names, wrapped: two presentations of a product differ at the end of theirs.
        self.picks.add_options(Option(pick_text(hit.name, y == 0)) for y, hit in enumerate(hits))
        self.picks.highlighted = 0
        self.picks.add_class("shown")

    def move(self, field: Input, step: int) -> bool:
        """The arrows in a field offered names move the highlight among them; False when that
        field has none offered (the arrow then does what it did)."""
        if not self._names or self._names[0][0] is not field:
            return False
        at = self.picks.highlighted or 0
        to = max(0, min(len(self._names) - 1, at + step))
        if to != at:  # marked in words too, not by its colour alone
            self.picks.replace_option_prompt_at_index(at, pick_text(self._names[at][1], False))
            self.picks.replace_option_prompt_at_index(to, pick_text(self._names[to][1], True))
            self.picks.highlighted = to
        return True

    def take(self) -> None:
        """The person's own choice of a name offered: the highlighted one goes into the field."""
        if self._names:
            at = self.picks.highlighted or 0
            _, name = self._names[min(at, len(self._names) - 1)]
            field = self._names[0][0]
            field.value = name
            field.focus()
            field.cursor_position = len(name)
            self.clear()

    def clear(self) -> None:
        self._names = []
        self.hint.update("")
        self.picks.clear_options()
        self.picks.remove_class("shown")


class IngredientRow(Vertical):
    """One ingredient: what (substance or product) and how much, as typed — on two lines, so
    the name has the column's whole width. While names are offered for what it holds, the
    arrows move among them (otherwise they scroll the column, as before)."""

    BINDINGS = [
        Binding("up", "pick(-1)", "Previous name", show=False),
        Binding("down", "pick(1)", "Next name", show=False),
    ]

    def __init__(self, suggester: SuggestFromList | None, offers: NameOffers) -> None:
        super().__init__(classes="ingredient-row")
        self._suggester = suggester
        self._offers = offers
        self._chosen: tuple[str, str] | None = None  # (name shown, product code) from a formula
        self._what = Field(
            placeholder="ingredient", classes="what", suggester=suggester, compact=True
        )
        self._amount = Field(placeholder="e.g. 40 mg", classes="amount", compact=True)

    def suggest(self, suggester: SuggestFromList | None) -> None:
        """The catalogue's names, once read, complete what is typed (Right takes them)."""
        self._suggester = suggester
        self._what.suggester = suggester

    def choose(self, item: DraftIngredient | None) -> None:
        """Show an ingredient; a product a formula names stays chosen while its name is unedited."""
        self._what.value, self._amount.value = (item.what, item.amount) if item else ("", "")
        self._chosen = (item.what, item.product) if item and item.product else None

    def compose(self) -> ComposeResult:
        yield self._what
        yield self._amount

    def action_pick(self, step: int) -> None:
        if not self._offers.move(self._what, step):
            raise SkipAction()

    @property
    def typed(self) -> bool:
        return bool(self._what.value.strip() or self._amount.value.strip())

    def ingredient(self) -> DraftIngredient:
        """What the row holds, read from its fields (kept, not queried: read on every key)."""
        what = self._what.value
        product = self._chosen[1] if self._chosen and self._chosen[0] == what else None
        return DraftIngredient(what, self._amount.value, product)
