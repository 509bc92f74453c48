"""Long Range Arena tasks read from the official on-disk layouts (or tfds, for Text and Image).

One module per task (``listops``, ``text``, ``retrieval``, ``image``, ``pathfinder``, ``pathx``)
over the shared :mod:`freqssm.data.lra.common`. Each has ``build(data_config)`` -> a
:class:`~freqssm.data.base.Dataset` and ``DEFAULTS``, its keys with their defaults (declared there
once; the configs start from them). Keys:

============  ==================================  ==============================================
key           default                             meaning
============  ==================================  ==============================================
root          ``$FREQSSM_DATA`` or                data root holding the layouts below (``~`` is
              ``~/.cache/freqssm``                expanded; ``data.root`` of every config)
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
  folder (one row of R*R bytes per example the run reads), keyed by ``.freqssm_cache_uint8.json``
  (the metadata's bytes and each image's size and mtime): a cache that no longer matches the
  data on disk is rebuilt, and the generator's ``--overwrite`` removes it. ``inputs``
  (B, R*R, 1) float32: pixels / 255 in [0, 1] (S4's default), or ``(p / 255 - 0.5) / 0.5`` with
  ``center=True``.

Missing data raises :class:`DataError` naming the layout and how to create or fetch it; a malformed
file raises :class:`DataError` naming the file and the line (or entry).
"""

from __future__ import annotations

from freqssm.data.base import Meta
from freqssm.data.lra import image, listops, pathfinder, pathx, retrieval, text
from freqssm.data.lra.common import BYTE_VOCAB_SIZE, PAD_ID

__all__ = ["image", "listops", "lra_meta", "pathfinder", "pathx", "retrieval", "text"]


def lra_meta(task: str) -> Meta:
    """The Meta a task's builder returns, without reading any data (for model sizes, benchmarks).

    ``extra`` is left empty; shapes, vocabularies and output kinds are the builders' defaults.
    """
    if task == "listops":
        L = listops.DEFAULTS["seq_len"]
        return Meta(L, "tokens", len(listops.LISTOPS_VOCAB), "classification", 10, PAD_ID)
    if task == "text":
        L = text.DEFAULTS["seq_len"]
        return Meta(L, "tokens", BYTE_VOCAB_SIZE, "classification", 2, PAD_ID)
    if task == "retrieval":
        L = retrieval.DEFAULTS["seq_len"]
        return Meta(L, "tokens", BYTE_VOCAB_SIZE, "retrieval", 2, PAD_ID)
    if task == "image":
        return Meta(1024, "real", 1, "classification", 10)
    if task in ("pathfinder", "pathx"):
        res = (pathfinder if task == "pathfinder" else pathx).DEFAULTS["resolution"]
        return Meta(res * res, "real", 1, "classification", 2)
    raise ValueError(f"unknown LRA task {task!r}")
