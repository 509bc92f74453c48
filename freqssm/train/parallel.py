"""Devices: data parallelism over every device of every process, and multi-process start-up."""

from __future__ import annotations

import os
from typing import Any

import jax
import numpy as np

from freqssm.errors import ConfigError


class DataParallel:
    """Data parallelism over every device of every process with ``jax.sharding``.

    A 1-D mesh over the axis ``data``: batches are split along their first axis, parameters and
    optimizer state are replicated, and XLA inserts the cross-device reductions (so batch-norm
    statistics and gradients are means over the global batch, exactly as on one device). With
    several processes (``jax.distributed``), each process feeds its own rows of the global batch.
    """

    def __init__(self, global_batch: int) -> None:
        from jax.sharding import NamedSharding, PartitionSpec

        n = jax.device_count()
        if global_batch % n:
            raise ConfigError(
                f"data.batch_size={global_batch}: must be divisible by the {n} devices in use"
            )
        # Auto axes: XLA propagates the shardings (explicit sharding-in-types would demand an
        # out_sharding for every gather, e.g. the embedding lookup).
        self.mesh = jax.make_mesh((n,), ("data",), axis_types=(jax.sharding.AxisType.Auto,))
        self.batch = NamedSharding(self.mesh, PartitionSpec("data"))
        self.stacked = NamedSharding(self.mesh, PartitionSpec(None, "data"))  # (n, B, ...)
        self.replicated = NamedSharding(self.mesh, PartitionSpec())
        self.rows = slice(
            jax.process_index() * global_batch // jax.process_count(),
            (jax.process_index() + 1) * global_batch // jax.process_count(),
        )

    def put_batch(self, batch: dict) -> dict:
        """This process's rows (``self.rows``) of the global numpy batch -> sharded global jax
        arrays; the data iterators build only these rows (``rows=self.rows``)."""
        return {
            k: jax.make_array_from_process_local_data(self.batch, np.asarray(v))
            for k, v in batch.items()
        }

    def put_stacked(self, batch: dict) -> dict:
        """:meth:`put_batch` for ``n`` stacked batches: arrays (n, rows, ...) -> (n, B, ...)
        sharded along the batch axis (the input of a multi-step call)."""
        return {
            k: jax.make_array_from_process_local_data(self.stacked, np.asarray(v))
            for k, v in batch.items()
        }

    def replicate(self, tree: Any) -> Any:
        return jax.device_put(tree, self.replicated)


def maybe_initialize_distributed() -> None:
    """Join a multi-process run when the cluster environment asks for it.

    ``jax.distributed.initialize()`` reads the coordinator from the usual variables (SLURM, Open
    MPI, TPU pod metadata, or ``JAX_COORDINATOR_ADDRESS``/``JAX_NUM_PROCESSES``/
    ``JAX_PROCESS_ID``). We only call it when one of those is present, so single-machine runs
    never wait for a coordinator.
    """
    env = os.environ
    wanted = env.get("FREQSSM_DISTRIBUTED", "auto")
    multi = (
        "JAX_COORDINATOR_ADDRESS" in env
        or int(env.get("SLURM_NTASKS", "1")) > 1
        or int(env.get("OMPI_COMM_WORLD_SIZE", "1")) > 1
        or "," in env.get("TPU_WORKER_HOSTNAMES", "")
    )
    if not (wanted == "1" or (wanted == "auto" and multi)):
        return
    if "JAX_COORDINATOR_ADDRESS" in env:
        # jax reads only the address from the environment; the process count and this
        # process's id must be passed, else it fails with "Number of processes must be defined"
        missing = [k for k in ("JAX_NUM_PROCESSES", "JAX_PROCESS_ID") if k not in env]
        if missing:
            raise ConfigError(
                f"JAX_COORDINATOR_ADDRESS is set but {' and '.join(missing)} not: set all three "
                "to start a multi-process run (README, 'Scale, interruptions, inference')"
            )
        try:
            n, pid = int(env["JAX_NUM_PROCESSES"]), int(env["JAX_PROCESS_ID"])
        except ValueError:
            raise ConfigError(
                f"JAX_NUM_PROCESSES={env['JAX_NUM_PROCESSES']!r} and JAX_PROCESS_ID="
                f"{env['JAX_PROCESS_ID']!r} must be whole numbers"
            ) from None
        jax.distributed.initialize(
            coordinator_address=env["JAX_COORDINATOR_ADDRESS"], num_processes=n, process_id=pid
        )
    else:  # SLURM, Open MPI, TPU pods: jax's cluster detection reads them
        jax.distributed.initialize()


def is_main_process() -> bool:
    """Whether this is process 0 of the run (the one that holds the workdir)."""
    return jax.process_index() == 0
