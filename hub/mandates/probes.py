"""Mandates' authorization probes (see hub.probes): the pages answer 404 outside the mandate's structure."""

from __future__ import annotations

from hub.probes import Probe, public

PROBES: list[Probe] = [
    # the QR code's page is public; an unknown code is a 404 for everyone
    Probe("GET", "/verifier/{code:str}", "/verifier/inconnu-0000000000", public("404")),
]
