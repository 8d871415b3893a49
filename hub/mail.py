"""Outgoing mail through an outbox: queued with the act, delivered by the jobs loop, retried with backoff."""

from __future__ import annotations

import base64
import dataclasses
import json
import logging
from datetime import timedelta
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

import aiosmtplib

from hub import leases
from hub.runtime import Runtime
from hub.tables import OutboxMessage

log = logging.getLogger("maillage.mail")

CLAIM_LEASE = timedelta(minutes=5)
SMTP_TIMEOUT_S = 15


@dataclasses.dataclass(frozen=True)
class SmtpTarget:
    hostname: str
    port: int
    username: str | None
    password: str | None
    use_tls: bool
    start_tls: bool | None


def parse_smtp_url(url: str) -> SmtpTarget:
    """smtp://[user:pass@]host[:port][?starttls=1], or smtps:// for implicit TLS."""
    parts = urlsplit(url)
    query = parse_qs(parts.query)
    implicit_tls = parts.scheme == "smtps"
    starttls = query.get("starttls", [""])[0]
    return SmtpTarget(
        hostname=parts.hostname or "127.0.0.1",
        port=parts.port or (465 if implicit_tls else 25),
        username=unquote(parts.username) if parts.username else None,
        password=unquote(parts.password) if parts.password else None,
        use_tls=implicit_tls,
        # None lets aiosmtplib use STARTTLS when the server offers it; "0" forbids, "1" requires.
        start_tls=None if starttls == "" else starttls in ("1", "true", "yes"),
    )


@dataclasses.dataclass(frozen=True)
class Attachment:
    """A file sent with a mail (an .ics invitation): kept in the outbox with the message until it leaves."""

    filename: str
    content_type: str  # "text/calendar; method=REQUEST"
    data: bytes


async def enqueue(
    rt: Runtime, *, to: str, template: str, context: dict[str, Any], attachments: tuple[Attachment, ...] = ()
) -> int:
    """Render templates/emails/<template>.txt (first line "Subject: …") and queue it.

    Subjects come from the template alone: they never carry a name or any personal data.
    """
    rendered = rt.mail_templates.get_template(f"{template}.txt").render(base_url=rt.settings.base_url, **context)
    first_line, _, body = rendered.partition("\n")
    if not first_line.startswith("Subject: "):
        raise ValueError(f"mail template {template} must start with a Subject: line")
    domain = urlsplit(rt.settings.base_url).hostname or "maillage.localhost"
    message = OutboxMessage(
        message_id=make_msgid(domain=domain),
        recipient=to,
        subject=first_line.removeprefix("Subject: ").strip(),
        body_text=body.lstrip("\n"),
        attachments=[
            {"filename": a.filename, "content_type": a.content_type, "data": base64.b64encode(a.data).decode()}
            for a in attachments
        ],
        next_attempt_at=rt.now(),
        created_at=rt.now(),
    )
    await message.save()
    return int(message.id)


def build_message(rt: Runtime, row: dict[str, Any]) -> EmailMessage:
    message = EmailMessage()
    message["From"] = rt.settings.mail_from
    message["To"] = row["recipient"]
    message["Subject"] = row["subject"]
    message["Message-ID"] = row["message_id"]  # stable across retries: receivers can drop a duplicate
    message["Date"] = format_datetime(row["created_at"])
    message.set_content(row["body_text"])
    stored = row.get("attachments") or []
    for item in json.loads(stored) if isinstance(stored, str) else stored:
        main, _, rest = item["content_type"].partition("/")
        sub, *params = [part.strip() for part in rest.split(";")]
        message.add_attachment(
            base64.b64decode(item["data"]),
            maintype=main,
            subtype=sub,
            filename=item["filename"],
            params=dict(p.split("=", 1) for p in params if "=" in p),
        )
    return message


async def _claim(rt: Runtime, limit: int) -> list[dict[str, Any]]:
    return await leases.claim(
        OutboxMessage,
        OutboxMessage.sent_at.is_null() & (OutboxMessage.next_attempt_at <= rt.now()),
        order_by=OutboxMessage.id,
        limit=limit,
        now=rt.now(),
        lease=CLAIM_LEASE,
    )


async def _failed(rt: Runtime, row: dict[str, Any], error: Exception) -> None:
    attempts = row["attempts"] + 1
    # Keep the error's kind and SMTP code only: server messages often repeat the recipient's address.
    code = getattr(error, "code", "")
    await OutboxMessage.update(
        {
            OutboxMessage.attempts: attempts,
            OutboxMessage.next_attempt_at: rt.now() + leases.backoff(attempts),
            OutboxMessage.claimed_until: None,
            OutboxMessage.last_error: f"{type(error).__name__} {code}".strip()[:255],
        }
    ).where(OutboxMessage.id == row["id"])


async def deliver_due(rt: Runtime, limit: int = 50) -> tuple[int, int]:
    """Send what is due over one SMTP connection; returns (sent, failed)."""
    rows = await _claim(rt, limit)
    if not rows:
        return 0, 0
    target = parse_smtp_url(rt.settings.smtp_url)
    client = aiosmtplib.SMTP(
        hostname=target.hostname,
        port=target.port,
        username=target.username,
        password=target.password,
        use_tls=target.use_tls,
        start_tls=target.start_tls,
        timeout=SMTP_TIMEOUT_S,
    )
    sent = failed = 0
    try:
        await client.connect()
    except (aiosmtplib.SMTPException, OSError) as error:
        log.warning("SMTP server unreachable, %d message(s) postponed: %s", len(rows), type(error).__name__)
        for row in rows:
            await _failed(rt, row, error)
        return 0, len(rows)
    try:
        for row in rows:
            try:
                await client.send_message(build_message(rt, row))
            except (aiosmtplib.SMTPException, OSError) as error:
                await _failed(rt, row, error)
                failed += 1
                continue
            await OutboxMessage.update(
                {OutboxMessage.sent_at: rt.now(), OutboxMessage.claimed_until: None, OutboxMessage.last_error: ""}
            ).where(OutboxMessage.id == row["id"])
            sent += 1
    finally:
        try:
            await client.quit()
        except (aiosmtplib.SMTPException, OSError):
            client.close()
    log.info("mail delivery: %d sent, %d postponed", sent, failed)
    return sent, failed
