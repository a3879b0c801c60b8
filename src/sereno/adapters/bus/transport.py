"""The port of the message bus's transport: durable subjects, consumer groups, at-least-once.

Two adapters implement it with the same semantics (``tests/bus/test_transport_contract.py``):
``InProcessTransport`` (embedded profile, memory only) and ``JetStreamTransport`` (production,
NATS JetStream). The API is synchronous because the platform is: sync FastAPI routes and worker
threads publish, and handlers run on a thread of their subscription.

Semantics (ADR 0024):

- ``publish`` returns once the message is stored; a ``msg_id`` seen again within the dedupe
  window is not stored twice.
- a *group* is a durable consumer: subscribers of one group share its messages (each message to
  one of them), every group gets every message, a new group starts at the first stored message,
  and a group resumes after its last acknowledged message when subscribed again.
- the handler returning acknowledges; raising asks for a redelivery after a short backoff. After
  ``max_deliver`` failed attempts the message is *parked*: republished once to
  ``dead_letter_subject(subject, group)`` (where an operator tool can read it) and logged.
- delivery is at least once: handlers must be idempotent (``Delivery.msg_id`` helps).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

DEAD_LETTER_ROOT = "deadletter"


class TransportError(Exception):
    """The transport refused or failed an operation."""


class TransportUnavailable(TransportError):
    """The broker cannot be reached (or did not answer in time)."""


@dataclass(frozen=True)
class Delivery:
    """One delivery of a stored message to a handler."""

    subject: str
    data: bytes
    msg_id: str
    num_delivered: int  # 1 on the first attempt, 2 on the first redelivery, …
    published: datetime | None = None


Handler = Callable[[Delivery], None]


class Subscription(Protocol):
    """A running consumer of one group on one subject."""

    @property
    def subject(self) -> str:
        """The subject filter this subscription consumes."""
        ...

    @property
    def group(self) -> str:
        """The durable group it belongs to."""
        ...

    def close(self) -> None:
        """Stop delivering; returns after the handler call in progress (if any) has finished."""
        ...


class Transport(Protocol):
    """Durable publish/subscribe with consumer groups (see the module docstring)."""

    def publish(self, subject: str, data: bytes, *, msg_id: str) -> None:
        """Store ``data`` on ``subject``; durable once this returns."""
        ...

    def subscribe(self, subject: str, group: str, handler: Handler) -> Subscription:
        """Start delivering ``subject`` (wildcards ``*`` and ``>`` allowed) to ``handler`` as a
        member of ``group``."""
        ...

    def dead_letter_subject(self, subject: str, group: str) -> str:
        """Where ``group`` parks the messages of ``subject`` it gave up on (a pattern gives the
        matching pattern: subscribe to it to read the parked messages)."""
        ...

    def close(self) -> None:
        """Stop every subscription and release the connection."""
        ...


def subject_matches(pattern: str, subject: str) -> bool:
    """NATS subject matching: ``*`` is one token, a final ``>`` is one or more tokens."""
    want, have = pattern.split("."), subject.split(".")
    for i, part in enumerate(want):
        if part == ">" and i == len(want) - 1:
            return len(have) > i
        if i >= len(have) or (part != "*" and part != have[i]):
            return False
    return len(want) == len(have)


def check_name(kind: str, name: str) -> str:
    """Stream and group names become NATS names: no dots, wildcards or whitespace."""
    if not name or any(c in name for c in ".*> \t\r\n") or name.startswith("$"):
        raise ValueError(f"invalid {kind} name {name!r}: no dots, wildcards or whitespace")
    return name


def check_subject(subject: str, *, wildcards: bool) -> str:
    """A subject is dot-separated non-empty tokens; wildcards only in subscriptions."""
    tokens = subject.split(".")
    if not subject or any(not t or any(c.isspace() for c in t) for t in tokens):
        raise ValueError(f"invalid subject {subject!r}")
    has_wildcard = any(t in ("*", ">") for t in tokens)
    if has_wildcard and not wildcards:
        raise ValueError(f"cannot publish to a wildcard subject {subject!r}")
    if ">" in tokens[:-1]:
        raise ValueError(f"'>' must be the last token of {subject!r}")
    return subject


def dead_letter_subject(stream: str, subject: str, group: str) -> str:
    """``deadletter.<stream>.<group>.<subject>``: outside the application's subjects, so a
    ``sereno.>`` subscriber never receives dead letters by accident."""
    return f"{DEAD_LETTER_ROOT}.{stream}.{group}.{subject}"


def retry_delay(attempt: int, base: float, cap: float) -> float:
    """Backoff before redelivering a message whose ``attempt``-th handling failed."""
    return float(min(base * 2 ** (attempt - 1), cap))
