"""What each federation kind does on arrival: alerts shared by a peer's agency become copies in
the queue of an agency of this node; a partner's action on its copy joins the origin alert's
timeline (``services/sharing``, ADR 0025). Each runs inside the receiving transaction."""

from __future__ import annotations

from typing import Any

from sereno.adapters.media_store import LocalMediaStore
from sereno.domain.errors import AccessDenied, InvalidInput
from sereno.services import sharing
from sereno.services.audit import Clock
from sereno.services.federation import Federation, Inbound, hosted_here
from sereno.services.unit_of_work import UnitOfWork


def register_alert_receivers(federation: Federation, *, clock: Clock,
                             store: LocalMediaStore) -> None:
    """``alert.raised`` / ``alert.updated`` → a received copy; ``alert.acknowledged`` → the
    partner's action on the origin alert."""

    def shared_alert(uow: UnitOfWork, inbound: Inbound) -> dict[str, Any]:
        payload = inbound.envelope.payload
        to_agency = payload.get("to_agency_id")
        if not isinstance(to_agency, str) or not hosted_here(uow, to_agency):
            raise InvalidInput(f"agency {str(to_agency)[:64]!r} is not hosted on this node")
        alert = payload.get("alert")
        origin = alert.get("agency_id") if isinstance(alert, dict) else None
        if origin != inbound.envelope.source_agency_id:
            # The copy would name an origin agency the sending node is not registered for.
            raise AccessDenied(f"the alert is of {str(origin)[:64]!r}, not of the sending "
                               f"agency {inbound.envelope.source_agency_id!r}")
        copy = sharing.accept_shared_alert(uow, payload, origin_node=inbound.peer.node_id,
                                           clock=clock, store=store)
        return {"to_agency_id": to_agency, "copy_id": copy.id,
                "origin_alert_id": copy.origin_alert_id}

    def partner_action(uow: UnitOfWork, inbound: Inbound) -> dict[str, Any]:
        origin = sharing.accept_partner_action(uow, inbound.envelope.payload, clock=clock,
                                               peer_agency_id=inbound.peer.agency_id)
        return {"to_agency_id": origin.agency_id, "origin_alert_id": origin.id}

    federation.register_receiver("alert.raised", shared_alert)
    federation.register_receiver("alert.updated", shared_alert)
    federation.register_receiver("alert.acknowledged", partner_action)
