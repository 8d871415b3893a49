"""An import killed once it has committed keeps its report: the report row commits with the import itself."""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import asyncpg

from network.tables import ImportRecord, Service, Structure
from tests.conftest import TEST_SECRET

DATA = Path(__file__).parent / "data"
SERVICES = 1500  # enough that indexing them after the commit takes a while


def big_export(path: Path) -> None:
    template = json.loads((DATA / "datainclusion_valid.json").read_text(encoding="utf-8"))
    structure, service = template["structures"][0], template["services"][0]
    structures, services = [], []
    for n in range(SERVICES // 3):
        sid = f"dora--cs-{n}"
        name = hashlib.sha256(str(n).encode()).hexdigest()[:24]  # names far apart: no duplicate flags
        structures.append({**structure, "id": sid, "nom": f"Lieu {name}", "siret": ""})
        for k in range(3):
            services.append({**service, "id": f"dora--svc-{n}-{k}", "structure_id": sid, "nom": f"Atelier {n} {k}"})
    path.write_text(json.dumps({"structures": structures, "services": services}), encoding="utf-8")


async def test_an_import_killed_after_its_commit_keeps_its_report(app, database_url, tmp_path):
    """`app` binds the tables to this test's database, for the counts at the end."""
    path = tmp_path / "export.json"
    big_export(path)
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "MAILLAGE_SECRET_KEY": TEST_SECRET,
        "MAILLAGE_VAR_DIR": str(tmp_path),
        "MAILLAGE_RUN_JOBS": "0",
    }
    importer = subprocess.Popen(  # noqa: ASYNC220, S603 (the CLI in a process of its own, killed for real)
        [sys.executable, "-m", "hub.cli", "directory", "import", str(path), "--format", "datainclusion"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    committed = "SELECT count(*) FROM hub_journal WHERE action = 'directory_import'"
    deadline = time.monotonic() + 120
    try:
        if database_url.startswith("sqlite"):
            watcher = sqlite3.connect(database_url.removeprefix("sqlite:///"), timeout=30, isolation_level=None)
            while watcher.execute(committed).fetchone()[0] == 0:
                assert importer.poll() is None and time.monotonic() < deadline, "the import never committed"
                await asyncio.sleep(0.002)
            # committed: take the write lock at once, so the process is stuck indexing, then kill it there
            watcher.execute("BEGIN IMMEDIATE")
            importer.kill()
            importer.wait()
            watcher.execute("ROLLBACK")
            watcher.close()
        else:
            watcher = await asyncpg.connect(database_url)
            while await watcher.fetchval(committed) == 0:
                assert importer.poll() is None and time.monotonic() < deadline, "the import never committed"
                await asyncio.sleep(0.002)
            transaction = watcher.transaction()
            await transaction.start()
            await watcher.execute("LOCK TABLE network_search_pending IN ACCESS EXCLUSIVE MODE")
            importer.kill()
            importer.wait()
            await transaction.rollback()
            await watcher.close()
    finally:
        if importer.poll() is None:
            importer.kill()
            importer.wait()
    assert importer.returncode == -9  # killed, not finished
    assert await Structure.count() == SERVICES // 3 and await Service.count() == SERVICES
    records = await ImportRecord.select(ImportRecord.summary, ImportRecord.files)
    assert len(records) == 1 and records[0]["files"] == "export.json"
    assert f"Services : {SERVICES} créé(s)" in records[0]["summary"]
