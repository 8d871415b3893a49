"""Activity records as the hub composes them: their MODULE.

Kept light (no pages, no ORM at import) so `maillage --help` reads it quickly; the parts load on first use.
"""

from __future__ import annotations

from hub.modules import Module

MODULE = Module(
    name="activities",
    piccolo_app="network.activities.piccolo_app",
)
