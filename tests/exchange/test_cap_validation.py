"""CAP 1.2 checking: the real-world corpus (every valid message accepted, every invalid one
refused), hostile XML refused before it can hurt, and the §3 rules the schema leaves out."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
from typer.testing import CliRunner

from sereno.entrypoints.cli import app
from sereno.exchange.cap.validation import MAX_BYTES, check_cap

CORPUS = Path(__file__).parent / "cap_corpus"
SHARED = Path(__file__).resolve().parents[2].parent / "shared" / "cap-corpus"
VALID = sorted((CORPUS / "valid").glob("*.xml"))
INVALID = sorted((CORPUS / "invalid").glob("*.xml"))

MINIMAL = """<?xml version="1.0" encoding="UTF-8"?>
<alert xmlns="urn:oasis:names:tc:emergency:cap:1.2">
  <identifier>SEG-2026-0001</identifier>
  <sender>alertas@segura.ec</sender>
  <sent>2026-11-25T03:00:00-05:00</sent>
  <status>Actual</status>
  <msgType>{msg_type}</msgType>
  <scope>{scope}</scope>
  {extra}
  <info>
    <category>Safety</category>
    <event>Persona en zona restringida</event>
    <urgency>Immediate</urgency>
    <severity>Severe</severity>
    <certainty>Observed</certainty>
    {info_extra}
    <area>
      <areaDesc>Malecón 2000</areaDesc>
      {area}
    </area>
  </info>
</alert>
"""


def _alert(msg_type: str = "Alert", scope: str = "Public", extra: str = "",
           info_extra: str = "", area: str = "") -> bytes:
    return MINIMAL.format(msg_type=msg_type, scope=scope, extra=extra, info_extra=info_extra,
                          area=area).encode()


def test_the_corpus_is_complete_and_unchanged() -> None:
    assert (len(VALID), len(INVALID)) == (23, 5)
    if SHARED.exists():
        for copy in [*VALID, *INVALID]:
            original = SHARED / copy.parent.name / copy.name
            assert hashlib.sha256(copy.read_bytes()).digest() == \
                hashlib.sha256(original.read_bytes()).digest(), copy.name


@pytest.mark.parametrize("path", VALID, ids=lambda p: p.name)
def test_every_valid_message_is_accepted(path: Path) -> None:
    result = check_cap(path.read_bytes())
    assert result.valid, result.errors


@pytest.mark.parametrize("path", INVALID, ids=lambda p: p.name)
def test_every_invalid_message_is_refused(path: Path) -> None:
    result = check_cap(path.read_bytes())
    assert not result.valid and result.errors


def test_soft_rules_warn_on_import_and_fail_our_own_exports() -> None:
    naads = (CORPUS / "valid" / "ca-naads-2019.xml").read_bytes()
    loose = check_cap(naads)
    assert loose.valid and any("empty <references/>" in w for w in loose.warnings)
    assert not check_cap(naads, strict=True).valid
    assert check_cap(_alert(), strict=True).valid


@pytest.mark.parametrize(("data", "reason"), [
    (b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;">]>'
     b'<alert xmlns="urn:oasis:names:tc:emergency:cap:1.2">&lol2;</alert>', "DOCTYPE"),
    (b'<?xml version="1.0"?><!DOCTYPE a SYSTEM "file:///etc/passwd"><alert/>', "DOCTYPE"),
    (b"<alert xmlns='urn:oasis:names:tc:emergency:cap:1.2'>" + b"<x>" * 40 + b"</x>" * 40
     + b"</alert>", "levels deep"),
    (b"<alert xmlns='urn:oasis:names:tc:emergency:cap:1.2'><identifier>", "well-formed"),
    (b"<alert xmlns='urn:oasis:names:tc:emergency:cap:1.1'/>", "not a CAP 1.2 alert"),
    (b" " * (MAX_BYTES + 1), "too large"),
])
def test_hostile_or_broken_xml_is_refused_with_a_reason(data: bytes, reason: str) -> None:
    result = check_cap(data)
    assert not result.valid and any(reason in e for e in result.errors), result.errors


@pytest.mark.parametrize(("alert", "reason"), [
    (_alert(msg_type="Update"), "must name the message"),
    (_alert(msg_type="Cancel", extra="<references>alertas@segura.ec,SEG-1</references>"),
     "not sender,identifier,sent"),
    (_alert(scope="Restricted"), "needs a <restriction>"),
    (_alert(scope="Private"), "needs <addresses>"),
    (_alert(area="<polygon>-2.19,-79.88 -2.18,-79.87 -2.17,-79.89 -2.16,-79.90</polygon>"),
     "not closed"),
    (_alert(area="<polygon>-2.19,-79.88 -2.18,-79.87 -2.19,-79.88</polygon>"), "4 or more"),
    (_alert(area="<polygon>-2.19,-79.88 -92,-79.87 -2.17,-79.89 -2.19,-79.88</polygon>"),
     "WGS 84"),
    (_alert(area="<circle>-2.19,-79.88</circle>"), "lat,lon radius"),
    # Date-times: an explicit offset, no fractions, no "Z" (the schema's pattern holds them).
    (_alert(info_extra="<expires>2026-11-25T05:00:00</expires>"), "schema"),
    (_alert(info_extra="<expires>2026-11-25T05:00:00.250-05:00</expires>"), "schema"),
    (_alert(info_extra="<onset>2026-11-25T05:00:00Z</onset>"), "schema"),
])
def test_section_3_rules_beyond_the_schema(alert: bytes, reason: str) -> None:
    result = check_cap(alert)
    assert not result.valid and any(reason in e for e in result.errors), result.errors


def test_a_well_formed_update_with_references_is_accepted() -> None:
    update = _alert(msg_type="Update", extra="<references>alertas@segura.ec,SEG-2026-0000,"
                                             "2026-11-25T02:55:00-05:00</references>",
                    area="<polygon>-2.19,-79.88 -2.18,-79.87 -2.17,-79.89 -2.19,-79.88</polygon>"
                         "<circle>-2.19,-79.88 0.5</circle>")
    assert check_cap(update, strict=True).valid


def test_cli_exit_status_says_whether_the_message_is_valid(tmp_path: Path) -> None:
    runner = CliRunner()
    good = runner.invoke(app, ["cap", "validate", str(VALID[0])])
    assert good.exit_code == 0 and "valid CAP 1.2" in good.output
    hostile = runner.invoke(app, ["cap", "validate", "--json",
                                  str(CORPUS / "invalid" / "google-xee-hostile-xxe-xinclude.xml")])
    assert hostile.exit_code == 1 and '"valid": false' in hostile.output
    strict = runner.invoke(app, ["cap", "validate", "--strict",
                                 str(CORPUS / "valid" / "ca-naads-2019.xml")])
    assert strict.exit_code == 1
    missing = runner.invoke(app, ["cap", "validate", str(tmp_path / "nada.xml")])
    assert missing.exit_code == 2
