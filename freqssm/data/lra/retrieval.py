"""LRA Retrieval (AAN)."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import numpy as np

from freqssm.data.base import Batch, Dataset, Source
from freqssm.data.config import DataConfig
from freqssm.data.lra.common import (
    _LRA_RELEASE,
    SPLITS,
    LraOptions,
    _byte_meta,
    _parse_label,
    _require,
    _seq_len,
    _subset,
    encode_bytes,
    lra_options,
)
from freqssm.errors import DataError
from freqssm.settings import to_dict


@dataclasses.dataclass(frozen=True)
class Options(LraOptions):
    """Retrieval's ``data.*`` keys."""

    seq_len: int = 4000
    """L: bytes kept per document (`<eos>` included), padded to L"""


DEFAULTS: dict[str, Any] = to_dict(Options())


def _aan_missing(root: Path) -> str:
    return (
        f"expected {root}/tsv_data/new_aan_pairs.{{train,eval,test}}.tsv (no header; columns "
        f"label, input1_id, input2_id, text1, text2); copy lra_release/lra_release/tsv_data "
        f"to {root}/ from {_LRA_RELEASE}"
    )


def index_aan_tsv(path: Path) -> tuple[np.ndarray, np.ndarray]:
    """One pass over an AAN pairs TSV: (byte offset of each row (n,) int64, labels (n,) int32).

    Checks that every non-blank row has 5 tab-separated columns and a 0/1 label.
    """
    offsets: list[int] = []
    labels: list[int] = []
    try:
        with open(path, "rb") as f:
            pos = 0
            for lineno, raw in enumerate(f, start=1):
                row = raw.rstrip(b"\r\n")
                if row.strip():
                    fields = row.split(b"\t")
                    if len(fields) != 5:
                        raise DataError(
                            f"{path} line {lineno}: expected 5 tab-separated columns (label, "
                            f"input1_id, input2_id, text1, text2), got {len(fields)}"
                        )
                    where = f"{path} line {lineno}"
                    labels.append(_parse_label(fields[0].decode("ascii", "replace"), 2, where))
                    offsets.append(pos)
                pos += len(raw)
    except OSError as e:
        raise DataError(f"cannot read {path}: {e}") from e
    if not offsets:
        raise DataError(f"{path}: no examples (empty file)")
    return np.asarray(offsets, dtype=np.int64), np.asarray(labels, dtype=np.int32)


@dataclasses.dataclass
class AanSource:
    """Lazy AAN pairs: each :meth:`get` seeks to the requested rows of the TSV file.

    Attributes:
      path: the TSV file.
      row_offsets: (n,) int64 byte offset of each example's row.
      targets: (n,) int32 labels.
      seq_len: L per document (eos included).
    """

    path: Path
    row_offsets: np.ndarray
    targets: np.ndarray
    seq_len: int

    def __len__(self) -> int:
        return len(self.targets)

    def get(self, indices: np.ndarray) -> Batch:
        """``inputs`` (B, 2, L) int32, ``lengths`` (B, 2) int32, ``targets`` (B,) int32."""
        idx = np.asarray(indices, dtype=np.int64)
        inputs = np.zeros((len(idx), 2, self.seq_len), dtype=np.int32)
        lengths = np.zeros((len(idx), 2), dtype=np.int32)
        with open(self.path, "rb") as f:
            for r, i in enumerate(idx):
                f.seek(int(self.row_offsets[i]))
                fields = f.readline().rstrip(b"\r\n").split(b"\t")
                if len(fields) != 5:
                    raise DataError(
                        f"{self.path}: the row at byte {self.row_offsets[i]} changed on disk"
                    )
                for d in range(2):
                    ids = encode_bytes(fields[3 + d], self.seq_len)
                    inputs[r, d, : len(ids)] = ids
                    lengths[r, d] = len(ids)
        return {"inputs": inputs, "lengths": lengths, "targets": self.targets[idx].astype(np.int32)}


def build(cfg: DataConfig) -> Dataset:
    """LRA Retrieval (AAN) from ``root/tsv_data``; see the module docstring."""
    opts = lra_options(cfg, DEFAULTS)
    root, k, seed = opts["root"], opts["max_examples"], int(opts["split_seed"])
    seq_len = _seq_len(opts["seq_len"], DEFAULTS["seq_len"])
    folder = root / "tsv_data"
    _require(folder, "AAN retrieval data not found", _aan_missing(root), is_dir=True)
    splits: dict[str, Source] = {}
    for stream, (split, fname) in enumerate(zip(SPLITS, ("train", "eval", "test"), strict=True)):
        path = folder / f"new_aan_pairs.{fname}.tsv"
        _require(path, "AAN retrieval split missing", _aan_missing(root))
        offsets, labels = index_aan_tsv(path)
        keep = _subset(len(labels), k, seed, stream)
        splits[split] = AanSource(path, offsets[keep], labels[keep], seq_len)
    meta = _byte_meta(seq_len, "retrieval", {"documents": 2})
    return Dataset(train=splits["train"], val=splits["val"], test=splits["test"], meta=meta)
