"""The invitation's calendar file (RFC 5545, written with the icalendar library).

One stable UID per event, so a later version (SEQUENCE bumped when the date, times or place change) replaces
the first in the invitee's calendar. Times are local to Europe/Paris with the zone's VTIMEZONE included.
METHOD:PUBLISH: the answer goes through the hub's own link, not the mail client's yes/no buttons.
"""

from __future__ import annotations

import datetime as dt
from typing import Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

import icalendar

PARIS = ZoneInfo("Europe/Paris")
CONTENT_TYPE = "text/calendar; method=PUBLISH; charset=utf-8"
FILENAME = "invitation.ics"


def local_times(event: dict[str, Any]) -> tuple[dt.datetime, dt.datetime]:
    """The event's start and end as Europe/Paris datetimes."""
    day: dt.date = event["day"]
    start = dt.datetime.combine(day, dt.time.fromisoformat(event["start_time"]), PARIS)
    end = dt.datetime.combine(day, dt.time.fromisoformat(event["end_time"]), PARIS)
    return start, end


def event_uid(event_id: int, base_url: str) -> str:
    return f"maillage-evenement-{event_id}@{urlsplit(base_url).hostname or 'maillage.localhost'}"


def event_ics(event: dict[str, Any], base_url: str, stamp: dt.datetime, agenda: list[str]) -> bytes:
    """The .ics of one event: UID, DTSTART/DTEND in Europe/Paris, SUMMARY, LOCATION, the agenda as DESCRIPTION."""
    calendar = icalendar.Calendar()
    calendar.add("prodid", "-//Maillage//Reunions du reseau//FR")
    calendar.add("version", "2.0")
    calendar.add("method", "PUBLISH")
    item = icalendar.Event()
    start, end = local_times(event)
    item.add("uid", event_uid(int(event["id"]), base_url))
    item.add("dtstamp", stamp.astimezone(dt.UTC))
    item.add("dtstart", start)
    item.add("dtend", end)
    item.add("summary", event["title"])
    item.add("location", event["place"])
    item.add("sequence", int(event.get("sequence") or 0))
    item.add("status", "CANCELLED" if event.get("status") == "cancelled" else "CONFIRMED")
    lines = ["Ordre du jour :", *[f"- {line}" for line in agenda]] if agenda else []
    if lines:
        item.add("description", "\n".join(lines))
    calendar.add_component(item)
    calendar.add_missing_timezones()
    return bytes(calendar.to_ical())
