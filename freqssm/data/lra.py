"""Long Range Arena tasks read from the official on-disk layouts (or tfds, for Text and Image).

Every builder takes the ``data`` ConfigDict and returns a :class:`~freqssm.data.base.Dataset`.
Common keys (``cfg.get(key, default)``):

============  ==================================  ==============================================
key           default                             meaning
============  ==================================  ==============================================
root          ``$FREQSSM_DATA`` or                data root holding the layouts below (``~`` is
              ``~/.cache/freqssm``                expanded)
max_examples  None                                cap per split (smoke runs): a random subset,
                                                  drawn with ``split_seed``, kept in file order
split_seed    42                                  held-out validation / Pathfinder splits, caps
seq_len       task default                        token tasks: padded length, longer inputs are
                                                  truncated; None / 0 -> the default (2048,
                                                  4096, 4000). Ignored by the image tasks, whose
                                                  length is fixed by the image size
source        "files"                             Text and Image only: "tfds" reads the prepared
                                                  tfds dataset (``tfds_dir``, default tfds' own)
tokenizer     "bytes"                             Text: "bytes" or "chars" (see below)
min_freq      15                                  Text with "chars": vocabulary threshold
val_split     "holdout"                           Text: "holdout" (10% of train) or "test"
cache         False                               Pathfinder / Path-X: uint8 memmap cache
center        False                               Pathfinder / Path-X: scale to [-1, 1]
resolution    32 / 128                            Pathfinder / Path-X image side R
difficulty    "curv_contour_length_14"            Pathfinder / Path-X folder
============  ==================================  ==============================================

Layouts under ``root`` and the batches produced (B = batch size):

* **listops** -- ``listops-1000/basic_{train,val,test}.tsv`` (header ``Source<TAB>Target``).
  LRA tokenizer (``]`` -> ``X``, parentheses dropped, whitespace split), fixed vocabulary
  :data:`LISTOPS_VOCAB` (``<pad>`` = 0, ``<unk>`` = 1, ``<eos>`` = 2, digits, operators, ``X``);
  at most ``seq_len - 1`` (2047) tokens then ``<eos>``. ``inputs`` (B, seq_len) int32 padded with
  0, ``lengths`` (B,) int32 (eos included), ``targets`` (B,) int32 in 0..9.
* **text** -- IMDb, ``aclImdb/{train,test}/{neg,pos}/*.txt`` (the unpacked aclImdb_v1.tar.gz;
  ``unsup`` is ignored; neg = 0, pos = 1) or tfds ``imdb_reviews``. ``tokenizer``: "bytes"
  (default): byte ``b`` -> id ``b + 2``, ``<pad>`` = 0, ``<eos>`` = 1 (vocabulary 258);
  "chars" (the authors' and LRA's): the UTF-8 text's characters, vocabulary ``<pad>`` = 0,
  ``<unk>`` = 1, ``<eos>`` = 2, then every character seen at least ``min_freq`` (15) times in the
  training texts (each truncated to ``seq_len - 1`` characters), most frequent first; others ->
  ``<unk>``. At most ``seq_len - 1`` (4095) tokens then ``<eos>``. ``val_split``: "holdout"
  (default): 10% of the 25k training reviews, ``default_rng(split_seed).permutation(25000)
  [:2500]``, the rest trains; "test" (LRA's convention): all training reviews train and the
  test split doubles as validation (``meta.extra["val_is_test"]``, recorded in results.json).
  Test = the 25k test reviews. Batches as ListOps, ``targets`` in {0, 1}.
* **retrieval** -- AAN, ``tsv_data/new_aan_pairs.{train,eval,test}.tsv`` (no header; columns
  ``label, input1_id, input2_id, text1, text2``; eval is our val). Each raw text field is
  encoded byte level exactly as stored (like LRA and S4, the ``b'...'`` wrapper is not undone),
  ``seq_len`` (4000) per document including ``<eos>``. ``inputs`` (B, 2, seq_len) int32,
  ``lengths`` (B, 2) int32, ``targets`` (B,) int32 in {0, 1}. Read lazily: the files are indexed
  once (byte offset per row) and each batch seeks to its rows.
* **image** -- CIFAR-10 ``cifar-10-batches-py/{data_batch_1..5,test_batch}`` (python pickles)
  or tfds ``cifar10``. Grayscale with PIL's ``convert("L")`` integer luma
  ``(19595 R + 38470 G + 7471 B + 2**15) >> 16`` (ITU-R 601-2, 0.299/0.587/0.114, as
  torchvision's Grayscale in S4/S5), row-major L = 1024, normalised ``(g - 122.6) / 61``
  (S4's mean 122.6/255, std 61/255). ``inputs`` (B, 1024, 1) float32, ``targets`` (B,) int32.
  Validation: 10% of the 50k training images (``permutation(50000)[:5000]`` with split_seed).
* **pathfinder** / **pathx** -- ``pathfinder{R}/{difficulty}/metadata/<k>.npy`` (text lines
  despite the suffix: field 0 ``imgs/<k>``, field 1 the PNG name, field 3 the 0/1 label) and
  ``.../imgs/<k>/sample_<i>.png``; R = ``resolution`` (32 / 128), ``difficulty``
  ``curv_contour_length_14``. Split: random 80/10/10 of all rows (metadata files in numeric
  order, rows in file order) with split_seed. PNGs are decoded per batch, or, with
  ``cache=True``, once into the uint8 memmap ``.freqssm_cache_uint8.npy`` in the difficulty
  folder (N x R*R bytes; delete it to rebuild). ``inputs`` (B, R*R, 1) float32: pixels / 255 in
  [0, 1] (S4's default), or ``(p / 255 - 0.5) / 0.5`` with ``center=True``.

Missing data raises :class:`DataError` naming the layout and how to create or fetch it; a malformed
file raises :class:`DataError` naming the file and the line (or entry).
"""

from __future__ import annotations

import collections
import dataclasses
import os
import pickle
from collections.abc import Callable, Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from freqssm.data.base import Batch, DataError, Dataset, Meta, Source

LRA_URL = "https://storage.googleapis.com/long-range-arena/lra_release.gz"
IMDB_URL = "https://ai.stanford.edu/~amaas/data/sentiment/aclImdb_v1.tar.gz"
CIFAR_URL = "https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz"
_LRA_RELEASE = f"the LRA release (download {LRA_URL}, unpack with `tar -xf lra_release.gz`)"

PAD_ID, UNK_ID = 0, 1
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
BYTE_EOS, BYTE_OFFSET = 1, 2  # byte b -> id b + 2
BYTE_VOCAB_SIZE = 256 + BYTE_OFFSET
CIFAR_MEAN, CIFAR_STD = 122.6, 61.0  # on the 0..255 gray scale
LUMA_WEIGHTS = (19595, 38470, 7471)  # PIL convert("L"): (w . rgb + 2**15) >> 16
PATHFINDER_BLACKLIST = frozenset({"pathfinder32/curv_baseline/imgs/0/sample_172.png"})
CACHE_NAME = ".freqssm_cache_uint8.npy"
SPLITS = ("train", "val", "test")
_ENCODE_CHUNK = 2048  # ListOps rows tokenized per vectorised call (bounds temporaries)


# ----------------------------------------------------------------------------- config helpers


def data_root(cfg: Any) -> Path:
    """``cfg.root``, else ``$FREQSSM_DATA``, else ``~/.cache/freqssm``; ``~`` expanded."""
    root = cfg.get("root", None) or os.environ.get("FREQSSM_DATA") or "~/.cache/freqssm"
    return Path(os.path.expanduser(str(root)))


def _seq_len(cfg: Any, default: int) -> int:
    """``cfg.seq_len``; unset, None or 0 (the LRA base config's placeholder) -> ``default``."""
    seq_len = int(cfg.get("seq_len", None) or default)
    if seq_len < 2:
        raise DataError(f"data.seq_len={seq_len} must be >= 2 (one token and <eos>)")
    return seq_len


def _max_examples(cfg: Any) -> int | None:
    k = cfg.get("max_examples", None)
    if k is None:
        return None
    k = int(k)
    if k < 1:
        raise DataError(f"data.max_examples={k} must be a positive integer or None")
    return k


def _subset(n: int, k: int | None, seed: int, stream: int) -> np.ndarray:
    """All of ``range(n)``, or ``k`` of them drawn with ``default_rng([seed, stream])``, sorted."""
    if k is None or k >= n:
        return np.arange(n)
    return np.sort(np.random.default_rng([seed, stream]).permutation(n)[:k])


def _random_split(n: int, sizes: Sequence[int], seed: int, k: int | None) -> list[np.ndarray]:
    """Cut ``default_rng(seed).permutation(n)`` into consecutive parts of ``sizes`` (the last
    part takes the rest); each part is capped to its first ``k`` entries and sorted."""
    perm = np.random.default_rng(seed).permutation(n)
    bounds = np.cumsum([0, *sizes])
    parts = [perm[bounds[i] : bounds[i + 1]] for i in range(len(sizes))]
    parts.append(perm[bounds[-1] :])
    return [np.sort(p if k is None else p[:k]) for p in parts]


def _parse_label(text: str, n_classes: int, where: str) -> int:
    try:
        value = float(text)
    except ValueError:
        raise DataError(f"{where}: label {text!r} is not a number") from None
    if not np.isfinite(value) or value != int(value) or not 0 <= value < n_classes:
        raise DataError(f"{where}: label {text!r} is not an integer in 0..{n_classes - 1}")
    return int(value)


def _require(path: Path, what: str, fix: str, is_dir: bool = False) -> None:
    ok = path.is_dir() if is_dir else path.is_file()
    if not ok:
        raise DataError(f"{what}: {path} not found; {fix}")


# ----------------------------------------------------------------------------- token sources


@dataclasses.dataclass
class TokenSource:
    """Ragged token sequences, padded to ``seq_len`` with 0 on :meth:`get`.

    Attributes:
      tokens: flat ids of all sequences (uint8 / uint16), each already truncated and eos-ended.
      offsets: (n + 1,) int64, sequence i is ``tokens[offsets[i]:offsets[i + 1]]``.
      targets: (n,) int32 class labels.
      seq_len: L, the padded length (every sequence has length <= L).
    """

    tokens: np.ndarray
    offsets: np.ndarray
    targets: np.ndarray
    seq_len: int

    def __len__(self) -> int:
        return len(self.targets)

    def get(self, indices: np.ndarray) -> Batch:
        """``inputs`` (B, L) int32, ``lengths`` (B,) int32, ``targets`` (B,) int32."""
        idx = np.asarray(indices, dtype=np.int64)
        start = self.offsets[idx]
        lengths = self.offsets[idx + 1] - start
        steps = np.arange(self.seq_len)
        valid = steps[None, :] < lengths[:, None]
        pos = np.minimum(start[:, None] + steps[None, :], max(len(self.tokens) - 1, 0))
        flat = self.tokens if len(self.tokens) else np.zeros(1, np.int32)
        inputs = np.where(valid, flat[pos], PAD_ID).astype(np.int32)
        return {
            "inputs": inputs,
            "lengths": lengths.astype(np.int32),
            "targets": self.targets[idx].astype(np.int32),
        }


def _pack(
    seqs: Sequence[np.ndarray], targets: Sequence[int], seq_len: int, dtype: Any
) -> TokenSource:
    """TokenSource from eos-ended id arrays."""
    lengths = np.fromiter((len(s) for s in seqs), dtype=np.int64, count=len(seqs))
    offsets = np.concatenate([[0], np.cumsum(lengths)]).astype(np.int64)
    tokens = np.concatenate(seqs).astype(dtype) if len(seqs) else np.zeros(0, dtype)
    return TokenSource(tokens, offsets, np.asarray(targets, dtype=np.int32), seq_len)


def encode_bytes(data: bytes, seq_len: int) -> np.ndarray:
    """Byte-level ids of ``data``: ``b + 2`` for at most ``seq_len - 1`` bytes, then ``<eos>`` (1).

    Returns a (n,) uint16 array, ``n <= seq_len``.
    """
    raw = np.frombuffer(data[: seq_len - 1], dtype=np.uint8)
    out = np.empty(len(raw) + 1, dtype=np.uint16)
    out[:-1] = raw
    out[:-1] += BYTE_OFFSET
    out[-1] = BYTE_EOS
    return out


def _byte_meta(seq_len: int, output_kind: str, extra: dict) -> Meta:
    return Meta(
        seq_len=seq_len,
        input_kind="tokens",
        in_features=BYTE_VOCAB_SIZE,
        output_kind=output_kind,  # type: ignore[arg-type]
        n_outputs=2,
        pad_id=PAD_ID,
        extra={"vocab": "bytes", "byte_offset": BYTE_OFFSET, "eos_id": BYTE_EOS, **extra},
    )


# ----------------------------------------------------------------------------- ListOps


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


def build_listops(cfg: Any) -> Dataset:
    """LRA ListOps from ``root/listops-1000``; see the module docstring for keys and layout."""
    root = data_root(cfg)
    seq_len = _seq_len(cfg, 2048)
    k, seed = _max_examples(cfg), int(cfg.get("split_seed", 42))
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


# ----------------------------------------------------------------------------- tfds helpers


def _tfds_splits(name: str, cfg: Any, splits: Sequence[str]) -> dict[str, Any]:
    """Random-access tfds data sources for ``splits``; DataError with the build command."""
    data_dir = cfg.get("tfds_dir", None) or None
    where = f" --data_dir={data_dir}" if data_dir else ""
    fix = f"prepare it with `tfds build {name}{where} --file_format=array_record`"
    try:
        import tensorflow_datasets as tfds
    except ImportError as e:  # pragma: no cover - a declared dependency
        raise DataError(f"data.source='tfds' needs tensorflow-datasets ({e})") from e
    out = {}
    for split in splits:
        try:
            out[split] = tfds.data_source(name, split=split, data_dir=data_dir, download=False)
        except Exception as e:
            raise DataError(
                f"tfds dataset {name!r} (split {split!r}) is not available for random access "
                f"under data_dir={data_dir or 'tfds default'}: {e}; {fix}"
            ) from e
    return out


@dataclasses.dataclass
class _TfdsSource:
    """A lazy Source over a tfds random-access split: ``convert(example) -> (x, label)``."""

    data: Any
    index: np.ndarray
    convert: Callable[[dict], tuple[np.ndarray, int]]
    finish: Callable[[list[np.ndarray]], Batch]

    def __len__(self) -> int:
        return len(self.index)

    def get(self, indices: np.ndarray) -> Batch:
        xs, ys = [], []
        for i in np.asarray(indices):
            x, y = self.convert(self.data[int(self.index[int(i)])])
            xs.append(x)
            ys.append(y)
        batch = self.finish(xs)
        batch["targets"] = np.asarray(ys, dtype=np.int32)
        return batch


def _pad_token_batch(seq_len: int) -> Callable[[list[np.ndarray]], Batch]:
    def finish(seqs: list[np.ndarray]) -> Batch:
        inputs = np.zeros((len(seqs), seq_len), dtype=np.int32)
        lengths = np.zeros(len(seqs), dtype=np.int32)
        for r, s in enumerate(seqs):
            inputs[r, : len(s)] = s
            lengths[r] = len(s)
        return {"inputs": inputs, "lengths": lengths}

    return finish


# ----------------------------------------------------------------------------- Text (IMDb)


def _imdb_missing(root: Path) -> str:
    return (
        f"expected {root}/aclImdb/{{train,test}}/{{pos,neg}}/*.txt; download {IMDB_URL} and "
        f"unpack it with `tar -xzf aclImdb_v1.tar.gz -C {root}`, or set data.source='tfds' after "
        "`tfds build imdb_reviews --file_format=array_record`"
    )


def _imdb_files(root: Path, split: str) -> tuple[list[Path], list[int]]:
    files: list[Path] = []
    labels: list[int] = []
    for label, sub in enumerate(("neg", "pos")):
        folder = root / "aclImdb" / split / sub
        _require(folder, "IMDb data not found", _imdb_missing(root), is_dir=True)
        found = sorted(folder.glob("*.txt"))
        if not found:
            raise DataError(f"IMDb folder {folder} holds no *.txt reviews. {_imdb_missing(root)}")
        files += found
        labels += [label] * len(found)
    return files, labels


CHAR_SPECIALS = ("<pad>", "<unk>", "<eos>")  # ids 0, 1, 2 of the character vocabulary
CHAR_EOS = 2
TOKENIZERS = ("bytes", "chars")
VAL_SPLITS = ("holdout", "test")


def char_vocab(texts: Iterable[str], min_freq: int) -> tuple[str, ...]:
    """The character vocabulary: :data:`CHAR_SPECIALS`, then every character that occurs at least
    ``min_freq`` times in ``texts``, most frequent first (ties by code point).

    The order is torchtext's ``build_vocab_from_iterator`` (used by S4 and the authors); pass the
    texts as the model sees them (truncated to ``seq_len - 1`` characters).
    """
    counts: collections.Counter[str] = collections.Counter()
    for text in texts:
        counts.update(text)
    kept = sorted((c for c, n in counts.items() if n >= min_freq), key=lambda c: (-counts[c], c))
    return (*CHAR_SPECIALS, *kept)


def char_table(vocab: Sequence[str]) -> np.ndarray:
    """Lookup table code point -> id for :func:`encode_chars`: (0x110000,) uint16, <unk> = 1."""
    table = np.full(0x110000, UNK_ID, dtype=np.uint16)
    for i, ch in enumerate(vocab[len(CHAR_SPECIALS) :], start=len(CHAR_SPECIALS)):
        table[ord(ch)] = i
    return table


def encode_chars(text: str, table: np.ndarray, seq_len: int) -> np.ndarray:
    """Ids of ``text``: at most ``seq_len - 1`` characters, then ``<eos>`` (2); (n,) uint16."""
    codes = np.frombuffer(text[: seq_len - 1].encode("utf-32-le"), dtype=np.uint32)
    out = np.empty(len(codes) + 1, dtype=np.uint16)
    out[:-1] = table[codes]
    out[-1] = CHAR_EOS
    return out


def _decode_review(data: bytes, where: object) -> str:
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as e:
        raise DataError(f"IMDb review {where} is not UTF-8 text: {e}") from e


def _read_review_bytes(files: Sequence[Path]) -> list[bytes]:
    out = []
    for f in files:
        try:
            out.append(f.read_bytes())
        except OSError as e:
            raise DataError(f"cannot read IMDb review {f}: {e}") from e
    return out


def _example_text(ex: dict) -> bytes:
    text = ex["text"]
    if isinstance(text, np.ndarray):
        text = text.item()
    return text.encode("utf-8") if isinstance(text, str) else bytes(text)


def _text_encoder(
    cfg: Any, seq_len: int, train_texts: Callable[[], Iterator[bytes]]
) -> tuple[Callable[[bytes, object], np.ndarray], int, dict]:
    """(encode(raw, where) -> ids, vocabulary size, Meta extras) for ``data.tokenizer``.

    "bytes": byte ``b`` -> ``b + 2`` (:func:`encode_bytes`). "chars": the vocabulary of
    :func:`char_vocab` over ``train_texts()`` (each truncated to ``seq_len - 1`` characters),
    ``data.min_freq`` (15) times at least.
    """
    tokenizer = cfg.get("tokenizer", "bytes") or "bytes"
    if tokenizer == "bytes":
        extra = {"vocab": "bytes", "byte_offset": BYTE_OFFSET, "eos_id": BYTE_EOS}
        return (lambda raw, where: encode_bytes(raw, seq_len)), BYTE_VOCAB_SIZE, extra
    if tokenizer != "chars":
        raise DataError(f"data.tokenizer={tokenizer!r} must be one of {TOKENIZERS}")
    min_freq = int(cfg.get("min_freq", 15))
    if min_freq < 1:
        raise DataError(f"data.min_freq={min_freq} must be >= 1")
    texts = (_decode_review(raw, "in the training split")[: seq_len - 1] for raw in train_texts())
    vocab = char_vocab(texts, min_freq)
    table = char_table(vocab)

    def encode(raw: bytes, where: object) -> np.ndarray:
        return encode_chars(_decode_review(raw, where), table, seq_len)

    extra = {"vocab": list(vocab), "eos_id": CHAR_EOS, "unk_id": UNK_ID, "min_freq": min_freq}
    return encode, len(vocab), extra


def build_text(cfg: Any) -> Dataset:
    """LRA Text: IMDb reviews as byte or character tokens; see the module docstring."""
    root = data_root(cfg)
    seq_len = _seq_len(cfg, 4096)
    k, seed = _max_examples(cfg), int(cfg.get("split_seed", 42))
    source = cfg.get("source", "files") or "files"
    val_split = cfg.get("val_split", "holdout") or "holdout"
    if val_split not in VAL_SPLITS:
        raise DataError(f"data.val_split={val_split!r} must be one of {VAL_SPLITS}")
    if source == "tfds":
        data = _tfds_splits("imdb_reviews", cfg, ("train", "test"))
        train_data, test_data = data["train"], data["test"]

        n_train, n_test = len(train_data), len(test_data)
    elif source == "files":
        _require(root / "aclImdb", "IMDb data not found", _imdb_missing(root), is_dir=True)
        train_files, train_labels = _imdb_files(root, "train")
        test_files, test_labels = _imdb_files(root, "test")
        n_train, n_test = len(train_files), len(test_files)
    else:
        raise DataError(f"data.source={source!r} for text must be 'files' or 'tfds'")
    te = _subset(n_test, k, seed, 2)
    if val_split == "holdout":
        tr, va = _random_split(n_train, [n_train // 10], seed, k)[::-1]
        val_note = "10% of train"
    else:
        tr, va = _subset(n_train, k, seed, 0), None
        val_note = "test (LRA convention: no validation split, the test split is reported as val)"

    if source == "files":
        raw = {"train": _read_review_bytes([train_files[i] for i in tr])}
        raw["test"] = _read_review_bytes([test_files[i] for i in te])
        if va is not None:
            raw["val"] = _read_review_bytes([train_files[i] for i in va])
        encode, vocab_size, extra = _text_encoder(cfg, seq_len, lambda: iter(raw["train"]))
        labels = {
            "train": [train_labels[i] for i in tr],
            "val": None if va is None else [train_labels[i] for i in va],
            "test": [test_labels[i] for i in te],
        }
        files = {"train": [train_files[i] for i in tr], "test": [test_files[i] for i in te]}
        if va is not None:
            files["val"] = [train_files[i] for i in va]
        splits: dict[str, Source] = {}
        for name in raw:
            seqs = [encode(b, f) for b, f in zip(raw[name], files[name], strict=True)]
            splits[name] = _pack(seqs, labels[name], seq_len, np.uint16)
    else:
        encode, vocab_size, extra = _text_encoder(
            cfg, seq_len, lambda: (_example_text(train_data[int(i)]) for i in tr)
        )

        def convert(ex: dict) -> tuple[np.ndarray, int]:
            return encode(_example_text(ex), "in tfds imdb_reviews"), int(ex["label"])

        fin = _pad_token_batch(seq_len)
        splits = {
            "train": _TfdsSource(train_data, tr, convert, fin),
            "test": _TfdsSource(test_data, te, convert, fin),
        }
        if va is not None:
            splits["val"] = _TfdsSource(train_data, va, convert, fin)
    if va is None:
        splits["val"] = splits["test"]
    extra.update({"source": source, "val": val_note, "val_is_test": va is None})
    meta = Meta(
        seq_len=seq_len,
        input_kind="tokens",
        in_features=vocab_size,
        output_kind="classification",
        n_outputs=2,
        pad_id=PAD_ID,
        extra=extra,
    )
    return Dataset(train=splits["train"], val=splits["val"], test=splits["test"], meta=meta)


# ----------------------------------------------------------------------------- Retrieval (AAN)


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


def build_retrieval(cfg: Any) -> Dataset:
    """LRA Retrieval (AAN) from ``root/tsv_data``; see the module docstring."""
    root = data_root(cfg)
    seq_len = _seq_len(cfg, 4000)
    k, seed = _max_examples(cfg), int(cfg.get("split_seed", 42))
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


# ----------------------------------------------------------------------------- pixel sources


@dataclasses.dataclass
class PixelSource:
    """uint8 images (in memory or a memmap) normalised on :meth:`get`.

    Attributes:
      pixels: (N, L) uint8, all images of the dataset.
      targets: (N,) int32.
      index: (n,) rows of ``pixels`` in this split.
      scale, shift: ``inputs = pixels * scale + shift``.
    """

    pixels: np.ndarray
    targets: np.ndarray
    index: np.ndarray
    scale: float
    shift: float

    def __len__(self) -> int:
        return len(self.index)

    def get(self, indices: np.ndarray) -> Batch:
        """``inputs`` (B, L, 1) float32, ``targets`` (B,) int32."""
        rows = self.index[np.asarray(indices, dtype=np.int64)]
        x = np.asarray(self.pixels[rows], dtype=np.float32) * np.float32(self.scale)
        x += np.float32(self.shift)
        return {"inputs": x[..., None], "targets": self.targets[rows].astype(np.int32)}


def rgb_to_gray(rgb: np.ndarray) -> np.ndarray:
    """PIL's ``convert("L")`` on uint8 RGB: (..., 3) -> (...) uint8."""
    r, g, b = (rgb[..., c].astype(np.uint32) for c in range(3))
    wr, wg, wb = LUMA_WEIGHTS
    return ((wr * r + wg * g + wb * b + (1 << 15)) >> 16).astype(np.uint8)


# ----------------------------------------------------------------------------- Image (CIFAR-10)


def _cifar_missing(root: Path) -> str:
    return (
        f"expected {root}/cifar-10-batches-py/{{data_batch_1..5,test_batch}}; download "
        f"{CIFAR_URL} and unpack it with `tar -xzf cifar-10-python.tar.gz -C {root}`, or set "
        "data.source='tfds' after `tfds build cifar10 --file_format=array_record`"
    )


def read_cifar_batch(path: Path) -> tuple[np.ndarray, np.ndarray]:
    """One CIFAR-10 python pickle -> (gray (n, 1024) uint8, labels (n,) int32)."""
    try:
        with open(path, "rb") as f:
            d = pickle.load(f, encoding="bytes")
    except Exception as e:
        raise DataError(f"cannot read CIFAR-10 batch {path}: {e}") from e
    if not isinstance(d, dict) or b"data" not in d or b"labels" not in d:
        raise DataError(f"{path}: expected a dict with keys b'data' and b'labels'")
    data = np.asarray(d[b"data"])
    labels = np.asarray(d[b"labels"])
    if data.ndim != 2 or data.shape[1] != 3072 or data.dtype != np.uint8:
        raise DataError(f"{path}: b'data' must be (N, 3072) uint8, got {data.shape} {data.dtype}")
    if labels.shape != (len(data),):
        raise DataError(f"{path}: {len(labels)} labels for {len(data)} images")
    bad = np.flatnonzero((labels < 0) | (labels > 9))
    if len(bad):
        raise DataError(f"{path}: entry {bad[0]} has label {labels[bad[0]]}, not in 0..9")
    rgb = data.reshape(-1, 3, 1024).transpose(0, 2, 1)  # channel-major planes -> (N, 1024, 3)
    return rgb_to_gray(rgb), labels.astype(np.int32)


def _image_from_example(ex: dict) -> tuple[np.ndarray, int]:
    img = np.asarray(ex["image"], dtype=np.uint8)
    gray = rgb_to_gray(img) if img.ndim == 3 and img.shape[-1] == 3 else img.reshape(img.shape[:2])
    return gray.reshape(-1), int(ex["label"])


def _finish_pixels(scale: float, shift: float) -> Callable[[list[np.ndarray]], Batch]:
    def finish(xs: list[np.ndarray]) -> Batch:
        x = np.stack(xs).astype(np.float32) * np.float32(scale) + np.float32(shift)
        return {"inputs": x[..., None]}

    return finish


def build_image(cfg: Any) -> Dataset:
    """LRA Image: grayscale CIFAR-10 as (1024, 1) real sequences; see the module docstring."""
    root = data_root(cfg)
    k, seed = _max_examples(cfg), int(cfg.get("split_seed", 42))
    scale, shift = 1.0 / CIFAR_STD, -CIFAR_MEAN / CIFAR_STD
    source = cfg.get("source", "files") or "files"
    if source == "tfds":
        data = _tfds_splits("cifar10", cfg, ("train", "test"))
        n_train = len(data["train"])
        tr, va = _random_split(n_train, [n_train // 10], seed, k)[::-1]
        te = _subset(len(data["test"]), k, seed, 2)
        fin = _finish_pixels(scale, shift)
        splits: dict[str, Source] = {
            "train": _TfdsSource(data["train"], tr, _image_from_example, fin),
            "val": _TfdsSource(data["train"], va, _image_from_example, fin),
            "test": _TfdsSource(data["test"], te, _image_from_example, fin),
        }
    elif source == "files":
        folder = root / "cifar-10-batches-py"
        _require(folder, "CIFAR-10 data not found", _cifar_missing(root), is_dir=True)
        parts = {}
        for name in [f"data_batch_{i}" for i in range(1, 6)] + ["test_batch"]:
            _require(folder / name, "CIFAR-10 batch missing", _cifar_missing(root))
            parts[name] = read_cifar_batch(folder / name)
        train_x = np.concatenate([parts[f"data_batch_{i}"][0] for i in range(1, 6)])
        train_y = np.concatenate([parts[f"data_batch_{i}"][1] for i in range(1, 6)])
        test_x, test_y = parts["test_batch"]
        tr, va = _random_split(len(train_x), [len(train_x) // 10], seed, k)[::-1]
        te = _subset(len(test_x), k, seed, 2)
        splits = {
            "train": PixelSource(train_x, train_y, tr, scale, shift),
            "val": PixelSource(train_x, train_y, va, scale, shift),
            "test": PixelSource(test_x, test_y, te, scale, shift),
        }
    else:
        raise DataError(f"data.source={source!r} for image must be 'files' or 'tfds'")
    meta = Meta(
        seq_len=1024,
        input_kind="real",
        in_features=1,
        output_kind="classification",
        n_outputs=10,
        extra={
            "source": source,
            "grayscale": "PIL convert('L')",
            "mean": CIFAR_MEAN,
            "std": CIFAR_STD,
            "val": "10% of train",
        },
    )
    return Dataset(train=splits["train"], val=splits["val"], test=splits["test"], meta=meta)


# ----------------------------------------------------------------------------- Pathfinder / Path-X


def _pathfinder_missing(root: Path, resolution: int, difficulty: str) -> str:
    return (
        f"expected {root}/pathfinder{resolution}/{difficulty}/metadata/<k>.npy and "
        f".../imgs/<k>/sample_<i>.png; create it with `python -m freqssm.datagen.pathfinder "
        f"--out {root} --resolution {resolution}` or copy "
        f"lra_release/lra_release/pathfinder{resolution} to {root}/ from {_LRA_RELEASE}"
    )


def _metadata_key(p: Path) -> tuple[int, int | str]:
    return (0, int(p.stem)) if p.stem.isdigit() else (1, p.stem)


def read_pathfinder_metadata(folder: Path, root: Path) -> tuple[list[str], np.ndarray, list[str]]:
    """Rows of every ``folder/metadata/*.npy`` (numeric order), blacklisted images skipped.

    Returns:
      paths: image paths, one per example.
      labels: (n,) int32 in {0, 1}.
      refs: "metadata file:line" of each example (for error messages).
    """
    meta_files = sorted((folder / "metadata").glob("*.npy"), key=_metadata_key)
    if not meta_files:
        raise DataError(f"Pathfinder metadata folder {folder / 'metadata'} holds no *.npy files")
    paths: list[str] = []
    labels: list[int] = []
    refs: list[str] = []
    for mf in meta_files:
        try:
            lines = mf.read_text(encoding="utf-8").splitlines()
        except (OSError, UnicodeDecodeError) as e:
            raise DataError(f"cannot read Pathfinder metadata {mf} as text lines: {e}") from e
        n_rows = 0
        for lineno, line in enumerate(lines, start=1):
            fields = line.split()
            if not fields:
                continue
            where = f"{mf} line {lineno}"
            if len(fields) < 4:
                raise DataError(
                    f"{where}: expected >= 4 whitespace-separated fields, got {len(fields)}"
                )
            img = folder / fields[0] / fields[1]
            n_rows += 1
            try:
                rel = img.relative_to(root).as_posix()
            except ValueError:
                rel = ""
            if rel in PATHFINDER_BLACKLIST:
                continue
            labels.append(_parse_label(fields[3], 2, where))
            paths.append(str(img))
            refs.append(where)
        if n_rows == 0:
            raise DataError(f"Pathfinder metadata {mf} is empty")
    return paths, np.asarray(labels, dtype=np.int32), refs


def load_png(path: str, resolution: int, ref: str = "") -> np.ndarray:
    """A Pathfinder PNG as (resolution**2,) uint8 gray pixels (PIL ``convert("L")``)."""
    from PIL import Image

    where = f" (listed in {ref})" if ref else ""
    try:
        with Image.open(path) as im:
            arr = np.asarray(im.convert("L"), dtype=np.uint8)
    except Exception as e:
        raise DataError(f"cannot read Pathfinder image {path}{where}: {e}") from e
    if arr.shape != (resolution, resolution):
        raise DataError(
            f"Pathfinder image {path}{where} is {arr.shape[1]}x{arr.shape[0]}, "
            f"expected {resolution}x{resolution}"
        )
    return arr.reshape(-1)


@dataclasses.dataclass
class PngSource:
    """Pathfinder images decoded lazily, one PNG per example, on :meth:`get`.

    Attributes:
      paths, refs: per example of the whole dataset (N,).
      targets: (N,) int32.
      index: (n,) examples of this split.
      resolution: R, images are R x R.
      scale, shift: ``inputs = pixels * scale + shift``.
    """

    paths: Sequence[str]
    refs: Sequence[str]
    targets: np.ndarray
    index: np.ndarray
    resolution: int
    scale: float
    shift: float

    def __len__(self) -> int:
        return len(self.index)

    def get(self, indices: np.ndarray) -> Batch:
        """``inputs`` (B, R*R, 1) float32, ``targets`` (B,) int32."""
        rows = self.index[np.asarray(indices, dtype=np.int64)]
        px = np.stack([load_png(self.paths[r], self.resolution, self.refs[r]) for r in rows])
        x = px.astype(np.float32) * np.float32(self.scale) + np.float32(self.shift)
        return {"inputs": x[..., None], "targets": self.targets[rows].astype(np.int32)}


def _pathfinder_cache(
    folder: Path, paths: Sequence[str], refs: Sequence[str], res: int
) -> np.ndarray:
    """The (N, R*R) uint8 memmap of every image, built once (atomically) if absent or stale."""
    cache = folder / CACHE_NAME
    shape = (len(paths), res * res)
    if cache.is_file():
        try:
            arr = np.load(cache, mmap_mode="r")
            if arr.shape == shape and arr.dtype == np.uint8:
                return arr
        except Exception:
            pass  # unreadable or stale: rebuild
    from tqdm import tqdm

    tmp = cache.with_name(cache.name + f".tmp{os.getpid()}")
    try:
        out = np.lib.format.open_memmap(tmp, mode="w+", dtype=np.uint8, shape=shape)
        for i in tqdm(range(len(paths)), desc=f"caching {folder.name}", unit="img"):
            out[i] = load_png(paths[i], res, refs[i])
        out.flush()
        del out
        os.replace(tmp, cache)
    except OSError as e:
        raise DataError(
            f"cannot write the Pathfinder cache {cache}: {e}; set data.cache=False"
        ) from e
    finally:
        if tmp.exists():
            tmp.unlink()
    return np.load(cache, mmap_mode="r")


def _build_pathfinder(cfg: Any, default_resolution: int) -> Dataset:
    root = data_root(cfg)
    res = int(cfg.get("resolution", default_resolution))
    difficulty = str(cfg.get("difficulty", "curv_contour_length_14"))
    k, seed = _max_examples(cfg), int(cfg.get("split_seed", 42))
    center = bool(cfg.get("center", False))
    scale, shift = (2.0 / 255.0, -1.0) if center else (1.0 / 255.0, 0.0)
    folder = root / f"pathfinder{res}" / difficulty
    missing = _pathfinder_missing(root, res, difficulty)
    _require(folder / "metadata", "Pathfinder data not found", missing, is_dir=True)
    paths, labels, refs = read_pathfinder_metadata(folder, root)
    n = len(paths)
    n_train, n_val = int(0.8 * n), int(0.1 * n)
    tr, va, te = _random_split(n, [n_train, n_val], seed, k)
    if cfg.get("cache", False):
        pixels = _pathfinder_cache(folder, paths, refs, res)
        splits: dict[str, Source] = {
            s: PixelSource(pixels, labels, idx, scale, shift)
            for s, idx in zip(SPLITS, (tr, va, te), strict=True)
        }
    else:
        splits = {
            s: PngSource(paths, refs, labels, idx, res, scale, shift)
            for s, idx in zip(SPLITS, (tr, va, te), strict=True)
        }
    meta = Meta(
        seq_len=res * res,
        input_kind="real",
        in_features=1,
        output_kind="classification",
        n_outputs=2,
        extra={
            "resolution": res,
            "difficulty": difficulty,
            "center": center,
            "split": "random 80/10/10",
        },
    )
    return Dataset(train=splits["train"], val=splits["val"], test=splits["test"], meta=meta)


def build_pathfinder(cfg: Any) -> Dataset:
    """LRA Pathfinder (32 x 32, L = 1024); see the module docstring."""
    return _build_pathfinder(cfg, 32)


def build_pathx(cfg: Any) -> Dataset:
    """LRA Path-X (128 x 128, L = 16384); see the module docstring."""
    return _build_pathfinder(cfg, 128)


def lra_meta(task: str) -> Meta:
    """The Meta a task's builder returns, without reading any data (for model sizes, benchmarks).

    ``extra`` is left empty; shapes, vocabularies and output kinds are the builders' defaults.
    """
    if task == "listops":
        return Meta(2048, "tokens", len(LISTOPS_VOCAB), "classification", 10, PAD_ID)
    if task == "text":
        return Meta(4096, "tokens", BYTE_VOCAB_SIZE, "classification", 2, PAD_ID)
    if task == "retrieval":
        return Meta(4000, "tokens", BYTE_VOCAB_SIZE, "retrieval", 2, PAD_ID)
    if task == "image":
        return Meta(1024, "real", 1, "classification", 10)
    if task in ("pathfinder", "pathx"):
        res = 32 if task == "pathfinder" else 128
        return Meta(res * res, "real", 1, "classification", 2)
    raise ValueError(f"unknown LRA task {task!r}")
