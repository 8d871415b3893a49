"""Referrals' JSON API for partner systems (personal tokens, the same rules as the pages)."""

from __future__ import annotations

import builtins
import dataclasses
from datetime import timedelta
from typing import Annotated, Any, Literal

from litestar import Controller, Request, Response, get, post
from litestar.datastructures import UploadFile
from litestar.enums import RequestEncodingType
from litestar.openapi.datastructures import ResponseSpec
from litestar.params import Body, HeaderParameter, QueryParameter

from hub import auth
from hub.api import SECURITY, STRICT_JSON, ObjectId, UnsupportedMediaType, check_json_body, problems
from hub.auth import CurrentActor, RuntimeDep
from hub.errors import Invalid
from hub.schemas import Problem
from referrals import attachments, routing, service
from referrals.lifecycle import OPEN, STATUSES
from referrals.module import ReferralSettings
from referrals.schemas import (
    AttachmentOut,
    Candidate,
    ReferralCreate,
    ReferralList,
    ReferralOut,
    ReferralSummary,
    RouteRequest,
    RouteResult,
    Transition,
)


@dataclasses.dataclass
class AttachmentUpload:
    """Files to attach (multipart/form-data): one or more parts named `file`."""

    file: list[UploadFile] = dataclasses.field(default_factory=list)


TOO_LARGE = {
    413: ResponseSpec(
        data_container=Problem,
        description="Envoi trop volumineux",
        media_type="application/problem+json",
        generate_examples=False,
    )
}
FILE_TYPES = ("application/pdf", "image/png", "image/jpeg")


async def check_multipart_body(request: Request[Any, Any, Any]) -> None:
    """Files come as multipart/form-data; any other body is a 415 (before anything is read)."""
    media_type, _ = request.content_type
    if media_type != RequestEncodingType.MULTI_PART and await request.body():
        raise UnsupportedMediaType("Envoyez les fichiers en multipart/form-data, dans des parties nommées `file`.")


async def _files(request: Request[Any, Any, Any]) -> list[attachments.Upload]:
    found = []
    for value in (await request.form()).getall("file", []):
        if isinstance(value, UploadFile):
            found.append(attachments.Upload(value.filename or "", await value.read(attachments.MAX_BYTES + 1)))
    return found  # none: refused once the referral is known to be the caller's


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

    @post(
        "/{referral_id:int}/attachments",
        operation_id="attachToReferral",
        status_code=201,
        responses={**problems(404, 409, 415), **TOO_LARGE},
        request_max_body_size=attachments.MAX_BODY_BYTES,
        before_request=check_multipart_body,
    )
    async def attach(
        self,
        request: Request[Any, Any, Any],
        rt: RuntimeDep,
        actor: CurrentActor,
        referral_id: ObjectId,
        data: Annotated[AttachmentUpload, Body(media_type=RequestEncodingType.MULTI_PART)],
    ) -> builtins.list[AttachmentOut]:
        """Attach files (PDF, PNG or JPEG, 5 Mo each at most, type checked from the content) to a referral under
        way; 409 once it has ended. Returns the files added."""
        try:
            added = set(await service.attach(rt, actor, referral_id, await _files(request)))
        except Invalid as error:  # the API's part is named `file`
            fields = {("file" if k == attachments.FIELD else k): v for k, v in error.fields.items()}
            raise Invalid(error.message, fields) from None
        return [f for f in (await service.read(actor, referral_id)).attachments if f.id in added]

    @get(
        "/{referral_id:int}/attachments/{attachment_id:int}",
        operation_id="getReferralAttachment",
        responses={
            **problems(404),
            200: ResponseSpec(
                data_container=bytes,
                description="Le fichier (téléchargement)",
                media_type="application/octet-stream",
                generate_examples=False,
            ),
        },
        media_type="application/octet-stream",
    )
    async def attachment(self, actor: CurrentActor, referral_id: ObjectId, attachment_id: ObjectId) -> Response[bytes]:
        """Download one file of a referral (Content-Type: its real type), to the two structures only."""
        found = await service.attachment(actor, referral_id, attachment_id)
        return Response(
            bytes(found["content"]),
            media_type=found["media_type"],
            headers=attachments.download_headers(found["filename"]),
        )


API_CONTROLLERS = [ReferralApi]
