"""Alert events reach the consoles of the node's other processes through the bus transport:
two platforms on one database and one real NATS JetStream stream, as two ``sereno serve``
processes of a production node would be."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from sereno.bootstrap import Platform, bootstrap
from sereno.domain import commands, events
from sereno.services.accounts import principal_for
from sereno.services.event_relay import decode, encode
from tests.bus.test_transport_contract import (
    NATS_URL,
    _delete_stream,
    run_coroutine,
    wait_until,
)
from tests.conftest import test_settings as settings_for


@pytest.fixture
def processes(database_url: str, tmp_path: Path, media_root: Path) -> Iterator[list[Platform]]:
    """Two processes of one production-like node: relaying on, a private stream and subjects."""
    tag = uuid.uuid4().hex[:10]
    bus = {"kind": "nats", "nats_url": NATS_URL, "stream": f"TEST_RELAY_{tag}",
           "subject_root": f"r{tag}", "relay_events": True}
    built = [bootstrap(settings_for(tmp_path / name, database_url, media_root, bus=bus,
                                     node_name=f"relay-{tag}", http={"port": port}))
             for name, port in (("api-1", 18081), ("api-2", 18082))]
    yield built
    for platform in built:
        platform.close()
    run_coroutine(_delete_stream(bus["stream"]))


def _raise(platform: Platform, headline: str) -> str:
    with platform.uow() as uow:
        user = uow.users.by_username("dispatcher.segura")
    assert user is not None
    who = principal_for(user, channel="api", address=None)
    alert = platform.bus.handle(commands.RaiseAlert(
        who, "Security", "Severe", "Immediate", "Observed", "Robo", headline))
    return str(alert.id)


def test_an_alert_raised_in_one_process_reaches_the_other_once(
        processes: list[Platform]) -> None:
    first, second = processes
    second.event_relay.start()
    first.event_relay.start()
    with second.event_stream.subscribe() as seen_by_second, \
            first.event_stream.subscribe() as seen_by_first:
        assert first.event_relay.group != second.event_relay.group  # each gets every event
        alert_id = _raise(first, "Robo en la Bahía")
        wait_until(lambda: any(isinstance(e, events.AlertRaised) and e.alert_id == alert_id
                               for e in list(seen_by_second)), timeout=10)
        with second.uow() as uow:
            assert uow.alerts.get(alert_id) is not None  # the same node, the same database
        # The raising process had it directly; its relay does not hand it a second copy.
        assert [e.alert_id for e in seen_by_first if isinstance(e, events.AlertRaised)
                and e.agency_id == "segura-ep"] == [alert_id]
        raised = [e for e in seen_by_second if isinstance(e, events.AlertRaised)
                  and e.agency_id == "segura-ep"]
        assert [e.alert_id for e in raised] == [alert_id]
        assert raised[0].severity == "Severe" and raised[0].agency_id == "segura-ep"


def test_relayed_events_round_trip_and_refuse_foreign_messages() -> None:
    from datetime import UTC, datetime

    event = events.AlertChanged("a-1", "segura-ep", "acknowledged", "acknowledged", 3,
                                datetime(2026, 11, 25, 3, 0, tzinfo=UTC))
    origin, back = decode(encode(event, "p-1"))
    assert origin == "p-1" and back == event
    with pytest.raises(ValueError, match="not a relayed event type"):
        decode(b'{"type": "UserLockedOut", "origin": "x", "event": {}}')
