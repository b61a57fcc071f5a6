"""Network interpolation (Wang et al. 2018, sec. 3.4): a new run whose generator is (1 - alpha) x the
PSNR-oriented run's + alpha x the GAN run's, every parameter (and BatchNorm statistic) mixed alike:

  python -m launch.interpolate --psnr_workdir A --gan_workdir B --alpha 0.8 --workdir OUT

OUT gets B's config (with `interpolation` = {psnr_workdir, gan_workdir, alpha}) and a checkpoint at B's step
holding B's state with the mixed generator, so `launch.evaluate` / `launch.translate --workdir OUT` use it.
"""
from absl import flags

from launch import common

flags.DEFINE_string("psnr_workdir", None, "The PSNR-oriented run (e.g. RRDBNet trained with the L1 loss).")
flags.DEFINE_string("gan_workdir", None, "The GAN run fine-tuned from it (same generator architecture).")
flags.DEFINE_float("alpha", 0.8, "Weight of the GAN run's parameters, in [0, 1].")
flags.DEFINE_string("workdir", None, "Where the interpolated run is written (must not hold a run yet).")
flags.mark_flags_as_required(["psnr_workdir", "gan_workdir", "workdir"])
FLAGS = flags.FLAGS


def main(argv):
  del argv
  from gans import runs  # pylint: disable=g-import-not-at-top  # after absl parsed the flags
  print(runs.interpolate_runs(FLAGS.psnr_workdir, FLAGS.gan_workdir, FLAGS.alpha, FLAGS.workdir), flush=True)


if __name__ == "__main__":
  common.run(main)
