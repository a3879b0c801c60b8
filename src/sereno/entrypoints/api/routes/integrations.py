"""Alert integrations of the caller's agency (ADR 0029): webhooks and MQTT topics of its own
tools, on approved egress destinations only. Admins (``exchange:manage``)."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from fastapi import APIRouter, Request
from pydantic import BaseModel, Field

from sereno.domain.integrations import Subscription
from sereno.entrypoints.api.context import Caller, platform_of
from sereno.entrypoints.api.routes.alerts import CapCategory, CapSeverity
from sereno.entrypoints.api.schemas import ErrorResponse, Strict
from sereno.services import integrations

router = APIRouter(tags=["integrations"])
ERRORS: dict[int | str, dict[str, Any]] = {
    code: {"model": ErrorResponse} for code in (400, 401, 403, 404, 409, 422)}


class SubscriptionOut(BaseModel):
    id: str
    kind: str
    destination_id: str
    target: str
    categories: list[str]
    min_severity: str
    active: bool
    created_by: str
    created_at: datetime | None


class SubscriptionCreatedOut(SubscriptionOut):
    secret: str = Field(description="the HMAC-SHA256 key that signs every message; shown "
                                    "only now: configure it in the receiver")


class SubscriptionIn(Strict):
    kind: Literal["webhook", "mqtt"]
    destination_id: str = Field(min_length=1, max_length=64,
                                description="an approved egress destination of your agency "
                                            "(purpose webhook or mqtt)")
    target: str = Field(min_length=1, max_length=500,
                        description="webhook: the URL path under the destination; mqtt: the "
                                    "topic")
    categories: list[CapCategory] = Field(default_factory=list, max_length=12,
                                          description="empty: every category")
    min_severity: CapSeverity = "Unknown"


def subscription_out(subscription: Subscription) -> SubscriptionOut:
    return SubscriptionOut(
        id=subscription.id, kind=subscription.kind.value,
        destination_id=subscription.destination_id, target=subscription.target,
        categories=list(subscription.categories),
        min_severity=subscription.min_severity.value, active=subscription.active,
        created_by=subscription.created_by, created_at=subscription.created_at)


@router.get("/integrations", response_model=list[SubscriptionOut], responses=ERRORS)
def list_integrations(request: Request, caller: Caller) -> list[SubscriptionOut]:
    """The agency's alert integrations, active or not."""
    found = integrations.list_subscriptions(platform_of(request).uow(), caller)
    return [subscription_out(s) for s in found]


@router.post("/integrations", response_model=SubscriptionCreatedOut, status_code=201,
             responses=ERRORS)
def create_integration(request: Request, caller: Caller,
                       body: SubscriptionIn) -> SubscriptionCreatedOut:
    """Send the agency's alerts (of these categories, from this severity up) to a webhook or
    MQTT topic of an approved destination; the answer holds the signing key, once."""
    platform = platform_of(request)
    created = integrations.create_subscription(
        platform.uow(), caller, kind=body.kind, destination_id=body.destination_id,
        target=body.target, categories=list(body.categories),
        min_severity=body.min_severity, box=platform.integration_secrets,
        clock=platform.clock)
    return SubscriptionCreatedOut(**subscription_out(created.subscription).model_dump(),
                                  secret=created.secret)


@router.post("/integrations/{subscription_id}/deactivate", response_model=SubscriptionOut,
             responses=ERRORS)
def deactivate_integration(request: Request, caller: Caller,
                           subscription_id: str) -> SubscriptionOut:
    """Stop an integration for good (what it has not delivered stays on record)."""
    platform = platform_of(request)
    return subscription_out(integrations.deactivate_subscription(
        platform.uow(), caller, subscription_id, platform.clock))
