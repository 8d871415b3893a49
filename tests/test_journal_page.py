"""The journal reads like French (issue 10, point 8): one label per action, authors and objects by name with links,
details as readable lines, filters by dates, author, structure and action, pages by key; failed sign-ins,
lockouts and second-factor changes are recorded, never a password nor an unknown address in clear."""

from __future__ import annotations

import html
import re
from datetime import UTC, datetime, timedelta

import pyotp

from hub import journal
from hub.journal import Act
from hub.tables import JournalEntry, User
from tests.conftest import PASSWORD, make_person, make_structure, post_form, sign_in

WRONG = "pas le bon mot de passe du tout"


def _text(response) -> str:
    return html.unescape(response.text)


def _rows(page: str) -> list[str]:
    body = page.split("<tbody>", 1)[1].split("</tbody>", 1)[0]
    return re.findall(r"<tr>(.*?)</tr>", body, re.S)


def _seqs(page: str) -> list[int]:
    return [int(n) for n in re.findall(r'<td class="num">(\d+)</td>', page)]


async def _world(rt):
    """Two structures, a manager of each, a coordinator; a journal written over 40 days."""
    tilleuls = await make_structure("Centre social des Tilleuls")
    ccas = await make_structure("CCAS de Montclair", "CCAS")
    nadia = await make_person(rt, "nadia.ferhat@tilleuls.example.fr", {tilleuls: ["manager"]})
    bruno = await make_person(rt, "bruno.martin@ccas.example.fr", {ccas: ["manager"]})
    coordinator = await make_person(rt, "camille.roy@reseau.example.fr", coordinator=True)
    base = await JournalEntry.count()  # the accounts' creation
    start = datetime(2026, 10, 1, 9, 0, tzinfo=UTC)
    key = rt.secrets.journal_key
    for n in range(80):  # 80 confirmations: Nadia's on even days, Bruno's on odd ones
        who, where = (nadia, tilleuls) if n % 2 == 0 else (bruno, ccas)
        act = Act("structure_confirmed", who.id, where, "structure", where)
        await journal.append_signed(key, act, start + timedelta(hours=12 * n))
    granted = Act("role_granted", nadia.id, tilleuls, "membership", 999, {"role": "aidant", "user": bruno.id})
    await journal.append_signed(key, granted, start + timedelta(days=41))
    return {
        "base": base,
        "tilleuls": tilleuls,
        "ccas": ccas,
        "nadia": nadia,
        "bruno": bruno,
        "coordinator": coordinator,
    }


async def test_the_journal_speaks_french_with_names_and_links(client, rt):
    w = await _world(rt)
    await sign_in(client, w["coordinator"])
    page = _text(await client.get("/journal"))
    first = _rows(page)[0]
    # one French label, not the code beside it; the author and the structure by name, with links
    assert "<td>Rôle accordé</td>" in first and "role_granted" not in first
    assert f'<a href="/journal?auteur={w["nadia"].id}">Nadia Ferhat</a>' in first
    assert f'<a href="/annuaire/structures/{w["tilleuls"]}">Centre social des Tilleuls</a>' in first
    assert "<td>rôle n° 999</td>" in first
    assert "<li>Rôle : Aidant</li>" in first
    assert f'<li>Compte : <a href="/journal?auteur={w["bruno"].id}">Bruno Martin</a></li>' in first
    assert "<td>Fiche de structure confirmée à jour</td>" in _rows(page)[1]
    assert ">structure_confirmed<" not in page  # codes only as the select's values


async def test_pages_go_back_and_forth_by_key_and_keep_the_filters(client, rt):
    w = await _world(rt)
    await sign_in(client, w["coordinator"])
    first = _text(await client.get("/journal"))
    total = await JournalEntry.count()
    assert _seqs(first) == list(range(total, total - 50, -1))
    assert "Entrées plus récentes" not in first
    older = re.search(r'<a href="(/journal\?avant=\d+)">Entrées plus anciennes</a>', first)
    assert older, "a link to older entries"
    second = _text(await client.get(older.group(1)))
    assert _seqs(second) == list(range(total - 50, 0, -1))
    assert "Entrées plus anciennes" not in second
    newer = re.search(r'<a href="(/journal\?apres=\d+)">Entrées plus récentes</a>', second)
    assert newer
    assert _seqs(_text(await client.get(newer.group(1)))) == _seqs(first)

    # filtered pages keep the filters in their links
    nadia = w["nadia"].id
    by_nadia = _text(await client.get(f"/journal?auteur={nadia}"))
    assert len(_rows(by_nadia)) == 41 and "Entrées plus anciennes" not in by_nadia
    assert all(f'/journal?auteur={nadia}">Nadia Ferhat</a>' in row for row in _rows(by_nadia))
    confirmations = _text(await client.get("/journal?action=structure_confirmed"))
    link = re.search(r'<a href="(/journal\?[^"]*avant=\d+)">Entrées plus anciennes</a>', confirmations)
    assert link and "action=structure_confirmed" in link.group(1)
    rest = _text(await client.get(link.group(1)))
    assert len(_rows(rest)) == 30 and all("Fiche de structure confirmée à jour" in row for row in _rows(rest))


async def test_filters_by_dates_author_structure_and_action(client, rt):
    w = await _world(rt)
    await sign_in(client, w["coordinator"])
    # 1–2 October in Paris: the entries of 09:00 and 21:00 UTC on the 1st and the 2nd
    days = _text(await client.get("/journal?du=2026-10-01&au=2026-10-02"))
    base = w["base"]
    assert _seqs(days) == [base + 4, base + 3, base + 2, base + 1]
    assert 'value="2026-10-01"' in days and 'value="2026-10-02"' in days  # the form shows what was asked
    # by part of a structure's name, case aside
    ccas = _text(await client.get("/journal?structure=ccas"))
    assert len(_rows(ccas)) == 40 and all("CCAS de Montclair" in row for row in _rows(ccas))
    # by a structure's id (the link of a structure's name): the box shows its name
    by_id = _text(await client.get(f"/journal?structure={w['tilleuls']}"))
    assert len(_rows(by_id)) == 41 and 'value="Centre social des Tilleuls"' in by_id
    # all at once
    combined = _text(
        await client.get(
            f"/journal?du=2026-10-01&au=2026-10-05&auteur={w['bruno'].id}&structure=montclair&action=structure_confirmed"
        )
    )
    assert _seqs(combined) == [base + 10, base + 8, base + 6, base + 4, base + 2]  # Bruno's: every other one
    nothing = _text(await client.get("/journal?structure=inconnue"))
    assert "Aucune action ne correspond à ces filtres." in nothing
    system = _text(await client.get("/journal?auteur=systeme"))  # the accounts made by the test's set-up
    assert len(_rows(system)) == base and all("<td>Compte créé</td>" in row for row in _rows(system))


async def test_wrong_filters_come_back_with_the_error_beside_the_field(client, rt):
    w = await _world(rt)
    await sign_in(client, w["coordinator"])
    bad = await client.get("/journal?du=2026-13-45&au=2026-09-01&action=pas_une_action&structure=ccas")
    assert bad.status_code == 400
    page = _text(bad)
    assert 'id="du-error">Du : une date comme 2026-11-29' in page
    assert 'id="action-error">Choisissez une action dans la liste.' in page
    assert 'value="2026-13-45"' in page and 'value="ccas"' in page
    reversed_range = _text(await client.get("/journal?du=2026-10-05&au=2026-10-01"))
    assert "La date de fin vient avant la date de début." in reversed_range
    assert "Corrigez les filtres pour lire le journal." in reversed_range and not _seqs(reversed_range)


async def test_failed_sign_ins_lockouts_and_second_factor_changes_are_recorded(client, rt, settings):
    sid = await make_structure()
    manager = await make_person(rt, "nadia.ferhat@tilleuls.example.fr", {sid: ["manager"]}, enrolled=False)
    sophie = await make_person(rt, "sophie@caf.example.fr")
    await client.get("/connexion")
    unknown = "personne.inconnue@nulle-part.example.fr"
    assert (await post_form(client, "/connexion", {"email": unknown, "password": WRONG})).status_code == 400
    for _ in range(settings.login_max_failures):
        assert (await post_form(client, "/connexion", {"email": sophie.email, "password": WRONG})).status_code == 400
    assert (await post_form(client, "/connexion", {"email": sophie.email, "password": PASSWORD})).status_code == 429

    # the manager's first enrolment: a wrong code, then the right one
    await post_form(client, "/connexion", {"email": manager.email, "password": PASSWORD})
    enrol = await client.get("/compte/double-authentification")
    assert enrol.status_code == 200
    sealed = (await User.select(User.totp_secret).where(User.id == manager.id).first())["totp_secret"]
    secret = rt.secrets.unseal(sealed)
    wrong = await post_form(client, "/compte/double-authentification", {"code": "000000", "password": PASSWORD})
    assert wrong.status_code == 400
    done = await post_form(
        client, "/compte/double-authentification", {"code": pyotp.TOTP(secret).now(), "password": PASSWORD}
    )
    assert done.status_code == 200

    rows = await JournalEntry.select().where(JournalEntry.action != "user_created").order_by(JournalEntry.seq)
    kept = [(r["action"], r["object_type"], r["object_id"]) for r in rows]
    assert kept[0][0] == "sign_in_failed_unknown" and kept[0][1:] == ("", "")
    assert kept.count(("sign_in_failed", "user", str(sophie.id))) == settings.login_max_failures
    assert ("sign_in_locked", "user", str(sophie.id)) in kept
    assert ("mfa_code_failed", "user", str(manager.id)) in kept and ("mfa_enabled", "user", str(manager.id)) in kept
    everything = " ".join(str(value) for row in rows for value in row.values())
    for secret_text in (WRONG, PASSWORD, unknown, "nulle-part", sophie.email):
        assert secret_text not in everything  # no password, no address in clear
    fingerprint = rows[0]["details"]
    assert re.fullmatch(r'\{"account":"[0-9a-f]{16}"\}', fingerprint)

    # and the coordinator reads them in French
    await post_form(client, "/deconnexion")
    await sign_in(client, await make_person(rt, "camille.roy@reseau.example.fr", coordinator=True))
    page = _text(await client.get("/journal"))
    assert "<td>Connexion refusée : aucun compte à cette adresse</td>" in page
    assert "<td>Connexion refusée : mot de passe incorrect</td>" in page
    assert "<td>Connexion bloquée (trop d'échecs)</td>" in page
    assert "<li>Blocage : ce compte depuis une même adresse réseau</li>" in page
    assert "<td>Code de double authentification refusé</td>" in page and "<li>Étape : activation</li>" in page
    assert "<td>Double authentification activée</td>" in page
    assert f'<a href="/journal?auteur={sophie.id}">compte de Sophie</a>' in page
    failed = _text(await client.get("/journal?action=sign_in_failed"))
    assert len(_rows(failed)) == settings.login_max_failures


def test_every_journalled_action_has_one_french_label() -> None:
    """Every code an `Act(...)` can carry (literal, chosen by a condition, or a referral's transition) has its label
    in the core's or its module's words: the journal page never shows a bare code."""
    from pathlib import Path

    from hub.composition import MODULES
    from referrals import lifecycle

    labels = journal.vocabulary(MODULES).actions
    root = Path(__file__).parent.parent
    codes: set[str] = set()
    for path in [*root.glob("hub/**/*.py"), *root.glob("network/**/*.py"), *root.glob("referrals/**/*.py")]:
        source = path.read_text()
        for first_argument in re.findall(r"\bAct\(\s*([^,]+),", source):
            codes |= set(re.findall(r'"([a-z_.]+)"', first_argument))
        if re.search(r"\bAct\(\s*action\b", source):  # the action chosen just before
            codes |= set(re.findall(r'\baction = "([a-z_]+)"', source))
    codes |= {f"referral_{name}" for name, action in lifecycle.ACTIONS.items() if action.side != "hub"}
    assert len(codes) > 40
    assert sorted(code for code in codes if code not in labels) == []


def test_every_modules_detail_values_keep_their_words_when_two_share_a_key() -> None:
    """The directory and activity records both journal a "format": each one's codes keep their French (an import
    of the directory in the médiation numérique format is not shown as "mednum")."""
    from hub.composition import MODULES

    merged = journal.vocabulary(MODULES).values
    for module in MODULES:
        for key, words in module.journal.values.items():
            for code, word in words.items():
                assert merged[key][code] == word, (module.name, key, code)
    assert merged["format"]["mednum"] == "médiation numérique (CSV)"
    assert merged["format"]["coop"] == "export de la Coop de la médiation numérique"
