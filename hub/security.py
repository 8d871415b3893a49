"""Cryptographic primitives: password hashing (in worker threads), random tokens, TOTP, secret sealing. No I/O."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import secrets

import pyotp
import segno
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from cryptography.fernet import Fernet, InvalidToken

TOTP_ISSUER = "Maillage"
TOTP_WINDOW = 1  # accept the previous and next 30 s step: phones drift


class Secrets:
    """Keys derived from the one secret key, each for one purpose."""

    def __init__(
        self, secret_key: str, argon2_time_cost: int = 3, argon2_memory_cost: int = 65536, hash_threads: int = 1
    ) -> None:
        root = secret_key.encode()
        self.journal_key = hmac.new(root, b"maillage/journal", hashlib.sha256).digest()
        self.throttle_key = hmac.new(root, b"maillage/throttle", hashlib.sha256).digest()
        self.flash_key = hmac.new(root, b"maillage/flash", hashlib.sha256).digest()
        self.device_key = hmac.new(root, b"maillage/device", hashlib.sha256).digest()
        self.csrf_secret = hmac.new(root, b"maillage/csrf", hashlib.sha256).hexdigest()
        fernet_key = hmac.new(root, b"maillage/fernet", hashlib.sha256).digest()
        self._fernet = Fernet(base64.urlsafe_b64encode(fernet_key))
        self._hasher = PasswordHasher(time_cost=argon2_time_cost, memory_cost=argon2_memory_cost)
        # Argon2 takes tens of milliseconds of CPU and 64 MiB: run it in worker threads (the C code releases
        # the GIL), a bounded number at once, never in the event loop's thread.
        self._hash_slots = asyncio.BoundedSemaphore(max(1, hash_threads))

    # passwords -----------------------------------------------------------
    def hash_password(self, password: str) -> str:
        return self._hasher.hash(password)

    def verify_password(self, password_hash: str, password: str) -> bool:
        if not password_hash:
            return False
        try:
            return self._hasher.verify(password_hash, password)
        except (VerificationError, InvalidHashError):
            return False

    def burn_password_check(self) -> None:
        """Spend the time of a real check, so unknown emails do not answer faster."""
        self._hasher.hash("maillage-timing-equaliser")

    async def hash_password_off_loop(self, password: str) -> str:
        async with self._hash_slots:
            return await asyncio.to_thread(self.hash_password, password)

    async def verify_password_off_loop(self, password_hash: str, password: str) -> bool:
        async with self._hash_slots:
            return await asyncio.to_thread(self.verify_password, password_hash, password)

    async def burn_password_check_off_loop(self) -> None:
        async with self._hash_slots:
            await asyncio.to_thread(self.burn_password_check)

    # sealing secrets at rest ---------------------------------------------
    def seal(self, value: str) -> str:
        return self._fernet.encrypt(value.encode()).decode()

    def unseal(self, value: str) -> str:
        try:
            return self._fernet.decrypt(value.encode()).decode()
        except InvalidToken:
            return ""

    # device cookies: "<nonce>.<signature of nonce and account>" ------------
    def sign_device(self, nonce: str, email: str) -> str:
        signature = hmac.new(self.device_key, f"{nonce}|{email}".encode(), hashlib.sha256).hexdigest()
        return f"{nonce}.{signature}"

    def device_nonce(self, cookie: str, email: str) -> str:
        """The nonce of a device cookie signed for this account, or "" (absent, forged, another account's)."""
        nonce, _, _ = cookie.partition(".")
        if not nonce or len(cookie) > 200 or not hmac.compare_digest(self.sign_device(nonce, email), cookie):
            return ""
        return nonce

    def keyed_hash(self, value: str) -> str:
        return hmac.new(self.throttle_key, value.encode(), hashlib.sha256).hexdigest()


def new_token(nbytes: int = 32) -> str:
    return secrets.token_urlsafe(nbytes)


def token_hash(token: str) -> str:
    """Tokens are stored as SHA-256: a database leak gives no usable link, session or API token."""
    return hashlib.sha256(token.encode()).hexdigest()


def new_totp_secret() -> str:
    return pyotp.random_base32()


def totp_uri(secret: str, email: str) -> str:
    return pyotp.TOTP(secret).provisioning_uri(name=email, issuer_name=TOTP_ISSUER)


def totp_qr_svg(uri: str) -> str:
    """An inline SVG QR code (no image request, no external service); viewBox only, the CSS sizes it."""
    return segno.make(uri, error="m").svg_inline(scale=5, omitsize=True, dark="#000", light="#fff")


def totp_match_step(secret: str, code: str, now: float, last_step: int) -> int | None:
    """The time step the code belongs to, or None; a step at or before last_step is a replay."""
    code = "".join(ch for ch in code if ch.isdigit())
    if len(code) != 6:
        return None
    totp = pyotp.TOTP(secret)
    current = int(now // totp.interval)
    for step in range(current - TOTP_WINDOW, current + TOTP_WINDOW + 1):
        if step > last_step and hmac.compare_digest(totp.generate_otp(step), code):
            return step
    return None


def new_recovery_codes(count: int = 10) -> list[str]:
    alphabet = "abcdefghjkmnpqrstuvwxyz23456789"
    return ["-".join("".join(secrets.choice(alphabet) for _ in range(4)) for _ in range(3)) for _ in range(count)]


def normalise_recovery_code(code: str) -> str:
    cleaned = "".join(ch for ch in code.lower() if ch.isalnum())
    return "-".join(cleaned[i : i + 4] for i in range(0, len(cleaned), 4))
