"""RFC 9162 (RFC 6962) Merkle tree: roots, inclusion and consistency proofs, verification.

Hashing follows RFC 9162 §2.1 exactly, with SHA-256:

* empty tree:  ``MTH({}) = SHA-256()``
* leaf:        ``SHA-256(0x00 || leaf)``
* inner node:  ``SHA-256(0x01 || left || right)``, where a tree of ``n > 1`` leaves is split at
  ``k``, the largest power of two smaller than ``n``.

Two layers of API:

* **Hash level** (what the audit log uses; inputs are 32-byte leaf *hashes*):
  :func:`root_from_hashes`, :func:`inclusion_proof_from_hashes`,
  :func:`consistency_proof_from_hashes`, and :class:`CompactRange`, an incremental frontier
  that appends leaf hashes in amortised O(1) hashing and stores in ``O(log n)`` hashes.
* **Leaf level** (inputs are the leaf *bytes*): :func:`root`, :func:`inclusion_proof`,
  :func:`consistency_proof` — thin wrappers that hash the leaves and call the hash level.

Verification (:func:`verify_inclusion`, :func:`verify_consistency`) implements RFC 9162
§2.1.3.2 and §2.1.4.2 and never raises: malformed input yields ``False``.

A note on what a proof binds: an inclusion or consistency proof ties the leaf / old root to
the root it is checked against, but the tree *size* is only bound through the shape of the
path. Several sizes can share a path shape, so the (size, root) pair must come from a signed
checkpoint, never from the proof's sender alone.

Trees are computed level by level (pair up the nodes of a level, promote a trailing odd node
unchanged): this yields the same left-balanced tree as the RFC's recursive split, without
recursion and with one ``hashlib`` call per inner node.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence

__all__ = [
    "EMPTY_ROOT",
    "HASH_SIZE",
    "CompactRange",
    "consistency_proof",
    "consistency_proof_from_hashes",
    "inclusion_proof",
    "inclusion_proof_from_hashes",
    "leaf_hash",
    "leaf_hashes",
    "node_hash",
    "root",
    "root_from_hashes",
    "verify_consistency",
    "verify_inclusion",
]

HASH_SIZE = 32
"""Length in bytes of every hash (SHA-256)."""

EMPTY_ROOT = hashlib.sha256(b"").digest()
"""Root of the empty tree, ``SHA-256()`` (RFC 9162 §2.1.1)."""

_sha256 = hashlib.sha256
_LEAF_PREFIX = b"\x00"
_NODE_PREFIX = b"\x01"


# --------------------------------------------------------------------------- hashing


def leaf_hash(leaf: bytes) -> bytes:
    """Return the RFC 9162 leaf hash ``SHA-256(0x00 || leaf)`` of one leaf input."""
    return _sha256(_LEAF_PREFIX + leaf).digest()


def leaf_hashes(leaves: Iterable[bytes]) -> list[bytes]:
    """Return the leaf hashes of many leaf inputs (a bulk :func:`leaf_hash`)."""
    sha256, prefix = _sha256, _LEAF_PREFIX
    return [sha256(prefix + leaf).digest() for leaf in leaves]


def node_hash(left: bytes, right: bytes) -> bytes:
    """Return the RFC 9162 interior node hash ``SHA-256(0x01 || left || right)``."""
    return _sha256(_NODE_PREFIX + left + right).digest()


def _require_digests(hashes: Sequence[bytes]) -> None:
    # A hash of the wrong length would silently give a wrong root; checking the set of
    # lengths runs at C speed (~20 ms for a million hashes).
    lengths = set(map(len, hashes))
    if lengths - {HASH_SIZE}:
        raise ValueError(f"leaf hashes must be {HASH_SIZE} bytes, got lengths {sorted(lengths)}")


def _root(level: Sequence[bytes]) -> bytes:
    """Root of a non-empty list of validated hashes, level by level."""
    sha256, prefix = _sha256, _NODE_PREFIX
    n = len(level)
    while n > 1:
        pairs = iter(level)
        # zip(pairs, pairs) walks the level two at a time (strict=False drops a trailing odd
        # node, which is then promoted unchanged).
        upper = [
            sha256(prefix + left + right).digest()
            for left, right in zip(pairs, pairs, strict=False)
        ]
        if n & 1:
            upper.append(level[-1])
        level, n = upper, len(upper)
    return bytes(level[0])


def _largest_power_of_two_below(n: int) -> int:
    """``k`` of RFC 9162 §2.1.1: the largest power of two strictly smaller than ``n`` (n > 1)."""
    return 1 << ((n - 1).bit_length() - 1)


# --------------------------------------------------------------------------- hash level


def root_from_hashes(hashes: Sequence[bytes]) -> bytes:
    """Return the Merkle tree hash (MTH) of a tree whose leaf hashes are ``hashes``.

    ``hashes`` are 32-byte leaf hashes (see :func:`leaf_hash`), in log order. The empty
    sequence gives :data:`EMPTY_ROOT`. Raises ``ValueError`` if a hash is not 32 bytes.
    """
    if not hashes:
        return EMPTY_ROOT
    _require_digests(hashes)
    return _root(hashes)


def _inclusion_ranges(index: int, size: int) -> list[tuple[int, int]]:
    """Leaf ranges whose subtree roots form PATH(index, D[size]), leaf-most first."""
    ranges: list[tuple[int, int]] = []
    lo, hi = 0, size
    # Walk the RFC recursion top-down; each step contributes the sibling subtree's range.
    while hi - lo > 1:
        mid = lo + _largest_power_of_two_below(hi - lo)
        if index < mid:
            ranges.append((mid, hi))
            hi = mid
        else:
            ranges.append((lo, mid))
            lo = mid
    ranges.reverse()  # the RFC lists the deepest sibling first
    return ranges


def _consistency_ranges(old_size: int, new_size: int) -> list[tuple[int, int]]:
    """Leaf ranges whose subtree roots form PROOF(old_size, D[new_size]), deepest first."""
    ranges: list[tuple[int, int]] = []
    lo, hi, m = 0, new_size, old_size
    complete = True  # the RFC's flag b: is D[lo:lo+m] a subtree of the old tree we already know?
    while m != hi - lo:
        mid = lo + _largest_power_of_two_below(hi - lo)
        if m <= mid - lo:
            ranges.append((mid, hi))  # SUBPROOF(m, D[lo:mid], b) : MTH(D[mid:hi])
            hi = mid
        else:
            ranges.append((lo, mid))  # SUBPROOF(m - k, D[mid:hi], false) : MTH(D[lo:mid])
            m -= mid - lo
            lo = mid
            complete = False
    if not complete:
        ranges.append((lo, hi))  # SUBPROOF(m, D[m], false) = {MTH(D[m])}
    ranges.reverse()
    return ranges


def _resolve_size(available: int, size: int | None, name: str) -> int:
    if size is None:
        return available
    if not 0 <= size <= available:
        raise ValueError(f"{name}={size} is outside 0..{available}")
    return size


def inclusion_proof_from_hashes(
    hashes: Sequence[bytes], index: int, tree_size: int | None = None
) -> list[bytes]:
    """Return the inclusion proof (RFC 9162 §2.1.3.1 PATH) for leaf ``index``.

    The tree is made of the first ``tree_size`` of ``hashes`` (default: all of them), so a
    proof against an older checkpoint can be produced from the current list. Only the subtree
    roots the proof needs are computed. Raises ``ValueError`` unless
    ``0 <= index < tree_size <= len(hashes)``.
    """
    size = _resolve_size(len(hashes), tree_size, "tree_size")
    if not 0 <= index < size:
        raise ValueError(f"index {index} is outside a tree of {size} leaves")
    _require_digests(hashes[:size])
    return [_root(hashes[lo:hi]) for lo, hi in _inclusion_ranges(index, size)]


def consistency_proof_from_hashes(
    hashes: Sequence[bytes], old_size: int, new_size: int | None = None
) -> list[bytes]:
    """Return the consistency proof (RFC 9162 §2.1.4.1 PROOF) from ``old_size`` to ``new_size``.

    The new tree is made of the first ``new_size`` of ``hashes`` (default: all of them). The
    proof for ``old_size == new_size`` is empty. Raises ``ValueError`` unless
    ``0 < old_size <= new_size <= len(hashes)``: the RFC defines no proof from the empty tree,
    which every tree trivially extends.
    """
    size = _resolve_size(len(hashes), new_size, "new_size")
    if not 0 < old_size <= size:
        raise ValueError(f"old_size must be in 1..{size}, got {old_size}")
    _require_digests(hashes[:size])
    return [_root(hashes[lo:hi]) for lo, hi in _consistency_ranges(old_size, size)]


# --------------------------------------------------------------------------- leaf level


def root(leaves: Sequence[bytes]) -> bytes:
    """Return the Merkle tree hash of the leaf inputs ``leaves`` (RFC 9162 §2.1.1)."""
    return root_from_hashes(leaf_hashes(leaves))


def inclusion_proof(
    leaves: Sequence[bytes], index: int, tree_size: int | None = None
) -> list[bytes]:
    """Return the inclusion proof of ``leaves[index]`` in the tree of the first ``tree_size``
    leaf inputs (default: all). See :func:`inclusion_proof_from_hashes`."""
    size = _resolve_size(len(leaves), tree_size, "tree_size")
    return inclusion_proof_from_hashes(leaf_hashes(leaves[:size]), index)


def consistency_proof(
    leaves: Sequence[bytes], old_size: int, new_size: int | None = None
) -> list[bytes]:
    """Return the consistency proof between the trees of the first ``old_size`` and the first
    ``new_size`` leaf inputs (default: all). See :func:`consistency_proof_from_hashes`."""
    size = _resolve_size(len(leaves), new_size, "new_size")
    return consistency_proof_from_hashes(leaf_hashes(leaves[:size]), old_size)


# --------------------------------------------------------------------------- verification


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_digest(value: object) -> bool:
    return isinstance(value, bytes | bytearray) and len(value) == HASH_SIZE


def _proof_list(proof: object) -> list[bytes] | None:
    """The proof as a list, or None if it is not a sequence of 32-byte hashes."""
    if not isinstance(proof, list | tuple):
        return None
    if not all(_is_digest(item) for item in proof):
        return None
    return list(proof)


def verify_inclusion(
    leaf_hash: bytes, index: int, tree_size: int, proof: Sequence[bytes], root: bytes
) -> bool:
    """Check an inclusion proof (RFC 9162 §2.1.3.2).

    ``leaf_hash`` is the 32-byte leaf hash (not the leaf input), ``index`` its 0-based
    position, ``tree_size`` and ``root`` the checkpoint the proof is against, ``proof`` the
    audit path as produced by :func:`inclusion_proof`. Returns ``True`` only if the path
    leads from the leaf to ``root``; any malformed input (index outside the tree, a hash that
    is not 32 bytes, a proof of the wrong length, wrong types) returns ``False``.
    """
    path = _proof_list(proof)
    if (
        path is None
        or not (_is_int(index) and _is_int(tree_size))
        or not 0 <= index < tree_size
        or not (_is_digest(leaf_hash) and _is_digest(root))
    ):
        return False
    sha256, prefix = _sha256, _NODE_PREFIX
    fn, sn = index, tree_size - 1  # our node and the last node, at the current level
    r = bytes(leaf_hash)
    for p in path:
        if sn == 0:  # already at the root: the proof is too long
            return False
        if fn & 1 or fn == sn:
            r = sha256(prefix + p + r).digest()
            if not fn & 1:
                # fn is the last node of its level: climb the levels where it has no sibling.
                while fn and not fn & 1:
                    fn >>= 1
                    sn >>= 1
        else:
            r = sha256(prefix + r + p).digest()
        fn >>= 1
        sn >>= 1
    return sn == 0 and r == root  # sn != 0: the proof is too short


def verify_consistency(
    old_size: int, new_size: int, old_root: bytes, new_root: bytes, proof: Sequence[bytes]
) -> bool:
    """Check a consistency proof (RFC 9162 §2.1.4.2) between two checkpoints.

    Returns ``True`` only if the tree of ``new_size`` leaves with root ``new_root`` extends
    the tree of ``old_size`` leaves with root ``old_root``, as shown by ``proof`` (produced by
    :func:`consistency_proof`). Never raises; returns ``False`` for malformed input.

    Edge cases, matching the transparency-dev reference verifier and its test vectors:

    * ``old_size > new_size`` (or a negative size): ``False``.
    * ``old_size == new_size``: ``True`` iff ``proof`` is empty and the roots are equal
      bytes; for size 0 the root must also be :data:`EMPTY_ROOT`.
    * ``old_size == 0 < new_size``: ``False``. The RFC defines no proof from the empty tree
      (every tree extends it), so such a check is meaningless rather than successful.
    * otherwise the proof must be non-empty and made of 32-byte hashes.
    """
    if not (_is_int(old_size) and _is_int(new_size)) or not 0 <= old_size <= new_size:
        return False
    if not isinstance(proof, list | tuple):
        return False
    if old_size == new_size:
        if proof or not isinstance(old_root, bytes | bytearray) or old_root != new_root:
            return False
        return old_size > 0 or old_root == EMPTY_ROOT
    if old_size == 0:
        return False
    path = _proof_list(proof)
    if not path or not (_is_digest(old_root) and _is_digest(new_root)):
        return False

    sha256, prefix = _sha256, _NODE_PREFIX
    if old_size & (old_size - 1) == 0:
        # The old tree is a perfect subtree of the new one: its root is the proof's seed.
        path.insert(0, bytes(old_root))
    fn, sn = old_size - 1, new_size - 1
    while fn & 1:  # start from the level where the old tree's last subtree is a left child
        fn >>= 1
        sn >>= 1
    fr = sr = path[0]  # fr rebuilds the old root, sr the new one
    for c in path[1:]:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            fr = sha256(prefix + c + fr).digest()
            sr = sha256(prefix + c + sr).digest()
            if not fn & 1:
                while fn and not fn & 1:
                    fn >>= 1
                    sn >>= 1
        else:
            sr = sha256(prefix + sr + c).digest()  # a node to the right exists only in the new tree
        fn >>= 1
        sn >>= 1
    return sn == 0 and fr == old_root and sr == new_root


# --------------------------------------------------------------------------- incremental


class CompactRange:
    """Incremental Merkle tree over leaf hashes ``[0, size)``: the tree's right frontier.

    Holds one hash per set bit of ``size``: the roots of the perfect subtrees that the size
    decomposes into, largest (leftmost) first. Appending a leaf hash costs amortised one node
    hash; :meth:`root` costs ``popcount(size) - 1`` hashes. The state fits in a database row
    via :meth:`hashes` / :meth:`from_hashes` or :meth:`to_bytes` / :meth:`from_bytes`.
    """

    __slots__ = ("_nodes", "_size")

    def __init__(self) -> None:
        """Create the frontier of the empty tree."""
        self._size = 0
        self._nodes: list[bytes] = []

    @property
    def size(self) -> int:
        """Number of leaves appended so far."""
        return self._size

    def hashes(self) -> list[bytes]:
        """Return the frontier's subtree roots, largest first (``popcount(size)`` hashes)."""
        return list(self._nodes)

    @classmethod
    def from_hashes(cls, size: int, hashes: Sequence[bytes]) -> CompactRange:
        """Rebuild a frontier from ``size`` and the output of :meth:`hashes`.

        Raises ``ValueError`` if the number of hashes does not match ``size`` or a hash is not
        32 bytes.
        """
        if not _is_int(size) or size < 0:
            raise ValueError(f"size must be a non-negative integer, got {size!r}")
        if len(hashes) != size.bit_count():
            raise ValueError(f"a tree of {size} leaves needs {size.bit_count()} frontier hashes,"
                             f" got {len(hashes)}")
        if not all(_is_digest(h) for h in hashes):
            raise ValueError(f"every frontier hash must be {HASH_SIZE} bytes")
        frontier = cls()
        frontier._size = size
        frontier._nodes = [bytes(h) for h in hashes]
        return frontier

    def to_bytes(self) -> bytes:
        """Serialise as an 8-byte big-endian size followed by the frontier hashes."""
        return self._size.to_bytes(8, "big") + b"".join(self._nodes)

    @classmethod
    def from_bytes(cls, data: bytes) -> CompactRange:
        """Inverse of :meth:`to_bytes`. Raises ``ValueError`` on malformed data."""
        if len(data) < 8 or (len(data) - 8) % HASH_SIZE:
            raise ValueError("serialised frontier has a malformed length")
        size = int.from_bytes(data[:8], "big")
        body = data[8:]
        return cls.from_hashes(
            size, [body[i : i + HASH_SIZE] for i in range(0, len(body), HASH_SIZE)]
        )

    @classmethod
    def from_leaf_hashes(cls, hashes: Sequence[bytes]) -> CompactRange:
        """Return the frontier of the tree whose leaf hashes are ``hashes``."""
        frontier = cls()
        frontier.extend(hashes)
        return frontier

    def copy(self) -> CompactRange:
        """Return an independent copy."""
        return CompactRange.from_hashes(self._size, self._nodes)

    def _push(self, node: bytes, height: int) -> None:
        """Append the root of a perfect subtree of ``2**height`` leaves; size must be aligned."""
        nodes, sha256, prefix = self._nodes, _sha256, _NODE_PREFIX
        # The trailing one bits of size >> height are the equal-height subtrees to merge with.
        carry = self._size >> height
        while carry & 1:
            node = sha256(prefix + nodes.pop() + node).digest()
            carry >>= 1
        nodes.append(node)
        self._size += 1 << height

    def append(self, leaf_hash: bytes) -> None:
        """Append one 32-byte leaf hash. Raises ``ValueError`` if it is not 32 bytes."""
        if not _is_digest(leaf_hash):
            raise ValueError(f"a leaf hash must be {HASH_SIZE} bytes")
        self._push(bytes(leaf_hash), 0)

    def extend(self, hashes: Sequence[bytes]) -> None:
        """Append many 32-byte leaf hashes, in order.

        Works in aligned perfect-subtree chunks hashed level by level, so a batch costs about
        one ``hashlib`` call per leaf and ``O(log)`` Python steps beyond that.
        """
        if not hashes:
            return
        _require_digests(hashes)
        start, end = 0, len(hashes)
        while start < end:
            # The largest perfect subtree that fits in what is left and starts on a boundary
            # of its own width (trailing zeros of size) — that is where the RFC tree puts it.
            height = (end - start).bit_length() - 1
            if self._size:
                height = min(height, (self._size & -self._size).bit_length() - 1)
            width = 1 << height
            self._push(_root(hashes[start : start + width]), height)
            start += width

    def root(self) -> bytes:
        """Return the Merkle tree hash of the leaves appended so far."""
        nodes = self._nodes
        if not nodes:
            return EMPTY_ROOT
        sha256, prefix = _sha256, _NODE_PREFIX
        result = nodes[-1]
        # Smaller subtrees sit to the right, so fold from the smallest towards the largest.
        for node in reversed(nodes[:-1]):
            result = sha256(prefix + node + result).digest()
        return result

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, CompactRange):
            return NotImplemented
        return self._size == other._size and self._nodes == other._nodes

    def __repr__(self) -> str:
        return f"CompactRange(size={self._size}, root={self.root().hex()})"
