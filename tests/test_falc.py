"""The FALC checker on real .docx files: a good slip passes, each rule has a document that breaks it."""

from __future__ import annotations

import io
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Pt

from hub.documents import render_docx
from hub.falc import FalcReport, UnreadableDocument, check_docx
from hub.settings import PROJECT_ROOT
from tests.docx_support import falc_document, page_footer, png_pictogram, set_font, to_bytes

LAST = "paragraphe 12"  # the first paragraph added after falc_document()'s eleven (its table is not counted)


def check(document: Any) -> FalcReport:
    return check_docx(to_bytes(document))


def with_paragraph(text: str, **style: Any) -> FalcReport:
    document = falc_document()
    paragraph = document.add_paragraph(text, style=style.pop("style", None))
    for key, value in style.items():
        setattr(
            paragraph.paragraph_format
            if key in ("alignment", "line_spacing", "space_after")
            else paragraph.runs[0].font,
            key,
            value,
        )
    return check(document)


def found(report: FalcReport, rule: int, where: str = LAST, severity: str = "error") -> list[str]:
    return [b.excerpt for b in report.breaches if b.rule == rule and b.where == where and b.severity == severity]


def test_a_falc_slip_passes_with_no_breach():
    report = check(falc_document())
    assert report.breaches == []
    assert report.ok
    assert report.paragraphs_read >= 12


def test_long_sentences_warn_past_12_words_and_fail_past_15():
    warned = with_paragraph("Vous pouvez venir avec une personne de votre famille pour vous aider demain.")  # 14
    assert found(warned, 1, severity="warning") and warned.ok
    failed = with_paragraph("Vous pouvez venir avec une personne de votre famille ou un ami pour vous aider demain.")
    assert found(failed, 1) and not failed.ok


def test_two_sentences_in_one_paragraph_or_line_are_a_breach():
    assert found(with_paragraph("Venez à l'accueil. Donnez votre nom."), 2)
    assert not found(with_paragraph("M. Dupont vous attend à l'accueil."), 2)
    document = falc_document()
    document.add_paragraph("Venez à l'accueil.").add_run().add_break()
    document.paragraphs[-1].add_run("Donnez votre nom.")
    assert found(check(document), 2) == []  # one sentence per line is right


def test_a_serif_font_is_a_breach_even_when_it_comes_from_the_style():
    document = falc_document()
    set_font(document.styles["Normal"], "Times New Roman")
    report = check(document)
    assert any(b.rule == 3 and b.where == "paragraphe 4" for b in report.errors)
    run_level = with_paragraph("Venez à l'accueil.")
    assert not found(run_level, 3)
    document = falc_document()
    set_font(document.add_paragraph().add_run("Venez à l'accueil."), "Georgia")
    assert "Venez à l'accueil." in found(check(document), 3)


def test_theme_fonts_are_resolved():
    document = falc_document()
    fonts = document.styles["Normal"].element.get_or_add_rPr().find(qn("w:rFonts"))
    fonts.set(qn("w:asciiTheme"), "minorHAnsi")  # the theme font wins over the name: Cambria in this template
    report = check(document)
    assert any(b.rule == 3 and "Cambria" in b.message for b in report.errors)


def test_small_text_and_tight_lines_are_breaches():
    assert found(with_paragraph("Venez à l'accueil.", size=Pt(12)), 4)
    assert found(with_paragraph("Venez à l'accueil.", line_spacing=1.0), 4)
    assert not found(with_paragraph("Venez à l'accueil.", line_spacing=1.15), 4)


def test_body_text_is_left_aligned_and_titles_may_be_centred():
    assert found(with_paragraph("Venez à l'accueil.", alignment=WD_ALIGN_PARAGRAPH.JUSTIFY), 5)
    assert found(with_paragraph("Venez à l'accueil.", alignment=WD_ALIGN_PARAGRAPH.CENTER), 5)
    document = falc_document()
    document.paragraphs[0].paragraph_format.alignment = WD_ALIGN_PARAGRAPH.CENTER  # the title
    assert not [b for b in check(document).breaches if b.rule == 5]
    document.paragraphs[0].paragraph_format.alignment = WD_ALIGN_PARAGRAPH.JUSTIFY
    assert any(b.rule == 5 and b.where == "paragraphe 1" for b in check(document).errors)


def test_italics_underline_and_capital_words_are_breaches_but_acronyms_pass():
    assert found(with_paragraph("Venez à l'accueil.", italic=True), 6)
    assert found(with_paragraph("Venez à l'accueil.", underline=True), 6)
    assert found(with_paragraph("Venez à l'accueil.", all_caps=True), 6)
    assert found(with_paragraph("Venez à l'URSSAF."), 6) == ["URSSAF"]
    assert not found(with_paragraph("Venez à la CAF et au CCAS."), 6)


def test_bold_for_a_word_passes_and_a_whole_bold_sentence_warns():
    report = with_paragraph("Venez à l'accueil avec tous vos papiers.", bold=True)
    assert found(report, 7, severity="warning") and report.ok


@pytest.mark.parametrize(
    "text, excerpt",
    [
        ("Venez à l'accueil ; donnez votre nom.", ";"),
        ("Apportez vos papiers, factures etc.", "etc."),
        ("Apportez un papier, ex. une facture.", "ex."),
        ("Lisez la page 3, cf. le guide.", "cf."),
        ("Apportez vos papiers (factures).", "("),
        ("Vous et votre famille & vos amis.", "&"),
        ("Vous payez 10 % du prix.", "%"),
    ],
)
def test_semicolons_abbreviations_brackets_and_symbols_are_breaches(text, excerpt):
    assert excerpt in found(with_paragraph(text), 8)


@pytest.mark.parametrize(
    "text, excerpt",
    [
        ("Apportez deux photos.", "deux"),
        ("Le rendez-vous est le 13/10/2026.", "13/10/2026"),
        ("Le rendez-vous est le 2026-10-13.", "2026-10-13"),
        ("Le rendez-vous est le 13 oct. 2026.", "oct."),
        ("Venez à 14:30.", "14:30"),
        ("Venez à 14h30.", "14h30"),
        ("Venez à 14h.", "14h"),
    ],
)
def test_numbers_in_words_numeric_dates_and_badly_written_times_are_breaches(text, excerpt):
    assert excerpt in found(with_paragraph(text), 9)


def test_written_out_dates_and_times_pass():
    assert not found(with_paragraph("Venez le mardi 13 octobre 2026 à 14 h 30."), 9)
    assert not found(with_paragraph("Venez à 9 h."), 9)


def test_hand_typed_lists_and_unspaced_paragraphs_are_breaches():
    assert found(with_paragraph("- votre carte d'identité"), 10)
    assert found(with_paragraph("1) votre carte d'identité"), 10)
    assert not found(with_paragraph("- votre carte d'identité", style="List Bullet"), 10)  # a real list item
    numbered = with_paragraph("Remplissez le formulaire.", style="List Number", space_after=Pt(8))
    assert found(numbered, 10, severity="warning") and not found(numbered, 10)
    assert found(with_paragraph("Venez à l'accueil.", space_after=Pt(0)), 10)


def test_a_document_without_page_x_of_y_is_a_breach():
    document = falc_document()
    footer = document.sections[0].footer.paragraphs[0]
    for child in list(footer._p):
        if child.tag != qn("w:pPr"):
            footer._p.remove(child)
    footer.add_run("Page 1")
    report = check(document)
    assert any(b.rule == 10 and b.where == "pied de page" for b in report.errors)


def test_a_first_page_of_its_own_must_be_numbered_too():
    document = falc_document()
    document.sections[0].different_first_page_header_footer = True
    report = check(document)
    assert any(b.rule == 10 and b.where == "pied de page de la première page" for b in report.errors)
    page_footer(document.sections[0], document.sections[0].first_page_footer)
    assert check(document).breaches == []


def test_pictures_are_required_in_the_document_and_beside_each_key_idea():
    document = falc_document()
    document.add_heading("Ce que vous devez savoir", level=1)  # paragraph 12, a key idea with no picture
    document.add_paragraph("Le service est gratuit.")
    report = check(document)
    assert any(b.rule == 11 and b.where == LAST for b in report.errors)
    document.add_picture(io.BytesIO(png_pictogram()))
    assert not [b for b in check(document).breaches if b.rule == 11]

    bare = falc_document()
    body = bare.element.body
    for drawing in body.xpath(".//w:drawing"):
        drawing.getparent().remove(drawing)
    assert any(b.rule == 11 and b.where == "document" for b in check(bare).errors)


def test_breaches_in_tables_and_footers_are_placed():
    document = falc_document()
    document.tables[0].cell(0, 1).paragraphs[0].add_run(" Venez etc.")
    document.sections[0].footer.add_paragraph("Maillage ; Montclair")
    report = check(document)
    places = {b.where for b in report.errors if b.rule == 8}
    assert places == {"tableau 1, ligne 1, colonne 2", "pied de page, paragraphe 2"}


def test_the_checker_stops_at_a_non_falc_annex_that_says_so():
    document = falc_document()
    document.add_paragraph("Annexe : le texte de loi (texte non FALC)", style="Heading 1")
    document.add_paragraph(
        "Article 1984 ; le mandat ou procuration est un acte par lequel une personne donne à une autre le pouvoir."
    )
    report = check(document)
    assert report.breaches == [] and report.stopped_at_annex == LAST

    marked = falc_document()
    annex = marked.add_paragraph("Texte juridique complet")
    start = OxmlElement("w:bookmarkStart")
    start.set(qn("w:id"), "0")
    start.set(qn("w:name"), "annexe_non_falc")
    annex._p.insert(0, start)
    marked.add_paragraph("Article 1984 ; ETC.")
    assert check(marked).breaches == []


def test_an_unrendered_template_is_read_as_the_resident_will_read_it():
    report = with_paragraph("Bonjour {{ usager.prenom }} {{ usager.nom }}.{% if rdv %}")
    assert report.breaches == []


def test_an_unreadable_file_raises_the_domain_error(tmp_path):
    with pytest.raises(UnreadableDocument):
        check_docx(b"not a docx")
    with pytest.raises(UnreadableDocument):
        check_docx(tmp_path / "missing.docx")


# ---------------------------------------------------------------- the project's own templates
# Every document a resident is handed or signs (the network's reporting pack is for partners, not residents: it is
# checked by its own tests, tests/test_report_pack*.py).
TEMPLATES = sorted(t for t in (PROJECT_ROOT / "templates").rglob("*.docx") if not t.name.startswith("pack."))


@pytest.mark.parametrize("template", TEMPLATES, ids=[str(t.relative_to(PROJECT_ROOT)) for t in TEMPLATES])
def test_every_document_template_follows_falc_with_a_realistic_context(template: Path):
    """Each templates/**/NAME.docx is rendered with NAME.sample.json beside it (realistic values), then checked.

    The mandates' templates take pictures (signatures, pictograms, the QR code) that JSON cannot hold: they are
    filled by their module's own realistic and extreme examples instead (hub.mandates.documents)."""
    if template.parent.name == "mandates":
        from hub.mandates import documents

        kind, version = template.name.removesuffix(".docx").split(".", 1)
        rendered = documents._render_samples(kind, documents.template_version(kind, version))
        assert len(rendered) >= 2  # a realistic example and an extreme one
    else:
        sample = template.with_suffix(".sample.json")
        assert sample.exists(), f"{sample.name} manque : un contexte réaliste pour vérifier {template.name} en FALC"
        rendered = [render_docx(template, json.loads(sample.read_text()))]
    for document in rendered:
        report = check_docx(document)
        assert report.ok, "\n".join(b.describe() for b in report.errors)


# ---------------------------------------------------------------- the command
def maillage_falc(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(  # noqa: S603 (our own console script)
        [sys.executable, "-m", "hub.cli", "falc", "check", *args], capture_output=True, text=True, timeout=60
    )


def test_the_command_exits_0_1_2(tmp_path: Path):
    good = tmp_path / "bon.docx"
    good.write_bytes(to_bytes(falc_document()))
    done = maillage_falc(str(good))
    assert done.returncode == 0, done.stdout + done.stderr
    assert "Aucune erreur" in done.stdout

    document = falc_document()
    document.add_paragraph("Venez le 13/10/2026 ; merci.")
    bad = tmp_path / "mauvais.docx"
    bad.write_bytes(to_bytes(document))
    done = maillage_falc(str(bad))
    assert done.returncode == 1
    assert "règle 9" in done.stdout and "règle 8" in done.stdout and LAST in done.stdout

    unreadable = tmp_path / "texte.docx"
    unreadable.write_text("pas un document")
    done = maillage_falc(str(unreadable))
    assert done.returncode == 2
    assert "illisible" in done.stderr or "lisible" in done.stderr
