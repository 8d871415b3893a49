"""Who is calling (session cookie for pages, bearer token for the API) and the policies that guard routes.

Every route declares exactly one policy guard; tests/test_authorization.py walks the route table.
"""

from __future__ import annotations

import abc
from typing import Any

from litestar.connection import ASGIConnection
from litestar.di import NamedDependency
from litestar.handlers.base import BaseRouteHandler
from litestar.types import ASGIApp, Receive, Scope, Send

from hub import sessions
from hub.accounts import Actor
from hub.errors import DomainError, Forbidden, Invalid, Unauthorized
from hub.runtime import Runtime

SESSION_COOKIE = "maillage_session"
# Handler parameters filled by the app's dependencies (hub.app): the runtime and the signed-in actor.
RuntimeDep = NamedDependency[Runtime]
CurrentActor = NamedDependency[Actor]
API_PREFIX = "/api/"
ID_MAX = 2**31 - 1  # every id in a path is a Serial primary key: PostgreSQL's integer


class SecondFactorRequired(DomainError):
    """Signed in with a password, but the second step (or its enrolment) is still due."""

    status_code = 401
    title = "Double authentification requise"


def is_api_path(path: str) -> bool:
    return path.startswith(API_PREFIX)


class ActorMiddleware:
    """Resolves scope["user"] to an Actor or None before any guard runs."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] in ("http", "websocket"):
            rt: Runtime = scope["litestar_app"].state.runtime
            scope["user"] = await self._resolve(rt, scope)
        await self.app(scope, receive, send)

    @staticmethod
    async def _resolve(rt: Runtime, scope: Scope) -> Actor | None:
        if is_api_path(scope["path"]):
            # The API takes bearer tokens only: no cookie is honoured there, so no CSRF can ride on it.
            for name, value in scope["headers"]:
                if name == b"authorization":
                    scheme, _, token = value.decode("latin-1").partition(" ")
                    if scheme.lower() == "bearer":
                        return await sessions.resolve_api_token(rt, token.strip())
            return None
        for name, value in scope["headers"]:
            if name == b"cookie":
                for part in value.decode("latin-1").split(";"):
                    key, _, token = part.strip().partition("=")
                    if key == SESSION_COOKIE and token:
                        return await sessions.resolve_session(rt, token)
        return None


def current_actor(connection: ASGIConnection[Any, Any, Any, Any]) -> Actor | None:
    return connection.scope.get("user")  # type: ignore[return-value]


class Policy(abc.ABC):
    """A named guard; the name is what the route table test and the authorization matrix read."""

    def __init__(self, name: str, description: str) -> None:
        self.name = name
        self.description = description
        self.__name__ = f"policy_{name}"

    @abc.abstractmethod
    def check(self, actor: Actor | None, connection: ASGIConnection[Any, Any, Any, Any]) -> None:
        """Raise a domain error when the actor may not go through."""

    async def __call__(self, connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler) -> None:
        # async, so Litestar calls the guard in the event loop instead of a worker thread per request
        self.check(current_actor(connection), connection)
        check_path_ids(connection)

    def __repr__(self) -> str:
        return f"<Policy {self.name}>"


def check_path_ids(connection: ASGIConnection[Any, Any, Any, Any]) -> None:
    """Refuse integer path parameters that no row can have, before any query sees them.

    Every route passes through exactly one policy, so this covers pages and API alike: an id beyond the
    database's integer would otherwise fail inside the driver (a 500), on SQLite past 2**63, on PostgreSQL past 2**31.
    """
    wrong = {
        name: f"Identifiant invalide : un nombre entier de 1 à {ID_MAX}."
        for name, value in connection.path_params.items()
        if isinstance(value, int) and not isinstance(value, bool) and not 1 <= value <= ID_MAX
    }
    if wrong:
        raise Invalid("Identifiant invalide dans l'adresse.", wrong)


def signed_in_actor(actor: Actor | None) -> Actor:
    """The actor, fully signed in; Unauthorized or SecondFactorRequired otherwise (for every policy)."""
    if actor is None:
        raise Unauthorized("Connectez-vous pour continuer.")
    if not actor.fully_authenticated:
        raise SecondFactorRequired("Saisissez le code de votre application d'authentification.")
    return actor


class Public(Policy):
    def check(self, actor: Actor | None, connection: ASGIConnection[Any, Any, Any, Any]) -> None:
        return None


class PasswordChecked(Policy):
    """Signed in with a password; the second factor may still be due (its own pages)."""

    def check(self, actor: Actor | None, connection: ASGIConnection[Any, Any, Any, Any]) -> None:
        if actor is None or actor.via != "session":
            raise Unauthorized("Connectez-vous pour continuer.")


class SignedIn(Policy):
    def check(self, actor: Actor | None, connection: ASGIConnection[Any, Any, Any, Any]) -> None:
        signed_in_actor(actor)


class Coordinator(Policy):
    def check(self, actor: Actor | None, connection: ASGIConnection[Any, Any, Any, Any]) -> None:
        if not signed_in_actor(actor).oversees_network:
            raise Forbidden("Réservé au coordinateur du réseau.")


class Admin(Policy):
    def check(self, actor: Actor | None, connection: ASGIConnection[Any, Any, Any, Any]) -> None:
        if not signed_in_actor(actor).is_admin:
            raise Forbidden("Réservé aux administrateurs.")


class StructureManager(Policy):
    """Manager of the structure named by the path's structure_id (or the coordinator)."""

    def check(self, actor: Actor | None, connection: ASGIConnection[Any, Any, Any, Any]) -> None:
        actor = signed_in_actor(actor)
        structure_id = connection.path_params.get("structure_id")
        if actor.oversees_network:
            return
        if structure_id is None or not actor.has_role(int(structure_id), "manager"):
            raise Forbidden("Réservé aux référents de cette structure.")


class AnyStructureManager(Policy):
    """Manages at least one structure (or is the coordinator); object checks are in the services."""

    def check(self, actor: Actor | None, connection: ASGIConnection[Any, Any, Any, Any]) -> None:
        actor = signed_in_actor(actor)
        if not (actor.oversees_network or actor.structures_with("manager")):
            raise Forbidden("Réservé aux référents de structure.")


public = Public("public", "anyone, signed in or not")
password_checked = PasswordChecked("password_checked", "signed in, second factor possibly still due")
signed_in = SignedIn("signed_in", "any fully signed-in user")
coordinator = Coordinator("coordinator", "the network coordinator or an admin")
admin = Admin("admin", "an administrator")
structure_manager = StructureManager("structure_manager", "a manager of the structure in the path, or the coordinator")
any_structure_manager = AnyStructureManager("any_structure_manager", "a manager of some structure, or the coordinator")

POLICIES = (public, password_checked, signed_in, coordinator, admin, structure_manager, any_structure_manager)
