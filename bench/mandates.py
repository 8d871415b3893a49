"""Mandates: rendering, finalising (render + PDF + seal) and a burst of finalisations, each beside its floor.

- **render**: `hub.mandates.documents.render_mandate` (12 months, three scopes, both signatures, the QR code)
  against the bare docxtpl render of the same template with the same context and pictures (the floor).
  Target: p50 under 150 ms.
- **finalise**: `hub.mandates.service.finalise` through the app's runtime on a real database (render with the
  signatures, the warm LibreOffice, the hub's PAdES seal, the write) against a cold
  `soffice --headless --convert-to pdf` of the same DOCX (the floor: a PDF without a warm process).
  Target: p50 under 2.5 s.
- **burst**: 20 finalisations asked at once: all must complete; meanwhile `/healthz` is asked every 50 ms on
  the same event loop, and the loop's longest stall is measured (the service keeps answering).

`python -m bench.mandates [--renders 30] [--finalisations 8] [--burst 20]`; BENCH_DATABASE_URL=postgresql://…
measures PostgreSQL too.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import dataclasses
import io
import os
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

from bench.common import PROJECT_ROOT, fmt_ms, median, percentile, pg_database, write_result

RENDER_TARGET_S = 0.150
FINALISE_TARGET_S = 2.5


@dataclasses.dataclass
class Options:
    renders: int = 30
    finalisations: int = 8
    cold_runs: int = 3
    burst: int = 20


def _figures(samples: list[float]) -> dict[str, Any]:
    return {
        "runs": len(samples),
        "p50_ms": round(median(samples) * 1000, 1),
        "p95_ms": round(percentile(samples, 95) * 1000, 1),
        "max_ms": round(max(samples) * 1000, 1),
    }


def _signature(seed: int) -> bytes:
    from PIL import Image, ImageDraw

    image = Image.new("RGBA", (480, 160), (255, 255, 255, 0))
    ImageDraw.Draw(image).line(
        [(20, 110), (110, 30 + seed % 40), (220, 120), (330, 40), (460, 90)], fill=(10, 20, 90, 255), width=5
    )
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()


def render_figures(options: Options) -> dict[str, Any]:
    """render_mandate beside the bare docxtpl render of the same template, context and pictures."""
    from docx.shared import Cm
    from docxtpl import DocxTemplate, InlineImage

    from hub.mandates import documents

    facts = documents.sample_mandate(
        scopes=("social", "logement", "argent"),
        duration_days=365,
        draft=False,
        resident_signature=_signature(1),
        aidant_signature=_signature(2),
    )
    template = documents.current_template("mandat")

    def bare() -> bytes:
        context, pictures = documents.mandate_context(facts)
        document = DocxTemplate(io.BytesIO(template.data))
        values = dict(context)
        for name, picture in pictures.items():
            values[name] = InlineImage(document, io.BytesIO(picture.png), width=Cm(picture.width_cm))
        document.render(values, autoescape=True)
        out = io.BytesIO()
        document.save(out)
        return out.getvalue()

    ours, floor = [], []
    for n in range(options.renders + 3):
        t0 = time.perf_counter()
        bare()
        t1 = time.perf_counter()
        documents.render_mandate(facts, template)
        t2 = time.perf_counter()
        if n >= 3:  # the first renders warm the caches (fonts, pictograms, Jinja)
            floor.append(t1 - t0)
            ours.append(t2 - t1)
    return {
        "render": _figures(ours),
        "render_floor": _figures(floor),
        "ratio_p50": round(median(ours) / median(floor), 2),
    }


def cold_soffice(docx: bytes, runs: int, workdir: Path) -> list[float]:
    from bench.documents import cold_runs

    return cold_runs(docx, runs, workdir)


async def _engine_figures(options: Options, database_url: str, workdir: Path) -> dict[str, Any]:
    import httpx
    import pyotp

    from hub import accounts, db
    from hub.app import create_app
    from hub.mandates import finalise as finalising
    from hub.mandates import service
    from hub.mandates.documents import CHARTER_VERSION
    from hub.mandates.schemas import MandateCreate, ResidentCreate
    from hub.settings import Settings
    from hub.tables import Membership, Structure, User

    settings = Settings.from_env(
        {
            "MAILLAGE_ENV": "test",
            "MAILLAGE_VAR_DIR": str(workdir),
            "DATABASE_URL": database_url,
            "MAILLAGE_SECRET_KEY": "bench-" * 6,
            "MAILLAGE_RUN_JOBS": "0",
        }
    )
    settings = dataclasses.replace(settings, argon2_time_cost=1, argon2_memory_cost=1024)
    engine = db.make_engine(settings)
    with contextlib.redirect_stdout(io.StringIO()):
        await db.migrate(engine)
    app = create_app(settings)
    rt = app.state.runtime
    await db.start(db.current_engine())
    result: dict[str, Any] = {"engine": "sqlite" if settings.is_sqlite else "postgresql"}
    try:
        structure = Structure(name="France Services de Montclair", kind="RFS")
        await structure.save()
        structure_id = int(structure.id)

        async def person(email: str, role: str) -> tuple[Any, str]:
            user_id = await accounts.create_user(rt, email=email, full_name=email.split("@")[0], password="x" * 16)
            await Membership.insert(Membership(user=user_id, structure=structure_id, role=role))
            secret = pyotp.random_base32()
            await User.update({User.totp_secret: rt.secrets.seal(secret), User.totp_enabled: True}).where(
                User.id == user_id
            )
            return await accounts.actor_for_user(user_id), secret

        manager, _ = await person("referente@bench.example.fr", "manager")
        aidant, secret = await person("aidant@bench.example.fr", "aidant")
        await service.habilitate(rt, manager, structure_id, aidant.user_id)
        await service.accept_charter(rt, aidant, CHARTER_VERSION)
        resident = await service.create_resident(
            rt, aidant, ResidentCreate(structure_id=structure_id, first_name="Awa", last_name="Diallo")
        )

        async def signed_draft(n: int) -> int:
            rt.advance_clock(timedelta(seconds=31))  # each draft needs a fresh TOTP code
            code = pyotp.TOTP(secret).at(rt.now().timestamp())
            mandate_id = await service.create_draft(
                rt,
                aidant,
                MandateCreate(
                    structure_id=structure_id,
                    resident_id=resident,
                    scopes=("social", "logement", "argent") if n % 2 else ("papiers", "famille", "transports"),
                    duration_days=365,
                    no_legal_protection=True,
                    totp_code=code,
                ),
            )
            await service.add_signatures(rt, aidant, mandate_id, _signature(n), _signature(n + 1))
            return mandate_id

        warmup = await signed_draft(0)
        await service.finalise(rt, aidant, warmup)  # starts the warm LibreOffice, loads the seal
        samples = []
        for n in range(options.finalisations):
            mandate_id = await signed_draft(n + 1)
            t0 = time.perf_counter()
            await service.finalise(rt, aidant, mandate_id)
            samples.append(time.perf_counter() - t0)
        result["finalise"] = _figures(samples)

        docx = await finalising.rendered_docx(rt, aidant, warmup)  # the same DOCX, for the cold floor
        cold = await asyncio.to_thread(cold_soffice, docx, options.cold_runs, workdir)
        result["cold_soffice_floor"] = _figures(cold)
        result["ratio_p50_finalise_over_cold"] = round(median(samples) / median(cold), 2)

        # the burst, with the service asked meanwhile on the same loop
        drafts = [await signed_draft(100 + n) for n in range(options.burst)]
        stop = asyncio.Event()
        answers: list[float] = []
        stalls: list[float] = []

        async def heartbeat() -> None:
            while not stop.is_set():
                t0 = time.perf_counter()
                await asyncio.sleep(0.01)
                stalls.append(time.perf_counter() - t0 - 0.01)

        async def asker() -> None:
            transport = httpx.ASGITransport(app=app, client=("127.0.0.1", 50000))
            async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1") as client:
                while not stop.is_set():
                    t0 = time.perf_counter()
                    response = await client.get("/healthz")
                    answers.append(time.perf_counter() - t0)
                    assert response.status_code == 200, response.status_code
                    await asyncio.sleep(0.05)

        side = [asyncio.create_task(heartbeat()), asyncio.create_task(asker())]
        t0 = time.perf_counter()
        outcomes = await asyncio.gather(
            *(service.finalise(rt, aidant, mandate_id) for mandate_id in drafts), return_exceptions=True
        )
        burst_s = time.perf_counter() - t0
        stop.set()
        await asyncio.gather(*side)
        failures = [repr(o)[:200] for o in outcomes if isinstance(o, BaseException)]
        result["burst"] = {
            "asked": options.burst,
            "completed": options.burst - len(failures),
            "failures": failures,
            "wall_s": round(burst_s, 1),
            "healthz_during": _figures(answers) if answers else {},
            "max_loop_stall_ms": round(max(stalls) * 1000, 1) if stalls else None,
        }
    finally:
        await rt.documents.stop()
        await db.stop(db.current_engine())
    return result


def _print_engine(result: dict[str, Any]) -> None:
    f, c, b = result["finalise"], result["cold_soffice_floor"], result["burst"]
    print(f"  [{result['engine']}]")
    print(
        f"    {'service.finalise (rendu + PDF chaud + sceau)':<52} p50 {fmt_ms(f['p50_ms'])} p95 {fmt_ms(f['p95_ms'])}"
    )
    print(f"    {'soffice --convert-to pdf à froid (plancher)':<52} p50 {fmt_ms(c['p50_ms'])}")
    print(
        f"    ratio p50 finalise/froid = {result['ratio_p50_finalise_over_cold']}x ; "
        f"cible p50 < {FINALISE_TARGET_S} s : {'atteinte' if f['p50_ms'] / 1000 < FINALISE_TARGET_S else 'NON ATTEINTE'}"
    )
    during = b["healthz_during"]
    print(
        f"    {b['asked']} finalisations ensemble : {b['completed']} faites en {b['wall_s']} s ; "
        f"/healthz pendant : p50 {during.get('p50_ms')} ms, max {during.get('max_ms')} ms ; "
        f"plus long arrêt de la boucle {b['max_loop_stall_ms']} ms"
    )
    for failure in b["failures"]:
        print(f"      échec : {failure}")


def run(options: Options | None = None) -> dict[str, Any]:
    options = options or Options()
    sys.path.insert(0, str(PROJECT_ROOT))
    print(f"== mandats : rendu ({options.renders}), finalisation ({options.finalisations}), rafale ({options.burst})")
    result: dict[str, Any] = {"options": dataclasses.asdict(options)}
    result.update(render_figures(options))
    r, rf = result["render"], result["render_floor"]
    print(f"  {'render_mandate':<52} p50 {fmt_ms(r['p50_ms'])} p95 {fmt_ms(r['p95_ms'])}")
    print(
        f"  {'docxtpl seul, même modèle et contexte (plancher)':<52} p50 {fmt_ms(rf['p50_ms'])} p95 {fmt_ms(rf['p95_ms'])}"
    )
    print(
        f"  ratio p50 = {result['ratio_p50']}x ; cible p50 < {RENDER_TARGET_S * 1000:g} ms : "
        f"{'atteinte' if r['p50_ms'] / 1000 < RENDER_TARGET_S else 'NON ATTEINTE'}"
    )
    engines: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory(prefix="maillage-bench-mandates-") as tmp:
        workdir = Path(tmp)
        engines.append(asyncio.run(_engine_figures(options, f"sqlite:///{workdir / 'bench.sqlite3'}", workdir / "s")))
        _print_engine(engines[-1])
        base = os.environ.get("BENCH_DATABASE_URL", "")
        if base.startswith("postgres"):
            with pg_database(base, "maillage_bench_mandates") as url:
                engines.append(asyncio.run(_engine_figures(options, url, workdir / "p")))
                _print_engine(engines[-1])
    result["engines"] = engines
    result["meets_target"] = (
        r["p50_ms"] / 1000 < RENDER_TARGET_S
        and all(e["finalise"]["p50_ms"] / 1000 < FINALISE_TARGET_S for e in engines)
        and all(e["burst"]["completed"] == e["burst"]["asked"] for e in engines)
    )
    path = write_result("mandates", result)
    print(f"  résultats : {path.relative_to(PROJECT_ROOT)}")
    return result


if __name__ == "__main__":
    parser = argparse.ArgumentParser(prog="python -m bench.mandates", description=__doc__)
    parser.add_argument("--renders", type=int, default=30)
    parser.add_argument("--finalisations", type=int, default=8)
    parser.add_argument("--burst", type=int, default=20)
    args = parser.parse_args()
    run(Options(renders=args.renders, finalisations=args.finalisations, burst=args.burst))
