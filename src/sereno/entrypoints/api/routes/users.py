"""Accounts of the caller's own agency."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request

from sereno.domain import commands
from sereno.domain.access import Principal
from sereno.domain.errors import InvalidInput
from sereno.domain.users import User
from sereno.entrypoints.api.context import Caller, platform_of, resolve_caller
from sereno.entrypoints.api.schemas import (
    ErrorResponse,
    MeOut,
    PasswordChangeIn,
    UserIn,
    UserOut,
    UserPatch,
)
from sereno.services import accounts

router = APIRouter(tags=["users"])
ERRORS: dict[int | str, dict[str, Any]] = {
    code: {"model": ErrorResponse} for code in (400, 401, 403, 404, 409, 422)}


def user_out(user: User) -> UserOut:
    return UserOut(id=user.id, username=user.username, display_name=user.display_name,
                   agency=user.agency_id, roles=list(user.roles), disabled=user.disabled,
                   locked_until=user.locked_until, second_factor=user.has_second_factor,
                   second_factor_required=user.second_factor_required,
                   password_changed_at=user.password_changed_at)


@router.get("/me", response_model=MeOut, responses=ERRORS)
def me(request: Request, caller: Caller) -> MeOut:
    """The caller's own account, with the permissions in force for this credential."""
    user = accounts.get_user(platform_of(request).uow(), caller, caller.user_id)
    return MeOut(**user_out(user).model_dump(), permissions=_permissions(caller),
                 channel=caller.channel)


@router.post("/me/password", status_code=204, responses=ERRORS)
def change_own_password(request: Request, caller: Caller, body: PasswordChangeIn) -> None:
    """Change the caller's own password (the current one is asked; a wrong one counts toward
    the lockout). The new one needs 12 to 128 characters, must not be a common password, contain
    the username, or repeat the current one. The caller's other sessions and tokens end."""
    context = resolve_caller(request)
    token = request.headers.get("authorization", "").partition(" ")[2].strip()
    platform_of(request).bus.handle(commands.ChangePassword(
        caller, body.current_password, body.new_password, keep_session=context.session_id,
        keep_token_hash=accounts.digest(token) if context.via == "token" else None))


def _permissions(who: Principal) -> list[str]:
    return sorted(p.value for p in who.permissions)


@router.get("/users", response_model=list[UserOut], responses=ERRORS)
def list_users(request: Request, caller: Caller) -> list[UserOut]:
    """Accounts of the caller's agency."""
    return [user_out(u) for u in accounts.list_users(platform_of(request).uow(), caller)]


@router.post("/users", response_model=UserOut, status_code=201, responses=ERRORS)
def create_user(request: Request, caller: Caller, body: UserIn) -> UserOut:
    """Create an account in the caller's agency (administrators)."""
    user = platform_of(request).bus.handle(commands.CreateUser(
        caller, body.username, body.display_name, body.password, tuple(body.roles)))
    return user_out(user)


@router.get("/users/{user_id}", response_model=UserOut, responses=ERRORS)
def get_user(request: Request, caller: Caller, user_id: str) -> UserOut:
    """One account of the caller's agency; 404 for other agencies' accounts."""
    return user_out(accounts.get_user(platform_of(request).uow(), caller, user_id))


@router.patch("/users/{user_id}", response_model=UserOut, responses=ERRORS)
def update_user(request: Request, caller: Caller, user_id: str, body: UserPatch) -> UserOut:
    """Change roles, name, password or the disabled flag (administrators)."""
    changes = body.model_dump(exclude_unset=True)
    if not changes:
        raise InvalidInput("nothing to change: send at least one field")
    return user_out(platform_of(request).bus.handle(commands.UpdateUser(caller, user_id,
                                                                        changes)))


@router.post("/users/{user_id}/unlock", response_model=UserOut, responses=ERRORS)
def unlock_user(request: Request, caller: Caller, user_id: str) -> UserOut:
    """Lift a lockout early (administrators)."""
    return user_out(platform_of(request).bus.handle(commands.UnlockUser(caller, user_id)))


@router.delete("/users/{user_id}/second-factor", response_model=UserOut, responses=ERRORS)
def reset_second_factor(request: Request, caller: Caller, user_id: str) -> UserOut:
    """Remove a user's authenticator app (a lost phone; administrators, not for themselves):
    the user's sessions and tokens end and the next login enrols a new app."""
    return user_out(platform_of(request).bus.handle(commands.ResetSecondFactor(caller,
                                                                              user_id)))
