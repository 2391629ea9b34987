"""A lot recalled after a mixture was made from it: the patient's history and the label printed
again say so in words ("RECALLED lot … — recalled on …"), at 80×24, printed and saved too."""

from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa
from rich.text import Text
from textual.widgets import DataTable, Static

from mesomix.db.tables import BatchRow, LotRow, MovementRow
from mesomix.domain.mixture import DraftIngredient, DraftMixture
from mesomix.services.labels import RECALLED
from mesomix.services.uow import unit_of_work
from mesomix.tui.app import make_app
from mesomix.tui.screens.label import LabelScreen
from tests.services.test_labels import fake_printer
from tests.tui.pilot import settle
from tests.tui.test_journeys import choose_row, open_patient

SIZE = (80, 24)
DRCHEN = ("drchen", "demo-practitioner-2026")


def dispensed_with_its_lot(services) -> tuple[int, LotRow]:
    draft = DraftMixture(
        ingredients=(DraftIngredient("tranexamic acid", "50 mg"),),
        final_volume="",
        patient="P-0003",
    )
    batch_id = services.mixtures.dispense(draft, "sam", acknowledge_all=True).batch_id
    with unit_of_work(services.engine) as session:
        lot = session.scalars(
            sa.select(LotRow)
            .join(MovementRow, MovementRow.lot_id == LotRow.id)
            .where(MovementRow.batch_id == batch_id, MovementRow.kind == "dispense")
        ).first()
    return batch_id, lot


async def test_a_recalled_lot_is_flagged_in_the_history_and_on_the_label_printed_again(
    demo, tmp_path, monkeypatch, clock
):
    batch_id, lot = dispensed_with_its_lot(demo)
    clock.advance(timedelta(days=3))
    demo.inventory.set_status("nadia", lot.id, "recalled", "supplier recall R-12: particles")
    recalled_on = clock.today().isoformat()
    flag = f"{RECALLED} lot {lot.lot_number} — recalled on {recalled_on}"
    printer = fake_printer(tmp_path / "bin", "lp")
    monkeypatch.setenv("PATH", f"{printer}:/usr/bin:/bin")
    demo.labels.folder = tmp_path / "labels"
    app = make_app(demo, demo.accounts.sign_in(*DRCHEN))
    async with app.run_test(size=SIZE) as pilot:
        await open_patient(pilot, "P-0003")
        history = app.screen.query_one("#history-list", DataTable)
        mixture = history.get_row(str(batch_id))[1]
        assert isinstance(mixture, Text)
        assert any(
            line.startswith(flag) and "supplier recall R-12" in line
            for line in mixture.plain.splitlines()
        )
        await choose_row(pilot, "#history-list", str(batch_id))
        await pilot.press("l")
        await settle(pilot)
        assert isinstance(app.screen, LabelScreen)
        label = str(app.screen.query_one("#label-text", Static).render())
        assert label.splitlines()[0] == flag  # before anything else on the label
        await pilot.press("P")
        await settle(pilot)
        await pilot.press("S")
        await settle(pilot)
    assert (printer / "lp.text").read_text(encoding="utf-8").splitlines()[1] == flag
    saved = tmp_path / "labels" / f"batch-{batch_id:06d}-label.txt"
    assert flag in saved.read_text(encoding="utf-8")
    # the label kept with the batch is the one printed then; the flag is read from the lot now
    with unit_of_work(demo.engine) as session:
        assert RECALLED not in session.get(BatchRow, batch_id).label
        batches = set(session.scalars(sa.select(BatchRow.id)).all())
        drew = set(
            session.scalars(
                sa.select(MovementRow.batch_id).where(
                    MovementRow.lot_id == lot.id, MovementRow.batch_id.is_not(None)
                )
            )
        )
    flagged = {b for b in batches if RECALLED in demo.labels.label("drchen", b).text}
    assert flagged == drew and batches - drew  # only the batches that drew from it
