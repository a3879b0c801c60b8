"""The one MQTT client (ADR 0029): publishes to approved brokers only.

Before every connection the broker and topic are checked by the egress client
(``EgressClient.authorize_connection``) against the same registry as HTTP: an approved,
unrevoked ``mqtt`` destination of the caller's agency whose scheme, host and port are the
broker's and whose path prefix covers ``/<topic>``; plain ``mqtt`` only to loopback and only
when ``egress.allow_plain_http_loopback`` is on; a host name only when it resolves to public
addresses. A refusal is audited, alerted (and opens a breach case for protected data) there, and
nothing connects. The connection then goes to the checked address (TLS still verifies the
registered name) and never through an environment proxy.

One connection per message, MQTT v5, QoS 1: ``publish`` returns once the broker's PUBACK said
it took the message.
"""

from __future__ import annotations

import contextlib
import time
import uuid
from collections.abc import Sequence
from typing import Any

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties
from paho.mqtt.reasoncodes import ReasonCode

from sereno.domain.access import Principal
from sereno.domain.egress import DestinationPurpose, Target
from sereno.governance.egress import EgressClient, EgressFailed


class _PinnedClient(mqtt.Client):
    """A paho client that connects to an already checked address and ignores proxies."""

    def __init__(self, address: str, client_id: str) -> None:
        super().__init__(CallbackAPIVersion.VERSION2, client_id=client_id,
                         protocol=mqtt.MQTTv5)
        self._pinned_address = address

    def _get_proxy(self) -> dict[str, Any] | None:
        return None  # never an mqtt_proxy from the environment

    def _create_socket_connection(self) -> Any:
        named = self._host
        self._host = self._pinned_address  # the TCP connection goes to the checked address
        try:
            return super()._create_socket_connection()
        finally:
            self._host = named  # TLS verifies the registered name


class MqttPublisher:
    """Publishes one message per connection to approved brokers. Thread-safe (no shared
    state); each call opens and closes its own connection."""

    def __init__(self, egress: EgressClient, *, timeout_s: float = 10.0) -> None:
        self.egress = egress
        self.timeout_s = timeout_s

    def publish(self, who: Principal, *, broker: Target, topic: str, payload: bytes,
                user_properties: Sequence[tuple[str, str]] = (), data_class: str,
                records: Sequence[str] = ()) -> str:
        """Publish ``payload`` on ``topic`` of ``broker`` (scheme, host, port) with QoS 1 for
        ``who``; returns the broker's answer. Raises ``EgressBlocked`` (nothing connected) or
        ``EgressFailed`` (unreachable, refused, no PUBACK in time)."""
        target = Target(broker.scheme, broker.host, broker.port, "/" + topic)
        _, address = self.egress.authorize_connection(
            who, purpose=DestinationPurpose.MQTT.value, target=target, data_class=data_class,
            protocol="MQTT PUBLISH", size=len(payload), records=records)
        client = _PinnedClient(address, f"sereno-{uuid.uuid4().hex[:16]}")
        if broker.scheme == "mqtts":
            client.tls_set()  # the system's CAs, certificate and host name verified
        state: dict[str, Any] = {}

        def on_connect(_c: mqtt.Client, _u: Any, _f: Any, code: ReasonCode,
                       _p: Properties | None) -> None:
            state["connack"] = code

        def on_publish(_c: mqtt.Client, _u: Any, _mid: int, code: ReasonCode,
                       _p: Properties | None) -> None:
            state["puback"] = code

        client.on_connect = on_connect
        client.on_publish = on_publish
        deadline = time.monotonic() + self.timeout_s
        where = f"{broker.scheme}://{broker.host}:{broker.port}"
        try:
            try:
                client.connect(broker.host, broker.port, keepalive=30)
            except (OSError, ValueError) as error:
                raise EgressFailed(f"MQTT connect to {where} failed: {error}") from None
            self._loop_until(client, state, "connack", deadline)
            connack: ReasonCode | None = state.get("connack")
            if connack is None or connack.is_failure:
                raise EgressFailed(f"the broker {where} did not accept the connection: "
                                   f"{connack if connack is not None else 'no CONNACK'}")
            properties = Properties(PacketTypes.PUBLISH)  # type: ignore[no-untyped-call]
            properties.ContentType = "application/json"
            properties.UserProperty = list(user_properties)
            info = client.publish(topic, payload, qos=1, properties=properties)
            if info.rc != mqtt.MQTT_ERR_SUCCESS:
                raise EgressFailed(f"MQTT publish to {where} failed: "
                                   f"{mqtt.error_string(info.rc)}")
            self._loop_until(client, state, "puback", deadline)
            puback: ReasonCode | None = state.get("puback")
            if puback is None:
                raise EgressFailed(f"no PUBACK from {where} within {self.timeout_s:g} s")
            if puback.is_failure:
                raise EgressFailed(f"the broker {where} refused the message: {puback}")
            return f"PUBACK {puback}"
        finally:
            with contextlib.suppress(OSError, ValueError):  # already gone
                client.disconnect()

    @staticmethod
    def _loop_until(client: mqtt.Client, state: dict[str, Any], key: str,
                    deadline: float) -> None:
        while key not in state and time.monotonic() < deadline:
            code = client.loop(timeout=0.05)
            if code not in (mqtt.MQTT_ERR_SUCCESS, mqtt.MQTT_ERR_AGAIN):
                raise EgressFailed(f"MQTT connection lost: {mqtt.error_string(code)}")
