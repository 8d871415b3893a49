"""Referrals' JSON API for partner systems (personal tokens, the same rules as the pages)."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated, Literal

from litestar import Controller, Response, get, post
from litestar.openapi.datastructures import ResponseSpec
from litestar.params import HeaderParameter, QueryParameter

from hub import auth
from hub.api import SECURITY, STRICT_JSON, ObjectId, check_json_body, problems
from hub.auth import CurrentActor, RuntimeDep
from referrals import routing, service
from referrals.lifecycle import OPEN, STATUSES
from referrals.module import ReferralSettings
from referrals.schemas import (
    Candidate,
    ReferralCreate,
    ReferralList,
    ReferralOut,
    ReferralSummary,
    RouteRequest,
    RouteResult,
    Transition,
)

StatusFilter = Literal["", "sent", "in_review", "accepted", "refused", "redirected", "closed", "expired", "cancelled"]


class ReferralApi(Controller):
    path = "/api/v1/referrals"
    tags = ["Orientations"]
    security = SECURITY
    guards = [auth.signed_in]

    @post(
        "/route",
        operation_id="routeReferral",
        status_code=200,
        responses=problems(415, 422),
        before_request=check_json_body,
    )
    async def route(self, rt: RuntimeDep, data: Annotated[RouteRequest, STRICT_JSON]) -> RouteResult:
        """Rank the services that fit a need, each with its reasons in French."""
        return await routing.route(rt, data)

    @post(
        "/why-not/{service_id:int}",
        operation_id="whyNotService",
        status_code=200,
        responses=problems(404, 415, 422),
        before_request=check_json_body,
    )
    async def why_not(
        self, rt: RuntimeDep, service_id: ObjectId, data: Annotated[RouteRequest, STRICT_JSON]
    ) -> Candidate:
        """One service judged against a need: its score, reasons, and the rules that exclude it."""
        return await routing.why_not(rt, data, service_id)

    @post(
        "/",
        operation_id="createReferral",
        responses={
            **problems(403, 409, 415),
            200: ResponseSpec(data_container=ReferralOut, description="Déjà envoyée avec cette clé : la même"),
        },
        before_request=check_json_body,
    )
    async def create(
        self,
        rt: RuntimeDep,
        actor: CurrentActor,
        data: Annotated[ReferralCreate, STRICT_JSON],
        idempotency_key: Annotated[
            str | None,
            HeaderParameter(
                name="Idempotency-Key", max_length=100, description="Une clé par demande : un renvoi rend la même"
            ),
        ] = None,
    ) -> Response[ReferralOut]:
        """Send a referral; the same Idempotency-Key and body returns the first one (200) instead of a new one."""
        referral_id, created = await service.create(rt, actor, data, idempotency_key)
        return Response(await service.read(actor, referral_id), status_code=201 if created else 200)

    @get("/", operation_id="listReferrals", responses=problems())
    async def list(
        self,
        rt: RuntimeDep,
        actor: CurrentActor,
        box: Annotated[Literal["sent", "received"], QueryParameter(description="envoyées ou reçues")] = "received",
        status: Annotated[StatusFilter, QueryParameter(description="un statut, ou tous")] = "",
        limit: Annotated[int, QueryParameter(ge=1, le=100)] = 50,
        offset: Annotated[int, QueryParameter(ge=0, le=1_000_000)] = 0,
    ) -> ReferralList:
        """The caller's structures' sent or received referrals, with the counts per status."""
        rows, counts, total = await service.inbox(actor, box, status, limit, offset)
        late = rt.now() - timedelta(days=rt.settings.section(ReferralSettings).reminder_days)
        return ReferralList(
            referrals=[
                ReferralSummary(
                    id=r["id"],
                    status=r["status"],
                    status_label=STATUSES[r["status"]],
                    service_name=r["service_name"],
                    sender_structure=r["sender_name"],
                    receiver_structure=r["receiver_name"],
                    created_at=r["created_at"],
                    overdue=r["status"] in OPEN and r["created_at"] <= late,
                )
                for r in rows
            ],
            counts=counts,
            total=total,
        )

    @get("/{referral_id:int}", operation_id="getReferral", responses=problems(404))
    async def read(self, actor: CurrentActor, referral_id: ObjectId) -> ReferralOut:
        """A referral with its timeline and the actions the caller may take."""
        return await service.read(actor, referral_id)

    @post(
        "/{referral_id:int}/transitions",
        operation_id="transitionReferral",
        status_code=200,
        responses=problems(404, 409, 415),
        before_request=check_json_body,
    )
    async def transition(
        self, rt: RuntimeDep, actor: CurrentActor, referral_id: ObjectId, data: Annotated[Transition, STRICT_JSON]
    ) -> ReferralOut:
        """Take an action (review, accept, refuse, redirect, close, amend, cancel); 409 when not allowed now."""
        await service.transition(rt, actor, referral_id, data)
        return await service.read(actor, referral_id)


API_CONTROLLERS = [ReferralApi]
