"""The mandate's documents (issue 12): every template passes the FALC checker, unrendered and rendered with
realistic and extreme facts (long names, all 10 scopes, 1 and 365 days); the QR code decodes to the
verification address; the signatures are placed; a structure's variant is refused with its French reasons
when a field is missing or unknown or FALC fails; the same facts re-render the same content from the same
versioned template; the real LibreOffice makes PDFs whose every page says "page X sur Y"."""

from __future__ import annotations

import dataclasses
import importlib.machinery
import importlib.util
import io
import re
import shutil
import subprocess
import zipfile
from collections.abc import AsyncIterator
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import docx
import pytest
from PIL import Image, ImageDraw

from hub.documents import DocumentConverter, find_soffice
from hub.errors import Invalid, NotFound
from hub.falc import check_docx
from hub.mandates import documents
from hub.mandates.documents import (
    CHARTER_VERSION,
    KINDS,
    ExpiryLetterFacts,
    MandateFacts,
    RevocationFacts,
    check_variant,
    current_template,
    render_charter,
    render_expiry_letter,
    render_mandate,
    render_revocation,
    template_version,
)
from hub.mandates.vocabulary import SCOPES
from hub.settings import PROJECT_ROOT

ALL_SCOPES = tuple(scope.code for scope in SCOPES)
VERIFY_URL = "https://maillage.example.fr/verifier/Zx3kP9qLm2Rt7vWbQ4"
LONG_FIRST = "Marie-Christine Anne-Sophie Éléonore Joséphine"
LONG_LAST = "DUPONT-LAVALLÉE DE LA TOUR D'AUVERGNE ET DE SAINT-GERMAIN-DES-PRÉS"
LONG_STRUCTURE = (
    "Centre communal d'action sociale (CCAS) & Espace France Services de Montclair-sur-Loire ; "
    "ACCUEIL NUMÉRIQUE des communes associées du Val de Loire et du Sud du Loiret"
)
LONG_ADDRESS = (
    "Résidence Les Jardins de la Loire, bâtiment B, escalier 3, appartement 12, "
    "145 avenue du Maréchal de Lattre de Tassigny et de la Libération\n45990 Montclair-sur-Loire Cedex"
)
LONG_AIDANT = "Jean-Baptiste Alexandre Maximilien LEFÈBVRE-DESROCHES DU PLESSIS"
needs_soffice = pytest.mark.skipif(find_soffice() is None, reason="LibreOffice absent : scripts/install-libreoffice")


def drawn_signature(width: int = 600, height: int = 200) -> bytes:
    """A signature as the pad sends it: a PNG with a stroke."""
    image = Image.new("RGB", (width, height), "white")
    pen = ImageDraw.Draw(image)
    pen.line(
        [(20, height * 0.7), (width * 0.3, height * 0.2), (width * 0.5, height * 0.8), (width - 20, height * 0.3)],
        fill="black",
        width=6,
    )
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()


def realistic_mandate(**changes: Any) -> MandateFacts:
    return documents.sample_mandate(verify_url=VERIFY_URL, **changes)


def extreme_mandate(**changes: Any) -> MandateFacts:
    facts = MandateFacts(
        number="M-2026-99999",
        resident_first_name=LONG_FIRST,
        resident_last_name=LONG_LAST,
        resident_birth_date=date(1931, 2, 1),
        structure_name=LONG_STRUCTURE,
        structure_address=LONG_ADDRESS,
        structure_phone="+33 2 38 00 00 02",
        structure_email="accueil.numerique.france-services@ccas-montclair-sur-loire.example.fr",
        aidant_name=LONG_AIDANT,
        scopes=ALL_SCOPES,
        duration_days=1,
        starts_on=date(2026, 12, 31),
        ends_on=date(2026, 12, 31),
        place="Saint-Rémy-lès-Chevreuse-sur-Loire-et-Cher",
        signed_on=None,
        verify_url=VERIFY_URL,
        draft=True,
    )
    return dataclasses.replace(facts, **changes)


def extreme_revocation(**changes: Any) -> RevocationFacts:
    facts = RevocationFacts(
        number="R-2027-99999",
        mandate_number="M-2026-99999",
        resident_first_name=LONG_FIRST,
        resident_last_name=LONG_LAST,
        structure_name=LONG_STRUCTURE,
        structure_address=LONG_ADDRESS,
        structure_phone="",
        aidant_name=LONG_AIDANT,
        revoked_scopes=ALL_SCOPES,
        remaining_scopes=(),
        revoked_on=date(2027, 1, 1),
        verify_url=VERIFY_URL,
    )
    return dataclasses.replace(facts, **changes)


def extreme_letter(**changes: Any) -> ExpiryLetterFacts:
    facts = ExpiryLetterFacts(
        resident_first_name=LONG_FIRST.upper(),
        resident_last_name=LONG_LAST,
        structure_name=LONG_STRUCTURE,
        structure_address=LONG_ADDRESS,
        structure_phone="",
        scopes=ALL_SCOPES,
        ends_on=date(2027, 12, 1),
        aidant_name=LONG_AIDANT,
    )
    return dataclasses.replace(facts, **changes)


def errors_of(document: bytes) -> list[str]:
    return [b.describe() for b in check_docx(document).errors]


def text_of(document: bytes) -> str:
    """Every word a reader sees: body, tables, headers and footers (the fields as saved)."""
    with zipfile.ZipFile(io.BytesIO(document)) as package:
        parts = sorted(n for n in package.namelist() if re.match(r"word/(document|header\d*|footer\d*)\.xml$", n))
        xml = "".join(package.read(name).decode() for name in parts)
    paragraphs = re.findall(r"<w:p[ >].*?</w:p>", xml, re.DOTALL)
    return "\n".join("".join(re.findall(r"<w:t(?: [^>]*)?>([^<]*)</w:t>", p)) for p in paragraphs)


def flat(document: bytes) -> str:
    return " ".join(text_of(document).replace("\u00a0", " ").split())


def media_of(document: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(document)) as package:
        return {name: package.read(name) for name in package.namelist() if name.startswith("word/media/")}


def with_xml(data: bytes, change: Any) -> bytes:
    """A copy of a .docx whose XML parts went through change(name, text)."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as source, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for item in source.infolist():
            content = source.read(item.filename)
            if item.filename.endswith(".xml"):
                content = change(item.filename, content.decode()).encode()
            target.writestr(item, content)
    return out.getvalue()


# ---------------------------------------------------------------- the templates themselves
@pytest.mark.parametrize("kind", KINDS)
def test_every_template_passes_the_falc_checker_unrendered(kind: str) -> None:
    template = current_template(kind)
    assert template.path is not None and template.path.name == f"{kind}.{template.version}.docx"
    assert check_docx(template.data).errors == []


def test_the_templates_are_what_the_script_writes(tmp_path: Path) -> None:
    """scripts/make-mandate-templates gives the committed bytes: the templates are reviewable and reproducible."""
    script = PROJECT_ROOT / "scripts" / "make-mandate-templates"
    loader = importlib.machinery.SourceFileLoader("make_mandate_templates", str(script))
    spec = importlib.util.spec_from_loader(loader.name, loader)
    assert spec is not None
    module = importlib.util.module_from_spec(spec)
    loader.exec_module(module)
    for kind, build in module.DOCUMENTS.items():
        builder = build()
        made = builder.save(tmp_path / f"{kind}.docx")
        assert made == template_version(kind, module.VERSIONS.get(kind, module.VERSION)).data, kind
        for name, image in builder.pictures.items():
            assert (documents.PICTOGRAM_DIR / f"{name}.png").read_bytes() == image, name
    for scope in SCOPES:  # the pages show the same pictogram as the paper
        assert documents.pictogram(scope.pictogram) == module.pictogram(scope.code)


def test_versions_are_read_from_the_file_names(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    old = template_version("mandat", "2026-11")
    assert old.sha256 == __import__("hashlib").sha256(old.data).hexdigest()
    (tmp_path / "mandat.2026-11.docx").write_bytes(old.data)
    (tmp_path / "mandat.2027-02.docx").write_bytes(old.data + b"")  # a newer wording (same bytes here)
    (tmp_path / "mandat.brouillon.docx").write_bytes(b"not a version")
    monkeypatch.setattr(documents, "TEMPLATE_DIR", tmp_path)
    assert documents.versions("mandat") == ["2026-11", "2027-02"]
    assert current_template("mandat").version == "2027-02"
    assert template_version("mandat", "2026-11").path == tmp_path / "mandat.2026-11.docx"
    with pytest.raises(NotFound, match="n'existe pas"):
        template_version("mandat", "2025-01")
    with pytest.raises(NotFound):
        template_version("mandat", "../charte.2026-11")
    with pytest.raises(Invalid, match="Type de document inconnu"):
        current_template("contrat")


def test_the_charter_version_is_the_newest_charter_file() -> None:
    assert current_template("charte").version == CHARTER_VERSION
    assert "version de novembre 2026, page" in flat(render_charter())


# ---------------------------------------------------------------- rendered: realistic and extreme
def test_a_realistic_mandate_passes_the_falc_checker_and_says_what_the_law_asks() -> None:
    document = render_mandate(
        realistic_mandate(resident_signature=drawn_signature(), aidant_signature=drawn_signature(500, 250))
    )
    assert errors_of(document) == []
    text = flat(document)
    for expected in (
        "Numéro du mandat : M-2026-00042",
        "Awa Diallo",
        "Votre date de naissance : 12 avril 1958",
        "France Services de Montclair-sur-Loire",
        "5 rue des Lilas",
        "Téléphone : 02 38 00 00 02",
        "Papiers - Citoyenneté - Élections",
        "Social - Santé",
        "Argent - Impôts - Consommation",
        "Un dossier de surendettement doit être signé par vous-même.",
        "Ce mandat dure 12 mois.",
        "Il commence le jeudi 3 décembre 2026.",
        "Il finit le jeudi 2 décembre 2027 au soir.",
        "Vous pouvez arrêter ce mandat quand vous voulez.",
        "la tutelle",
        "la curatelle",
        "la sauvegarde de justice",
        "Puis 6 ans après la fin du mandat.",
        "vous pouvez demander de les effacer",
        "L'aidant garde le secret sur votre vie.",
        "Signé à Montclair-sur-Loire.",
        "Signé le jeudi 3 décembre 2026.",
        VERIFY_URL,
        "Mandat M-2026-00042, page 1 sur",
    ):
        assert expected in text, expected
    for absent in ("Famille - Scolarité", "Justice", "Projet, sans valeur", "Signez ici", "Date :"):
        assert absent not in text, absent


@pytest.mark.parametrize("days", [1, 31, 182, 365])
def test_an_extreme_mandate_passes_the_falc_checker(days: int) -> None:
    facts = extreme_mandate(duration_days=days, ends_on=date(2026, 12, 31) + timedelta(days=days - 1))
    document = render_mandate(facts)
    assert errors_of(document) == []
    text = flat(document)
    assert all(scope.label in text for scope in SCOPES)
    assert f"Ce mandat dure {documents.DURATIONS[days]}." in text
    assert "Dupont-Lavallée" in text and "DUPONT" not in text  # no word of 5 capitals or more
    assert "CCAS" in text and "&" not in text and ";" not in text and "(" not in text
    assert "Accueil Numérique" in text
    assert "Projet, sans valeur" in text  # the draft's header
    assert text.count("Signez ici :") == 2 and "Date :" in text  # boxes to sign by hand
    assert "Téléphone : 02 38 00 00 02" in text  # "+33" written the French way
    body = docx.Document(io.BytesIO(document))
    assert all(len(p.text.split()) <= 15 for p in body.paragraphs)


def test_realistic_and_extreme_revocations_pass_the_falc_checker() -> None:
    partial = render_revocation(documents.sample_revocation(verify_url=VERIFY_URL))
    assert errors_of(partial) == []
    text = flat(partial)
    assert "Depuis le lundi 1er mars 2027, la structure ne fait plus ces démarches pour vous :" in text
    assert "La structure peut encore faire ces démarches pour vous :" in text
    stopped, going_on = text.split("Ce qui continue", 1)
    assert "Argent - Impôts - Consommation" in stopped and "Social - Santé" not in stopped
    assert "Social - Santé" in going_on and "Papiers" in going_on and "Argent" not in going_on
    assert "Attestation R-2027-00007, page 1 sur" in text

    whole = render_revocation(extreme_revocation())
    assert errors_of(whole) == []
    text = flat(whole)
    assert all(scope.label in text for scope in SCOPES)
    assert "Votre mandat est fini." in text and "Appelez la structure" not in text  # no phone: come and see
    with zipfile.ZipFile(io.BytesIO(whole)) as package:  # no table left without a row for Word to refuse
        assert "<w:tbl>" not in re.sub(r"<w:tbl>.*?<w:tr[ >]", "", package.read("word/document.xml").decode())


def test_realistic_and_extreme_expiry_letters_pass_the_falc_checker() -> None:
    letter = render_expiry_letter(documents.sample_expiry_letter())
    assert errors_of(letter) == []
    text = flat(letter)
    assert "Bonjour Awa," in text and "Diallo" not in text  # the first name only
    assert "Votre mandat finit le jeudi 2 décembre 2027." in text
    assert "Appelez la structure au 02 38 00 00 02." in text
    extreme = render_expiry_letter(extreme_letter())
    assert errors_of(extreme) == []
    text = flat(extreme)
    assert "Bonjour Marie-Christine," in text and all(scope.label in text for scope in SCOPES)
    assert "Appelez la structure" not in text


@pytest.mark.parametrize(
    ("aidant", "structure"), [("", ""), ("Lucie Martin", "France Services"), (LONG_AIDANT, LONG_STRUCTURE)]
)
def test_the_charter_passes_the_falc_checker(aidant: str, structure: str) -> None:
    charter = render_charter(aidant, structure)
    assert errors_of(charter) == []
    text = flat(charter)
    assert "Je garde le secret sur la vie de la personne." in text
    assert ("Mon nom :" in text) == bool(aidant)


def test_bad_facts_are_refused_in_french() -> None:
    with pytest.raises(Invalid, match="Choisissez au moins une démarche"):
        render_mandate(realistic_mandate(scopes=()))
    with pytest.raises(Invalid, match="Démarche inconnue : impots"):
        render_mandate(realistic_mandate(scopes=("papiers", "impots")))
    with pytest.raises(Invalid, match="Durée inconnue : 30 jours"):
        render_mandate(realistic_mandate(duration_days=30))
    with pytest.raises(Invalid, match="n'est pas une image lisible"):
        render_mandate(realistic_mandate(resident_signature=b"<svg/>"))
    with pytest.raises(Invalid, match="à la fois arrêtée et continuée"):
        render_revocation(documents.sample_revocation(remaining_scopes=("argent",)))
    with pytest.raises(Invalid, match="pas de l'attestation"):
        render_revocation(documents.sample_revocation(), current_template("mandat"))


# ---------------------------------------------------------------- pictures: QR code, pictograms, signatures
def decode_qr(zbarimg: str, image: bytes) -> str | None:
    done = subprocess.run(  # noqa: S603 (zbar's command-line decoder on our own images)
        [zbarimg, "--quiet", "--raw", "-"], input=image, capture_output=True, timeout=30, check=False
    )
    return done.stdout.decode().strip() if done.returncode == 0 else None


@pytest.mark.parametrize("kind", ["mandat", "revocation"])
def test_the_qr_code_leads_to_the_verification_page(kind: str) -> None:
    document = (
        render_mandate(realistic_mandate())
        if kind == "mandat"
        else render_revocation(documents.sample_revocation(verify_url=VERIFY_URL))
    )
    with zipfile.ZipFile(io.BytesIO(document)) as package:
        relationships = package.read("word/_rels/document.xml.rels").decode()
        body = package.read("word/document.xml").decode()
    assert f'Target="{VERIFY_URL}"' in relationships and 'TargetMode="External"' in relationships
    assert f"Code QR vers la page de vérification : {VERIFY_URL}" in body
    zbarimg = shutil.which("zbarimg")
    assert zbarimg, "zbarimg absent (apt-get install zbar-tools)"
    decoded = [decode_qr(zbarimg, image) for image in media_of(document).values()]
    assert [d for d in decoded if d is not None] == [VERIFY_URL]  # one QR code; pictograms hold none


def test_each_scope_has_its_own_pictogram_and_the_same_one_everywhere() -> None:
    pictures = {scope.code: documents.pictogram(scope.pictogram) for scope in SCOPES}
    assert len(set(pictures.values())) == len(SCOPES)
    for image in pictures.values():
        with Image.open(io.BytesIO(image)) as opened:
            assert opened.size == (160, 160) and len(opened.getcolors(160 * 160) or []) > 2  # drawn, not blank
    mandate = set(media_of(render_mandate(extreme_mandate())).values())
    letter = set(media_of(render_expiry_letter(extreme_letter())).values())
    revocation = set(media_of(render_revocation(extreme_revocation())).values())
    for image in pictures.values():
        assert image in mandate and image in letter and image in revocation
    with pytest.raises(NotFound):
        documents.pictogram("../../pyproject.toml")


def test_drawn_signatures_are_placed_in_their_boxes() -> None:
    resident, aidant = drawn_signature(), drawn_signature(90, 400)  # a tall one too
    document = render_mandate(realistic_mandate(resident_signature=resident, aidant_signature=aidant))
    media = set(media_of(document).values())
    assert resident in media and aidant in media
    opened = docx.Document(io.BytesIO(document))
    shapes = {}
    for shape in opened.inline_shapes:
        blip = shape._inline.graphic.graphicData.pic.blipFill.blip
        shapes[opened.part.related_parts[blip.embed].blob] = shape
    width, height = documents.SIGNATURE_BOX_CM
    assert shapes[resident].width == pytest.approx(width * 360000, rel=0.01)  # a wide one: the box's width
    assert shapes[aidant].height == pytest.approx(height * 360000, rel=0.01)  # a tall one: the box's height
    assert "Signez ici" not in flat(document)


# ---------------------------------------------------------------- a structure's own variant
def test_the_hubs_own_templates_are_good_variants() -> None:
    for kind in KINDS:
        report = check_variant(kind, current_template(kind).data)
        assert report.ok, report.messages_fr
        assert report.missing_fields == () and report.unknown_fields == () and report.messages_fr == ()


def test_a_variant_missing_a_field_or_with_an_unknown_one_is_refused() -> None:
    good = current_template("mandat").data
    no_number = with_xml(good, lambda name, xml: xml.replace("{{ number }}", ""))
    report = check_variant("mandat", no_number)
    assert not report.ok and report.missing_fields == ("number",)
    assert report.messages_fr == ("Champ manquant : {{ number }} (le numéro du mandat).",)

    renamed = with_xml(good, lambda name, xml: xml.replace("{{ place }}", "{{ ville }}"))
    report = check_variant("mandat", renamed)
    assert not report.ok and report.missing_fields == ("place",) and report.unknown_fields == ("ville",)
    assert "Champ inconnu : {{ ville }} n'existe pas pour le mandat." in report.messages_fr

    no_scopes = with_xml(good, lambda name, xml: xml.replace("scope_codes", "[]"))
    report = check_variant("mandat", no_scopes)
    assert report.missing_fields == ("scope_codes",)
    assert (
        "Champ manquant : {{ scope_codes }} (les codes des démarches choisies (papiers, famille…)) ou"
        in (report.messages_fr[0])
    )

    broken = with_xml(good, lambda name, xml: xml.replace("{{ number }}", "{{ number ", 1))
    report = check_variant("mandat", broken)
    assert not report.ok and "Un champ du modèle est mal écrit" in report.messages_fr[0]

    report = check_variant("revocation", b"PK not a word file")
    assert not report.ok and report.messages_fr == ("Ce fichier n'est pas un document Word (.docx) lisible.",)


def test_a_variant_that_fails_falc_is_refused_with_the_checkers_reasons() -> None:
    good = current_template("lettre-echeance").data
    serif = with_xml(good, lambda name, xml: xml.replace("Liberation Sans", "Times New Roman"))
    report = check_variant("lettre-echeance", serif)
    assert not report.ok and report.missing_fields == () and report.unknown_fields == ()
    assert 3 in report.falc.rules_broken()
    assert report.messages_fr[0].startswith("Le modèle ne respecte pas les règles FALC :")
    assert any("Police Times New Roman" in message for message in report.messages_fr)

    # Fine unrendered, too long once filled: a name inside a sentence. The filled sample is checked too.
    wordy = with_xml(
        good,
        lambda name, xml: xml.replace(
            "Vous avez un mandat avec cette structure :",
            "Vous avez un mandat {{ greeting }} avec cette structure qui fait des démarches pour vous :",
        ),
    )
    assert check_docx(wordy).ok
    report = check_variant("lettre-echeance", wordy)
    assert report.ok  # "Bonjour Awa," is short: 14 words at most, a warning
    too_long = with_xml(
        good,
        lambda name, xml: xml.replace(
            "Vous avez un mandat avec cette structure :",
            "Vous avez un mandat avec cette structure qui fait des démarches en ligne {{ ends_on }} :",
        ),
    )
    assert check_docx(too_long).ok  # {{ ends_on }} counts as one word before it is filled
    report = check_variant("lettre-echeance", too_long)
    assert not report.ok and 1 in report.falc.rules_broken()
    # Fine with a realistic structure, too long with the longest name the database may hold.
    joined = with_xml(
        good,
        lambda name, xml: xml.replace(
            "Vous avez un mandat avec cette structure :", "Vous avez un mandat avec {{ structure_lines|join(' ') }}."
        ),
    )
    realistic = render_expiry_letter(
        documents.sample_expiry_letter(), documents.TemplateFile.from_bytes("lettre-echeance", "v", joined)
    )
    assert errors_of(realistic) == []
    report = check_variant("lettre-echeance", joined)
    assert not report.ok and 1 in report.falc.rules_broken()
    assert any("Centre communal" in message for message in report.messages_fr)  # the sentence is quoted


# ---------------------------------------------------------------- the same content, again
def test_the_same_facts_render_the_same_content_from_the_same_template() -> None:
    facts = realistic_mandate(resident_signature=drawn_signature(), aidant_signature=drawn_signature())
    first = render_mandate(facts, template_version("mandat", "2026-11"))
    again = render_mandate(facts, template_version("mandat", "2026-11"))
    assert text_of(first) == text_of(again)
    assert media_of(first) == media_of(again)
    assert text_of(render_mandate(facts)) == text_of(first)  # the current template is that version today
    for render, sample in (
        (render_revocation, documents.sample_revocation()),
        (render_expiry_letter, documents.sample_expiry_letter()),
    ):
        assert text_of(render(sample)) == text_of(render(sample))  # type: ignore[operator]
    assert text_of(render_charter("Lucie Martin")) == text_of(render_charter("Lucie Martin"))
    # a variant is rendered from its own bytes
    variant = documents.TemplateFile.from_bytes(
        "mandat",
        "variante",
        with_xml(
            first_template := current_template("mandat").data,
            lambda name, xml: xml.replace("Mandat pour vos démarches en ligne", "Mandat de la Maison France Services"),
        ),
    )
    assert variant.sha256 != current_template("mandat").sha256 and first_template
    assert "Mandat de la Maison France Services" in flat(render_mandate(facts, variant))


# ---------------------------------------------------------------- PDF through the real LibreOffice
@pytest.fixture(scope="module")
async def converter(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[DocumentConverter]:
    converter = DocumentConverter(tmp_path_factory.mktemp("documents"), timeout=120)
    yield converter
    await converter.stop()


def pdf_pages(path: Path) -> list[str]:
    pdftotext = shutil.which("pdftotext")
    assert pdftotext, "pdftotext absent : scripts/install-libreoffice installe poppler-utils"
    text = subprocess.run(  # noqa: S603 (poppler's pdftotext)
        [pdftotext, str(path), "-"], capture_output=True, text=True, check=True, timeout=60
    ).stdout
    return [" ".join(page.split()) for page in text.split("\f") if page.strip()]


DOCUMENTS = {
    "mandat-realiste": lambda: render_mandate(
        realistic_mandate(resident_signature=drawn_signature(), aidant_signature=drawn_signature())
    ),
    "mandat-extreme-projet": lambda: render_mandate(extreme_mandate()),
    "revocation-realiste": lambda: render_revocation(documents.sample_revocation(verify_url=VERIFY_URL)),
    "revocation-extreme": lambda: render_revocation(extreme_revocation()),
    "lettre-realiste": lambda: render_expiry_letter(documents.sample_expiry_letter()),
    "lettre-extreme": lambda: render_expiry_letter(extreme_letter()),
    "charte": lambda: render_charter(),
    "charte-extreme": lambda: render_charter(LONG_AIDANT, LONG_STRUCTURE),
}
MAX_PAGES = {"mandat": 7, "revocation": 4, "lettre": 3, "charte": 3}


@needs_soffice
@pytest.mark.parametrize("name", list(DOCUMENTS))
async def test_every_pdf_page_says_page_x_sur_y(converter: DocumentConverter, name: str, tmp_path: Path) -> None:
    pdf = await converter.to_pdf(DOCUMENTS[name]())
    path = tmp_path / f"{name}.pdf"
    path.write_bytes(pdf)
    pages = pdf_pages(path)
    assert 1 <= len(pages) <= MAX_PAGES[name.split("-")[0]], len(pages)
    for number, page in enumerate(pages, start=1):
        assert f"page {number} sur {len(pages)}" in page, (number, page[-200:])
        assert ("Projet, sans valeur" in page) == name.endswith("projet")
    whole = " ".join(pages)
    if name.startswith("mandat"):
        assert "Signatures" in whole and "Vérifier le mandat" in whole
    if name.endswith("extreme") or name.endswith("projet"):
        assert "Dupont-Lavallée" in whole or "Lefèbvre-Desroches" in whole or "Centre communal" in whole
