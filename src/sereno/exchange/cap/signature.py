"""XML-DSig on CAP messages, checked against a *pinned* certificate only (ADR 0027).

A signed CAP message carries its signature as a ``ds:Signature`` after the last element of
``<alert>`` (enveloped, ``Reference URI=""``: the whole message but the signature). Trust never
comes from the message: a certificate or key in its ``KeyInfo`` is ignored, the signature is
checked with the certificate an administrator pinned for the sender (``cap_sources``), with
signxml 5.2.0 (SHA-1 refused, the pinned certificate valid at the time of checking). Exactly one
signature covering the whole message is accepted: a partial reference is how signature-wrapping
attacks slip unsigned content past a verifier.
"""

from __future__ import annotations

import hashlib
from datetime import datetime

from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.serialization import Encoding, load_pem_private_key
from lxml import etree
from signxml.exceptions import InvalidCertificate, InvalidDigest, InvalidInput, InvalidSignature
from signxml.signer import XMLSigner
from signxml.verifier import SignatureConfiguration, XMLVerifier

from sereno.exchange.cap.validation import parse_cap

DSIG_NS = "http://www.w3.org/2000/09/xmldsig#"
DS = {"ds": DSIG_NS}


class SignatureRefused(ValueError):
    """The signature does not hold, or cannot be checked; the message says why."""


def load_certificate(pem: str) -> x509.Certificate:
    """A PEM certificate, or ``ValueError`` saying it is not one."""
    try:
        return x509.load_pem_x509_certificate(pem.strip().encode())
    except ValueError:
        raise ValueError("not a PEM X.509 certificate") from None


def fingerprint(certificate: x509.Certificate) -> str:
    """SHA-256 of the certificate's DER encoding, hex."""
    return hashlib.sha256(certificate.public_bytes(Encoding.DER)).hexdigest()


def is_signed(root: etree._Element) -> bool:
    """Whether the parsed message carries any XML signature."""
    return root.find(".//ds:Signature", DS) is not None


def verify(data: bytes, certificate_pem: str, at: datetime) -> str:
    """Check the message's one enveloped signature with the pinned certificate; the
    certificate's fingerprint when it holds, ``SignatureRefused`` otherwise."""
    root = parse_cap(data)
    found = root.findall(".//ds:Signature", DS)
    if len(found) != 1 or found[0].getparent() is not root:
        raise SignatureRefused(
            f"the message carries {len(found)} signatures; Sereno checks exactly one enveloped "
            "signature directly under <alert>")
    references = found[0].findall("ds:SignedInfo/ds:Reference", DS)
    if len(references) != 1 or references[0].get("URI") != "":
        raise SignatureRefused("the signature must cover the whole message (one Reference "
                               "with URI=\"\")")
    certificate = load_certificate(certificate_pem)
    config = SignatureConfiguration(location="./", expect_references=1,
                                    ignore_ambiguous_key_info=True, verification_time=at)
    try:
        XMLVerifier().verify(data, x509_cert=certificate, expect_config=config)
    except (InvalidSignature, InvalidDigest, InvalidCertificate, InvalidInput,
            etree.DocumentInvalid) as error:
        raise SignatureRefused(f"the signature does not verify with the pinned certificate: "
                               f"{error}") from None
    return fingerprint(certificate)


def sign(data: bytes, key_pem: bytes, certificate_pem: bytes) -> bytes:
    """``data`` with an enveloped RSA/ECDSA-SHA256 signature (and the certificate in KeyInfo,
    which receivers must not trust). Used to test verification and by partners' tooling."""
    root = etree.fromstring(data, parser=etree.XMLParser(resolve_entities=False,
                                                         no_network=True))
    key = load_pem_private_key(key_pem, password=None)
    if not isinstance(key, rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey):
        raise ValueError("sign with an RSA or EC key")
    algorithm = "rsa-sha256" if isinstance(key, rsa.RSAPrivateKey) else "ecdsa-sha256"
    signed = XMLSigner(signature_algorithm=algorithm).sign(root, key=key,
                                                          cert=certificate_pem.decode())
    return bytes(etree.tostring(signed, xml_declaration=True, encoding="UTF-8"))
