"""Attachments of a referral: a PDF, PNG or JPEG of 5 MB at most, its type decided from its content (hub.uploads).

A file is kept in the database with its referral (nothing on disk to leak, nothing half-written: it is saved in
the same transaction as what it comes with). Only the two structures' members download it (404 for anyone else),
by its number, never by its name; the download is an attachment the browser does not sniff. Attachments are
purged some months after the referral ended (`attachment_purge_months`), and with the referral's anonymisation.
"""

from __future__ import annotations

import dataclasses
import hashlib
import re
import unicodedata
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import quote

from hub import journal
from hub.accounts import Actor
from hub.db import write_transaction
from hub.errors import Conflict, Invalid, NotFound
from hub.journal import Act
from hub.runtime import Runtime
from hub.uploads import DOCUMENTS, KINDS, file_type, refusal
from referrals.lifecycle import ACTIVE
from referrals.module import ReferralSettings
from referrals.tables import Attachment, ReferralEvent

MAX_BYTES = 5 * 1024 * 1024  # "5 Mo" per file
MAX_PER_REFERRAL = 10  # a referral is not a filing cabinet
MAX_PER_UPLOAD = 5  # files sent at once (the form's one input)
# request bodies: the files of one upload and the form around them
MAX_BODY_BYTES = MAX_PER_UPLOAD * (MAX_BYTES + 1) + 256 * 1024
ACCEPTED = DOCUMENTS  # PDF, PNG, JPEG
FIELD = "attachments"
_UNSAFE = re.compile(r'[\x00-\x1f\x7f<>:"/\\|?*;%]+')
BATCH = 200


@dataclasses.dataclass(frozen=True)
class Upload:
    """A file as it came: the name the sender's computer gave it, and its bytes (read up to MAX_BYTES + 1)."""

    filename: str
    content: bytes


@dataclasses.dataclass(frozen=True)
class Checked:
    filename: str  # sanitised, with the extension of its real type
    media_type: str
    content: bytes


# ---------------------------------------------------------------- names and sizes (the type: hub.uploads)
def clean_filename(name: str, media_type: str) -> str:
    """A name safe to show and to offer for download: no path, no control or reserved characters, 100 characters
    at most, and the extension of the type found in the content (a "photo.pdf" that is a PNG becomes photo.png)."""
    base = re.split(r"[/\\]", unicodedata.normalize("NFC", name or ""))[-1]
    base = " ".join(_UNSAFE.sub(" ", base).split()).strip(" .")
    stem = base.rsplit(".", 1)[0] if "." in base else base
    stem = stem.strip(" .")[:100].strip(" .") or "piece-jointe"
    return stem + KINDS[media_type].extension


def size_text(size: int) -> str:
    """ "2,4 Mo", "180 ko"."""
    if size >= 1024 * 1024:
        return f"{size / (1024 * 1024):.1f} Mo".replace(".", ",")
    return f"{max(1, round(size / 1024))} ko"


def check(uploads: Sequence[Upload], already: int = 0) -> list[Checked]:
    """Every file of an upload, or Invalid naming each file refused (in French, on the "attachments" field)."""
    if len(uploads) > MAX_PER_UPLOAD:
        raise Invalid(
            f"Joignez {MAX_PER_UPLOAD} fichiers au plus à la fois.",
            {FIELD: f"Joignez {MAX_PER_UPLOAD} fichiers au plus à la fois."},
        )
    if already + len(uploads) > MAX_PER_REFERRAL:
        left = max(MAX_PER_REFERRAL - already, 0)
        message = f"Une orientation a {MAX_PER_REFERRAL} pièces jointes au plus : vous pouvez en ajouter {left}."
        raise Invalid(message, {FIELD: message})
    problems: list[str] = []
    found: list[Checked] = []
    for upload in uploads:
        shown = " ".join(_UNSAFE.sub(" ", re.split(r"[/\\]", upload.filename or "")[-1]).split())[:100] or "fichier"
        if not upload.content:
            problems.append(f"« {shown} » est vide.")
            continue
        if len(upload.content) > MAX_BYTES:
            problems.append(f"« {shown} » pèse plus de 5 Mo : joignez un fichier de 5 Mo au plus.")
            continue
        media_type = file_type(upload.content, ACCEPTED)
        if media_type is None:
            problems.append(refusal(shown, ACCEPTED))
            continue
        found.append(Checked(clean_filename(upload.filename, media_type), media_type, upload.content))
    if problems:
        raise Invalid("Les pièces jointes ne sont pas acceptées : " + " ".join(problems), {FIELD: " ".join(problems)})
    return found


def with_files_checked(error: Invalid, uploads: Sequence[Upload]) -> Invalid:
    """A form refused for other fields also names the files refused: every field at fault at once."""
    try:
        check(uploads)
    except Invalid as refused:
        return Invalid(error.message, {**error.fields, **refused.fields})
    return error


# ---------------------------------------------------------------- storing and reading
async def store(referral_id: int, files: Sequence[Checked], actor: Actor | None, structure_id: int | None) -> None:
    """Save checked files with a referral (inside the caller's transaction)."""
    if not files:
        return
    await Attachment.insert(
        *[
            Attachment(
                referral=referral_id,
                filename=f.filename,
                media_type=f.media_type,
                size=len(f.content),
                sha256=hashlib.sha256(f.content).hexdigest(),
                content=f.content,
                added_by_user=actor.user_id if actor else None,
                added_by_structure=structure_id,
            )
            for f in files
        ]
    )


async def add(
    rt: Runtime, actor: Actor, row: dict[str, Any], side_structure: int, uploads: Sequence[Upload]
) -> list[int]:
    """Add files to a referral the actor sees (row: the referral as service._visible returns it)."""
    if row["status"] not in ACTIVE or row["anonymised_at"] is not None:
        raise Conflict("Cette orientation est terminée : on n'y joint plus de fichier.")
    if not uploads:
        raise Invalid("Choisissez au moins un fichier.", {FIELD: "Choisissez au moins un fichier."})
    already = await Attachment.count().where(Attachment.referral == row["id"])
    files = check(uploads, already)
    now = rt.now()
    async with write_transaction():
        await store(row["id"], files, actor, side_structure)
        await ReferralEvent.insert(
            ReferralEvent(
                referral=row["id"],
                at=now,
                actor_user=actor.user_id,
                actor_structure=side_structure,
                action="attach",
                from_status=row["status"],
                to_status=row["status"],
                details={"count": len(files)},
            )
        )
        await journal.append(
            rt, Act("referral_attach", actor.user_id, side_structure, "referral", row["id"], {"count": len(files)})
        )
        rows = await (
            Attachment.select(Attachment.id)
            .where(Attachment.referral == row["id"])
            .order_by(Attachment.id, ascending=False)
            .limit(len(files))
        )
    return sorted(r["id"] for r in rows)


async def copy(from_referral: int, to_referral: int) -> None:
    """A redirected referral takes its files along (the same person, the same consent)."""
    rows = await Attachment.select().where(Attachment.referral == from_referral).order_by(Attachment.id)
    if rows:
        await Attachment.insert(
            *[
                Attachment(**{k: v for k, v in r.items() if k not in ("id", "referral")}, referral=to_referral)
                for r in rows
            ]
        )


async def listing(referral_id: int) -> list[dict[str, Any]]:
    """The files of a referral, without their content."""
    return await (
        Attachment.select(
            Attachment.id,
            Attachment.filename,
            Attachment.media_type,
            Attachment.size,
            Attachment.added_by_structure,
            Attachment.created_at,
        )
        .where(Attachment.referral == referral_id)
        .order_by(Attachment.id)
    )


async def content_of(referral_id: int, attachment_id: int) -> dict[str, Any]:
    """One file of a referral the caller was shown (the caller checks who sees the referral)."""
    row = (
        await Attachment.select(Attachment.filename, Attachment.media_type, Attachment.content)
        .where((Attachment.id == attachment_id) & (Attachment.referral == referral_id))
        .first()
    )
    if row is None:
        raise NotFound("Cette pièce jointe n'existe pas (ou plus).")
    return row


def download_headers(filename: str) -> dict[str, str]:
    """Always a download, never shown inline or sniffed; the name in ASCII and in UTF-8 (RFC 6266)."""
    ascii_name = unicodedata.normalize("NFKD", filename).encode("ascii", "ignore").decode() or "piece-jointe"
    ascii_name = re.sub(r"[^A-Za-z0-9._ -]", "_", ascii_name)
    return {
        "Content-Disposition": f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(filename)}",
        "X-Content-Type-Options": "nosniff",
        "Cache-Control": "private, no-store",
    }


# ---------------------------------------------------------------- purge (the jobs loop)
async def purge(rt: Runtime) -> int:
    """Files of referrals that ended (no longer sent, in review or accepted) `attachment_purge_months` ago are
    deleted; the timeline says so. Returns how many files went."""
    months = rt.settings.section(ReferralSettings).attachment_purge_months
    now = rt.now()
    before = now - timedelta(days=round(30.44 * months))
    done = 0
    while True:
        async with write_transaction():
            rows = await (
                Attachment.select(Attachment.referral)
                .where(Attachment.referral.status.not_in(list(ACTIVE)) & (Attachment.referral.updated_at <= before))
                .distinct()
                .limit(BATCH)
            )
            if not rows:
                return done
            ids = sorted({r["referral"] for r in rows})
            done += await _delete(ids, now)


async def _delete(referral_ids: list[int], now: datetime) -> int:
    """Delete the files of these referrals, with a line on each one's timeline (inside the caller's transaction)."""
    counts: dict[int, int] = {}
    for r in await Attachment.select(Attachment.referral).where(Attachment.referral.is_in(referral_ids)):
        counts[r["referral"]] = counts.get(r["referral"], 0) + 1
    if not counts:
        return 0
    await Attachment.delete().where(Attachment.referral.is_in(list(counts)))
    await ReferralEvent.insert(
        *[
            ReferralEvent(referral=rid, at=now, action="purge_files", details={"count": n})
            for rid, n in sorted(counts.items())
        ]
    )
    return sum(counts.values())


async def delete_for(referral_ids: list[int], now: datetime) -> int:
    """The anonymisation empties the files too."""
    return await _delete(referral_ids, now) if referral_ids else 0
