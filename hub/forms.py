"""What every domain's forms.py shares: a posted form's French field errors, gathered and raised all at once.

A domain's forms.py reads the posted strings, notes a message for each field at fault, and builds its typed
command only when there is none: the page then comes back with what was typed and every message beside its field.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, TypeVar, cast

from litestar import Request
from litestar.enums import RequestEncodingType
from litestar.types import ASGIApp, Receive, Scope, Send
from litestar.utils.scope.state import ScopeState

from hub.auth import is_api_path
from hub.errors import Invalid

SOME_FIELDS_INVALID = "Certains champs sont invalides."


class FieldErrors(dict[str, str]):
    """Field name -> French message, in the order the rules found them (a later rule may reword a field's)."""

    @contextmanager
    def collecting(self) -> Iterator[None]:
        """Keep the field messages of an Invalid raised inside (a rule shared with other paths, such as an
        import's); an Invalid naming no field is about the whole form, and goes on."""
        try:
            yield
        except Invalid as error:
            if not error.fields:
                raise
            self.update(error.fields)

    def raise_if_any(self, message: str = SOME_FIELDS_INVALID) -> None:
        """Every field's message at once, or nothing when the form is good."""
        if self:
            raise Invalid(message, dict(self))


# ---------------------------------------------------------------- what a person types, before any form reads it
T = TypeVar("T")
SECRET_FIELD = re.compile(r"password")  # passwords are checked as typed, tab and all: they are never rewritten


def tidy_typed(value: str) -> str:
    """A one-line value as the person meant it: a tab pasted into it (from a spreadsheet, a PDF) is a space. A value
    with line breaks comes from a text area, where a tab belongs. Other control characters are not typed by people:
    the forms' own rules refuse them, beside their field."""
    if "\t" not in value or "\n" in value or "\r" in value:
        return value
    return value.replace("\t", " ")


class FormTidyMiddleware:
    """Tidies every value of a page's URL-encoded form (tidy_typed) before the handler's form type checks it: a
    pasted tab no longer turns a form into an error page that forgets what was typed. Litestar keeps the parsed
    form in the request's scope state, where the handler's form body is read from. The API (JSON) is left as sent:
    its clients are told what they sent wrong."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope.get("method") not in ("GET", "HEAD", "OPTIONS"):
            request: Request[Any, Any, Any] = scope["litestar_app"].request_class(scope=scope, receive=receive)
            if request.content_type[0] == RequestEncodingType.URL_ENCODED and not is_api_path(scope["path"]):
                await request.form()  # parsed once, kept in the scope state for every later reader
                state = ScopeState.from_scope(scope)
                if isinstance(state.form, dict):
                    state.form = {name: _tidied(name, value) for name, value in state.form.items()}
        await self.app(scope, receive, send)


def _tidied(name: str, value: T) -> T:
    if SECRET_FIELD.search(name):
        return value
    if isinstance(value, list):
        return cast(T, [tidy_typed(v) if isinstance(v, str) else v for v in value])
    return cast(T, tidy_typed(value)) if isinstance(value, str) else value
