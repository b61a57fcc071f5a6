"""Sample-quality metrics of a trained GAN: `python -m launch.evaluate --workdir DIR [--num N]`.

Prints ONE JSON line: the metrics (FID or FCD, IS or classifier score, KID, precision/recall,
density/coverage; mode coverage for 2-D mixtures), the checkpoint step and the `protocol` (feature
extractor and its weights' sha256, resizing, numbers of generated and real samples, reference split,
generator mode, seed). Reference statistics are cached in <data_dir or workdir>/ref_stats/.

  python -m launch.evaluate --workdir workdirs/dcgan_fashion_mnist      # FCD with the shipped classifier
  python -m launch.evaluate --workdir workdirs/dcgan_fashion_mnist --extractor inception_fid --fid_weights w.npz
  python -m launch.evaluate --workdir workdirs/dcgan_mnist_5k --extractor classifier:workdirs/lenet5_mnist_5k
"""
import json

from absl import flags

from launch import common

flags.DEFINE_string("workdir", None, "A GAN workdir written by launch.train.")
flags.DEFINE_integer("num", None, "Generated samples (default: 2,500 for 2-D mixtures, 10,000 for images).")
flags.DEFINE_string("extractor", "", "Feature extractor: shipped:<name> (a classifier shipped with the library), "
                    "classifier:<workdir> or inception_fid; default: the run's dataset's shipped classifier when there "
                    "is one (fashion_mnist, mnist_5k), else inception_fid.")
flags.DEFINE_string("fid_weights", None, "Converted FID Inception weights (.npz/.safetensors); default "
                    "$GANS_FID_WEIGHTS. See third_party/pytorch_fid/README.md.")
flags.DEFINE_string("reference_split", "test", "Split of the run's dataset to compare with.")
flags.DEFINE_bool("use_ema", True, "Sample from the EMA generator when the run kept one.")
flags.DEFINE_integer("seed", 0, "Seed for the latent codes.")
flags.DEFINE_string("cache_dir", None, "Where ref_stats/ goes (default: the run's data_dir, else the workdir).")
flags.mark_flags_as_required(["workdir"])
FLAGS = flags.FLAGS


def main(argv):
  del argv
  from gans import runs  # pylint: disable=g-import-not-at-top  # after absl parsed the flags
  from gans.data import toy  # pylint: disable=g-import-not-at-top
  from gans.errors import UserError  # pylint: disable=g-import-not-at-top
  if FLAGS.num is not None and FLAGS.num < 2:
    raise UserError(f"--num must be at least 2, got {FLAGS.num}")
  config = runs.load_config(FLAGS.workdir)
  if config.get("dataset") in toy.MIXTURES and FLAGS["extractor"].present:
    raise UserError(f"{FLAGS.workdir} is a 2-D {config.dataset} run: its metrics are mode coverage and quality, "
                    "computed on the points; --extractor applies to image runs only")
  result = runs.evaluate_workdir(
      FLAGS.workdir, num=FLAGS.num, extractor=FLAGS.extractor, reference_split=FLAGS.reference_split,
      use_ema=FLAGS.use_ema, seed=FLAGS.seed, weights=FLAGS.fid_weights, cache_dir=FLAGS.cache_dir)
  print(json.dumps(result), flush=True)


if __name__ == "__main__":
  common.run(main)
