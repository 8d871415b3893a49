"""The hub composes its domains: a new domain is its package and one MODULE, wired everywhere by the core.

A small domain written here (the "lending" of a tablet library) plugs in through create_app(settings,
modules=…) exactly as a real one does through hub.composition.MODULES, and every declared part is used.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any

import httpx
import pytest
from litestar import Litestar, get
from litestar.response import Response

from hub import accounts, auth, demo, hooks, jobs
from hub.app import create_app
from hub.composition import MODULES
from hub.db import write_transaction
from hub.modules import DemoContext, Module, NavItem, PeriodicWork
from hub.runtime import Runtime
from hub.settings import Settings
from hub.tables import Structure
from network import duplicates
from network.module import DirectorySettings
from tests.conftest import make_person, make_structure, sign_in


@dataclasses.dataclass(frozen=True)
class LendingSettings:
    tablets: int = 3

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> LendingSettings:
        return cls(tablets=int(env.get("MAILLAGE_LENDING_TABLETS", cls.tablets)))


class Shelf:
    """The domain's runtime state: what its hooks and jobs saw."""

    def __init__(self, tablets: int) -> None:
        self.tablets = tablets
        self.events: list[Any] = []
        self.jobs: list[dict[str, Any]] = []
        self.fail_on_merge = False


@get("/pret", guards=[auth.public], operation_id="lendingHome", sync_to_thread=False)
def lending_home(rt: auth.RuntimeDep) -> Response[dict[str, int]]:
    """The lending desk."""
    return Response({"tablets": rt.state(Shelf).tablets})


async def _count_tablets(rt: Runtime) -> int:
    return rt.state(Shelf).tablets


async def _on_merge(rt: Runtime, event: Any) -> Mapping[str, int]:
    shelf = rt.state(Shelf)
    if shelf.fail_on_merge:
        raise RuntimeError("the lending domain could not follow the merge")
    shelf.events.append(event)
    return {"loans_moved": 2}


async def _lend(rt: Runtime, payload: dict[str, Any]) -> None:
    rt.state(Shelf).jobs.append(payload)


async def _seed(rt: Runtime, context: DemoContext) -> None:
    context.ids["lending"] = {"first_structure": next(iter(context.structures.values()))}
    context.lines.append("Prêt de tablettes : 3 tablettes.")


LENDING = Module(
    name="lending",
    routes=lambda: [lending_home],
    nav=lambda actor: [NavItem("/pret", "Prêt de tablettes", order=35)] if actor is not None else [],
    periodic=(PeriodicWork("tablets", "tablettes comptées", _count_tablets),),
    job_handlers={"lending.lend": _lend},
    demo=_seed,
    settings=LendingSettings,
    state=lambda rt: Shelf(rt.settings.section(LendingSettings).tablets),
    hooks={hooks.StructureMerged: _on_merge},
)


@pytest.fixture
def lending_settings(settings: Settings) -> Settings:
    sections = Settings.from_env(
        {"MAILLAGE_LENDING_TABLETS": "7", "MAILLAGE_SECRET_KEY": "k" * 40}, sections=[LendingSettings]
    ).sections
    return dataclasses.replace(settings, sections=sections)


@pytest.fixture
def lending_app(lending_settings: Settings) -> Litestar:
    return create_app(lending_settings, modules=(*MODULES, LENDING))


async def test_a_module_brings_its_routes_settings_state_and_navigation(lending_app: Litestar) -> None:
    rt: Runtime = lending_app.state.runtime
    assert rt.settings.section(LendingSettings).tablets == 7  # from the environment, through its section
    assert rt.settings.section(DirectorySettings) == DirectorySettings()  # a section not given: its defaults
    await make_person(rt, "coordination@exemple.fr", coordinator=True)
    transport = httpx.ASGITransport(app=lending_app, client=("127.0.0.1", 50000))
    async with httpx.AsyncClient(
        transport=transport, base_url="http://testserver.local", follow_redirects=True
    ) as http:
        assert (await http.get("/pret")).json() == {"tablets": 7}
        anonymous_home = (await http.get("/")).text
        assert "Prêt de tablettes" not in anonymous_home and 'href="/annuaire"' in anonymous_home
        person = await make_person(rt, "prescripteur@exemple.fr", {await make_structure(): ["prescriber"]})
        await sign_in(http, person)
        home = (await http.get("/")).text
    entries = [home.index(label) for label in ("Annuaire", "Prêt de tablettes", "Mon compte")]
    assert entries == sorted(entries)  # in the declared order, between the core's entries


async def test_the_jobs_loop_runs_each_modules_periodic_work_and_job_handlers(lending_app: Litestar) -> None:
    rt: Runtime = lending_app.state.runtime
    await jobs.schedule("lending.lend", rt.now(), {"tablet": 4})
    report = await jobs.tick(rt)
    assert report.work["lending.tablets"] == 7
    assert "directory.reminders" in report.work  # the directory's work runs in the same tick
    assert "tablettes comptées : 7" in report.work_lines()
    assert report.jobs_done == 1 and rt.state(Shelf).jobs == [{"tablet": 4}]


async def test_a_failing_periodic_work_does_not_stop_the_others(lending_app: Litestar) -> None:
    rt: Runtime = lending_app.state.runtime
    broken = dataclasses.replace(LENDING, name="broken", periodic=(PeriodicWork("boom", "boum", _explode),))
    rt_broken = Runtime(rt.settings, (broken, *rt.modules))
    report = await jobs.tick(rt_broken)
    assert report.work["broken.boom"] == 0 and report.work["lending.tablets"] == 7


async def _explode(rt: Runtime) -> int:
    raise RuntimeError("boom")


async def test_a_merge_is_announced_to_every_module_inside_the_merge(lending_app: Litestar) -> None:
    rt: Runtime = lending_app.state.runtime
    coordinator = await make_person(rt, "coordination@exemple.fr", coordinator=True)
    actor = await accounts.actor_for_user(coordinator.id)
    keep, drop = await make_structure("Centre social Bel-Air"), await make_structure("Centre social Bel Air")
    outcome = await duplicates.merge(rt, actor, keep, drop)
    assert rt.state(Shelf).events == [hooks.StructureMerged(kept_id=keep, dropped_id=drop)]
    assert outcome.dropped_id == drop

    # a module that cannot follow: the whole merge is undone, nothing half-written
    other = await make_structure("Centre social Bel-Air bis")
    rt.state(Shelf).fail_on_merge = True
    with pytest.raises(RuntimeError):
        await duplicates.merge(rt, actor, keep, other)
    row = await Structure.select(Structure.status, Structure.merged_into).where(Structure.id == other).first()
    assert row == {"status": "active", "merged_into": None}


async def test_the_demo_runs_each_modules_seed_in_order_passing_ids(lending_app: Litestar) -> None:
    rt: Runtime = lending_app.state.runtime
    report = await demo.seed(rt)
    assert report.lines[0].startswith("Réseau de démonstration")  # the directory first: it makes the structures
    # the modules in their order, the lending one last; then the past acts they handed over, journaled in time order
    assert report.lines[-2] == "Prêt de tablettes : 3 tablettes."
    assert report.lines[-1].startswith("Journal de démonstration")
    text = demo.describe(report)
    assert "Prêt de tablettes" in text and demo.DEMO_PASSWORD in text


async def test_a_nested_unit_of_work_joins_the_outer_one(app: Litestar) -> None:
    """write_transaction() inside another joins it: no commit of its own, and an error undoes both."""
    first = await make_structure("Avant")
    with pytest.raises(RuntimeError):
        async with write_transaction():
            await Structure.update({Structure.name: "Pendant"}).where(Structure.id == first)
            async with write_transaction():
                await Structure.update({Structure.kind: "CAF"}).where(Structure.id == first)
            raise RuntimeError("after the inner block")
    assert await Structure.select(Structure.name, Structure.kind).where(Structure.id == first).first() == {
        "name": "Avant",
        "kind": "CS",
    }
