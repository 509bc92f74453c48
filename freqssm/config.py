"""What experiment files in ``configs/`` import: the full set of keys and the variant grammar.

Every experiment file starts from :func:`base_config` (every key with its default, generated
from the components' typed configs, :mod:`freqssm.train.config`) and changes values; its
``get_config(spec)`` applies the comma-separated variants of ``file.py:a,b`` with
:func:`apply_variants`. The command line loads a file with :func:`load_config`, applies the
``--config.key=value`` overrides and converts the result once (:func:`from_config_dict`).
"""

from freqssm.train.config import (
    RunConfig,
    apply_variants,
    base_config,
    from_config_dict,
    load_config,
    load_module,
    update,
    variant_names,
)

__all__ = [
    "RunConfig",
    "apply_variants",
    "base_config",
    "from_config_dict",
    "load_config",
    "load_module",
    "update",
    "variant_names",
]
