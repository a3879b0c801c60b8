"""Logins (password, then the one-time code when the account has or needs one), console
sessions, bearer tokens, password changes, and the management of user accounts."""

from __future__ import annotations

import hashlib
import secrets
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, NoReturn, Protocol

from sereno.domain import commands, events
from sereno.domain.access import ALL_SCOPES, Permission, Principal, parse_roles
from sereno.domain.audit import AuditRecord, Outcome
from sereno.domain.errors import (
    AccessDenied,
    AccountLocked,
    AuthenticationFailed,
    Conflict,
    InvalidInput,
    NotFound,
    SecondFactorEnrolmentRequired,
    SecondFactorRejected,
    SecondFactorRequired,
)
from sereno.domain.users import (
    ApiToken,
    LockoutPolicy,
    LoginChallenge,
    PasswordPolicy,
    User,
    WebSession,
    validate_username,
)
from sereno.services.audit import Clock, record, refuse, require
from sereno.services.second_factor import (
    Enrolment,
    SecondFactor,
    check_code,
    enrolment_for,
    ensure_pending,
)
from sereno.services.unit_of_work import UnitOfWork

OBJECT = "user"


class PasswordHasher(Protocol):
    def hash(self, password: str) -> str: ...
    def verify(self, password_hash: str | None, password: str) -> bool: ...


@dataclass(frozen=True)
class AuthPolicy:
    """Session and token lifetimes, the lockout rule, the password policy and the second
    factor's tolerance, from the settings."""

    lockout: LockoutPolicy = LockoutPolicy()
    session_idle: timedelta = timedelta(minutes=30)
    session_max: timedelta = timedelta(hours=12)
    token_ttl: timedelta = timedelta(minutes=60)
    token_max_ttl: timedelta = timedelta(hours=12)
    password: PasswordPolicy = PasswordPolicy()
    #: Codes of this many 30-second steps before or after now are accepted (clock drift).
    totp_drift_steps: int = 1
    #: How long the console waits for the one-time code after the password.
    challenge_ttl: timedelta = timedelta(minutes=5)


@dataclass(frozen=True)
class IssuedToken:
    """A bearer token as handed to the client, once."""

    access_token: str
    expires_in: int
    scopes: tuple[str, ...]


@dataclass(frozen=True)
class IssuedSession:
    """A console session as handed to the browser, once."""

    cookie_value: str
    csrf_token: str
    max_age: int


def digest(secret: str) -> str:
    """SHA-256 of a high-entropy secret: what the database keeps instead of the secret."""
    return hashlib.sha256(secret.encode()).hexdigest()


def principal_for(user: User, *, channel: str, address: str | None,
                  scopes: frozenset[str] | None = None, purpose: str | None = None) -> Principal:
    """The caller a verified credential stands for."""
    return Principal(user_id=user.id, username=user.username, agency_id=user.agency_id,
                     roles=user.role_set, channel=channel, address=address, scopes=scopes,
                     purpose=purpose)


LOCKED = "too many failed logins: the account is locked for a while"
NOT_ENROLLED = ("this account must set up an authenticator app first: log in once in the "
                "console (/login), which walks you through it, then send the app's code as otp")
CODE_NEEDED = ("this account needs the one-time code of its authenticator app: send it in the "
               "form field otp")


def login(uow: UnitOfWork, hasher: PasswordHasher, factor: SecondFactor,
          policy: AuthPolicy, clock: Clock, username: str, password: str, otp: str | None, *,
          channel: str, address: str | None) -> User:
    """A login in one go (the API): the password, then the one-time code when the account has
    an authenticator app or a role that requires one. Wrong passwords and wrong, replayed or
    mistimed codes count toward the lockout; every try is audited (``auth.login``)."""
    now = clock()
    with uow:
        user = _verify_password(uow, hasher, policy, now, username, password, channel, address)
        if _needs_code(user):
            if not user.has_second_factor:
                _login_refused(uow, user, username, channel, address, now,
                               "second factor not enrolled", SecondFactorEnrolmentRequired(
                                   NOT_ENROLLED))
            if not otp or not otp.strip():
                _login_refused(uow, user, username, channel, address, now,
                               "one-time code missing", SecondFactorRequired(CODE_NEEDED))
            assert user.totp_secret is not None
            _verify_code(uow, factor, policy, now, user, user.totp_secret, otp, channel,
                         address)
        _complete_login(uow, user, channel, address, now)
        uow.commit()
        return user


def _needs_code(user: User) -> bool:
    return user.second_factor_required or user.has_second_factor


def _verify_password(uow: UnitOfWork, hasher: PasswordHasher, policy: AuthPolicy,
                     now: datetime, username: str, password: str, channel: str,
                     address: str | None) -> User:
    """The user whose password this is, or (audited, committed) ``AuthenticationFailed``."""
    user = uow.users.by_username(username.strip().lower()[:64])
    if user is not None and user.is_locked(now):
        _login_refused(uow, user, username, channel, address, now, "account locked",
                       AccountLocked(LOCKED))
    ok = hasher.verify(user.password_hash if user else None, password)
    if user is None or not ok or user.disabled:
        reason = ("unknown user" if user is None else
                  "account disabled" if ok else "wrong password")
        if user is not None and not ok:
            _failure(uow, user, username, channel, address, now, policy, reason,
                     AuthenticationFailed("wrong username or password"))
        _login_refused(uow, user, username, channel, address, now, reason,
                       AuthenticationFailed("wrong username or password"))
    return user


def _verify_code(uow: UnitOfWork, factor: SecondFactor, policy: AuthPolicy, now: datetime,
                 user: User, sealed: str, code: str, channel: str, address: str | None,
                 challenge: LoginChallenge | None = None) -> int:
    """The accepted time step, or (audited, counted, committed) ``SecondFactorRejected``; a
    lockout also ends ``challenge``."""
    verdict = check_code(factor, user, sealed, code, now, policy.totp_drift_steps)
    if verdict.accepted:
        assert verdict.step is not None
        return verdict.step
    reason = verdict.reason or "wrong one-time code"
    refusal = SecondFactorRejected(verdict.message or "wrong one-time code",
                                   details=[{"field": "otp", "reason": verdict.kind or "wrong"}])
    if verdict.counts:
        _failure(uow, user, user.username, channel, address, now, policy, reason, refusal,
                 challenge)
    _login_refused(uow, user, user.username, channel, address, now, reason, refusal)


def _failure(uow: UnitOfWork, user: User, username: str, channel: str, address: str | None,
             now: datetime, policy: AuthPolicy, reason: str, error: AuthenticationFailed,
             challenge: LoginChallenge | None = None) -> NoReturn:
    """Count a failed login; the one that locks the account is recorded as a lockout too."""
    if user.record_failed_login(now, policy.lockout):
        if challenge is not None:
            challenge.ended_at = now
        _lockout(uow, user, channel, address, now, policy)
        _login_refused(uow, user, username, channel, address, now, f"{reason}; account locked",
                       AccountLocked(LOCKED))
    _login_refused(uow, user, username, channel, address, now, reason, error)


def _lockout(uow: UnitOfWork, user: User, channel: str, address: str | None, now: datetime,
             policy: AuthPolicy) -> None:
    """The failure that locked the account: an event and an audit record of its own."""
    uow.emit(events.UserLockedOut(user.id, user.agency_id, user.username))
    _audit_login(uow, user, user.username, channel, address, Outcome.ALLOWED,
                 f"{policy.lockout.max_failures} failed logins", now, action="auth.lockout",
                 detail={"locked_until": user.locked_until.isoformat()
                         if user.locked_until else None})


def _login_refused(uow: UnitOfWork, user: User | None, username: str, channel: str,
                   address: str | None, now: datetime, reason: str,
                   error: AuthenticationFailed) -> NoReturn:
    """Record a refused login, commit (failure counts, lockouts) and raise ``error``."""
    _audit_login(uow, user, username, channel, address, Outcome.DENIED, reason, now)
    uow.commit()
    raise error


def _complete_login(uow: UnitOfWork, user: User, channel: str, address: str | None,
                    now: datetime) -> None:
    user.record_successful_login()
    second = "totp" if user.has_second_factor else None
    _audit_login(uow, user, user.username, channel, address, Outcome.ALLOWED, None, now,
                 detail={"second_factor": second} if second else None)


def _audit_login(uow: UnitOfWork, user: User | None, username: str, channel: str,
                 address: str | None, outcome: Outcome, reason: str | None,
                 now: datetime, *, action: str = "auth.login",
                 detail: dict[str, Any] | None = None) -> None:
    uow.audit.add(AuditRecord(
        at=now, action=action, outcome=outcome,
        actor_user_id=user.id if user else None,
        actor_username=user.username if user else username[:64],
        actor_agency_id=user.agency_id if user else None,
        actor_roles=",".join(sorted(user.roles)) if user else None,
        channel=channel, address=address, reason=reason,
        object_type="user" if user else None, object_id=user.id if user else None,
        object_agency_id=user.agency_id if user else None, detail=detail or {},
    ))


# -- the console's two-step login ---------------------------------------------------------------

@dataclass(frozen=True)
class LoginStart:
    """After the password: either the login is complete (``challenge`` is None) or the browser
    keeps ``challenge`` and sends the one-time code next (``enrol``: set up the app first)."""

    user: User
    challenge: str | None = None
    enrol: bool = False


def begin_login(uow: UnitOfWork, hasher: PasswordHasher, factor: SecondFactor,
                policy: AuthPolicy, clock: Clock, username: str, password: str, *,
                channel: str, address: str | None) -> LoginStart:
    """The password step of the console login. Accounts with (or needing) a second factor get a
    short-lived challenge instead of a session; the failure count is cleared only when the
    whole login succeeds, so a known password does not buy unlimited code guesses."""
    now = clock()
    with uow:
        user = _verify_password(uow, hasher, policy, now, username, password, channel, address)
        if not _needs_code(user):
            _complete_login(uow, user, channel, address, now)
            uow.commit()
            return LoginStart(user)
        enrol = not user.has_second_factor
        if enrol:
            ensure_pending(factor, user)
        secret = secrets.token_urlsafe(32)
        uow.credentials.add(LoginChallenge(id=str(uuid.uuid4()), user_id=user.id,
                                           token_hash=digest(secret), created_at=now,
                                           expires_at=now + policy.challenge_ttl))
        _audit_login(uow, user, user.username, channel, address, Outcome.ALLOWED,
                     None, now, action="auth.login.password",
                     detail={"next": "enrol" if enrol else "code"})
        uow.commit()
        return LoginStart(user, secret, enrol)


@dataclass(frozen=True)
class ChallengeView:
    """What the code page shows: whose login it is and, when enrolling, the secret."""

    username: str
    enrolment: Enrolment | None


def challenge_view(uow: UnitOfWork, factor: SecondFactor, clock: Clock,
                   challenge: str) -> ChallengeView:
    """The login waiting for its code; ``AuthenticationFailed`` when it expired or ended."""
    with uow:
        found = _live_challenge(uow, clock(), challenge)
        user = uow.users.get(found.user_id)
        if user is None or user.disabled:
            raise AuthenticationFailed("this login step has expired; please log in again")
        if user.has_second_factor:
            return ChallengeView(user.username, None)
        if ensure_pending(factor, user):
            uow.commit()
        return ChallengeView(user.username, enrolment_for(factor, user))


def finish_login(uow: UnitOfWork, factor: SecondFactor, policy: AuthPolicy, clock: Clock,
                 challenge: str, code: str, *, channel: str, address: str | None) -> User:
    """The code step of the console login (or the confirmation of a new app): the same checks,
    counting and audit as ``login``; the challenge ends with success or with a lockout."""
    now = clock()
    with uow:
        found = _live_challenge(uow, now, challenge)
        user = uow.users.get(found.user_id)
        if user is None or user.disabled:
            found.ended_at = now
            _login_refused(uow, user, "", channel, address, now, "account disabled",
                           AuthenticationFailed("this login step has expired; please log "
                                                "in again"))
        if user.is_locked(now):
            found.ended_at = now
            _login_refused(uow, user, user.username, channel, address, now, "account locked",
                           AccountLocked(LOCKED))
        enrolling = not user.has_second_factor
        sealed = user.totp_pending if enrolling else user.totp_secret
        if sealed is None:
            found.ended_at = now
            _login_refused(uow, user, user.username, channel, address, now,
                           "no secret waiting for confirmation",
                           AuthenticationFailed("this login step has expired; please log "
                                                "in again"))
        step = _verify_code(uow, factor, policy, now, user, sealed, code, channel, address,
                            found)
        if enrolling:
            user.enrol_second_factor(sealed, step, now)
            record(uow, principal_for(user, channel=channel, address=address),
                   "auth.totp.enrol", object_type="user", object_id=user.id,
                   object_agency_id=user.agency_id,
                   detail={"voluntary": not user.second_factor_required, "at_login": True},
                   now=now)
        found.ended_at = now
        _complete_login(uow, user, channel, address, now)
        uow.commit()
        return user


def _live_challenge(uow: UnitOfWork, now: datetime, challenge: str) -> LoginChallenge:
    found = uow.credentials.challenge_by_hash(digest(challenge)) if challenge else None
    if found is None or not found.usable(now):
        raise AuthenticationFailed("this login step has expired; please log in again")
    return found


def issue_token(uow: UnitOfWork, policy: AuthPolicy, clock: Clock, user: User,
                requested_scopes: str | None, ttl_minutes: int | None,
                *, address: str | None) -> IssuedToken:
    """A bearer token limited to the requested scopes that the user's roles allow."""
    who = principal_for(user, channel="api", address=address)
    role_scopes = {p.scope for p in who.permissions}
    if requested_scopes:
        asked = set(requested_scopes.split())
        unknown = asked - ALL_SCOPES
        if unknown:
            raise InvalidInput(f"unknown scope(s): {', '.join(sorted(unknown))}")
        granted = asked & role_scopes
    else:
        granted = role_scopes
    ttl = policy.token_ttl if ttl_minutes is None else timedelta(minutes=ttl_minutes)
    if ttl <= timedelta(0) or ttl > policy.token_max_ttl:
        raise InvalidInput(f"token lifetime must be 1 to "
                           f"{int(policy.token_max_ttl.total_seconds() // 60)} minutes")
    secret = secrets.token_urlsafe(32)
    now = clock()
    token = ApiToken(id=str(uuid.uuid4()), user_id=user.id, token_hash=digest(secret),
                     scopes=sorted(granted), created_at=now, expires_at=now + ttl)
    with uow:
        uow.credentials.add(token)
        record(uow, who, "auth.token.issue", object_type="token", object_id=token.id,
               object_agency_id=user.agency_id, detail={"scopes": token.scopes}, now=now)
        uow.commit()
    return IssuedToken(secret, int(ttl.total_seconds()), tuple(token.scopes))


def open_session(uow: UnitOfWork, policy: AuthPolicy, clock: Clock, user: User,
                 *, address: str | None) -> IssuedSession:
    """A console session: a random cookie value and a CSRF token bound to it."""
    secret = secrets.token_urlsafe(32)
    now = clock()
    session = WebSession(id=str(uuid.uuid4()), user_id=user.id, token_hash=digest(secret),
                         csrf_token=secrets.token_urlsafe(32), created_at=now, last_seen_at=now,
                         expires_at=now + policy.session_max)
    with uow:
        uow.credentials.add(session)
        record(uow, principal_for(user, channel="web", address=address), "auth.session.open",
               object_type="session", object_id=session.id, object_agency_id=user.agency_id,
               now=now)
        uow.commit()
    return IssuedSession(secret, session.csrf_token, int(policy.session_max.total_seconds()))


def authenticate_token(uow: UnitOfWork, clock: Clock, secret: str, *, address: str | None,
                       purpose: str | None) -> Principal:
    """The caller behind a bearer token, or ``AuthenticationFailed``."""
    with uow:
        token = uow.credentials.token_by_hash(digest(secret))
        if token is None or not token.usable(clock()):
            raise AuthenticationFailed("the token is unknown, expired or revoked")
        user = uow.users.get(token.user_id)
        if user is None or user.disabled:
            raise AuthenticationFailed("the token's account is disabled")
        return principal_for(user, channel="api", address=address,
                             scopes=frozenset(token.scopes), purpose=purpose)


@dataclass(frozen=True)
class SessionContext:
    """A verified console session: who, and the CSRF token its forms must carry."""

    principal: Principal
    csrf_token: str
    session_id: str


def authenticate_session(uow: UnitOfWork, policy: AuthPolicy, clock: Clock, secret: str,
                         *, address: str | None, purpose: str | None) -> SessionContext:
    """The caller behind a console cookie; slides the idle timeout forward."""
    now = clock()
    with uow:
        session = uow.credentials.session_by_hash(digest(secret))
        if session is None or not session.usable(now, policy.session_idle):
            raise AuthenticationFailed("your session has expired; please log in again")
        user = uow.users.get(session.user_id)
        if user is None or user.disabled:
            raise AuthenticationFailed("the session's account is disabled")
        if now - session.last_seen_at > timedelta(seconds=30):  # spare a write per request
            session.last_seen_at = now
            uow.commit()
        return SessionContext(principal_for(user, channel="web", address=address,
                                            purpose=purpose),
                              session.csrf_token, session.id)


def revoke_token(uow: UnitOfWork, clock: Clock, who: Principal, secret: str) -> None:
    """Revoke the caller's own bearer token at once."""
    with uow:
        token = uow.credentials.token_by_hash(digest(secret))
        if token is not None and token.user_id == who.user_id and token.revoked_at is None:
            token.revoked_at = clock()
        record(uow, who, "auth.token.revoke", object_type="token",
               object_id=token.id if token else None, object_agency_id=who.agency_id)
        uow.commit()


def close_session(uow: UnitOfWork, clock: Clock, who: Principal, session_id: str) -> None:
    """Log out: the cookie stops working at once."""
    with uow:
        session = uow.credentials.session_by_id(session_id)
        if session is not None and session.ended_at is None:
            session.ended_at = clock()
        record(uow, who, "auth.session.close", object_type="session", object_id=session_id,
               object_agency_id=who.agency_id)
        uow.commit()


# -- account management -------------------------------------------------------------------------

def list_users(uow: UnitOfWork, who: Principal) -> list[User]:
    """The accounts of the caller's own agency; never another agency's."""
    action = "user.list"
    with uow:
        require(uow, who, who.can(Permission.USER_READ), action, object_type=OBJECT)
        found = list(uow.users.list_for_agency(who.agency_id))
        record(uow, who, action, object_type=OBJECT, object_agency_id=who.agency_id,
               detail={"count": len(found)})
        uow.commit()
        return found


def get_user(uow: UnitOfWork, who: Principal, user_id: str) -> User:
    """One account of the caller's agency (anybody may read their own)."""
    action = "user.read"
    with uow:
        user = _own_agency_user(uow, who, user_id, action)
        if user.id != who.user_id:
            require(uow, who, who.can(Permission.USER_READ), action, object_type=OBJECT,
                    object_id=user_id, object_agency_id=user.agency_id)
        record(uow, who, action, object_type=OBJECT, object_id=user.id,
               object_agency_id=user.agency_id)
        uow.commit()
        return user


def create_user(cmd: commands.CreateUser, uow: UnitOfWork, hasher: PasswordHasher,
                clock: Clock, policy: AuthPolicy) -> User:
    """An administrator creates an account in their own agency (the agency is never asked)."""
    who, action = cmd.by, "user.create"
    with uow:
        require(uow, who, who.can(Permission.USER_WRITE), action, object_type=OBJECT)
        try:
            username = validate_username(cmd.username)
            policy.password.check(cmd.password, username=username)
            roles = parse_roles(cmd.roles)
            if not roles:
                raise InvalidInput("a user needs at least one role")
            if not 0 < len(cmd.display_name.strip()) <= 200:
                raise InvalidInput("display_name must be 1 to 200 characters")
        except (InvalidInput, ValueError) as error:
            problem = error if isinstance(error, InvalidInput) else InvalidInput(str(error))
            refuse(uow, who, action, problem, object_type=OBJECT)
        if uow.users.by_username(username) is not None:
            refuse(uow, who, action, Conflict(f"username {username!r} is taken"),
                   object_type=OBJECT)
        now = clock()
        user = User(id=str(uuid.uuid4()), agency_id=who.agency_id, username=username,
                    display_name=cmd.display_name.strip(), password_hash=hasher.hash(cmd.password),
                    roles=sorted(r.value for r in roles), created_at=now,
                    password_changed_at=now)
        uow.users.add(user)
        record(uow, who, action, object_type=OBJECT, object_id=user.id,
               object_agency_id=user.agency_id, detail={"username": username,
                                                        "roles": user.roles})
        uow.commit()
        return user


def update_user(cmd: commands.UpdateUser, uow: UnitOfWork, hasher: PasswordHasher,
                clock: Clock, policy: AuthPolicy) -> User:
    """Change display name, roles, disabled flag or password of an own-agency account. A new
    password follows the password policy and ends the user's other sessions and tokens."""
    who, action = cmd.by, "user.update"
    allowed = {"display_name", "roles", "disabled", "password"}
    now = clock()
    detail: dict[str, Any] = {"changed": sorted(cmd.changes)}
    with uow:
        user = _own_agency_user(uow, who, cmd.user_id, action)
        require(uow, who, who.can(Permission.USER_WRITE), action, object_type=OBJECT,
                object_id=user.id, object_agency_id=user.agency_id)
        unknown = sorted(set(cmd.changes) - allowed)
        try:
            if unknown:
                raise InvalidInput(f"fields not editable: {', '.join(unknown)}")
            if "roles" in cmd.changes:
                roles = parse_roles(cmd.changes["roles"])
                if not roles:
                    raise InvalidInput("a user needs at least one role")
                if user.id == who.user_id and "admin" not in {r.value for r in roles}:
                    raise InvalidInput("you cannot remove your own admin role")
                user.roles = sorted(r.value for r in roles)
            if "display_name" in cmd.changes:
                name = str(cmd.changes["display_name"]).strip()
                if not 0 < len(name) <= 200:
                    raise InvalidInput("display_name must be 1 to 200 characters")
                user.display_name = name
            if "disabled" in cmd.changes:
                if user.id == who.user_id and cmd.changes["disabled"]:
                    raise InvalidInput("you cannot disable your own account")
                user.disabled = bool(cmd.changes["disabled"])
            if "password" in cmd.changes:
                user.password_hash = _new_password_hash(hasher, policy, user,
                                                        cmd.changes["password"], "password")
                user.password_changed_at = now
                if user.id != who.user_id:  # a reset: whoever holds the old one is out
                    detail["credentials_ended"] = uow.credentials.end_all_for_user(user.id, now)
        except (InvalidInput, ValueError) as error:
            problem = error if isinstance(error, InvalidInput) else InvalidInput(str(error))
            refuse(uow, who, action, problem, object_type=OBJECT, object_id=user.id,
                   object_agency_id=user.agency_id)
        record(uow, who, action, object_type=OBJECT, object_id=user.id,
               object_agency_id=user.agency_id, detail=detail, now=now)
        uow.commit()
        return user


def _new_password_hash(hasher: PasswordHasher, policy: AuthPolicy, user: User, password: Any,
                       field: str) -> str:
    """The hash of an acceptable new password for ``user``; ``InvalidInput`` naming every rule
    it breaks (the policy's, and: not the current password)."""
    problems: list[dict[str, str]] = []
    try:
        policy.password.check(password, username=user.username, field=field)
    except InvalidInput as error:
        problems = list(error.details)
    if isinstance(password, str) and hasher.verify(user.password_hash, password):
        problems.append({"field": field, "code": "password.reused",
                         "problem": "the new password must differ from the current one"})
    if problems:
        raise InvalidInput("; ".join(p["problem"] for p in problems), details=problems)
    return hasher.hash(password)


def change_password(cmd: commands.ChangePassword, uow: UnitOfWork, hasher: PasswordHasher,
                    clock: Clock, policy: AuthPolicy) -> User:
    """The caller changes their own password, proving the current one (a wrong one counts
    toward the lockout); their other sessions and tokens end."""
    who, action = cmd.by, "user.password.change"
    now = clock()
    with uow:
        user = uow.users.get(who.user_id)
        if user is None:
            refuse(uow, who, action, NotFound("no such account"), object_type=OBJECT,
                   object_id=who.user_id)
        scope: dict[str, Any] = {"object_type": OBJECT, "object_id": user.id,
                                 "object_agency_id": user.agency_id}
        if not hasher.verify(user.password_hash, cmd.current_password):
            reason = "wrong current password"
            if user.record_failed_login(now, policy.lockout):
                reason += "; account locked"
                _lockout(uow, user, who.channel, who.address, now, policy)
            record(uow, who, action, outcome=Outcome.DENIED, reason=reason, now=now, **scope)
            uow.commit()
            raise AccessDenied("the current password is wrong")
        try:
            user.password_hash = _new_password_hash(hasher, policy, user, cmd.new_password,
                                                    "new_password")
        except InvalidInput as error:
            refuse(uow, who, action, error, **scope)
        user.password_changed_at = now
        ended = uow.credentials.end_all_for_user(user.id, now, keep_session=cmd.keep_session,
                                                 keep_token_hash=cmd.keep_token_hash)
        record(uow, who, action, detail={"credentials_ended": ended}, now=now, **scope)
        uow.commit()
        return user


def unlock_user(cmd: commands.UnlockUser, uow: UnitOfWork, clock: Clock) -> User:
    """An administrator lifts a lockout before it runs out."""
    who, action = cmd.by, "user.unlock"
    with uow:
        user = _own_agency_user(uow, who, cmd.user_id, action)
        require(uow, who, who.can(Permission.USER_WRITE), action, object_type=OBJECT,
                object_id=user.id, object_agency_id=user.agency_id)
        user.unlock()
        record(uow, who, action, object_type=OBJECT, object_id=user.id,
               object_agency_id=user.agency_id, now=clock())
        uow.commit()
        return user


def _own_agency_user(uow: UnitOfWork, who: Principal, user_id: str, action: str) -> User:
    user = uow.users.get(user_id)
    if user is None or user.agency_id != who.agency_id:
        refuse(uow, who, action, NotFound(f"no user {user_id!r}"), object_type=OBJECT,
               object_id=user_id, object_agency_id=user.agency_id if user else None,
               internal_reason=None if user is None else "user of another agency")
    return user
