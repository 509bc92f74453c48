"""Set-up shared by the training-layer tests."""

import pytest

from freqssm.train.metric_log import read_jsonl

TIMING = ("train/steps_per_s",)  # the only record fields that depend on the machine's speed


def _folder_bytes(folder):
    return {
        p.relative_to(folder).as_posix(): p.read_bytes()
        for p in sorted(folder.rglob("*"))
        if p.is_file() and p.name != ".lock"
    }


def _run_records(workdir):
    return [
        {k: v for k, v in r.items() if k not in TIMING}
        for r in read_jsonl(workdir / "metrics.jsonl")
    ]


@pytest.fixture(scope="session")
def folder_bytes():
    """``folder_bytes(folder)`` -> {relative path: bytes} of every file below it but the lock
    (to assert that a refused or repeated run touched nothing)."""
    return _folder_bytes


@pytest.fixture(scope="session")
def run_records():
    """``run_records(workdir)`` -> its metrics.jsonl records without the timing fields."""
    return _run_records
