"""Piccolo's configuration module (PICCOLO_CONF=hub.piccolo_conf).

DB stays None until hub.db.bind_engine() sets it from a Settings object, so nothing is configured
at import time; `maillage db` wraps the migration commands that need it.
"""

from piccolo.conf.apps import AppRegistry
from piccolo.engine.base import Engine

DB: Engine | None = None

APP_REGISTRY = AppRegistry(apps=["network.piccolo_app", "hub.piccolo_app", "referrals.piccolo_app"])
