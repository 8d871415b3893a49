"""DOCX to PDF through the real, warm LibreOffice: rendering, load, a killed soffice, the timeout, its absence."""

from __future__ import annotations

import asyncio
import io
import os
import shutil
import signal
import subprocess
import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from hub.documents import DocumentConverter, DocumentsUnavailable, find_soffice, render_docx
from tests.docx_support import falc_document, to_bytes

pytestmark = pytest.mark.skipif(
    find_soffice() is None, reason="LibreOffice absent : lancez scripts/install-libreoffice (root)"
)


def pdf_text(pdf: bytes, tmp_path: Path) -> str:
    path = tmp_path / "out.pdf"
    path.write_bytes(pdf)
    pdftotext = shutil.which("pdftotext")
    assert pdftotext, "pdftotext absent : scripts/install-libreoffice installe poppler-utils"
    return subprocess.run(  # noqa: S603 (poppler's pdftotext, installed with LibreOffice)
        [pdftotext, "-layout", str(path), "-"], capture_output=True, text=True, check=True, timeout=60
    ).stdout


def slip_template() -> bytes:
    document = falc_document()
    document.add_paragraph("Bonjour {{ prenom }} {{ nom }}.")
    document.add_paragraph("Votre rendez-vous est au {{ lieu }}.")
    return to_bytes(document)


def is_gone(pid: int) -> bool:
    """No such process, not even a zombie waiting to be reaped."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, ProcessLookupError):
        return True
    return state not in ("Z", "R", "S", "D", "T", "t", "I")


def zombie_children() -> list[int]:
    """Our own children that ended and were never reaped."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if fields[0] == "Z" and int(fields[1]) == os.getpid():
            found.append(int(stat.parent.name))
    return found


@pytest.fixture(scope="module")
async def converter(tmp_path_factory) -> AsyncIterator[DocumentConverter]:
    converter = DocumentConverter(tmp_path_factory.mktemp("documents"), timeout=60)
    await converter.start()
    yield converter
    await converter.stop()


async def test_a_rendered_slip_becomes_a_pdf_holding_its_words(converter, tmp_path):
    docx = render_docx(slip_template(), {"prenom": "Awa", "nom": "Diallo & fils", "lieu": "centre social des Tilleuls"})
    pdf = await converter.to_pdf(docx)
    assert pdf.startswith(b"%PDF")
    text = pdf_text(pdf, tmp_path)
    assert "Bonjour Awa Diallo & fils." in text  # escaped for Word's XML, printed as typed
    assert "centre social des Tilleuls" in text
    assert "mardi 13 octobre 2026" in text


async def test_20_conversions_at_once_all_complete_and_the_loop_keeps_answering(converter, tmp_path):
    docx = render_docx(slip_template(), {"prenom": "Awa", "nom": "Diallo", "lieu": "CCAS"})
    gaps: list[float] = []
    done = asyncio.Event()

    async def heartbeat() -> None:
        last = time.monotonic()
        while not done.is_set():
            await asyncio.sleep(0.02)
            now = time.monotonic()
            gaps.append(now - last)
            last = now

    beating = asyncio.create_task(heartbeat())
    try:
        pdfs = await asyncio.gather(*(converter.to_pdf(docx) for _ in range(20)))
    finally:
        done.set()
        await beating
    assert all(pdf.startswith(b"%PDF") for pdf in pdfs)
    assert "CCAS" in pdf_text(pdfs[-1], tmp_path)
    assert max(gaps) < 0.5, f"the event loop stalled {max(gaps):.2f} s"


async def test_a_caller_that_gives_up_does_not_hand_its_answer_to_the_next(converter, tmp_path):
    first = render_docx(slip_template(), {"prenom": "Awa", "nom": "Diallo", "lieu": "CCAS"})
    second = render_docx(slip_template(), {"prenom": "Jean", "nom": "Martin", "lieu": "centre social"})
    for pause in (0.2, 0.1, 0.05, 0.02, 0.01):  # a loaded machine may convert faster than we give up
        abandoned = asyncio.create_task(converter.to_pdf(first))
        await asyncio.sleep(pause)  # inside the conversion, most likely
        if abandoned.cancel():
            break
        await abandoned
    with pytest.raises(asyncio.CancelledError):
        await abandoned
    text = pdf_text(await converter.to_pdf(second), tmp_path)
    assert "Jean Martin" in text and "Awa" not in text


async def test_a_killed_soffice_is_restarted_and_the_next_conversion_succeeds(converter):
    pid = converter.soffice_pid
    assert pid is not None
    restarts = converter.restarts
    os.kill(pid, signal.SIGKILL)
    pdf = await converter.to_pdf(to_bytes(falc_document()))
    assert pdf.startswith(b"%PDF")
    assert converter.restarts == restarts + 1
    assert converter.soffice_pid not in (None, pid)
    assert is_gone(pid)
    assert zombie_children() == []


async def test_an_overrun_conversion_is_stopped_with_the_domain_error_and_no_zombie(converter):
    await converter.start()
    pid = converter.soffice_pid
    assert pid is not None
    converter.timeout = 0.001
    try:
        with pytest.raises(DocumentsUnavailable) as raised:
            await converter.to_pdf(to_bytes(falc_document()))
    finally:
        converter.timeout = 60
    assert raised.value.status_code == 503
    assert "n'a pas fini" in raised.value.message
    assert not converter.running
    assert is_gone(pid)
    assert zombie_children() == []
    assert (await converter.to_pdf(to_bytes(falc_document()))).startswith(b"%PDF")  # restarted on demand


async def test_without_libreoffice_the_error_says_what_is_missing(tmp_path):
    absent = DocumentConverter(tmp_path, soffice=tmp_path / "soffice.bin")
    with pytest.raises(DocumentsUnavailable) as raised:
        await absent.to_pdf(to_bytes(falc_document()))
    assert "LibreOffice n'est pas installé" in raised.value.message
    assert list(tmp_path.iterdir()) == []  # nothing half-done


async def test_the_apps_converter_starts_on_first_use_and_stops_with_the_app(settings):
    from hub.app import create_app

    app = create_app(settings)
    documents = app.state.runtime.documents
    async with app.lifespan():  # the app's own start-up and shut-down, in this loop
        assert documents.soffice_pid is None  # nothing started with the app
        assert (await documents.to_pdf(to_bytes(falc_document()))).startswith(b"%PDF")
        pid = documents.soffice_pid
        assert pid is not None
    assert is_gone(pid)
    assert not documents.running
    assert zombie_children() == []


def test_a_parsed_template_is_reused_with_each_renders_own_values(tmp_path):
    """render_docx keeps each part's parsed and compiled form; values and other templates never leak across."""
    import docx

    def paragraphs_text(data: bytes) -> str:
        return "\n".join(p.text for p in docx.Document(io.BytesIO(data)).paragraphs)

    first = render_docx(slip_template(), {"prenom": "Awa", "nom": "Diallo", "lieu": "centre social"})
    second = render_docx(slip_template(), {"prenom": "Léo", "nom": "Martin", "lieu": "médiathèque"})
    other = falc_document()
    other.add_paragraph("Au revoir {{ prenom }}.")
    third = render_docx(to_bytes(other), {"prenom": "Awa"})
    assert "Bonjour Awa Diallo." in paragraphs_text(first) and "Léo" not in paragraphs_text(first)
    assert "Bonjour Léo Martin." in paragraphs_text(second) and "Awa" not in paragraphs_text(second)
    assert "Au revoir Awa." in paragraphs_text(third) and "Bonjour" not in paragraphs_text(third)
