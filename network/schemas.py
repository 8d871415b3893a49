"""Input shapes of the directory's forms and API (msgspec). Forms send strings; network.forms checks them and
builds the typed commands the services take (ServiceUpdate, PlaceCreate, StructureUpdate)."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Literal

import msgspec

from hub.schemas import SINGLE_LINE

Code = Annotated[str, msgspec.Meta(max_length=120, pattern=SINGLE_LINE)]
# A form sends one value as a string and several as a list (repeated keys).
Codes = list[Code] | Code
FormCodes = list[str] | str  # an edit form's: network.forms refuses unknown codes in French


# The edit forms take every field as a plain string, whatever its length or characters: network.forms checks
# them (network.forms.LIMITS, the pages' maxlength) so that a page comes back with what was typed and a French
# message beside each field at fault, never a bare 400. (A body is capped as a whole by the app.)


class HoursFields(msgspec.Struct):
    """The opening hours of a form: the week's grid (network.opening_grid) and the expert field in OSM syntax."""

    opening_hours: str = ""  # the expert field: OSM syntax
    hours_mo_1_from: str = ""
    hours_mo_1_to: str = ""
    hours_mo_2_from: str = ""
    hours_mo_2_to: str = ""
    hours_mo_weeks: str = ""
    hours_tu_1_from: str = ""
    hours_tu_1_to: str = ""
    hours_tu_2_from: str = ""
    hours_tu_2_to: str = ""
    hours_tu_weeks: str = ""
    hours_we_1_from: str = ""
    hours_we_1_to: str = ""
    hours_we_2_from: str = ""
    hours_we_2_to: str = ""
    hours_we_weeks: str = ""
    hours_th_1_from: str = ""
    hours_th_1_to: str = ""
    hours_th_2_from: str = ""
    hours_th_2_to: str = ""
    hours_th_weeks: str = ""
    hours_fr_1_from: str = ""
    hours_fr_1_to: str = ""
    hours_fr_2_from: str = ""
    hours_fr_2_to: str = ""
    hours_fr_weeks: str = ""
    hours_sa_1_from: str = ""
    hours_sa_1_to: str = ""
    hours_sa_2_from: str = ""
    hours_sa_2_to: str = ""
    hours_sa_weeks: str = ""
    hours_su_1_from: str = ""
    hours_su_1_to: str = ""
    hours_su_2_from: str = ""
    hours_su_2_to: str = ""
    hours_su_weeks: str = ""
    hours_ph_off: str = ""  # checkbox: "fermé les jours fériés"


class StructureForm(HoursFields):
    """Extra fields (such as _csrf_token) pass; every field is optional so missing ones get a French message."""

    name: str = ""
    kind: str = "AUTRE"
    siret: str = ""
    address: str = ""
    address_extra: str = ""
    postal_code: str = ""
    commune: str = ""
    insee_code: str = ""
    neighbourhood: str = ""
    latitude: str = ""
    longitude: str = ""
    phone: str = ""
    email: str = ""
    website: str = ""
    accessibility_url: str = ""
    description: str = ""
    address_unfound: str = ""  # the address the page said it could not find: posted again, saved without a position


class ServiceForm(HoursFields):
    name: str = ""
    description: str = ""
    thematiques: FormCodes = []
    publics: FormCodes = []
    fees: FormCodes = []
    fees_details: str = ""
    reception_modes: FormCodes = []
    accommodations: FormCodes = []
    mobilisation_modes: FormCodes = []
    mobilisable_by: FormCodes = []
    languages: FormCodes = []  # ticked language codes
    access_conditions: str = ""
    justificatifs: str = ""  # what to bring, one a line
    weekly_capacity: str = ""
    accepts_referrals: str = ""  # checkbox: "on" when ticked
    referral_email: str = ""
    referral_instructions: str = ""
    phone: str = ""
    booking_url: str = ""


class ServiceUpdate(msgspec.Struct, kw_only=True):
    """A service as its editor describes it, checked and tidied (network.forms.service_update): the whole
    description, for a new service as for an existing one. Field names are the Service table's columns."""

    name: str  # spaces collapsed, 3 to 150 characters
    description: str
    thematiques: list[str]  # known codes of each vocabulary, sorted, each once
    publics: list[str]
    fees: list[str]
    fees_details: str
    reception_modes: list[str]
    accommodations: list[str]
    mobilisation_modes: list[str]
    mobilisable_by: list[str]
    languages: list[str]  # ISO 639-1 codes, lower case, sorted, each once
    access_conditions: str
    justificatifs: list[str]  # what to bring, one item each ("Pièce d'identité")
    weekly_capacity: int | None  # people a week, at most 10,000
    accepts_referrals: bool
    referral_email: str  # lower case; required when the service accepts referrals
    referral_instructions: str
    phone: str  # written the French way ("02 38 00 00 00", "32 30"), or ""
    booking_url: str
    opening_hours: str  # OpenStreetMap syntax, or "" for the structure's own


class StructureUpdate(msgspec.Struct, kw_only=True):
    """A structure's directory entry as its manager writes it, checked and tidied (network.forms.structure_update).
    Field names are the Structure table's columns."""

    name: str  # spaces collapsed, 3 to 150 characters
    kind: str  # a code of network.tables.STRUCTURE_KINDS
    siret: str  # 14 digits, or ""
    address: str
    address_extra: str
    postal_code: str
    commune: str  # never empty
    insee_code: str
    neighbourhood: str
    latitude: float | None  # both or neither
    longitude: float | None
    phone: str  # written the French way, or ""
    email: str  # lower case
    website: str
    opening_hours: str  # OpenStreetMap syntax
    accessibility_url: str
    description: str


class PlaceCreate(msgspec.Struct, kw_only=True):
    """A place where a service is given, checked and tidied (network.forms.place_create). Field names are the
    Place table's columns."""

    name: str
    address: str
    postal_code: str
    commune: str  # never empty
    neighbourhood: str
    latitude: float | None
    longitude: float | None
    opening_hours: str  # OpenStreetMap syntax, or "" for the service's own
    itinerant: bool  # a stop of an itinerant permanence


ADDRESS_HARD_CAP = 1000


class SearchForm(msgspec.Struct):
    """The search form, posted: its "près de" address becomes a rounded point before any URL is made."""

    q: Annotated[str, msgspec.Meta(max_length=1000)] = ""  # the search says, in French, that 200 is the most
    theme: Codes = []
    public: Codes = []
    frais: Codes = []
    accueil: Codes = []
    adaptation: Codes = []
    commune: Annotated[str, msgspec.Meta(max_length=120)] = ""
    quartier: Annotated[str, msgspec.Meta(max_length=120)] = ""
    orientation: Annotated[str, msgspec.Meta(max_length=3)] = ""
    ouvert: Annotated[str, msgspec.Meta(max_length=10)] = ""
    jour: Annotated[str, msgspec.Meta(max_length=10)] = ""
    heure: Annotated[str, msgspec.Meta(max_length=5)] = ""
    pres_de: Annotated[str, msgspec.Meta(max_length=120)] = ""
    adresse: Annotated[str, msgspec.Meta(max_length=ADDRESS_HARD_CAP)] = ""  # more than geocoding's: said beside it
    lat: Annotated[str, msgspec.Meta(max_length=20)] = ""
    lon: Annotated[str, msgspec.Meta(max_length=20)] = ""
    # the place of the search before (its rounded point, what it stands for, and what the box showed):
    # kept when the box is left as it was, so that a filter, a sort or a page never forgets it
    origine: Annotated[str, msgspec.Meta(max_length=160)] = ""
    precision: Annotated[str, msgspec.Meta(max_length=20)] = ""
    adresse_affichee: Annotated[str, msgspec.Meta(max_length=200)] = ""
    tri: Annotated[str, msgspec.Meta(max_length=10)] = ""


class SynonymForm(msgspec.Struct):
    """A group of synonyms typed on the coordinator's desk (its limits are checked, in French, by the service)."""

    mots: Annotated[str, msgspec.Meta(max_length=2000)] = ""


class PlaceForm(HoursFields):
    name: str = ""
    address: str = ""
    postal_code: str = ""
    commune: str = ""
    neighbourhood: str = ""
    latitude: str = ""
    longitude: str = ""
    itinerant: str = ""


class JoinRequestForm(StructureForm):
    """A structure asking to join: its contact becomes its first manager once approved."""

    kind: str = ""  # no default: the applicant chooses (checked in network.forms)
    contact_email: str = ""


class MergeForm(msgspec.Struct):
    keep: Literal["structure", "other"] = "structure"
    confirmation: str = ""  # "oui" from the comparison page; without it, the comparison is shown first


class RefuseForm(msgspec.Struct):
    message: Annotated[str, msgspec.Meta(max_length=4000)] = ""  # the service says when it is over 2000


class WithdrawForm(msgspec.Struct):
    confirmation: str = ""  # "oui" from a confirmation step; without it, the confirmation page is shown


class PublicService(msgspec.Struct):
    """A service as the open directory shows it: its team's contacts, never a person's."""

    id: int
    name: str
    thematiques: list[str]
    fees: list[str]
    opening_hours: str
    accepts_referrals: bool
    phone: str
    email: str  # the team's mailbox; empty when it looks like a person's own address
    booking_url: str  # where to book online (data·inclusion lien_mobilisation)


class PublicStructure(msgspec.Struct):
    """A structure as the open directory shows it: its public desk, never a person."""

    id: int
    name: str
    kind: str
    address: str
    postal_code: str
    commune: str
    insee_code: str
    latitude: float | None
    longitude: float | None
    phone: str
    email: str
    website: str
    opening_hours: str
    confirmed_on: date | None
    services: list[PublicService]


class GeocodeRequest(msgspec.Struct, forbid_unknown_fields=True):
    adresse: Annotated[str, msgspec.Meta(min_length=1, max_length=200, pattern=SINGLE_LINE)]
