"""LRA ListOps."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from freqssm.data.base import Dataset, Meta, Source
from freqssm.data.config import DataConfig
from freqssm.data.lra.common import (
    _LRA_RELEASE,
    PAD_ID,
    SPLITS,
    UNK_ID,
    LraOptions,
    TokenSource,
    _parse_label,
    _require,
    _seq_len,
    _subset,
    lra_options,
)
from freqssm.errors import DataError
from freqssm.settings import to_dict

LISTOPS_EOS = 2
LISTOPS_VOCAB: tuple[str, ...] = (
    "<pad>",
    "<unk>",
    "<eos>",
    *(str(d) for d in range(10)),
    "[MIN",
    "[MAX",
    "[MED",
    "[SM",
    "X",
)


@dataclasses.dataclass(frozen=True)
class Options(LraOptions):
    """ListOps' ``data.*`` keys."""

    seq_len: int = 2048
    """L: tokens kept per expression (`<eos>` included), padded to L"""


DEFAULTS: dict[str, Any] = to_dict(Options())
_ENCODE_CHUNK = 2048  # ListOps rows tokenized per vectorised call (bounds temporaries)


def _token_key(word: str) -> int:
    return sum(b << (8 * j) for j, b in enumerate(word.encode()))


_ASCII_SPACE = np.zeros(256, dtype=bool)
_ASCII_SPACE[list(b" \t\n\r\x0b\x0c")] = True
_BYTE_MASK = np.array([0, 0xFF, 0xFFFF, 0xFFFFFF, 0xFFFFFFFF], dtype=np.uint32)


def _perfect_hash_table() -> tuple[int, np.ndarray, np.ndarray]:
    """Smallest modulus P mapping the ListOps token keys to distinct slots, and the table."""
    keys = {_token_key(w): i for i, w in enumerate(LISTOPS_VOCAB) if i >= 3}
    P = next(p for p in range(len(keys), 1 << 16) if len({k % p for k in keys}) == len(keys))
    table_key = np.full(P, 0xFFFFFFFF, dtype=np.uint32)  # never a packed token of <= 4 bytes
    table_id = np.full(P, UNK_ID, dtype=np.uint8)
    for k, i in keys.items():
        table_key[k % P], table_id[k % P] = k, i
    return P, table_key, table_id


_HASH_P, _HASH_KEY, _HASH_ID = _perfect_hash_table()


def encode_listops(sources: Sequence[str], seq_len: int) -> tuple[np.ndarray, np.ndarray]:
    """Tokenize and encode ListOps expressions with :data:`LISTOPS_VOCAB`, vectorised.

    Same result as mapping ``freqssm.datagen.listops.tokenize`` through the vocabulary (unknown
    tokens -> ``<unk>``; whitespace means ASCII whitespace), keeping at most ``seq_len - 1``
    tokens and appending ``<eos>``.

    Returns:
      tokens: flat uint8 ids, sequences concatenated.
      offsets: (len(sources) + 1,) int64.
    """
    n = len(sources)
    if n == 0:
        return np.zeros(0, np.uint8), np.zeros(1, np.int64)
    blob = "\n".join(sources).encode("utf-8").translate(bytes.maketrans(b"]", b"X"), b"()")
    arr = np.frombuffer(blob, dtype=np.uint8)
    space = _ASCII_SPACE[arr]
    edge = np.diff(np.concatenate([[0], (~space).astype(np.int8), [0]]).astype(np.int8))
    starts = np.flatnonzero(edge == 1)  # first byte of each token
    tok_len = np.flatnonzero(edge == -1) - starts  # ends are one past the last byte
    # the (at most 4) bytes of each token as one little-endian uint32 key, looked up in a table
    padded = np.concatenate([arr, np.zeros(4, np.uint8)])
    words = np.ndarray((len(arr),), dtype="<u4", buffer=padded, strides=(1,))
    key = words[starts] & _BYTE_MASK[np.minimum(tok_len, 4)]
    slot = key % np.uint32(_HASH_P)
    found = (_HASH_KEY[slot] == key) & (tok_len <= 4)
    ids = np.where(found, _HASH_ID[slot], UNK_ID).astype(np.uint8)
    newlines = np.flatnonzero(arr == ord("\n"))
    bounds = np.concatenate([[0], np.searchsorted(starts, newlines), [len(starts)]])
    counts = np.diff(bounds)  # tokens per source
    line = np.repeat(np.arange(n), counts)
    within = np.arange(len(starts)) - bounds[:-1][line]
    keep = within < seq_len - 1
    out_len = np.minimum(counts, seq_len - 1) + 1
    offsets = np.concatenate([[0], np.cumsum(out_len)]).astype(np.int64)
    tokens = np.full(int(offsets[-1]), LISTOPS_EOS, dtype=np.uint8)
    tokens[offsets[line[keep]] + within[keep]] = ids[keep]
    return tokens, offsets


def _listops_missing(root: Path) -> str:
    return (
        f"expected {root}/listops-1000/basic_{{train,val,test}}.tsv (header 'Source<TAB>Target'); "
        f"create it with `python -m freqssm.datagen.listops --out {root}` or copy "
        f"lra_release/lra_release/listops-1000 to {root}/ from {_LRA_RELEASE}"
    )


def iter_listops_rows(path: Path) -> Iterator[tuple[int, str, int]]:
    """Stream the rows of an official ListOps TSV as ``(line number, expression, label)``.

    Checks the header, two columns per row and labels in 0..9; blank lines are skipped.
    """
    try:
        with open(path, encoding="utf-8", newline="") as f:
            header = f.readline()
            if not header.strip():
                raise DataError(
                    f"{path} line 1: empty file, expected the header 'Source<TAB>Target'"
                )
            if header.rstrip("\r\n").split("\t") != ["Source", "Target"]:
                raise DataError(f"{path} line 1: expected the header 'Source<TAB>Target'")
            n_rows = 0
            for lineno, raw in enumerate(f, start=2):
                row = raw.rstrip("\r\n")
                if not row.strip():
                    continue
                fields = row.split("\t")
                if len(fields) != 2:
                    raise DataError(
                        f"{path} line {lineno}: expected 2 tab-separated columns, got {len(fields)}"
                    )
                n_rows += 1
                yield lineno, fields[0], _parse_label(fields[1], 10, f"{path} line {lineno}")
    except (OSError, UnicodeDecodeError) as e:
        raise DataError(f"cannot read {path}: {e}") from e
    if n_rows == 0:
        raise DataError(f"{path}: no examples after the header")


def _read_listops_split(path: Path, seq_len: int, keep: np.ndarray | None) -> TokenSource:
    """Encode the rows ``keep`` (sorted row numbers; None = all) of one ListOps TSV, in chunks."""
    chunk: list[str] = []
    parts: list[tuple[np.ndarray, np.ndarray]] = []
    labels: list[int] = []
    want = None if keep is None else set(keep.tolist())
    for row, (_, source, label) in enumerate(iter_listops_rows(path)):
        if want is not None and row not in want:
            continue
        chunk.append(source)
        labels.append(label)
        if len(chunk) == _ENCODE_CHUNK:
            parts.append(encode_listops(chunk, seq_len))
            chunk = []
    if chunk:
        parts.append(encode_listops(chunk, seq_len))
    tokens = np.concatenate([t for t, _ in parts])
    ends = np.cumsum([t.size for t, _ in parts])
    offsets = np.concatenate(
        [[0]] + [o[1:] + (ends[i - 1] if i else 0) for i, (_, o) in enumerate(parts)]
    ).astype(np.int64)
    return TokenSource(tokens, offsets, np.asarray(labels, dtype=np.int32), seq_len)


def build(cfg: DataConfig) -> Dataset:
    """LRA ListOps from ``root/listops-1000``; see the module docstring for keys and layout."""
    opts = lra_options(cfg, DEFAULTS)
    root, k, seed = opts["root"], opts["max_examples"], int(opts["split_seed"])
    seq_len = _seq_len(opts["seq_len"], DEFAULTS["seq_len"])
    folder = root / "listops-1000"
    _require(folder, "ListOps data not found", _listops_missing(root), is_dir=True)
    splits: dict[str, Source] = {}
    for stream, split in enumerate(SPLITS):
        path = folder / f"basic_{split}.tsv"
        _require(path, "ListOps split missing", _listops_missing(root))
        keep = None
        if k is not None:  # a first pass counts (and checks) the rows
            keep = _subset(sum(1 for _ in iter_listops_rows(path)), k, seed, stream)
        splits[split] = _read_listops_split(path, seq_len, keep)
    meta = Meta(
        seq_len=seq_len,
        input_kind="tokens",
        in_features=len(LISTOPS_VOCAB),
        output_kind="classification",
        n_outputs=10,
        pad_id=PAD_ID,
        extra={"vocab": list(LISTOPS_VOCAB), "eos_id": LISTOPS_EOS, "unk_id": UNK_ID},
    )
    return Dataset(train=splits["train"], val=splits["val"], test=splits["test"], meta=meta)
