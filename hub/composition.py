"""The composition root's list of domains: the one place that names them (with hub.app, hub.cli and
hub.piccolo_conf, which read it). Adding a domain is one line here."""

from __future__ import annotations

from hub.mandates.module import MODULE as MANDATES
from hub.modules import Module
from network.activities.module import MODULE as ACTIVITIES
from network.meetings.module import MODULE as MEETINGS
from network.module import MODULE as DIRECTORY
from referrals.module import MODULE as REFERRALS

MODULES: tuple[Module, ...] = (DIRECTORY, REFERRALS, MANDATES, ACTIVITIES, MEETINGS)
