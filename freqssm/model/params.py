"""The parameter contract: every parameter name the model's modules create, and its optimizer
group (:mod:`freqssm.train.optim` has the groups' update rules).

A module that creates a parameter under a new name declares its group here; labelling a
parameter whose name is missing fails (``freqssm.train.optim.label_of``), so no parameter falls
silently into weight decay. tests/configs/test_snapshots.py labels every parameter of every
config's model (an undeclared name fails there); tests/train/test_optim.py tests the refusal.
"""

from __future__ import annotations

PARAM_GROUPS: dict[str, str] = {
    # the SSM layers (freqssm.model.layers; shapes in its module docstring)
    "Lambda_re": "ssm",
    "Lambda_re_log": "ssm",
    "Lambda_im": "ssm",
    "B": "ssm",
    "log_dt": "dt",
    "dt_raw": "dt",
    "sobolev_beta": "sobolev",
    "C": "decay",
    "D": "decay",
    # dense maps (encoder, GLU out1/out2, mlp, head, mix) and the token embedding
    "kernel": "decay",
    "embedding": "decay",
    # every bias and norm scale: no decay with optim.decay_scope = "weights" (decay with "all")
    "bias": "no_decay",
    "scale": "no_decay",
}
