"""``sereno audit …``, ``sereno policy …``, ``sereno cases …`` and ``sereno peers …``: the
tamper-evident audit log, the access policies, investigation cases and peer nodes."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from sereno.domain.errors import SerenoError
from sereno.entrypoints.cli_common import AsUser, fail, start_as, start_platform
from sereno.services import audit_log, governance

if TYPE_CHECKING:
    pass

audit_app = typer.Typer(help="The tamper-evident audit log: verify, prove, sign, witness.",
                        no_args_is_help=True)
policy_app = typer.Typer(help="Access policies (Cedar), versioned.", no_args_is_help=True)
cases_app = typer.Typer(help="Investigation cases (playback and export need one).",
                        no_args_is_help=True)
peers_app = typer.Typer(help="Other agencies' nodes and their pinned keys.",
                        no_args_is_help=True)





def _json(data: Any) -> None:
    sys.stdout.write(json.dumps(data, ensure_ascii=False, default=str, indent=2) + "\n")


# -- audit ------------------------------------------------------------------------------------

@audit_app.command("verify")
def audit_verify(as_user: AsUser) -> None:
    """Re-hash every record, check every signed head; exit 1 naming the first bad index."""
    platform, who = start_as(as_user)
    try:
        report = audit_log.verify_for(platform.audit_log, who)
    except SerenoError as error:
        fail(error)
        return
    _json(report.as_dict())
    if not report.ok:
        raise typer.Exit(1)


@audit_app.command("prove")
def audit_prove(as_user: AsUser, index: Annotated[int, typer.Option("--index", min=0)]) -> None:
    """RFC 9162 inclusion proof of leaf INDEX in the latest signed tree head."""
    platform, who = start_as(as_user)
    try:
        _json(audit_log.inclusion_for(platform.audit_log, who, index))
    except SerenoError as error:
        fail(error)
    except ValueError as error:
        typer.echo(f"error: {error}", err=True)
        raise typer.Exit(1) from None


@audit_app.command("consistency")
def audit_consistency(as_user: AsUser,
                      first: Annotated[int, typer.Option("--from", min=1)],
                      second: Annotated[int, typer.Option("--to", min=1)]) -> None:
    """RFC 9162 consistency proof between two sizes of the log."""
    platform, who = start_as(as_user)
    try:
        _json(audit_log.consistency_for(platform.audit_log, who, first, second))
    except SerenoError as error:
        fail(error)
    except ValueError as error:
        typer.echo(f"error: {error}", err=True)
        raise typer.Exit(1) from None


@audit_app.command("sign")
def audit_sign(as_user: AsUser) -> None:
    """Seal pending records and sign a tree head now."""
    platform, who = start_as(as_user)
    try:
        _json(audit_log.sign_head_for(platform.audit_log, who).as_dict())
    except SerenoError as error:
        fail(error)


@audit_app.command("witness")
def audit_witness(peer: Annotated[str, typer.Option("--peer", help="the peer's node id")]) -> None:
    """Send this node's signed head to PEER for countersigning (what the scheduler does)."""

    platform = start_platform()
    found = audit_log.peer_of(platform.audit_log, peer)
    if found is None:
        typer.echo(f"error: no registered peer {peer!r}", err=True)
        raise typer.Exit(2)
    try:
        result = audit_log.witness_round(platform.audit_log, platform.egress, found,
                                         platform.settings.node_agency_id)
    except SerenoError as error:
        fail(error)
        return
    _json(result)
    if not result.get("ok"):
        raise typer.Exit(1)


@audit_app.command("node-key")
def audit_node_key() -> None:
    """This node's id and Ed25519 public key (what the other agency pins)."""

    key = start_platform().audit_log.key
    _json({"node_id": key.node_id, "public_key": key.public_key_b64, "key_id": key.key_id})


# -- policies ---------------------------------------------------------------------------------

@policy_app.command("show")
def policy_show(as_user: AsUser) -> None:
    """Print the active policies (Cedar text)."""
    platform, who = start_as(as_user)
    try:
        versions = governance.policy_history(platform.uow(), who)
    except SerenoError as error:
        fail(error)
        return
    active = next(v for v in versions if v.active)
    sys.stdout.write(f"// version {active.version} sha256 {active.sha256}\n{active.text}")


@policy_app.command("history")
def policy_history(as_user: AsUser) -> None:
    """Every published version."""
    platform, who = start_as(as_user)
    try:
        versions = governance.policy_history(platform.uow(), who)
    except SerenoError as error:
        fail(error)
        return
    _json([{"version": v.version, "sha256": v.sha256, "published_by": v.published_by,
            "published_at": v.published_at, "note": v.note, "active": v.active}
           for v in versions])


@policy_app.command("publish")
def policy_publish(as_user: AsUser, path: Path,
                   note: Annotated[str, typer.Option("--note")]) -> None:
    """Validate PATH against the schema and make it the active version."""
    platform, who = start_as(as_user)
    try:
        version = governance.publish_policies(platform.uow(), who, path.read_text(), note,
                                              platform.clock, platform.settings.node_agency_id)
    except SerenoError as error:
        fail(error)
        return
    typer.echo(f"published version {version.version} ({version.sha256})")


# -- cases ------------------------------------------------------------------------------------

@cases_app.command("open")
def cases_open(as_user: AsUser, reference: str, title: str) -> None:
    """Open a case (e.g. FGE-2026-000123 "Robo en la Bahía")."""
    platform, who = start_as(as_user)
    try:
        case = governance.open_case(platform.uow(), who, reference, title, platform.clock)
    except SerenoError as error:
        fail(error)
        return
    typer.echo(f"opened {case.reference}")


@cases_app.command("list")
def cases_list(as_user: AsUser) -> None:
    """The agency's cases."""
    platform, who = start_as(as_user)
    try:
        _json([{"reference": c.reference, "title": c.title, "opened_by": c.opened_by,
                "opened_at": c.opened_at, "closed_at": c.closed_at}
               for c in governance.list_cases(platform.uow(), who)])
    except SerenoError as error:
        fail(error)


# -- peers ------------------------------------------------------------------------------------

@peers_app.command("add")
def peers_add(as_user: AsUser, node_id: str, agency: str, public_key: str, url: str) -> None:
    """Register another agency's node NODE_ID (AGENCY) with its PUBLIC_KEY at URL."""
    platform, who = start_as(as_user)
    try:
        governance.register_peer(platform.uow(), who, node_id, agency, public_key, url,
                                 platform.clock, platform.settings.node_agency_id)
    except SerenoError as error:
        fail(error)
    typer.echo(f"registered {node_id}")


@peers_app.command("list")
def peers_list(as_user: AsUser) -> None:
    """Registered peer nodes."""
    platform, who = start_as(as_user)
    try:
        _json(governance.list_peers(platform.uow(), who))
    except SerenoError as error:
        fail(error)
