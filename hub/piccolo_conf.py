"""Piccolo's configuration module (PICCOLO_CONF=hub.piccolo_conf), part of the composition root.

`DB` is whatever engine hub.db.bind_engine() bound from a Settings object, so nothing is configured at
import time; the apps are the core's and each module's, in that order (domains' migrations depend on the core's).
"""

from typing import Any

from piccolo.conf.apps import AppRegistry

from hub import db
from hub.composition import MODULES

APP_REGISTRY = AppRegistry(apps=["hub.piccolo_app", *[module.piccolo_app for module in MODULES if module.piccolo_app]])


def __getattr__(name: str) -> Any:
    if name == "DB":  # Piccolo's migration runner reads the engine here
        return db.current_engine()
    raise AttributeError(name)
