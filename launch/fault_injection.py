"""Kills a tiny trainer with SIGKILL at random moments, resumes it, and checks that the final state equals an
uninterrupted run's, bit for bit: `python -m launch.fault_injection --trials 10`.

Each trial trains the same tiny ring8 GAN (MLPs of width 8, `--steps` steps, a checkpoint every
`--checkpoint_every`) in its own workdir, killing the process at a random moment of its training phase (so
also during checkpoint writes) up to `--kills` times, then lets it finish. Prints one JSON line: trials, kills
(and how many left a checkpoint half written), identical (trials whose final state equals the reference's),
the failed trials; exits 1 if any failed.
"""
import json
import os
import random
import signal
import subprocess
import sys
import tempfile
import time

from absl import flags

from launch import common

flags.DEFINE_integer("trials", 5, "Interrupted runs to compare with the uninterrupted one.")
flags.DEFINE_integer("kills", 3, "SIGKILLs per trial (each at a random moment of training).")
flags.DEFINE_integer("steps", 2000, "Train steps of each run.")
flags.DEFINE_integer("checkpoint_every", 20, "Checkpoint interval (small: many writes to interrupt).")
flags.DEFINE_integer("seed", 0, "Seed of the kill times.")
flags.DEFINE_string("workdir", None, "Where the runs go (default: a new temporary directory).")
FLAGS = flags.FLAGS


def _command(workdir: str) -> list[str]:
  return [sys.executable, "-m", "launch.train", "--config", "configs/nsgan.py:ring8", "--workdir", workdir,
          f"--config.total_steps={FLAGS.steps}", f"--config.checkpoint_every={FLAGS.checkpoint_every}",
          "--config.log_every=50", "--config.eval_every=1000000", "--config.num_devices=1",
          "--config.batch_size=16", "--config.model.g_hidden=(8,)", "--config.model.d_hidden=(8,)"]


def _start(workdir: str) -> tuple[subprocess.Popen, str]:
  os.makedirs(workdir, exist_ok=True)
  log_path = os.path.join(workdir, f"stderr.{time.time_ns()}")
  with open(log_path, "w") as log:
    proc = subprocess.Popen(_command(workdir), cwd=os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
                            stdout=subprocess.DEVNULL, stderr=log)
  return proc, log_path


def _wait_for_training(proc: subprocess.Popen, log_path: str) -> float:
  """Seconds until the run logs that training starts (or ends)."""
  t = time.time()
  while proc.poll() is None:
    with open(log_path) as f:
      if "training " in f.read():
        break
    time.sleep(0.02)
  return time.time() - t


def _final_state(workdir: str):
  from gans import runs  # pylint: disable=g-import-not-at-top
  _, _, state, step = runs.restore_task(workdir)
  return state, step


def main(argv):
  del argv
  import jax  # pylint: disable=g-import-not-at-top
  import numpy as np  # pylint: disable=g-import-not-at-top

  from gans.errors import UserError  # pylint: disable=g-import-not-at-top
  if FLAGS.trials < 1 or FLAGS.kills < 0 or FLAGS.steps < 1 or FLAGS.checkpoint_every < 1:
    raise UserError("--trials, --steps and --checkpoint_every must be positive, --kills >= 0")
  base = FLAGS.workdir or tempfile.mkdtemp(prefix="fault_injection_")
  rng = random.Random(FLAGS.seed)

  proc, log_path = _start(os.path.join(base, "reference"))
  _wait_for_training(proc, log_path)
  t0 = time.time()
  if proc.wait() != 0:
    raise UserError(f"the uninterrupted run failed; see {log_path}")
  train_seconds = time.time() - t0
  reference, ref_step = _final_state(os.path.join(base, "reference"))
  ref_leaves = [np.asarray(x) for x in jax.tree.leaves(reference)]

  kills, mid_write, identical, failed = 0, 0, 0, []
  for trial in range(FLAGS.trials):
    workdir = os.path.join(base, f"trial_{trial}")
    for _ in range(FLAGS.kills):
      proc, log_path = _start(workdir)
      _wait_for_training(proc, log_path)
      try:
        proc.wait(timeout=rng.uniform(0, train_seconds))
        break  # finished before its kill
      except subprocess.TimeoutExpired:
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        kills += 1
        ckpt_dir = os.path.join(workdir, "checkpoints")
        mid_write += any(d.endswith("tmp") for d in os.listdir(ckpt_dir)) if os.path.isdir(ckpt_dir) else 0
    proc, log_path = _start(workdir)
    if proc.wait() != 0:
      failed.append({"trial": trial, "error": f"resume failed, see {log_path}"})
      continue
    state, step = _final_state(workdir)
    leaves = [np.asarray(x) for x in jax.tree.leaves(state)]
    if step == ref_step and all(np.array_equal(a, b) for a, b in zip(leaves, ref_leaves)):
      identical += 1
    else:
      failed.append({"trial": trial, "error": f"final state at step {step} differs from the reference's"})
  print(json.dumps({"trials": FLAGS.trials, "kills": kills, "kills_mid_checkpoint_write": mid_write,
                    "identical": identical, "failed": failed, "train_seconds": round(train_seconds, 1),
                    "workdir": base}), flush=True)
  if failed:
    sys.exit(1)


if __name__ == "__main__":
  common.run(main)
