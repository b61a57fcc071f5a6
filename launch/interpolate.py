"""Network interpolation (Wang et al. 2018, sec. 3.4): a new run whose generator is (1 - alpha) x the
PSNR-oriented run's + alpha x the GAN run's, every parameter (and BatchNorm statistic) mixed alike:

  python -m launch.interpolate --psnr_workdir A --gan_workdir B --alpha 0.8 --workdir OUT

OUT gets B's config (with `interpolation` = {psnr_workdir, gan_workdir, alpha}) and a checkpoint at B's step
holding B's state with the mixed generator, so `launch.evaluate` / `launch.translate --workdir OUT` use it.
"""
import os

import jax
import numpy as np
from absl import flags

from launch import common

flags.DEFINE_string("psnr_workdir", None, "The PSNR-oriented run (e.g. RRDBNet trained with the L1 loss).")
flags.DEFINE_string("gan_workdir", None, "The GAN run fine-tuned from it (same generator architecture).")
flags.DEFINE_float("alpha", 0.8, "Weight of the GAN run's parameters, in [0, 1].")
flags.DEFINE_string("workdir", None, "Where the interpolated run is written (must not hold a run yet).")
flags.mark_flags_as_required(["psnr_workdir", "gan_workdir", "workdir"])
FLAGS = flags.FLAGS


def mix(a, b, alpha: float):
  """(1 - alpha) a + alpha b leaf by leaf, for two pytrees of the same structure and shapes."""
  return jax.tree.map(lambda x, y: ((1 - alpha) * np.asarray(x, np.float64) + alpha * np.asarray(y, np.float64))
                      .astype(np.asarray(x).dtype), a, b)


def interpolate(psnr_workdir: str, gan_workdir: str, alpha: float, workdir: str) -> str:
  """Writes the interpolated run to `workdir`; returns a one-line summary."""
  from gans import checkpoint, runs  # pylint: disable=g-import-not-at-top  # after absl parsed the flags
  from gans.errors import UserError  # pylint: disable=g-import-not-at-top
  from gans.train import loop  # pylint: disable=g-import-not-at-top
  if not 0 <= alpha <= 1:
    raise UserError(f"alpha must be in [0, 1], got {alpha}")
  if os.path.exists(os.path.join(workdir, "config.json")):
    raise UserError(f"{workdir} already holds a run; choose a new --workdir")
  _, _, psnr_state, psnr_step = runs.restore_task(psnr_workdir)
  config, _, gan_state, gan_step = runs.restore_task(gan_workdir)
  psnr_g, gan_g = getattr(psnr_state, "g", None), getattr(gan_state, "g", None)
  if psnr_g is None or gan_g is None:
    raise UserError("both runs must hold a generator (super-resolution or GAN runs)")
  parts = {}
  for name in ("params", "batch_stats"):
    a, b = getattr(psnr_g, name), getattr(gan_g, name)
    shapes = lambda t: jax.tree.map(lambda x: (tuple(x.shape), str(x.dtype)), t)
    if jax.tree.structure(a) != jax.tree.structure(b) or shapes(a) != shapes(b):
      raise UserError(f"the generators of {psnr_workdir} and {gan_workdir} differ in their {name}: "
                      "interpolation needs the same architecture")
    parts[name] = mix(jax.device_get(a), jax.device_get(b), alpha)
  state = gan_state.replace(g=gan_g.replace(**parts))
  config.interpolation = {"psnr_workdir": os.path.abspath(psnr_workdir), "psnr_step": int(psnr_step),
                          "gan_workdir": os.path.abspath(gan_workdir), "gan_step": int(gan_step), "alpha": alpha}
  config.experiment = f"{config.get('experiment', 'run')}_interp{alpha:g}"
  workdir = loop.prepare_workdir(workdir)
  with open(os.path.join(workdir, "config.json"), "w") as f:
    f.write(config.to_json(indent=2))
  mngr = checkpoint.manager(workdir, async_save=False)
  checkpoint.save(mngr, int(gan_step), state)
  mngr.wait_until_finished()
  mngr.close()
  return (f"wrote {workdir}: generator = {1 - alpha:g} x {psnr_workdir} (step {psnr_step}) + {alpha:g} x "
          f"{gan_workdir} (step {gan_step})")


def main(argv):
  del argv
  print(interpolate(FLAGS.psnr_workdir, FLAGS.gan_workdir, FLAGS.alpha, FLAGS.workdir), flush=True)


if __name__ == "__main__":
  common.run(main)
