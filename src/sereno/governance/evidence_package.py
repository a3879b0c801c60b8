"""Evidence packages: building the signed ZIP and checking it offline.

Layout of a package (``docs/governance/evidence.md``)::

    manifest.json            who requested, approved and exported what, when, why, for whom;
                             the chain of custody; every other file with its size and SHA-256;
                             the node's id, key id and public key; the signed tree head
    manifest.sig             Ed25519 signature (base64) of the node over
                             b"sereno-evidence-manifest/v1\\n" + the bytes of manifest.json
    original/…               the media exactly as Sereno stored it
    watermarked/…            the recipient's copies, invisibly watermarked for this export
    audit/records.jsonl      one audit record per line, each the exact leaf of the node's log
    audit/proofs.json        for each line: its leaf index and RFC 9162 inclusion proof
    README.txt               how to check the package

Nothing here touches a database or the network: ``verify_package`` is what
``sereno evidence verify`` runs, and what an outside party can re-implement from the document.
"""

from __future__ import annotations

import hashlib
import io
import json
import zipfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from sereno.governance import merkle
from sereno.governance.transparency import (
    LEAF_FIELDS,
    TreeHead,
    public_key_from_b64,
    verify_signature,
)

FORMAT = "sereno-evidence/v1"
MANIFEST = "manifest.json"
SIGNATURE = "manifest.sig"
RECORDS = "audit/records.jsonl"
PROOFS = "audit/proofs.json"
README = "README.txt"
SIGNATURE_CONTEXT = b"sereno-evidence-manifest/v1\n"
_ZIP_TIME = (2020, 1, 1, 0, 0, 0)

README_TEXT = """Sereno evidence package ({format})

Check it with `sereno evidence verify THIS.zip --public-key <the node's key>` (works offline),
or by hand:
1. manifest.sig is the base64 Ed25519 signature, by the public key in manifest.json
   ("node"."public_key", raw 32 bytes in base64; compare it with the key the agency publishes),
   of the bytes "sereno-evidence-manifest/v1\\n" followed by the bytes of manifest.json.
2. Every file of the ZIP but manifest.json and manifest.sig is listed in manifest.json "files"
   with its size and SHA-256, and no file is missing.
3. The tree head in manifest.json "audit"."tree_head" is signed by the same key over
   "sereno-tree-head/v1\\n<node_id>\\n<tree_size>\\n<root_hash>\\n<timestamp_ms>\\n".
4. Line i of audit/records.jsonl (without its newline) is a leaf of the node's audit log: its
   RFC 9162 leaf hash SHA-256(0x00 || line) with the proof in audit/proofs.json (entry i:
   leaf_index, proof) leads to the signed root_hash (nodes: SHA-256(0x01 || left || right)).
The media in original/ are the files as stored by Sereno; watermarked/ holds the copies made
for the recipient, each carrying an invisible mark that identifies this export.
"""


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def canonical_json(value: Any) -> bytes:
    """The manifest's bytes: sorted keys, two-space indent, UTF-8, final newline."""
    return (json.dumps(value, sort_keys=True, indent=2, ensure_ascii=False) + "\n").encode()


def signed_message(manifest_bytes: bytes) -> bytes:
    return SIGNATURE_CONTEXT + manifest_bytes


@dataclass(frozen=True)
class PackageFile:
    path: str
    data: bytes
    role: str  # original, watermarked, audit, readme


def audit_files(records: Sequence[bytes], indexes: Sequence[int],
                proofs: Sequence[Sequence[bytes]]) -> list[PackageFile]:
    """``audit/records.jsonl`` (the leaves, one per line) and ``audit/proofs.json``."""
    lines = b"".join(leaf + b"\n" for leaf in records)
    entries = [{"line": n + 1, "leaf_index": index, "proof": [p.hex() for p in proof]}
               for n, (index, proof) in enumerate(zip(indexes, proofs, strict=True))]
    return [PackageFile(RECORDS, lines, "audit"),
            PackageFile(PROOFS, canonical_json({"proofs": entries}), "audit")]


def build_package(manifest: dict[str, Any], files: Sequence[PackageFile],
                  sign: Callable[[bytes], str]) -> bytes:
    """The ZIP: ``manifest`` completed with the file list, its signature, and the files."""
    every = [*files, PackageFile(README, README_TEXT.format(format=FORMAT).encode(), "readme")]
    paths = [f.path for f in every]
    if len(set(paths)) != len(paths) or {MANIFEST, SIGNATURE} & set(paths):
        raise ValueError("package paths must be unique and not the manifest's own")
    manifest = {**manifest, "format": FORMAT, "files": [
        {"path": f.path, "role": f.role, "size": len(f.data), "sha256": sha256_hex(f.data)}
        for f in every]}
    manifest_bytes = canonical_json(manifest)
    signature = sign(signed_message(manifest_bytes))
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for path, data in [(MANIFEST, manifest_bytes), (SIGNATURE, (signature + "\n").encode()),
                           *((f.path, f.data) for f in every)]:
            info = zipfile.ZipInfo(path, date_time=_ZIP_TIME)
            # Media are already compressed; the rest is small text.
            info.compress_type = (zipfile.ZIP_STORED if path.startswith(("original/",
                                                                         "watermarked/"))
                                  else zipfile.ZIP_DEFLATED)
            info.external_attr = 0o644 << 16
            archive.writestr(info, data)
    return buffer.getvalue()


# -- verification --------------------------------------------------------------------------------

@dataclass
class PackageReport:
    """What ``verify_package`` found: ``ok`` only when nothing is wrong."""

    checked: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    manifest: dict[str, Any] | None = None

    @property
    def ok(self) -> bool:
        return not self.problems

    def as_dict(self) -> dict[str, Any]:
        return {"ok": self.ok, "checked": self.checked, "problems": self.problems,
                "warnings": self.warnings}


def verify_package(source: Path | bytes, public_key_b64: str | None = None) -> PackageReport:
    """Check a package offline: the manifest's signature (by ``public_key_b64`` when given,
    else by the key the manifest names), every file's size and hash, missing and extra files,
    the tree head's signature and every audit record's inclusion proof."""
    report = PackageReport()
    try:
        archive = zipfile.ZipFile(io.BytesIO(source) if isinstance(source, bytes) else source)
    except (OSError, zipfile.BadZipFile) as error:
        report.problems.append(f"not a readable ZIP file: {error}")
        return report
    with archive:
        contents = _read_all(archive, report)
    manifest_bytes = contents.pop(MANIFEST, None)
    signature = contents.pop(SIGNATURE, None)
    if manifest_bytes is None:
        report.problems.append(f"{MANIFEST} is missing: nothing can be checked")
        return report
    try:
        manifest = json.loads(manifest_bytes)
        if not isinstance(manifest, dict):
            raise ValueError("not a JSON object")
    except ValueError as error:
        report.problems.append(f"{MANIFEST} is not valid JSON: {error}")
        return report
    report.manifest = manifest
    if manifest.get("format") != FORMAT:
        report.problems.append(f"{MANIFEST}: unknown format {manifest.get('format')!r} "
                               f"(expected {FORMAT})")
    key = _signature(manifest, manifest_bytes, signature, public_key_b64, report)
    _files(manifest, contents, report)
    _audit(manifest, contents, key, report)
    return report


def _read_all(archive: zipfile.ZipFile, report: PackageReport) -> dict[str, bytes]:
    contents: dict[str, bytes] = {}
    for info in archive.infolist():
        if info.is_dir():
            continue
        if info.filename in contents:
            report.problems.append(f"{info.filename}: appears twice in the ZIP")
            continue
        try:
            contents[info.filename] = archive.read(info)
        except (zipfile.BadZipFile, OSError, ValueError) as error:  # bad CRC, truncation
            report.problems.append(f"{info.filename}: cannot be read ({error})")
            contents[info.filename] = b""
    return contents


def _signature(manifest: dict[str, Any], manifest_bytes: bytes, signature: bytes | None,
               pinned: str | None, report: PackageReport) -> Ed25519PublicKey | None:
    found = manifest.get("node")
    node: dict[str, Any] = found if isinstance(found, dict) else {}
    named = str(node.get("public_key", ""))
    if pinned is not None and named and pinned.strip() != named:
        report.problems.append("manifest.json names a different node key than the one you "
                               f"trust ({named[:12]}… instead of {pinned.strip()[:12]}…)")
    try:
        key = public_key_from_b64((pinned or named).strip())
    except ValueError:
        report.problems.append("no valid Ed25519 public key to check the signature with "
                               "(manifest.json node.public_key or --public-key)")
        return None
    if pinned is None:
        report.warnings.append("the node key was taken from the package itself: pass "
                               "--public-key with the key the agency publishes to rule out a "
                               "re-signed package")
    if signature is None:
        report.problems.append(f"{SIGNATURE} is missing: the manifest is not signed")
    elif not verify_signature(key, signature.decode("ascii", "replace").strip(),
                              signed_message(manifest_bytes)):
        report.problems.append(f"{SIGNATURE} is not the node's signature of {MANIFEST}: the "
                               "manifest or the signature was changed")
    else:
        report.checked.append(f"{MANIFEST} signed by node {node.get('node_id')!r} "
                              f"(key {node.get('key_id')})")
    return key


def _files(manifest: dict[str, Any], contents: dict[str, bytes],
           report: PackageReport) -> None:
    listed = manifest.get("files")
    if not isinstance(listed, list):
        report.problems.append(f"{MANIFEST} has no file list")
        return
    seen: set[str] = set()
    for entry in listed:
        if not isinstance(entry, dict) or not isinstance(entry.get("path"), str):
            report.problems.append(f"{MANIFEST}: malformed file entry {str(entry)[:80]}")
            continue
        path = entry["path"]
        seen.add(path)
        data = contents.get(path)
        if data is None:
            report.problems.append(f"{path}: listed in the manifest but missing from the "
                                   "package")
        elif len(data) != entry.get("size"):
            report.problems.append(f"{path}: size {len(data)} bytes, the manifest says "
                                   f"{entry.get('size')} (file changed)")
        elif sha256_hex(data) != entry.get("sha256"):
            report.problems.append(f"{path}: SHA-256 differs from the manifest (file changed)")
        else:
            report.checked.append(f"{path}: SHA-256 {entry['sha256'][:16]}… matches")
    for path in sorted(set(contents) - seen):
        report.problems.append(f"{path}: not listed in the manifest (file added)")


def _audit(manifest: dict[str, Any], contents: dict[str, bytes], key: Ed25519PublicKey | None,
           report: PackageReport) -> None:
    audit = manifest.get("audit")
    if not isinstance(audit, dict):
        report.problems.append(f"{MANIFEST} has no audit section")
        return
    try:
        head = TreeHead.from_dict(audit.get("tree_head") or {})
    except ValueError as error:
        report.problems.append(f"{MANIFEST}: audit tree head: {error}")
        return
    if key is not None and head.verify(key):
        report.checked.append(f"audit tree head of size {head.tree_size} signed by the node")
    else:
        report.problems.append(f"audit tree head of size {head.tree_size}: bad signature "
                               "(changed, or signed by another key)")
    records = contents.get(RECORDS)
    try:
        proofs = json.loads(contents.get(PROOFS) or b"")["proofs"]
    except (ValueError, KeyError, TypeError):
        report.problems.append(f"{PROOFS} is missing or unreadable: audit records not checked")
        return
    if records is None:
        report.problems.append(f"{RECORDS} is missing: audit records not checked")
        return
    lines = records.split(b"\n")
    if lines and lines[-1] == b"":
        lines.pop()
    if len(lines) != len(proofs) or len(lines) != audit.get("records"):
        report.problems.append(f"{RECORDS} has {len(lines)} records, {PROOFS} "
                               f"{len(proofs)} proofs and the manifest says "
                               f"{audit.get('records')} (records added or removed)")
    root = bytes.fromhex(head.root_hash)
    bad = 0
    for number, (line, entry) in enumerate(zip(lines, proofs, strict=False), start=1):
        try:
            index = int(entry["leaf_index"])
            path = [bytes.fromhex(p) for p in entry["proof"]]
        except (KeyError, TypeError, ValueError):
            report.problems.append(f"{PROOFS}: entry {number} is malformed")
            bad += 1
            continue
        if not merkle.verify_inclusion(merkle.leaf_hash(line), index, head.tree_size, path,
                                       root):
            bad += 1
            report.problems.append(
                f"{RECORDS} line {number} (leaf {index}{_record_label(line)}): not in the "
                "signed audit log (record changed, or proof wrong)")
    if bad == 0 and lines:
        report.checked.append(f"{len(lines)} audit records included in the signed log")


def _record_label(line: bytes) -> str:
    """``, record <id> <action>`` of a leaf, whichever JSON shape it has (object or array)."""
    try:
        parsed = json.loads(line)
        if isinstance(parsed, dict):
            return f", record {parsed.get('id')} {parsed.get('action')}"
        if isinstance(parsed, list) and len(parsed) > len(LEAF_FIELDS):
            values = dict(zip(LEAF_FIELDS, parsed[1:], strict=False))
            return f", record {values['id']} {values['action']}"
    except ValueError:
        return ", not JSON"
    return ""
