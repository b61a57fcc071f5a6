"""What every launcher shares: one-line errors for user mistakes, logging, optional multi-host start."""
import errno
import logging as py_logging
import os
import signal
import sys

from absl import app, flags, logging

from gans.errors import UserError

flags.DEFINE_bool("multihost", False, "Call jax.distributed.initialize() (coordinator from the environment "
                  "or --coordinator/--num_processes/--process_id).")
flags.DEFINE_string("coordinator", None, "host:port of process 0, for --multihost without a cluster manager.")
flags.DEFINE_integer("num_processes", None, "Number of processes, for --multihost.")
flags.DEFINE_integer("process_id", None, "This process's index, for --multihost.")
FLAGS = flags.FLAGS


def _fail(message: str, code: int):
  print(f"error: {message}", file=sys.stderr)
  sys.stdout.flush()
  sys.stderr.flush()
  os._exit(code)  # now: library threads (orbax's, after a failed write) would block the exit or print more


def _config_path(argv) -> str:
  """The --config file named in `argv` (the last one, as absl takes; '?' when absent)."""
  path = "?"
  for i, arg in enumerate(argv):
    if arg.startswith("--config="):
      path = arg.split("=", 1)[1]
    elif arg == "--config" and i + 1 < len(argv):
      path = argv[i + 1]
  return path


def _parse(argv):
  try:
    rest = FLAGS(argv)
    if "config" in FLAGS and FLAGS.config is not None:
      FLAGS.config.keys()  # config_flags loads a missing file lazily: fail here, not at the first use
    return rest
  except flags.Error as e:
    _fail(str(e).splitlines()[0], 2)
  except UserError as e:  # raised by a config's get_config, e.g. an unknown dataset after ':'
    _fail(str(e), 2)
  except (KeyError, AttributeError, ValueError, TypeError) as e:  # bad --config.<key> overrides
    _fail(f"bad config override: {str(e).strip(chr(34))}", 2)
  except SyntaxError as e:  # the config file itself (config_flags loads it while parsing)
    _fail(f"config file {e.filename}, line {e.lineno}: {e.msg}", 2)
  except OSError as e:
    path = _config_path(argv)
    reason = "no such file" if not os.path.exists(path) else str(e.__cause__ or e).splitlines()[0]
    _fail(f"cannot load config file {path}: {reason}", 2)
  except Exception as e:  # pylint: disable=broad-except  # raised by the config file's own code
    _fail(f"config file {_config_path(argv)} raised {type(e).__name__}: {str(e).splitlines()[0] if str(e) else ''}",
          2)


class _DropOrbaxErrors(py_logging.Filter):
  """Orbax logs a failed background write with tracebacks from each of its threads; the same failure
  reaches the main thread as one CheckpointWriteError line."""

  def filter(self, record):
    return not (record.levelno >= py_logging.ERROR and f"{os.sep}orbax{os.sep}" in record.pathname)


def init_distributed():
  """Starts jax.distributed when --multihost is given; logs from process 0 only."""
  import jax  # pylint: disable=g-import-not-at-top
  if FLAGS.multihost:
    jax.config.update("jax_cpu_collectives_implementation", "gloo")  # CPU-only runs; ignored on GPU/TPU
    jax.distributed.initialize(coordinator_address=FLAGS.coordinator, num_processes=FLAGS.num_processes,
                               process_id=FLAGS.process_id)
  if jax.process_index() != 0:
    py_logging.getLogger("gans").setLevel(py_logging.WARNING)


def use_compilation_cache(directory: str):
  """Keeps compiled executables in `directory` (JAX's persistent cache; those that took over
  `jax_persistent_cache_min_compile_time_secs`, default 1 s), loaded instead of compiled again by later
  runs; '' leaves the cache off."""
  import jax  # pylint: disable=g-import-not-at-top
  if directory:
    jax.config.update("jax_compilation_cache_dir", os.path.expanduser(directory))


def experiment_config(name: str, steps: int = 0):
  """The config of `name` ("wgan_gp", "configs/wgan_gp.py"'s get_config()) or `name:arg` ("wgan_gp:grid25",
  its get_config("grid25"), as `--config configs/wgan_gp.py:grid25` passes it); a UserError when there is no
  such file; total_steps = `steps` if set."""
  import importlib  # pylint: disable=g-import-not-at-top
  module, sep, arg = name.partition(":")
  try:
    get_config = importlib.import_module(f"configs.{module}").get_config
  except ModuleNotFoundError:
    raise UserError(f"no config configs/{module}.py") from None
  c = get_config(arg) if sep else get_config()
  if steps:
    c.total_steps = steps
  return c


def _quiet_closed_event_loops(unraisablehook):
  """sys.unraisablehook without tensorstore's callbacks into the event loop of an orbax save that already
  failed ("Event loop is closed", once per pending write): that save's error is reported instead."""
  def hook(unraisable):
    if unraisable.exc_type is RuntimeError and str(unraisable.exc_value) == "Event loop is closed":
      return
    unraisablehook(unraisable)
  return hook


def run(main):
  """app.run(main) where a UserError, a missing file or a failed write (disk full, file size limit,
  read-only directory) is one line on stderr and exit code 1."""
  def wrapped(argv):
    logging.set_verbosity(logging.WARNING)  # libraries: warnings only
    py_logging.getLogger("gans").setLevel(py_logging.INFO)  # ours: progress too
    py_logging.getLogger("absl").addFilter(_DropOrbaxErrors())
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # past `ulimit -f` a write raises EFBIG instead of killing us
    sys.unraisablehook = _quiet_closed_event_loops(sys.unraisablehook)
    try:
      main(argv)
    except UserError as e:
      _fail(str(e), 1)
    except (FileNotFoundError, PermissionError) as e:
      _fail(f"{e.strerror}: {e.filename}", 1)
    except OSError as e:
      if e.errno not in (errno.ENOSPC, errno.EFBIG, errno.EROFS, errno.EDQUOT, errno.EIO):
        raise
      _fail(f"{e.strerror}{': ' + str(e.filename) if e.filename else ''} (disk full, quota or file size limit)", 1)
  app.run(wrapped, flags_parser=_parse)
