"""`maillage serve --workers N`: N processes answer on one port, each app built by the factory from the environment."""

from __future__ import annotations

import http.client
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from tests.conftest import TEST_SECRET, free_port


def _get(port: int, path: str) -> int:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    try:
        connection.request("GET", path)
        return connection.getresponse().status
    finally:
        connection.close()


def _workers(pid: int) -> list[int]:
    """The server's worker processes (uvicorn spawns them with multiprocessing), not its resource tracker."""
    path = Path(f"/proc/{pid}/task/{pid}/children")
    children = [int(child) for child in path.read_text().split()] if path.exists() else []
    return [child for child in children if b"spawn_main" in Path(f"/proc/{child}/cmdline").read_bytes()]


def test_serve_with_two_workers_answers_from_two_processes(database_url, tmp_path):
    port = free_port()
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "MAILLAGE_SECRET_KEY": TEST_SECRET,
        "MAILLAGE_VAR_DIR": str(tmp_path),
        "MAILLAGE_RUN_JOBS": "0",
    }
    server = subprocess.Popen(  # noqa: S603 (our own command)
        [sys.executable, "-m", "hub.cli", "serve", "--port", str(port), "--workers", "2"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 90
        ready = False
        while not ready:
            assert server.poll() is None, "the server stopped"
            assert time.monotonic() < deadline, "the server never became ready"
            try:
                ready = _get(port, "/readyz") == 200 and len(_workers(server.pid)) == 2
            except OSError:
                pass
            time.sleep(0.2)
        assert [_get(port, "/annuaire") for _ in range(10)] == [200] * 10
        assert len(_workers(server.pid)) == 2
    finally:
        server.send_signal(signal.SIGTERM)
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
