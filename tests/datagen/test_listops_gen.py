"""The ListOps generator: official format, tree law, determinism, and labels checked twice."""

import csv
import statistics
from collections import Counter

import numpy as np
import pytest

from freqssm.datagen import listops
from freqssm.datagen.listops import OPERATORS, evaluate, generate, iter_trees, tokenize

WINDOW = {"min_length": 20, "max_length": 80}


def _rows(path):
    with open(path, newline="") as f:
        raw = f.read()
    assert raw.endswith("\r\n") and raw.count("\n") == raw.count("\r\n"), "csv.writer line ends"
    rows = list(csv.reader(raw.splitlines(), delimiter="\t"))
    assert rows[0] == ["Source", "Target"]
    return [(src, int(lab)) for src, lab in rows[1:]]


@pytest.fixture(scope="module")
def small(tmp_path_factory):
    out = tmp_path_factory.mktemp("listops")
    paths = generate(out, n_train=400, n_val=50, n_test=50, seed=0, progress=False, **WINDOW)
    return {split: _rows(p) for split, p in paths.items()}, paths


# --------------------------------------------------------------- two independent evaluators


def _parse(tokens):
    """Bare LRA tokens -> nested (op, [children]) / int, written independently of the module."""
    pos = 0

    def node():
        nonlocal pos
        tok = tokens[pos]
        pos += 1
        if tok.isdigit():
            return int(tok)
        children = []
        while tokens[pos] != "X":
            children.append(node())
        pos += 1
        return (tok, children)

    tree = node()
    assert pos == len(tokens)
    return tree


def _render_lra(tree):
    """LRA's string form: the left-nested pair chain ((op, c1), c2) ... , END)."""
    if isinstance(tree, int):
        return str(tree)
    op, children = tree
    s = op
    for c in children:
        s = f"( {s} {_render_lra(c)} )"
    return f"( {s} ] )"


def _depth(tree):
    return 0 if isinstance(tree, int) else 1 + max(_depth(c) for c in tree[1])


def _python_eval(expr):
    """Second evaluator: rewrite into a Python call expression and eval it."""
    env = {
        "MIN": lambda *a: min(a),
        "MAX": lambda *a: max(a),
        "MED": lambda *a: int(statistics.median(a)),
        "SM": lambda *a: sum(a) % 10,
    }
    parts = []
    for tok in expr.split():
        if tok in "()":
            continue
        if tok == "]":
            parts.append("),")
        elif tok.startswith("["):
            parts.append(tok[1:] + "(")
        else:
            parts.append(tok + ",")
    return eval("".join(parts), {"__builtins__": {}}, env)[0]


# --------------------------------------------------------------- evaluate


@pytest.mark.parametrize(
    "expr, value",
    [
        ("( ( ( [MAX 2 ) 9 ) ] )", 9),
        ("( ( ( ( [MIN 7 ) 3 ) 5 ) ] )", 3),
        ("[MED 1 2 3 4 ]", 2),  # median 2.5 truncated
        ("[MED 9 1 8 ]", 8),
        ("[MED 0 0 9 9 ]", 4),  # 4.5 truncated
        ("( ( ( [SM 9 ) 8 ) ] )", 7),
        ("[SM 5 [MAX 1 2 ] [MIN 8 9 ] ]", 5),  # 5 + 2 + 8 = 15 -> 5
        ("7", 7),
    ],
)
def test_evaluate_known_values(expr, value):
    assert evaluate(expr) == value
    assert _python_eval(expr) == value


@pytest.mark.parametrize(
    "expr", ["[MAX 1 2", "[MAX 1 2 ] ]", "[MAX ]", "[FIRST 1 2 ]", "1 2", "", "[MAX 12 3 ]"]
)
def test_evaluate_rejects_malformed(expr):
    with pytest.raises(ValueError):
        evaluate(expr)


def test_tokenize_is_the_lra_rule():
    assert tokenize("( ( ( [MAX 2 ) 9 ) ] )") == ["[MAX", "2", "9", "X"]


# --------------------------------------------------------------- generated files


def test_format_lengths_and_layout(small):
    rows, paths = small
    assert {s: len(r) for s, r in rows.items()} == {"train": 400, "val": 50, "test": 50}
    assert paths["train"].name == "basic_train.tsv"
    assert paths["train"].parent.name == "listops-1000"
    for split_rows in rows.values():
        for src, label in split_rows:
            toks = tokenize(src)
            assert WINDOW["min_length"] < len(toks) < WINDOW["max_length"]
            assert 0 <= label <= 9
            # exactly the LRA string form (pair chain, single spaces) of the tree it encodes
            assert src == _render_lra(_parse(toks))


def test_labels_agree_with_two_independent_evaluators(small):
    rows, _ = small
    for split_rows in rows.values():
        for src, label in split_rows:
            assert evaluate(src) == label
            assert _python_eval(src) == label


def test_no_duplicates_across_splits(small):
    rows, _ = small
    sources = [src for r in rows.values() for src, _ in r]
    assert len(set(sources)) == len(sources)


def test_label_distribution_not_degenerate(small):
    rows, _ = small
    counts = Counter(label for r in rows.values() for _, label in r)
    assert set(counts) == set(range(10)), counts
    assert max(counts.values()) < 0.5 * sum(counts.values()), counts


def test_operators_and_digits_uniform(small):
    # neither the operator nor a leaf's digit affects a tree's length, so conditioning on the
    # length window leaves both uniform
    rows, _ = small
    toks = [t for r in rows.values() for src, _ in r for t in tokenize(src)]
    ops = Counter(t for t in toks if t in OPERATORS)
    digits = Counter(t for t in toks if t.isdigit())
    n_ops, n_dig = sum(ops.values()), sum(digits.values())
    assert set(ops) == set(OPERATORS) and len(digits) == 10
    for c in ops.values():  # binomial std ~ sqrt(n/4 * 3/4) ~ 0.43 sqrt(n)
        assert abs(c - n_ops / 4) < 5 * 0.44 * np.sqrt(n_ops)
    for c in digits.values():
        assert abs(c - n_dig / 10) < 5 * 0.3 * np.sqrt(n_dig)
    # each operator node has 2..10 arguments, and arities beyond 2 occur
    arities = []

    def walk(t):
        if not isinstance(t, int):
            arities.append(len(t[1]))
            for c in t[1]:
                walk(c)

    for src, _ in rows["train"]:
        walk(_parse(tokenize(src)))
    assert min(arities) >= 2 and max(arities) <= 10 and len(set(arities)) >= 8


def test_deterministic_under_seed_and_prefix(tmp_path, small):
    rows, _ = small
    a = generate(tmp_path / "a", n_train=400, n_val=50, n_test=50, seed=0, progress=False, **WINDOW)
    for split in ("train", "val", "test"):
        assert a[split].read_bytes() == small[1][split].read_bytes()
    b = generate(tmp_path / "b", n_train=60, n_val=5, n_test=5, seed=0, progress=False, **WINDOW)
    assert _rows(b["train"]) == rows["train"][:60]  # the stream of kept trees is seed-determined
    c = generate(tmp_path / "c", n_train=60, n_val=5, n_test=5, seed=1, progress=False, **WINDOW)
    assert _rows(c["train"]) != rows["train"][:60]


def test_depth_limit_and_arity_flags():
    rng = np.random.default_rng(3)
    stream = iter_trees(rng, min_length=3, max_length=60, max_depth=3, max_args=3)
    depths, arities = Counter(), Counter()
    for _ in range(300):
        src, label, length = next(stream)
        tree = _parse(tokenize(src))
        depths[_depth(tree)] += 1
        assert len(tokenize(src)) == length and evaluate(src) == label

        def walk(t):
            if not isinstance(t, int):
                arities[len(t[1])] += 1
                for c in t[1]:
                    walk(c)

        walk(tree)
    # depth counts operator levels; leaves are forced at depth max_depth = 3
    assert set(depths) == {1, 2}
    assert set(arities) == {2, 3}


def test_impossible_windows_raise():
    with pytest.raises(ValueError, match="no tree"):
        next(iter_trees(np.random.default_rng(0), min_length=10, max_length=11))
    # max_depth 2, max_args 2: the longest tree is [OP d d ] (length 4)
    stream = iter_trees(
        np.random.default_rng(0),
        min_length=5,
        max_length=9,
        max_depth=2,
        max_args=2,
        max_empty_rounds=2,
    )
    with pytest.raises(ValueError, match="widen the window"):
        next(stream)


def test_cli_writes_official_files(tmp_path):
    args = "--n_train 7 --n_val 3 --n_test 2 --seed 5 --min_length 10 --max_length 40"
    listops.main(["--out", str(tmp_path), *args.split()])
    folder = tmp_path / "listops-1000"
    counts = {s: len(_rows(folder / f"basic_{s}.tsv")) for s in ("train", "val", "test")}
    assert counts == {"train": 7, "val": 3, "test": 2}
