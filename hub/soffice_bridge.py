"""The UNO bridge between hub.documents and its warm LibreOffice: a script, never imported by the app.

Run by a Python that has LibreOffice's `uno` module (Debian's python3 with python3-uno, or LibreOffice's
own program/python): `python3 soffice_bridge.py PIPE_NAME`. It connects to the soffice listening on that
named pipe, then answers one JSON line per JSON line on stdin:
  {"id": "…", "in": "/abs/in.docx", "out": "/abs/out.pdf"}
      ->  {"id": "…", "ok": true} | {"id": "…", "ok": false, "error": "...", "lost": bool}
  {"quit": true}, or the end of stdin             ->  terminates LibreOffice, then exits
It first prints {"ready": true} (or {"ready": false, "error": "..."} after 60 s of trying).
"lost" means the connection to soffice is gone: the app restarts both processes.
It uses only the standard library and uno, so that any LibreOffice's Python can run it.
"""

from __future__ import annotations

import json
import sys
import time
from typing import Any

import uno  # type: ignore[import-not-found]
from com.sun.star.beans import PropertyValue  # type: ignore[import-not-found]


def props(**values: Any) -> tuple[Any, ...]:
    out = []
    for name, value in values.items():
        prop = PropertyValue()
        prop.Name = name
        prop.Value = value
        out.append(prop)
    return tuple(out)


def reply(message: dict[str, Any]) -> None:
    sys.stdout.write(json.dumps(message) + "\n")
    sys.stdout.flush()


def connect(pipe: str, seconds: float) -> Any:
    local = uno.getComponentContext()
    resolver = local.ServiceManager.createInstanceWithContext("com.sun.star.bridge.UnoUrlResolver", local)
    deadline = time.monotonic() + seconds
    while True:
        try:
            context = resolver.resolve(f"uno:pipe,name={pipe};urp;StarOffice.ComponentContext")
            return context.ServiceManager.createInstanceWithContext("com.sun.star.frame.Desktop", context)
        except Exception:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1)


def convert(desktop: Any, source: str, target: str) -> None:
    document = desktop.loadComponentFromURL(
        uno.systemPathToFileUrl(source), "_blank", 0, props(Hidden=True, ReadOnly=True, UpdateDocMode=0)
    )
    if document is None:
        raise RuntimeError("LibreOffice n'a pas pu ouvrir le document")
    try:
        document.storeToURL(uno.systemPathToFileUrl(target), props(FilterName="writer_pdf_Export"))
    finally:
        document.close(True)


def is_lost(error: Exception) -> bool:
    """A dead or disposed bridge to soffice (UNO's exception names carry their module: com.sun.star...)."""
    text = f"{type(error).__name__} {error}".lower()
    return any(word in text for word in ("disposed", "runtimeexception", "connection", "broken pipe"))


def main() -> int:
    pipe = sys.argv[1]
    try:
        desktop = connect(pipe, 60.0)
    except Exception as error:
        reply({"ready": False, "error": f"{type(error).__name__}: {error}"})
        return 1
    reply({"ready": True})
    for line in sys.stdin:
        request = json.loads(line)
        if request.get("quit"):
            break
        try:
            convert(desktop, request["in"], request["out"])
        except Exception as error:
            lost = is_lost(error)
            reply({"id": request.get("id"), "ok": False, "error": f"{type(error).__name__}: {error}", "lost": lost})
            if lost:
                return 1
            continue
        reply({"id": request.get("id"), "ok": True})
    # Asked to quit, or the app is gone (its end of stdin closed): LibreOffice must not outlive it.
    try:
        desktop.terminate()
    except Exception:  # noqa: S110 (soffice going away under us is the aim)
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
