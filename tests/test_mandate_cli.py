"""`maillage mandates list|pdf|verify`, run as an operator runs them, on the suite's database and seal."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from pathlib import Path

import pytest

from hub.mandates import service
from hub.mandates.tables import Mandate
from hub.runtime import Runtime
from hub.settings import Settings
from tests.test_cli import maillage
from tests.test_mandates import FIRST, LAST, Desk, _signed, desk, needs_libreoffice

__all__ = ["desk"]  # the fixture, shared with tests/test_mandates.py


async def run(settings: Settings, *args: str) -> tuple[int, str, str]:
    done = await asyncio.to_thread(
        maillage, "mandates", *args, database_url=settings.database_url, var_dir=settings.var_dir
    )
    return done.returncode, done.stdout, done.stderr


@pytest.fixture
async def sealed(rt: Runtime, desk: Desk) -> int:
    mandate_id = await _signed(rt, desk, scopes=("papiers", "famille"))
    await service.finalise(rt, desk.aidant, mandate_id)
    return mandate_id


@needs_libreoffice
async def test_pdf_writes_the_sealed_bytes_and_verify_exits_zero_only_when_valid(
    rt: Runtime, settings: Settings, desk: Desk, sealed: int, tmp_path: Path
) -> None:
    out = tmp_path / "mandat.pdf"
    code, stdout, stderr = await run(settings, "pdf", str(sealed), "--out", str(out))
    assert code == 0, stderr
    assert out.read_bytes() == await service.sealed_pdf(rt, desk.aidant, sealed)
    code, stdout, stderr = await run(settings, "verify", str(out))
    assert code == 0 and stdout.startswith("VALIDE"), stdout + stderr

    docx = tmp_path / "mandat.docx"
    code, _, stderr = await run(settings, "pdf", str(sealed), "--out", str(docx), "--docx")
    assert code == 0 and docx.read_bytes().startswith(b"PK"), stderr

    # one byte changed: altered
    tampered = bytearray(out.read_bytes())
    tampered[len(tampered) // 2] ^= 0x20
    (tmp_path / "altere.pdf").write_bytes(bytes(tampered))
    code, stdout, stderr = await run(settings, "verify", str(tmp_path / "altere.pdf"))
    assert code == 3 and stderr.startswith("ALTÉRÉ"), stdout + stderr

    # past its end: expired
    await Mandate.update({Mandate.ends_on: rt.today() - timedelta(days=1)}).where(Mandate.id == sealed)
    code, stdout, stderr = await run(settings, "verify", str(out))
    assert code == 5 and stderr.startswith("EXPIRÉ"), stdout + stderr
    await Mandate.update({Mandate.ends_on: rt.today() + timedelta(days=300)}).where(Mandate.id == sealed)

    # revoked as a whole at the resident's request
    await service.revoke(rt, desk.aidant, sealed, None, "resident")
    code, stdout, stderr = await run(settings, "verify", str(out))
    assert code == 6 and stderr.startswith("RÉVOQUÉ"), stdout + stderr

    # forgotten by the hub (purged): unknown
    await Mandate.update({Mandate.sealed_sha256: ""}).where(Mandate.id == sealed)
    code, stdout, stderr = await run(settings, "verify", str(out))
    assert code == 4 and stderr.startswith("INCONNU"), stdout + stderr


async def test_list_names_nobody_and_filters_by_status(rt: Runtime, settings: Settings, desk: Desk) -> None:
    draft = await _signed(rt, desk)
    code, stdout, stderr = await run(settings, "list")
    assert code == 0, stderr
    number = (await Mandate.select(Mandate.number).where(Mandate.id == draft).first())["number"]
    assert number in stdout and "France Services de Montclair" in stdout and "social" in stdout
    assert FIRST not in stdout and LAST not in stdout
    code, stdout, _ = await run(settings, "list", "--status", "active")
    assert code == 0 and number not in stdout and "Aucun mandat" in stdout
    code, _, stderr = await run(settings, "list", "--status", "nimporte")
    assert code == 2 and "invalid choice" in stderr


async def test_bad_arguments_exit_non_zero_with_a_french_reason(
    rt: Runtime, settings: Settings, desk: Desk, tmp_path: Path
) -> None:
    draft = await _signed(rt, desk)
    code, _, stderr = await run(settings, "pdf", "999999", "--out", str(tmp_path / "x.pdf"))
    assert code == 2 and "introuvable" in stderr
    code, _, stderr = await run(settings, "pdf", str(draft), "--out", str(tmp_path / "x.pdf"))
    assert code == 2 and "pas de PDF scellé" in stderr and not (tmp_path / "x.pdf").exists()
    code, _, stderr = await run(settings, "verify", str(tmp_path / "absent.pdf"))
    assert code == 2 and "Lecture impossible" in stderr
    (tmp_path / "texte.pdf").write_text("ceci n'est pas un PDF")
    code, _, stderr = await run(settings, "verify", str(tmp_path / "texte.pdf"))
    assert code == 3 and "pas un PDF" in stderr
