"""Reading a .docx as Word shows it: the text of paragraphs and runs (hyperlinks, fields, insertions
included), and each run's and paragraph's properties resolved through the character style, the paragraph's
style chain (basedOn), the document defaults and the theme's fonts. Used by the FALC checker (hub/falc.py)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from lxml import etree

W = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
A = "http://schemas.openxmlformats.org/drawingml/2006/main"
WNS = f"{{{W}}}"
_SAFE_XML = etree.XMLParser(resolve_entities=False, no_network=True)

_TITLE_STYLE = re.compile(r"^(?:title|subtitle|titre|sous-titre|heading \d|titre \d)$", re.IGNORECASE)
_KEY_IDEA_STYLE = re.compile(r"^(?:heading|titre) ?[12]$", re.IGNORECASE)


def attr(element: Any, name: str) -> str | None:
    return element.get(WNS + name) if element is not None else None  # type: ignore[no-any-return]


class Styles:
    """The document's styles, defaults and theme fonts, resolved as Word resolves them."""

    def __init__(self, document: Any) -> None:
        self.by_id: dict[str, Any] = {}
        self.default_paragraph_style: Any = None
        self.rpr_default: Any = None
        self.ppr_default: Any = None
        styles_part = None
        try:
            styles_part = document.part.styles.element
        except (KeyError, AttributeError, NotImplementedError):
            styles_part = None
        if styles_part is not None:
            for style in styles_part.findall(f"{WNS}style"):
                style_id = attr(style, "styleId")
                if style_id:
                    self.by_id[style_id] = style
                if attr(style, "type") == "paragraph" and attr(style, "default") in ("1", "true", "on"):
                    self.default_paragraph_style = style
            self.rpr_default = styles_part.find(f"{WNS}docDefaults/{WNS}rPrDefault/{WNS}rPr")
            self.ppr_default = styles_part.find(f"{WNS}docDefaults/{WNS}pPrDefault/{WNS}pPr")
        self.theme_fonts = self._theme_fonts(document)
        try:
            self.numbering: Any = document.part.numbering_part.element
        except (KeyError, NotImplementedError, AttributeError):
            self.numbering = None

    @staticmethod
    def _theme_fonts(document: Any) -> dict[str, str]:
        fonts: dict[str, str] = {}
        for part in document.part.package.iter_parts():
            if str(part.partname).startswith("/word/theme/"):
                root = etree.fromstring(part.blob, _SAFE_XML)  # noqa: S320 (entities off, no network)
                for kind in ("major", "minor"):
                    latin = root.find(f".//{{{A}}}{kind}Font/{{{A}}}latin")
                    if latin is not None and latin.get("typeface"):
                        fonts[kind] = latin.get("typeface")
                break
        return fonts

    def chain(self, style_id: str | None) -> Iterator[Any]:
        seen: set[str] = set()
        while style_id and style_id not in seen and style_id in self.by_id:
            seen.add(style_id)
            style = self.by_id[style_id]
            yield style
            based_on = style.find(f"{WNS}basedOn")
            style_id = attr(based_on, "val")

    def paragraph_styles(self, p: Any) -> list[Any]:
        style_id = attr(p.find(f"{WNS}pPr/{WNS}pStyle"), "val")
        if style_id and style_id in self.by_id:
            return list(self.chain(style_id))
        if self.default_paragraph_style is not None:
            return list(self.chain(attr(self.default_paragraph_style, "styleId")))
        return []

    def style_name(self, p: Any) -> str:
        styles = self.paragraph_styles(p)
        if not styles:
            return ""
        return attr(styles[0].find(f"{WNS}name"), "val") or ""

    def _rpr_levels(self, r: Any, p: Any) -> Iterator[Any]:
        yield r.find(f"{WNS}rPr")
        run_style = attr(r.find(f"{WNS}rPr/{WNS}rStyle"), "val")
        for style in self.chain(run_style):
            yield style.find(f"{WNS}rPr")
        for style in self.paragraph_styles(p):
            yield style.find(f"{WNS}rPr")
        yield self.rpr_default

    def run_property(self, r: Any, p: Any, tag: str) -> Any:
        """The first w:<tag> on the way from the run to the document defaults."""
        for rpr in self._rpr_levels(r, p):
            if rpr is not None:
                found = rpr.find(WNS + tag)
                if found is not None:
                    return found
        return None

    def run_font(self, r: Any, p: Any) -> str | None:
        for rpr in self._rpr_levels(r, p):
            fonts = rpr.find(f"{WNS}rFonts") if rpr is not None else None
            if fonts is None:
                continue
            theme = attr(fonts, "asciiTheme") or attr(fonts, "hAnsiTheme")
            if theme:
                return self.theme_fonts.get("major" if theme.startswith("major") else "minor")
            name = attr(fonts, "ascii") or attr(fonts, "hAnsi")
            if name:
                return name
        return None

    def run_size(self, r: Any, p: Any) -> float:
        found = self.run_property(r, p, "sz")
        value = attr(found, "val")
        return int(value) / 2 if value and value.isdigit() else 10.0  # Word's size when none is given

    def run_flag(self, r: Any, p: Any, tag: str) -> bool:
        found = self.run_property(r, p, tag)
        if found is None:
            return False
        value = attr(found, "val")
        if tag == "u":
            return value not in (None, "none")
        return value not in ("0", "false", "off")

    def paragraph_attr(self, p: Any, tag: str, name: str) -> str | None:
        """An attribute of w:pPr/w:<tag> (tag may be a path: "numPr/numId"), from the paragraph, its style
        chain, then the defaults."""
        levels = [p.find(f"{WNS}pPr")] + [s.find(f"{WNS}pPr") for s in self.paragraph_styles(p)] + [self.ppr_default]
        for ppr in levels:
            element = ppr.find("/".join(WNS + step for step in tag.split("/"))) if ppr is not None else None
            value = attr(element, name)
            if value is not None:
                return value
        return None

    def is_title(self, p: Any) -> bool:
        return bool(_TITLE_STYLE.match(self.style_name(p))) or self.paragraph_attr(p, "outlineLvl", "val") is not None

    def is_key_idea(self, p: Any) -> bool:
        if _KEY_IDEA_STYLE.match(self.style_name(p)):
            return True
        level = self.paragraph_attr(p, "outlineLvl", "val")
        return level in ("0", "1")

    def is_list_item(self, p: Any) -> bool:
        num_id = self.paragraph_attr(p, "numPr/numId", "val")
        return num_id not in (None, "0")

    def list_format(self, p: Any) -> str | None:
        """The numbering format of a list item ("bullet", "decimal"…), from the numbering part."""
        num_id = self.paragraph_attr(p, "numPr/numId", "val")
        if num_id in (None, "0") or self.numbering is None:
            return None
        level = self.paragraph_attr(p, "numPr/ilvl", "val") or "0"
        num = self.numbering.find(f"{WNS}num[@{WNS}numId='{num_id}']")
        abstract_id = attr(num.find(f"{WNS}abstractNumId") if num is not None else None, "val")
        abstract = self.numbering.find(f"{WNS}abstractNum[@{WNS}abstractNumId='{abstract_id}']")
        if abstract is None:
            return None
        override = num.find(f"{WNS}lvlOverride[@{WNS}ilvl='{level}']/{WNS}lvl/{WNS}numFmt") if num is not None else None
        fmt = override if override is not None else abstract.find(f"{WNS}lvl[@{WNS}ilvl='{level}']/{WNS}numFmt")
        return attr(fmt, "val")


RUN_PATHS = "./w:r | ./w:hyperlink/w:r | ./w:fldSimple/w:r | ./w:ins/w:r | ./w:smartTag/w:r | ./w:sdt/w:sdtContent/w:r"


def runs(p: Any) -> list[Any]:
    return list(p.xpath(RUN_PATHS)) if hasattr(p, "xpath") else []


def run_text(r: Any) -> str:
    out: list[str] = []
    for child in r:
        if child.tag == f"{WNS}t":
            out.append(child.text or "")
        elif child.tag in (f"{WNS}tab", f"{WNS}ptab"):
            out.append(" ")
        elif child.tag in (f"{WNS}br", f"{WNS}cr"):
            out.append("\n")
        elif child.tag == f"{WNS}noBreakHyphen":
            out.append("-")
    return "".join(out)


def paragraph_text(p: Any) -> str:
    return "".join(run_text(r) for r in runs(p))


def has_picture(element: Any) -> bool:
    return bool(element.xpath(".//w:drawing | .//w:pict | .//w:object"))


def field_codes(element: Any) -> str:
    codes = [instr.text or "" for instr in element.xpath(".//w:instrText")]
    codes += [attr(f, "instr") or "" for f in element.xpath(".//w:fldSimple")]
    return " ".join(codes).upper()
