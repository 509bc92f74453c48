"""LRA Text (IMDb)."""

from __future__ import annotations

import collections
import dataclasses
from collections.abc import Callable, Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from freqssm.data.base import Dataset, Meta, Source
from freqssm.data.config import DataConfig
from freqssm.data.lra.common import (
    BYTE_EOS,
    BYTE_OFFSET,
    BYTE_VOCAB_SIZE,
    PAD_ID,
    UNK_ID,
    LraOptions,
    _pack,
    _pad_token_batch,
    _random_split,
    _require,
    _seq_len,
    _subset,
    _tfds_splits,
    _TfdsSource,
    encode_bytes,
    lra_options,
)
from freqssm.errors import DataError
from freqssm.settings import to_dict

IMDB_URL = "https://ai.stanford.edu/~amaas/data/sentiment/aclImdb_v1.tar.gz"


@dataclasses.dataclass(frozen=True)
class Options(LraOptions):
    """Text's ``data.*`` keys (``freqssm.data.lra``'s docstring has the details)."""

    seq_len: int = 4096
    """L: tokens kept per review (`<eos>` included), padded to L"""
    source: str = "files"
    """"files" (the aclImdb folder) or "tfds" (imdb_reviews, prepared)"""
    tfds_dir: str = ""
    """tfds data_dir; "": tfds' default"""
    tokenizer: str = "bytes"
    """"bytes" (byte b -> id b + 2, vocabulary 258) or "chars" (the authors' and LRA's
    character vocabulary, see min_freq)"""
    min_freq: int = 15
    """"chars": characters seen fewer times in training map to `<unk>`"""
    val_split: str = "holdout"
    """"holdout" (10% of the training reviews) or "test" (LRA's convention: no validation split,
    the test split is reported as val)"""


DEFAULTS: dict[str, Any] = to_dict(Options())


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
    opts: dict[str, Any], seq_len: int, train_texts: Callable[[], Iterator[bytes]]
) -> tuple[Callable[[bytes, object], np.ndarray], int, dict]:
    """(encode(raw, where) -> ids, vocabulary size, Meta extras) for ``data.tokenizer``.

    "bytes": byte ``b`` -> ``b + 2`` (:func:`encode_bytes`). "chars": the vocabulary of
    :func:`char_vocab` over ``train_texts()`` (each truncated to ``seq_len - 1`` characters),
    ``data.min_freq`` (15) times at least.
    """
    tokenizer = opts["tokenizer"]
    if tokenizer == "bytes":
        extra = {"vocab": "bytes", "byte_offset": BYTE_OFFSET, "eos_id": BYTE_EOS}
        return (lambda raw, where: encode_bytes(raw, seq_len)), BYTE_VOCAB_SIZE, extra
    if tokenizer != "chars":
        raise DataError(f"data.tokenizer={tokenizer!r} must be one of {TOKENIZERS}")
    min_freq = int(opts["min_freq"])
    if min_freq < 1:
        raise DataError(f"data.min_freq={min_freq} must be >= 1")
    texts = (_decode_review(raw, "in the training split")[: seq_len - 1] for raw in train_texts())
    vocab = char_vocab(texts, min_freq)
    table = char_table(vocab)

    def encode(raw: bytes, where: object) -> np.ndarray:
        return encode_chars(_decode_review(raw, where), table, seq_len)

    extra = {"vocab": list(vocab), "eos_id": CHAR_EOS, "unk_id": UNK_ID, "min_freq": min_freq}
    return encode, len(vocab), extra


def build(cfg: DataConfig) -> Dataset:
    """LRA Text: IMDb reviews as byte or character tokens; see the module docstring."""
    opts = lra_options(cfg, DEFAULTS)
    root, k, seed = opts["root"], opts["max_examples"], int(opts["split_seed"])
    seq_len = _seq_len(opts["seq_len"], DEFAULTS["seq_len"])
    source, val_split = opts["source"], opts["val_split"]
    if val_split not in VAL_SPLITS:
        raise DataError(f"data.val_split={val_split!r} must be one of {VAL_SPLITS}")
    if source == "tfds":
        data = _tfds_splits("imdb_reviews", opts["tfds_dir"], ("train", "test"))
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
        encode, vocab_size, extra = _text_encoder(opts, seq_len, lambda: iter(raw["train"]))
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
            opts, seq_len, lambda: (_example_text(train_data[int(i)]) for i in tr)
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
