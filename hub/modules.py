"""How a domain plugs into the hub: one `Module` object per domain, listed once by the composition root.

A module declares everything the hub needs of it; the core names no domain. Each field is data or a
function, so `maillage --help` can read the modules without importing their pages: a module's `routes`
and `probes` are functions the app factory and the route-table test call.
Adding a domain = writing its package (with a `module.py` holding its MODULE) and one line in
`hub.composition.MODULES`.
"""

from __future__ import annotations

import argparse
import dataclasses
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # annotations only: this module stays light for the command line's start-up
    from hub.accounts import Actor
    from hub.reporting import Period, Section
    from hub.runtime import Runtime
    from hub.settings import Settings


@dataclasses.dataclass(frozen=True)
class NavItem:
    """An entry of the top navigation, French label."""

    path: str
    label: str
    order: int = 50  # place in the bar: Accueil 0, Annuaire 10, Ma structure 20, … Mon compte 90


@dataclasses.dataclass(frozen=True)
class PeriodicWork:
    """Due work a module runs on every pass of the jobs loop (reminders, expiries, retention, queues).

    `run` returns how many things it did; `label` is the French line `maillage jobs run --once` prints.
    """

    name: str
    label: str
    run: Callable[[Runtime], Awaitable[int]]


@dataclasses.dataclass
class DemoContext:
    """Ids handed from one demo seed to the next, in the order of the modules (keys are the demo's names)."""

    users: dict[str, int] = dataclasses.field(default_factory=dict)  # email -> user id
    structures: dict[str, int] = dataclasses.field(default_factory=dict)  # name -> structure id
    ids: dict[str, dict[str, int]] = dataclasses.field(default_factory=dict)  # anything else, by module
    lines: list[str] = dataclasses.field(default_factory=list)  # what `maillage demo` prints


@dataclasses.dataclass(frozen=True)
class JournalObject:
    """What a journal entry's object is, in French, and where it is seen (`url` with "{id}"; "" for nowhere)."""

    noun: str
    url: str = ""
    names: Callable[[Sequence[str]], Awaitable[Mapping[str, str]]] | None = None  # ids -> names, at display time


@dataclasses.dataclass(frozen=True)
class JournalLabels:
    """How the journal page reads a domain's entries: the journal keeps codes and ids, the page says them in French.

    `actions`: action code -> one French label. `details`: detail key -> its French label. `values`: detail key ->
    code -> French (a role, a format). `refers_to`: detail key -> "user" or "structure" (its value is such an id,
    shown by name). `objects`: object type -> JournalObject.
    """

    actions: Mapping[str, str] = dataclasses.field(default_factory=dict)
    details: Mapping[str, str] = dataclasses.field(default_factory=dict)
    values: Mapping[str, Mapping[str, str]] = dataclasses.field(default_factory=dict)
    refers_to: Mapping[str, str] = dataclasses.field(default_factory=dict)
    objects: Mapping[str, JournalObject] = dataclasses.field(default_factory=dict)


JobHandler = Callable[["Runtime", dict[str, Any]], Awaitable[None]]
HookHandler = Callable[["Runtime", Any], Awaitable[Mapping[str, int]]]


@dataclasses.dataclass(frozen=True)
class Module:
    """One domain, as the hub composes it."""

    name: str  # short English name: the key of its runtime state, counts and logs
    piccolo_app: str = ""  # its Piccolo app ("network.piccolo_app"), when it has tables
    routes: Callable[[], Sequence[Any]] = tuple  # Litestar route handlers (controllers, routers)
    nav: Callable[[Actor | None], Sequence[NavItem]] | None = None  # entries for this caller (None: anonymous)
    periodic: Sequence[PeriodicWork] = ()
    job_handlers: Mapping[str, JobHandler] = dataclasses.field(default_factory=dict)
    commands: Callable[[argparse._SubParsersAction[argparse.ArgumentParser]], None] | None = None
    demo: Callable[[Runtime, DemoContext], Awaitable[None]] | None = None
    settings: Any = None  # a frozen dataclass with `from_env(environ)`: the module's settings section
    state: Callable[[Runtime], object] | None = None  # runtime state, found again by its type: rt.state(T)
    hooks: Mapping[type, HookHandler] = dataclasses.field(default_factory=dict)  # core event -> handler
    probes: Callable[[], Sequence[Any]] = tuple  # the route-table test's authorization probes (hub.probes)
    csrf_exempt: Sequence[str] = ()  # path prefixes whose forms change nothing (never a write)
    image_sources: Callable[[Settings], Sequence[str]] | None = None  # other sites its pages show images from
    report: Callable[[Runtime, Period], Awaitable[Section]] | None = None  # its section of the pack (hub.reporting)
    journal: JournalLabels = JournalLabels()  # French labels of its journal entries (the page reads ids by name)
