"""Incident events cross the node's processes like alert events (ADR 0024, 0031): they encode
and decode unchanged, and each creation and each version is one transport message."""

from __future__ import annotations

from datetime import UTC, datetime

from sereno.domain import events
from sereno.services.event_relay import RELAYED, decode, encode, message_id, subject_of

AT = datetime(2026, 11, 25, 3, 0, tzinfo=UTC)


def test_incident_events_round_trip_through_the_relay() -> None:
    created = events.IncidentCreated("i-1", "segura-ep", "SEG-2026-000001", "robo", 2, "new",
                                     "Robo", "form", AT)
    changed = events.IncidentChanged("i-1", "segura-ep", "transition", "acknowledged", 2, AT)
    for event in (created, changed):
        assert type(event).__name__ in RELAYED
        origin, back = decode(encode(event, "proc-a"))
        assert origin == "proc-a" and back == event
    assert subject_of(created) == "sereno.events.segura-ep.IncidentCreated"
    assert message_id(created) == "IncidentCreated:i-1"
    assert message_id(changed) == message_id(changed)
    merged = events.IncidentChanged("i-1", "segura-ep", "merged_from", "acknowledged", 2, AT)
    assert message_id(merged) != message_id(changed)
