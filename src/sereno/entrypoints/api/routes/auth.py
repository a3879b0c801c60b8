"""Token issue and revocation (OAuth2 password form)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request

from sereno.entrypoints.api.context import Caller, client_address, platform_of
from sereno.entrypoints.api.schemas import ErrorResponse, TokenResponse
from sereno.services import accounts

router = APIRouter(prefix="/auth", tags=["auth"])


@router.post("/token", response_model=TokenResponse,
             responses={401: {"model": ErrorResponse}, 423: {"model": ErrorResponse}})
def issue_token(
    request: Request,
    username: Annotated[str, Form(max_length=64)],
    password: Annotated[str, Form(max_length=256)],
    grant_type: Annotated[str | None, Form(pattern="^password$")] = None,
    scope: Annotated[str, Form(max_length=1000)] = "",
    expires_in_minutes: Annotated[int | None, Form(ge=1)] = None,
    otp: Annotated[str | None, Form(max_length=20, description=(
        "the current code of the account's authenticator app (TOTP): required for admins, "
        "auditors, approvers and anyone who enrolled one"))] = None,
) -> TokenResponse:
    """Exchange a username and password (and the one-time code, when the account has or needs
    a second factor) for a bearer token (scopes ⊆ the user's roles).

    Refusals: 401 ``unauthenticated`` (wrong username or password), ``otp_required`` (send
    ``otp``), ``otp_invalid`` (wrong, already used, or from a device whose clock is off),
    ``otp_enrolment_required`` (set up the authenticator app in the console first); 423
    ``account_locked`` after 5 failures (passwords or codes) for 10 minutes."""
    platform = platform_of(request)
    address = client_address(request)
    user = accounts.login(platform.uow(), platform.hasher, platform.second_factor,
                          platform.auth_policy, platform.clock, username, password, otp,
                          channel="api", address=address)
    issued = accounts.issue_token(platform.uow(), platform.auth_policy, platform.clock, user,
                                  scope or None, expires_in_minutes, address=address)
    return TokenResponse(access_token=issued.access_token, expires_in=issued.expires_in,
                         scope=" ".join(issued.scopes))


@router.post("/revoke", status_code=204)
def revoke_token(request: Request, caller: Caller) -> None:
    """Revoke the bearer token this request carries."""
    platform = platform_of(request)
    secret = request.headers.get("authorization", "").partition(" ")[2].strip()
    accounts.revoke_token(platform.uow(), platform.clock, caller, secret)
