import importlib.util
import os
import pickle
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from types import SimpleNamespace

# Tests never talk to wandb's servers and never use more threads than the machine has.
os.environ.setdefault("WANDB_MODE", "disabled")
os.environ.setdefault("WANDB_SILENT", "true")

# Compile time, not arithmetic, is most of this suite: XLA's optimization passes are skipped
# (tests compare numbers with tolerances and assert no timings; the benchmark's smoke run only
# checks its report's shape), and every compiled program is kept in a compilation cache
# shared by the test processes of this session (the xdist workers and the CLI subprocesses inherit
# these variables from the process that imports this file first), so the many runs of the same
# small configs compile once. Set before jax is imported: jax reads them at import.
os.environ.setdefault("JAX_DISABLE_MOST_OPTIMIZATIONS", "1")
_OWN_CACHE = "JAX_COMPILATION_CACHE_DIR" not in os.environ
if _OWN_CACHE:
    os.environ["JAX_COMPILATION_CACHE_DIR"] = tempfile.mkdtemp(prefix="freqssm-jax-cache-")
os.environ.setdefault("JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS", "0")
os.environ.setdefault("JAX_PERSISTENT_CACHE_MIN_ENTRY_SIZE_BYTES", "0")
# The xdist workers already use every core: one XLA thread each avoids oversubscribing them.
os.environ.setdefault(
    "XLA_FLAGS", "--xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1"
)

import jax  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
from PIL import Image  # noqa: E402

from freqssm.data import build as build_data  # noqa: E402

REPO = Path(__file__).resolve().parents[1]


def pytest_collection_modifyitems(config, items):
    # The long end-to-end tests (marked slow) first: the xdist workers then end on short tests
    # taken from each other's queues instead of one core finishing a 30 s test alone.
    items.sort(key=lambda item: item.get_closest_marker("slow") is None)


def pytest_unconfigure(config):
    # the process that made the cache removes it (xdist workers inherit and leave it alone)
    if _OWN_CACHE and not os.environ.get("PYTEST_XDIST_WORKER"):
        shutil.rmtree(os.environ["JAX_COMPILATION_CACHE_DIR"], ignore_errors=True)


@pytest.fixture
def x64():
    """Run a test in float64 (scoped: other tests keep JAX's float32 default)."""
    with jax.enable_x64(True):
        yield


# --------------------------------------------------------------------------- the waves smoke config


def load_config(path: str | Path, variant: str | None = None):
    """``get_config(variant)`` of a config file, as ``--config=path:variant`` loads it."""
    from freqssm.config import load_config as load

    return load(f"{path}:{variant}" if variant else path)


def load_script(name: str):
    """``scripts/<name>.py`` as a module, without putting scripts/ on ``sys.path`` (registered
    in ``sys.modules`` as ``scripts_<name>``, as dataclasses in it need, and loaded once)."""
    key = f"scripts_{name}"
    if key not in sys.modules:
        spec = importlib.util.spec_from_file_location(key, REPO / "scripts" / f"{name}.py")
        mod = importlib.util.module_from_spec(spec)
        sys.modules[key] = mod
        try:
            spec.loader.exec_module(mod)
        except BaseException:
            del sys.modules[key]
            raise
    return sys.modules[key]


def smoke_config(**overrides):
    """The waves :smoke config without analysis and progress bar, with dotted-key overrides."""
    cfg = load_config(REPO / "configs" / "waves.py", "smoke")
    cfg.train.analysis = False
    cfg.train.progress = False
    for k, v in overrides.items():
        node = cfg
        *path, last = k.split(".")
        for p in path:
            node = node[p]
        node[last] = v
    return cfg


@pytest.fixture(scope="session")
def script():
    """``script("sweep")`` -> ``scripts/sweep.py`` as a module (scripts/ stays off sys.path)."""
    return load_script


@pytest.fixture(scope="session")
def train_cli():
    """``train_cli(*args, timeout=300, env=None)`` -> the finished ``python -m freqssm.train
    ARGS`` (wandb off, output captured). ``timeout`` guards against a hang; it is no timing."""

    def run(*args, timeout=300, env=None):
        env = dict(os.environ, WANDB_MODE="disabled", **(env or {}))
        cmd = [sys.executable, "-m", "freqssm.train", *map(str, args)]
        return subprocess.run(
            cmd, cwd=REPO, env=env, capture_output=True, text=True, timeout=timeout
        )

    return run


def _rel_err(a, b) -> float:
    a, b = np.asarray(a), np.asarray(b)
    return float(np.max(np.abs(a - b)) / max(np.max(np.abs(b)), 1e-300))


@pytest.fixture(scope="session")
def rel_err():
    """``rel_err(a, b)``: max |a - b| / max |b| (the float64 tests' error measure)."""
    return _rel_err


@pytest.fixture
def config_file():
    """``config_file("lra_listops.py", "smoke")`` -> that file's ``get_config(variant)``."""
    return lambda name, variant=None: load_config(REPO / "configs" / name, variant)


@pytest.fixture(scope="session")
def smoke():
    """``smoke(**{"train.steps": 4, ...})`` -> a tiny waves RunConfig (seconds to train)."""
    from freqssm.config import from_config_dict

    return lambda **overrides: from_config_dict(smoke_config(**overrides))


def _make_layer(cls, **kw):
    """An S5 or S4D layer from flat keyword settings: the ``model.ssm`` keys (``init``, ...), the
    Sobolev settings as ``beta``, ``beta_learnable``, ``sobolev_c``, module arguments
    (``param_dtype``, ``name``, ``parent``); an S5 starts from HiPPO eigenvalues unless told."""
    from freqssm.model.config import SobolevConfig, SSMConfig
    from freqssm.model.layers import S5

    module = {k: kw.pop(k) for k in ("param_dtype", "name", "parent") if k in kw}
    renamed = (("beta", "beta"), ("beta_learnable", "learnable"), ("sobolev_c", "c"))
    sob = {new: kw.pop(old) for old, new in renamed if old in kw}
    if "lambda_init" in kw:
        kw["init"] = kw.pop("lambda_init")
    if cls is S5:
        kw.setdefault("init", "hippo")
    kind = "s5" if cls is S5 else "s4d"
    return cls(SSMConfig(kind=kind, **kw, sobolev=SobolevConfig(**sob)), **module)


@pytest.fixture(scope="session")
def make_layer():
    """``make_layer(S5, state_size=8, beta=1.0, param_dtype=jnp.float64)``: a layer from flat
    settings (see :func:`_make_layer`)."""
    return _make_layer


@pytest.fixture(scope="session")
def smoke_dict():
    """:func:`smoke`'s config before conversion (the ml_collections ConfigDict a user writes)."""
    return smoke_config


# --------------------------------------------------------------------------- LRA fixture files
# Writers of each LRA task's official on-disk layout, for the loader tests (no download).


LISTOPS_ROWS = [
    ("( ( ( [MAX 2 ) 9 ) ] )", 9),
    ("( ( ( [SM 5 ) ( ( ( [MIN 3 ) 4 ) ] ) ) ] )", 8),
    ("( ( ( ( [MED 1 ) 7 ) 3 ) ] )", 3),
    ("( ( ( [FIRST 1 ) 2 ) ] )", 1),  # unknown operator -> <unk>
    ("( ( ( [MIN 0 ) 6 ) ] )", 0),
    ("( ( ( [MAX 4 ) 4 ) ] )", 4),
]


def write_listops(root, rows=LISTOPS_ROWS, eol="\r\n", splits=("train", "val", "test")):
    folder = root / "listops-1000"
    folder.mkdir(parents=True, exist_ok=True)
    for split in splits:
        text = eol.join(["Source\tTarget"] + [f"{s}\t{y}" for s, y in rows]) + eol
        (folder / f"basic_{split}.tsv").write_text(text, newline="")
    return folder


def write_imdb(root, n=10):
    texts = {}
    for split in ("train", "test"):
        for label, sub in enumerate(("neg", "pos")):
            folder = root / "aclImdb" / split / sub
            folder.mkdir(parents=True)
            for i in range(n):
                text = f"{split} {sub} review {i} " + "é" * i + "!" * (3 * i)
                (folder / f"{i}_{7 if label else 2}.txt").write_text(text, encoding="utf-8")
                texts.setdefault(split, []).append((text, label))
    (root / "aclImdb" / "train" / "unsup").mkdir()
    (root / "aclImdb" / "train" / "unsup" / "0_0.txt").write_text("unlabelled")
    return texts


def write_aan(root, n=8, rows=None):
    folder = root / "tsv_data"
    folder.mkdir(parents=True, exist_ok=True)
    out = {}
    for split in ("train", "eval", "test"):
        lines = rows or [
            f"{['0', '1.0'][i % 2]}\tid{i}a\tid{i}b\tb'{split} doc {i} one'\tb'doc {i} two "
            + "x" * i
            + "'"
            for i in range(n)
        ]
        (folder / f"new_aan_pairs.{split}.tsv").write_bytes(("\n".join(lines) + "\n").encode())
        out[split] = lines
    return out


def write_cifar(root, n=20, seed=0):
    rng = np.random.default_rng(seed)
    folder = root / "cifar-10-batches-py"
    folder.mkdir(parents=True)
    batches = {}
    for name in [f"data_batch_{i}" for i in range(1, 6)] + ["test_batch"]:
        data = rng.integers(0, 256, size=(n, 3072), dtype=np.uint8)
        labels = rng.integers(0, 10, size=n).tolist()
        with open(folder / name, "wb") as f:
            pickle.dump({b"data": data, b"labels": labels, b"batch_label": name.encode()}, f)
        batches[name] = (data, labels)
    return batches


def write_pathfinder(root, res=32, n_files=2, per_file=10, difficulty="curv_contour_length_14"):
    folder = root / f"pathfinder{res}" / difficulty
    rng = np.random.default_rng(res)
    images, labels = {}, {}
    for k in range(n_files):
        (folder / "imgs" / str(k)).mkdir(parents=True)
        (folder / "metadata").mkdir(exist_ok=True)
        lines = []
        for i in range(per_file):
            img = rng.integers(0, 256, size=(res, res), dtype=np.uint8)
            Image.fromarray(img, "L").save(folder / "imgs" / str(k) / f"sample_{i}.png")
            label = int(rng.integers(0, 2))
            lines.append(f"imgs/{k} sample_{i}.png {i} {label} 1.0 14 4 2 0.5 1 1")
            images[(k, i)], labels[(k, i)] = img, label
        (folder / "metadata" / f"{k}.npy").write_text("\n".join(lines) + "\n")
    return folder, images, labels


@pytest.fixture
def lra_files():
    """The LRA layout writers: ``lra_files.listops(root)``, ``.imdb``, ``.aan``, ``.cifar``,
    ``.pathfinder``, and the ListOps rows written by default (``.LISTOPS_ROWS``)."""
    return SimpleNamespace(
        LISTOPS_ROWS=LISTOPS_ROWS,
        listops=write_listops,
        imdb=write_imdb,
        aan=write_aan,
        cifar=write_cifar,
        pathfinder=write_pathfinder,
    )


# ----------------------------------------------------------------- the denoising evaluation


def _mask_filter(pass_band):
    """Ideal filter keeping the rFFT bins inside ``pass_band`` (fractions of Nyquist)."""

    def f(x):
        L = x.shape[-2]
        spec = np.fft.rfft(np.asarray(x, np.float64), axis=-2)
        frac = np.arange(L // 2 + 1) / (L / 2)
        spec[..., (frac < pass_band[0]) | (frac > pass_band[1]), :] = 0
        return np.fft.irfft(spec, n=L, axis=-2)

    return f


def _denoise_cfg():
    from freqssm.config import from_config_dict

    return from_config_dict(
        {
            "data": {
                "name": "denoise",
                "grid": (16, 8),
                "n_train": 4,
                "n_val": 2,
                "n_test": 6,
                "batch_size": 4,
                "low_band": (0.0, 0.05),
                "high_band": (0.5, 1.0),
                "noise_sigma": 0.2,
                "noise_seed": 3,
                "n_examples": 2,
            },
            "model": {"ssm": {"kind": "s4d", "alpha": 1.0, "sobolev": {"beta": 0.0}}},
        }
    )


@pytest.fixture(scope="session")
def denoise_case():
    """A tiny denoising task for the evaluation tests: ``.cfg()`` (its RunConfig), ``.dataset``
    (built once), ``.mask_filter(pass_band)`` (an ideal filter keeping that band)."""
    return SimpleNamespace(
        cfg=_denoise_cfg, dataset=build_data(_denoise_cfg().data), mask_filter=_mask_filter
    )
