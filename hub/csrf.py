"""CSRF tokens tied to the session: Litestar's double-submit token, signed with a key derived from the session.

Litestar's own check compares the form's token with the cookie's, both signed with the app's one key, so a
token from any other visit (the attacker's own, planted as a cookie from a sibling site) passes. Here the key
is derived from the session cookie as well: a token is valid for the session it was issued to, or for no
session at all before sign-in. After signing in (or out), the next page issues a new token.
"""

from __future__ import annotations

import hashlib
import hmac
from secrets import compare_digest
from typing import Any

from litestar import Request
from litestar.enums import RequestEncodingType
from litestar.exceptions import PermissionDeniedException
from litestar.middleware._utils import should_bypass_middleware
from litestar.middleware.csrf import CSRF_SECRET_LENGTH, CSRFMiddleware, generate_csrf_hash, generate_csrf_token
from litestar.types import Receive, ReceiveMessage, Scope, Send
from litestar.utils.scope.state import ScopeState
from multipart import MultipartError, MultipartSegment, PushMultipartParser, parse_options_header

from hub.auth import SESSION_COOKIE


class SessionCSRFMiddleware(CSRFMiddleware):
    """Used instead of Litestar's CSRFMiddleware (hub.app passes the same CSRFConfig to it)."""

    def _session_secret(self, request: Request[Any, Any, Any]) -> str:
        session = request.cookies.get(SESSION_COOKIE, "")
        binding = hashlib.sha256(b"maillage/csrf-session:" + session.encode()).digest()
        return hmac.new(self.config.secret.encode(), binding, hashlib.sha256).hexdigest()

    @staticmethod
    def _valid(token: str | None, secret: str) -> str | None:
        """The token's random part when its signature holds under this session's key."""
        if not token or len(token) < CSRF_SECRET_LENGTH + 1:
            return None
        random_part, signature = token[:CSRF_SECRET_LENGTH], token[CSRF_SECRET_LENGTH:]
        return random_part if compare_digest(signature, generate_csrf_hash(random_part, secret)) else None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or should_bypass_middleware(
            scope=scope,
            scopes=self.scopes,
            exclude_opt_key=self.config.exclude_from_csrf_key,
            exclude_path_pattern=self.exclude,
        ):
            await self.app(scope, receive, send)
            return
        request: Request[Any, Any, Any] = scope["litestar_app"].request_class(scope=scope, receive=receive)
        secret = self._session_secret(request)
        cookie = request.cookies.get(self.config.cookie_name)
        state = ScopeState.from_scope(scope)
        if request.method in self.config.safe_methods:
            if self._valid(cookie, secret) is None:  # none yet, or one of another session: issue this session's
                cookie = None
            token = state.csrf_token = cookie or generate_csrf_token(secret=secret)
            await self.app(scope, receive, self.create_send_wrapper(send=send, csrf_cookie=cookie, token=token))
            return
        sent = request.headers.get(self.config.header_name)
        content_type, _ = request.content_type
        if not sent and content_type == RequestEncodingType.MULTI_PART:
            # read only up to the token (forms send it first), then replay: a large upload is not read in one go
            sent, receive = await _multipart_token(receive, str(request.headers.get("content-type", "")))
        elif not sent and content_type == RequestEncodingType.URL_ENCODED:
            sent = (await request.form()).get("_csrf_token")
        from_form, from_cookie = self._valid(sent, secret), self._valid(cookie, secret)
        if from_form is None or from_cookie is None or not compare_digest(from_form, from_cookie):
            raise PermissionDeniedException("CSRF token verification failed")
        state.csrf_token = str(sent)
        await self.app(scope, receive, send)


async def _multipart_token(receive: Receive, content_type: str) -> tuple[str | None, Receive]:
    """The `_csrf_token` field of a multipart body, read as it streams in; and a receive that replays what was
    read, then goes on with the rest. Reads no further than the token (or the whole body when it is missing)."""
    _, options = parse_options_header(content_type)
    read: list[ReceiveMessage] = []
    if not options.get("boundary"):
        return None, _replay(read, receive)
    parser = PushMultipartParser(options["boundary"])
    name: str | None = None
    value = bytearray()
    try:
        while True:
            message = await receive()
            read.append(message)
            more = message["type"] == "http.request" and message.get("more_body", False)
            chunk = message.get("body", b"") if message["type"] == "http.request" else b""
            for event in parser.parse(chunk) if chunk or not more else ():
                if isinstance(event, MultipartSegment):
                    name = event.name if event.filename is None else None
                    value.clear()
                elif event is None:
                    if name == "_csrf_token":
                        return value.decode("ascii", errors="replace"), _replay(read, receive)
                    name = None
                elif name == "_csrf_token" and len(value) < 1024:
                    value.extend(event)
            if not more:
                return None, _replay(read, receive)
    except MultipartError:
        return None, _replay(read, receive)


def _replay(read: list[ReceiveMessage], receive: Receive) -> Receive:
    pending = list(read)

    async def replayed() -> ReceiveMessage:
        if pending:
            return pending.pop(0)
        return await receive()

    return replayed  # type: ignore[return-value]
