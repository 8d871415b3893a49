"""The type of an uploaded file comes from its content: real PDF, PNG and JPEG files are recognised, whatever their
name; a program or a zip renamed .pdf, a header glued on something else, a truncated image, a kind the domain does
not take are refused, with one French refusal naming the accepted kinds."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import pytest
from PIL import Image

from hub import uploads

ROOT = Path(__file__).resolve().parent.parent


def pdf_file() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (120, 80), "white").save(buffer, "PDF")
    return buffer.getvalue()


def image_file(kind: str) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (64, 48), (200, 30, 30)).save(buffer, kind)
    return buffer.getvalue()


def windows_program() -> bytes:
    """The headers of a Windows .exe: the DOS header ("MZ", e_lfanew at 0x3C), its stub, then the PE header."""
    dos = bytearray(b"MZ" + b"\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00" + b"\x00" * 44)
    dos[0x3C:0x40] = (0x80).to_bytes(4, "little")
    stub = b"This program cannot be run in DOS mode.\r\r\n$".ljust(0x80 - len(dos), b"\x00")
    pe = b"PE\x00\x00" + b"\x64\x86" + b"\x00" * 2000  # x86-64
    return bytes(dos) + stub + pe


def zip_file() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("facture.pdf", pdf_file())
    return buffer.getvalue()


def test_real_pdf_png_and_jpeg_files_are_recognised_by_their_first_bytes() -> None:
    pdf, png, jpeg = pdf_file(), image_file("PNG"), image_file("JPEG")
    assert pdf.startswith(b"%PDF-") and png.startswith(b"\x89PNG\r\n\x1a\n") and jpeg.startswith(b"\xff\xd8\xff")
    assert [uploads.claimed_type(f) for f in (pdf, png, jpeg)] == [uploads.PDF, uploads.PNG, uploads.JPEG]
    assert [uploads.file_type(f) for f in (pdf, png, jpeg)] == ["application/pdf", "image/png", "image/jpeg"]
    assert [uploads.KINDS[t].extension for t in uploads.DOCUMENTS] == [".pdf", ".png", ".jpg"]


def test_a_program_or_an_archive_renamed_is_refused() -> None:
    docx = (ROOT / "templates" / "mandates" / "mandat.2026-11.docx").read_bytes()  # a real zip, as Word writes it
    for content in (windows_program(), zip_file(), docx):
        assert uploads.claimed_type(content) is None
        assert uploads.file_type(content) is None
    assert docx.startswith(b"PK\x03\x04") and windows_program().startswith(b"MZ")


@pytest.mark.parametrize(
    "content",
    [
        b"%PDF-1.7\n" + windows_program(),  # the header alone does not make a PDF
        b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n",  # no cross-reference table, no catalogue
        pdf_file()[: len(pdf_file()) // 2],  # a PDF cut in the middle
        b"\x89PNG\r\n\x1a\n" + windows_program(),
        image_file("PNG")[:60],  # a truncated image
        b"\xff\xd8\xff" + b"\x00" * 30,
        image_file("GIF"),  # an image of another kind
        b"",
    ],
    ids=["pdf-header-on-program", "pdf-without-catalogue", "pdf-cut", "png-header-on-program", "png-cut",
         "jpeg-header-only", "gif", "empty"],
)  # fmt: skip
def test_a_header_on_something_else_or_a_damaged_file_is_refused(content: bytes) -> None:
    assert uploads.file_type(content) is None


def test_a_domain_takes_only_its_kinds() -> None:
    assert uploads.file_type(pdf_file(), uploads.IMAGES) is None
    assert uploads.file_type(image_file("PNG"), uploads.IMAGES) == "image/png"
    assert uploads.file_type(image_file("JPEG"), (uploads.PDF,)) is None


def test_the_refusal_says_in_french_which_kinds_are_accepted() -> None:
    assert uploads.accepted_text() == "un PDF, une image PNG ou JPEG"
    assert uploads.accepted_text(uploads.IMAGES) == "une image PNG ou JPEG"
    assert uploads.refusal("facture.pdf") == (
        "« facture.pdf » n'est pas un PDF, ni une image PNG ou JPEG (son contenu a été vérifié, pas seulement son "
        "nom) : joignez un de ces formats."
    )
    assert uploads.refusal("photo.png", (uploads.PDF,)).startswith("« photo.png » n'est pas un PDF (son contenu")
    assert uploads.refusal("photo.png", (uploads.PDF,)).endswith(": joignez ce format.")
    assert uploads.refusal("x", uploads.IMAGES).startswith("« x » n'est pas une image PNG ou JPEG (")
