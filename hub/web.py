"""The web shell: page rendering with flash messages and navigation, and the one place errors are mapped."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import logging
import re
from collections.abc import Sequence
from datetime import date, datetime
from typing import Any
from urllib.parse import quote
from zoneinfo import ZoneInfo

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from litestar import Request, Response
from litestar.datastructures import Cookie
from litestar.exceptions import (
    ClientException,
    HTTPException,
    NotAuthorizedException,
    NotFoundException,
    PermissionDeniedException,
    ValidationException,
)
from litestar.response import Redirect, Template
from litestar.status_codes import HTTP_500_INTERNAL_SERVER_ERROR

from hub.accounts import MAX_EMAIL, Actor
from hub.auth import SecondFactorRequired, current_actor, is_api_path
from hub.db import RETRY_AFTER_SECONDS, is_contention
from hub.errors import DomainError, TooManyRequests, Unauthorized, Unavailable
from hub.journal import of
from hub.modules import Module, NavItem
from hub.reporting import percent_text
from hub.runtime import Runtime
from hub.schemas import PATTERN_MESSAGES
from hub.settings import PROJECT_ROOT

log = logging.getLogger("maillage.web")

FLASH_COOKIE = "maillage_flash"
PROBLEM_JSON = "application/problem+json"
STATUS_TITLES = {
    400: "Requête invalide",
    401: "Connexion requise",
    403: "Accès refusé",
    404: "Page introuvable",
    405: "Méthode non autorisée",
    409: "Conflit",
    410: "Lien expiré",
    413: "Envoi trop volumineux",
    415: "Format non pris en charge",
    422: "Données invalides",
    429: "Trop de tentatives",
    500: "Erreur interne",
    503: "Service momentanément indisponible",
}

API_TITLES = {404: "Introuvable"}  # an API client asked for a resource, not a page
API_UNAUTHORIZED = "Jeton absent, inconnu ou révoqué : envoyez l'en-tête Authorization: Bearer <jeton personnel>."


# ---------------------------------------------------------------- flash messages (signed cookie)
def _sign(rt: Runtime, payload: bytes) -> str:
    mac = hmac.new(rt.secrets.flash_key, payload, hashlib.sha256).hexdigest()[:32]
    return base64.urlsafe_b64encode(payload).decode() + "." + mac


def _unsign(rt: Runtime, value: str) -> list[list[str]]:
    data, _, mac = value.partition(".")
    try:
        payload = base64.urlsafe_b64decode(data.encode())
    except ValueError:
        return []
    expected = hmac.new(rt.secrets.flash_key, payload, hashlib.sha256).hexdigest()[:32]
    if not hmac.compare_digest(expected, mac):
        return []
    try:
        messages = json.loads(payload)
    except ValueError:
        return []
    return [m for m in messages if isinstance(m, list) and len(m) == 2]


def redirect(request: Request[Any, Any, Any], path: str, message: str = "", category: str = "success") -> Redirect:
    """Post/redirect/get with an optional flash message for the next page."""
    response = Redirect(path=path)
    if message:
        rt: Runtime = request.app.state.runtime
        payload = json.dumps([[category, message]], ensure_ascii=False).encode()
        response.set_cookie(
            FLASH_COOKIE,
            _sign(rt, payload),
            max_age=120,
            httponly=True,
            secure=rt.settings.secure_cookies,
            samesite="lax",
            path="/",
        )
    return response


# ---------------------------------------------------------------- pages
def template_environment() -> Environment:
    env = Environment(
        loader=FileSystemLoader(PROJECT_ROOT / "templates" / "pages"),
        autoescape=select_autoescape(default=True),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["date_fr"] = _date_fr
    env.filters["percent_fr"] = percent_text
    env.filters["of"] = of  # "de Paul", "d'Ordinateurs solidaires"
    env.globals["email_max"] = MAX_EMAIL  # every e-mail field's maxlength, whichever page it is on
    return env


WEEKDAYS_FR = ("lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi", "dimanche")
MONTHS_FR = (
    "janvier",
    "février",
    "mars",
    "avril",
    "mai",
    "juin",
    "juillet",
    "août",
    "septembre",
    "octobre",
    "novembre",
    "décembre",
)


def _day_fr(moment: date) -> str:
    """ "1er octobre 2026", "13 octobre 2026": the French way."""
    day = "1er" if moment.day == 1 else str(moment.day)
    return f"{day} {MONTHS_FR[moment.month - 1]} {moment.year}"


def _date_fr(value: Any, with_time: bool = True) -> str:
    """Dates are stored in UTC and shown in Europe/Paris, written out in French."""
    if value is None or value == "":
        return "—"
    moment = datetime.fromisoformat(value) if isinstance(value, str) else value
    if not isinstance(moment, datetime):  # a calendar date: no time zone to convert
        return _day_fr(moment)
    local = moment.astimezone(ZoneInfo("Europe/Paris"))
    text = _day_fr(local)
    return f"{text} à {local.hour} h {local.minute:02d}" if with_time else text


date_fr = _date_fr  # for messages written outside templates


def navigation(actor: Actor | None, modules: Sequence[Module] = ()) -> list[tuple[str, str]]:
    """The top bar: the core's entries and each module's, in their declared order."""
    items = [NavItem("/", "Accueil", order=0)]
    for module in modules:
        if module.nav is not None:
            items += module.nav(actor)
    if actor is not None and actor.fully_authenticated:
        if actor.oversees_network:
            items.append(NavItem("/journal", "Journal", 40))
        if actor.is_admin:
            items.append(NavItem("/admin/utilisateurs", "Utilisateurs", 50))
        items.append(NavItem("/compte", "Mon compte", 90))
    return [(item.path, item.label) for item in sorted(items, key=lambda item: item.order)]


def page(request: Request[Any, Any, Any], template: str, status_code: int = 200, **context: Any) -> Template:
    """Render a page with the shell's context: who is signed in, navigation, pending flash messages."""
    rt: Runtime = request.app.state.runtime
    actor = current_actor(request)
    flashes = _unsign(rt, request.cookies.get(FLASH_COOKIE, "")) if FLASH_COOKIE in request.cookies else []
    cookies = [Cookie(key=FLASH_COOKIE, value="", max_age=0, path="/")] if FLASH_COOKIE in request.cookies else []
    return Template(
        template_name=template,
        context={
            "actor": actor,
            "nav": navigation(actor, rt.modules),
            "flashes": flashes,
            "path": request.url.path,
            **context,
        },
        status_code=status_code,
        cookies=cookies,
        headers={"Cache-Control": "no-store"},
    )


# ---------------------------------------------------------------- error mapping (the one place)
_TYPE_NAMES = {
    "int": "nombre entier",
    "float": "nombre",
    "number": "nombre",
    "str": "texte",
    "bool": "booléen",
    "object": "objet",
    "array": "liste",
    "null": "null",
}
_MSGSPEC_PATTERNS: list[tuple[re.Pattern[str], str]] = [
    (re.compile(r"Object missing required field `(\w+)`"), "Champ obligatoire manquant."),
    (re.compile(r"Object contains unknown field `([^`]*)`"), "Champ inconnu : retirez-le."),
    (re.compile(r"Missing request body"), "Corps de la requête manquant : envoyez un objet JSON."),
    (re.compile(r"Expected `str` of length <= (\d+)"), "Texte trop long : {0} caractères au plus."),
    (re.compile(r"Expected `str` of length >= (\d+)"), "Texte trop court : {0} caractères au moins."),
    (re.compile(r"Expected `(?:int|integer|float|number)` >= (-?[\d.]+)"), "La valeur doit être au moins {0}."),
    (re.compile(r"Expected `(?:int|integer|float|number)` <= (-?[\d.]+)"), "La valeur doit être au plus {0}."),
    (re.compile(r"Integer value out of range|Number out of range", re.I), "Nombre hors des limites acceptées."),
    (re.compile(r"Invalid enum value '?([^']*)'?"), "Valeur non autorisée."),
    (re.compile(r"JSON is malformed|malformed|Input data was truncated", re.I), "JSON mal formé."),
]
_TYPE_MISMATCH = re.compile(r"Expected `([^`]+)`, got `([^`]+)`")
_REGEX_MISMATCH = re.compile(r"Expected `str` matching regex (.*?)(?: - at `[^`]*`)?$")
# msgspec quotes the pattern with repr(): look the messages up by that spelling
_PATTERN_MESSAGES = {repr(pattern): message for pattern, message in PATTERN_MESSAGES.items()}
_FIELD_IN_MESSAGE = re.compile(r"(?:at `\$\.([\w.\[\]]+)`|field `([^`]*)`)")


def _type_name(name: str) -> str:
    return " ou ".join(_TYPE_NAMES.get(part.strip(), part.strip()) for part in name.split("|"))


def _french(message: str) -> str:
    """msgspec and Litestar speak English; the people reading our errors read French."""
    mismatch = _TYPE_MISMATCH.search(message)
    if mismatch:
        return f"Type invalide : {_type_name(mismatch.group(1))} attendu, {_type_name(mismatch.group(2))} reçu."
    regex = _REGEX_MISMATCH.search(message)
    if regex:
        return _PATTERN_MESSAGES.get(regex.group(1), "Format invalide.")
    for pattern, template in _MSGSPEC_PATTERNS:
        match = pattern.search(message)
        if match:
            return template.format(*match.groups())
    return "Valeur invalide."


def _validation_fields(exc: ValidationException) -> dict[str, str]:
    """Field name -> French message; the body as a whole is `body`, never the handler's parameter name."""
    fields: dict[str, str] = {}
    extra = exc.extra if isinstance(exc.extra, list) else []
    for item in extra:
        if not isinstance(item, dict):
            continue
        message = str(item.get("message", ""))
        key = str(item.get("key") or "")
        named = _FIELD_IN_MESSAGE.search(message)
        if item.get("source") == "body" and key == "data":
            if message == "'data'":  # Litestar's KeyError: no body at all
                key, message = "body", "Missing request body"
            else:
                key = (named and (named.group(1) or named.group(2))) or "body"
        fields[key or "body"] = _french(message)
    if not fields:
        fields["body"] = _french(str(exc.detail))
    return fields


def _problem(
    request: Request[Any, Any, Any],
    status: int,
    detail: str,
    fields: dict[str, str] | None = None,
    headers: dict[str, str] | None = None,
) -> Response[Any]:
    body: dict[str, Any] = {
        "type": "about:blank",
        "title": API_TITLES.get(status) or STATUS_TITLES.get(status, "Erreur"),
        "status": status,
        "detail": detail,
        "instance": request.url.path,
    }
    if fields:
        body["errors"] = [{"field": k, "message": v} for k, v in fields.items()]
    return Response(content=body, status_code=status, media_type=PROBLEM_JSON, headers=headers)


def _error_page(
    request: Request[Any, Any, Any],
    status: int,
    detail: str,
    fields: dict[str, str] | None = None,
    headers: dict[str, str] | None = None,
) -> Response[Any]:
    template = page(
        request,
        "error.html",
        status_code=status,
        status=status,
        title=STATUS_TITLES.get(status, "Erreur"),
        detail=detail,
        fields=fields or {},
    )
    if headers:
        template.headers.update(headers)
    return template


def handle_exception(request: Request[Any, Any, Any], exc: Exception) -> Response[Any]:
    """Map every error to problem+json (API) or a French page (HTML); never leak a stack trace."""
    status, detail, fields, headers = _classify(request, exc)
    if is_api_path(request.url.path) or request.url.path.startswith("/schema"):
        if status == 401:
            # the API has no sign-in page: say what it takes instead of "sign in to continue"
            detail = API_UNAUTHORIZED
            headers = {**(headers or {}), "WWW-Authenticate": 'Bearer realm="maillage"'}
        return _problem(request, status, detail, fields, headers)
    if isinstance(exc, SecondFactorRequired):
        return Redirect(path="/connexion/code")
    if status == 401:
        return Redirect(path=f"/connexion?suivant={quote(request.url.path)}")
    return _error_page(request, status, detail, fields, headers)


def _classify(
    request: Request[Any, Any, Any], exc: Exception
) -> tuple[int, str, dict[str, str], dict[str, str] | None]:
    if isinstance(exc, TooManyRequests | Unavailable):
        return exc.status_code, exc.message, exc.fields, {"Retry-After": str(exc.retry_after)}
    if isinstance(exc, DomainError):
        return exc.status_code, exc.message, exc.fields, None
    if isinstance(exc, ValidationException):
        fields = _validation_fields(exc)
        return 400, "Les données envoyées sont invalides : " + " ".join(sorted(set(fields.values()))), fields, None
    if isinstance(exc, NotAuthorizedException):
        return 401, Unauthorized("").title + ".", {}, None
    if isinstance(exc, PermissionDeniedException):
        if "CSRF" in str(exc.detail):
            return 403, "Le formulaire a expiré. Rechargez la page et recommencez.", {}, None
        return 403, "Vous n'avez pas accès à cette page.", {}, None
    if isinstance(exc, NotFoundException):
        return 404, "Cette page n'existe pas ou plus.", {}, None
    if isinstance(exc, ClientException) and exc.status_code == 400:
        # Litestar's own 400s: a body it could not decode (malformed JSON, broken form encoding).
        message = _french(str(exc.detail))
        return 400, "Les données envoyées sont illisibles : " + message, {"body": message}, None
    if isinstance(exc, HTTPException):
        status = exc.status_code
        if status >= 500:
            log.error("HTTP %s on %s %s", status, request.method, request.url.path)
            return status, "Une erreur est survenue de notre côté. Réessayez dans un instant.", {}, None
        return status, STATUS_TITLES.get(status, "Requête refusée") + ".", {}, dict(exc.headers or {}) or None
    if is_contention(exc):  # busy, not broken: the reader may simply try again
        log.warning("database busy on %s %s (%s)", request.method, request.url.path, type(exc).__name__)
        message = "Le service est très sollicité en ce moment. Réessayez dans quelques secondes."
        return 503, message, {}, {"Retry-After": str(RETRY_AFTER_SECONDS)}
    log.exception("unexpected error on %s %s", request.method, request.url.path)
    return HTTP_500_INTERNAL_SERVER_ERROR, "Une erreur est survenue de notre côté. Réessayez dans un instant.", {}, None
