"""The one way to build the app: create_app(settings)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Sequence
from typing import Any

from litestar import Litestar, Request, Router, get
from litestar.config.compression import CompressionConfig
from litestar.config.csrf import CSRFConfig
from litestar.datastructures import State
from litestar.di import Provide
from litestar.logging import LoggingConfig
from litestar.middleware.base import DefineMiddleware
from litestar.openapi import OpenAPIConfig
from litestar.openapi.plugins import JsonRenderPlugin
from litestar.openapi.spec import Components, SecurityScheme
from litestar.plugins.jinja import JinjaTemplateEngine
from litestar.static_files import create_static_files_router
from litestar.template import TemplateConfig

from hub import auth, db, jobs
from hub.accounts import Actor
from hub.api import API_CONTROLLERS, BEARER_SCHEME
from hub.auth import ActorMiddleware
from hub.composition import MODULES
from hub.csrf import SessionCSRFMiddleware
from hub.forms import FormTidyMiddleware
from hub.headers import security_headers_hook
from hub.health import ReadinessCheck, ready
from hub.limits import JsonLimitsMiddleware
from hub.modules import Module
from hub.pages import PAGE_CONTROLLERS
from hub.runtime import Runtime
from hub.schemas import Health
from hub.settings import PROJECT_ROOT, Settings
from hub.web import handle_exception, template_environment

log = logging.getLogger("maillage")


@get("/healthz", operation_id="health", tags=["Service"], cache=False)
async def health(request: Request[Any, Any, Any]) -> Health:
    """Liveness: the process answers (no database: see /readyz, which proves it can write)."""
    return Health(status="ok")


def provide_runtime(state: State) -> Runtime:
    return state.runtime  # type: ignore[no-any-return]


def provide_actor(request: Request[Any, Any, Any]) -> Actor:
    actor = auth.current_actor(request)
    if actor is None:  # guards run first; this only fires on a route declared public by mistake
        raise auth.Unauthorized("Connectez-vous pour continuer.")
    return actor


def create_app(settings: Settings, *, migrate: bool = False, modules: Sequence[Module] = MODULES) -> Litestar:
    """Build the whole app from a Settings object and the modules it composes; nothing happens at import time."""
    runtime = Runtime(settings, modules)
    engine = db.make_engine(settings)
    db.bind_engine(engine)

    @contextlib.asynccontextmanager
    async def lifespan(app: Litestar) -> AsyncIterator[None]:
        db.bind_engine(engine)
        await db.start(engine)
        if migrate:
            await db.migrate(engine)
        await runtime.callers.start(engine)
        stop = asyncio.Event()
        loop_task = asyncio.create_task(jobs.loop(runtime, stop)) if settings.run_jobs_in_process else None
        try:
            yield
        finally:
            stop.set()
            if loop_task is not None:
                await loop_task
            await runtime.callers.stop()
            await runtime.documents.stop()  # the warm LibreOffice, if a document started it
            await db.stop(engine)

    static = create_static_files_router(
        path="/static",
        directories=[PROJECT_ROOT / "static"],
        guards=[auth.public],
        include_in_schema=False,
    )
    openapi = OpenAPIConfig(
        title="Maillage API",
        version="1",
        description="API du réseau Maillage. Authentification : en-tête `Authorization: Bearer <jeton personnel>`.",
        render_plugins=[JsonRenderPlugin()],
        openapi_router=Router(path="/schema", guards=[auth.public], route_handlers=[], include_in_schema=False),
        components=Components(
            security_schemes={
                BEARER_SCHEME: SecurityScheme(
                    type="http", scheme="bearer", description="Jeton personnel créé depuis « Mon compte »"
                )
            }
        ),
        use_handler_docstrings=True,
    )
    return Litestar(
        route_handlers=[
            # A router, so the OPTIONS handler Litestar adds for /healthz carries the policy too.
            Router(path="/", guards=[auth.public], route_handlers=[health, ready]),
            static,
            *PAGE_CONTROLLERS,
            *API_CONTROLLERS,
            *[handler for module in modules for handler in module.routes()],
        ],
        dependencies={
            "rt": Provide(provide_runtime, sync_to_thread=False),
            "actor": Provide(provide_actor, sync_to_thread=False),
        },
        state=State({"runtime": runtime, "settings": settings, "readiness": ReadinessCheck(settings)}),
        middleware=[
            DefineMiddleware(JsonLimitsMiddleware),
            DefineMiddleware(ActorMiddleware),
            DefineMiddleware(FormTidyMiddleware),  # a pasted tab is a space before any page form reads it
            # Litestar's CSRF check, its token tied to the session (hub/csrf.py): not csrf_config, which adds the stock one
            DefineMiddleware(
                SessionCSRFMiddleware,
                config=CSRFConfig(
                    secret=runtime.secrets.csrf_secret,
                    cookie_name="maillage_csrf",
                    cookie_secure=settings.secure_cookies,
                    cookie_httponly=True,
                    # the API takes no cookie; a module's exempt forms change nothing (e.g. a search posted to
                    # keep addresses out of URLs)
                    exclude=["/api/", *[path for module in modules for path in module.csrf_exempt]],
                ),
            ),
        ],
        template_config=TemplateConfig(engine=JinjaTemplateEngine.from_environment(template_environment())),
        openapi_config=openapi,
        exception_handlers={Exception: handle_exception},
        compression_config=CompressionConfig(backend="gzip", minimum_size=1000),
        logging_config=LoggingConfig(
            root={"level": settings.log_level, "handlers": ["queue_listener"]},
            # httpx logs every request's URL at INFO: the geocoder's hold a typed address, personal data
            loggers={"httpx": {"level": "WARNING"}, "httpcore": {"level": "WARNING"}},
            log_exceptions="never",  # handle_exception logs what matters, without request bodies
        ),
        before_send=[
            security_headers_hook(
                settings, [url for module in modules if module.image_sources for url in module.image_sources(settings)]
            )
        ],
        lifespan=[lifespan],
        debug=settings.debug,
    )


def app_from_env() -> Litestar:
    """The factory uvicorn calls in each worker process (`maillage serve --workers N`): the app from the environment."""
    return create_app(Settings.from_env(sections=[module.settings for module in MODULES if module.settings]))
