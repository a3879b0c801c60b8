"""Helpers for federation tests: a peer node's key, its envelopes, a shared alert's payload."""

from __future__ import annotations

import json
import uuid
from dataclasses import replace
from datetime import datetime
from pathlib import Path
from typing import Any

from sereno.bootstrap import Platform
from sereno.domain.alerts import Alert, AlertSource, to_wire
from sereno.exchange.federation.envelope import Envelope, batch_body, timestamp
from sereno.governance.node_key import NodeKey

PEER_NODE = "municipio"
PEER_AGENCY = "segura-ep"


def peer_key(folder: Path, node_id: str = PEER_NODE) -> NodeKey:
    """A fresh Ed25519 key of a peer node."""
    return NodeKey.load_or_create(node_id, folder / f"{node_id}-{uuid.uuid4().hex[:6]}.pem")


def register(platform: Platform, key: NodeKey, agency_id: str = PEER_AGENCY,
             base_url: str = "https://municipio.example") -> None:
    """Pin ``key`` as the peer node hosting ``agency_id`` (as the node's admin would)."""
    with platform.uow() as uow:
        uow.peers.add({"node_id": key.node_id, "agency_id": agency_id,
                       "public_key": key.public_key_b64, "base_url": base_url,
                       "registered_by": "test", "registered_at": platform.clock()})
        uow.commit()


def shared_alert(at: datetime, to_agency_id: str = "policia-nacional",
                 agency_id: str = PEER_AGENCY, headline: str = "Robo en el Malecón"
                 ) -> dict[str, Any]:
    """The payload of an ``alert.raised`` message (ADR 0025's shape) of a fresh alert."""
    alert = Alert.raise_new(alert_id=str(uuid.uuid4()), agency_id=agency_id,
                            source=AlertSource.MANUAL, category="Security", severity="Severe",
                            urgency="Immediate", certainty="Observed", event="Robo",
                            headline=headline, at=at, by="operator.segura",
                            latitude=-2.19, longitude=-79.88)
    return {"to_agency_id": to_agency_id, "alert": to_wire(alert),
            "terms": {"agreement_id": "acuerdo-1", "include_media": False,
                      "redact_faces": True, "redact_plates": True},
            "media": {"redacted": False, "withheld": False}}


def envelope(key: NodeKey, seq: int, *, to: str, at: datetime, prev_seq: int | None = None,
             kind: str = "alert.raised", source: str = PEER_AGENCY,
             payload: dict[str, Any] | None = None, sign: bool = True) -> Envelope:
    """Envelope ``seq`` of ``key``'s node to node ``to``, signed at ``at``."""
    made = Envelope(id=str(uuid.uuid4()), kind=kind, seq=seq,
                    prev_seq=seq - 1 if prev_seq is None else prev_seq,
                    source_agency_id=source, sender=key.node_id, to=to, sent_at=timestamp(at),
                    payload=payload if payload is not None else shared_alert(at))
    return made.signed_by(key) if sign else replace(made, signature="")


def body(*envelopes: Envelope) -> bytes:
    """A POST body carrying ``envelopes``."""
    return batch_body(list(envelopes))


def post(client: Any, data: bytes, node: str = PEER_NODE) -> Any:
    """POST a raw body to the federation door, as a peer node would."""
    return client.post("/api/v1/federation/envelopes", content=data,
                       headers={"Content-Type": "application/json", "X-Sereno-Node": node})


def loads(response: Any) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(response.content)
    return data
