"""Referrals' typed commands and outputs (msgspec), for the pages' forms and the API alike."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

import msgspec

Short = Annotated[str, msgspec.Meta(max_length=200)]
Name = Annotated[str, msgspec.Meta(max_length=120)]
Phone = Annotated[str, msgspec.Meta(max_length=20)]
Email = Annotated[str, msgspec.Meta(max_length=254)]
Message = Annotated[str, msgspec.Meta(max_length=1000)]
Codes = Annotated[list[Annotated[str, msgspec.Meta(max_length=120)]], msgspec.Meta(max_length=30)]
Id = Annotated[int, msgspec.Meta(ge=1, le=2**31 - 1)]


class ReferralCreate(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """Send a resident to a service. The prescriber attests the person was informed and agrees."""

    service_id: Id
    sender_structure_id: Id | None = None  # the sender's structure; their only one when omitted
    thematiques: Codes = []
    need: Annotated[str, msgspec.Meta(max_length=500)] = ""
    resident_name: Name
    resident_phone: Phone = ""
    resident_email: Email = ""
    preferred_contact: Literal["phone", "sms", "email", "mail"] = "phone"
    availability: Codes = []  # half-days: "mo-am" … "sa-pm"
    note: Message = ""
    consent_method: Literal["oral", "written", "digital"]
    consent_confirmed: bool = False  # must be true: "the person was informed and agrees"
    schedule_id: Id | None = None  # a published slot to book (with starts_at): the seat is held for the referral
    starts_at: datetime | None = None


class Transition(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """An action on a referral, with the fields it needs."""

    action: Literal["review", "accept", "refuse", "redirect", "close", "amend", "cancel"]
    reason: str = ""  # refuse: one of lifecycle.REFUSAL_REASONS
    message: Message = ""  # refuse, accept, close: a word for the prescriber; amend: the added information
    share_reason: bool = False  # refuse: the resident may read the reason
    outcome: str = ""  # close: one of lifecycle.OUTCOMES
    service_id: Id | None = None  # redirect: the service it goes to now


class RouteRequest(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """A resident's need, place and constraints: what routing ranks services against."""

    thematiques: Codes = []
    text: Short = ""
    address: Short = ""  # a typed address, street, commune or neighbourhood (found by the directory)
    latitude: Annotated[float, msgspec.Meta(ge=-90, le=90)] | None = None
    longitude: Annotated[float, msgspec.Meta(ge=-180, le=180)] | None = None
    modes: list[Literal["on_site", "remote"]] = []  # how the person can be helped; empty: either
    accommodations: Codes = []  # needs such as "surdite", "mobilite-reduite" (the directory's codes)
    language: Annotated[str, msgspec.Meta(max_length=3)] = ""  # ISO 639-1, "" for French
    availability: Codes = []  # half-days the person is free: "mo-am" … "sa-pm"
    max_distance_km: Annotated[float, msgspec.Meta(ge=0.5, le=200)] | None = None
    public: Annotated[str, msgspec.Meta(max_length=60)] = ""  # a data·inclusion public code
    commune_insee: Annotated[str, msgspec.Meta(max_length=5)] = ""  # for eligibility zones


class Candidate(msgspec.Struct, kw_only=True):
    service_id: int
    service_name: str
    structure_id: int
    structure_name: str
    score: float
    distance_m: float | None
    reasons: list[str]  # why it ranks where it does, in plain French
    next_slot: str = ""  # "jeudi 3 décembre à 14 h" when it publishes slots and one is free
    warnings: list[str]  # what may make it harder (but did not exclude it)
    excluded: list[str] = []  # "pourquoi pas": the rules that put it out of the list
    latitude: float | None = None  # the place shown on the map: the nearest of its places (WGS 84)
    longitude: float | None = None
    place_name: str = ""


class RouteResult(msgspec.Struct, kw_only=True):
    candidates: list[Candidate]
    origin_label: str = ""
    origin_latitude: float | None = None  # the person's place, when one was given
    origin_longitude: float | None = None


class Event(msgspec.Struct, kw_only=True):
    at: datetime
    action: str
    label: str
    from_status: str
    to_status: str
    by: str  # "le service", "la structure qui oriente", "Maillage"


class AttachmentOut(msgspec.Struct, kw_only=True):
    id: int  # download: GET /api/v1/referrals/{referral id}/attachments/{id}
    filename: str
    media_type: str  # application/pdf, image/png or image/jpeg, found from the content
    size: int  # bytes
    added_at: datetime
    by: str  # "la structure qui oriente", "le service qui reçoit"


class ReferralOut(msgspec.Struct, kw_only=True):
    id: int
    status: str
    status_label: str
    service_id: int
    service_name: str
    sender_structure_id: int
    receiver_structure_id: int
    created_at: datetime
    thematiques: list[str]
    need: str
    resident_name: str
    resident_phone: str
    resident_email: str
    preferred_contact: str
    availability: list[str]
    note: str
    refusal_reason: str
    decision_message: str
    outcome: str
    redirected_to: int | None
    redirected_from: int | None
    appointment: str = ""  # the booked slot, "jeudi 3 décembre à 14 h", when one is held
    appointment_place: str = ""
    timeline: list[Event] = []
    actions: list[str] = []
    attachments: list[AttachmentOut] = []
    can_attach: bool = False  # files may still be added (the referral is under way)


class ReferralSummary(msgspec.Struct, kw_only=True):
    id: int
    status: str
    status_label: str
    service_name: str
    sender_structure: str
    receiver_structure: str
    created_at: datetime
    overdue: bool  # still waiting for the receiver's decision after the reminder delay


class ReferralList(msgspec.Struct, kw_only=True):
    referrals: list[ReferralSummary]
    counts: dict[str, int]  # per status, in the chosen box
    total: int
