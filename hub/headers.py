"""Browser-side defences sent with every response (pages, errors, API, static files).

The Content-Security-Policy allows scripts, styles and fonts from this site only (no inline script, no
`style` attribute in markup; Leaflet sets styles from its script, which CSP allows), images from this site
and the map's tile server, no plugin, no framing. HSTS only when the public address is https.
"""

from __future__ import annotations

from collections.abc import Sequence
from urllib.parse import urlsplit

from litestar.datastructures import MutableScopeHeaders
from litestar.types import BeforeMessageSendHookHandler, Message, Scope

from hub.settings import Settings

HSTS = "max-age=31536000"  # a year; no includeSubDomains: the parent domain's other sites are not ours to bind
PERMISSIONS = (
    "accelerometer=(), camera=(), display-capture=(), geolocation=(self), gyroscope=(), magnetometer=(), "
    "microphone=(), payment=(), usb=(), interest-cohort=()"
)  # geolocation: the map's "autour de moi" asks the browser for the visitor's position


def tile_origin(tile_url: str) -> str:
    """The origin of an XYZ tile URL, `{s}` subdomains as a wildcard: what img-src must allow for the map."""
    parts = urlsplit(tile_url)
    if not parts.scheme or not parts.netloc:
        return ""
    host = parts.netloc.replace("{s}", "*")
    return f"{parts.scheme}://{host}"


def content_security_policy(settings: Settings, image_urls: Sequence[str] = ()) -> str:
    """The policy; `image_urls` are the other places pages take images from (a module's map tiles)."""
    origins = dict.fromkeys(tile_origin(url) for url in image_urls)
    images = " ".join(filter(None, ["'self'", "data:", *origins]))
    return "; ".join(
        [
            "default-src 'self'",
            "script-src 'self'",
            "style-src 'self'",
            f"img-src {images}",
            "font-src 'self'",
            "connect-src 'self'",
            "object-src 'none'",
            "base-uri 'none'",
            "form-action 'self'",
            "frame-ancestors 'none'",
        ]
    )


def security_headers(settings: Settings, image_urls: Sequence[str] = ()) -> dict[str, str]:
    headers = {
        "Content-Security-Policy": content_security_policy(settings, image_urls),
        "X-Content-Type-Options": "nosniff",
        "Referrer-Policy": "same-origin",  # never the path (search words, single-use links) to another site
        "X-Frame-Options": "DENY",
        "Permissions-Policy": PERMISSIONS,
        "Cross-Origin-Opener-Policy": "same-origin",
    }
    if settings.secure_cookies:  # the public address is https
        headers["Strict-Transport-Security"] = HSTS
    return headers


def security_headers_hook(settings: Settings, image_urls: Sequence[str] = ()) -> BeforeMessageSendHookHandler:
    """A before_send hook: runs for every response, those of errors and unknown paths included."""
    headers = security_headers(settings, image_urls)

    async def add_headers(message: Message, scope: Scope) -> None:
        if message["type"] != "http.response.start":
            return
        present = MutableScopeHeaders.from_message(message)
        for name, value in headers.items():
            if name not in present:
                present[name] = value

    return add_headers
