"""Every page form of the demo town keeps what was typed: crawled as a visitor and as each demo account, each POST
form's typed fields have a maxlength, and the form posted with every typed field at exactly that length, then a tab
pasted in each one-line field, then one character over each maxlength, never answers with a server error or the
bare "Requête invalide" page (the form comes back with what was typed)."""

from __future__ import annotations

import dataclasses
import re
import time
from collections.abc import Iterator
from urllib.parse import urljoin, urlsplit

import httpx
import lxml.html
import pyotp
import pytest

from hub import demo
from tests.conftest import post_form

pytestmark = pytest.mark.demo_town

BASE = "http://testserver.local"
TYPED = {"text", "email", "url", "tel", "search"}
DOWNLOADS = (".pdf", ".docx", ".xlsx", ".csv", ".json", ".ics", ".png", ".odt", ".zip")
# what ends the session or changes the account's own password or second factor: never posted
NOT_POSTED = re.compile(r"/(deconnexion|mot-de-passe|codes-de-secours|double-authentification)(/|$)")
ACCOUNTS = [  # the admin last: its forms (e.g. coordinator rights) must not take pages from the others
    *(user for user in demo.USERS if not user.is_admin),
    *(user for user in demo.USERS if user.is_admin),
]
MAX_PAGES_PER_ACCOUNT = 200  # a safety net: the demo accounts reach 162 pages in all


def pattern(path: str) -> str:
    return re.sub(r"\d+", "N", path)


@dataclasses.dataclass
class PageForm:
    page: str
    action: str
    multipart: bool
    fields: list[tuple[str, str]]  # (name, value) of what a browser sends untouched
    typed: list[tuple[str, int | None, bool, str]]  # (name, maxlength, one-line, input type)


def forms_of(page: str, text: str) -> Iterator[PageForm]:
    document = lxml.html.fromstring(text)
    for form in document.iter("form"):
        if (form.get("method") or "get").lower() != "post":
            continue
        action = urlsplit(urljoin(BASE + page, form.get("action") or page)).path
        fields: list[tuple[str, str]] = []
        typed: list[tuple[str, int | None, bool, str]] = []
        submit_taken = False
        for element in form.iter("input", "textarea", "select", "button"):
            name = element.get("name")
            if not name or element.get("disabled") is not None:
                continue
            kind = (element.get("type") or ("submit" if element.tag == "button" else "text")).lower()
            limit = element.get("maxlength")
            if element.tag == "textarea" or (element.tag == "input" and kind in TYPED):
                typed.append((name, int(limit) if limit else None, element.tag == "input", kind))
            elif element.tag == "select":
                options = element.findall(".//option")
                chosen = [o for o in options if o.get("selected") is not None] or [
                    o for o in options if (o.get("value") if o.get("value") is not None else o.text_content())
                ][:1]
                fields += [(name, o.get("value") if o.get("value") is not None else o.text_content()) for o in chosen]
            elif kind in ("checkbox", "radio"):
                if element.get("checked") is not None:
                    fields.append((name, element.get("value") or "on"))
            elif kind in ("submit", "button", "image"):
                if kind == "submit" and not submit_taken:
                    fields.append((name, element.get("value") or ""))
                    submit_taken = True
            elif kind != "file":
                fields.append((name, element.get("value") or ""))
        multipart = (form.get("enctype") or "").lower() == "multipart/form-data"
        yield PageForm(page, action, multipart, fields, typed)


def links_of(page: str, text: str) -> Iterator[str]:
    for element in lxml.html.fromstring(text).iter("a"):
        href = element.get("href")
        if not href or href.startswith(("#", "mailto:", "tel:", "javascript:")):
            continue
        parts = urlsplit(urljoin(BASE + page, href))
        if f"{parts.scheme}://{parts.netloc}" != BASE or parts.path.lower().endswith(DOWNLOADS):
            continue
        yield parts.path + (f"?{parts.query}" if parts.query else "")


def filled(limit: int, kind: str) -> str:
    """limit characters: sevens, or for an e-mail field a valid-looking address of that length."""
    domain = "@exemple.fr"
    if kind != "email" or limit < len(domain) + 1:
        return "7" * limit
    local = min(64, limit - len(domain))
    rest = limit - local - len(domain)  # what the local part cannot hold goes to a subdomain ("7…7.exemple.fr")
    if rest == 1:
        local, rest = local - 1, 2
    return "7" * local + "@" + ("7" * (rest - 1) + "." if rest else "") + domain[1:]


def is_bare_error(response: httpx.Response) -> bool:
    match = re.search(r"<title>\s*([^<]*)", response.text)
    return bool(match and match.group(1).startswith("Requête invalide"))


async def signed_in(client: httpx.AsyncClient, user: demo.DemoUser, secret: str | None) -> httpx.AsyncClient:
    """A fresh cookie jar on the same app, signed in as the demo account (its TOTP code when it has one)."""
    own = httpx.AsyncClient(transport=client._transport, base_url=BASE, follow_redirects=True)
    await own.get("/connexion")
    response = await post_form(own, "/connexion", {"email": user.email, "password": demo.DEMO_PASSWORD})
    if secret:
        assert response.url.path == "/connexion/code", (user.email, response.text[:300])
        response = await post_form(own, "/connexion/code", {"code": pyotp.TOTP(secret).now()})
    assert response.url.path == "/", (user.email, response.url)
    return own


async def crawl(own: httpx.AsyncClient) -> tuple[list[PageForm], int]:
    """Pages reachable from "/" by same-site links, one per path pattern; the POST forms they hold."""
    queue, seen, found, pages = ["/"], {pattern("/")}, [], 0
    while queue and pages < MAX_PAGES_PER_ACCOUNT:
        page = queue.pop(0)
        response = await own.get(page)
        pages += 1
        if response.status_code != 200 or "text/html" not in response.headers.get("content-type", ""):
            continue
        where = response.url.path + (f"?{response.url.query.decode()}" if response.url.query else "")
        found += list(forms_of(where, response.text))
        for link in links_of(where, response.text):
            path = link.split("?")[0]
            if NOT_POSTED.search(path) or pattern(path) in seen:
                continue
            seen.add(pattern(path))
            queue.append(link)
    return found, pages


async def submit(own: httpx.AsyncClient, form: PageForm, typed: dict[str, str]) -> httpx.Response:
    data: dict[str, list[str]] = {}
    for name, value in [*form.fields, *typed.items()]:
        data.setdefault(name, []).append(value)
    if form.multipart:  # an empty file part makes it multipart, as a browser sends it with no file chosen
        return await own.post(form.action, data=data, files={"_": ("", b"", "application/octet-stream")})
    return await own.post(form.action, data=data)


async def test_every_page_form_keeps_what_was_typed(client, rt):
    """Every POST form the demo accounts reach: typed fields carry a maxlength, and the longest text they allow,
    a pasted tab, or one character more, comes back as a page (the form with its values), never a 5xx nor the bare
    error page."""
    started = time.monotonic()
    secrets = await demo.totp_secrets(rt)
    sessions = []
    pages = 0
    visitor = httpx.AsyncClient(transport=client._transport, base_url=BASE, follow_redirects=True)
    await visitor.get("/connexion")  # its CSRF cookie: the sign-in, password and join forms are the visitor's
    for who, own in [("visiteur", visitor)] + [
        (user.email.split("@")[0], await signed_in(client, user, secrets.get(user.email))) for user in ACCOUNTS
    ]:
        forms, crawled = await crawl(own)
        pages += crawled
        sessions.append((who, own, forms))
    problems: list[str] = []
    tried: set[str] = set()
    fields = posts = 0
    for who, own, forms in sessions:
        for form in forms:
            if NOT_POSTED.search(form.action) or pattern(form.action) in tried:
                continue
            tried.add(pattern(form.action))
            where = f"{who} {form.page} → {form.action}"
            for name, limit, _one_line, _kind in form.typed:
                if not limit:
                    problems.append(f"{where}: {name} has no maxlength")
            fields += len(form.typed)
            longest = {name: filled(limit or 10, kind) for name, limit, _one, kind in form.typed}
            tabbed = {name: "abc\tdef" for name, _limit, one_line, _kind in form.typed if one_line}
            over = {name: filled(limit + 1, kind) for name, limit, _one, kind in form.typed if limit}
            for label, typed in (("at maxlength", longest), ("with a tab", tabbed), ("one over maxlength", over)):
                if label != "at maxlength" and not typed:
                    continue
                response = await submit(own, form, typed)
                posts += 1
                if response.status_code >= 500 or is_bare_error(response):
                    excerpt = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", response.text))[:300]
                    problems.append(f"{where} {label}: {response.status_code} {excerpt}")
    for _user, own, _forms in sessions:
        await own.aclose()
    print(
        f"\nevery page form: {len(tried)} forms ({posts} posts), {fields} typed fields,"
        f" over {pages} pages as a visitor and {len(sessions) - 1} accounts in {time.monotonic() - started:.1f} s"
    )
    assert not problems, "\n".join(problems)
    assert len(tried) >= 45 and fields >= 100, sorted(tried)  # 50 forms, 107 typed fields on the demo
