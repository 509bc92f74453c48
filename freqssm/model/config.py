"""The model's settings: :class:`SSMConfig` (``model.ssm.*``) and :class:`ModelConfig`
(``model.*``), frozen dataclasses that validate themselves.

The layers and blocks take these objects as their attributes, so a setting has one name from the
config file to the module that uses it. Each field's docstring is its entry in the generated key
reference (``configs/README.md``, ``python scripts/config_reference.py``).
"""

from __future__ import annotations

import dataclasses
from typing import ClassVar

from freqssm.settings import Settings, one_of, require
from freqssm.ssm.discretize import METHODS, Discretization
from freqssm.ssm.init import INITS
from freqssm.ssm.scan import SCAN_IMPLS
from freqssm.ssm.sobolev import SobolevFilter

REAL_TRANSFORMS = ("none", "exp")
DT_TRANSFORMS = ("exp", "softplus")
S5_B_INITS = ("fan_in_h", "fan_in_p")
S5_C_INITS = ("fan_in_p", "fan_in_ph")
ACTIVATIONS = ("gelu", "full_glu", "half_glu1", "half_glu2")
NORMS = ("batch", "layer", "none")
DROPOUT_SITES = ("pre_act", "post_act", "post_glu")
GELUS = ("tanh", "erf")
GLU_INITS = ("lecun", "torch")
DENSE_DTYPES = ("float32", "bfloat16")
EMBED_INITS = ("fan_in", "normal")


@dataclasses.dataclass(frozen=True)
class SobolevConfig(Settings):
    """Frequency-bias knob 2: the Sobolev filter (1 + k/c)^beta on the SSM output's spectrum."""

    PREFIX: ClassVar[str] = "model.ssm.sobolev"

    beta: float = 0.0
    """**knob 2**: Sobolev filter exponent (1 + k/c)^beta on the SSM output's spectrum; > 0
    amplifies high frequencies (and their gradients), < 0 damps them"""
    learnable: bool = False
    """per-feature learnable exponent initialized at beta"""
    c: float | None = None
    """filter frequency scale; None = FFT length 2L"""

    def __post_init__(self) -> None:
        if self.c is not None:
            require(self.c > 0, self.key("c"), self.c, "must be > 0 or None")

    @property
    def active(self) -> bool:
        """A fixed beta = 0 skips the filter, so the layer is bit-for-bit unfiltered."""
        return self.learnable or self.beta != 0.0

    def filter(self, n_fft: int) -> SobolevFilter:
        """The filter on an ``n_fft``-point grid (its exponent may still be the learned one)."""
        return SobolevFilter(self.beta, n_fft, self.c)


@dataclasses.dataclass(frozen=True)
class SSMConfig(Settings):
    """One S5 or S4D layer (:mod:`freqssm.model.layers`)."""

    PREFIX: ClassVar[str] = "model.ssm"

    kind: str = "s4d"
    """`s4d` (H SISO systems, FFT convolution) or `s5` (MIMO, scan)"""
    state_size: int = 64
    """real state size (P for S5, N per feature for S4D); half are stored complex modes"""
    blocks: int = 1
    """S5: number J of HiPPO blocks"""
    init: str = "s4d_lin"
    """`hippo` (diagonalized HiPPO-LegS), `s4d_lin`, `s4d_inv`"""
    alpha: float = 1.0
    """**knob 1**: scale of the imaginary parts of the initial eigenvalues"""
    dt_min: float = 1e-3
    """smallest initial step Δ (log-uniform in [dt_min, dt_max])"""
    dt_max: float = 1e-1
    """largest initial step Δ"""
    discretization: str = "zoh"
    """`zoh` or `bilinear`"""
    bidirectional: bool = False
    """add a backward-in-time pass (separate C)"""
    mode: str = "auto"
    """`scan` or `conv`; auto = scan for S5, conv for S4D"""
    scan_impl: str = "auto"
    """`sequential`, `parallel`, `chunked`; auto = sequential on CPU, parallel on GPU/TPU (see
    Performance)"""
    clip_eigs: bool = True
    """keep Re λ <= -1e-4"""
    conj_sym: bool = True
    """store one of each conjugate pair"""
    step_rescale: float = 1.0
    """multiply every step Δ (change of sampling rate)"""
    d_skip: bool = True
    """the feed-through D u (parameter `D`); False: the pure convolution (the paper's denoising
    layer, which would otherwise learn D = 1)"""
    real_transform: str = "none"
    """Re Λ: `none` (trained directly, clipped by `clip_eigs`; parameter `Lambda_re`) or `exp`
    (Re Λ = -exp(a); `Lambda_re_log`)"""
    dt_transform: str = "exp"
    """Δ: `exp` (exp(`log_dt`)) or `softplus` (softplus(`dt_raw`))"""
    backward_strict: bool = False
    """bidirectional: the backward half reads only s > t (y_t gets Σ K_b[s-t-1] u_s, the
    authors'); False includes s = t"""
    n_ssm: int | None = None
    """S4D: number of eigenvalue sets; feature h uses set h mod n_ssm (None = one per feature);
    Δ stays per feature"""
    train_b: bool = True
    """S4D: B is a parameter (init 1); False fixes B = 1 with no parameter"""
    b_init: str = "fan_in_h"
    """S5: lecun-normal B with fan-in H, or `fan_in_p` (fan-in P, E|B|² = 1/P: the S5
    authors')"""
    c_init: str = "fan_in_p"
    """S5: lecun-normal C with fan-in P, or `fan_in_ph` (variance 1/(P·H): the S5 authors' LRA
    `lecun_normal` C)"""
    real_init: float | None = None
    """Re λ of every mode at init (None: the init's own, -1/2); the authors' denoising layer:
    -3"""
    imag_offset: float = 0.0
    """`s4d_lin`: Im λ_n = alpha·π·(n + imag_offset) (the authors' waves script: 1.3)"""
    integrator_re: float | None = None
    """mode 0 becomes Im 0 with this Re λ (the authors' denoising layer: -exp(-5))"""
    c_imag_scale: float = 0.0
    """S4D: if > 0, C_n starts times |Im λ_n|·c_imag_scale (the authors' denoising layer:
    1e-3)"""
    circular: bool = False
    """S4D: circular convolution on the L-point FFT grid (no padding; the authors' waves
    script)"""
    sobolev: SobolevConfig = dataclasses.field(default_factory=SobolevConfig)
    """the Sobolev filter (``model.ssm.sobolev.*``)"""

    def __post_init__(self) -> None:
        k = self.key
        one_of(k("kind"), self.kind, ("s4d", "s5"))
        require(self.alpha > 0, k("alpha"), self.alpha, "must be > 0 (it scales Im of eigenvalues)")
        require(self.state_size > 0, k("state_size"), self.state_size, "must be positive")
        require(self.blocks >= 1, k("blocks"), self.blocks, "must be >= 1")
        blocks = self.blocks if self.kind == "s5" else 1
        require(
            self.state_size % blocks == 0,
            k("state_size"),
            self.state_size,
            f"must be divisible by model.ssm.blocks={self.blocks}",
        )
        if self.conj_sym:
            require(
                (self.state_size // blocks) % 2 == 0,
                k("state_size"),
                self.state_size,
                "state_size/blocks must be even with conj_sym=True",
            )
        require(self.init in INITS, k("init"), self.init, f"must be one of {INITS}")
        require(
            0 < self.dt_min <= self.dt_max, k("dt_min"), self.dt_min, "need 0 < dt_min <= dt_max"
        )
        one_of(k("discretization"), self.discretization, METHODS)
        require(self.mode in ("auto", "scan", "conv"), k("mode"), self.mode, "auto, scan or conv")
        one_of(k("scan_impl"), self.scan_impl, SCAN_IMPLS)
        require(self.step_rescale > 0, k("step_rescale"), self.step_rescale, "must be > 0")
        one_of(k("real_transform"), self.real_transform, REAL_TRANSFORMS)
        one_of(k("dt_transform"), self.dt_transform, DT_TRANSFORMS)
        one_of(k("b_init"), self.b_init, S5_B_INITS)
        one_of(k("c_init"), self.c_init, S5_C_INITS)
        if self.kind == "s4d":
            for key, default in (("b_init", "fan_in_h"), ("c_init", "fan_in_p")):
                value = getattr(self, key)
                require(value == default, k(key), value, "applies to S5 layers only")
        else:
            require(self.n_ssm is None, k("n_ssm"), self.n_ssm, "applies to S4D layers only")
            require(self.train_b, k("train_b"), self.train_b, "S5 layers need their B parameter")
            require(self.c_imag_scale == 0, k("c_imag_scale"), self.c_imag_scale, "S4D only")
            require(not self.circular, k("circular"), self.circular, "S4D only")
        if self.real_init is not None:
            require(self.real_init < 0, k("real_init"), self.real_init, "must be < 0 or None")
        if self.integrator_re is not None:
            require(
                self.integrator_re < 0,
                k("integrator_re"),
                self.integrator_re,
                "must be < 0 or None",
            )
        if self.imag_offset:
            require(
                self.init == "s4d_lin", k("imag_offset"), self.imag_offset, "needs init=s4d_lin"
            )
        require(self.c_imag_scale >= 0, k("c_imag_scale"), self.c_imag_scale, "must be >= 0")
        if self.circular:
            require(
                self.layer_mode == "conv" and not self.bidirectional,
                k("circular"),
                self.circular,
                "needs mode=conv and bidirectional=False",
            )
        if self.n_ssm is not None:
            require(
                self.n_ssm >= 1, k("n_ssm"), self.n_ssm, "must be >= 1 or None (one per feature)"
            )
        if self.kind == "s4d" and self.mode == "scan":
            require(
                not self.sobolev.active,
                "model.ssm.sobolev.beta",
                self.sobolev.beta,
                "S4D filters inside its FFT convolution; use model.ssm.mode=conv",
            )

    @property
    def sampling(self) -> Discretization:
        """The settings that turn the layer's continuous system into the one it runs (what an
        analysis of its trained parameters needs besides them)."""
        return Discretization(self.discretization, self.step_rescale, self.clip_eigs, self.conj_sym)

    @property
    def layer_mode(self) -> str:
        """``mode`` with "auto" resolved: "scan" for S5, "conv" for S4D."""
        if self.mode != "auto":
            return self.mode
        return "scan" if self.kind == "s5" else "conv"


@dataclasses.dataclass(frozen=True)
class ModelConfig(Settings):
    """The model (:mod:`freqssm.model.models`): encoder -> blocks -> head, or one bare layer."""

    PREFIX: ClassVar[str] = "model"

    kind: str = "stack"
    """`stack` (encoder, blocks, head) or `linear` (one bare SSM layer)"""
    n_layers: int = 4
    """number of blocks (the depth)"""
    d_model: int = 64
    """the width H of the residual stream (the blocks' features)"""
    norm: str = "layer"
    """the blocks' norm: `batch`, `layer` or `none`"""
    prenorm: bool = True
    """normalize before the SSM (True) or after the residual (False)"""
    activation: str = "half_glu1"
    """`gelu`, `full_glu`, `half_glu1`, `half_glu2`"""
    dropout: float = 0.0
    """dropout rate, tied over time"""
    pooling: str = "mean"
    """`mean` (masked by true lengths) or `last` (the output at each sequence's last real token,
    its EOS)"""
    final_norm: str = "layer"
    """norm after the last pre-norm block: `layer`, `batch` or `block` (the blocks'
    `model.norm`)"""
    dropout_sites: tuple[str, ...] = ("post_act", "post_glu")
    """where dropout acts, each with its own time-tied mask: `pre_act` (SSM output), `post_act`
    (after GELU), `post_glu` (after the GLU)"""
    gelu: str = "tanh"
    """`tanh` (approximation) or `erf` (exact)"""
    embed_init: str = "fan_in"
    """token embedding init: `fan_in` (std 1/sqrt(d_model)) or `normal` (N(0, 1))"""
    glu_init: str = "lecun"
    """GLU dense maps: `lecun` (normal kernel, zero bias) or `torch` (PyTorch's Linear/Conv1d
    default, U(±1/sqrt(H)) kernel and bias)"""
    residual: bool = True
    """blocks add their input to their output (False: plain layers, e.g. the authors' waves
    model)"""
    output_map: str = "none"
    """`model.kind=linear`: `none` or `affine` (a channel-mixing C x C map with bias after the
    layer, the authors' denoising model)"""
    dense_dtype: str = "float32"
    """`bfloat16`: the encoder, GLU and head matmuls take bf16 operands and accumulate in
    float32; parameters, the SSM (FFT, scans), norms and residual stream stay float32 (see "GPUs
    and TPUs"); the recurrent `step` path (`freqssm.model.infer`) computes them in float32"""
    mask_padding: bool = False
    """zero each block's SSM input at positions t >= length, after the pre-norm (the authors'
    blocks, set by the ListOps, Text and Retrieval configs; Retrieval per document); a no-op for
    tasks whose batches carry no lengths (waves, denoise, Image, Pathfinder, Path-X). In
    training mode a batch norm's statistics still include the padded positions, in the authors'
    model too"""
    ssm: SSMConfig = dataclasses.field(default_factory=SSMConfig)
    """the SSM layers (``model.ssm.*``)"""

    def __post_init__(self) -> None:
        k = self.key
        require(
            self.kind in ("stack", "linear"), k("kind"), self.kind, "must be 'stack' or 'linear'"
        )
        require(self.n_layers >= 1, k("n_layers"), self.n_layers, "must be >= 1")
        require(self.d_model >= 1, k("d_model"), self.d_model, "must be >= 1")
        one_of(k("norm"), self.norm, NORMS)
        one_of(k("activation"), self.activation, ACTIVATIONS)
        require(0 <= self.dropout < 1, k("dropout"), self.dropout, "must be in [0, 1)")
        require(self.pooling in ("mean", "last"), k("pooling"), self.pooling, "'mean' or 'last'")
        one_of(k("final_norm"), self.final_norm, (*NORMS, "block"))
        sites = self.dropout_sites
        require(
            isinstance(sites, tuple)
            and all(x in DROPOUT_SITES for x in sites)
            and len(set(sites)) == len(sites),
            k("dropout_sites"),
            sites,
            f"must be a tuple of distinct names from {DROPOUT_SITES}",
        )
        one_of(k("gelu"), self.gelu, GELUS)
        one_of(k("embed_init"), self.embed_init, EMBED_INITS)
        one_of(k("glu_init"), self.glu_init, GLU_INITS)
        one_of(k("dense_dtype"), self.dense_dtype, DENSE_DTYPES)
        one_of(k("output_map"), self.output_map, ("none", "affine"))
        s = self.ssm
        if s.n_ssm is not None and self.kind == "stack":
            require(
                self.d_model % s.n_ssm == 0,
                "model.ssm.n_ssm",
                s.n_ssm,
                f"must divide model.d_model={self.d_model}",
            )

    @property
    def final_norm_kind(self) -> str:
        """The final norm of a pre-norm stack: ``final_norm``, "block" meaning ``norm``."""
        return self.norm if self.final_norm == "block" else self.final_norm
