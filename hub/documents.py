"""Documents the hub hands out: .docx rendered with docxtpl, turned into PDF by a warm LibreOffice.

`DocumentConverter` keeps one LibreOffice (soffice.bin, headless) per app process, started on first use
and kept warm: its own profile under the var dir (never the user's, never shared with another process),
listening on a private named pipe. A small bridge (hub/soffice_bridge.py, run by the Python that has
LibreOffice's `uno` module) drives it: one JSON line in, one out, per conversion. Conversions are queued
(one at a time: LibreOffice converts one document at a time anyway, and the machine has few cores), each
one bounded by a timeout; the event loop only waits on pipes. When soffice or the bridge died, the next
conversion starts them again; when a conversion overruns its timeout, both are killed (process groups,
reaped: no zombie) and the caller gets `DocumentsUnavailable`, as it does when LibreOffice is not installed.

Cold `soffice --convert-to pdf` costs a whole LibreOffice start per document (seconds); the warm one costs
the conversion alone: see bench/documents.py.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import functools
import io
import itertools
import json
import os
import shutil
import signal
import subprocess
import threading
import uuid
from collections.abc import AsyncIterator, Mapping
from pathlib import Path
from typing import Any

from hub.errors import DomainError
from hub.settings import Settings

_instances = itertools.count(1)
BRIDGE = Path(__file__).resolve().parent / "soffice_bridge.py"
INSTALL_HINT = "scripts/install-libreoffice"


class DocumentsUnavailable(DomainError):
    """PDF documents cannot be made now: LibreOffice is missing, or it failed or overran its time."""

    status_code = 503
    title = "Documents indisponibles"


# ---------------------------------------------------------------- rendering
@dataclasses.dataclass(frozen=True)
class Picture:
    """An image made for one document (a QR code…), placed where the template says {{ name }}."""

    png: bytes
    width_cm: float
    link: str = ""  # the picture is a link to this address
    alt: str = ""  # what a screen reader says of it


_PARSED_LIMIT = 64  # document parts (body, headers, footers) kept parsed and compiled, per process


@functools.cache
def _rendering() -> tuple[Any, Any]:
    """docxtpl's template class and a Jinja environment that prepare each document part once per process.

    docxtpl rewrites every part's XML (`patch_xml`) and compiles it with Jinja on every render; both depend on
    the part's text only, and a template's parts are the same text at every render. Caching them keyed by that
    text takes more than half off a mandate's render (bench/mandates.py) and cannot serve a stale template:
    another file is another text.
    """
    import jinja2
    from docxtpl import DocxTemplate

    lock = threading.Lock()
    patched: dict[str, str] = {}
    compiled: dict[str, jinja2.Template] = {}

    def remember(cache: dict[str, Any], key: str, value: Any) -> Any:
        with lock:
            if len(cache) >= _PARSED_LIMIT:
                cache.pop(next(iter(cache)))  # the oldest first
            cache[key] = value
        return value

    class Environment(jinja2.Environment):
        def from_string(self, source: Any, globals: Any = None, template_class: Any = None) -> Any:  # noqa: A002
            if globals is not None or template_class is not None or not isinstance(source, str):
                return super().from_string(source, globals, template_class)
            found = compiled.get(source)
            return found if found is not None else remember(compiled, source, super().from_string(source))

    class Template(DocxTemplate):  # type: ignore[misc]
        def patch_xml(self, src_xml: str) -> str:
            found = patched.get(src_xml)
            return found if found is not None else remember(patched, src_xml, super().patch_xml(src_xml))

    return Template, Environment(autoescape=True, undefined=jinja2.StrictUndefined)


def render_docx(
    template: Path | bytes, context: Mapping[str, Any], pictures: Mapping[str, Picture] | None = None
) -> bytes:
    """A .docx template (docxtpl: Jinja2 tags in Word) filled with context; values are escaped for XML."""
    from docx.shared import Cm
    from docxtpl import InlineImage

    template_class, environment = _rendering()
    source: Any = io.BytesIO(template) if isinstance(template, bytes) else str(template)
    document = template_class(source)
    values = dict(context)
    for name, picture in (pictures or {}).items():  # docxtpl ties an image to the template being rendered
        values[name] = InlineImage(
            document, io.BytesIO(picture.png), width=Cm(picture.width_cm), anchor=picture.link or None
        )
    document.render(values, jinja_env=environment)
    alts = {p.link: p.alt for p in (pictures or {}).values() if p.link and p.alt}
    if alts:
        relationships = document.docx.part.rels
        for properties in document.docx.element.body.xpath(".//wp:docPr[a:hlinkClick]"):
            click = properties.find("{http://schemas.openxmlformats.org/drawingml/2006/main}hlinkClick")
            rid = click.get("{http://schemas.openxmlformats.org/officeDocument/2006/relationships}id")
            target = relationships[rid].target_ref if rid in relationships else ""
            if target in alts:
                properties.set("descr", alts[target])
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


# ---------------------------------------------------------------- finding LibreOffice
def find_soffice() -> Path | None:
    """soffice.bin itself (not the shell wrapper and its splash process: one process to watch and reap)."""
    override = os.environ.get("MAILLAGE_SOFFICE")
    candidates = [override] if override else []
    wrapper = shutil.which("soffice") or shutil.which("libreoffice")
    if wrapper:
        candidates.append(str(Path(wrapper).resolve().parent / "soffice.bin"))
    candidates += ["/usr/lib/libreoffice/program/soffice.bin", "/opt/libreoffice/program/soffice.bin"]
    for candidate in candidates:
        if candidate and os.access(candidate, os.X_OK) and Path(candidate).is_file():
            return Path(candidate)
    return None


def find_uno_python(soffice: Path | None) -> str | None:
    """A Python that can `import uno`: LibreOffice's own, else the system's python3 (Debian's python3-uno)."""
    candidates = [os.environ.get("MAILLAGE_UNO_PYTHON", "")]
    if soffice is not None:
        candidates.append(str(soffice.parent / "python"))
    candidates += ["/usr/bin/python3", shutil.which("python3") or ""]
    for candidate in candidates:
        if not candidate or not os.access(candidate, os.X_OK):
            continue
        done = subprocess.run(  # noqa: S603 (a fixed probe of a local interpreter)
            [candidate, "-c", "import uno"], capture_output=True, timeout=30, check=False, env=_bridge_environment()
        )
        if done.returncode == 0:
            return candidate
    return None


def _bridge_environment() -> dict[str, str]:
    """The app's environment less what would point another Python at the app's own packages."""
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV")}
    return {**env, "PYTHONDONTWRITEBYTECODE": "1"}


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


class DocumentConverter:
    """One warm LibreOffice for the process: `await converter.to_pdf(docx_bytes) -> pdf_bytes`.

    Start is lazy (the first conversion starts it; `start()` may be awaited earlier), `stop()` at shutdown.
    """

    def __init__(
        self,
        work_dir: Path,
        *,
        timeout: float = 60.0,
        start_timeout: float = 90.0,
        max_waiting: int = 100,
        soffice: Path | None = None,
    ) -> None:
        self.work_dir = Path(work_dir)
        self.soffice = soffice  # None: found on the machine (find_soffice)
        self.timeout = timeout
        self.start_timeout = start_timeout
        self.max_waiting = max_waiting
        self.conversions = 0
        self.starts = 0  # LibreOffice started; past the first, each one is a restart after a death or an overrun
        self._lock = asyncio.Lock()
        self._waiting = 0
        self._soffice: asyncio.subprocess.Process | None = None
        self._bridge: asyncio.subprocess.Process | None = None
        self._programs: tuple[Path, str] | None = None
        # Never shared: LibreOffice locks its profile, and two converters of one process may share a var dir.
        instance = f"{os.getpid()}-{next(_instances)}"
        self._profile = self.work_dir / f"profile-{instance}"
        self._scratch = self.work_dir / f"scratch-{instance}"

    # ------------------------------------------------------------ what is installed
    def missing(self) -> str | None:
        """What is missing for PDFs, said in French; None when LibreOffice and its UNO bridge are there."""
        if self._programs is not None:
            return None
        soffice = self.soffice if self.soffice is not None else find_soffice()
        if soffice is None or not os.access(soffice, os.X_OK):
            return f"LibreOffice n'est pas installé sur le serveur (voir {INSTALL_HINT})."
        python = find_uno_python(soffice)
        if python is None:
            return f"Le module Python de LibreOffice (python3-uno) n'est pas installé sur le serveur (voir {INSTALL_HINT})."
        self._programs = (soffice, python)
        return None

    @property
    def restarts(self) -> int:
        return max(0, self.starts - 1)

    @property
    def soffice_pid(self) -> int | None:
        return self._soffice.pid if self._soffice is not None and self._soffice.returncode is None else None

    @property
    def running(self) -> bool:
        return (
            self._soffice is not None
            and self._soffice.returncode is None
            and self._bridge is not None
            and self._bridge.returncode is None
        )

    # ------------------------------------------------------------ life
    async def start(self) -> None:
        """Start LibreOffice and its bridge now (the first conversion does it otherwise)."""
        async with self._lock:
            await self._ensure_started()

    async def stop(self) -> None:
        """Ask LibreOffice to quit, kill what stays, remove the profile and the scratch files."""
        if self._soffice is None and self._bridge is None and not self._profile.exists():
            return  # never started: the usual case of a process that made no document
        async with self._lock:
            await self._shutdown(gracefully=True)
            await asyncio.to_thread(shutil.rmtree, self._profile, True)
            await asyncio.to_thread(shutil.rmtree, self._scratch, True)

    async def _ensure_started(self) -> None:
        if self.running:
            return
        if self._soffice is not None or self._bridge is not None:
            await self._shutdown(gracefully=False)
        missing = await asyncio.to_thread(self.missing)
        if missing:
            raise DocumentsUnavailable(f"Impossible de produire le PDF : {missing}")
        assert self._programs is not None
        soffice, python = self._programs
        await asyncio.to_thread(self._prepare_dirs)
        # The first start on a new profile may end with "restart requested" (exit 81): try twice.
        last_error = ""
        for _ in range(2):
            pipe = f"maillage-{os.getpid()}-{uuid.uuid4().hex[:12]}"
            env = {**os.environ, "SAL_ENABLE_FILE_LOCKING": "1", "SAL_USE_VCLPLUGIN": "svp"}
            self._soffice = await asyncio.create_subprocess_exec(
                str(soffice),
                "--headless",
                "--invisible",
                "--nologo",
                "--nodefault",
                "--norestore",
                "--nolockcheck",
                f"-env:UserInstallation={self._profile.as_uri()}",
                f"--accept=pipe,name={pipe};urp;StarOffice.ComponentContext",
                stdin=asyncio.subprocess.DEVNULL,
                stdout=asyncio.subprocess.DEVNULL,
                stderr=asyncio.subprocess.DEVNULL,
                start_new_session=True,
                env=env,
            )
            self._bridge = await asyncio.create_subprocess_exec(
                python,
                str(BRIDGE),
                pipe,
                stdin=asyncio.subprocess.PIPE,
                stdout=asyncio.subprocess.PIPE,
                stderr=asyncio.subprocess.DEVNULL,
                start_new_session=True,
                env=_bridge_environment(),
            )
            answer = await self._await_ready()
            if answer.get("ready"):
                self.starts += 1
                return
            last_error = str(answer.get("error", ""))
            await self._shutdown(gracefully=False)
        raise DocumentsUnavailable(f"Impossible de produire le PDF : LibreOffice n'a pas démarré ({last_error}).")

    async def _await_ready(self) -> dict[str, Any]:
        """The bridge's first line, unless soffice ends first (a new profile may ask for a restart)."""
        assert self._soffice is not None
        ready = asyncio.ensure_future(self._read_answer())
        ended = asyncio.ensure_future(self._soffice.wait())
        try:
            done, _ = await asyncio.wait(
                {ready, ended}, timeout=self.start_timeout, return_when=asyncio.FIRST_COMPLETED
            )
            if ready in done:
                return ready.result()
            if ended in done:
                return {"ready": False, "error": f"soffice s'est arrêté (code {ended.result()})"}
            return {"ready": False, "error": f"pas prêt en {self.start_timeout:g} s"}
        except (ConnectionError, ValueError) as error:
            return {"ready": False, "error": str(error) or type(error).__name__}
        finally:
            for task in (ready, ended):
                if not task.done():
                    task.cancel()
                    with contextlib.suppress(BaseException):
                        await task

    def _prepare_dirs(self) -> None:
        self.work_dir.mkdir(parents=True, exist_ok=True)
        self._scratch.mkdir(parents=True, exist_ok=True)
        # Profiles and scratch left by processes that died without stopping their converter.
        for path in self.work_dir.iterdir():
            kind, _, rest = path.name.partition("-")
            pid = rest.partition("-")[0]
            if kind in ("profile", "scratch") and pid.isdigit() and int(pid) != os.getpid() and not _alive(int(pid)):
                shutil.rmtree(path, ignore_errors=True)

    async def _shutdown(self, gracefully: bool) -> None:
        bridge, soffice = self._bridge, self._soffice
        self._bridge = self._soffice = None
        if gracefully and bridge is not None and bridge.returncode is None and bridge.stdin is not None:
            with contextlib.suppress(Exception):
                bridge.stdin.write(b'{"quit": true}\n')
                await bridge.stdin.drain()
                await asyncio.wait_for(bridge.wait(), 5)
            if soffice is not None:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(soffice.wait(), 10)
        for process in (bridge, soffice):
            if process is None:
                continue
            if process.returncode is None:
                with contextlib.suppress(ProcessLookupError, PermissionError):
                    os.killpg(process.pid, signal.SIGKILL)  # its own session: the process and any child
            with contextlib.suppress(Exception):
                await asyncio.wait_for(process.wait(), 10)  # reaped: no zombie left behind
            if process.stdin is not None:
                process.stdin.close()
        # A dead soffice leaves its lock in the profile; the next start must not wait on it.
        with contextlib.suppress(OSError):
            (self._profile / ".lock").unlink()

    async def _read_answer(self) -> dict[str, Any]:
        assert self._bridge is not None and self._bridge.stdout is not None
        line = await self._bridge.stdout.readline()
        if not line:
            raise ConnectionError("le pont vers LibreOffice s'est arrêté")
        try:
            return json.loads(line)  # type: ignore[no-any-return]
        except ValueError as error:
            raise ConnectionError(f"réponse illisible du pont vers LibreOffice : {line[:200]!r}") from error

    # ------------------------------------------------------------ converting
    async def to_pdf(self, docx: bytes) -> bytes:
        """The PDF of a .docx; raises DocumentsUnavailable (and leaves nothing behind) when it cannot."""
        if self._waiting >= self.max_waiting:
            raise DocumentsUnavailable("Trop de documents sont en préparation en ce moment. Réessayez dans une minute.")
        self._waiting += 1
        try:
            async with self._lock:
                return await self._convert(docx)
        finally:
            self._waiting -= 1

    async def _convert(self, docx: bytes) -> bytes:
        stem = self._scratch / uuid.uuid4().hex
        source, target = stem.with_suffix(".docx"), stem.with_suffix(".pdf")
        try:
            for attempt in range(2):  # once more after a restart when soffice had died under us
                await self._ensure_started()
                await asyncio.to_thread(source.write_bytes, docx)
                try:  # asyncio.timeout, not wait_for: on 3.11 wait_for may swallow the caller's cancellation
                    async with asyncio.timeout(self.timeout):
                        answer = await self._request(source, target)
                except TimeoutError:
                    await self._shutdown(gracefully=False)
                    raise DocumentsUnavailable(
                        f"Impossible de produire le PDF : LibreOffice n'a pas fini en {self.timeout:g} s ; "
                        "il a été arrêté et redémarrera à la prochaine demande."
                    ) from None
                except ConnectionError:
                    answer = {"ok": False, "lost": True, "error": "le pont vers LibreOffice s'est arrêté"}
                if answer.get("ok"):
                    self.conversions += 1
                    return await asyncio.to_thread(target.read_bytes)
                if not answer.get("lost") or attempt == 1:
                    if answer.get("lost"):
                        await self._shutdown(gracefully=False)
                    raise DocumentsUnavailable(
                        f"Impossible de produire le PDF : {answer.get('error', 'erreur inconnue')}."
                    )
                await self._shutdown(gracefully=False)
            raise AssertionError("unreachable")
        finally:
            for path in (source, target):
                with contextlib.suppress(OSError):
                    path.unlink()

    async def _request(self, source: Path, target: Path) -> dict[str, Any]:
        assert self._bridge is not None and self._bridge.stdin is not None
        request_id = source.stem
        self._bridge.stdin.write(json.dumps({"id": request_id, "in": str(source), "out": str(target)}).encode() + b"\n")
        try:
            await self._bridge.stdin.drain()
        except (BrokenPipeError, ConnectionResetError) as error:
            raise ConnectionError(str(error)) from error
        while True:
            answer = await self._read_answer()
            # A caller cancelled while waiting leaves its answer behind: skip it (LibreOffice did one at a time).
            if answer.get("id") == request_id:
                return answer


# ---------------------------------------------------------------- for the app's lifespan
def converter_for(settings: Settings) -> DocumentConverter:
    """The app's converter: its profile and scratch files under <var dir>/documents."""
    return DocumentConverter(settings.var_dir / "documents")


@contextlib.asynccontextmanager
async def converter_running(converter: DocumentConverter) -> AsyncIterator[DocumentConverter]:
    """For the app's lifespan: nothing starts here (the first conversion does); LibreOffice stops at exit."""
    try:
        yield converter
    finally:
        await converter.stop()
