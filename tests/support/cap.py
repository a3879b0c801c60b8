"""CAP test helpers: signing keys with self-signed certificates, registered sources, alerts
raised by hand, agreements, and a minimal CAP message to vary."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from functools import lru_cache

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import NameOID

from sereno.bootstrap import Platform
from sereno.domain import commands
from sereno.domain.access import Principal
from sereno.domain.agreements import SharingAgreement
from sereno.domain.alerts import Alert
from sereno.services import cap_exchange
from sereno.services.accounts import principal_for

CAP = "/api/v1/cap"
XML = {"Content-Type": "application/cap+xml"}

MESSAGE = """<?xml version="1.0" encoding="UTF-8"?>
<alert xmlns="urn:oasis:names:tc:emergency:cap:1.2">
  <identifier>{identifier}</identifier>
  <sender>{sender}</sender>
  <sent>{sent}</sent>
  <status>Actual</status>
  <msgType>{msg_type}</msgType>
  <scope>Public</scope>
  {references}
  <info>
    <language>es-EC</language>
    <category>{category}</category>
    <event>Inundación</event>
    <urgency>Immediate</urgency>
    <severity>{severity}</severity>
    <certainty>Observed</certainty>
    <headline>{headline}</headline>
    <description>Calles anegadas en el sector.</description>
    <area>
      <areaDesc>Suburbio</areaDesc>
      <polygon>-2.20,-79.92 -2.20,-79.90 -2.22,-79.90 -2.22,-79.92 -2.20,-79.92</polygon>
    </area>
  </info>
</alert>
"""

RIESGOS = "alertas@riesgos.gob.ec"


def message(identifier: str = "SNGR-2026-0001", *, sender: str = RIESGOS,
            sent: str = "2026-11-25T03:00:00-05:00", msg_type: str = "Alert",
            references: str = "", headline: str = "Inundación en el Suburbio",
            category: str = "Met", severity: str = "Severe") -> bytes:
    """A small valid CAP 1.2 message."""
    refs = f"<references>{references}</references>" if references else ""
    return MESSAGE.format(identifier=identifier, sender=sender, sent=sent, msg_type=msg_type,
                          references=refs, headline=headline, category=category,
                          severity=severity).encode()


def who(platform: Platform, username: str) -> Principal:
    """The principal of a demo user (API channel)."""
    with platform.uow() as uow:
        user = uow.users.by_username(username)
    assert user is not None
    return principal_for(user, channel="api", address=None)


def register(platform: Platform, sender: str = RIESGOS, *, certificate: bytes | None = None,
             require_signature: bool = False, admin: str = "admin.segura") -> str:
    """``sender`` registered as a CAP source of the admin's agency; its id."""
    source = cap_exchange.add_source(
        platform.uow(), who(platform, admin), sender=sender, name="Fuente de prueba",
        certificate_pem=certificate.decode() if certificate else None,
        require_signature=require_signature, clock=platform.clock)
    return source.id


@lru_cache(maxsize=8)
def signing_pair(name: str = "riesgos", kind: str = "rsa") -> tuple[bytes, bytes]:
    """A private key (PEM) and its self-signed certificate (PEM), valid for a year from now."""
    key: rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey = (
        rsa.generate_private_key(public_exponent=65537, key_size=2048) if kind == "rsa"
        else ec.generate_private_key(ec.SECP256R1()))
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    now = datetime.now(UTC)
    certificate = (x509.CertificateBuilder().subject_name(subject).issuer_name(subject)
                   .public_key(key.public_key()).serial_number(x509.random_serial_number())
                   .not_valid_before(now - timedelta(days=1))
                   .not_valid_after(now + timedelta(days=365))
                   .sign(key, hashes.SHA256()))
    return (key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                              serialization.NoEncryption()),
            certificate.public_bytes(serialization.Encoding.PEM))


def raise_alert(platform: Platform, username: str = "operator.segura", *,
                category: str = "Security", severity: str = "Severe",
                camera_id: str | None = "SEG-001", headline: str = "Robo en curso") -> Alert:
    """An alert raised by hand through the command bus."""
    alert: Alert = platform.bus.handle(commands.RaiseAlert(
        who(platform, username), category, severity, "Immediate", "Observed", "Robo",
        headline, "Dos personas armadas", camera_id, None, None))
    return alert


def agreement(platform: Platform, *, categories: tuple[str, ...] = ("Security",),
              min_severity: str = "Moderate", area: dict | None = None) -> str:  # type: ignore[type-arg]
    """An agreement in force from Segura EP to the National Police; its id."""
    now = platform.clock()
    drafted = SharingAgreement.draft(
        agreement_id=f"acuerdo-{now.timestamp():.0f}-{len(categories)}{min_severity}",
        from_agency_id="segura-ep", to_agency_id="policia-nacional",
        title="Convenio Segura EP - Policía", categories=list(categories),
        min_severity=min_severity, valid_from=now - timedelta(days=1), valid_until=None,
        by="admin.segura", at=now, area=area)
    with platform.uow() as uow:
        uow.agreements.add(drafted)
        uow.commit()
    return drafted.id
