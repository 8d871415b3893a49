"""The hub's PAdES seal (pyHanko): made on a real LibreOffice PDF, validated with pyHanko's validation API,
and every alteration caught: a changed byte, an appended update, another signer, no seal at all."""

from __future__ import annotations

import asyncio
import datetime as dt
import http.server
import threading
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from hub.documents import DocumentConverter, find_soffice, render_docx
from hub.mandates.seal import HubSeal, SealSettings, SealUnavailable
from hub.settings import Settings
from tests.docx_support import falc_document, to_bytes

pytestmark = pytest.mark.skipif(
    find_soffice() is None, reason="LibreOffice absent : lancez scripts/install-libreoffice"
)


@pytest.fixture(scope="module")
async def pdf(tmp_path_factory) -> AsyncIterator[bytes]:
    """A one-page PDF made by the real converter from a FALC document."""
    document = falc_document()
    document.add_paragraph("Mandat numéro {{ numero }}.")
    document.add_paragraph("Ce document est scellé par le carrefour.")
    converter = DocumentConverter(tmp_path_factory.mktemp("seal-documents"), timeout=60)
    await converter.start()
    try:
        yield await converter.to_pdf(render_docx(to_bytes(document), {"numero": "M-2026-00001"}))
    finally:
        await converter.stop()


def hub_seal(var_dir: Path, **env: str) -> HubSeal:
    settings = Settings.from_env({"MAILLAGE_VAR_DIR": str(var_dir), **env})
    return HubSeal.from_settings(settings, SealSettings.from_env(env))


async def test_a_sealed_pdf_is_pades_and_validates_with_pyhanko(pdf, tmp_path):
    from pyhanko.pdf_utils.reader import PdfFileReader
    from pyhanko.sign.validation import async_validate_pdf_signature
    from pyhanko_certvalidator import ValidationContext

    seal = hub_seal(tmp_path)
    sealed = await seal.seal(pdf, reason="Mandat M-2026-00001", location="Bordeaux")
    assert sealed.startswith(pdf[:8]) and len(sealed) > len(pdf)
    assert b"/ETSI.CAdES.detached" in sealed  # PAdES, not the older adbe.pkcs7 form

    # pyHanko's own validation, independently of HubSeal.check
    import io

    signature = PdfFileReader(io.BytesIO(sealed)).embedded_signatures[0]
    status = await async_validate_pdf_signature(signature, ValidationContext(trust_roots=[seal.certificate]))
    assert status.intact and status.valid and status.trusted
    assert signature.sig_object["/Reason"] == "Mandat M-2026-00001"

    check = await seal.acheck(sealed)
    assert check.ok and check.sealed and check.intact and check.ours and not check.timestamped
    assert check.reason_fr == "Le sceau du carrefour est intact."
    # the generated identity is kept, readable by its owner only, and used again on the next start
    assert sorted(p.name for p in (tmp_path / "seal").iterdir()) == ["seal.p12", "seal.password", "seal.pem"]
    assert (tmp_path / "seal" / "seal.p12").stat().st_mode & 0o077 == 0
    assert hub_seal(tmp_path).check(sealed).ok


@pytest.mark.parametrize("where", [0.05, 0.3, 0.5, 0.8, 0.999])
async def test_any_changed_byte_is_caught(pdf, tmp_path, where):
    seal = hub_seal(tmp_path)
    sealed = bytearray(await seal.seal(pdf, reason="Mandat"))
    index = int(len(sealed) * where)
    sealed[index] = (sealed[index] + 1) % 256
    check = seal.check(bytes(sealed))
    assert not check.ok
    assert check.reason_fr in {
        "Le document a été modifié après son scellement.",
        "Le sceau de ce PDF ne peut pas être vérifié : le fichier a été modifié.",
        "Ce fichier n'est pas un PDF lisible, ou il a été abîmé.",
        "Quelque chose a été ajouté au document après son scellement.",
    }


async def test_an_update_appended_after_sealing_is_caught(pdf, tmp_path):
    import io

    from pyhanko.pdf_utils import generic
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter

    seal = hub_seal(tmp_path)
    sealed = await seal.seal(pdf, reason="Mandat")
    writer = IncrementalPdfFileWriter(io.BytesIO(sealed))
    writer.root["/Lang"] = generic.TextStringObject("en")  # a "harmless" change, added as a PDF update
    writer.update_root()
    out = io.BytesIO()
    writer.write(out)
    check = seal.check(out.getvalue())
    assert not check.ok
    assert check.reason_fr == "Quelque chose a été ajouté au document après son scellement."


async def test_another_signer_and_no_seal_are_not_the_hubs(pdf, tmp_path):
    ours, theirs = hub_seal(tmp_path / "ours"), hub_seal(tmp_path / "theirs")
    sealed_by_them = await theirs.seal(pdf, reason="Mandat")
    check = ours.check(sealed_by_them)
    assert check.sealed and not check.ours and not check.ok
    assert check.reason_fr == "Ce PDF est signé, mais pas par ce carrefour."
    assert ours.check(pdf).reason_fr == "Ce PDF ne porte aucun sceau."
    assert ours.check(b"%PDF-1.7 pas vraiment").reason_fr == "Ce fichier n'est pas un PDF lisible, ou il a été abîmé."


def _operator_pkcs12(path: Path, password: bytes) -> None:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import rsa
    from cryptography.hazmat.primitives.serialization import pkcs12
    from cryptography.x509.oid import NameOID

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Réseau Inclusion Gironde")])
    now = dt.datetime.now(dt.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=30))
        .sign(key, hashes.SHA256())
    )
    path.write_bytes(
        pkcs12.serialize_key_and_certificates(
            b"op", key, certificate, None, serialization.BestAvailableEncryption(password)
        )
    )


async def test_the_operators_pkcs12_is_used_when_configured(pdf, tmp_path):
    _operator_pkcs12(tmp_path / "operator.p12", b"s3cret")
    seal = hub_seal(tmp_path, MAILLAGE_SEAL_PKCS12=str(tmp_path / "operator.p12"), MAILLAGE_SEAL_PASSWORD="s3cret")
    assert "Réseau Inclusion Gironde" in seal.subject
    assert seal.check(await seal.seal(pdf, reason="Mandat")).ok
    assert not (tmp_path / "seal").exists()  # nothing generated beside the operator's identity

    wrong = hub_seal(tmp_path, MAILLAGE_SEAL_PKCS12=str(tmp_path / "operator.p12"), MAILLAGE_SEAL_PASSWORD="faux")
    with pytest.raises(SealUnavailable, match="La clé du sceau .* ne peut pas être lue"):
        await wrong.seal(pdf, reason="Mandat")


# ---------------------------------------------------------------- a real RFC 3161 server over HTTP
@pytest.fixture(scope="module")
def tsa_url() -> Iterator[str]:
    """A timestamp authority on loopback: pyHanko's RFC 3161 responder behind a real HTTP server."""
    from asn1crypto import tsp
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import rsa
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
    from pyhanko.sign.timestamps.dummy_client import DummyTimeStamper
    from pyhanko_certvalidator.registry import SimpleCertificateStore

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)  # pyHanko's responder signs with RSA
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Horodatage de test")])
    now = dt.datetime.now(dt.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=30))
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.TIME_STAMPING]), critical=True)
        .sign(key, hashes.SHA256())
    )
    from asn1crypto import keys as asn1_keys
    from asn1crypto import x509 as asn1_x509

    responder = DummyTimeStamper(
        tsa_cert=asn1_x509.Certificate.load(certificate.public_bytes(serialization.Encoding.DER)),
        tsa_key=asn1_keys.PrivateKeyInfo.load(
            key.private_bytes(
                serialization.Encoding.DER, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
            )
        ),
        certs_to_embed=SimpleCertificateStore(),
    )

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 (http.server's name)
            body = self.rfile.read(int(self.headers["Content-Length"]))
            answer = responder.request_tsa_response(tsp.TimeStampReq.load(body)).dump()
            self.send_response(200)
            self.send_header("Content-Type", "application/timestamp-reply")
            self.send_header("Content-Length", str(len(answer)))
            self.end_headers()
            self.wfile.write(answer)

        def log_message(self, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/tsa"
    server.shutdown()
    server.server_close()


async def test_with_a_timestamp_server_the_seal_is_pades_b_t(pdf, tmp_path, tsa_url):
    seal = hub_seal(tmp_path, MAILLAGE_TSA_URL=tsa_url)
    sealed = await seal.seal(pdf, reason="Mandat")
    check = seal.check(sealed)
    assert check.ok and check.timestamped
    assert check.signed_at is not None and abs(check.signed_at - dt.datetime.now(dt.UTC)) < dt.timedelta(minutes=5)


async def test_a_silent_timestamp_server_seals_nothing_and_says_so(pdf, tmp_path):
    seal = hub_seal(tmp_path, MAILLAGE_TSA_URL="http://127.0.0.1:9/tsa", MAILLAGE_TSA_TIMEOUT="2")
    with pytest.raises(SealUnavailable, match="Le serveur d'horodatage .* n'a pas répondu"):
        await seal.seal(pdf, reason="Mandat")


async def test_20_seals_at_once_all_complete_and_all_validate(pdf, tmp_path):
    seal = hub_seal(tmp_path)
    sealed = await asyncio.gather(*(seal.seal(pdf, reason=f"Mandat {n}") for n in range(20)))
    assert len({s for s in sealed}) == 20  # each its own signature
    assert all(seal.check(s).ok for s in sealed)


async def test_two_processes_starting_together_share_one_identity(pdf, tmp_path):
    first, second = hub_seal(tmp_path), hub_seal(tmp_path)  # two workers of a fresh install
    one, two = await asyncio.gather(first.seal(pdf, reason="A"), second.seal(pdf, reason="B"))
    assert first.certificate.dump() == second.certificate.dump()
    assert first.check(two).ok and second.check(one).ok
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".seal-")]  # no staging left behind
