"""Auditors search the audit log; and check the inclusion proofs ``services/audit_log`` gives.

A search sees the records that concern the auditor's agency (its people acted, or its object was
acted on), like ``directory.read_audit_log``, and is itself audited with its filters.
"""

from __future__ import annotations

from typing import Any

from sereno.domain.access import Permission, Principal
from sereno.domain.audit import AuditQuery, AuditRecord
from sereno.domain.errors import InvalidInput
from sereno.governance import merkle
from sereno.governance.transparency import TreeHead, public_key_from_b64
from sereno.services.audit import record, refuse, require
from sereno.services.unit_of_work import UnitOfWork

OBJECT = "audit"


def search_audit(uow: UnitOfWork, who: Principal, query: AuditQuery, *,
                 action: str = "audit.search") -> list[AuditRecord]:
    """One page of the agency's audit records matching ``query``, newest first (auditors).
    The search itself is recorded after the page is read, with its filters."""
    with uow:
        require(uow, who, who.can(Permission.AUDIT_READ), action, object_type=OBJECT)
        try:
            query.validate()
        except InvalidInput as error:
            refuse(uow, who, action, error, object_type=OBJECT, detail=query.as_detail())
        found = list(uow.audit_search.search(who.agency_id, query))
        record(uow, who, action, object_type=OBJECT, object_agency_id=who.agency_id,
               detail={"count": len(found), **query.as_detail()})
        uow.commit()
        return found


def check_inclusion(proof: dict[str, Any], public_key_b64: str) -> dict[str, bool]:
    """Check an inclusion proof as its receiver would: the path leads from the leaf to the
    head's root (``path_ok``) and the head carries this node's signature (``head_signed``)."""
    head = TreeHead.from_dict(proof["tree_head"])
    path_ok = merkle.verify_inclusion(
        bytes.fromhex(proof["leaf_hash"]), int(proof["leaf_index"]), head.tree_size,
        [bytes.fromhex(p) for p in proof["proof"]], bytes.fromhex(head.root_hash))
    return {"path_ok": path_ok, "head_signed": head.verify(public_key_from_b64(public_key_b64))}
