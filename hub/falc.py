"""The FALC checker: the "A" rules of shared/design/falc.md applied to the text a resident reads in a .docx.

What is read: the body's paragraphs and tables (cell by cell), then each section's headers and footers.
Text boxes and comments are not read. Every property is resolved as Word resolves it: the run, its character
style, the paragraph's style chain (basedOn), the document defaults, the theme's fonts.

How each rule is reported (an "error" makes `report.ok` false and `maillage falc check` exit 1; a
"warning" is printed and does not):
 1  sentence of 13 to 15 words: warning (12 is the target); over 15: error.
 2  two sentences in one paragraph or one line: error.
 3  a font outside Arial, Liberation Sans, Verdana, Tahoma, Open Sans, Luciole: error (one per paragraph).
 4  text under 14 pt: error; body line spacing under 1.15 (exact or at-least spacing under 1.3 × the size,
    a sans-serif single line being about 1.15 em): error.
 5  justified text anywhere but headers and footers: error; centred or right-aligned body text: error.
    Titles (styles Title, Subtitle, Heading/Titre n, or an outline level) may be centred, never justified.
    Headers and footers may be aligned as the layout wants (the page number on the right, say).
 6  italics, underline, all-caps formatting, a word of 5 capitals or more: error (CAF, CCAS, MDPH pass).
 7  bold is allowed to stress a word; a whole body sentence of more than 5 words in bold: warning.
 8  ";", "etc.", "ex.", "cf.", brackets ( ) [ ] { }, and & # § %: error.
 9  numbers written in words (deux … mille; "un" and "neuf" are left alone, being also an article and
    "new"), numeric dates (13/10/2026, 2026-10-13), abbreviated months (oct.), times not written "14 h 30"
    (14:30, 14h30, 14h): error.
10  a list typed by hand ("- ", "• ", "1) " at the start of a paragraph) instead of a bulleted list: error;
    a numbered list: warning (numbers suit steps to follow in order);
    a body paragraph with no space before nor after it: error; a section without "page X sur Y" in its
    footer or header (the words "page" and "sur" and the fields PAGE and NUMPAGES or SECTIONPAGES), or whose
    own first page or even pages lack it: error.
11  presence only: a document without any picture is an error; so is each key idea without one, a key idea
    being a part that starts with a level 1 or 2 heading and runs to the next such heading (a picture in a
    paragraph or a table of that part counts). Whether it is the same picture for the same idea is a human's
    check (rule 11's "M" half).

An unrendered docxtpl template can be checked too: a {{ value }} counts as one word, {% … %} as nothing.

A structure may attach legal text that is not FALC: a paragraph starting with "Annexe" and containing
"(texte non FALC)", or a bookmark named `annexe_non_falc`, ends the checked part; that paragraph and all
that follows it in the body are not read (the headers and footers still are, as they print on every page).
"""

from __future__ import annotations

import dataclasses
import io
import re
from pathlib import Path
from typing import IO, Any, Literal

import docx

from hub.docx_text import WNS, Styles, attr, field_codes, has_picture, paragraph_text, run_text, runs
from hub.errors import Invalid

Severity = Literal["error", "warning"]

ALLOWED_FONTS = ("Arial", "Liberation Sans", "Verdana", "Tahoma", "Open Sans", "Luciole")
TARGET_WORDS = 12
MAX_WORDS = 15
MIN_SIZE_PT = 14.0
MIN_LINE_SPACING = 1.15
ANNEX_BOOKMARK = "annexe_non_falc"


RULE_TITLES = {
    1: "phrases courtes",
    2: "une phrase par ligne",
    3: "police sans empattement",
    4: "taille et interligne",
    5: "texte aligné à gauche",
    6: "ni italique, ni souligné, ni majuscules",
    7: "gras pour un mot",
    8: "ni abréviations ni symboles",
    9: "nombres, dates et heures",
    10: "listes, espaces, numéros de page",
    11: "images",
}


class UnreadableDocument(Invalid):
    title = "Document illisible"


@dataclasses.dataclass(frozen=True)
class Breach:
    rule: int
    severity: Severity
    where: str  # in French: "paragraphe 12", "tableau 1, ligne 2, colonne 1", "pied de page"
    excerpt: str
    message: str  # in French

    def describe(self) -> str:
        label = "erreur" if self.severity == "error" else "avertissement"
        excerpt = f" : « {self.excerpt} »" if self.excerpt else ""
        return f"règle {self.rule} ({RULE_TITLES[self.rule]}), {label}, {self.where}{excerpt}\n    {self.message}"


@dataclasses.dataclass
class FalcReport:
    breaches: list[Breach] = dataclasses.field(default_factory=list)
    paragraphs_read: int = 0
    stopped_at_annex: str | None = None  # where the non-FALC annex starts, when there is one

    @property
    def errors(self) -> list[Breach]:
        return [b for b in self.breaches if b.severity == "error"]

    @property
    def warnings(self) -> list[Breach]:
        return [b for b in self.breaches if b.severity == "warning"]

    @property
    def ok(self) -> bool:
        return not self.errors

    def rules_broken(self) -> set[int]:
        return {b.rule for b in self.errors}


# ---------------------------------------------------------------- the text patterns
_SENTENCE_END = re.compile(r"(?<=[.!?…])[»\"”)]*\s+(?=[«\"“(]?\s*[A-ZÀ-ÖØ-Þ0-9])")
_WORD = re.compile(r"\S*[0-9A-Za-zÀ-ÖØ-öø-ÿ]\S*")
_CAPS_WORD = re.compile(r"\b[A-ZÀ-ÖØ-Þ]{5,}\b")
_FORBIDDEN = re.compile(r";|\b(?:etc|ex|cf)\.|[(\[{&#§%]", re.IGNORECASE)  # an opening bracket stands for its pair
_SYMBOL_ADVICE = "Symbole à éviter : écrivez le mot en entier (« et », « pour cent », « numéro »)."
_BRACKET_ADVICE = "Parenthèses ou crochets : faites une phrase de plus."
_FORBIDDEN_ADVICE = {
    ";": "Point-virgule : coupez en deux phrases.",
    "etc.": "« etc. » : donnez toute la liste, ou les exemples utiles.",
    "ex.": "« ex. » : écrivez « par exemple ».",
    "cf.": "« cf. » : écrivez « voir ».",
    **dict.fromkeys("()[]{}", _BRACKET_ADVICE),
}
_NUMBER_WORDS = re.compile(
    r"\b(?:deux|trois|quatre|cinq|six|sept|huit|dix|onze|douze|treize|quatorze|quinze|seize|vingt|vingts|"
    r"trente|quarante|cinquante|soixante|cent|cents|mille)\b",
    re.IGNORECASE,
)
_NUMERIC_DATE = re.compile(r"\b\d{1,2}[/.-]\d{1,2}[/.-]\d{2,4}\b|\b\d{4}-\d{2}-\d{2}\b")
_SHORT_MONTH = re.compile(r"\b(?:janv|févr|fevr|avr|juil|sept|oct|nov|déc|dec)\.", re.IGNORECASE)
_TIME = re.compile(r"\b\d{1,2}\s*[:hH]\s*\d{2}\b|\b\d{1,2}[hH]\b")
_GOOD_TIME = re.compile(r"\d{1,2} h( \d{2})?")
_HAND_LIST = re.compile(r"^\s*(?:[-–—•*·▪◦]\s|\d{1,2}[).]\s|[a-z][)]\s)")
_ANNEX = re.compile(r"^\s*annexe\b.*\(\s*texte non falc\s*\)", re.IGNORECASE)


def _short(text: str, limit: int = 80) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


_TITLE_ABBREVIATION = re.compile(r"(?:^|\s)(?:M|Mme|Mlle|Dr|Me|Pr|St|Ste|[A-ZÀ-Þ])\.$")


def sentences(text: str) -> list[str]:
    """The sentences of one line: cut after . ! ? … when a capital or a digit follows (not after "M." or "J.")."""
    pieces: list[str] = []
    for piece in _SENTENCE_END.split(text):
        if pieces and _TITLE_ABBREVIATION.search(pieces[-1]):
            pieces[-1] = f"{pieces[-1]} {piece}"
        else:
            pieces.append(piece)
    return [p.strip() for p in pieces if p.strip()]


def words(sentence: str) -> list[str]:
    """Words as a word processor counts them: spans between spaces holding a letter or a digit."""
    return _WORD.findall(sentence)


_TEMPLATE_VALUE = re.compile(r"\{\{.*?\}\}")
_TEMPLATE_STATEMENT = re.compile(r"\{%.*?%\}|\{#.*?#\}")


def _without_template_tags(text: str) -> str:
    """An unrendered docxtpl template reads as its resident will: a {{ value }} as one word, {% … %} as nothing."""
    return _TEMPLATE_STATEMENT.sub("", _TEMPLATE_VALUE.sub("valeur", text))


def _is_annex_marker(p: Any, text: str) -> bool:
    if _ANNEX.match(text):
        return True
    return any(attr(b, "name") == ANNEX_BOOKMARK for b in p.xpath(".//w:bookmarkStart"))


@dataclasses.dataclass
class _Place:
    where: str
    body: bool  # body text (paragraphs and tables), as against headers and footers


class _Checker:
    def __init__(self, styles: Styles, report: FalcReport) -> None:
        self.styles = styles
        self.report = report

    def add(self, rule: int, severity: Severity, place: _Place, excerpt: str, message: str) -> None:
        self.report.breaches.append(Breach(rule, severity, place.where, _short(excerpt), message))

    def paragraph(self, p: Any, place: _Place) -> None:
        text = _without_template_tags(paragraph_text(p))
        if not text.strip():
            return
        self.report.paragraphs_read += 1
        is_title = self.styles.is_title(p)
        self._text_rules(text, place, is_list_item=self.styles.is_list_item(p))
        if self.styles.list_format(p) not in (None, "bullet", "none"):
            self.add(
                10, "warning", place, text, "Liste numérotée : des puces, sauf pour des étapes à suivre dans l'ordre."
            )
        self._run_rules(p, text, place, is_title)
        self._layout_rules(p, place, is_title)

    def _text_rules(self, text: str, place: _Place, is_list_item: bool) -> None:
        for line in text.split("\n"):
            found = sentences(line)
            if len(found) > 1:
                self.add(2, "error", place, line, f"{len(found)} phrases sur une ligne : une seule phrase par ligne.")
            for sentence in found:
                count = len(words(sentence))
                if count > MAX_WORDS:
                    self.add(
                        1, "error", place, sentence, f"{count} mots : {MAX_WORDS} au plus, {TARGET_WORDS} si possible."
                    )
                elif count > TARGET_WORDS:
                    self.add(1, "warning", place, sentence, f"{count} mots : visez {TARGET_WORDS} mots au plus.")
        for match in _FORBIDDEN.finditer(text):
            self.add(8, "error", place, match.group(0), _FORBIDDEN_ADVICE.get(match.group(0).lower(), _SYMBOL_ADVICE))
        for match in _CAPS_WORD.finditer(text):
            self.add(
                6,
                "error",
                place,
                match.group(0),
                "Mot écrit en majuscules : seuls les sigles de 2 à 4 lettres le sont.",
            )
        for match in _NUMBER_WORDS.finditer(text):
            self.add(9, "error", place, match.group(0), "Nombre écrit en lettres : écrivez-le en chiffres.")
        for match in _NUMERIC_DATE.finditer(text):
            self.add(
                9,
                "error",
                place,
                match.group(0),
                "Date en chiffres : écrivez-la en toutes lettres, « mardi 13 octobre 2026 ».",
            )
        for match in _SHORT_MONTH.finditer(text):
            self.add(9, "error", place, match.group(0), "Mois abrégé : écrivez le mois en entier.")
        for match in _TIME.finditer(text):
            if not _GOOD_TIME.fullmatch(match.group(0)):
                self.add(9, "error", place, match.group(0), "Heure : écrivez-la « 14 h 30 ».")
        if not is_list_item and _HAND_LIST.match(text):
            self.add(10, "error", place, text, "Liste tapée à la main : utilisez une liste à puces.")

    def _run_rules(self, p: Any, text: str, place: _Place, is_title: bool) -> None:
        fonts: set[str] = set()
        small: list[float] = []
        flagged: set[str] = set()
        bold_words = plain_words = 0
        for r in runs(p):
            chunk = run_text(r)
            if not chunk.strip():
                continue
            font = self.styles.run_font(r, p) or "(police par défaut du logiciel)"
            if font.casefold() not in {f.casefold() for f in ALLOWED_FONTS}:
                fonts.add(font)
            size = self.styles.run_size(r, p)
            if size < MIN_SIZE_PT:
                small.append(size)
            for tag, label in (
                ("i", "italique"),
                ("u", "souligné"),
                ("caps", "majuscules"),
                ("smallCaps", "petites majuscules"),
            ):
                if tag not in flagged and self.styles.run_flag(r, p, tag):
                    flagged.add(tag)
                    self.add(
                        6,
                        "error",
                        place,
                        chunk,
                        f"Texte en {label} : à éviter, le gras suffit pour souligner un mot.",
                    )
            if self.styles.run_flag(r, p, "b"):
                bold_words += len(words(chunk))
            else:
                plain_words += len(words(chunk))
        if fonts:
            names = ", ".join(sorted(fonts))
            self.add(
                3,
                "error",
                place,
                text,
                f"Police {names} : choisissez une police sans empattement ({', '.join(ALLOWED_FONTS)}).",
            )
        if small:
            self.add(4, "error", place, text, f"Texte en {min(small):g} pt : {MIN_SIZE_PT:g} pt au moins.")
        if place.body and not is_title and plain_words == 0 and bold_words > 5:
            self.add(7, "warning", place, text, "Phrase entière en gras : le gras sert à souligner un mot.")

    def _layout_rules(self, p: Any, place: _Place, is_title: bool) -> None:
        align = self.styles.paragraph_attr(p, "jc", "val") or "left"
        if align in ("both", "distribute", "lowKashida", "mediumKashida", "highKashida", "thaiDistribute"):
            if place.body:
                self.add(5, "error", place, paragraph_text(p), "Texte justifié : alignez-le à gauche.")
        elif place.body and not is_title and align not in ("left", "start"):
            label = "centré" if align == "center" else "aligné à droite"
            self.add(5, "error", place, paragraph_text(p), f"Texte {label} : alignez-le à gauche.")
        if not place.body:
            return
        line = self.styles.paragraph_attr(p, "spacing", "line")
        rule = self.styles.paragraph_attr(p, "spacing", "lineRule") or "auto"
        ratio = 1.0
        if line and line.lstrip("-").isdigit():
            if rule == "auto":
                ratio = int(line) / 240
            else:
                sizes = [self.styles.run_size(r, p) for r in runs(p) if run_text(r).strip()]
                ratio = (int(line) / 20) / (max(sizes, default=MIN_SIZE_PT) * 1.15)
        if ratio + 1e-6 < MIN_LINE_SPACING:
            self.add(4, "error", place, paragraph_text(p), f"Interligne de {ratio:.2f} : {MIN_LINE_SPACING} au moins.")
        before = self.styles.paragraph_attr(p, "spacing", "before") or "0"
        after = self.styles.paragraph_attr(p, "spacing", "after") or "0"
        spaced = any(v.isdigit() and int(v) > 0 for v in (before, after))
        spaced = spaced or "1" in (
            self.styles.paragraph_attr(p, "spacing", "beforeAutospacing"),
            self.styles.paragraph_attr(p, "spacing", "afterAutospacing"),
        )
        if not spaced:
            self.add(
                10, "error", place, paragraph_text(p), "Aucun espace avant ni après ce paragraphe : aérez le texte."
            )

    def table(self, tbl: Any, where: str, body: bool = True) -> None:
        for row_no, tr in enumerate(tbl.findall(f"{WNS}tr"), start=1):
            for col_no, tc in enumerate(tr.findall(f"{WNS}tc"), start=1):
                cell_where = f"{where}, ligne {row_no}, colonne {col_no}"
                for child in tc:
                    if child.tag == f"{WNS}p":
                        self.paragraph(child, _Place(cell_where, body=body))
                    elif child.tag == f"{WNS}tbl":
                        self.table(child, f"{cell_where}, tableau intérieur", body)


# ---------------------------------------------------------------- the document
def _open(source: str | Path | bytes | IO[bytes]) -> Any:
    try:
        if isinstance(source, bytes):
            stream: Any = io.BytesIO(source)
        elif isinstance(source, str | Path):
            stream = Path(source).read_bytes()
            stream = io.BytesIO(stream)
        else:
            stream = source
        return docx.Document(stream)
    except (
        Exception
    ) as error:  # a missing file, a bad zip, a zip that is no Word document: python-docx raises many kinds
        raise UnreadableDocument(f"Ce fichier n'est pas un document Word (.docx) lisible : {error}") from error


def check_docx(source: str | Path | bytes | IO[bytes]) -> FalcReport:
    """Every "A" rule of falc.md on a .docx (a path, its bytes or a binary file); raises UnreadableDocument."""
    document = _open(source)
    report = FalcReport()
    styles = Styles(document)
    checker = _Checker(styles, report)
    body = document.element.body

    paragraph_no = table_no = 0
    pictures = 0
    key_idea: tuple[str, str, bool] | None = None  # (where, title, has a picture)
    missing_pictures: list[tuple[str, str]] = []
    for child in body:
        if child.tag == f"{WNS}p":
            paragraph_no += 1
            where = f"paragraphe {paragraph_no}"
            text = paragraph_text(child)
            if _is_annex_marker(child, text):
                report.stopped_at_annex = where
                break
            pictured = has_picture(child)
            if styles.is_key_idea(child) and text.strip():
                if key_idea is not None and not key_idea[2]:
                    missing_pictures.append(key_idea[:2])
                key_idea = (where, text, pictured)
            elif pictured and key_idea is not None:
                key_idea = (key_idea[0], key_idea[1], True)
            pictures += pictured
            checker.paragraph(child, _Place(where, body=True))
        elif child.tag == f"{WNS}tbl":
            table_no += 1
            pictured = has_picture(child)
            pictures += pictured
            if pictured and key_idea is not None:
                key_idea = (key_idea[0], key_idea[1], True)
            checker.table(child, f"tableau {table_no}")
    if key_idea is not None and not key_idea[2]:
        missing_pictures.append(key_idea[:2])

    if pictures == 0:
        report.breaches.append(
            Breach(
                11,
                "error",
                "document",
                "",
                "Aucune image : mettez une image ou un pictogramme à côté de chaque idée clé.",
            )
        )
    for where, title in missing_pictures:
        report.breaches.append(
            Breach(11, "error", where, _short(title), "Idée clé sans image : mettez un pictogramme à côté de ce titre.")
        )

    _check_headers_and_footers(document, checker)
    return report


def _check_headers_and_footers(document: Any, checker: _Checker) -> None:
    sections = list(document.sections)
    for number, section in enumerate(sections, start=1):
        suffix = f" (section {number})" if len(sections) > 1 else ""
        # Each kind of page a section prints must carry its number: the first one too when it has its own.
        variants = [("", section.header, section.footer)]
        if section.different_first_page_header_footer:
            variants.append((" de la première page", section.first_page_header, section.first_page_footer))
        if document.settings.odd_and_even_pages_header_footer:
            variants.append((" des pages paires", section.even_page_header, section.even_page_footer))
        for variant, header, footer in variants:
            numbered = False
            for label, part in ((f"en-tête{variant}", header), (f"pied de page{variant}", footer)):
                element = part._element  # follows "same as previous" to the part that prints
                text = " ".join(paragraph_text(p) for p in element.iter(f"{WNS}p"))
                codes = field_codes(element)
                has_words = re.search(r"\bpage\b", text, re.IGNORECASE) and re.search(r"\bsur\b", text, re.IGNORECASE)
                has_fields = re.search(r"\bPAGE\b", codes) and re.search(r"\b(?:NUMPAGES|SECTIONPAGES)\b", codes)
                numbered = numbered or bool(has_words and has_fields)
                if part.is_linked_to_previous and number > 1:
                    continue  # the same part as the previous section's: read once
                paragraph_no = table_no = 0
                for child in element:
                    if child.tag == f"{WNS}p":
                        paragraph_no += 1
                        checker.paragraph(child, _Place(f"{label}{suffix}, paragraphe {paragraph_no}", body=False))
                    elif child.tag == f"{WNS}tbl":
                        table_no += 1
                        checker.table(child, f"{label}{suffix}, tableau {table_no}", body=False)
            if not numbered:
                checker.report.breaches.append(
                    Breach(
                        10,
                        "error",
                        f"pied de page{variant}{suffix}",
                        "",
                        "Pas de numéro de page « page 2 sur 4 » : ajoutez au pied de page les mots « page » et « sur » "
                        "avec les champs du numéro de page et du nombre de pages.",
                    )
                )


def check_text(lines: list[str], where: str = "page") -> FalcReport:
    """The text rules (1, 2, 6, 8, 9 and hand-typed lists of 10) on text read on a screen, one line each:
    a web page a resident reads (the satisfaction page, say), which has no fonts or spacing of a .docx to check."""
    report = FalcReport()
    checker = _Checker(Styles.__new__(Styles), report)  # the text rules read no style
    for number, line in enumerate(lines, start=1):
        if line.strip():
            report.paragraphs_read += 1
            checker._text_rules(line, _Place(f"{where}, ligne {number}", body=True), is_list_item=False)
    return report
