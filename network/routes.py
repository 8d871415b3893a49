"""Directory pages anyone reads: search, map, structure and service pages, and the request to join.
Thin: rules live in network.service (editing and the coordinator's desk: network.edit_routes)."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from typing import Annotated, Any
from urllib.parse import quote, unquote, urlencode
from zoneinfo import ZoneInfo

import msgspec
from litestar import Controller, Request, Response, get, post
from litestar.params import FromPath, FromQuery, QueryParameter, URLEncodedBody
from litestar.response import Redirect, Template

from hub import accounts, auth, invitations
from hub.auth import RuntimeDep
from hub.errors import Conflict, Invalid, Unprocessable
from hub.tables import STRUCTURE_KINDS
from hub.web import page, redirect
from network import forms, geocoding, locating, opening_grid, structures, validation, vocabulary
from network import service as directory
from network.module import DirectorySettings
from network.schemas import ADDRESS_HARD_CAP, JoinRequestForm, SearchForm
from network.search.query import MAX_TEXT, Origin, SearchQuery, Sort, search

PARIS = ZoneInfo("Europe/Paris")

AnyRequest = Request[Any, Any, Any]


def structure_context(request: AnyRequest, structure: dict[str, Any]) -> dict[str, Any]:
    rt = request.app.state.runtime
    today = rt.today()
    code, label = validation.freshness(structure["confirmed_on"], today)
    return {
        "structure": structure,
        "kind_label": STRUCTURE_KINDS.get(structure["kind"], structure["kind"]),
        "freshness": code,
        "freshness_label": label,
        "hours": validation.hours_in_french(structure["opening_hours"], today),
        "can_edit": directory.can_edit(auth.current_actor(request), structure["id"]),
        "vocabularies": vocabulary.SERVICE_CHOICES,
        "kinds": STRUCTURE_KINDS,
    }


def join_context() -> dict[str, Any]:
    """The join form's limits (its maxlength) and the hours grid's days and weeks."""
    return {
        "limits": forms.JOIN_LIMITS,
        "hours_days": list(zip(opening_grid.DAYS, opening_grid.DAY_NAMES, strict=True)),
        "hours_weeks": opening_grid.WEEKS,
    }


SORTS: dict[str, Sort] = {"pertinence": "relevance", "distance": "distance", "nom": "name"}
WEEKDAY_CODES = {"lundi": 0, "mardi": 1, "mercredi": 2, "jeudi": 3, "vendredi": 4, "samedi": 5, "dimanche": 6}
PAGE_SIZE = 20
Many = FromQuery[list[str] | None]  # a repeated query parameter (checkboxes)


def _at(now: datetime, day: str, hour: str) -> datetime | None:
    """The next such weekday and hour, in Europe/Paris ("mardi", "14:30")."""
    if not day and not hour:
        return None
    if day not in WEEKDAY_CODES or not re.fullmatch(r"([01]?\d|2[0-3]):[0-5]\d", hour or ""):
        raise Invalid(
            "Jour ou heure invalide.", {"heure": "Choisissez un jour et une heure, par exemple mardi à 14:30."}
        )
    local = now.astimezone(PARIS)
    days_ahead = (WEEKDAY_CODES[day] - local.weekday()) % 7
    hh, mm = (int(part) for part in hour.split(":"))
    moment = (local + timedelta(days=days_ahead)).replace(hour=hh, minute=mm, second=0, microsecond=0)
    return moment + timedelta(days=7) if moment < local else moment


def _point(lat: str, lon: str) -> tuple[float, float] | None:
    """A position from "Autour de moi" (the browser fills both), or None."""
    if not lat.strip() and not lon.strip():
        return None
    validation.check({"latitude": lat, "longitude": lon})
    try:
        return float(lat), float(lon)
    except ValueError:
        raise Invalid("Position invalide.", {"q": "Position invalide : réessayez « Autour de moi »."}) from None


# A point in a URL is rounded to 3 decimals (about 100 m): where someone lives or stands never shows in
# a URL, a browser history or a proxy's log. Only area names (a commune, a postcode, a neighbourhood) are
# written out there; a street or a house is "the address given".
URL_DECIMALS = 3
AREA_PRECISIONS = ("municipality", "postcode", "neighbourhood")
TYPED_COOKIE = "maillage_adresse_introuvable"  # an address not found, shown again once in the "près de" box
ORIGIN_LABELS = {"adresse": "l'adresse indiquée (à 100 m près)", "position": "votre position (à 100 m près)"}


def _query_pairs(fields: dict[str, Any]) -> list[tuple[str, str]]:
    """A search form's filled fields as query pairs (a checkbox list gives one pair per code)."""
    return [
        (name, value)
        for name, values in fields.items()
        for value in (values if isinstance(values, list) else [values])
        if value
    ]


def _origin_params(origin: Origin, kind: str) -> list[tuple[str, str]]:
    params = [("lat", f"{origin.latitude:.{URL_DECIMALS}f}"), ("lon", f"{origin.longitude:.{URL_DECIMALS}f}")]
    if origin.precision in AREA_PRECISIONS:
        return [*params, ("origine", origin.label), ("precision", origin.precision)]
    return [*params, ("origine", kind)]


def _kept_origin_params(data: SearchForm) -> list[tuple[str, str]]:
    """The place of the search before, as the form sent it back (already rounded, re-rounded all the same)."""
    point = _point(data.lat, data.lon)
    if point is None:
        return []
    if data.precision in AREA_PRECISIONS and data.origine:
        area = Origin(latitude=point[0], longitude=point[1], label=data.origine, precision=data.precision)  # type: ignore[arg-type]
        return _origin_params(area, "")
    kind = data.origine if data.origine in ORIGIN_LABELS else "position"
    return _origin_params(Origin(latitude=point[0], longitude=point[1]), kind)


def origin_shown(origin: Origin | None) -> str:
    """What the "Près de" box shows for the place a search is near: an area's name, else what the point
    stands for (a street address is never known here: only its rounded point came back)."""
    if origin is None:
        return ""
    return origin.label if origin.precision in AREA_PRECISIONS else origin.label or ORIGIN_LABELS["position"]


def _origin(
    centres: dict[str, tuple[float, float]], pres_de: str, lat: str, lon: str, origine: str, precision: str
) -> Origin | None:
    """Where distances are measured from: a neighbourhood's centre, else a point (an address, "Autour de moi")."""
    if pres_de in centres:
        latitude, longitude = centres[pres_de]
        return Origin(latitude=latitude, longitude=longitude, label=f"quartier {pres_de}", precision="neighbourhood")
    point = _point(lat, lon)
    if point is None:
        return None
    if precision in AREA_PRECISIONS and origine:
        return Origin(latitude=point[0], longitude=point[1], label=origine, precision=precision)  # type: ignore[arg-type]
    label = ORIGIN_LABELS.get(origine, ORIGIN_LABELS["position"])
    return Origin(latitude=point[0], longitude=point[1], label=label)


def _sort(tri: str, located: bool) -> Sort:
    """The order asked for; by distance by default near a place, and never by distance without one."""
    sort = SORTS.get(tri) or ("distance" if located else "relevance")
    return "relevance" if sort == "distance" and not located else sort


def _tiles(rt: RuntimeDep) -> dict[str, str]:
    section = rt.settings.section(DirectorySettings)
    return {"url": section.tile_url, "attribution": section.tile_attribution}


class DirectoryPages(Controller):
    path = "/annuaire"
    guards = [auth.public]
    include_in_schema = False

    @get("/", operation_id="directorySearchPage")
    async def search_page(
        self,
        request: AnyRequest,
        rt: RuntimeDep,
        q: Annotated[str, QueryParameter(max_length=1000)] = "",  # longer than a search: said beside the box
        theme: Many = None,
        public: Many = None,
        frais: Many = None,
        accueil: Many = None,
        adaptation: Many = None,
        commune: Annotated[str, QueryParameter(max_length=120)] = "",
        quartier: Annotated[str, QueryParameter(max_length=120)] = "",
        orientation: Annotated[str, QueryParameter(max_length=3)] = "",
        ouvert: Annotated[str, QueryParameter(max_length=10)] = "",
        jour: Annotated[str, QueryParameter(max_length=10)] = "",
        heure: Annotated[str, QueryParameter(max_length=5)] = "",
        pres_de: Annotated[str, QueryParameter(max_length=120)] = "",
        tri: Annotated[str, QueryParameter(max_length=10)] = "",
        lat: Annotated[str, QueryParameter(max_length=20)] = "",  # strings: the form sends them empty
        lon: Annotated[str, QueryParameter(max_length=20)] = "",
        origine: Annotated[str, QueryParameter(max_length=160)] = "",  # what the point stands for (see _origin)
        precision: Annotated[str, QueryParameter(max_length=20)] = "",
        adresse_introuvable: Annotated[str, QueryParameter(max_length=1)] = "",
        page_number: Annotated[int, QueryParameter(name="page", ge=1, le=500)] = 1,
    ) -> Template:
        """One box and filters: results as a list and on a map (the list works without the map).

        The form posts to search_submit, which turns a typed address into a rounded point and comes back here.
        """
        options = await directory.search_options()
        form = {
            "q": q,
            "theme": theme or [],
            "public": public or [],
            "frais": frais or [],
            "accueil": accueil or [],
            "adaptation": adaptation or [],
            "commune": commune,
            "quartier": quartier,
            "orientation": orientation,
            "ouvert": ouvert,
            "jour": jour,
            "heure": heure,
            "pres_de": pres_de,
            "tri": tri if tri in SORTS else "",
        }
        errors: dict[str, str] = {}
        typed = ""
        if adresse_introuvable:  # said so by search_submit ("2": too long); the results come by relevance
            errors["adresse"] = geocoding.TOO_LONG if adresse_introuvable == "2" else geocoding.NOT_FOUND
            # shown again in the box, never in a URL
            typed = unquote(request.cookies.get(TYPED_COOKIE, ""))[:ADDRESS_HARD_CAP]
        results, origin = None, None
        try:
            origin = _origin(options["centres"], pres_de, lat, lon, origine, precision)
            query = SearchQuery(
                text=q,
                thematiques=tuple(theme or ()),
                publics=tuple(public or ()),
                fees=tuple(frais or ()),
                reception_modes=tuple(accueil or ()),
                accommodations=tuple(adaptation or ()),
                commune=commune,
                neighbourhood=quartier,
                accepts_referrals=orientation == "oui",
                open_now=ouvert == "maintenant",
                open_at=_at(rt.now(), jour, heure),
                sort=_sort(tri, origin is not None),
                limit=PAGE_SIZE,
                offset=(page_number - 1) * PAGE_SIZE,
            )
            results = await search(query, now=rt.now(), origin=origin)
        except Invalid as error:
            errors.update({("q" if k == "text" else k): v for k, v in error.fields.items()} or {"q": error.message})
        markers = [
            {
                "lat": h.latitude,
                "lon": h.longitude,
                "name": h.service_name,
                "structure": h.structure_name,
                "url": f"/annuaire/services/{h.service_id}",
            }
            for h in (results.hits if results else [])
            if h.latitude is not None and h.longitude is not None
        ]
        located = {"lat": lat, "lon": lon, "origine": origine, "precision": precision} if origin and not pres_de else {}
        base_query = urlencode(_query_pairs({**form, **located}))
        searched = bool(request.query_params)  # a search was made: focus goes to its results
        response = page(
            request,
            "directory/search.html",
            form=form,
            results=results,
            errors=errors,
            options=options,
            vocabularies=vocabulary.SERVICE_CHOICES,
            markers=markers,
            origin=origin,
            page_number=page_number,
            page_size=PAGE_SIZE,
            base_query=base_query,
            located=located,
            shown_place=origin_shown(origin) if located else "",
            typed_place=typed,
            address_max=geocoding.MAX_ADDRESS_LENGTH,
            text_max=MAX_TEXT,
            searched=searched,
            sorts=SORTS,
            weekdays=list(WEEKDAY_CODES),
            tiles=_tiles(rt),
        )
        if TYPED_COOKIE in request.cookies:  # read once
            response.delete_cookie(TYPED_COOKIE, path="/annuaire")
        return response

    @post("/recherche", operation_id="directorySearchSubmit", status_code=303)
    async def search_submit(self, rt: RuntimeDep, data: URLEncodedBody[SearchForm]) -> Redirect:
        """The search form: a typed address (or "Autour de moi") becomes a point rounded to about 100 m here,
        then the results page comes back by GET, so that no address or exact position is ever in a URL."""
        fields = msgspec.structs.asdict(data)
        place_fields = ("adresse", "lat", "lon", "origine", "precision", "adresse_affichee")
        params = _query_pairs({k: v for k, v in fields.items() if k not in place_fields})
        typed, shown = data.adresse.strip(), data.adresse_affichee.strip()
        unfound = ""
        if len(typed) > geocoding.MAX_ADDRESS_LENGTH:  # said beside the box, the address shown again
            params.append(("adresse_introuvable", "2"))
            unfound = typed
        elif typed and typed != shown:  # a new place: found here, never written into the URL
            try:
                params += _origin_params(
                    await geocoding.origin_of(rt.state(geocoding.Geocoder), data.adresse), "adresse"
                )
            except Unprocessable:
                params.append(("adresse_introuvable", "1"))
                unfound = typed
        elif not data.pres_de and (typed or not shown):  # the box as it was, or "Autour de moi"'s position
            params += _kept_origin_params(data)
        response = Redirect(path="/annuaire" + (f"?{urlencode(params)}#resultats" if params else ""), status_code=303)
        if unfound:  # the results page shows it again beside the error, from a cookie read once: never in a URL
            response.set_cookie(
                TYPED_COOKIE,
                quote(unfound),
                max_age=60,
                path="/annuaire",
                httponly=True,
                secure=rt.settings.secure_cookies,
                samesite="lax",
            )
        return response

    @get("/structures/{structure_id:int}", operation_id="structurePage")
    async def structure(self, request: AnyRequest, structure_id: FromPath[int]) -> Template:
        """A structure: contact, hours written out in French, freshness, services."""
        row = await directory.structure_for(auth.current_actor(request), structure_id)
        context = structure_context(request, row)
        services = await directory.services_of(structure_id, include_inactive=context["can_edit"])
        team: dict[str, Any] = {}
        actor = auth.current_actor(request)
        if actor is not None and context["can_edit"]:  # its managers and the coordinator, fully signed in
            rt = request.app.state.runtime
            team = {
                "members": await accounts.list_members(actor, structure_id),
                "invitations": await invitations.pending_invitations(rt, actor, structure_id),
                "role_labels": accounts.ROLE_LABELS,
            }
        return page(
            request,
            "directory/structure.html",
            services=services,
            team=team,
            merged_into=await directory.merged_into(row),
            **context,
        )

    @get("/services/{service_id:int}", operation_id="servicePage")
    async def service(self, request: AnyRequest, service_id: FromPath[int]) -> Template:
        """A service: who it is for, conditions, places and hours."""
        service, structure, places = await directory.service_for(auth.current_actor(request), service_id)
        today = request.app.state.runtime.today()
        context = structure_context(request, structure)
        stops = directory.where_to_go(service, structure, places)
        for stop in stops:
            stop["hours_fr"] = validation.hours_in_french(stop["hours"], today)
        markers = [
            {"lat": stop["latitude"], "lon": stop["longitude"], "name": stop["name"]}
            for stop in stops
            if stop["latitude"] is not None and stop["longitude"] is not None
        ]
        return page(
            request,
            "directory/service.html",
            service=service,
            stops=stops,
            markers=markers,
            tiles=_tiles(request.app.state.runtime),
            ways_in=directory.ways_in(service, structure, places),
            phone=service["phone"] or structure["phone"],
            ways_to_reach=vocabulary.ways_to_reach(service["mobilisation_modes"]),
            who_asks=vocabulary.who_asks(service["mobilisable_by"]),
            languages=vocabulary.labels("language", service["languages"]),
            team_email=directory.team_email(service),
            **context,
        )

    @get("/rejoindre", operation_id="joinPage")
    async def join_form(self, request: AnyRequest) -> Template:
        """A structure asks to join the network."""
        return page(request, "directory/join.html", values={}, errors={}, kinds=STRUCTURE_KINDS, **join_context())

    @post("/rejoindre", operation_id="joinSubmit")
    async def join(self, request: AnyRequest, rt: RuntimeDep, data: URLEncodedBody[JoinRequestForm]) -> Response[Any]:
        """Record the request; the coordinator approves it."""
        try:
            await structures.request_to_join(rt, data, request.client.host if request.client else "")
        except (Invalid, Conflict) as error:  # a second identical pending request: the form, with why
            values = msgspec.structs.asdict(data)
            if isinstance(error, locating.AddressNotFound):  # posted again as it is, it is saved without a position
                values["address_unfound"] = error.key
            return page(
                request,
                "directory/join.html",
                status_code=error.status_code,
                values=values,
                errors=error.fields,
                kinds=STRUCTURE_KINDS,
                **join_context(),
            )
        return redirect(
            request, "/", "Merci ! Votre demande est transmise au coordinateur du réseau, qui vous répondra par e-mail."
        )


DIRECTORY_CONTROLLERS = [DirectoryPages]
