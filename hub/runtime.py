"""The runtime handed to services: settings, derived keys, clock, mail templates, geocoder."""

from __future__ import annotations

import datetime

import jinja2

from hub.callers import Callers
from hub.security import Secrets
from hub.settings import PROJECT_ROOT, Settings
from network.geocoding import Geocoder


class Runtime:
    """What services need at run time: the settings, the derived keys, the clock, the mail templates,
    the geocoder of typed addresses."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
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
        self.geocoder = Geocoder(settings.geocoder_url, settings.geocoder_timeout_seconds)
        self._offset = datetime.timedelta(0)
        self.callers = Callers()  # started with the database by the app's lifespan

    def now(self) -> datetime.datetime:
        return datetime.datetime.now(datetime.UTC) + self._offset

    def advance_clock(self, delta: datetime.timedelta) -> None:
        """Move this runtime's clock (tests of expiry and idle timeouts; never used by the app)."""
        self._offset += delta
