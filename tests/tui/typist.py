"""The real application, started as `mesomix --db FILE` starts it, with a control line for the
burst test (tests/tui/test_typed_bursts.py): the test types into the terminal and asks here,
on a pipe of its own, what each field of the screen now holds.

Run as `python -m tests.tui.typist --db FILE CONTROL ANSWER`, CONTROL and ANSWER being file
descriptors passed by the test. One JSON request a line; one JSON answer a line:
  {"op": "dump"}                        the screen, the focus, the user, every text field
  {"op": "focus", "field": NAME}        put the cursor in a field (as a click would)
  {"op": "choose", "id": ID, "value": V}  choose a value in a Select
Nothing here types: keys come through the terminal only.
"""

from __future__ import annotations

import json
import os
import sys
import threading
from typing import Any

from textual.app import App
from textual.widgets import Input, Select

from mesomix.bootstrap import build_services as _program
from mesomix.options import app_arguments, settings_from
from mesomix.tui.app import starting_app


def field_name(field: Input, unnamed: list[Input]) -> str:
    """A field by its id, or (the ingredient rows' fields have none) by its place among the
    fields without one and its first class: '0.what', '1.amount', '2.what'…"""
    if field.id:
        return field.id
    ours = sorted(name for name in field.classes if not name.startswith("-"))  # not Textual's
    return f"{unnamed.index(field)}.{ours[0] if ours else 'input'}"


def fields(app: App[Any]) -> dict[str, Input]:
    found = list(app.screen.query(Input))
    unnamed = [field for field in found if not field.id]
    return {field_name(field, unnamed): field for field in found}


def dump(app: App[Any]) -> dict[str, Any]:
    shown = fields(app)
    focused = app.focused
    named = next((name for name, field in shown.items() if field is focused), None)
    user = getattr(app, "user", None)
    return {
        "screen": type(app.screen).__name__,
        "focused": named or (type(focused).__name__ if focused is not None else None),
        "user": user.name if user is not None else None,
        "fields": {
            name: {
                "value": field.value,
                "selection": list(field.selection),
                "password": field.password,
            }
            for name, field in shown.items()
        },
    }


def answer(app: App[Any], request: dict[str, Any]) -> Any:
    op = request["op"]
    if op == "dump":
        return dump(app)
    if op == "focus":
        fields(app)[request["field"]].focus()
        return True
    if op == "choose":
        app.screen.query_one(f"#{request['id']}", Select).value = request["value"]
        return True
    raise ValueError(f"unknown request {op!r}")


def serve(app: App[Any], control: int, reply: int) -> None:
    """Answer the test's requests from the app's own loop, one at a time."""
    with os.fdopen(control, "r", encoding="utf-8") as requests:
        for line in requests:
            request = json.loads(line)
            try:
                result = {"ok": app.call_from_thread(answer, app, request)}
            except Exception as exc:  # not running yet, or a field not there: the test retries
                result = {"error": f"{type(exc).__name__}: {exc}"}
            os.write(reply, (json.dumps(result) + "\n").encode())


def main(argv: list[str]) -> int:
    *options, control, reply = argv
    args = app_arguments(options)
    assert args is not None, options
    settings = settings_from(args)
    app = starting_app(settings, lambda: _program(settings, demo=False))
    threading.Thread(target=serve, args=(app, int(control), int(reply)), daemon=True).start()
    app.run()
    return app.return_code or 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
