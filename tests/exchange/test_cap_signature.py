"""Signed CAP: a signature is checked against the certificate pinned for the sender, never
against one the message carries; unsigned messages from a source that must sign, tampered
messages and messages signed by anyone else are refused. The corpus's NAADS message, whose
signatures do not verify by the XML-DSig rules, is refused even with its own certificate."""

from __future__ import annotations

import base64
import hashlib
from datetime import UTC, datetime
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from lxml import etree

from sereno.bootstrap import Platform
from sereno.exchange.cap import signature
from sereno.exchange.cap.validation import check_cap
from tests.conftest import audit_rows, bearer
from tests.support.cap import CAP, XML, message, register, signing_pair

NAADS = Path(__file__).parent / "cap_corpus" / "valid" / "ca-naads-2013-xmldsig-signed.xml"
DS = {"ds": signature.DSIG_NS}


def _post(client: TestClient, body: bytes):  # type: ignore[no-untyped-def]
    return client.post(CAP, content=body,
                       headers={**bearer(client, "dispatcher.segura"), **XML})


@pytest.mark.parametrize("kind", ["rsa", "ec"])
def test_a_signature_verifies_only_with_the_pinned_certificate(kind: str) -> None:
    key, certificate = signing_pair("riesgos", kind)
    _, other = signing_pair("otro", kind)
    signed = signature.sign(message(), key, certificate)
    assert check_cap(signed, strict=True).valid  # still valid CAP
    now = datetime.now(UTC)
    fingerprint = signature.verify(signed, certificate.decode(), now)
    assert fingerprint == hashlib.sha256(base64.b64decode(b"".join(
        certificate.split(b"\n")[1:-2]))).hexdigest()
    with pytest.raises(signature.SignatureRefused, match="does not verify"):
        signature.verify(signed, other.decode(), now)


def test_a_signed_message_imports_with_its_pinned_certificate(client: TestClient,
                                                               platform: Platform) -> None:
    key, certificate = signing_pair()
    register(platform, certificate=certificate, require_signature=True)
    response = _post(client, signature.sign(message(), key, certificate))
    assert response.status_code == 201, response.text
    pinned = signature.fingerprint(signature.load_certificate(certificate.decode()))
    assert response.json()["signed_by"] == pinned


def test_a_certificate_inside_the_message_is_not_trusted(client: TestClient,
                                                         platform: Platform) -> None:
    _, pinned = signing_pair()
    intruder_key, intruder_certificate = signing_pair("intruso")
    register(platform, certificate=pinned)
    forged = signature.sign(message(), intruder_key, intruder_certificate)
    carried = etree.fromstring(forged).find(".//ds:X509Certificate", DS)
    assert carried is not None  # it carries its own (valid) certificate…
    response = _post(client, forged)
    assert response.status_code == 422  # …which changes nothing
    assert "does not verify with the pinned certificate" in response.json()["error"]["message"]
    refused = [r for r in audit_rows(platform) if r.action == "cap.import"][-1]
    assert refused.outcome == "rejected"


def test_unsigned_and_tampered_messages_are_refused(client: TestClient,
                                                    platform: Platform) -> None:
    key, certificate = signing_pair()
    register(platform, certificate=certificate, require_signature=True)
    unsigned = _post(client, message())
    assert unsigned.status_code == 422 and "not signed" in unsigned.json()["error"]["message"]
    signed = signature.sign(message(), key, certificate)
    tampered = signed.replace(b"Severe", b"Minor")
    assert check_cap(tampered).valid
    response = _post(client, tampered)
    assert response.status_code == 422
    assert "does not verify" in response.json()["error"]["message"]
    with platform.uow() as uow:
        assert not [a for a in uow.alerts.queue("segura-ep") if a.cap_sender]


def test_a_source_that_need_not_sign_may_send_unsigned(client: TestClient,
                                                       platform: Platform) -> None:
    _, certificate = signing_pair()
    register(platform, certificate=certificate, require_signature=False)
    response = _post(client, message())
    assert response.status_code == 201 and response.json()["signed_by"] is None


def test_the_naads_signatures_cover_the_message_without_both_signatures() -> None:
    """Why the corpus's signed NAADS message cannot verify: it carries two signatures whose
    reference digests both cover the message *without either* signature. XML-DSig's enveloped
    transform removes only the signature being checked, so each digest fails (and both use
    SHA-1, which Sereno refuses anyway)."""
    data = NAADS.read_bytes()

    def digest(remove: list[int]) -> str:
        root = etree.fromstring(data)
        found = root.findall("ds:Signature", DS)
        for index in remove:
            root.remove(found[index])
        canonical = etree.tostring(root, method="c14n")
        return base64.b64encode(hashlib.sha1(canonical).digest()).decode()  # noqa: S324

    root = etree.fromstring(data)
    stated = [s.findtext("ds:SignedInfo/ds:Reference/ds:DigestValue", namespaces=DS)
              for s in root.findall("ds:Signature", DS)]
    assert len(stated) == 2 and stated[0] == stated[1]
    assert digest([0, 1]) == stated[0]
    assert digest([0]) != stated[0] and digest([1]) != stated[1]


def test_the_naads_message_is_refused_even_with_its_own_certificate_pinned(
        client: TestClient, platform: Platform) -> None:
    data = NAADS.read_bytes()
    carried = etree.fromstring(data).find("ds:Signature//ds:X509Certificate", DS)
    assert carried is not None and carried.text
    pem = ("-----BEGIN CERTIFICATE-----\n" + "".join(carried.text.split())
           + "\n-----END CERTIFICATE-----\n").encode()
    register(platform, "cap-pac@ec.gc.ca", certificate=pem)
    response = _post(client, data)
    assert response.status_code == 422
    assert "2 signatures" in response.json()["error"]["message"]
    with pytest.raises(signature.SignatureRefused):
        signature.verify(data, pem.decode(), datetime(2013, 1, 24, 22, tzinfo=UTC))
