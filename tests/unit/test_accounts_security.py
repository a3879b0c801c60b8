"""TOTP codes (RFC 6238 vectors), drift search, sealing of secrets, the password policy and the
lockout rule — no database, no HTTP."""

from __future__ import annotations

import base64
from datetime import UTC, datetime, timedelta

import pytest

from sereno.adapters.common_passwords import load_common_passwords
from sereno.adapters.totp import TotpAuthenticator, code_at, load_or_create_key, normalise_code
from sereno.demo.city import USERS, demo_totp_secret
from sereno.domain.errors import InvalidInput
from sereno.domain.users import LockoutPolicy, PasswordPolicy, User

RFC_SECRET = base64.b32encode(b"12345678901234567890").decode()  # RFC 6238's SHA-1 seed
KEY = bytes(range(32))


@pytest.mark.parametrize(("unix", "eight_digits"), [
    (59, "94287082"), (1111111109, "07081804"), (1111111111, "14050471"),
    (1234567890, "89005924"), (2000000000, "69279037"), (20000000000, "65353130"),
])
def test_codes_follow_rfc_6238(unix: int, eight_digits: str) -> None:
    # Six digits are the last six of RFC 6238's eight (the same truncated number, mod 10**6).
    assert code_at(RFC_SECRET, datetime.fromtimestamp(unix, UTC)) == eight_digits[-6:]


def test_match_reports_the_offset_of_the_step() -> None:
    factor = TotpAuthenticator(KEY, "Sereno", search_steps=10)
    now = datetime(2026, 11, 25, 12, 0, 10, tzinfo=UTC)
    for offset in (0, -1, 1, -2, 2, -10, 10):
        code = code_at(RFC_SECRET, now + timedelta(seconds=30 * offset))
        assert factor.match(RFC_SECRET, code, now) == offset
    far = code_at(RFC_SECRET, now + timedelta(minutes=30))
    assert factor.match(RFC_SECRET, far, now) is None
    spaced = code_at(RFC_SECRET, now)
    assert factor.match(RFC_SECRET, f"{spaced[:3]} {spaced[3:]}", now) == 0
    assert normalise_code("12345") is None and normalise_code("12a456") is None
    assert normalise_code("١٢٣٤٥٦") is None  # Arabic-Indic digits are not ASCII digits


def test_provisioning_uri_is_what_authenticator_apps_read() -> None:
    uri = TotpAuthenticator(KEY, "Sereno Guayaquil").provisioning_uri(RFC_SECRET, "admin.x")
    assert uri.startswith("otpauth://totp/Sereno%20Guayaquil:admin.x?")
    for part in (f"secret={RFC_SECRET}", "digits=6", "period=30", "algorithm=SHA1"):
        assert part in uri


def test_secrets_are_sealed_per_account_and_key() -> None:
    factor = TotpAuthenticator(KEY, "Sereno")
    sealed = factor.seal("user-1", RFC_SECRET)
    assert RFC_SECRET not in sealed and sealed != factor.seal("user-1", RFC_SECRET)  # nonce
    assert factor.unseal("user-1", sealed) == RFC_SECRET
    with pytest.raises(ValueError, match="does not open"):
        factor.unseal("user-2", sealed)
    with pytest.raises(ValueError, match="does not open"):
        TotpAuthenticator(bytes(32), "Sereno").unseal("user-1", sealed)


def test_the_key_file_is_made_once_and_private(tmp_path) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "secrets" / "totp.key"
    key = load_or_create_key(path)
    assert len(key) == 32 and load_or_create_key(path) == key
    assert path.stat().st_mode & 0o777 == 0o600


def test_demo_secrets_are_deterministic_and_distinct() -> None:
    needing = [u.username for u in USERS if u.needs_second_factor]
    assert sorted(u.split(".")[0] for u in needing) == sorted(
        ["admin", "auditor", "approver"] * 2)
    secrets = {demo_totp_secret(u) for u in needing}
    assert len(secrets) == len(needing)
    assert demo_totp_secret("admin.segura") == demo_totp_secret("admin.segura")
    assert len(base64.b32decode(demo_totp_secret("admin.segura"))) == 20


def test_a_step_is_accepted_once() -> None:
    user = User("1", "a", "x.y", "X", "hash")
    assert user.accept_code_step(100) and not user.accept_code_step(100)
    assert not user.accept_code_step(99) and user.accept_code_step(101)


def test_lockout_lasts_ten_minutes_by_default() -> None:
    policy = LockoutPolicy()
    assert policy.max_failures == 5 and policy.lock_for == timedelta(minutes=10)
    user = User("1", "a", "x.y", "X", "hash")
    t0 = datetime(2026, 11, 25, 3, 0, tzinfo=UTC)
    assert [user.record_failed_login(t0, policy) for _ in range(5)] == [False] * 4 + [True]
    assert user.is_locked(t0 + timedelta(minutes=9, seconds=59))
    assert not user.is_locked(t0 + timedelta(minutes=10))


POLICY = PasswordPolicy(common=load_common_passwords())


@pytest.mark.parametrize(("password", "codes"), [
    ("short-one", {"too_short"}),
    ("x" * 129, {"too_long", "trivial"}),
    ("a" * 12, {"trivial"}),
    ("abcdefghijklmnop", {"trivial"}),
    ("123456789012", {"trivial"}),
    ("9876543210987", {"trivial"}),
    ("qwertyuiopasdf", set()),  # a keyboard walk not in the list: length carries it
    ("1qaz2wsx3edc", {"common"}),
    ("PASSWORD1234!", {"common"}),  # a common one with digits and symbols added at the end
    ("superman2026", {"common"}),
    ("I am operator.segura ok", {"contains_username"}),
    ("correct horse battery staple", set()),
    ("ñandú en la azotea 2026", set()),
])
def test_password_policy(password: str, codes: set[str]) -> None:
    found = {code for code, _ in POLICY.problems(password, username="operator.segura")}
    assert found == codes


def test_policy_error_names_every_problem() -> None:
    with pytest.raises(InvalidInput) as raised:
        POLICY.check("operator.seg", username="operator.seg", field="new_password")
    assert raised.value.details == [{"field": "new_password", "code": "password.contains_username",
                                     "problem": "the password must not contain the username"}]
    assert "characters" in PasswordPolicy(min_length=20).problems("x1y2z3w4v5u6")[0][1]


def test_the_common_password_list_is_shipped() -> None:
    common = load_common_passwords()
    assert len(common) > 10_000 and "password" in common and "iloveyou" in common
    assert all(len(p) >= 8 for p in common)
