"""LRA loaders on small fixture files written here in the official on-disk layouts."""

import pickle

import ml_collections
import numpy as np
import pytest
from PIL import Image

from freqssm.data import DataError, build, eval_batches, train_batches
from freqssm.data.base import data_root
from freqssm.data.lra import common as lra_common
from freqssm.data.lra import listops as lra_listops
from freqssm.data.lra import pathfinder as lra_pathfinder
from freqssm.data.lra import text as lra_text
from freqssm.datagen.listops import generate, tokenize

VOCAB = {w: i for i, w in enumerate(lra_listops.LISTOPS_VOCAB)}


def _cfg(name, root, **kw):
    return ml_collections.ConfigDict({"name": name, "root": str(root), **kw})


def _check_batching(source, batch_size=4):
    """train_batches is a pure function of (seed, step); eval_batches covers every row once."""
    a = [next(it) for it in [train_batches(source, batch_size, seed=3)] for _ in range(3)]
    it = train_batches(source, batch_size, seed=3, start_step=2)
    resumed = next(it)
    for k in a[2]:
        np.testing.assert_array_equal(a[2][k], resumed[k])
    evals = list(eval_batches(source, batch_size))
    assert sum(int(b["mask"].sum()) for b in evals) == len(source)
    assert all(b["targets"].shape == (batch_size,) for b in evals)
    return a[0]


# ============================================================================ ListOps


def _ids(src, seq_len=2048):
    ids = [VOCAB.get(t, lra_common.UNK_ID) for t in tokenize(src)]
    return [*ids[: seq_len - 1], lra_listops.LISTOPS_EOS]


@pytest.mark.parametrize("eol", ["\r\n", "\n"])
def test_listops_tokens_lengths_targets(tmp_path, eol, lra_files):
    lra_files.listops(tmp_path, eol=eol)
    ds = build(_cfg("listops", tmp_path))
    m = ds.meta
    assert (m.seq_len, m.input_kind, m.in_features) == (2048, "tokens", 18)
    assert (m.output_kind, m.n_outputs, m.pad_id) == ("classification", 10, 0)
    assert m.extra["vocab"][:3] == ["<pad>", "<unk>", "<eos>"]
    assert set(m.extra["vocab"][3:]) == {*"0123456789", "[MIN", "[MAX", "[MED", "[SM", "X"}
    b = ds.test.get(np.arange(len(lra_files.LISTOPS_ROWS)))
    assert b["inputs"].shape == (6, 2048) and b["inputs"].dtype == np.int32
    assert b["lengths"].dtype == np.int32 and b["targets"].dtype == np.int32
    first = [VOCAB["[MAX"], VOCAB["2"], VOCAB["9"], VOCAB["X"], VOCAB["<eos>"]]
    assert b["inputs"][0, :6].tolist() == [*first, 0]
    for r, (src, y) in enumerate(lra_files.LISTOPS_ROWS):
        ids = _ids(src)
        assert b["lengths"][r] == len(ids)
        assert b["inputs"][r, : len(ids)].tolist() == ids
        assert not b["inputs"][r, len(ids) :].any()
        assert b["targets"][r] == y
    assert b["inputs"][3, 0] == lra_common.UNK_ID


def test_listops_truncation_keeps_eos(tmp_path, lra_files):
    lra_files.listops(tmp_path)
    assert build(_cfg("listops", tmp_path, seq_len=0)).meta.seq_len == 2048  # base placeholder
    ds = build(_cfg("listops", tmp_path, seq_len=4))
    b = ds.train.get(np.array([1]))  # 8 tokens: [SM 5 [MIN 3 4 X X + eos
    assert b["inputs"].shape == (1, 4)
    assert b["inputs"][0].tolist() == [
        VOCAB["[SM"],
        VOCAB["5"],
        VOCAB["[MIN"],
        lra_listops.LISTOPS_EOS,
    ]
    assert b["lengths"].tolist() == [4]


def test_listops_vectorised_encoder_matches_reference(tmp_path):
    paths = generate(
        tmp_path,
        n_train=200,
        n_val=1,
        n_test=1,
        min_length=5,
        max_length=300,
        seed=4,
        progress=False,
    )
    sources = [line.split("\t")[0] for line in paths["train"].read_text().splitlines()[1:]]
    sources += ["", "  7  ", "[MAX\t1 [SMX 2 ] 33 ]", "é [MIN 1 2 ]"]
    for seq_len in (2048, 37):
        tokens, offsets = lra_listops.encode_listops(sources, seq_len)
        assert len(offsets) == len(sources) + 1
        for i, src in enumerate(sources):
            assert tokens[offsets[i] : offsets[i + 1]].tolist() == _ids(src, seq_len), src


def test_listops_batching_and_max_examples(tmp_path, lra_files):
    lra_files.listops(tmp_path)
    ds = build(_cfg("listops", tmp_path, max_examples=4))
    assert (len(ds.train), len(ds.val), len(ds.test)) == (4, 4, 4)
    again = build(_cfg("listops", tmp_path, max_examples=4))
    np.testing.assert_array_equal(ds.train.tokens, again.train.tokens)
    first = _check_batching(ds.train, batch_size=2)
    assert first["inputs"].shape == (2, 2048) and first["lengths"].shape == (2,)
    # the kept rows are real rows with their own labels
    labels = {tuple(_ids(s)): y for s, y in lra_files.LISTOPS_ROWS}
    b = ds.train.get(np.arange(4))
    for r in range(4):
        assert labels[tuple(b["inputs"][r, : b["lengths"][r]].tolist())] == b["targets"][r]


def test_subsets_are_random_sorted_and_seeded():
    a = lra_common._subset(100, 10, 42, 0)
    assert a.tolist() == sorted(set(a.tolist())) and len(a) == 10 and a.max() < 100
    assert a.tolist() != list(range(10))
    np.testing.assert_array_equal(a, lra_common._subset(100, 10, 42, 0))
    assert a.tolist() != lra_common._subset(100, 10, 42, 1).tolist()
    assert a.tolist() != lra_common._subset(100, 10, 7, 0).tolist()
    assert (
        lra_common._subset(5, 10, 42, 0).tolist()
        == lra_common._subset(5, None, 0, 0).tolist()
        == [0, 1, 2, 3, 4]
    )
    tr, va, te = lra_common._random_split(20, [16, 2], 42, None)
    assert sorted([*tr, *va, *te]) == list(range(20)) and (len(tr), len(va), len(te)) == (16, 2, 2)


def test_listops_default_root_from_env(tmp_path, monkeypatch, lra_files):
    lra_files.listops(tmp_path)
    monkeypatch.setenv("FREQSSM_DATA", str(tmp_path))
    ds = build(ml_collections.ConfigDict({"name": "listops"}))
    assert len(ds.train) == len(lra_files.LISTOPS_ROWS)
    monkeypatch.delenv("FREQSSM_DATA")
    monkeypatch.setenv("HOME", str(tmp_path))
    assert data_root(ml_collections.ConfigDict({})) == tmp_path / ".cache" / "freqssm"
    assert data_root(ml_collections.ConfigDict({"root": "~/d"})) == tmp_path / "d"


def test_listops_missing_folder_names_path_and_command(tmp_path, lra_files):
    with pytest.raises(DataError) as info:
        build(_cfg("listops", tmp_path))
    msg = str(info.value)
    assert str(tmp_path / "listops-1000") in msg
    assert f"python -m freqssm.datagen.listops --out {tmp_path}" in msg
    lra_files.listops(tmp_path, splits=("train", "val"))
    with pytest.raises(DataError, match=r"basic_test\.tsv") as info:
        build(_cfg("listops", tmp_path))
    assert "python -m freqssm.datagen.listops" in str(info.value)


@pytest.mark.parametrize(
    "content, line, what",
    [
        ("Source\tTarget\r\n( [MAX 1 2 ] )\t3\textra\r\n", 2, "2 tab-separated columns"),
        ("Source\tTarget\r\n[MAX 1 2 ]\t2\r\n[MAX 1 2 ]\t10\r\n", 3, "label"),
        ("Source\tTarget\r\n[MAX 1 2 ]\tnine\r\n", 2, "label"),
        ("[MAX 1 2 ]\t2\r\n", 1, "header"),
        ("", 1, "empty"),
    ],
)
def test_listops_malformed_names_file_and_line(tmp_path, content, line, what, lra_files):
    folder = lra_files.listops(tmp_path)
    (folder / "basic_val.tsv").write_text(content, newline="")
    with pytest.raises(DataError, match=what) as info:
        build(_cfg("listops", tmp_path))
    assert f"{folder / 'basic_val.tsv'} line {line}" in str(info.value)


def test_listops_header_only_file(tmp_path, lra_files):
    folder = lra_files.listops(tmp_path)
    (folder / "basic_train.tsv").write_text("Source\tTarget\r\n", newline="")
    with pytest.raises(DataError, match="no examples"):
        build(_cfg("listops", tmp_path))


# ============================================================================ Text (IMDb)


def _decode_bytes(row, length):
    ids = row[:length]
    assert ids[-1] == lra_common.BYTE_EOS and (ids[:-1] >= lra_common.BYTE_OFFSET).all()
    return bytes((ids[:-1] - lra_common.BYTE_OFFSET).astype(np.uint8).tolist())


def test_text_bytes_splits_labels(tmp_path, lra_files):
    texts = lra_files.imdb(tmp_path)
    ds = build(_cfg("text", tmp_path, seq_len=40))
    m = ds.meta
    assert (m.seq_len, m.input_kind, m.in_features, m.output_kind, m.n_outputs) == (
        40,
        "tokens",
        258,
        "classification",
        2,
    )
    assert (len(ds.train), len(ds.val), len(ds.test)) == (18, 2, 20)
    seen = {}
    for name in ("train", "val", "test"):
        src = ds.split(name)
        b = src.get(np.arange(len(src)))
        assert b["inputs"].shape == (len(src), 40) and b["inputs"].dtype == np.int32
        for r in range(len(src)):
            raw = _decode_bytes(b["inputs"][r], b["lengths"][r])
            assert not b["inputs"][r, b["lengths"][r] :].any()
            split = "test" if name == "test" else "train"
            full = [(t.encode(), y) for t, y in texts[split] if t.encode().startswith(raw)]
            assert len(full) == 1 and len(raw) == min(39, len(full[0][0]))
            assert full[0][1] == b["targets"][r]
            seen.setdefault(split, []).append(full[0][0])
    # train and val partition the 20 training reviews; unsup is ignored
    assert sorted(seen["train"]) == sorted(t.encode() for t, _ in texts["train"])
    assert len(set(seen["train"])) == 20


def test_text_val_split_seed_and_max_examples(tmp_path, lra_files):
    lra_files.imdb(tmp_path)

    def val_rows(**kw):
        ds = build(_cfg("text", tmp_path, seq_len=64, **kw))
        return ds, ds.val.get(np.arange(len(ds.val)))["inputs"].tolist()

    _, v42 = val_rows()
    assert val_rows()[1] == v42
    assert val_rows(split_seed=7)[1] != v42
    ds, _ = val_rows(max_examples=5)
    assert (len(ds.train), len(ds.val), len(ds.test)) == (5, 2, 5)
    # a cap is a random subset, not the first files (which are all negative)
    assert set(ds.test.get(np.arange(5))["targets"].tolist()) == {0, 1}
    _check_batching(ds.train, batch_size=2)


def test_text_char_vocabulary_keeps_exactly_the_frequent_training_characters(tmp_path):
    reviews = {
        ("train", "neg", 0): "a" * 10 + "b" * 5 + "c" * 7,
        ("train", "neg", 1): "a" * 10 + "b" * 10 + "c" * 7,
        ("train", "pos", 0): "é" * 15 + "d" * 14,
        # 14 'q' within the first seq_len - 1 = 39 characters, 6 more beyond: not counted
        ("train", "pos", 1): "q" * 14 + "w" * 25 + "q" * 6,
        ("test", "neg", 0): "z" * 30,  # test text never enters the vocabulary
        ("test", "pos", 0): "zabq",
    }
    for (split, sub, i), text in reviews.items():
        folder = tmp_path / "aclImdb" / split / sub
        folder.mkdir(parents=True, exist_ok=True)
        (folder / f"{i}_5.txt").write_text(text, encoding="utf-8")
    cfg = _cfg("text", tmp_path, seq_len=40, tokenizer="chars", min_freq=15, val_split="test")
    ds = build(cfg)
    # counts within 39 characters: w 25, a 20, b 15, é 15 | c 14, d 14, q 14 (20 in all), z 0
    vocab = ["<pad>", "<unk>", "<eos>", "w", "a", "b", "é"]
    assert ds.meta.extra["vocab"] == vocab and ds.meta.in_features == len(vocab)
    assert ds.meta.extra["val_is_test"] and ds.val is ds.test
    assert (len(ds.train), len(ds.test)) == (4, 2)
    ids = {ch: i for i, ch in enumerate(vocab)}
    for name, split in (("train", "train"), ("test", "test")):
        src = ds.split(name)
        b = src.get(np.arange(len(src)))
        got = set()
        for row, n in zip(b["inputs"], b["lengths"], strict=True):
            assert row[n - 1] == 2 and not row[n:].any()
            got.add(tuple(row[: n - 1].tolist()))
        want = {
            tuple(ids.get(ch, 1) for ch in text[:39])
            for (sp, _, _), text in reviews.items()
            if sp == split
        }
        assert got == want
    # the threshold is inclusive and the order is by count, ties by code point
    assert lra_text.char_vocab(["xxyyy", "x"], 3)[3:] == ("x", "y")
    assert lra_text.char_vocab(["xxyyy", "x"], 4) == lra_text.CHAR_SPECIALS
    with pytest.raises(DataError, match="tokenizer"):
        build(_cfg("text", tmp_path, tokenizer="words"))
    with pytest.raises(DataError, match="val_split"):
        build(_cfg("text", tmp_path, val_split="none"))


def test_text_missing_and_empty(tmp_path, lra_files):
    with pytest.raises(DataError) as info:
        build(_cfg("text", tmp_path))
    msg = str(info.value)
    assert str(tmp_path / "aclImdb") in msg and "aclImdb_v1.tar.gz" in msg and "tfds" in msg
    lra_files.imdb(tmp_path)
    for f in (tmp_path / "aclImdb" / "test" / "pos").glob("*.txt"):
        f.unlink()
    with pytest.raises(DataError, match=r"no \*\.txt") as info:
        build(_cfg("text", tmp_path))
    assert str(tmp_path / "aclImdb" / "test" / "pos") in str(info.value)


# ============================================================================ Retrieval (AAN)


def test_retrieval_pairs_shapes_and_bytes(tmp_path, lra_files):
    rows = lra_files.aan(tmp_path)
    ds = build(_cfg("retrieval", tmp_path, seq_len=24))
    m = ds.meta
    assert (m.seq_len, m.input_kind, m.in_features, m.output_kind, m.n_outputs) == (
        24,
        "tokens",
        258,
        "retrieval",
        2,
    )
    assert (len(ds.train), len(ds.val), len(ds.test)) == (8, 8, 8)
    b = ds.val.get(np.array([1, 6]))
    assert b["inputs"].shape == (2, 2, 24) and b["inputs"].dtype == np.int32
    assert b["lengths"].shape == (2, 2) and b["lengths"].dtype == np.int32
    assert b["targets"].tolist() == [1, 0]
    for r, i in enumerate((1, 6)):
        fields = rows["eval"][i].split("\t")
        for d in range(2):
            raw = _decode_bytes(b["inputs"][r, d], b["lengths"][r, d])
            assert raw == fields[3 + d].encode()[:23]  # raw field, b'...' wrapper kept
            assert not b["inputs"][r, d, b["lengths"][r, d] :].any()
    first = _check_batching(ds.train, batch_size=3)
    assert first["inputs"].shape == (3, 2, 24) and first["lengths"].shape == (3, 2)
    capped = build(_cfg("retrieval", tmp_path, max_examples=3))
    assert len(capped.test) == 3 and capped.meta.seq_len == 4000


@pytest.mark.parametrize(
    "row, what",
    [("1\tid1\tid2\tonly four", "5 tab-separated columns"), ("2\ta\tb\tc\td", "label")],
)
def test_retrieval_malformed_and_missing(tmp_path, row, what, lra_files):
    with pytest.raises(DataError) as info:
        build(_cfg("retrieval", tmp_path))
    msg = str(info.value)
    assert str(tmp_path / "tsv_data") in msg and "lra_release" in msg
    lra_files.aan(tmp_path)
    path = tmp_path / "tsv_data" / "new_aan_pairs.test.tsv"
    path.write_text("0\ta\tb\tc\td\n" + row + "\n")
    with pytest.raises(DataError, match=what) as info:
        build(_cfg("retrieval", tmp_path))
    assert f"{path} line 2" in str(info.value)
    path.write_text("")
    with pytest.raises(DataError, match="empty"):
        build(_cfg("retrieval", tmp_path))


# ============================================================================ Image (CIFAR-10)


def _pil_gray(row):
    """Independent grayscale: rebuild the 32x32 RGB image and let PIL convert it."""
    img = row.reshape(3, 32, 32).transpose(1, 2, 0)
    return np.asarray(Image.fromarray(img, "RGB").convert("L"), dtype=np.float64).reshape(-1)


def test_image_grayscale_normalisation_and_splits(tmp_path, lra_files):
    batches = lra_files.cifar(tmp_path)
    ds = build(_cfg("image", tmp_path))
    m = ds.meta
    assert (m.seq_len, m.input_kind, m.in_features, m.output_kind, m.n_outputs) == (
        1024,
        "real",
        1,
        "classification",
        10,
    )
    assert (len(ds.train), len(ds.val), len(ds.test)) == (90, 10, 20)
    test_data, test_labels = batches["test_batch"]
    b = ds.test.get(np.arange(20))
    assert b["inputs"].shape == (20, 1024, 1) and b["inputs"].dtype == np.float32
    assert b["targets"].tolist() == test_labels
    for r in range(20):
        expect = (_pil_gray(test_data[r]) - 122.6) / 61.0
        np.testing.assert_allclose(b["inputs"][r, :, 0], expect, atol=1e-5)
    # train + val partition the 100 training images
    train_rows = np.concatenate([batches[f"data_batch_{i}"][0] for i in range(1, 6)])
    gray = np.stack([_pil_gray(r) for r in train_rows])
    got = []
    for name in ("train", "val"):
        src = ds.split(name)
        x = src.get(np.arange(len(src)))["inputs"][..., 0] * 61.0 + 122.6
        got += [int(np.argmin(np.abs(gray - row).sum(1))) for row in x]
    assert sorted(got) == list(range(100))
    _check_batching(ds.train, batch_size=8)
    capped = build(_cfg("image", tmp_path, max_examples=7))
    assert (len(capped.train), len(capped.val), len(capped.test)) == (7, 7, 7)


def test_image_missing_and_malformed(tmp_path, lra_files):
    with pytest.raises(DataError) as info:
        build(_cfg("image", tmp_path))
    assert str(tmp_path / "cifar-10-batches-py") in str(info.value)
    assert "cifar-10-python.tar.gz" in str(info.value)
    lra_files.cifar(tmp_path)
    bad = tmp_path / "cifar-10-batches-py" / "data_batch_3"
    with open(bad, "wb") as f:
        pickle.dump({b"data": np.zeros((2, 3072), np.uint8), b"labels": [1, 10]}, f)
    with pytest.raises(DataError, match="entry 1 has label 10") as info:
        build(_cfg("image", tmp_path))
    assert str(bad) in str(info.value)
    bad.write_bytes(b"not a pickle")
    with pytest.raises(DataError, match="data_batch_3"):
        build(_cfg("image", tmp_path))
    bad.unlink()
    with pytest.raises(DataError, match="data_batch_3"):
        build(_cfg("image", tmp_path))


# ============================================================================ Pathfinder / Path-X


def _identify(x, images):
    """Which fixture image is row ``x`` (flat pixels in [0, 255])?"""
    hits = [key for key, img in images.items() if np.allclose(img.reshape(-1), x, atol=1e-3)]
    assert len(hits) == 1
    return hits[0]


@pytest.mark.parametrize("cache", [False, True])
def test_pathfinder_pixels_labels_split(tmp_path, cache, lra_files):
    folder, images, labels = lra_files.pathfinder(tmp_path)
    ds = build(_cfg("pathfinder", tmp_path, cache=cache))
    m = ds.meta
    assert (m.seq_len, m.input_kind, m.in_features, m.output_kind, m.n_outputs) == (
        1024,
        "real",
        1,
        "classification",
        2,
    )
    assert (len(ds.train), len(ds.val), len(ds.test)) == (16, 2, 2)
    seen = []
    for name in ("train", "val", "test"):
        src = ds.split(name)
        b = src.get(np.arange(len(src)))
        assert b["inputs"].shape == (len(src), 1024, 1) and b["inputs"].dtype == np.float32
        assert b["inputs"].min() >= 0.0 and b["inputs"].max() <= 1.0
        for r in range(len(src)):
            key = _identify(b["inputs"][r, :, 0] * 255.0, images)
            assert b["targets"][r] == labels[key]
            seen.append(key)
    assert sorted(seen) == sorted(images)
    assert (folder / lra_pathfinder.CACHE_NAME).exists() == cache
    _check_batching(ds.train, batch_size=4)


def test_pathfinder_cache_matches_lazy_and_is_reused(tmp_path, lra_files):
    folder, _, _ = lra_files.pathfinder(tmp_path)
    lazy = build(_cfg("pathfinder", tmp_path, center=True))
    cached = build(_cfg("pathfinder", tmp_path, center=True, cache=True))
    idx = np.arange(len(lazy.train))
    np.testing.assert_array_equal(lazy.train.get(idx)["inputs"], cached.train.get(idx)["inputs"])
    x = lazy.train.get(idx)["inputs"]
    assert x.min() >= -1.0 and x.max() <= 1.0 and x.min() < -0.9 and x.max() > 0.9
    stamp = (folder / lra_pathfinder.CACHE_NAME).stat().st_mtime_ns
    for png in (folder / "imgs").rglob("*.png"):  # the cache no longer needs the PNGs
        png.unlink()
    again = build(_cfg("pathfinder", tmp_path, center=True, cache=True))
    np.testing.assert_array_equal(
        again.test.get(np.arange(2))["inputs"], cached.test.get(np.arange(2))["inputs"]
    )
    assert (folder / lra_pathfinder.CACHE_NAME).stat().st_mtime_ns == stamp
    assert not list(folder.glob("*.tmp*"))


def test_regenerated_images_replace_the_cache(tmp_path):
    """Regenerating with another seed (--overwrite) serves the new pixels from cache=True."""
    from freqssm.datagen import pathfinder as pf

    folder = pf.generate(tmp_path, n=12, seed=0, workers=1, progress=False)
    first = build(_cfg("pathfinder", tmp_path, cache=True, max_examples=None))
    idx = np.arange(len(first.train))
    old = first.train.get(idx)["inputs"]
    assert (folder / lra_pathfinder.CACHE_KEY).is_file()
    pf.generate(tmp_path, n=12, seed=1, workers=1, progress=False, overwrite=True)
    assert not (folder / lra_pathfinder.CACHE_NAME).exists()  # --overwrite removed it
    lazy = build(_cfg("pathfinder", tmp_path, max_examples=None)).train.get(idx)["inputs"]
    assert not np.array_equal(lazy, old)
    cached = build(_cfg("pathfinder", tmp_path, cache=True, max_examples=None))
    np.testing.assert_array_equal(cached.train.get(idx)["inputs"], lazy)
    # images replaced behind the cache's back (same names, no --overwrite) are noticed too
    pf.generate(tmp_path / "other", n=12, seed=2, workers=1, progress=False)
    for png in (tmp_path / "other").rglob("*.png"):
        dst = folder / png.relative_to(tmp_path / "other" / folder.parent.name / folder.name)
        dst.write_bytes(png.read_bytes())
    swapped = build(_cfg("pathfinder", tmp_path, max_examples=None)).train.get(idx)["inputs"]
    assert not np.array_equal(swapped, lazy)
    again = build(_cfg("pathfinder", tmp_path, cache=True, max_examples=None))
    np.testing.assert_array_equal(again.train.get(idx)["inputs"], swapped)


def test_a_subset_run_caches_only_its_rows(tmp_path, lra_files):
    folder, _, _ = lra_files.pathfinder(tmp_path, n_files=2, per_file=20)
    small = build(_cfg("pathfinder", tmp_path, cache=True, max_examples=4))
    n_used = len(small.train) + len(small.val) + len(small.test)
    cached = np.load(folder / lra_pathfinder.CACHE_NAME, mmap_mode="r")
    assert cached.shape == (n_used, 1024) and n_used < 40
    lazy = build(_cfg("pathfinder", tmp_path, max_examples=4))
    for s in ("train", "val", "test"):
        i = np.arange(len(lazy.split(s)))
        for k in ("inputs", "targets"):
            np.testing.assert_array_equal(small.split(s).get(i)[k], lazy.split(s).get(i)[k])
    full = build(_cfg("pathfinder", tmp_path, cache=True, max_examples=None))  # other rows: rebuilt
    assert np.load(folder / lra_pathfinder.CACHE_NAME, mmap_mode="r").shape == (40, 1024)
    i = np.arange(len(full.train))
    lazy_full = build(_cfg("pathfinder", tmp_path, max_examples=None)).train.get(i)["inputs"]
    np.testing.assert_array_equal(full.train.get(i)["inputs"], lazy_full)


def test_pathx_resolution_and_split_seed(tmp_path, lra_files):
    lra_files.pathfinder(tmp_path, res=128, n_files=1, per_file=10)
    ds = build(_cfg("pathx", tmp_path))
    assert ds.meta.seq_len == 16384 and ds.meta.extra["resolution"] == 128
    assert (len(ds.train), len(ds.val), len(ds.test)) == (8, 1, 1)
    assert ds.train.get(np.arange(2))["inputs"].shape == (2, 16384, 1)
    other = build(_cfg("pathx", tmp_path, split_seed=1))
    assert not np.array_equal(ds.train.index, other.train.index)


def test_pathfinder_missing_names_path_and_command(tmp_path):
    with pytest.raises(DataError) as info:
        build(_cfg("pathfinder", tmp_path))
    msg = str(info.value)
    assert str(tmp_path / "pathfinder32" / "curv_contour_length_14") in msg
    assert f"python -m freqssm.datagen.pathfinder --out {tmp_path} --resolution 32" in msg
    with pytest.raises(DataError, match="--resolution 128"):
        build(_cfg("pathx", tmp_path))


@pytest.mark.parametrize(
    "line, what", [("imgs/0 sample_0.png 0", ">= 4"), ("imgs/0 sample_0.png 0 2 1", "label")]
)
def test_pathfinder_malformed_metadata(tmp_path, line, what, lra_files):
    folder, _, _ = lra_files.pathfinder(tmp_path)
    meta = folder / "metadata" / "1.npy"
    meta.write_text("imgs/1 sample_0.png 0 1 1\n" + line + "\n")
    with pytest.raises(DataError, match=what) as info:
        build(_cfg("pathfinder", tmp_path))
    assert f"{meta} line 2" in str(info.value)
    meta.write_text("")
    with pytest.raises(DataError, match="empty") as info:
        build(_cfg("pathfinder", tmp_path))
    assert str(meta) in str(info.value)


def test_pathfinder_unreadable_and_wrong_size_images(tmp_path, lra_files):
    folder, _, _ = lra_files.pathfinder(tmp_path, n_files=1)
    ds = build(_cfg("pathfinder", tmp_path, split_seed=0))
    broken = folder / "imgs" / "0" / "sample_3.png"
    broken.write_bytes(b"\x89PNG garbage")
    row = int(np.flatnonzero(np.asarray(ds.train.paths) == str(broken))[0])
    split = next(s for s in ("train", "val", "test") if row in ds.split(s).index)
    pos = int(np.flatnonzero(ds.split(split).index == row)[0])
    with pytest.raises(DataError, match="cannot read Pathfinder image") as info:
        ds.split(split).get(np.array([pos]))
    assert str(broken) in str(info.value) and "0.npy line 4" in str(info.value)
    Image.fromarray(np.zeros((16, 16), np.uint8), "L").save(broken)
    with pytest.raises(DataError, match="16x16, expected 32x32"):
        ds.split(split).get(np.array([pos]))
    with pytest.raises(DataError, match=r"sample_3\.png"):
        build(_cfg("pathfinder", tmp_path, cache=True))
    assert not (folder / lra_pathfinder.CACHE_NAME).exists() and not list(folder.glob("*.tmp*"))


def test_pathfinder_blacklist_is_skipped(tmp_path, lra_files):
    folder, _, _ = lra_files.pathfinder(
        tmp_path, n_files=1, per_file=200, difficulty="curv_baseline"
    )
    (folder / "imgs" / "0" / "sample_172.png").write_bytes(b"")  # the known empty file
    ds = build(_cfg("pathfinder", tmp_path, difficulty="curv_baseline", max_examples=None))
    assert len(ds.train) + len(ds.val) + len(ds.test) == 199
    assert str(folder / "imgs" / "0" / "sample_172.png") not in ds.train.paths


# ============================================================================ tfds sources


def _mock_data():
    tfds = pytest.importorskip("tensorflow_datasets")
    return tfds.testing.mock_data(num_examples=20)


def test_text_tfds_mock(tmp_path):
    with _mock_data():
        ds = build(_cfg("text", tmp_path, source="tfds", seq_len=32))
        assert (len(ds.train), len(ds.val), len(ds.test)) == (18, 2, 20)
        b = ds.train.get(np.arange(4))
    assert b["inputs"].shape == (4, 32) and b["inputs"].dtype == np.int32
    assert b["lengths"].dtype == np.int32 and (b["lengths"] >= 1).all()
    for r in range(4):
        assert b["inputs"][r, b["lengths"][r] - 1] == lra_common.BYTE_EOS
        assert not b["inputs"][r, b["lengths"][r] :].any()
    assert set(b["targets"].tolist()) <= {0, 1}


def test_image_tfds_mock(tmp_path):
    with _mock_data():
        ds = build(_cfg("image", tmp_path, source="tfds", max_examples=6))
        assert (len(ds.train), len(ds.val), len(ds.test)) == (6, 2, 6)
        b = ds.test.get(np.arange(3))
        tfds = pytest.importorskip("tensorflow_datasets")
        raw = tfds.data_source("cifar10", split="test")
        img = np.asarray(raw[int(ds.test.index[0])]["image"])
    assert b["inputs"].shape == (3, 1024, 1) and b["inputs"].dtype == np.float32
    gray = np.asarray(Image.fromarray(img, "RGB").convert("L"), np.float64).reshape(-1)
    np.testing.assert_allclose(b["inputs"][0, :, 0], (gray - 122.6) / 61.0, atol=1e-5)


def test_tfds_not_prepared_names_build_command(tmp_path):
    pytest.importorskip("tensorflow_datasets")
    with pytest.raises(DataError, match="tfds build imdb_reviews"):
        build(_cfg("text", tmp_path, source="tfds", tfds_dir=str(tmp_path / "tfds")))
    with pytest.raises(DataError, match="'files' or 'tfds'"):
        build(_cfg("image", tmp_path, source="torchvision"))
