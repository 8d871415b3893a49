"""Mandates' JSON API for partner systems (personal tokens, the same rules as the pages): an aidant's structure's
mandates and one mandate; and, for anyone holding a QR code, the public verification (initials only)."""

from __future__ import annotations

import dataclasses
from typing import Annotated, Literal

from litestar import Controller, get
from litestar.params import PathParameter, QueryParameter

from hub import auth
from hub.api import SECURITY, ObjectId, problems
from hub.auth import CurrentActor, RuntimeDep
from hub.errors import Forbidden, NotFound
from hub.mandates import service
from hub.mandates.module import MANDATE_ROLES
from hub.mandates.routes import mandate_member
from hub.mandates.schemas import MandateRow, MandateView, PublicVerification

Tab = Literal["active", "expiring", "history", "drafts"]
PublicCode = Annotated[str, PathParameter(min_length=1, max_length=80, description="Le code du QR")]


@dataclasses.dataclass(frozen=True)
class MandateList:
    structure_id: int
    tab: str
    mandates: list[MandateRow]


class MandateApi(Controller):
    path = "/api/v1/mandates"
    tags = ["Mandats"]
    security = SECURITY
    guards = [mandate_member]

    @get("/", operation_id="listMandates", responses=problems(403, 404))
    async def list_mandates(
        self,
        rt: RuntimeDep,
        actor: CurrentActor,
        structure_id: Annotated[
            int | None, QueryParameter(ge=1, le=auth.ID_MAX, description="la structure ; par défaut la première")
        ] = None,
        tab: Annotated[Tab, QueryParameter(description="valides, bientôt expirés, historique ou projets")] = "active",
    ) -> MandateList:
        """The mandates of one of the caller's structures: valid, expiring soon, history or drafts."""
        mine = actor.structures_with(*MANDATE_ROLES)
        if not mine:
            raise Forbidden("Réservé aux aidants et aux référents des structures.")
        chosen = structure_id or mine[0]
        if chosen not in mine:
            raise NotFound("Cette structure n'existe pas ou vous n'en êtes pas membre.")
        return MandateList(chosen, tab, await service.list_mandates(rt, actor, chosen, tab))

    @get("/{mandate_id:int}", operation_id="getMandate", responses=problems(403, 404))
    async def get_mandate(self, rt: RuntimeDep, actor: CurrentActor, mandate_id: ObjectId) -> MandateView:
        """A mandate of the caller's structure: status, scopes with theirs, timeline, documents, actions."""
        return await service.get_mandate(rt, actor, mandate_id)


class MandateVerificationApi(Controller):
    path = "/api/v1/mandates/verify"
    tags = ["Mandats"]
    guards = [auth.public]

    @get("/{code:str}", operation_id="verifyMandate", responses=problems(404, public=True))
    async def verify(self, rt: RuntimeDep, code: PublicCode) -> PublicVerification:
        """What the QR code says: valide / expiré / révoqué per scope, the structure, the dates, initials only."""
        found = await service.public_verification(rt, code)
        if found is None:
            raise NotFound("Ce code ne correspond à aucun mandat.")
        return found


API_CONTROLLERS = [MandateVerificationApi, MandateApi]
