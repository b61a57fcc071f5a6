"""What every launcher shares: one-line errors for user mistakes, logging, optional multi-host start."""
import logging as py_logging
import os
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
  sys.exit(code)


def _parse(argv):
  try:
    return FLAGS(argv)
  except flags.Error as e:
    _fail(str(e).splitlines()[0], 2)
  except UserError as e:  # raised by a config's get_config, e.g. an unknown dataset after ':'
    _fail(str(e), 2)
  except (KeyError, AttributeError, ValueError, TypeError) as e:  # bad --config.<key> overrides
    _fail(f"bad config override: {str(e).strip(chr(34))}", 2)


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


def run(main):
  """app.run(main) where a UserError (or a missing file) is one line on stderr and exit code 1."""
  def wrapped(argv):
    logging.set_verbosity(logging.WARNING)  # libraries: warnings only
    py_logging.getLogger("gans").setLevel(py_logging.INFO)  # ours: progress too
    try:
      main(argv)
    except UserError as e:
      _fail(str(e), 1)
    except (FileNotFoundError, PermissionError) as e:
      _fail(f"{e.strerror}: {e.filename}", 1)
  app.run(wrapped, flags_parser=_parse)
