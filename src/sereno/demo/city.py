"""Guayaquil: two agencies, three monitoring centres, fourteen cameras, a user for every role.

Coordinates are approximate street positions of well-known places; headings point along the
street or at the square the camera watches. Demo passwords are public, and so are the TOTP
secrets of the demo accounts that need a second factor (derived from ``DEMO_TOTP_SEED``): never
seed a production node (``sereno demo seed`` refuses on the production profile).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from dataclasses import dataclass

from sereno.domain.access import Role
from sereno.domain.agencies import AgencyKind
from sereno.domain.users import SECOND_FACTOR_ROLES

DEMO_PASSWORD = "sereno-demo-2026"  # noqa: S105 — public on purpose: demo only
#: Public on purpose, demo only: each demo account's TOTP secret is HMAC-SHA-256(seed,
#: username), so that ``sereno demo otp USERNAME`` and the tests can compute its codes.
DEMO_TOTP_SEED = b"sereno-demo-2026/totp"


def demo_totp_secret(username: str) -> str:
    """The demo TOTP secret of ``username`` (base32, 160 bits). Demo only."""
    digest = hmac.new(DEMO_TOTP_SEED, username.encode(), hashlib.sha256).digest()[:20]
    return base64.b32encode(digest).decode().rstrip("=")


@dataclass(frozen=True)
class DemoAgency:
    id: str
    name: str
    kind: AgencyKind
    short: str


@dataclass(frozen=True)
class DemoCentre:
    id: str
    agency_id: str
    name: str
    latitude: float
    longitude: float


@dataclass(frozen=True)
class DemoCamera:
    id: str
    agency_id: str
    centre_id: str
    name: str
    latitude: float
    longitude: float
    heading_deg: float
    fov_deg: float
    range_m: float
    status: str
    classification: str
    tags: tuple[str, ...]
    clip_index: int
    # A stream that does not answer: the demo's one camera that is really offline.
    broken_url: str | None = None


AGENCIES = (
    DemoAgency("segura-ep", "Segura EP — Empresa Pública Municipal de Seguridad de Guayaquil",
               AgencyKind.MUNICIPAL, "segura"),
    DemoAgency("policia-nacional", "Ministerio del Interior — Policía Nacional del Ecuador",
               AgencyKind.POLICE, "policia"),
)

CENTRES = (
    DemoCentre("segura-centro", "segura-ep", "Centro de Monitoreo Segura EP — Centro",
               -2.1921, -79.8862),
    DemoCentre("segura-norte", "segura-ep", "Centro de Monitoreo Segura EP — Norte",
               -2.1437, -79.8998),
    DemoCentre("pn-zona8", "policia-nacional", "Policía Nacional — Centro de Mando Zona 8",
               -2.1662, -79.8953),
)

CAMERAS = (
    DemoCamera("SEG-001", "segura-ep", "segura-centro", "Malecón 2000 — Torre Morisca",
               -2.1953, -79.8797, 200, 70, 80, "online", "shared", ("malecon", "turismo"), 0),
    DemoCamera("SEG-002", "segura-ep", "segura-centro", "Av. 9 de Octubre y Pedro Carbo",
               -2.1924, -79.8829, 270, 60, 120, "online", "shared", ("avenida", "comercio"), 1),
    DemoCamera("SEG-003", "segura-ep", "segura-centro", "Parque Seminario (de las Iguanas)",
               -2.1961, -79.8835, 90, 90, 60, "online", "shared", ("parque", "turismo"), 2),
    DemoCamera("SEG-004", "segura-ep", "segura-centro", "Las Peñas — Numa Pompilio Llona",
               -2.1818, -79.8752, 330, 60, 70, "online", "shared", ("turismo",), 0),
    DemoCamera("SEG-005", "segura-ep", "segura-centro", "La Bahía — Av. Olmedo",
               -2.1989, -79.8829, 180, 75, 90, "degraded", "shared", ("comercio",), 1),
    DemoCamera("SEG-006", "segura-ep", "segura-centro", "Parque Centenario",
               -2.1893, -79.8916, 45, 100, 80, "online", "private", ("parque",), 2),
    DemoCamera("SEG-007", "segura-ep", "segura-norte", "Terminal Terrestre — andenes",
               -2.1397, -79.8918, 120, 80, 100, "online", "shared", ("transporte",), 0),
    DemoCamera("SEG-008", "segura-ep", "segura-norte", "Av. Francisco de Orellana — WTC",
               -2.1561, -79.8936, 0, 60, 150, "online", "shared", ("avenida",), 1),
    DemoCamera("SEG-009", "segura-ep", "segura-norte", "Urdesa — Av. Víctor Emilio Estrada",
               -2.1702, -79.9069, 250, 60, 120, "maintenance", "private", ("comercio",), 2),
    DemoCamera("SEG-010", "segura-ep", "segura-centro", "Guasmo — Av. Domingo Comín",
               -2.2291, -79.8871, 160, 70, 120, "offline", "shared", ("barrio",), 0,
               broken_url="rtsp://127.0.0.1:1/guasmo-sin-servicio"),
    DemoCamera("PN-001", "policia-nacional", "pn-zona8", "Aeropuerto J. J. de Olmedo — acceso",
               -2.1571, -79.8841, 0, 70, 150, "online", "shared", ("transporte",), 1),
    DemoCamera("PN-002", "policia-nacional", "pn-zona8", "Puente de la Unidad Nacional",
               -2.1531, -79.8703, 80, 50, 200, "online", "shared", ("puente", "via"), 2),
    DemoCamera("PN-003", "policia-nacional", "pn-zona8", "Vía Perimetral — Mapasingue",
               -2.1549, -79.9331, 340, 60, 200, "online", "private", ("via",), 0),
    DemoCamera("PN-004", "policia-nacional", "pn-zona8", "Av. de las Américas — Cuartel Modelo",
               -2.1651, -79.8961, 200, 80, 90, "online", "private", ("instalacion",), 1),
)


@dataclass(frozen=True)
class DemoUser:
    username: str
    display_name: str
    agency_id: str
    roles: tuple[str, ...]
    password: str = DEMO_PASSWORD

    @property
    def needs_second_factor(self) -> bool:
        """True for the roles that log in with a TOTP code (admin, auditor, approver)."""
        return any(Role(r) in SECOND_FACTOR_ROLES for r in self.roles)


ROLE_TITLES = {
    Role.OPERATOR: "Operador/a", Role.SUPERVISOR: "Supervisor/a",
    Role.DISPATCHER: "Despachador/a", Role.ANALYST: "Analista", Role.AUDITOR: "Auditor/a",
    Role.ADMIN: "Administrador/a", Role.APPROVER: "Custodio/a de evidencias",
}

USERS = tuple(
    DemoUser(f"{role.value}.{agency.short}", f"{ROLE_TITLES[role]} ({agency.short})",
             agency.id, (role.value,))
    for agency in AGENCIES for role in Role
)


@dataclass(frozen=True)
class DemoRule:
    camera_id: str
    name: str
    kind: str
    points: tuple[tuple[float, float], ...]
    classes: tuple[str, ...] = ("person",)
    direction: str = "any"
    dwell_s: float = 30.0
    min_count: int = 5
    cooldown_s: float = 20.0


RULES = (
    DemoRule("SEG-001", "Cruce del paseo", "line", ((0.5, 0.05), (0.5, 0.95))),
    DemoRule("SEG-002", "Carril central", "line", ((0.05, 0.5), (0.95, 0.5)),
             classes=("person", "vehicle")),
    DemoRule("SEG-003", "Merodeo junto a la reja", "loiter",
             ((0.1, 0.55), (0.6, 0.55), (0.6, 1.0), (0.1, 1.0)), dwell_s=20),
    DemoRule("SEG-006", "Zona restringida del parque", "zone",
             ((0.6, 0.5), (1.0, 0.5), (1.0, 1.0), (0.6, 1.0))),
    DemoRule("PN-001", "Aglomeración en el acceso", "crowd",
             ((0.0, 0.4), (1.0, 0.4), (1.0, 1.0), (0.0, 1.0)), min_count=4),
)
