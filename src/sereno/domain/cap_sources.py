"""Registered CAP sources: whose CAP messages an agency imports, and with which key.

An agency imports CAP messages only from senders its administrators registered. A source may
have a *pinned* certificate: its messages' XML signatures are checked against that certificate
and nothing else; ``require_signature`` refuses its unsigned messages. Re-registering a sender
(a new certificate) retires the previous entry; entries are never deleted.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from sereno.domain.errors import InvalidInput

_RESTRICTED = re.compile(r"[\s,<&]")


@dataclass(eq=False)
class CapSource:
    """One sender an agency accepts CAP messages from."""

    id: str
    agency_id: str
    sender: str
    name: str
    certificate_pem: str | None
    fingerprint: str | None
    require_signature: bool
    registered_by: str
    registered_at: datetime
    retired_by: str | None = None
    retired_at: datetime | None = None

    @classmethod
    def register(cls, *, source_id: str, agency_id: str, sender: str, name: str,
                 certificate_pem: str | None, fingerprint: str | None,
                 require_signature: bool, by: str, at: datetime) -> CapSource:
        """A checked source; ``InvalidInput`` says what is wrong."""
        sender = sender.strip()
        if not sender or len(sender) > 255 or _RESTRICTED.search(sender):
            raise InvalidInput("a CAP sender is 1 to 255 characters without spaces, commas, "
                               "'<' or '&' (CAP 1.2 §3.2.1)")
        text = " ".join(name.split())
        if not 3 <= len(text) <= 200:
            raise InvalidInput("a CAP source needs a name of 3 to 200 characters")
        if require_signature and certificate_pem is None:
            raise InvalidInput("requiring signatures needs a pinned certificate to check "
                               "them with")
        return cls(id=source_id, agency_id=agency_id, sender=sender, name=text,
                   certificate_pem=certificate_pem, fingerprint=fingerprint,
                   require_signature=require_signature, registered_by=by, registered_at=at)
