"""What an uploaded file is, from its content: its magic number (first bytes) says which kind it claims to be,
and reading it (a PDF's cross-reference table and catalogue, an image's chunks) confirms it. The file's name and
the browser's say-so are ignored. Each domain says which kinds it accepts and how heavy a file may be; the kinds,
their extensions and their French names are defined here once, and so is the French refusal.
"""

from __future__ import annotations

import dataclasses
import io
import warnings
from collections.abc import Collection

PDF = "application/pdf"
PNG = "image/png"
JPEG = "image/jpeg"
DOCUMENTS: tuple[str, ...] = (PDF, PNG, JPEG)  # a paper: a PDF, or a photo or scan of it
IMAGES: tuple[str, ...] = (PNG, JPEG)


@dataclasses.dataclass(frozen=True)
class Kind:
    magic: bytes  # the first bytes of every such file
    extension: str
    name: str  # French: "PDF", "image PNG"
    image_format: str = ""  # Pillow's name of the format ("" for a PDF)


KINDS: dict[str, Kind] = {
    PDF: Kind(b"%PDF-", ".pdf", "PDF"),
    PNG: Kind(b"\x89PNG\r\n\x1a\n", ".png", "image PNG", "PNG"),
    JPEG: Kind(b"\xff\xd8\xff", ".jpg", "image JPEG", "JPEG"),
}


def claimed_type(content: bytes) -> str | None:
    """The media type the first bytes announce (nothing read beyond them), or None for a kind not known here."""
    return next((media_type for media_type, kind in KINDS.items() if content.startswith(kind.magic)), None)


def file_type(content: bytes, accepted: Collection[str] = DOCUMENTS) -> str | None:
    """The media type of an uploaded file: one of the accepted kinds by its first bytes, and readable as such; None
    otherwise (another kind, a header glued on something else, a truncated or corrupt file, an image bomb)."""
    media_type = claimed_type(content)
    if media_type is None or media_type not in accepted:
        return None
    if media_type == PDF:
        return media_type if _readable_pdf(content) else None
    return media_type if _image_format(content) == KINDS[media_type].image_format else None


def accepted_text(accepted: Collection[str] = DOCUMENTS) -> str:
    """The accepted kinds in French: "un PDF, une image PNG ou JPEG", "une image PNG ou JPEG"."""
    return ", ".join(_parts(accepted))


def refusal(shown: str, accepted: Collection[str] = DOCUMENTS) -> str:
    """Why a file is refused, in French, naming it (its name as shown to the sender)."""
    return (
        f"« {shown} » n'est pas {', ni '.join(_parts(accepted))} (son contenu a été vérifié, pas seulement son nom) : "
        f"joignez {'un de ces formats' if len(accepted) > 1 else 'ce format'}."
    )


def _parts(accepted: Collection[str]) -> list[str]:
    images = [KINDS[t].image_format for t in KINDS if t in accepted and KINDS[t].image_format]
    parts = ["un PDF"] if PDF in accepted else []
    return parts + ([f"une image {' ou '.join(images)}"] if images else [])


# pyHanko and Pillow are imported when a file is checked, not when the app starts (they are heavy)
def _readable_pdf(content: bytes) -> bool:
    """Its cross-reference table and catalogue can be read, and the catalogue has pages."""
    from pyhanko.pdf_utils.reader import PdfFileReader

    try:
        root = PdfFileReader(io.BytesIO(content), strict=False).root
        return str(root.get("/Type", "")) == "/Catalog" and "/Pages" in root
    except Exception:  # noqa: BLE001 (any parsing failure means "not a PDF we keep")
        return False


def _image_format(content: bytes) -> str | None:
    """Pillow's name of the image's format once its structure and checksums are verified (pixels not decoded)."""
    from PIL import Image

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(content)) as image:
                found = image.format
                image.verify()
        return found
    except Exception:  # noqa: BLE001 (truncated, corrupt, a bomb, another format: refused)
        return None
