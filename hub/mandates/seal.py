"""The hub's seal: a PAdES signature (pyHanko) on every finished mandate and revocation attestation.

The signing identity is the operator's PKCS#12 file (`MAILLAGE_SEAL_PKCS12`, with `MAILLAGE_SEAL_PASSWORD`)
or, when none is configured, a key and a self-signed certificate generated at first run under
`var/seal/` (readable by the owner only). With `MAILLAGE_TSA_URL`, each seal carries an RFC 3161
timestamp from that server (PAdES B-T); without, it is PAdES B-B.

`check` validates a PDF with pyHanko's validation API against the hub's own certificate: the signature
must be intact, cover the entire file (nothing appended after sealing) and be the hub's.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import dataclasses
import datetime as dt
import io
import logging
import os
import secrets
import shutil
import tempfile
import threading
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from hub.errors import DomainError

if TYPE_CHECKING:
    from hub.settings import Settings

log = logging.getLogger(__name__)

FIELD_NAME = "SceauMaillage"
GENERATED_NAME = "Maillage - sceau du carrefour"
SEAL_THREADS = 2  # sealing is CPU work (RSA): at most this many at once, off the event loop


class SealUnavailable(DomainError):
    """The hub cannot seal now (its key cannot be read, or the timestamp server did not answer)."""

    status_code = 503
    title = "Scellement indisponible"


@dataclasses.dataclass(frozen=True)
class SealSettings:
    """Where the seal's identity comes from (README, "Mandates")."""

    pkcs12: str = ""  # the operator's PKCS#12 file; empty: a key generated under var/seal/
    password: str = ""  # its password, if any
    tsa_url: str = ""  # an RFC 3161 timestamp server (PAdES B-T); empty: no timestamp (PAdES B-B)
    tsa_timeout_seconds: float = 10.0

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> SealSettings:
        return cls(
            pkcs12=env.get("MAILLAGE_SEAL_PKCS12", ""),
            password=env.get("MAILLAGE_SEAL_PASSWORD", ""),
            tsa_url=env.get("MAILLAGE_TSA_URL", ""),
            tsa_timeout_seconds=float(env.get("MAILLAGE_TSA_TIMEOUT", cls.tsa_timeout_seconds)),
        )


@dataclasses.dataclass(frozen=True)
class SealCheck:
    """What a PDF's seal says. `ok` only when sealed by this hub, intact, and covering the whole file."""

    sealed: bool  # it carries a signature at all
    intact: bool  # the signed bytes are those that were signed, and nothing was added after
    ours: bool  # signed with this hub's certificate
    timestamped: bool
    signed_at: dt.datetime | None
    reason_fr: str  # one French sentence: why it is, or is not, valid

    @property
    def ok(self) -> bool:
        return self.sealed and self.intact and self.ours


def _generate_identity(directory: Path) -> tuple[Path, bytes]:
    """A P-256 key and a self-signed certificate valid 10 years, in a PKCS#12 file with a random password."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.hazmat.primitives.serialization import pkcs12
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name(
        [
            x509.NameAttribute(NameOID.COMMON_NAME, GENERATED_NAME),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Maillage"),
            x509.NameAttribute(NameOID.COUNTRY_NAME, "FR"),
        ]
    )
    now = dt.datetime.now(dt.UTC)  # the certificate's own validity, not a business date
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=3650))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=True,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=False,
                crl_sign=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.EMAIL_PROTECTION]), critical=False)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .sign(key, hashes.SHA256())
    )
    password = secrets.token_urlsafe(24).encode()
    blob = pkcs12.serialize_key_and_certificates(
        b"maillage-seal", key, certificate, None, serialization.BestAvailableEncryption(password)
    )
    # Written whole in a private directory of our own, then renamed into place: another process (a second
    # worker) starting at the same moment either wins the rename or finds the finished identity.
    directory.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".seal-", dir=directory.parent))  # mode 0700
    (staging / "seal.p12").write_bytes(blob)
    (staging / "seal.password").write_bytes(password)
    (staging / "seal.pem").write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    for path in staging.iterdir():
        os.chmod(path, 0o600)
    try:
        os.rename(staging, directory)
    except OSError:  # another process was first: keep its identity
        shutil.rmtree(staging, ignore_errors=True)
        return directory / "seal.p12", (directory / "seal.password").read_bytes()
    return directory / "seal.p12", password


class HubSeal:
    """The hub's signing identity; runtime state of the mandates module (`rt.state(HubSeal)`)."""

    def __init__(self, pkcs12_path: Path, password: bytes | None, settings: SealSettings) -> None:
        self.pkcs12_path = pkcs12_path
        self._password = password
        self.settings = settings
        self._signer: Any = None
        self._loading = threading.Lock()  # the first seals of a fresh install may arrive together
        self._limit = asyncio.Semaphore(SEAL_THREADS)

    @classmethod
    def from_settings(cls, settings: Settings, seal: SealSettings | None = None) -> HubSeal:
        """The operator's PKCS#12 when configured; else the one under var/seal/, generated on first use."""
        seal = seal or settings.section(SealSettings)
        if seal.pkcs12:
            return cls(Path(seal.pkcs12), seal.password.encode() or None, seal)
        return cls(settings.var_dir / "seal" / "seal.p12", None, seal)

    # ------------------------------------------------------------------ identity
    def _load(self) -> Any:
        if self._signer is not None:
            return self._signer
        with self._loading:
            if self._signer is None:
                self._signer = self._read_identity()
        return self._signer

    def _read_identity(self) -> Any:
        from pyhanko.sign import signers

        path, password = self.pkcs12_path, self._password
        if not self.settings.pkcs12:
            if not path.exists():
                path, password = _generate_identity(path.parent)
                log.info("seal: a key and self-signed certificate are under %s", path.parent)
            else:
                password_file = path.parent / "seal.password"
                password = password_file.read_bytes() if password_file.exists() else None
        try:
            signer = signers.SimpleSigner.load_pkcs12(str(path), passphrase=password)
        except Exception as error:  # an unreadable file or a wrong password: said clearly, never half-sealed
            raise SealUnavailable(f"La clé du sceau ({path}) ne peut pas être lue : {error}.") from error
        if signer is None:
            raise SealUnavailable(f"La clé du sceau ({path}) ne peut pas être lue (fichier ou mot de passe).")
        return signer

    @property
    def certificate(self) -> Any:
        """The hub's certificate (asn1crypto), the one trust root `check` accepts."""
        return self._load().signing_cert

    @property
    def subject(self) -> str:
        return str(self.certificate.subject.human_friendly)

    # ------------------------------------------------------------------ sealing
    def _timestamper(self) -> Any:
        if not self.settings.tsa_url:
            return None
        from pyhanko.sign.timestamps.requests_client import RequestsHTTPTimeStamper

        return RequestsHTTPTimeStamper(self.settings.tsa_url, timeout=self.settings.tsa_timeout_seconds)

    def seal_now(self, pdf: bytes, *, reason: str, location: str = "") -> bytes:
        """Seal synchronously (a worker thread's work; `seal` is the event loop's way in)."""
        from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
        from pyhanko.sign import fields, signers

        signer = self._load()
        try:
            writer = IncrementalPdfFileWriter(io.BytesIO(pdf), strict=False)
        except Exception as error:
            raise SealUnavailable(f"Le document à sceller n'est pas un PDF lisible : {error}.") from error
        metadata = signers.PdfSignatureMetadata(
            field_name=FIELD_NAME,
            reason=reason,
            location=location or None,
            name=GENERATED_NAME if not self.settings.pkcs12 else None,
            subfilter=fields.SigSeedSubFilter.PADES,
            md_algorithm="sha256",
        )
        output = io.BytesIO()
        try:
            signers.sign_pdf(writer, metadata, signer=signer, timestamper=self._timestamper(), output=output)
        except Exception as error:  # the TSA did not answer, or refused: nothing sealed
            if self.settings.tsa_url:
                raise SealUnavailable(
                    f"Le serveur d'horodatage ({self.settings.tsa_url}) n'a pas répondu correctement : {error}."
                ) from error
            raise
        return output.getvalue()

    async def seal(self, pdf: bytes, *, reason: str, location: str = "") -> bytes:
        """PAdES B-B (B-T with a timestamp server), in a worker thread, a few at a time."""
        async with self._limit:
            return await asyncio.to_thread(self.seal_now, pdf, reason=reason, location=location)

    # ------------------------------------------------------------------ checking
    async def acheck(self, pdf: bytes) -> SealCheck:
        """`check` from the event loop: in a worker thread."""
        return await asyncio.to_thread(self._check, pdf)

    def check(self, pdf: bytes) -> SealCheck:
        """Validate the last signature of `pdf` against the hub's certificate (pyHanko's validation API).

        Synchronous, for the CLI and worker threads; called from a running event loop it validates in a
        worker thread and waits (prefer `await acheck(pdf)` there: it does not hold the loop).
        """
        try:
            asyncio.get_running_loop()
        except RuntimeError:
            return self._check(pdf)
        with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
            return pool.submit(self._check, pdf).result()

    def _check(self, pdf: bytes) -> SealCheck:
        from pyhanko.pdf_utils.reader import PdfFileReader
        from pyhanko.sign.validation import validate_pdf_signature
        from pyhanko.sign.validation.status import SignatureCoverageLevel
        from pyhanko_certvalidator import ValidationContext

        def refused(reason: str, *, sealed: bool = False) -> SealCheck:
            return SealCheck(sealed, False, False, False, None, reason)

        try:
            reader = PdfFileReader(io.BytesIO(pdf), strict=False)
            signatures = list(reader.embedded_signatures)
        except Exception:
            return refused("Ce fichier n'est pas un PDF lisible, ou il a été abîmé.")
        if not signatures:
            return refused("Ce PDF ne porte aucun sceau.")
        signature = signatures[-1]
        try:
            context = ValidationContext(trust_roots=[self.certificate], allow_fetching=False)
            status = validate_pdf_signature(signature, context)
        except SealUnavailable:
            raise
        except Exception:
            return refused("Le sceau de ce PDF ne peut pas être vérifié : le fichier a été modifié.", sealed=True)
        ours = bool(status.signing_cert.dump() == self.certificate.dump())
        whole = status.coverage == SignatureCoverageLevel.ENTIRE_FILE
        intact = bool(status.intact and status.valid and whole)
        timestamped = status.timestamp_validity is not None
        signed_at = status.timestamp_validity.timestamp if status.timestamp_validity else status.signer_reported_dt
        if not (status.intact and status.valid):
            reason = "Le document a été modifié après son scellement."
        elif not whole:
            reason = "Quelque chose a été ajouté au document après son scellement."
        elif not ours:
            reason = "Ce PDF est signé, mais pas par ce carrefour."
        else:
            reason = "Le sceau du carrefour est intact."
        return SealCheck(True, intact, ours, timestamped, signed_at, reason)
