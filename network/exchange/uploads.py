"""An import's files received as they stream in: written to a folder of the var directory chunk by chunk, never
held whole in memory nor parsed on the event loop in one go, and capped in size with a French message.

The form is read with the `multipart` package's push parser (the one Litestar itself depends on), fed with the
request's chunks as they arrive; short text fields are kept in memory (capped), file parts go to disk.
"""

from __future__ import annotations

import asyncio
import dataclasses
import secrets
import shutil
from collections.abc import AsyncIterator
from pathlib import Path
from typing import BinaryIO

from multipart import MultipartSegment, ParserError, PushMultipartParser, parse_options_header

from hub.errors import Invalid

MAX_FIELD_CHARS = 1000  # format, source, dry_run: a few words
MAX_PARTS = 16  # a few fields and a few files
ENVELOPE_BYTES = 64 * 1024  # the form's other fields and the parts' headers, beside the files themselves
NOTHING = "Rien n'a été importé."


class UploadTooLarge(Invalid):
    """The files are over the cap: answered 413, with the desk and the message beside the file field."""

    status_code = 413


def too_large(max_bytes: int) -> UploadTooLarge:
    size = f"{max_bytes / 1_000_000:.1f}".rstrip("0").rstrip(".").replace(".", ",") + " Mo"
    message = (
        f"Fichier trop volumineux : {size} au plus pour l'ensemble des fichiers d'un import. "
        f"Découpez l'export (par exemple par département) et importez les morceaux l'un après l'autre. {NOTHING}"
    )
    return UploadTooLarge(message, {"file": message})


@dataclasses.dataclass
class ReceivedFile:
    name: str  # as the coordinator's computer named it
    path: Path  # where it was written
    size: int = 0


@dataclasses.dataclass
class Received:
    folder: Path
    fields: dict[str, str] = dataclasses.field(default_factory=dict)
    files: list[ReceivedFile] = dataclasses.field(default_factory=list)

    def discard(self) -> None:
        shutil.rmtree(self.folder, ignore_errors=True)


def boundary_of(content_type: str) -> str:
    kind, options = parse_options_header(content_type)
    boundary = options.get("boundary", "")
    if kind != "multipart/form-data" or not boundary:
        raise Invalid(
            f"Envoyez les fichiers avec le formulaire d'import de la page de coordination. {NOTHING}",
            {"file": "Aucun fichier reçu."},
        )
    return str(boundary)


async def receive(
    chunks: AsyncIterator[bytes],
    content_type: str,
    content_length: int | None,
    root: Path,
    max_bytes: int,
    fields: dict[str, str] | None = None,
) -> Received:
    """Write the form's file parts under a new folder of `root` as they arrive; keep its short fields (in
    `fields` when given: the caller still has those read before a refusal, to show the form again).

    Raises UploadTooLarge past max_bytes of files (at once when the announced length says so), Invalid on a
    malformed or interrupted form; the folder is then removed."""
    boundary = boundary_of(content_type)
    if content_length is not None and content_length > max_bytes + ENVELOPE_BYTES:
        raise too_large(max_bytes)
    folder = root / f"envoi-{secrets.token_hex(8)}"
    await asyncio.to_thread(folder.mkdir, parents=True, exist_ok=True)
    received = Received(folder, fields if fields is not None else {})
    handle: BinaryIO | None = None
    field: tuple[str, bytearray] | None = None
    total = 0
    parser = PushMultipartParser(
        boundary, content_length if content_length is not None else -1, max_segment_count=MAX_PARTS
    )
    try:
        async for chunk in chunks:
            for event in parser.parse(chunk):
                if isinstance(event, MultipartSegment):
                    if event.filename is not None:
                        if event.name == "file" and event.filename:
                            path = folder / f"{len(received.files) + 1}.donnees"
                            received.files.append(ReceivedFile(event.filename[:200], path))
                            handle = path.open("wb")
                    else:
                        field = (event.name or "", bytearray())
                elif event is None:  # end of the part
                    if handle is not None:
                        handle.close()
                        handle = None
                    if field is not None:
                        name, value = field
                        received.fields[name] = value.decode("utf-8", errors="replace")
                        field = None
                elif handle is not None:
                    total += len(event)
                    if total > max_bytes:
                        raise too_large(max_bytes)
                    received.files[-1].size += len(event)
                    handle.write(event)  # a network chunk (tens of kB) into the page cache: microseconds
                elif field is not None:
                    field[1].extend(event)
                    if len(field[1]) > MAX_FIELD_CHARS * 4:
                        raise Invalid(f"Champ « {field[0]} » trop long. {NOTHING}", {field[0]: "Trop long."})
        for _ in parser.parse(b""):
            pass
        if not parser.closed:
            raise ParserError("incomplete")
    except ParserError as error:
        await asyncio.to_thread(received.discard)
        raise Invalid(
            f"L'envoi est incomplet ou mal formé : renvoyez le fichier. {NOTHING}", {"file": "Envoi incomplet."}
        ) from error
    except BaseException:
        await asyncio.to_thread(received.discard)
        raise
    finally:
        if handle is not None:
            handle.close()
    received.files = [f for f in received.files if f.size > 0]  # an empty file input sends an empty part
    return received
