"""The resident's slip (issue 11): a FALC page handed to the person who has no account, as DOCX or PDF.

Where to go, the appointment or the opening hours in words, what to bring, who sent them, whom to call, and a
QR code to the status page (`/suivi/<code>`: an unguessable code, no personal data behind it). The template
is templates/referrals/slip.docx, written by scripts/make-referral-slip; every value put in it is made FALC
here (first name only, names cut into short lines, times "14 h 30", the phone in pairs of digits), so the
rendered slip passes hub.falc.check_docx whatever the directory holds.
"""

from __future__ import annotations

import io
import re
from collections.abc import Iterable, Sequence
from datetime import date, datetime, timedelta
from typing import Any

from litestar import Response

from hub import falc
from hub.accounts import Actor
from hub.documents import Picture, render_docx
from hub.runtime import Runtime
from hub.settings import PROJECT_ROOT
from hub.tables import Structure
from hub.web import WEEKDAYS_FR
from network import referral_lookup as directory
from referrals import service, slots
from referrals.slots import PARIS

VERSION = 3  # of templates/referrals/slip.docx: bump when scripts/make-referral-slip changes its layout
TEMPLATE = PROJECT_ROOT / "templates" / "referrals" / "slip.docx"
QR_WIDTH_CM = 2.6
NBSP = "\u00a0"
MAX_LINE_WORDS = 10  # a name or an address longer than 12 words is cut into lines of about this many words
MEDIA_TYPES = {
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "pdf": "application/pdf",
}

# What to bring, by the need's category (data·inclusion thématiques); always an ID and this slip.
ALWAYS_BRING = ("votre pièce d'identité", "cette fiche")
BRING: dict[str, tuple[str, ...]] = {
    "difficultes-administratives-ou-juridiques": (
        "votre numéro allocataire CAF si vous en avez un",
        "les courriers que vous avez reçus",
    ),
    "difficultes-financieres": ("votre dernier avis d'impôt", "vos derniers relevés de compte"),
    "famille": ("votre numéro allocataire CAF si vous en avez un", "votre livret de famille"),
    "logement-hebergement": ("votre dernier avis d'impôt", "votre numéro allocataire CAF si vous en avez un"),
    "numerique": ("votre téléphone portable", "votre adresse mail et son mot de passe si vous en avez"),
    "sante": ("votre carte Vitale", "votre attestation de mutuelle si vous en avez une"),
    "mobilite": ("votre permis de conduire si vous en avez un",),
    "trouver-un-emploi": ("votre CV si vous en avez un", "votre numéro France Travail si vous en avez un"),
    "preparer-sa-candidature": ("votre CV si vous en avez un",),
    "choisir-un-metier": ("votre CV si vous en avez un",),
    "se-former": ("votre CV si vous en avez un", "vos diplômes si vous en avez"),
    "creer-une-entreprise": ("votre projet écrit si vous en avez un",),
    "remobilisation": ("votre numéro France Travail si vous en avez un",),
}
MAX_BRING = 6
CIVILITIES = {"m", "mme", "mlle", "monsieur", "madame", "mademoiselle", "dr"}


_CAPS_WORD = re.compile(r"\b[A-ZÀ-ÖØ-Þ]+(?:-[A-ZÀ-ÖØ-Þ]+)*\b")  # a word in capitals, hyphens too
_SEPARATORS = re.compile(r"\s[-–—]\s|[,:]\s")
_RANGE = re.compile(r"^(?P<start>.+?) à (?P<end>.+)$")


# ---------------------------------------------------------------- values made FALC
def _uncapitalised(match: re.Match[str]) -> str:
    """ "RENDEZ-VOUS" → "Rendez-Vous"; acronyms (CAF, CCAS, ANPA) stay as they are."""
    parts = match.group(0).split("-")
    if max(len(part) for part in parts) < 5:
        return match.group(0)
    return "-".join(part.capitalize() for part in parts)


def _clean(text: str) -> str:
    """A name or an address from the directory, without what the FALC rules forbid on paper."""
    text = " ".join(text.split())
    text = re.sub(r"\s*&\s*", " et ", text)
    text = re.sub(r"\b(?:etc|ex|cf)\.", "", text, flags=re.IGNORECASE)
    text = re.sub(r"\s*[(\[{]\s*", ", ", text)  # "Centre communal d'action sociale (CCAS)": ", CCAS"
    text = re.sub(r"\s*[)\]}]", "", text)
    text = re.sub(r"\s*;\s*", ", ", text).replace("%", " pour cent").replace("#", " numéro ").replace("§", "")
    text = _CAPS_WORD.sub(_uncapitalised, text)
    text = re.sub(r"(?:\s*,)+", ",", text)  # "a , , b": "a, b"
    found = falc.sentences(" ".join(text.split()))  # "Asso. Les Amis" would read as two sentences
    text = ", ".join(sentence.rstrip(".!?…") for sentence in found) if len(found) > 1 else " ".join(found)
    return text.strip(" ,")


def lines_of(text: str, max_words: int = MAX_LINE_WORDS) -> list[str]:
    """A name or an address as short lines: whole when it is short, else cut at its commas and dashes."""
    text = _clean(text)
    if not text:
        return []
    if len(falc.words(text)) <= falc.TARGET_WORDS:
        return [text]
    lines: list[str] = []
    for piece in _SEPARATORS.split(text):
        words = piece.strip(" ,-–—").split()
        while len(words) > falc.TARGET_WORDS:  # a piece still too long: cut it by word count
            lines.append(" ".join(words[:max_words]))
            words = words[max_words:]
        if not words:
            continue
        if lines and len(lines[-1].split()) + len(words) <= max_words:
            lines[-1] = f"{lines[-1]}, {' '.join(words)}"
        else:
            lines.append(" ".join(words))
    return lines


def greeting(resident_name: str) -> str:
    """ "Bonjour Awa," with the first name only, or "Bonjour," (no name, an initial, a civility)."""
    first = resident_name.split()[0].strip(",.") if resident_name.split() else ""
    if first.isupper():  # "JEAN-BAPTISTE" as typed in capitals: "Jean-Baptiste"
        first = "-".join(part.capitalize() for part in first.split("-"))
    if re.fullmatch(r"[^\W\d_]{2,}(?:[-'][^\W\d_]+)*", first) and first.casefold() not in CIVILITIES:
        return f"Bonjour {first},"
    return "Bonjour,"


def phone_in_words(phone: str) -> str:
    """ "02 38 00 00 02": a French number in pairs of digits (never dots, which read as a date)."""
    digits = re.sub(r"\D", "", phone)
    if phone.strip().startswith("+33") and len(digits) == 11:
        digits = "0" + digits[2:]
    if len(digits) == 10:  # no-break spaces: the number never wraps in the middle
        return NBSP.join(digits[i : i + 2] for i in range(0, 10, 2))
    return NBSP.join(re.sub(r"[^\d+]", " ", phone).split())


def appointment_in_words(starts_at: datetime) -> str:
    """ "le jeudi 3 décembre 2026 à 14 h" (Europe/Paris)."""
    local = starts_at.astimezone(PARIS)
    clock = slots.when_in_french(local).rsplit(" à ", 1)[1]
    return f"le {slots.when_in_french_day(local.date())} à {clock}"


def _falc_range(text: str) -> str:
    """ "8 h 30 à 12 h 30" → "de 8 h 30 à 12 h 30"; "24 h sur 24" → "jour et nuit"."""
    if text == "24 h sur 24":
        return "jour et nuit"
    return f"de {text}" if _RANGE.match(text) else text


def _days_label(first: int, last: int) -> str:
    if first == last:
        return f"Le {WEEKDAYS_FR[first]}"
    if last == first + 1:
        return f"Le {WEEKDAYS_FR[first]} et le {WEEKDAYS_FR[last]}"
    return f"Du {WEEKDAYS_FR[first]} au {WEEKDAYS_FR[last]}"


def hours_lines(week: Sequence[tuple[str, str]]) -> tuple[list[dict[str, Any]], list[str]]:
    """hours_in_french's week as FALC list items, days with the same hours together ("Du lundi au vendredi :
    de 9 h à 12 h"); a day with two ranges or more gets one sub-item per range. And the closed days' names."""
    per_day = [[_falc_range(r.strip()) for r in ranges.split(",")] if ranges != "fermé" else [] for _, ranges in week]
    items: list[dict[str, Any]] = []
    day = 0
    while day < len(per_day):
        ranges = per_day[day]
        last = day
        while last + 1 < len(per_day) and per_day[last + 1] == ranges:
            last += 1
        if ranges:
            label = _days_label(day, last)
            if len(ranges) == 1:
                items.append({"text": f"{label} : {ranges[0]}", "sub": False})
            else:
                items.append({"text": f"{label} :", "sub": False})
                items += [{"text": r, "sub": True} for r in ranges]
        day = last + 1
    return items, [name for (name, _), ranges in zip(week, per_day, strict=True) if not ranges]


REGULAR_WEEKS = 8  # the weeks looked at for the usual week: holidays and closures of a week or two drop out


def regular_week(expression: str, today: date) -> tuple[list[tuple[str, str]], bool]:
    """The usual week of an opening-hours expression, day by day as hours_in_french writes it: each day's most
    frequent hours over the coming weeks (a holiday, a week's closure leave it unchanged; ties: the soonest).
    And whether the weeks differ beyond that (one Saturday in two…), when the slip says to call first."""
    weeks = [directory.hours_in_french(expression, today + timedelta(weeks=n)) for n in range(REGULAR_WEEKS)]
    weeks = [week for week in weeks if week]
    if not weeks:
        return [], False
    regular: list[tuple[str, str]] = []
    varies = False
    for day in range(7):
        seen = [week[day][1] for week in weeks]
        usual = max(dict.fromkeys(seen), key=seen.count)
        varies = varies or seen.count(usual) < len(seen) - 2
        regular.append((weeks[0][day][0], usual))
    return regular, varies


def _day_groups(names: Sequence[str]) -> list[str]:
    """ "le lundi", "le samedi et le dimanche", "du mercredi au vendredi": consecutive closed days together."""
    order = [d.capitalize() for d in WEEKDAYS_FR]
    indexes = sorted(order.index(n) for n in names)
    groups: list[list[int]] = []
    for i in indexes:
        if groups and i == groups[-1][-1] + 1:
            groups[-1].append(i)
        else:
            groups.append([i])
    out = []
    for g in groups:
        first, last = WEEKDAYS_FR[g[0]], WEEKDAYS_FR[g[-1]]
        if len(g) == 1:
            out.append(f"le {first}")
        elif len(g) == 2:
            out.append(f"le {first} et le {last}")
        else:
            out.append(f"du {first} au {last}")
    return out


def closed_sentences(closed: Sequence[str], holidays: bool) -> list[str]:
    """The closed days in words, one short sentence each ("Le service est fermé le samedi et le dimanche.")."""
    groups = _day_groups(closed)
    sentences = []
    if groups:
        listed = groups[0] if len(groups) == 1 else ", ".join(groups[:-1]) + " et " + groups[-1]
        sentences.append(f"Le service est fermé {listed}.")
    if holidays:
        sentences.append(
            "Il est aussi fermé les jours fériés." if sentences else "Le service est fermé les jours fériés."
        )
    return sentences


_HOLIDAYS_OFF = re.compile(r"\bPH\s+(?:off|closed)\b", re.IGNORECASE)


def things_to_bring(thematiques: Iterable[str], listed: Iterable[str] = ()) -> list[str]:
    """What the service itself lists in the directory ("À apporter"); else the usual papers for the need."""
    own = [" ".join(item.split()) for item in listed if item.strip()]
    if own:
        chosen = list(dict.fromkeys(item[0].lower() + item[1:] if item[1:2].islower() else item for item in own))
        return [*chosen[: MAX_BRING - 1], ALWAYS_BRING[1]]
    found: list[str] = list(ALWAYS_BRING[:1])
    for code in thematiques:
        for thing in BRING.get(code.split("--", 1)[0], ()):
            if thing not in found:
                found.append(thing)
    return [*found[: MAX_BRING - 1], ALWAYS_BRING[1]]


def qr_png(url: str) -> bytes:
    import segno

    out = io.BytesIO()
    segno.make(url, error="m", micro=False).save(out, kind="png", scale=10, border=4)
    return out.getvalue()


# ---------------------------------------------------------------- the slip
async def context_of(rt: Runtime, actor: Actor, referral_id: int) -> dict[str, Any]:
    """What the template needs (the QR code's URL under "status_url"); 404 outside the two structures."""
    referral, code = await service.read_with_code(actor, referral_id)
    card = (await directory.cards([referral.service_id])).get(referral.service_id)
    names = await _structure_names([referral.sender_structure_id, referral.receiver_structure_id])
    appointment = await slots.appointment_of(referral_id)
    places = card.places if card else ()
    place = next((p for p in places if appointment and p.name == appointment["place"]), places[0] if places else None)
    place_lines: list[str] = []
    if appointment and appointment["place"] and (place is None or place.name != appointment["place"]):
        place_lines += lines_of(appointment["place"])
    if place is not None:
        place_lines += lines_of(place.name)
        place_lines += lines_of(place.address)
        place_lines += lines_of(f"{place.postal_code} {place.commune}")
    if not place_lines:
        place_lines = lines_of(names.get(referral.receiver_structure_id, "")) or ["Demandez l'adresse au service."]
    hours: list[dict[str, Any]] = []
    notes: list[str] = []
    number, _ = service.contact_phone(card)  # the service's, else its place's, else its structure's
    phone = phone_in_words(number) if number else ""
    if not appointment and place is not None:
        week, varies = regular_week(place.opening_hours, rt.today())
        hours, closed = hours_lines(week)
        if hours:
            notes = closed_sentences(closed, bool(_HOLIDAYS_OFF.search(place.opening_hours)))
            if varies:
                notes.append("Les horaires changent certaines semaines.")
                notes.append("Appelez le service avant de venir." if phone else "Demandez les horaires avant de venir.")
    if hours:
        no_hours = ""
    elif phone:
        no_hours = "Appelez le service pour savoir quand venir."
    else:
        no_hours = "Demandez les horaires à la personne qui vous a donné cette fiche."
    return {
        "greeting": greeting(referral.resident_name),
        "service_lines": lines_of(referral.service_name) or ["Le service"],
        "place_lines": place_lines,
        "appointment": appointment_in_words(appointment["starts_at"]) if appointment else "",
        "hours": hours,
        "hours_notes": notes,
        "no_hours": no_hours,
        "bring": things_to_bring(referral.thematiques, card.justificatifs if card else ()),
        "sender_lines": lines_of(names.get(referral.sender_structure_id, "")) or ["La structure qui vous oriente"],
        "phone": phone,
        "status_url": f"{rt.settings.base_url.rstrip('/')}/suivi/{code}",
    }


async def _structure_names(ids: list[int]) -> dict[int, str]:
    rows = await Structure.select(Structure.id, Structure.name).where(Structure.id.is_in(ids))
    return {row["id"]: row["name"] for row in rows}


def render(context: dict[str, Any]) -> bytes:
    """The template filled with the context, the QR code of context["status_url"] in place of {{ qr }}."""
    url = context["status_url"]
    qr = Picture(qr_png(url), QR_WIDTH_CM, link=url, alt=f"Code QR vers la page de suivi : {url}")
    return render_docx(TEMPLATE, context, {"qr": qr})


async def slip_docx(rt: Runtime, actor: Actor, referral_id: int) -> bytes:
    """The slip as a .docx, for the members of the two structures (404 for anyone else)."""
    return render(await context_of(rt, actor, referral_id))


async def slip_pdf(rt: Runtime, actor: Actor, referral_id: int) -> bytes:
    """The slip as a PDF through the warm LibreOffice (DocumentsUnavailable, 503, without it)."""
    return await rt.documents.to_pdf(await slip_docx(rt, actor, referral_id))


async def download(rt: Runtime, actor: Actor, referral_id: int, kind: str) -> Response[bytes]:
    """The slip as an attachment, never kept by a cache (it carries the person's first name)."""
    content = await (slip_pdf if kind == "pdf" else slip_docx)(rt, actor, referral_id)
    return Response(
        content,
        media_type=MEDIA_TYPES[kind],
        headers={
            "Content-Disposition": f'attachment; filename="fiche-orientation-{referral_id}.{kind}"',
            "Cache-Control": "no-store",
        },
    )
