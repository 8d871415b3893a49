"""What the mandates' service, finalisation and verification share: who may act, the step-up, the dates,
the structure's card, the timeline, and the checks of signature images and scans."""

from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from hub.accounts import Actor
from hub.errors import Forbidden, Invalid, NotFound
from hub.mandates.module import MANDATE_ROLES
from hub.mandates.tables import CharterAcceptance, Habilitation, Mandate, MandateEvent, MandateScope
from hub.runtime import Runtime
from hub.security import totp_match_step
from hub.tables import Structure, User
from hub.uploads import DOCUMENTS, IMAGES, PDF, accepted_text, claimed_type, file_type

MAX_SIGNATURE_BYTES = 500_000
MAX_SCAN_BYTES = 10_000_000
SCAN_TYPES = DOCUMENTS  # a paper signed by hand: scanned to PDF, or photographed
SIGNATURE_TYPES = IMAGES  # drawn on the screen
SIGNATURE_MIN_SIDE, SIGNATURE_MAX_SIDE = 40, 4000

# The promises of the charter (charte de l'aidant), said in easy French; the document is documents.render_charter.
CHARTER_TEXT: tuple[str, ...] = (
    "Je fais les démarches seulement avec un mandat valide.",
    "Je fais seulement les démarches écrites dans le mandat.",
    "J'explique à la personne ce que je fais pour elle.",
    "Je ne garde pas les mots de passe de la personne.",
    "Je garde secret ce que la personne me dit.",
    "Je ne demande jamais d'argent à la personne.",
    "J'annule le mandat tout de suite si la personne le demande.",
    "Je ne signe jamais un dossier de surendettement à la place de la personne.",
)


def current_charter_version() -> str:
    from hub.mandates.documents import CHARTER_VERSION

    return CHARTER_VERSION


def end_date(starts_on: date, duration_days: int) -> date:
    """The last valid day of a mandate of this duration starting that day (1 day: that day only)."""
    return starts_on + timedelta(days=max(duration_days, 1) - 1)


def effective_status(row: dict[str, Any], today: date) -> str:
    """The status as the resident lives it: an active mandate past its end is expired before the jobs loop sees it."""
    if row["status"] == "active" and row["ends_on"] < today:
        return "expired"
    return str(row["status"])


# ---------------------------------------------------------------- who may act
def member_structure(actor: Actor, structure_id: int) -> None:
    """404 for a structure the actor does not work with on mandates (never reveal what it holds)."""
    if not actor.has_role(structure_id, *MANDATE_ROLES):
        raise NotFound("Ce mandat n'existe pas ou ne concerne pas votre structure.")


async def missing_conditions(rt: Runtime, actor: Actor, structure_id: int) -> list[str]:
    """French reasons the actor may not act as an aidant for this structure (empty: they may)."""
    reasons = []
    if not await Habilitation.exists().where(
        (Habilitation.user == actor.user_id)
        & (Habilitation.structure == structure_id)
        & Habilitation.withdrawn_at.is_null()
    ):
        reasons.append("Le référent de votre structure ne vous a pas habilité à faire des mandats.")
    version = current_charter_version()
    if not await CharterAcceptance.exists().where(
        (CharterAcceptance.user == actor.user_id) & (CharterAcceptance.version == version)
    ):
        reasons.append(f"Acceptez d'abord la charte de l'aidant (version {version}).")
    user = await User.select(User.totp_enabled).where(User.id == actor.user_id).first()
    if not (user and user["totp_enabled"]):
        reasons.append("Activez d'abord la double authentification (code à 6 chiffres) dans « Mon compte ».")
    return reasons


async def require_aidant(rt: Runtime, actor: Actor, structure_id: int) -> None:
    member_structure(actor, structure_id)
    reasons = await missing_conditions(rt, actor, structure_id)
    if reasons:
        raise Forbidden(" ".join(reasons))


BLOBS = frozenset({"resident_signature", "aidant_signature", "scan_bytes", "sealed_pdf"})


def light_columns() -> list[Any]:
    """A mandate's columns but its documents (signatures, scan, sealed PDF): what most reads need. Whether a
    document is there: sealed_sha256, scan_sha256, signing_mode."""
    return [column for column in Mandate._meta.columns if column._meta.name not in BLOBS]


async def visible_mandate(actor: Actor, mandate_id: int, *, blobs: bool = False) -> dict[str, Any]:
    """The mandate's row (its documents too with blobs=True), or a 404 outside its structure."""
    query = Mandate.select() if blobs else Mandate.select(*light_columns())
    row = await query.where(Mandate.id == mandate_id).first()
    if row is None or not actor.has_role(row["structure"], *MANDATE_ROLES):
        raise NotFound("Ce mandat n'existe pas ou ne concerne pas votre structure.")
    return row


STEP_UP_MESSAGE = "Code incorrect, expiré ou déjà utilisé : tapez le code affiché maintenant par votre application."


async def code_matches(rt: Runtime, actor: Actor, code: str) -> bool:
    """Whether a step-up code would be accepted now, without spending it (step_up() spends it)."""
    user = (
        await User.select(User.totp_secret, User.totp_last_step, User.totp_enabled)
        .where(User.id == actor.user_id)
        .first()
    )
    if user is None or not user["totp_enabled"] or not code.strip():
        return False
    secret = rt.secrets.unseal(user["totp_secret"])
    return bool(secret) and totp_match_step(secret, code, rt.now().timestamp(), user["totp_last_step"]) is not None


async def step_up(rt: Runtime, actor: Actor, code: str) -> None:
    """A fresh TOTP code, never used before (the step it belongs to must be after the last one used); call inside
    the write transaction that does the act, so a refused act does not spend the code."""
    if not code.strip():
        raise Invalid("Confirmez avec votre code à 6 chiffres.", {"totp_code": "Tapez le code de votre application."})
    user = (
        await User.select(User.totp_secret, User.totp_last_step, User.totp_enabled)
        .where(User.id == actor.user_id)
        .first()
    )
    if user is None or not user["totp_enabled"]:
        raise Forbidden("Activez d'abord la double authentification (code à 6 chiffres) dans « Mon compte ».")
    secret = rt.secrets.unseal(user["totp_secret"])
    step = totp_match_step(secret, code, rt.now().timestamp(), user["totp_last_step"]) if secret else None
    if step is None:
        raise Invalid(STEP_UP_MESSAGE, {"totp_code": STEP_UP_MESSAGE})
    used = (
        await User.update({User.totp_last_step: step})
        .where((User.id == actor.user_id) & (User.totp_last_step < step))
        .returning(User.id)
    )
    if not used:
        raise Invalid(STEP_UP_MESSAGE, {"totp_code": STEP_UP_MESSAGE})


# ---------------------------------------------------------------- structures, scopes, timeline
@dataclass(frozen=True)
class StructureCard:
    id: int
    name: str
    address: str
    commune: str
    phone: str
    email: str


async def structure_card(structure_id: int) -> StructureCard:
    """The structure's name and contacts for the documents. A raw read of the directory's columns of the same
    row (network_structure): the mandates import no other domain's tables."""
    rows = await Structure.raw(
        "SELECT id, name, address, postal_code, commune, phone, email FROM network_structure WHERE id = {}",
        structure_id,
    )
    if not rows:
        raise NotFound("Structure introuvable.")
    row = rows[0]
    town = " ".join(part for part in (row["postal_code"] or "", row["commune"] or "") if part)
    address = ", ".join(part for part in (row["address"] or "", town) if part)
    return StructureCard(row["id"], row["name"], address, row["commune"] or "", row["phone"] or "", row["email"] or "")


async def scope_list(mandate_id: int, status: str | None = None) -> list[str]:
    where: Any = MandateScope.mandate == mandate_id
    if status is not None:
        where &= MandateScope.status == status
    rows = await MandateScope.select(MandateScope.scope).where(where).order_by(MandateScope.id)
    return [row["scope"] for row in rows]


async def event(mandate_id: int, at: datetime, actor_id: int | None, action: str, **details: Any) -> None:
    await MandateEvent.insert(
        MandateEvent(mandate=mandate_id, at=at, actor_user=actor_id, action=action, details=details)
    )


def codes(scopes: list[str] | tuple[str, ...]) -> str:
    """Scope codes for a journal detail (codes only: "papiers/famille")."""
    return "/".join(scopes)


# ---------------------------------------------------------------- contacts, images, scans


def signature_png(data: bytes, field: str, who: str) -> bytes:
    """A drawn signature: a real PNG or JPEG by its content, of a sensible size, with ink on it; returned as PNG."""
    from PIL import Image, UnidentifiedImageError

    if not data:
        raise Invalid(
            f"La signature {who} manque.", {field: f"La signature manque : faites signer {who} dans le cadre."}
        )
    if len(data) > MAX_SIGNATURE_BYTES:
        raise Invalid(
            f"La signature {who} est trop lourde.",
            {field: "Signature trop lourde : l'image dépasse 500 ko, recommencez."},
        )
    if claimed_type(data) not in SIGNATURE_TYPES:
        raise Invalid(
            f"La signature {who} n'est pas une image.",
            {field: f"Ce n'est pas une image : {accepted_text(SIGNATURE_TYPES)} est attendue."},
        )
    try:
        with Image.open(io.BytesIO(data)) as probe:
            probe.verify()
        image = Image.open(io.BytesIO(data))
        image.load()
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, Image.DecompressionBombError):
        raise Invalid(
            f"La signature {who} est une image illisible.", {field: "Image illisible : recommencez la signature."}
        ) from None
    width, height = image.size
    if not (SIGNATURE_MIN_SIDE <= width <= SIGNATURE_MAX_SIDE and SIGNATURE_MIN_SIDE <= height <= SIGNATURE_MAX_SIDE):
        raise Invalid(
            f"La signature {who} n'a pas une taille possible.",
            {field: f"Image d'une taille impossible : de {SIGNATURE_MIN_SIDE} à {SIGNATURE_MAX_SIDE} pixels de côté."},
        )
    rgba = image.convert("RGBA")
    white = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
    flat = Image.alpha_composite(white, rgba).convert("L")
    dark = sum(flat.histogram()[:200])  # pixels clearly darker than paper
    if dark < 20:
        raise Invalid(f"La signature {who} est vide.", {field: f"Le cadre est vide : faites signer {who}."})
    out = io.BytesIO()
    rgba.save(out, format="PNG")
    return out.getvalue()


def scan_type(data: bytes, field: str = "file") -> str:
    """The media type of a scanned paper, by its content: PDF, PNG or JPEG; anything else is refused."""
    if not data:
        raise Invalid("Le fichier est vide.", {field: "Choisissez le scan du mandat signé."})
    if len(data) > MAX_SCAN_BYTES:
        raise Invalid("Le fichier est trop lourd.", {field: "Le scan dépasse 10 Mo : scannez en qualité moindre."})
    media_type = file_type(data, SCAN_TYPES)
    if media_type is not None:
        return media_type
    claimed = claimed_type(data)
    if claimed == PDF:
        raise Invalid("Ce PDF est incomplet.", {field: "Le PDF est abîmé ou incomplet : scannez à nouveau."})
    if claimed in SCAN_TYPES:
        raise Invalid("Cette image est illisible.", {field: "Image illisible : scannez à nouveau."})
    raise Invalid("Ce fichier n'est pas un scan.", {field: f"Envoyez {accepted_text(SCAN_TYPES)}."})
