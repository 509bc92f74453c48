"""The full set of config keys with their defaults, and start-up validation.

Every experiment file in ``configs/`` starts from :func:`base_config` and changes values, so every
run has every key (a command-line override of a key that does not exist fails at parse time, and
one whose value is out of range fails in :func:`validate` with one line naming the key).
"""

from __future__ import annotations

import ml_collections

from freqssm.data.base import default_data_root
from freqssm.errors import ConfigError
from freqssm.model.blocks import ACTIVATIONS, DENSE_DTYPES, DROPOUT_SITES, GELUS, GLU_INITS, NORMS
from freqssm.model.layers import DT_TRANSFORMS, REAL_TRANSFORMS, S5_B_INITS, S5_C_INITS
from freqssm.ssm.discretize import METHODS
from freqssm.ssm.init import INITS
from freqssm.ssm.scan import SCAN_IMPLS

EMBED_INITS = ("fan_in", "normal")
DECAY_SCOPES = ("weights", "all")


def base_config() -> ml_collections.ConfigDict:
    """All keys with defaults; configs/README.md says what each means."""
    c = ml_collections.ConfigDict()
    c.seed = 0

    c.data = ml_collections.ConfigDict()
    c.data.name = "waves"
    c.data.root = default_data_root()
    c.data.batch_size = 32
    c.data.max_examples = ml_collections.FieldReference(None, field_type=int)

    m = c.model = ml_collections.ConfigDict()
    m.kind = "stack"  # "stack": encoder -> blocks -> head; "linear": one bare SSM layer
    m.n_layers = 4
    m.d_model = 64
    m.norm = "layer"
    m.prenorm = True
    m.activation = "half_glu1"
    m.dropout = 0.0
    m.pooling = "mean"  # "mean" (masked by lengths) or "last" (the last real token: the EOS)
    m.final_norm = "layer"  # after the last pre-norm block: "layer", "batch" or "block" (= norm)
    m.dropout_sites = ("post_act", "post_glu")  # subset of DROPOUT_SITES, one mask each
    m.gelu = "tanh"  # "tanh" (approximation) or "erf" (exact)
    m.embed_init = "fan_in"  # token embedding: "fan_in" (std 1/sqrt(d_model)) or "normal" (N(0,1))
    m.glu_init = "lecun"  # GLU dense maps: "lecun" or "torch" (PyTorch Linear/Conv1d default)
    m.residual = True  # blocks add their input to their output
    m.output_map = "none"  # model.kind=linear: "none" or "affine" (a channel-mixing map + bias)
    m.dense_dtype = "float32"  # encoder, GLU and head compute: "float32" or "bfloat16"
    # zero each SSM layer's input at t >= length (the authors' blocks); no-op without lengths
    m.mask_padding = False
    s = m.ssm = ml_collections.ConfigDict()
    s.kind = "s4d"  # "s4d" or "s5"
    s.state_size = 64  # P (S5) or N (S4D): real state size; half of it are stored complex modes
    s.blocks = 1  # S5 HiPPO blocks J
    s.init = "s4d_lin"
    s.alpha = 1.0
    s.dt_min = 1e-3
    s.dt_max = 1e-1
    s.discretization = "zoh"
    s.bidirectional = False
    s.mode = "auto"  # "auto" (S5: scan, S4D: conv), "scan" or "conv"
    s.scan_impl = (
        "auto"  # "auto" (sequential on CPU, parallel on GPU/TPU), "sequential", "parallel"
    )
    s.clip_eigs = True
    s.conj_sym = True
    s.step_rescale = 1.0
    s.d_skip = True  # feed-through D u
    s.real_transform = "none"  # Re Λ: "none" (trained directly, clipped) or "exp" (-exp(a))
    s.dt_transform = "exp"  # Δ: "exp" (exp(log_dt)) or "softplus" (softplus(dt_raw))
    s.backward_strict = False  # bidirectional: backward half strictly anticausal (s > t)
    s.n_ssm = ml_collections.FieldReference(None, field_type=int)  # S4D eigenvalue sets; None: H
    s.train_b = True  # S4D: B a parameter (init 1); False: B = 1 fixed, no parameter
    s.b_init = "fan_in_h"  # S5 B: lecun fan-in over H, or "fan_in_p" (the S5 authors')
    s.c_init = "fan_in_p"  # S5 C: lecun fan-in over P, or "fan_in_ph" (variance 1/(P·H))
    s.real_init = ml_collections.FieldReference(None, field_type=float)  # Re λ of every mode
    s.imag_offset = 0.0  # s4d_lin: Im λ_n = alpha·π·(n + imag_offset)
    s.integrator_re = ml_collections.FieldReference(None, field_type=float)  # mode 0 := this + 0i
    s.c_imag_scale = 0.0  # S4D: if > 0, C_n starts times |Im λ_n|·c_imag_scale
    s.circular = False  # S4D: circular convolution on the L-point FFT grid (no padding)
    s.sobolev = ml_collections.ConfigDict()
    s.sobolev.beta = 0.0
    s.sobolev.learnable = False
    s.sobolev.c = ml_collections.FieldReference(None, field_type=float)

    o = c.optim = ml_collections.ConfigDict()
    o.lr = 1e-3
    o.ssm_lr = 1e-3
    o.sobolev_lr = 1e-2
    o.dt_lr = ml_collections.FieldReference(None, field_type=float)  # Δ's lr; None: optim.lr
    o.weight_decay = 0.01
    o.decay_scope = "weights"  # "weights": no decay on norms and biases; "all": decay those too
    o.warmup_steps = 0
    o.end_lr_factor = 0.0  # cosine decays to lr * end_lr_factor
    o.grad_clip = 0.0  # global-norm clip; 0 disables
    o.frozen = ()  # parameter names kept at their initial values, e.g. ("Lambda_re", "log_dt")

    t = c.train = ml_collections.ConfigDict()
    t.steps = 1000
    t.eval_every = 200
    t.eval_limit = ml_collections.FieldReference(None, field_type=int)  # examples per eval split
    t.log_every = 20
    t.checkpoint_every = 200
    t.keep = 2
    t.resume = (
        "auto"  # "auto": resume a matching run; "force": despite config changes; "never": refuse
    )
    t.skip_nonfinite = False
    t.max_skipped = 100  # with skip_nonfinite: stop after this many consecutive skipped steps
    t.max_inflight = 1  # calls dispatched ahead of the finished ones (bounds a stop's delay)
    t.steps_per_call = 1  # optimizer steps per jitted call (lax.scan); calls end at log/eval/ckpt
    t.prefetch = 2  # calls' batches built and placed on the devices ahead by a thread; 0: none
    t.analysis = True  # eigenvalue and |G| plots at start and end
    t.evaluator = ""  # a task evaluation at the end (freqssm.analysis.evaluators), e.g. "denoise"
    t.progress = True

    c.log = ml_collections.ConfigDict()
    c.log.wandb = ml_collections.ConfigDict()
    c.log.wandb.mode = "offline"
    c.log.wandb.project = "freqssm"
    c.log.wandb.group = ""
    c.log.wandb.name = ""
    c.log.wandb.quiet = True  # no wandb banner on the console (its errors still show)
    c.log.wandb.tags = ""  # comma-separated wandb tags (scripts/sweep.py: the sweep and point)
    return c


def _require(ok: bool, key: str, value: object, why: str) -> None:
    if not ok:
        raise ConfigError(f"{key}={value!r}: {why}")


def validate(c: ml_collections.ConfigDict) -> None:
    """Raise :class:`ConfigError` naming the first key whose value is out of range."""
    s = c.model.ssm
    _require(s.kind in ("s4d", "s5"), "model.ssm.kind", s.kind, "must be 's4d' or 's5'")
    _require(s.alpha > 0, "model.ssm.alpha", s.alpha, "must be > 0 (it scales Im of eigenvalues)")
    _require(s.state_size > 0, "model.ssm.state_size", s.state_size, "must be positive")
    _require(s.blocks >= 1, "model.ssm.blocks", s.blocks, "must be >= 1")
    blocks = s.blocks if s.kind == "s5" else 1
    _require(
        s.state_size % blocks == 0,
        "model.ssm.state_size",
        s.state_size,
        f"must be divisible by model.ssm.blocks={s.blocks}",
    )
    if s.conj_sym:
        _require(
            (s.state_size // blocks) % 2 == 0,
            "model.ssm.state_size",
            s.state_size,
            "state_size/blocks must be even with conj_sym=True",
        )
    _require(s.init in INITS, "model.ssm.init", s.init, f"must be one of {INITS}")
    _require(0 < s.dt_min <= s.dt_max, "model.ssm.dt_min", s.dt_min, "need 0 < dt_min <= dt_max")
    _require(
        s.discretization in METHODS,
        "model.ssm.discretization",
        s.discretization,
        f"one of {METHODS}",
    )
    _require(s.mode in ("auto", "scan", "conv"), "model.ssm.mode", s.mode, "auto, scan or conv")
    _require(s.scan_impl in SCAN_IMPLS, "model.ssm.scan_impl", s.scan_impl, f"one of {SCAN_IMPLS}")
    _require(s.step_rescale > 0, "model.ssm.step_rescale", s.step_rescale, "must be > 0")
    if s.sobolev.c is not None:
        _require(s.sobolev.c > 0, "model.ssm.sobolev.c", s.sobolev.c, "must be > 0 or None")
    _require(
        s.real_transform in REAL_TRANSFORMS,
        "model.ssm.real_transform",
        s.real_transform,
        f"one of {REAL_TRANSFORMS}",
    )
    _require(
        s.dt_transform in DT_TRANSFORMS,
        "model.ssm.dt_transform",
        s.dt_transform,
        f"one of {DT_TRANSFORMS}",
    )
    _require(s.b_init in S5_B_INITS, "model.ssm.b_init", s.b_init, f"one of {S5_B_INITS}")
    _require(s.c_init in S5_C_INITS, "model.ssm.c_init", s.c_init, f"one of {S5_C_INITS}")
    if s.kind == "s4d":
        for key, default in (("b_init", "fan_in_h"), ("c_init", "fan_in_p")):
            _require(s[key] == default, f"model.ssm.{key}", s[key], "applies to S5 layers only")
    else:
        _require(s.n_ssm is None, "model.ssm.n_ssm", s.n_ssm, "applies to S4D layers only")
        _require(s.train_b, "model.ssm.train_b", s.train_b, "S5 layers need their B parameter")
    if s.real_init is not None:
        _require(s.real_init < 0, "model.ssm.real_init", s.real_init, "must be < 0 or None")
    if s.integrator_re is not None:
        _require(
            s.integrator_re < 0, "model.ssm.integrator_re", s.integrator_re, "must be < 0 or None"
        )
    if s.imag_offset:
        _require(s.init == "s4d_lin", "model.ssm.imag_offset", s.imag_offset, "needs init=s4d_lin")
    _require(s.c_imag_scale >= 0, "model.ssm.c_imag_scale", s.c_imag_scale, "must be >= 0")
    if s.kind == "s5":
        _require(s.c_imag_scale == 0, "model.ssm.c_imag_scale", s.c_imag_scale, "S4D only")
        _require(not s.circular, "model.ssm.circular", s.circular, "S4D only")
    if s.circular:
        _require(
            s.mode in ("auto", "conv") and not s.bidirectional,
            "model.ssm.circular",
            s.circular,
            "needs mode=conv and bidirectional=False",
        )
    if s.n_ssm is not None:
        _require(s.n_ssm >= 1, "model.ssm.n_ssm", s.n_ssm, "must be >= 1 or None (one per feature)")
        if c.model.kind == "stack":
            _require(
                c.model.d_model % s.n_ssm == 0,
                "model.ssm.n_ssm",
                s.n_ssm,
                f"must divide model.d_model={c.model.d_model}",
            )
    if s.kind == "s4d" and s.mode == "scan":
        _require(
            s.sobolev.beta == 0 and not s.sobolev.learnable,
            "model.ssm.sobolev.beta",
            s.sobolev.beta,
            "S4D filters inside its FFT convolution; use model.ssm.mode=conv",
        )
    m = c.model
    _require(m.kind in ("stack", "linear"), "model.kind", m.kind, "must be 'stack' or 'linear'")
    _require(m.n_layers >= 1, "model.n_layers", m.n_layers, "must be >= 1")
    _require(m.d_model >= 1, "model.d_model", m.d_model, "must be >= 1")
    _require(m.norm in NORMS, "model.norm", m.norm, f"one of {NORMS}")
    _require(m.activation in ACTIVATIONS, "model.activation", m.activation, f"one of {ACTIVATIONS}")
    _require(0 <= m.dropout < 1, "model.dropout", m.dropout, "must be in [0, 1)")
    _require(m.pooling in ("mean", "last"), "model.pooling", m.pooling, "'mean' or 'last'")
    finals = (*NORMS, "block")
    _require(m.final_norm in finals, "model.final_norm", m.final_norm, f"one of {finals}")
    sites = m.dropout_sites
    _require(
        isinstance(sites, (tuple, list))
        and all(x in DROPOUT_SITES for x in sites)
        and len(set(sites)) == len(sites),
        "model.dropout_sites",
        sites,
        f"must be a tuple of distinct names from {DROPOUT_SITES}",
    )
    _require(m.gelu in GELUS, "model.gelu", m.gelu, f"one of {GELUS}")
    _require(m.embed_init in EMBED_INITS, "model.embed_init", m.embed_init, f"one of {EMBED_INITS}")
    _require(m.glu_init in GLU_INITS, "model.glu_init", m.glu_init, f"one of {GLU_INITS}")
    dtypes = tuple(DENSE_DTYPES)
    _require(m.dense_dtype in dtypes, "model.dense_dtype", m.dense_dtype, f"one of {dtypes}")
    maps = ("none", "affine")
    _require(m.output_map in maps, "model.output_map", m.output_map, f"one of {maps}")
    o = c.optim
    for key in ("lr", "ssm_lr", "sobolev_lr"):
        _require(o[key] >= 0, f"optim.{key}", o[key], "must be >= 0")
    if o.dt_lr is not None:
        _require(o.dt_lr >= 0, "optim.dt_lr", o.dt_lr, "must be >= 0 or None (the global lr)")
    _require(
        o.decay_scope in DECAY_SCOPES, "optim.decay_scope", o.decay_scope, f"one of {DECAY_SCOPES}"
    )
    _require(o.weight_decay >= 0, "optim.weight_decay", o.weight_decay, "must be >= 0")
    _require(o.grad_clip >= 0, "optim.grad_clip", o.grad_clip, "must be >= 0 (0 disables)")
    frozen = o.get("frozen", ())
    _require(
        isinstance(frozen, (tuple, list)) and all(isinstance(n, str) for n in frozen),
        "optim.frozen",
        frozen,
        "must be a tuple of parameter names",
    )
    t = c.train
    _require(t.steps >= 1, "train.steps", t.steps, "must be >= 1")
    _require(0 <= o.warmup_steps <= t.steps, "optim.warmup_steps", o.warmup_steps, "in [0, steps]")
    for key in (
        "eval_every",
        "log_every",
        "checkpoint_every",
        "keep",
        "max_skipped",
        "max_inflight",
        "steps_per_call",
    ):
        _require(t[key] >= 1, f"train.{key}", t[key], "must be >= 1")
    _require(t.prefetch >= 0, "train.prefetch", t.prefetch, "must be >= 0 (0: no prefetching)")
    _require(t.resume in ("auto", "force", "never"), "train.resume", t.resume, "auto/force/never")
    from freqssm.analysis.evaluators import EVALUATORS

    names = ("", *EVALUATORS)
    _require(t.evaluator in names, "train.evaluator", t.evaluator, f"one of {names}")
    _require(c.data.batch_size >= 1, "data.batch_size", c.data.batch_size, "must be >= 1")
    if c.data.max_examples is not None:
        _require(c.data.max_examples >= 1, "data.max_examples", c.data.max_examples, ">= 1 or None")
    if t.eval_limit is not None:
        _require(t.eval_limit >= 1, "train.eval_limit", t.eval_limit, "must be >= 1 or None")
    _require(c.seed >= 0, "seed", c.seed, "must be >= 0")
    mode = c.log.wandb.mode
    _require(
        mode in ("disabled", "offline", "online"), "log.wandb.mode", mode, "disabled/offline/online"
    )
