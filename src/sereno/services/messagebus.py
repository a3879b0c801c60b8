"""The one message bus: commands go to exactly one handler, events to any number.

Events raised while handling a message are handled right after it, in order, in the same
process. (The production profile will also forward them to NATS JetStream; see the exchange
issue.) A failing event handler is logged and does not undo the command that raised the event.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from sereno.domain.commands import Command
from sereno.domain.events import Event
from sereno.services.unit_of_work import UnitOfWork, UnitOfWorkFactory

logger = logging.getLogger(__name__)

Message = Command | Event
CommandHandler = Callable[[Any, UnitOfWork], Any]
EventHandler = Callable[[Any], None]


class MessageBus:
    """Dispatches commands and events to the handlers bootstrap gave it."""

    def __init__(
        self,
        uow_factory: UnitOfWorkFactory,
        command_handlers: dict[type[Command], CommandHandler],
        event_handlers: dict[type[Event], list[EventHandler]],
    ) -> None:
        self.uow_factory = uow_factory
        self.command_handlers = command_handlers
        self.event_handlers = event_handlers

    def handle(self, command: Command) -> Any:
        """Run ``command`` and every event it causes; returns the command handler's result.

        Safe to call from several threads at once (API requests, video listeners): each call
        drains only the events its own command raised.
        """
        handler = self.command_handlers[type(command)]
        uow = self.uow_factory()
        result = handler(command, uow)  # raises -> rolled back, its events are dropped
        self._drain(list(uow.collect_new_events()))
        return result

    def publish(self, event: Event) -> None:
        """Deliver an event raised outside a command (e.g. by a worker)."""
        self._drain([event])

    def subscribe(self, event_type: type[Event], handler: EventHandler) -> None:
        """Add a handler for ``event_type`` (entry points that own long-lived parts use this)."""
        self.event_handlers.setdefault(event_type, []).append(handler)

    def _drain(self, pending: list[Event]) -> None:
        while pending:
            event = pending.pop(0)
            for handler in self.event_handlers.get(type(event), []):
                try:
                    handler(event)
                except Exception:
                    logger.exception("event handler %s failed on %r", handler, event)
