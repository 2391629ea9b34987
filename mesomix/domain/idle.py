"""The idle lock: a signed-in session locks after a while without activity and asks for the
password again. Pure, so tests drive it with an injected clock."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

DEFAULT_IDLE = timedelta(minutes=5)


@dataclass
class IdleLock:
    timeout: timedelta
    last_activity: datetime

    def touch(self, now: datetime) -> None:
        self.last_activity = max(self.last_activity, now)

    def locked(self, now: datetime) -> bool:
        return now - self.last_activity >= self.timeout
