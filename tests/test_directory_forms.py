"""network.forms: the directory's posted edit forms (service, place, structure) become typed commands, or every
French field error at once."""

from __future__ import annotations

import html

import pytest

from hub.errors import Invalid
from hub.forms import FieldErrors
from network import forms, validation
from network.schemas import PlaceCreate, PlaceForm, ServiceForm, ServiceUpdate, StructureForm, StructureUpdate
from network.tables import Service
from tests.conftest import make_person, make_structure, post_form, sign_in

HOURS_PROBLEM = "Horaires illisibles : utilisez le format OpenStreetMap, par exemple « Mo-Fr 08:30-12:30; PH off »."


def test_service_form_with_several_bad_fields_names_every_one_in_french() -> None:
    form = ServiceForm(
        name=" ab ",
        thematiques=["numerique--acceder-a-des-services-en-ligne", "inconnue"],
        fees="gratuit",
        mobilisation_modes=["telephoner", "utiliser-lien-mobilisation"],  # with neither a phone nor a link
        languages=["fr", "français"],
        weekly_capacity="beaucoup",
        accepts_referrals="on",  # without the team's address
        opening_hours="lundi matin",
    )
    with pytest.raises(Invalid) as refused:
        forms.service_update(form)
    assert refused.value.message == "Certains champs sont invalides."
    assert refused.value.fields == {
        "name": "Le nom compte entre 3 et 150 caractères.",
        "thematiques": "Valeur inconnue : choisissez dans la liste.",
        "phone": "Pour « Téléphoner », indiquez le téléphone du service.",
        "booking_url": "Pour ce mode, indiquez le lien de prise de rendez-vous.",
        "languages": "Langue inconnue : choisissez dans la liste.",
        "weekly_capacity": "La capacité est un nombre entier de personnes par semaine, 10 000 au plus.",
        "referral_email": "Pour recevoir des orientations, indiquez l'adresse e-mail de l'équipe.",
        "opening_hours": HOURS_PROBLEM,
    }


def test_service_form_checks_the_contacts_it_is_given() -> None:
    form = ServiceForm(
        name="Permanence",
        referral_email="pas-une-adresse",
        phone="12 34",
        booking_url="rdv.example.fr",
        mobilisation_modes="envoyer-un-courriel",
    )
    with pytest.raises(Invalid) as refused:
        forms.service_update(form)
    assert refused.value.fields == {
        "referral_email": "Adresse e-mail invalide.",
        "phone": f"Numéro de téléphone invalide : {validation.PHONE_EXAMPLE}.",
        "booking_url": "Adresse web invalide : elle commence par https:// (ou http://), sans espace.",
    }


def test_good_service_form_builds_the_exact_command() -> None:
    form = ServiceForm(
        name="  Aide   aux démarches en ligne ",
        description=" Un conseiller vous aide à faire vos démarches. ",
        thematiques=["numerique--acceder-a-des-services-en-ligne", "numerique--acceder-a-des-services-en-ligne"],
        publics=["etudiants", "actifs"],
        fees="gratuit",
        fees_details=" Sans frais ",
        reception_modes="en-presentiel",
        accommodations=["surdite", "falc"],
        mobilisation_modes=["telephoner", "envoyer-un-courriel"],
        mobilisable_by="usagers",
        languages=["FR", "ar", "fr"],
        access_conditions=" Sur rendez-vous ",
        justificatifs=" - Pièce d'identité\n\n• Dernier avis d'imposition \n- Pièce d'identité",
        weekly_capacity=" 40 ",
        accepts_referrals="on",
        referral_email=" Orientations@CS.example.fr ",
        referral_instructions=" Joindre le courrier reçu. ",
        phone="+33 2 38 00 00 01",
        booking_url=" https://rdv.example.fr/cs ",
        opening_hours=" Tu 14:00-17:00 ",
    )
    assert forms.service_update(form) == ServiceUpdate(
        name="Aide aux démarches en ligne",
        description="Un conseiller vous aide à faire vos démarches.",
        thematiques=["numerique--acceder-a-des-services-en-ligne"],
        publics=["actifs", "etudiants"],
        fees=["gratuit"],
        fees_details="Sans frais",
        reception_modes=["en-presentiel"],
        accommodations=["falc", "surdite"],
        mobilisation_modes=["envoyer-un-courriel", "telephoner"],
        mobilisable_by=["usagers"],
        languages=["ar", "fr"],
        access_conditions="Sur rendez-vous",
        justificatifs=["Pièce d'identité", "Dernier avis d'imposition"],
        weekly_capacity=40,
        accepts_referrals=True,
        referral_email="orientations@cs.example.fr",
        referral_instructions="Joindre le courrier reçu.",
        phone="02 38 00 00 01",
        booking_url="https://rdv.example.fr/cs",
        opening_hours="Tu 14:00-17:00",
    )


def test_service_form_left_almost_empty_builds_a_bare_command() -> None:
    command = forms.service_update(ServiceForm(name="Permanence numérique"))
    assert command == ServiceUpdate(
        name="Permanence numérique",
        description="",
        thematiques=[],
        publics=[],
        fees=[],
        fees_details="",
        reception_modes=[],
        accommodations=[],
        mobilisation_modes=[],
        mobilisable_by=[],
        languages=[],
        access_conditions="",
        justificatifs=[],
        weekly_capacity=None,
        accepts_referrals=False,
        referral_email="",
        referral_instructions="",
        phone="",
        booking_url="",
        opening_hours="",
    )


def test_place_form_with_several_bad_fields_names_every_one_in_french() -> None:
    form = PlaceForm(name="Médiathèque", commune=" ", postal_code="4599", latitude="nord", longitude="200")
    with pytest.raises(Invalid) as refused:
        forms.place_create(form)
    assert refused.value.fields == {
        "commune": "Indiquez la commune.",
        "postal_code": "Le code postal compte 5 chiffres, par exemple 45000.",
        "latitude": "La latitude doit être un nombre.",
        "longitude": "La longitude doit être comprise entre -180 et 180.",
    }


def test_good_place_form_builds_the_exact_command() -> None:
    form = PlaceForm(
        name=" Médiathèque Colette ",
        address=" 2 place du Marché ",
        postal_code=" 45990 ",
        commune=" Montclair-sur-Loire ",
        neighbourhood=" Centre ",
        latitude=" 47.9",
        longitude="2.1 ",
        opening_hours=" We 10:00-12:00 ",
        itinerant="on",
    )
    assert forms.place_create(form) == PlaceCreate(
        name="Médiathèque Colette",
        address="2 place du Marché",
        postal_code="45990",
        commune="Montclair-sur-Loire",
        neighbourhood="Centre",
        latitude=47.9,
        longitude=2.1,
        opening_hours="We 10:00-12:00",
        itinerant=True,
    )


def test_structure_form_with_several_bad_fields_names_every_one_in_french() -> None:
    form = StructureForm(
        name="  ",
        kind="INCONNU",
        siret="12345678901234",
        postal_code="4599",
        commune=" ",
        insee_code="x",
        latitude="95",  # out of range, and without its longitude
        phone="12 34 56",
        email="pas-une-adresse",
        website="ftp://exemple.fr",
        opening_hours="lundi matin",
        accessibility_url="acceslibre",
    )
    with pytest.raises(Invalid) as refused:
        forms.structure_update(form)
    assert refused.value.message == "Certains champs sont invalides."
    assert refused.value.fields == {
        "name": "Le nom compte entre 3 et 150 caractères.",
        "kind": "Choisissez un type de structure dans la liste.",
        "commune": "Indiquez la commune.",
        "siret": "Ce SIRET n'est pas valide : vérifiez les chiffres.",
        "postal_code": "Le code postal compte 5 chiffres, par exemple 45000.",
        "insee_code": "Le code INSEE compte 5 caractères, par exemple 45234.",
        "latitude": "La latitude doit être comprise entre -90 et 90.",
        "phone": f"Numéro de téléphone invalide : {validation.PHONE_EXAMPLE}.",
        "email": "Adresse e-mail invalide.",
        "website": "Adresse web invalide : elle commence par https:// (ou http://), sans espace.",
        "accessibility_url": "Adresse web invalide : elle commence par https:// (ou http://), sans espace.",
        "opening_hours": HOURS_PROBLEM,
        "longitude": "Indiquez la latitude et la longitude ensemble.",
    }


def test_good_structure_form_builds_the_exact_command() -> None:
    form = StructureForm(
        name=" Centre social   des Tilleuls ",
        kind="CS",
        siret="130 030 133 00016",
        address=" 8 avenue des Tilleuls ",
        address_extra=" Bâtiment B ",
        postal_code=" 45990 ",
        commune=" Montclair-sur-Loire ",
        insee_code=" 45234 ",
        neighbourhood=" Les Tilleuls ",
        latitude=" 47.89 ",
        longitude="2.13",
        phone="0238000000",
        email=" Accueil@CS-Tilleuls.example.fr ",
        website=" https://cs-tilleuls.example.fr ",
        opening_hours=" Mo-Fr 08:30-12:30,14:00-17:00; PH off ",
        accessibility_url=" https://acceslibre.beta.gouv.fr/cs-tilleuls ",
        description=" Un lieu pour tous. ",
    )
    assert forms.structure_update(form) == StructureUpdate(
        name="Centre social des Tilleuls",
        kind="CS",
        siret="13003013300016",
        address="8 avenue des Tilleuls",
        address_extra="Bâtiment B",
        postal_code="45990",
        commune="Montclair-sur-Loire",
        insee_code="45234",
        neighbourhood="Les Tilleuls",
        latitude=47.89,
        longitude=2.13,
        phone="02 38 00 00 00",
        email="accueil@cs-tilleuls.example.fr",
        website="https://cs-tilleuls.example.fr",
        opening_hours="Mo-Fr 08:30-12:30,14:00-17:00; PH off",
        accessibility_url="https://acceslibre.beta.gouv.fr/cs-tilleuls",
        description="Un lieu pour tous.",
    )


def test_structure_form_without_a_position_keeps_none() -> None:
    command = forms.structure_update(StructureForm(name="Médiathèque", kind="AUTRE", commune="Montclair"))
    assert (command.latitude, command.longitude, command.siret, command.phone) == (None, None, "", "")


async def test_service_page_comes_back_with_what_was_typed_and_each_error_beside_its_field(client, rt) -> None:
    sid = await make_structure()
    await sign_in(client, await make_person(rt, "nadia@a.example.fr", {sid: ["manager"]}))
    posted = {"name": "Permanence du mardi", "weekly_capacity": "beaucoup", "hours_tu_1_from": "14:00"}
    response = await post_form(client, f"/annuaire/structures/{sid}/services/nouveau", posted)
    assert response.status_code == 400
    text = html.unescape(response.text)
    assert 'value="Permanence du mardi"' in text and 'value="beaucoup"' in text and 'value="14:00"' in text
    for field, message in (
        ("weekly_capacity", "La capacité est un nombre entier de personnes par semaine, 10 000 au plus."),
        ("hours_tu", "Mardi : indiquez l'heure d'ouverture et l'heure de fermeture."),
    ):
        assert f'<p class="error-text" id="{field}-error">{message}</p>' in text
    assert 'id="name-error"' not in text
    assert await Service.count() == 0


# ---------------------------------------------------------------- hub.forms, what every domain's forms share
def test_field_errors_gather_a_shared_rule_and_raise_them_all_at_once() -> None:
    errors = FieldErrors()
    errors.raise_if_any()  # nothing noted: the form is good
    errors["name"] = "Le nom compte entre 3 et 150 caractères."
    with errors.collecting():
        validation.check({"postal_code": "4599", "email": "x"})
    with pytest.raises(Invalid) as refused:
        errors.raise_if_any()
    assert refused.value.fields == {
        "name": "Le nom compte entre 3 et 150 caractères.",
        "postal_code": "Le code postal compte 5 chiffres, par exemple 45000.",
        "email": "Adresse e-mail invalide.",
    }


def test_field_errors_let_a_whole_form_problem_through() -> None:
    errors = FieldErrors()
    with pytest.raises(Invalid, match="Jour ou heure invalide."), errors.collecting():
        raise Invalid("Jour ou heure invalide.")
    assert errors == {}
