"""The command line: ``python -m freqssm.train --config FILE.py[:variant] --workdir DIR``.

Every setting is in the config (``--config.model.ssm.alpha=2`` overrides one key). Bad configs,
missing data and non-finite training stop with one line on stderr and exit status 2.
"""

from __future__ import annotations

import errno
import logging
import os
import sys
from collections.abc import Mapping
from pathlib import Path

from freqssm.errors import ConfigError, DataError


def main(argv: list[str]) -> int:
    """Train the parsed ``--config`` in ``--workdir`` and print where the results are."""
    from absl import flags

    from freqssm.train.config import from_config_dict
    from freqssm.train.loop import train_and_evaluate

    FLAGS = flags.FLAGS
    if len(argv) > 1:
        raise ConfigError(f"unexpected arguments {argv[1:]}; use --config.key=value overrides")
    workdir, mode = sweep_defaults(os.environ, FLAGS.workdir, explicit_mode(sys.argv))
    if not workdir:
        raise ConfigError("--workdir is required (where checkpoints, logs and plots go)")
    config = from_config_dict(FLAGS.config)  # the one conversion: validated, typed
    if mode is not None:
        config = config.updated({"log.wandb.mode": mode})
    results = train_and_evaluate(config, workdir)
    if results.get("interrupted"):
        return 0
    wd = Path(workdir)
    best = results["best"]
    again = (
        " (already finished: nothing rerun or written)" if results.get("already_finished") else ""
    )
    print(f"done: {results['step']} steps{again}; results in {wd / 'results.json'}")
    print(f"  final val: {_fmt(results['val'])}")
    print(f"  final test: {_fmt(results['test'])}")
    print(f"  test at best val (step {best['step']}): {_fmt(best['test'])}")
    print(
        f"  metrics: {wd / 'metrics.jsonl'}; plots: {wd / 'plots'}; "
        f"checkpoints: {wd / 'checkpoints'}"
    )
    if config.log.wandb.mode == "offline":  # wandb's own banner is off (log.wandb.quiet)
        # the newest offline folder holds the whole history, resumed segments included
        newest = (wd / "wandb" / "latest-run").resolve()
        print(f"  wandb (offline): `wandb sync {newest}` uploads it")
    return 0


def explicit_mode(argv: list[str]) -> bool:
    """Whether the command line sets ``log.wandb.mode`` itself."""
    return any(a.startswith("--config.log.wandb.mode") for a in argv)


def sweep_defaults(
    env: Mapping[str, str], workdir: str | None, mode_given: bool
) -> tuple[str | None, str | None]:
    """(workdir, wandb mode override) for a run started by a wandb sweep agent.

    The agent sets ``WANDB_SWEEP_ID`` and ``WANDB_RUN_ID`` and builds the command line from the
    sweep's YAML (``--config.a.b=v`` per parameter). Then ``--workdir`` defaults to
    ``runs/sweeps/<sweep id>/<run id>``, and the run logs online (the sweep controller reads the
    metric from the server) unless ``WANDB_MODE`` or ``--config.log.wandb.mode`` says otherwise.
    Outside a sweep nothing changes: (workdir, None).
    """
    sweep = env.get("WANDB_SWEEP_ID")
    if not sweep:
        return workdir, None
    if not workdir:
        run_id = env.get("WANDB_RUN_ID")
        if not run_id:
            raise ConfigError("WANDB_SWEEP_ID is set but WANDB_RUN_ID is not: pass --workdir")
        workdir = str(Path("runs") / "sweeps" / sweep / run_id)
    if mode_given:
        return workdir, None
    mode = env.get("WANDB_MODE") or "online"
    if mode not in ("online", "offline", "disabled"):
        raise ConfigError(f"WANDB_MODE={mode!r}: freqssm runs take online, offline or disabled")
    return workdir, mode


def _fmt(m: dict) -> str:
    return ", ".join(f"{k}={v:.4g}" for k, v in m.items())


USAGE = """\
usage: freqssm-train --config FILE.py[:VARIANT[,VARIANT...]] --workdir DIR [--config.KEY=VALUE ...]
       (python -m freqssm.train takes the same flags)

  --config   an experiment file of configs/, optionally with variants (combined left to right)
  --workdir  where checkpoints, logs, plots and results go; rerun the same command to resume
  --config.KEY=VALUE  override any key, e.g. --config.model.ssm.alpha=2.0
             Every key, its default and meaning: configs/README.md.
"""


def help_text(argv: list[str]) -> str:
    """The usage, then the variants of the ``--config`` file named in ``argv`` (its docstring),
    or the first line of every file in ``configs/`` when none is named."""
    import ast

    _, path = split_config_arg(argv)
    out = [USAGE]
    if path:
        file = Path(path.split(":", 1)[0])
        try:
            doc = ast.get_docstring(ast.parse(file.read_text())) or "(no docstring)"
        except (OSError, SyntaxError) as e:
            doc = f"cannot read {file}: {e}"
        out.append(f"{file}:\n\n{doc}\n")
        return "\n".join(out)
    configs = Path(__file__).resolve().parents[2] / "configs"  # freqssm/train/cli.py -> repo
    if not configs.is_dir():  # an installed wheel: the experiment files live in the repository
        return USAGE
    out.append(f"experiment files in {configs} (--config FILE --help shows a file's variants):")
    for f in sorted(configs.glob("[!_]*.py")):
        doc = ast.get_docstring(ast.parse(f.read_text())) or ""
        out.append(f"  {f.name:<20} {doc.splitlines()[0] if doc else ''}")
    return "\n".join(out) + "\n"


def run() -> None:
    """Console entry point with one-line errors for bad configs and missing data."""
    from absl import app, flags
    from ml_collections import config_flags

    if any(a in ("-h", "--help", "-?", "--helpshort", "--helpfull") for a in sys.argv[1:]):
        print(help_text(sys.argv[1:]))
        sys.exit(0)

    from freqssm.errors import CheckpointError, DiskError, NonFiniteError, StartupInterruptedError
    from freqssm.train.config import load_config
    from freqssm.train.runfiles import disk_error

    rest, spec = split_config_arg(sys.argv)
    if spec is None:
        print(
            "error: --config is required (an experiment file, e.g. configs/waves.py)",
            file=sys.stderr,
        )
        sys.exit(2)
    try:  # the one loader of experiment files (freqssm.config.load_config)
        loaded = load_config(spec)
    except ConfigError as e:
        print(f"error: {e}", file=sys.stderr)
        sys.exit(2)
    except Exception as e:  # the file's own code failed (a bad variant, a syntax error)
        print(f"error: --config {spec}: {type(e).__name__}: {e}", file=sys.stderr)
        sys.exit(2)
    # --config.KEY=VALUE overrides are defined from the loaded config (so a key that does not
    # exist fails at parse time) and read from the command line by absl
    try:
        config_flags.DEFINE_config_dict(
            "config", loaded, "the experiment config (--config FILE)", sys_argv=rest
        )
    except (flags.Error, ValueError, KeyError, AttributeError, TypeError) as e:
        print(f"error: {_parse_error(e)}", file=sys.stderr)
        sys.exit(2)
    flags.DEFINE_string("workdir", None, "output folder; rerun with the same one to resume")
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")

    def _main(argv):
        from absl import logging as absl_logging

        # orbax and absl are chatty at INFO; keep the console for the progress bar and results
        absl_logging.set_verbosity(absl_logging.WARNING)
        quiet_background_failures()
        logging.getLogger("freqssm").setLevel(logging.INFO)
        try:
            return main(argv)
        except (ConfigError, DataError, NonFiniteError, CheckpointError) as e:
            print(f"error: {e}", file=sys.stderr)
            return 2
        except StartupInterruptedError as e:
            print(f"warning: {e}", file=sys.stderr)
            return 0
        except OSError as e:  # disk full, read-only file system, permissions
            if not isinstance(e, DiskError):
                if e.errno not in (errno.ENOSPC, errno.EROFS, errno.EACCES, errno.EDQUOT):
                    raise
                e = disk_error(e, e.filename or "the run's files")
            print(f"error: {e.strerror}", file=sys.stderr)
            return 2

    started = []

    def _entry(argv):
        started.append(True)
        return _main(argv)

    def _parse(argv: list[str]) -> list[str]:
        try:
            return flags.FLAGS(split_config_arg(argv)[0])
        except (flags.Error, ValueError, KeyError, AttributeError, TypeError, OSError) as e:
            print(f"error: {_parse_error(e)}", file=sys.stderr)
            sys.exit(2)

    try:
        app.run(_entry, flags_parser=_parse)
    except (ValueError, KeyError, AttributeError, TypeError, OSError, flags.Error) as e:
        if started:  # a genuine error inside training: keep the traceback
            raise
        print(f"error: {_parse_error(e)}", file=sys.stderr)
        sys.exit(2)


def split_config_arg(argv: list[str]) -> tuple[list[str], str | None]:
    """``argv`` without its ``--config FILE[:VARIANTS]`` (or ``--config=...``), and that value;
    the ``--config.KEY=VALUE`` overrides stay."""
    out, spec, skip = [], None, False
    for i, a in enumerate(argv):
        if skip:
            skip = False
        elif a.startswith("--config="):
            spec = a.split("=", 1)[1]
        elif a == "--config" and i + 1 < len(argv):
            spec, skip = argv[i + 1], True
        else:
            out.append(a)
    return out, spec


def quiet_background_failures() -> None:
    """Keep the console to one line when a save fails (a full disk): orbax's background threads
    log the failure with its traceback, and tensorstore's writes still in flight complete after
    orbax closed their event loop. The failure itself reaches the main thread as an exception."""
    logging.getLogger("absl").addFilter(_quiet_orbax_errors)
    logging.getLogger("asyncio").addFilter(_quiet_orbax_errors)
    sys.unraisablehook = _quiet_abandoned_writes


def _quiet_orbax_errors(record: logging.LogRecord) -> bool:
    """Drop orbax's own error logs and asyncio's "Task was destroyed" for orbax's coroutines."""
    if record.levelno < logging.ERROR:
        return True
    return "/orbax/" not in record.pathname and "/orbax/" not in record.getMessage()


def _quiet_abandoned_writes(unraisable: object) -> None:
    """``sys.unraisablehook`` that drops "Event loop is closed" from asyncio's
    ``call_soon_threadsafe``: tensorstore finishing a write of a save that already failed (a full
    disk), after orbax closed the event loop that waited for it. Everything else goes to Python's
    default hook."""
    exc = getattr(unraisable, "exc_value", None)
    tb = getattr(unraisable, "exc_traceback", None)
    frames = []
    while tb is not None:
        frames.append(tb.tb_frame.f_code.co_name)
        tb = tb.tb_next
    if (
        isinstance(exc, RuntimeError)
        and str(exc) == "Event loop is closed"
        and "call_soon_threadsafe" in frames
    ):
        return
    sys.__unraisablehook__(unraisable)


def _parse_error(e: BaseException) -> str:
    """One line for an error raised while the flags are parsed (the config file, a variant or a
    ``--config.*`` override)."""
    root = e
    while root.__cause__ is not None:
        root = root.__cause__
    if isinstance(root, OSError):
        if root.filename is None and "config file" in str(root):  # config_flags' own wrapper
            return "cannot load the --config file: " + str(root).split("\n")[-1].strip()
        return f"cannot load the --config file: {root.strerror or root}: {root.filename}"
    msg = str(root).replace("\\n", " ").replace("\n", " ").replace("\\'", "'").strip("'\" ")
    if "Traceback" in msg:  # the config file's get_config raised: keep its own message
        return f"--config: {msg.rsplit('Error: ', 1)[-1].strip()}"
    return f"bad command-line override: {msg}"
