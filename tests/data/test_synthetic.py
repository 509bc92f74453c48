"""data.name=synthetic: random batches with the shapes, dtypes and ranges of each LRA task."""

import numpy as np
import pytest
from ml_collections import ConfigDict

from freqssm import data as data_lib
from freqssm.data.base import train_batches
from freqssm.data.lra import lra_meta
from freqssm.errors import DataError


@pytest.mark.parametrize("task", ["listops", "text", "retrieval", "image", "pathfinder", "pathx"])
def test_synthetic_batches_have_the_tasks_layout(task):
    ds = data_lib.build(ConfigDict({"name": "synthetic", "like": task, "pool": 8, "n_train": 100}))
    meta = lra_meta(task)
    assert (ds.meta.seq_len, ds.meta.in_features, ds.meta.output_kind) == (
        meta.seq_len, meta.in_features, meta.output_kind)  # fmt: skip
    assert len(ds.train) == 100 and len(ds.val) == 1024
    b = next(train_batches(ds.train, 4, seed=0))
    L = meta.seq_len
    if task == "retrieval":
        assert b["inputs"].shape == (4, 2, L) and b["lengths"].shape == (4, 2)
    elif meta.input_kind == "tokens":
        assert b["inputs"].shape == (4, L) and b["inputs"].dtype == np.int32
        assert b["inputs"].min() >= 1 and b["inputs"].max() < meta.in_features
        assert (b["lengths"] == L).all()
    else:
        assert b["inputs"].shape == (4, L, 1) and b["inputs"].dtype == np.float32
        assert "lengths" not in b
    assert b["targets"].dtype == np.int32 and set(b["targets"]) <= set(range(meta.n_outputs))
    # example i is pool row i % pool: the same example, the same arrays
    np.testing.assert_array_equal(ds.train.get(np.array([3]))["inputs"],
                                  ds.train.get(np.array([11]))["inputs"])  # fmt: skip


def test_synthetic_seq_len_and_bad_task():
    ds = data_lib.build(ConfigDict({"name": "synthetic", "like": "pathx", "seq_len": 64}))
    assert ds.train.get(np.arange(2))["inputs"].shape == (2, 64, 1) and ds.meta.seq_len == 64
    with pytest.raises(DataError, match=r"data\.like='cifar'"):
        data_lib.build(ConfigDict({"name": "synthetic", "like": "cifar"}))
