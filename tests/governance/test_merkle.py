"""RFC 9162 Merkle tree: public transparency-dev vectors, an RFC reference model, properties."""

from __future__ import annotations

import base64
import hashlib
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sereno.governance.merkle import (
    EMPTY_ROOT,
    CompactRange,
    consistency_proof,
    consistency_proof_from_hashes,
    inclusion_proof,
    inclusion_proof_from_hashes,
    leaf_hash,
    leaf_hashes,
    root,
    root_from_hashes,
    verify_consistency,
    verify_inclusion,
)

# The in-repo copy is what the tests read (a clone may sit anywhere); the shared folder next to
# the repository is the source it was copied from, checked for drift when present.
VECTORS = Path(__file__).resolve().parent / "vectors" / "merkle"
SHARED_VECTORS = Path(__file__).resolve().parents[2].parent / "shared" / "merkle-vectors"

# What the folder holds (transparency-dev/merkle testdata): 98 + 98 cases, 6 + 6 of them valid.
EXPECTED_CASES = {"inclusion": (98, 6), "consistency": (98, 6)}


@dataclass(frozen=True)
class Case:
    path: str
    data: dict[str, Any]

    @property
    def proof(self) -> list[bytes]:
        return [_b64(p) for p in self.data["proof"] or []]  # `null` means an empty proof

    @property
    def want_err(self) -> bool:
        return bool(self.data["wantErr"])


def _b64(text: str) -> bytes:
    return base64.b64decode(text, validate=True)


def _load_cases(kind: str) -> list[Case]:
    folder = VECTORS / kind
    return [
        Case(path.relative_to(VECTORS).as_posix(), json.loads(path.read_text(encoding="utf-8")))
        for path in sorted(folder.rglob("*.json"))
    ]


INCLUSION_CASES = _load_cases("inclusion")
CONSISTENCY_CASES = _load_cases("consistency")
LEAVES_JSON = json.loads((VECTORS / "leaves.json").read_text(encoding="utf-8"))
LEAVES = [bytes.fromhex(h) for h in LEAVES_JSON["leaves_hex"]]
ROOTS = [bytes.fromhex(h) for h in LEAVES_JSON["root_by_size_hex"]]


# --------------------------------------------------------------------------- vectors


def _count_json_files(folder: Path) -> int:
    # Counted independently of _load_cases, so a loader bug cannot hide missing cases.
    return sum(name.endswith(".json") for _, _, names in os.walk(folder) for name in names)


@pytest.mark.parametrize(("kind", "cases"),
                         [("inclusion", INCLUSION_CASES), ("consistency", CONSISTENCY_CASES)])
def test_every_vector_file_is_a_case(kind: str, cases: list[Case]) -> None:
    total, valid = EXPECTED_CASES[kind]
    assert len(cases) == _count_json_files(VECTORS / kind) == total
    assert sum(not case.want_err for case in cases) == valid
    if SHARED_VECTORS.is_dir():
        assert _count_json_files(SHARED_VECTORS / kind) == total


@pytest.mark.parametrize("case", INCLUSION_CASES, ids=lambda case: case.path)
def test_inclusion_vector(case: Case) -> None:
    d = case.data
    ok = verify_inclusion(_b64(d["leafHash"]), d["leafIdx"], d["treeSize"], case.proof,
                          _b64(d["root"]))
    assert ok is (not case.want_err), d["desc"]


@pytest.mark.parametrize("case", CONSISTENCY_CASES, ids=lambda case: case.path)
def test_consistency_vector(case: Case) -> None:
    d = case.data
    ok = verify_consistency(d["size1"], d["size2"], _b64(d["root1"]), _b64(d["root2"]),
                            case.proof)
    assert ok is (not case.want_err), d["desc"]


def test_roots_of_leaves_json() -> None:
    assert len(LEAVES) == 8 and len(ROOTS) == 9
    assert ROOTS[0] == EMPTY_ROOT == hashlib.sha256(b"").digest()
    frontier = CompactRange()
    for size, expected in enumerate(ROOTS):
        assert root(LEAVES[:size]) == expected
        assert root_from_hashes(leaf_hashes(LEAVES[:size])) == expected
        assert frontier.root() == expected
        if size < len(LEAVES):
            frontier.append(leaf_hash(LEAVES[size]))


def test_generators_reproduce_the_vector_proofs() -> None:
    inclusion_checked = 0
    for case in INCLUSION_CASES:
        d = case.data
        index, size = d["leafIdx"], d["treeSize"]
        if case.want_err or not (0 <= index < size <= len(LEAVES)):
            continue
        if _b64(d["root"]) != ROOTS[size] or _b64(d["leafHash"]) != leaf_hash(LEAVES[index]):
            continue  # not a tree built from leaves.json
        assert inclusion_proof(LEAVES, index, size) == case.proof, case.path
        inclusion_checked += 1
    consistency_checked = 0
    for case in CONSISTENCY_CASES:
        d = case.data
        size1, size2 = d["size1"], d["size2"]
        if case.want_err or not (0 < size1 <= size2 <= len(LEAVES)):
            continue
        if (_b64(d["root1"]), _b64(d["root2"])) != (ROOTS[size1], ROOTS[size2]):
            continue
        assert consistency_proof(LEAVES, size1, size2) == case.proof, case.path
        consistency_checked += 1
    # inclusion/0..4 and consistency/0..4 happy paths; the rest use made-up roots.
    assert (inclusion_checked, consistency_checked) == (5, 5)


def _tree_files(folder: Path) -> dict[str, bytes]:
    return {
        path.relative_to(folder).as_posix(): path.read_bytes()
        for path in folder.rglob("*")
        if path.is_file()
    }


def test_in_repo_vectors_are_a_byte_identical_copy() -> None:
    if not SHARED_VECTORS.is_dir():
        pytest.skip(f"no shared vectors at {SHARED_VECTORS}")
    shared, copy = _tree_files(SHARED_VECTORS), _tree_files(VECTORS)
    assert sorted(copy) == sorted(shared)
    assert {"LICENSE", "SOURCES.md", "leaves.json"} <= set(copy)
    assert [name for name in shared if shared[name] != copy[name]] == []


# --------------------------------------------------------------------------- RFC reference model
# Straight transcriptions of the recursive definitions in RFC 9162 §2.1, for small trees.


def _k(n: int) -> int:
    k = 1
    while k * 2 < n:
        k *= 2
    return k


def _mth(d: list[bytes]) -> bytes:
    if not d:
        return hashlib.sha256(b"").digest()
    if len(d) == 1:
        return hashlib.sha256(b"\x00" + d[0]).digest()
    k = _k(len(d))
    return hashlib.sha256(b"\x01" + _mth(d[:k]) + _mth(d[k:])).digest()


def _path(m: int, d: list[bytes]) -> list[bytes]:
    if len(d) == 1:
        return []
    k = _k(len(d))
    if m < k:
        return [*_path(m, d[:k]), _mth(d[k:])]
    return [*_path(m - k, d[k:]), _mth(d[:k])]


def _subproof(m: int, d: list[bytes], b: bool) -> list[bytes]:
    if m == len(d):
        return [] if b else [_mth(d)]
    k = _k(len(d))
    if m <= k:
        return [*_subproof(m, d[:k], b), _mth(d[k:])]
    return [*_subproof(m - k, d[k:], False), _mth(d[:k])]


def test_matches_the_rfc_definitions_exhaustively_for_small_trees() -> None:
    data = [i.to_bytes(2, "big") * (i % 3) for i in range(34)]  # includes empty leaves
    for n in range(len(data) + 1):
        d = data[:n]
        assert root(d) == _mth(d)
        for m in range(n):
            assert inclusion_proof(data, m, n) == _path(m, d)
        for m in range(1, n + 1):
            assert consistency_proof(data, m, n) == _subproof(m, d, True)


# --------------------------------------------------------------------------- properties

_leaves = st.lists(st.binary(max_size=12), min_size=1, max_size=70, unique=True)


def _flip_bit(proof: list[bytes], item: int, bit: int) -> list[bytes]:
    tampered = list(proof)
    target = bytearray(tampered[item % len(tampered)])
    target[(bit // 8) % len(target)] ^= 1 << (bit % 8)
    tampered[item % len(tampered)] = bytes(target)
    return tampered


@settings(max_examples=150, deadline=None)
@given(leaves=_leaves, data=st.data())
def test_inclusion_proofs_verify_and_tampering_fails(
    leaves: list[bytes], data: st.DataObject
) -> None:
    hashes = leaf_hashes(leaves)
    size = data.draw(st.integers(1, len(leaves)), label="size")
    index = data.draw(st.integers(0, size - 1), label="index")
    tree_root = root_from_hashes(hashes[:size])
    proof = inclusion_proof_from_hashes(hashes, index, size)
    assert proof == inclusion_proof(leaves, index, size)
    assert verify_inclusion(hashes[index], index, size, proof, tree_root)

    if proof:
        item, bit = data.draw(st.integers(0, 10**6)), data.draw(st.integers(0, 255))
        assert not verify_inclusion(hashes[index], index, size, _flip_bit(proof, item, bit),
                                    tree_root)
        assert not verify_inclusion(hashes[index], index, size, proof[:-1], tree_root)
        assert not verify_inclusion(hashes[index], index, size, [*proof, proof[-1]], tree_root)
    if size > 1:
        other = data.draw(st.integers(0, size - 1).filter(lambda i: i != index), label="other")
        assert not verify_inclusion(hashes[index], other, size, proof, tree_root)
        assert not verify_inclusion(hashes[other], index, size, proof, tree_root)
    # A different size, checked against that size's real root.
    other_size = data.draw(st.integers(index + 1, len(leaves)), label="other_size")
    if other_size != size:
        assert not verify_inclusion(hashes[index], index, other_size, proof,
                                    root_from_hashes(hashes[:other_size]))
    # The reference verifier's probes: doubled / halved size against the same root. (Other
    # sizes with the same path shape do verify against the old root: only a signed checkpoint
    # binds a size to its root.)
    for wrong_size in (size * 2, size // 2):
        assert not verify_inclusion(hashes[index], index, wrong_size, proof, tree_root)


@settings(max_examples=150, deadline=None)
@given(leaves=_leaves, data=st.data())
def test_consistency_proofs_verify_and_tampering_fails(
    leaves: list[bytes], data: st.DataObject
) -> None:
    hashes = leaf_hashes(leaves)
    new_size = data.draw(st.integers(1, len(leaves)), label="new_size")
    old_size = data.draw(st.integers(1, new_size), label="old_size")
    roots = {n: root_from_hashes(hashes[:n]) for n in range(len(leaves) + 1)}
    proof = consistency_proof_from_hashes(hashes, old_size, new_size)
    assert proof == consistency_proof(leaves, old_size, new_size)
    assert verify_consistency(old_size, new_size, roots[old_size], roots[new_size], proof)

    if proof:
        item, bit = data.draw(st.integers(0, 10**6)), data.draw(st.integers(0, 255))
        assert not verify_consistency(old_size, new_size, roots[old_size], roots[new_size],
                                      _flip_bit(proof, item, bit))
        assert not verify_consistency(old_size, new_size, roots[old_size], roots[new_size],
                                      proof[:-1])
    else:
        assert old_size == new_size
    if old_size != new_size:
        assert not verify_consistency(old_size, new_size, roots[new_size], roots[old_size], proof)
    # Other sizes, checked against their real roots.
    other_old = data.draw(st.integers(0, new_size), label="other_old")
    if other_old != old_size:
        assert not verify_consistency(other_old, new_size, roots[other_old], roots[new_size],
                                      proof)
    other_new = data.draw(st.integers(0, len(leaves)), label="other_new")
    if other_new != new_size:
        assert not verify_consistency(old_size, other_new, roots[old_size], roots[other_new],
                                      proof)
    # The reference verifier's probes against the original roots.
    for wrong_old in {old_size - 1, old_size + 1, old_size ^ 2} - {old_size}:
        assert not verify_consistency(wrong_old, new_size, roots[old_size], roots[new_size],
                                      proof)
    for wrong_new in {new_size * 2, new_size // 2} - {new_size}:
        assert not verify_consistency(old_size, wrong_new, roots[old_size], roots[new_size],
                                      proof)


@settings(max_examples=100, deadline=None)
@given(
    batches=st.lists(st.tuples(st.integers(0, 40), st.booleans()), max_size=8),
    round_trip=st.sampled_from(["hashes", "bytes", "none"]),
)
def test_compact_range_tracks_root_through_batches_and_storage(
    batches: list[tuple[int, bool]], round_trip: str
) -> None:
    total = sum(count for count, _ in batches)
    hashes = leaf_hashes(i.to_bytes(4, "big") for i in range(total))
    frontier = CompactRange()
    done = 0
    for count, one_by_one in batches:
        batch = hashes[done : done + count]
        if one_by_one:
            for h in batch:
                frontier.append(h)
        else:
            frontier.extend(batch)
        done += count
        assert frontier.size == done
        assert frontier.root() == root_from_hashes(hashes[:done])
        assert len(frontier.hashes()) == done.bit_count()
        # Store and reload, then keep appending to the reloaded frontier.
        if round_trip == "hashes":
            reloaded = CompactRange.from_hashes(frontier.size, frontier.hashes())
        elif round_trip == "bytes":
            reloaded = CompactRange.from_bytes(frontier.to_bytes())
        else:
            reloaded = frontier.copy()
        assert reloaded == frontier
        assert reloaded.root() == frontier.root()
        frontier = reloaded
    assert frontier == CompactRange.from_leaf_hashes(hashes)


def test_compact_range_over_a_larger_log() -> None:
    hashes = leaf_hashes(i.to_bytes(4, "big") for i in range(5000))
    frontier = CompactRange()
    for start in range(0, 5000, 777):
        frontier.extend(hashes[start : start + 777])
        assert frontier.root() == root_from_hashes(hashes[: frontier.size])
    assert len(frontier.to_bytes()) == 8 + 32 * (5000).bit_count()


# --------------------------------------------------------------------------- edge cases

_H = leaf_hash(b"x")
_ROOT3 = root([b"a", b"b", b"c"])


@pytest.mark.parametrize(
    "args",
    [
        (_H, 0, 0, [], EMPTY_ROOT),  # empty tree holds nothing
        (_H, -1, 1, [], _H),
        (_H, 1, 1, [], _H),
        (_H, True, 2, [_H], _ROOT3),  # bools are not indices
        (_H, 0, 1, None, _H),
        (_H, 0, 1, "", _H),
        (_H, 0, 1, b"", _H),
        (_H, 0, 1, [], _H[:31]),
        (_H[:31], 0, 1, [], _H[:31]),
        (b"", 0, 1, [], b""),
        ("x" * 32, 0, 1, [], "x" * 32),
        (_H, "0", 1, [], _H),
        (_H, 0, 1.0, [], _H),
        (_H, 0, 3, [_H, 12345], _ROOT3),
        (_H, 0, 2**64, [_H] * 64, _ROOT3),
        (_H, 2**64 - 1, 1, [], _H),
        (_H, 0, 1, [_H] * 10_000, _H),
    ],
)
def test_verify_inclusion_refuses_garbage(args: tuple[Any, ...]) -> None:
    assert verify_inclusion(*args) is False


def test_verify_inclusion_single_leaf_tree() -> None:
    assert verify_inclusion(_H, 0, 1, [], _H)
    assert verify_inclusion(_H, 0, 1, (), bytearray(_H))


@pytest.mark.parametrize(
    "args",
    [
        (2, 1, _H, _H, []),
        (-1, 1, _H, _H, []),
        (0, 0, b"", b"", []),  # the empty tree has exactly one root
        (0, 0, EMPTY_ROOT, EMPTY_ROOT, [EMPTY_ROOT]),
        (0, 3, EMPTY_ROOT, _ROOT3, []),  # no proof from the empty tree
        (0, 3, EMPTY_ROOT, _ROOT3, [_H]),
        (1, 1, _H, _H, [_H]),
        (1, 1, _H, "x", []),
        (1, 1, "x", "x", []),
        (1, 3, _H, _ROOT3, []),
        (1, 3, _H, _ROOT3, None),
        (1, 3, _H, _ROOT3, "ab"),
        (1, 3, _H, _ROOT3, [_H, None]),
        (1, 3, _H[:5], _ROOT3, [_H, _H]),
        (1.0, 3, _H, _ROOT3, [_H, _H]),
        (False, True, _H, _H, []),
        (1, 2**64, _H, _ROOT3, [_H] * 64),
        (3, 4, _ROOT3, _H, [_H] * 10_000),
    ],
)
def test_verify_consistency_refuses_garbage(args: tuple[Any, ...]) -> None:
    assert verify_consistency(*args) is False


def test_verify_consistency_trivial_cases() -> None:
    assert verify_consistency(0, 0, EMPTY_ROOT, EMPTY_ROOT, [])
    assert verify_consistency(3, 3, _ROOT3, _ROOT3, [])
    assert verify_consistency(3, 3, _ROOT3, _ROOT3, ())


def test_generators_refuse_impossible_requests() -> None:
    hashes = leaf_hashes([b"a", b"b", b"c"])
    for index, size in [(-1, None), (3, None), (0, 0), (1, 1), (0, 4)]:
        with pytest.raises(ValueError, match=r"index|tree_size"):
            inclusion_proof_from_hashes(hashes, index, size)
    for old, new in [(0, None), (0, 0), (4, None), (3, 2), (1, 4), (-1, 2)]:
        with pytest.raises(ValueError, match=r"old_size|new_size"):
            consistency_proof_from_hashes(hashes, old, new)
    with pytest.raises(ValueError, match="32 bytes"):
        root_from_hashes([*hashes, b"short"])
    with pytest.raises(ValueError, match="32 bytes"):
        inclusion_proof_from_hashes([hashes[0], b"\x00" * 33], 0)
    assert consistency_proof_from_hashes(hashes, 3) == []
    assert inclusion_proof_from_hashes(hashes[:1], 0) == []


def test_compact_range_refuses_malformed_state() -> None:
    frontier = CompactRange.from_leaf_hashes(leaf_hashes([b"a", b"b", b"c"]))
    assert frontier.size == 3 and frontier.root() == _ROOT3
    with pytest.raises(ValueError, match="frontier hashes"):
        CompactRange.from_hashes(4, frontier.hashes())
    with pytest.raises(ValueError, match="32 bytes"):
        CompactRange.from_hashes(1, [b"short"])
    with pytest.raises(ValueError, match="non-negative"):
        CompactRange.from_hashes(-1, [])
    with pytest.raises(ValueError, match="length"):
        CompactRange.from_bytes(frontier.to_bytes()[:-1])
    with pytest.raises(ValueError, match="32 bytes"):
        frontier.append(b"short")
    with pytest.raises(ValueError, match="32 bytes"):
        frontier.extend([_H, b"short"])
    assert frontier.size == 3  # a refused batch leaves the frontier untouched
    assert CompactRange.from_bytes(CompactRange().to_bytes()).root() == EMPTY_ROOT
    assert CompactRange() != frontier and CompactRange() == CompactRange()
