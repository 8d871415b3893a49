"""Serve one benchmark target under uvicorn (one process, no access log); started by bench.api_get.

python -m bench.serve app     --port P              Maillage itself, settings from the environment
                  [--stalls F]                      ... and a 10 ms ticker in its event loop, appending to F
                                                    "<unix time> <seconds late>" whenever the loop was held
                                                    more than 20 ms (bench.import_latency reads it)
python -m bench.serve bare    --port P --payload F  a bare Litestar app (no database, no middleware)
                                                    answering GET /api/v1/me with the JSON in file F
python -m bench.serve bare_db --port P --payload F  the same, plus one raw token lookup per request on a
                                                    connection kept open (DATABASE_URL): the floor of an
                                                    authenticated request that reads the database once
                                                    (SQLite: a synchronous read; PostgreSQL: asyncpg)
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import json
import os
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import uvicorn
from litestar import Litestar, Request, get
from litestar.exceptions import NotAuthorizedException

LOOKUP_SQL = (
    'SELECT u.id, u.email, u.full_name, u.is_active FROM hub_api_token t JOIN hub_user u ON u.id = t."user" '
    "WHERE t.token_hash = {} AND t.revoked_at IS NULL"
)


def bare_app(payload: Any) -> Litestar:
    """The floor: the same route and the same JSON, serialised by Litestar, with nothing behind it."""

    @get("/api/v1/me")
    async def me() -> Any:
        return payload

    @get("/healthz")
    async def health() -> dict[str, str]:
        return {"status": "ok"}

    return Litestar(route_handlers=[me, health], openapi_config=None)


def _bearer(request: Request[Any, Any, Any]) -> str:
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token:
        raise NotAuthorizedException()
    return hashlib.sha256(token.strip().encode()).hexdigest()


def bare_db_app(payload: Any, database_url: str) -> Litestar:
    """The bare app plus one indexed SELECT per request through the raw driver, on a connection kept open."""
    lookup: dict[str, Any] = {}

    @contextlib.asynccontextmanager
    async def lifespan(app: Litestar) -> AsyncIterator[None]:
        if database_url.startswith("sqlite"):
            import sqlite3

            # synchronous, in the event loop's thread, as hub.callers reads callers on SQLite
            connection = sqlite3.connect(database_url.removeprefix("sqlite:///"), isolation_level=None)

            async def sqlite_lookup(digest: str) -> Any:
                return connection.execute(LOOKUP_SQL.format("?"), (digest,)).fetchone()

            lookup["run"] = sqlite_lookup
            try:
                yield
            finally:
                connection.close()
        else:
            import asyncpg

            pool = await asyncpg.create_pool(database_url, min_size=1, max_size=10)

            async def pg_lookup(digest: str) -> Any:
                return await pool.fetchrow(LOOKUP_SQL.format("$1"), digest)

            lookup["run"] = pg_lookup
            try:
                yield
            finally:
                await pool.close()

    @get("/api/v1/me")
    async def me(request: Request[Any, Any, Any]) -> Any:
        if await lookup["run"](_bearer(request)) is None:
            raise NotAuthorizedException()
        return payload

    @get("/healthz")
    async def health() -> dict[str, str]:
        return {"status": "ok"}

    return Litestar(route_handlers=[me, health], openapi_config=None, lifespan=[lifespan])


def maillage_app() -> Litestar:
    from hub.app import create_app
    from hub.settings import Settings

    return create_app(Settings.from_env())


STALL_REPORTED_S = 0.02


async def _serve_with_ticker(app: Litestar, port: int, stalls: Path) -> None:
    """uvicorn's server and, in the same event loop, a ticker that notes how late each 10 ms sleep woke."""
    import asyncio
    import time

    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, access_log=False, log_level="warning", lifespan="on")
    )

    async def ticker() -> None:
        with stalls.open("a", encoding="utf-8") as out:
            while True:
                started = time.perf_counter()
                await asyncio.sleep(0.01)
                late = time.perf_counter() - started - 0.01
                if late > STALL_REPORTED_S:
                    out.write(f"{time.time():.3f} {late:.4f}\n")
                    out.flush()

    task = asyncio.create_task(ticker())
    try:
        await server.serve()
    finally:
        task.cancel()


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.serve")
    parser.add_argument("kind", choices=["app", "bare", "bare_db"])
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--payload", type=Path)
    parser.add_argument("--stalls", type=Path, help="app only: note the event loop's stalls in this file")
    args = parser.parse_args()
    if args.kind == "app":
        app = maillage_app()
    else:
        if args.payload is None:
            parser.error("--payload is required for the bare apps")
        payload = json.loads(args.payload.read_text())
        app = bare_app(payload) if args.kind == "bare" else bare_db_app(payload, os.environ["DATABASE_URL"])
    if args.stalls is not None:
        import asyncio

        asyncio.run(_serve_with_ticker(app, args.port, args.stalls))
        return
    uvicorn.run(app, host="127.0.0.1", port=args.port, workers=1, access_log=False, log_level="warning")


if __name__ == "__main__":
    main()
