"""The LRA ListOps generator (seeded numpy Generator) and an independent evaluator.

Usage::

    python -m freqssm.datagen.listops --out DIR [--seed 0]
        [--n_train 96000 --n_val 2000 --n_test 2000] [--min_length 500 --max_length 2000]

writes ``DIR/listops-1000/basic_{train,val,test}.tsv`` in the official format: a header row
``Source<TAB>Target``, then one ``expression<TAB>label`` row per example, rows ended by ``\\r\\n``
(the LRA script writes with ``csv.writer(delimiter="\\t")``, whose line terminator is ``\\r\\n``).

The tree distribution is LRA's (``lra_benchmarks/data/listops.py``):

* a node at depth ``d`` (root: d = 1) is a leaf digit ``U{0..9}`` with probability 0.75
  (``r > VALUE_P = 0.25``), always a leaf at ``d = max_depth``; otherwise it is an operator
  ``U{[MIN, [MAX, [MED, [SM}`` with ``k ~ U{2..max_args}`` children generated at depth ``d + 1``;
* the tree's length counts digits, operators and closing brackets ``]`` (parentheses excluded):
  leaf 1, operator node ``2 + sum(child lengths)``; a tree is kept only if
  ``min_length < length < max_length`` (strict), and only the first copy of a duplicate is kept;
* the string form nests each operator node as a left chain of pairs ``((op, c1), c2) .. ), END)``,
  each pair wrapped in ``( .. )``: e.g. ``( ( ( [MAX 2 ) 9 ) ] )`` is MAX(2, 9);
* labels: MIN/MAX of the children, MED = ``int(np.median(children))`` (a .5 median is
  truncated), SM = sum mod 10.

Differences from the original script, none of which change the distribution of a kept tree:
randomness comes from ``np.random.default_rng(seed)`` (the original never seeds Python's
``random``), whole batches of candidate trees are grown level by level with numpy, a candidate is
abandoned as soon as its partial length reaches ``max_length``, de-duplication keeps first
occurrences in generation order (the original iterates a Python set), and the splits are the
first ``n_train``, next ``n_val`` and next ``n_test`` unique trees. The stream of kept trees
depends only on ``(seed, min_length, max_length, max_depth, max_args)``, so a smaller request
yields a prefix of a larger one.

:func:`evaluate` computes a label from the string alone (a stack parser over the LRA tokens),
independently of the generator's tree arrays; tests use it to check the written labels.
"""

from __future__ import annotations

import argparse
import csv
import hashlib
from collections.abc import Iterator, Sequence
from pathlib import Path

import numpy as np
from tqdm import tqdm

OPERATORS: tuple[str, ...] = ("[MIN", "[MAX", "[MED", "[SM")
END = "]"
VALUE_P = 0.25
SPLITS: tuple[str, ...] = ("train", "val", "test")
CANDIDATES_PER_ROUND = 1 << 15  # fixed, so that the stream of kept trees depends on the seed only

# Codes of the rendered tokens (parentheses included), in the order of _RENDER.
_OPEN, _CLOSE, _END, _OP0, _DIGIT0 = 0, 1, 2, 3, 7
_RENDER = np.array(["(", ")", END, *OPERATORS, *(str(d) for d in range(10))], dtype=object)


# ----------------------------------------------------------------------------- tokens & evaluation


def tokenize(expr: str) -> list[str]:
    """The LRA ListOps tokenizer: ``]`` -> ``X``, parentheses deleted, split on whitespace."""
    return expr.replace("]", "X").replace("(", "").replace(")", "").split()


def _apply(op: str, args: Sequence[int]) -> int:
    if op == "[MIN":
        return min(args)
    if op == "[MAX":
        return max(args)
    if op == "[MED":
        s = sorted(args)
        n = len(s)
        return s[n // 2] if n % 2 else (s[n // 2 - 1] + s[n // 2]) // 2
    if op == "[SM":
        return sum(args) % 10
    raise ValueError(f"unknown operator {op!r}")


def evaluate(expr: str) -> int:
    """The value (0..9) of a ListOps expression string, e.g. ``"( ( ( [MAX 2 ) 9 ) ] )"`` -> 9.

    A stack parser over the LRA tokens (:func:`tokenize`), so it accepts the parenthesised
    official form and the bare prefix form (``"[MAX 2 9 ]"``) alike.

    Raises:
      ValueError: unknown token, an operator without arguments, unbalanced ``]``, or trailing
        tokens after a complete expression.
    """
    stack: list[tuple[str, list[int]]] = []
    result: int | None = None
    for tok in tokenize(expr):
        if result is not None:
            raise ValueError(f"trailing token {tok!r} after a complete expression")
        if tok in OPERATORS:
            stack.append((tok, []))
            continue
        if tok == "X":
            if not stack:
                raise ValueError("']' without an open operator")
            op, args = stack.pop()
            if not args:
                raise ValueError(f"operator {op} has no arguments")
            value = _apply(op, args)
        elif len(tok) == 1 and tok.isdigit():
            value = int(tok)
        else:
            raise ValueError(f"unknown token {tok!r}")
        if stack:
            stack[-1][1].append(value)
        else:
            result = value
    if stack or result is None:
        raise ValueError("incomplete expression")
    return result


# ----------------------------------------------------------------------------- generator


def _exclusive_cumsum(x: np.ndarray) -> np.ndarray:
    out = np.zeros(len(x), dtype=np.int64)
    if len(x) > 1:
        np.cumsum(x[:-1], out=out[1:])
    return out


def _grow(
    rng: np.random.Generator,
    m: int,
    max_depth: int,
    max_args: int,
    max_length: int,
) -> tuple[list[dict[str, np.ndarray]], np.ndarray, np.ndarray]:
    """Grow ``m`` candidate trees level by level.

    Returns per-level node arrays (``tree``, ``parent`` into the previous level, ``internal``,
    ``k`` children, ``op``, ``digit``; children of a node are contiguous and in sibling order),
    the length of every tree and whether it stayed below ``max_length``.
    """
    levels: list[dict[str, np.ndarray]] = []
    tree = np.arange(m, dtype=np.int64)
    parent = np.full(m, -1, dtype=np.int64)
    length = np.zeros(m, dtype=np.int64)
    alive = np.ones(m, dtype=bool)
    for depth in range(1, max_depth + 1):
        n = len(tree)
        if n == 0:
            break
        # the original's leaf test is r > VALUE_P; the last level is all leaves
        internal = rng.random(n) <= VALUE_P if depth < max_depth else np.zeros(n, dtype=bool)
        k = np.where(internal, rng.integers(2, max_args + 1, size=n), 0)
        op = rng.integers(0, len(OPERATORS), size=n)
        digit = rng.integers(0, 10, size=n)
        # each node adds one token; an operator node adds its closing bracket as well
        length += np.bincount(tree, weights=1 + internal, minlength=m).astype(np.int64)
        alive &= length < max_length
        k = np.where(alive[tree], k, 0)  # abandoned trees stop growing
        levels.append(
            {"tree": tree, "parent": parent, "internal": internal, "k": k, "op": op, "digit": digit}
        )
        parent = np.repeat(np.arange(n, dtype=np.int64), k)
        tree = tree[parent]
    return levels, length, alive


def _keep_trees(
    levels: list[dict[str, np.ndarray]], keep: np.ndarray
) -> list[dict[str, np.ndarray]]:
    """Restrict the level arrays to the trees in ``keep`` (bool per tree), renumbering them."""
    new_id = np.cumsum(keep) - 1
    out: list[dict[str, np.ndarray]] = []
    prev_index: np.ndarray | None = None
    for lev in levels:
        sel = keep[lev["tree"]]
        if not sel.any():
            break
        new = {key: v[sel] for key, v in lev.items()}
        new["tree"] = new_id[new["tree"]]
        if prev_index is not None:
            new["parent"] = prev_index[new["parent"]]
        prev_index = np.cumsum(sel) - 1
        out.append(new)
    return out


def _render(levels: list[dict[str, np.ndarray]]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Values and rendered token codes (parentheses included) of complete trees.

    Returns:
      codes: (total,) uint8 codes into ``_RENDER``, trees concatenated.
      offsets: (n_trees + 1,) start of each tree in ``codes``.
      labels: (n_trees,) int64 values of the roots.
    """
    n_levels = len(levels)
    size: list[np.ndarray] = [np.empty(0, np.int64)] * n_levels
    value: list[np.ndarray] = [np.empty(0, np.int64)] * n_levels
    for d in range(n_levels - 1, -1, -1):  # bottom-up: rendered sizes and values
        lev = levels[d]
        internal, k = lev["internal"], lev["k"]
        sz = np.ones(len(internal), dtype=np.int64)
        val = lev["digit"].astype(np.int64)
        if internal.any():
            child = levels[d + 1]
            csize = np.bincount(child["parent"], weights=size[d + 1], minlength=len(internal))
            sz[internal] = 2 * k[internal] + 4 + csize[internal].astype(np.int64)
            cv = value[d + 1]  # children of a node are contiguous, in the parents' order
            ki = k[internal]
            starts = _exclusive_cumsum(ki)
            mn = np.minimum.reduceat(cv, starts)
            mx = np.maximum.reduceat(cv, starts)
            sm = np.add.reduceat(cv, starts) % 10
            # median by counting: the j-th smallest child value is #{v : cum_count[v] <= j}
            counts = np.bincount(child["parent"] * 10 + cv, minlength=10 * len(internal))
            cum = counts.reshape(-1, 10).cumsum(axis=1)[internal]
            lo = (cum <= ((ki - 1) // 2)[:, None]).sum(axis=1)
            hi = (cum <= (ki // 2)[:, None]).sum(axis=1)
            med = (lo + hi) // 2
            val[internal] = np.choose(lev["op"][internal], [mn, mx, med, sm])
        size[d], value[d] = sz, val

    roots = levels[0]
    offsets = np.concatenate([[0], np.cumsum(size[0])]).astype(np.int64)
    codes = np.full(int(offsets[-1]), _CLOSE, dtype=np.uint8)
    pos = offsets[:-1].copy()  # global position of every node's first token, level by level
    for d in range(n_levels):
        lev = levels[d]
        internal, k = lev["internal"], lev["k"]
        leaf = ~internal
        codes[pos[leaf]] = _DIGIT0 + lev["digit"][leaf]
        if internal.any():
            p, ki = pos[internal], k[internal]
            n_open = ki + 1  # "(" x (k + 1), then the operator, children, ")" after each child
            opens = np.repeat(p - _exclusive_cumsum(n_open), n_open) + np.arange(n_open.sum())
            codes[opens] = _OPEN
            codes[p + ki + 1] = _OP0 + lev["op"][internal]
            codes[p + size[d][internal] - 2] = _END  # ... "]" ")"
            child = levels[d + 1]
            step = size[d + 1] + 1  # a child and the ")" closing its pair
            cs = _exclusive_cumsum(step)
            first_child = _exclusive_cumsum(k)  # index of each node's first child
            par = child["parent"]
            pos = pos[par] + k[par] + 2 + (cs - cs[first_child[par]])
    return codes, offsets, value[0][np.argsort(roots["tree"], kind="stable")]


def iter_trees(
    rng: np.random.Generator,
    min_length: int = 500,
    max_length: int = 2000,
    max_depth: int = 10,
    max_args: int = 10,
    max_empty_rounds: int = 200,
) -> Iterator[tuple[str, int, int]]:
    """Endless stream of ``(expression, label, length)`` with ``min_length < length < max_length``.

    Not de-duplicated (see :func:`generate`). ``length`` counts LRA tokens (parentheses excluded).
    Raises ValueError after ``max_empty_rounds`` consecutive rounds without a tree in the window.
    """
    if max_length - min_length < 2 or max_length < 2:
        raise ValueError(f"no tree has min_length={min_length} < length < max_length={max_length}")
    if max_depth < 1 or max_args < 2:
        raise ValueError(f"need max_depth >= 1 and max_args >= 2, got {max_depth}, {max_args}")
    empty = 0
    while True:
        levels, length, alive = _grow(rng, CANDIDATES_PER_ROUND, max_depth, max_args, max_length)
        keep = alive & (length > min_length) & (length < max_length)
        if not keep.any():
            empty += 1
            if empty >= max_empty_rounds:
                raise ValueError(
                    f"no tree with {min_length} < length < {max_length} in {empty} rounds of "
                    f"{CANDIDATES_PER_ROUND} candidates (max_depth={max_depth}, "
                    f"max_args={max_args}); widen the window"
                )
            continue
        empty = 0
        codes, offsets, labels = _render(_keep_trees(levels, keep))
        lengths = length[keep]
        for i in range(len(labels)):
            text = " ".join(_RENDER[codes[offsets[i] : offsets[i + 1]]])
            yield text, int(labels[i]), int(lengths[i])


def split_paths(out: str | Path, task: str = "basic") -> dict[str, Path]:
    """``{split: out/listops-1000/<task>_<split>.tsv}``."""
    return {s: Path(out) / "listops-1000" / f"{task}_{s}.tsv" for s in SPLITS}


def generate(
    out: str | Path,
    n_train: int = 96000,
    n_val: int = 2000,
    n_test: int = 2000,
    seed: int = 0,
    min_length: int = 500,
    max_length: int = 2000,
    max_depth: int = 10,
    max_args: int = 10,
    task: str = "basic",
    progress: bool = True,
    max_stale_rounds: int = 50,
) -> dict[str, Path]:
    """Generate ListOps and write ``out/listops-1000/<task>_{train,val,test}.tsv``.

    Args:
      out: output root; ``listops-1000/`` is created inside it.
      n_train, n_val, n_test: unique examples per split.
      seed: seed of ``np.random.default_rng``.
      min_length, max_length: strict bounds on the token length (parentheses excluded).
      max_depth, max_args: tree depth limit (root at depth 1) and maximum operator arity.
      task: file name prefix.
      progress: show a tqdm bar.
      max_stale_rounds: give up (ValueError) after this many consecutive rounds of
        ``CANDIDATES_PER_ROUND`` candidates without a new unique tree (window too narrow).

    Returns:
      ``{split: path}`` of the written files.
    """
    sizes = {"train": n_train, "val": n_val, "test": n_test}
    if any(n < 0 for n in sizes.values()):
        raise ValueError(f"split sizes must be >= 0, got {sizes}")
    paths = split_paths(out, task)
    paths["train"].parent.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    stream = iter_trees(rng, min_length, max_length, max_depth, max_args)
    seen: set[bytes] = set()
    total = sum(sizes.values())
    with tqdm(total=total, desc="listops", unit="ex", disable=not progress) as bar:
        for split in SPLITS:
            with open(paths[split], "w", newline="") as f:
                writer = csv.writer(f, delimiter="\t")
                writer.writerow(["Source", "Target"])
                written, stale = 0, 0
                while written < sizes[split]:
                    expr, label, _ = next(stream)
                    key = hashlib.blake2b(expr.encode(), digest_size=16).digest()
                    if key in seen:
                        stale += 1
                        if stale > max_stale_rounds * CANDIDATES_PER_ROUND:
                            raise ValueError(
                                f"too few distinct trees with {min_length} < length < "
                                f"{max_length}; widen the window"
                            )
                        continue
                    seen.add(key)
                    stale = 0
                    writer.writerow([expr, label])
                    written += 1
                    bar.update(1)
    return paths


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m freqssm.datagen.listops",
        description="Generate LRA ListOps into OUT/listops-1000/basic_{train,val,test}.tsv",
    )
    parser.add_argument("--out", required=True, help="data root (the loaders' data.root)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--n_train", type=int, default=96000)
    parser.add_argument("--n_val", type=int, default=2000)
    parser.add_argument("--n_test", type=int, default=2000)
    parser.add_argument("--min_length", type=int, default=500)
    parser.add_argument("--max_length", type=int, default=2000)
    parser.add_argument("--max_depth", type=int, default=10)
    parser.add_argument("--max_args", type=int, default=10)
    parser.add_argument("--task", default="basic")
    args = parser.parse_args(argv)
    paths = generate(
        args.out,
        n_train=args.n_train,
        n_val=args.n_val,
        n_test=args.n_test,
        seed=args.seed,
        min_length=args.min_length,
        max_length=args.max_length,
        max_depth=args.max_depth,
        max_args=args.max_args,
        task=args.task,
    )
    for split, path in paths.items():
        print(f"{split}: {path}")


if __name__ == "__main__":
    main()
