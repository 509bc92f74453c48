"""configs/README.md is generated from the typed configs and lists every key of base_config."""

import dataclasses
import re
from pathlib import Path

import pytest

from freqssm.config import base_config
from freqssm.settings import Settings

REPO = Path(__file__).resolve().parents[2]


def _keys(c, prefix=""):
    for k, v in c.items():
        if hasattr(v, "items"):
            yield from _keys(v, f"{prefix}{k}.")
        else:
            yield f"{prefix}{k}"


def test_the_reference_is_up_to_date(script):
    ref = script("config_reference")
    assert (REPO / "configs" / "README.md").read_text() == ref.render(), (
        "configs/README.md is out of date: run `python scripts/config_reference.py`"
    )


def test_every_key_has_one_row_with_its_default(script):
    from freqssm.data import BUILDERS, defaults
    from freqssm.data.registry import loader_defaults

    text = (REPO / "configs" / "README.md").read_text()
    main, *tasks = re.split(r"^### `data\.name = ", text, flags=re.M)
    rows = dict(re.findall(r"^\| `([\w.]+)` \| ([^|]*) \|", main, re.M))
    assert set(rows) == set(_keys(base_config()))
    assert rows["model.ssm.d_skip"] == "True" and rows["model.ssm.alpha"] == "1.0"
    assert [t.split("`")[0].strip('"') for t in tasks] == list(BUILDERS)
    for name, table in zip(BUILDERS, tasks, strict=True):  # each task's own keys, all of them
        keys = re.findall(r"^\| `data\.(\w+)` \|", table, re.M)
        assert keys and set(keys) == set(loader_defaults(name)), name
        assert set(defaults(name)) <= set(keys)


def test_a_field_without_a_docstring_is_refused(script):
    @dataclasses.dataclass(frozen=True)
    class Demo(Settings):
        documented: int = 1
        """a documented key"""
        silent: int = 2

    with pytest.raises(ValueError, match=r"Demo\.silent"):
        script("config_reference").rows(Demo())
