"""The runtime handed to services: settings, derived keys, the one clock, mail templates, the modules' state."""

from __future__ import annotations

import datetime
from collections.abc import Sequence
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

import jinja2

from hub.callers import Callers
from hub.documents import DocumentConverter, converter_for
from hub.modules import HookHandler, Module
from hub.security import Secrets
from hub.settings import PROJECT_ROOT, Settings

PARIS = ZoneInfo("Europe/Paris")
T = TypeVar("T")


class Runtime:
    """What services need at run time: the settings, the derived keys, the clock, the mail templates,
    and what each module keeps for the life of the process (found by its type: `rt.state(Geocoder)`)."""

    def __init__(self, settings: Settings, modules: Sequence[Module] = ()) -> None:
        self.settings = settings
        self.modules = tuple(modules)
        self.secrets = Secrets(
            settings.secret_key,
            settings.argon2_time_cost,
            settings.argon2_memory_cost,
            hash_threads=settings.password_hash_threads,
        )
        self.mail_templates = jinja2.Environment(
            loader=jinja2.FileSystemLoader(PROJECT_ROOT / "templates" / "emails"),
            autoescape=jinja2.select_autoescape(enabled_extensions=("html",), default_for_string=False),
            undefined=jinja2.StrictUndefined,
            keep_trailing_newline=True,
        )
        self._offset = datetime.timedelta(0)
        self.callers = Callers()  # started with the database by the app's lifespan
        self.documents: DocumentConverter = converter_for(settings)  # LibreOffice starts on first use
        self._subscribers: dict[type, list[HookHandler]] = {}
        self._state: dict[type, Any] = {}
        for module in self.modules:
            for event, handler in module.hooks.items():
                self._subscribers.setdefault(event, []).append(handler)
            if module.state is not None:
                value = module.state(self)
                self._state[type(value)] = value

    # ---------------------------------------------------------------- the one clock
    def now(self) -> datetime.datetime:
        """Every "now" of the app (UTC); tests move it with advance_clock()."""
        return datetime.datetime.now(datetime.UTC) + self._offset

    def today(self) -> datetime.date:
        """Today in Europe/Paris: the day people live in."""
        return self.now().astimezone(PARIS).date()

    def advance_clock(self, delta: datetime.timedelta) -> None:
        """Move this runtime's clock (tests of expiry and idle timeouts; never used by the app)."""
        self._offset += delta

    # ---------------------------------------------------------------- modules
    def state(self, kind: type[T]) -> T:
        """The runtime state a module declared, by its type."""
        try:
            return self._state[kind]  # type: ignore[no-any-return]
        except KeyError:
            raise LookupError(f"no module keeps a {kind.__name__} in this runtime") from None

    def subscribers(self, event: type) -> list[HookHandler]:
        return self._subscribers.get(event, [])
