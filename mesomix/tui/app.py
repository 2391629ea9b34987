"""The Textual application: built by one factory from the services, so tests build it on a temp database."""

from __future__ import annotations

from textual.app import App
from textual.binding import Binding

from mesomix.bootstrap import Services
from mesomix.tui.screens.compose import ComposeScreen


class MesomixApp(App[None]):
    CSS_PATH = "app.tcss"
    TITLE = "mesomix"
    BINDINGS = [Binding("ctrl+q", "quit", "Quit", id="app.quit")]

    def __init__(self, services: Services) -> None:
        super().__init__()
        self.services = services

    def on_mount(self) -> None:
        self.push_screen(ComposeScreen(self.services))


def make_app(services: Services) -> MesomixApp:
    return MesomixApp(services)


def run_app(services: Services) -> None:
    make_app(services).run()
