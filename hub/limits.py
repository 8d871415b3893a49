"""Limits at the edge: JSON too deeply nested or with numbers too long is refused before any parser sees it.

Parsers recurse (msgspec, the standard library's json) and Python refuses integers of more than 4,300 digits:
without these caps, `[` × 1000 or a 5,000-digit number is a RecursionError or a ValueError, so a 500.
"""

from __future__ import annotations

import re

from litestar.exceptions import ClientException
from litestar.types import ASGIApp, Receive, ReceiveMessage, Scope, Send

from hub.errors import Invalid

JSON_MAX_DEPTH = 64  # our deepest document (an import file) nests 4 levels
JSON_MAX_NUMBER_CHARS = 40  # a coordinate written out with 17 significant digits and an exponent fits easily
JSON_MAX_BODY_BYTES = 1024 * 1024  # the API's bodies are a few hundred bytes; files come as uploads, not JSON bodies

_STRING = re.compile(rb'"(?:[^"\\]|\\.)*"', re.S)
_LONG_NUMBER = re.compile(rb"[-+0-9.eE]{%d,}" % (JSON_MAX_NUMBER_CHARS + 1))
_LONG_DIGITS = re.compile(rb"[0-9]{%d,}" % (JSON_MAX_NUMBER_CHARS + 1))
_NOT_BRACKETS = bytes(c for c in range(256) if c not in b"[]{}")
_PAIR = re.compile(rb"\[\]|\{\}")

TOO_DEEP = f"Données trop imbriquées : {JSON_MAX_DEPTH} niveaux de listes ou d'objets au plus."
TOO_LONG_NUMBER = f"Nombre trop long : {JSON_MAX_NUMBER_CHARS} caractères au plus."


def json_shape_problem(body: bytes) -> str | None:
    """Why this JSON text is refused (in French), or None. Strings are skipped: brackets and digits in them are text."""
    opening = body.count(b"[") + body.count(b"{")
    if opening <= JSON_MAX_DEPTH and not _LONG_DIGITS.search(body):
        return None  # the common case, at C speed: too few brackets to nest deeply, no long run of digits at all
    bare = _STRING.sub(b'""', body)
    if _LONG_NUMBER.search(bare):
        return TOO_LONG_NUMBER
    brackets = bare.translate(None, _NOT_BRACKETS)
    for _ in range(JSON_MAX_DEPTH + 1):  # each pass takes away the innermost level of every balanced part
        brackets, removed = _PAIR.subn(b"", brackets)
        if not removed:
            break
    else:
        return TOO_DEEP
    # What is left never closes what it opened: a parser fails at its first closing bracket, this deep at most.
    closings = [at for at in (brackets.find(b"]"), brackets.find(b"}")) if at >= 0]
    unclosed = min(closings) if closings else len(brackets)
    return TOO_DEEP if unclosed > JSON_MAX_DEPTH else None


def bounded_int(text: str) -> int:
    """For json.loads(parse_int=…), on files too large for json_shape_problem's pass over strings."""
    if len(text) > JSON_MAX_NUMBER_CHARS:
        raise ValueError(TOO_LONG_NUMBER)
    return int(text)


def _is_json(scope: Scope) -> bool:
    for name, value in scope["headers"]:
        if name == b"content-type":
            return b"json" in value.lower()
    return False


class JsonLimitsMiddleware:
    """Reads a JSON request body once, refuses it (400, mapped by hub.web) when it breaks a limit, then replays it."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope.get("method") in ("GET", "HEAD", "OPTIONS") or not _is_json(scope):
            await self.app(scope, receive, send)
            return
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] != "http.request":  # the client left: let the app see it as usual
                await self.app(scope, _replay([message], receive), send)
                return
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > JSON_MAX_BODY_BYTES:
                raise ClientException(status_code=413, detail="Envoi trop volumineux.")
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        body = b"".join(chunks)
        problem = json_shape_problem(body)
        if problem:
            raise Invalid(f"Les données envoyées sont refusées : {problem}", {"body": problem})
        await self.app(scope, _replay([{"type": "http.request", "body": body, "more_body": False}], receive), send)


def _replay(messages: list[ReceiveMessage], receive: Receive) -> Receive:
    pending = list(messages)

    async def replayed() -> ReceiveMessage:
        if pending:
            return pending.pop(0)
        return await receive()

    return replayed  # type: ignore[return-value]
