"""Trains an experiment: `python -m launch.train --config configs/<experiment>.py --workdir DIR`.

Re-running the same command on the same DIR resumes from its latest checkpoint. Compiled train steps are
kept in JAX's persistent compilation cache (`--compilation_cache`), so a resumed or repeated run skips the
compile (densenet121: the first run compiles for ~45 s on 2 CPU cores).
"""
import os

from absl import flags
from ml_collections import config_flags

from launch import common

config_flags.DEFINE_config_file("config", None, "Experiment config file (configs/<experiment>.py).",
                                lock_config=True)
flags.DEFINE_string("workdir", None, "Where checkpoints, metrics, samples and TensorBoard events go.")
flags.DEFINE_string("compilation_cache", os.path.join("~", ".cache", "gans", "jax"),
                    "Directory of JAX's persistent compilation cache ('' turns it off).")
flags.mark_flags_as_required(["config", "workdir"])
FLAGS = flags.FLAGS


def main(argv):
  del argv
  common.init_distributed()
  common.use_compilation_cache(FLAGS.compilation_cache)
  from gans.train import loop  # pylint: disable=g-import-not-at-top
  loop.train_and_evaluate(FLAGS.config, FLAGS.workdir)
  print(f"done: samples, metrics.jsonl and checkpoints are in {FLAGS.workdir}")


if __name__ == "__main__":
  common.run(main)
