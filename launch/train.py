"""Trains an experiment: `python -m launch.train --config configs/<experiment>.py --workdir DIR`.

Re-running the same command on the same DIR resumes from its newest intact checkpoint (or --restore_step);
a config that changes what is trained is refused there unless --allow_config_change. One process at a time
trains in a DIR (a lock). SIGTERM or SIGINT writes a checkpoint, then exits with 128 + the signal's number
and "stopped at step N (SIGTERM)"; a finished run prints "done". Compiled train steps are
kept in JAX's persistent compilation cache (`--compilation_cache`), so a resumed or repeated run skips the
compile (densenet121: the first run compiles for ~45 s on 2 CPU cores).
"""
import os
import sys

from absl import flags
from ml_collections import config_flags

from launch import common

config_flags.DEFINE_config_file("config", None, "Experiment config file (configs/<experiment>.py).",
                                lock_config=True)
flags.DEFINE_string("workdir", None, "Where checkpoints, metrics, samples and TensorBoard events go.")
flags.DEFINE_string("compilation_cache", os.path.join("~", ".cache", "gans", "jax"),
                    "Directory of JAX's persistent compilation cache ('' turns it off).")
flags.DEFINE_integer("restore_step", None, "Resume from this checkpoint step instead of the newest intact one "
                     "(newer checkpoints are moved to DIR/checkpoints_set_aside).")
flags.DEFINE_bool("allow_config_change", False, "Resume although the config changes what is trained (model, "
                  "loss, optimizers, data, seed, ...); each such resume is appended to DIR/config_history.jsonl.")
flags.mark_flags_as_required(["config", "workdir"])
FLAGS = flags.FLAGS


def main(argv):
  del argv
  common.init_distributed()
  common.use_compilation_cache(FLAGS.compilation_cache)
  from gans import workdir  # pylint: disable=g-import-not-at-top
  from gans.train import loop  # pylint: disable=g-import-not-at-top
  stop = workdir.StopOnSignal()
  state = loop.train_and_evaluate(FLAGS.config, FLAGS.workdir, restore_step=FLAGS.restore_step,
                                  allow_config_change=FLAGS.allow_config_change, stop=stop)
  if stop.requested:
    print(f"stopped at step {int(state.step)} ({stop.signal_name}): checkpoint written in {FLAGS.workdir}; run "
          "the same command to resume", flush=True)
    sys.exit(128 + stop.signum)
  print(f"done: {int(state.step)} steps; metrics.jsonl, checkpoints and pictures are in {FLAGS.workdir}")


if __name__ == "__main__":
  common.run(main)
