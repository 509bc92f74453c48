"""scripts/make_figures.py reads the denoising grid and checks the claimed ordering."""

import json
from pathlib import Path

from freqssm.analysis.denoise import evaluate

REPO = Path(__file__).resolve().parents[2]


_EVALUATED: dict = {}


def _fake_run(root, name, predict, case, alpha, beta):
    """A workdir shaped like a finished denoising run, evaluated with a known filter.

    Each filter is evaluated once (figures included) and its files copied to the other runs.
    """
    import shutil

    cfg = case.cfg()
    ssm = cfg.model.ssm.replace(alpha=alpha, sobolev=cfg.model.ssm.sobolev.replace(beta=beta))
    cfg = cfg.replace(model=cfg.model.replace(ssm=ssm))
    wd = root / name
    if predict not in _EVALUATED:
        _EVALUATED[predict] = (evaluate(cfg.data, cfg.model.ssm, predict, case.dataset, wd), wd)
    else:
        task, src = _EVALUATED[predict]
        shutil.copytree(src, wd, dirs_exist_ok=True)
    task = _EVALUATED[predict][0]
    (wd / "results.json").write_text(json.dumps({"task": task}))
    (wd / "config.json").write_text(
        json.dumps({**cfg.as_dict(), "optim": {"lr": 0.03}, "train": {"steps": 3000}})
    )


def test_make_figures_reads_the_grid_and_checks_the_claimed_ordering(
    script, tmp_path, denoise_case
):
    """Known filters stand in for trained layers: low-pass at the small spacings, high-pass at
    the flip spacing (alpha reverses the bias), and beta that never changes the band at raw."""
    make_figures = script("make_figures")
    root = tmp_path / "runs"
    low_pass, high_pass = (
        denoise_case.mask_filter((0.0, 0.05)),
        denoise_case.mask_filter((0.2, 1.0)),
    )
    for a, b in [(a, b) for a in make_figures.SPACINGS for b in make_figures.BETAS]:
        f = high_pass if a == "flip" else low_pass
        _fake_run(root, make_figures._point("grid", a, b).name, f, denoise_case, 1.0, b)
    for s in make_figures.SEEDS:  # the same verdicts with another seed
        _fake_run(
            root, s.name, high_pass if s.spacing == "flip" else low_pass, denoise_case, 1.0, 0
        )
    long = make_figures.STEPS[0]  # enhance at beta 0: a changed verdict must be reported
    _fake_run(root, long.name, high_pass, denoise_case, 1.0, 0.0)
    legacy = {s.name: s for s in make_figures.LEGACY}
    _fake_run(
        root, "legacy/alpha_enhance", denoise_case.mask_filter((0.0, 0.02)), denoise_case, 0.3, 0.0
    )
    _fake_run(root, "legacy/raw", low_pass, denoise_case, 1.0, 0.0)  # keeps more low
    _fake_run(
        root, "legacy/alpha_middle", denoise_case.mask_filter((0.03, 0.7)), denoise_case, 10.0, 0.0
    )
    _fake_run(root, "legacy/alpha_flip", high_pass, denoise_case, 150.0, 0.0)
    assert "legacy/alpha_flip" in legacy
    out = tmp_path / "results"
    make_figures.main(["denoise", "--root", str(root), "--out", str(out), "--no-run"])
    md = (out / "denoise.md").read_text()
    assert (out / "denoise.png").stat().st_size > 10_000
    assert "alpha alone reverses the bias" in md
    assert "flip: low" in md and "raw: high" in md
    assert "beta at the raw spacing" in md and "beta never changes the band removed (high)" in md
    assert "beta at the flip spacing" in md
    assert "high → low (CHANGED)" in md and "Some verdicts change" in md
    assert "| flip | " in md and "(low removed)" in md
    rows = {line.split("|")[1].strip(): line for line in md.splitlines() if line.startswith("| `")}
    raw = rows["`legacy/raw` (untuned: alpha raw, beta = 0)"]
    assert "no vs legacy/alpha_enhance" in raw and "low does NOT fall" in raw
    middle = next(v for k, v in rows.items() if k.startswith("`legacy/alpha_middle`"))
    assert "yes vs legacy/raw" in middle and "| yes vs legacy/raw (" in middle
    flip = next(v for k, v in rows.items() if k.startswith("`legacy/alpha_flip`"))
    assert "yes vs legacy/alpha_middle" in flip and "IS inverted" in flip
    assert "| legacy/beta_enhance |" in md and "not run" in md
