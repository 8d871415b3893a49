"""Real .docx files for the tests, built with python-docx: a document that follows every FALC rule,
and the small helpers that break one rule at a time."""

from __future__ import annotations

import io
import struct
import zlib
from typing import Any

import docx
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Pt

FALC_FONT = "Liberation Sans"


def png_pictogram(size: int = 16) -> bytes:
    """A plain square PNG (a stand-in pictogram), written by hand: no imaging library needed."""
    raw = b"".join(b"\x00" + b"\x1f\x6f\xb4" * size for _ in range(size))

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    header = struct.pack(">IIBBBBB", size, size, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b"")


def set_font(style_or_run: Any, name: str) -> None:
    """Set the font by name and drop any theme font, which Word would prefer."""
    style_or_run.font.name = name
    rpr = style_or_run.element.get_or_add_rPr() if hasattr(style_or_run.element, "get_or_add_rPr") else None
    if rpr is None:
        rpr = style_or_run._element.get_or_add_rPr()
    fonts = rpr.find(qn("w:rFonts"))
    if fonts is not None:
        for attr in ("w:asciiTheme", "w:hAnsiTheme", "w:eastAsiaTheme", "w:cstheme"):
            fonts.attrib.pop(qn(attr), None)


def add_field(paragraph: Any, instruction: str, shown: str) -> None:
    field = OxmlElement("w:fldSimple")
    field.set(qn("w:instr"), f" {instruction} ")
    run = OxmlElement("w:r")
    text = OxmlElement("w:t")
    text.text = shown
    run.append(text)
    field.append(run)
    paragraph._p.append(field)


def page_footer(section: Any, footer_part: Any = None) -> None:
    footer = (footer_part or section.footer).paragraphs[0]
    footer.add_run("Page ")
    add_field(footer, "PAGE", "1")
    footer.add_run(" sur ")
    add_field(footer, "NUMPAGES", "1")


def falc_document() -> Any:
    """A referral slip that passes every A rule."""
    document = docx.Document()
    for name in ("Normal", "Heading 1", "Heading 2", "Title", "List Bullet"):
        style = document.styles[name]
        set_font(style, FALC_FONT)
        style.font.italic = False
        style.font.size = Pt(14 if name in ("Normal", "List Bullet") else 18)
        fmt = style.paragraph_format
        fmt.line_spacing = 1.2
        fmt.space_after = Pt(8)
        fmt.alignment = WD_ALIGN_PARAGRAPH.LEFT
    document.add_paragraph("Votre rendez-vous", style="Title")
    document.add_heading("Où aller", level=1)
    document.add_picture(io.BytesIO(png_pictogram()))
    document.add_paragraph("Vous avez rendez-vous au centre social des Tilleuls.")
    document.add_paragraph("Le rendez-vous est le mardi 13 octobre 2026 à 14 h 30.")
    document.add_paragraph("Apportez ces papiers :")
    document.add_paragraph("votre carte d'identité", style="List Bullet")
    document.add_paragraph("votre dernier avis d'impôt", style="List Bullet")
    heading = document.add_heading("Qui vous aide", level=1)
    heading.add_run().add_picture(io.BytesIO(png_pictogram()))
    paragraph = document.add_paragraph("Madame Martin vous aide pour votre dossier de la ")
    paragraph.add_run("CAF").bold = True
    paragraph.add_run(".")
    document.add_paragraph("Vous pouvez appeler le 01 23 45 67 89.")
    table = document.add_table(rows=1, cols=2)
    table.cell(0, 0).paragraphs[0].add_run().add_picture(io.BytesIO(png_pictogram()))
    table.cell(0, 1).paragraphs[0].add_run("Le centre est ouvert 5 jours par semaine.")
    page_footer(document.sections[0])
    return document


def to_bytes(document: Any) -> bytes:
    stream = io.BytesIO()
    document.save(stream)
    return stream.getvalue()
