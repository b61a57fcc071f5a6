"""Reference points of a sample-quality metric: the real-data floor, an untrained generator, trained runs.

  python -m launch.reference_points --extractor classifier:workdirs/resnet20_fashion_mnist \
      --workdirs workdirs/dcgan_fashion_mnist --reference_readme docs/results.md

Against the reference split (default: test) of the GAN config's dataset, with `--num` samples each:
- the train split (all of it): the floor a perfect generator would approach (FCD of real vs real);
- the generator of `--config` at initialisation (seed 0): the ceiling of a model that learned nothing;
- every run in `--workdirs` (latest checkpoint, EMA generator when kept).
Prints one JSON line per row (with its protocol) and, with `--reference_readme`, writes a Markdown table between
`<!-- fcd-table:start -->` and `<!-- fcd-table:end -->`.
"""
import json
import time

from absl import flags
from ml_collections import config_flags

from launch import common, tables

flags.DEFINE_string("extractor", None, "Feature extractor: classifier:<workdir> or inception_fid.")
config_flags.DEFINE_config_file("config", "configs/dcgan.py:fashion_mnist",
                                "GAN config: the dataset and the untrained generator.")
flags.DEFINE_list("workdirs", [], "Trained GAN workdirs to score.")
flags.DEFINE_integer("num", 10_000, "Generated samples per generator.")
flags.DEFINE_string("reference_split", "test", "Split the samples are compared with.")
flags.DEFINE_string("cache_dir", "workdirs/ref_cache", "Where ref_stats/ goes.")
flags.DEFINE_string("reference_readme", None, "Markdown file to write the table into (optional), e.g. docs/results.md.")
flags.mark_flags_as_required(["extractor"])
FLAGS = flags.FLAGS

MARKERS = ("<!-- fcd-table:start -->", "<!-- fcd-table:end -->")
COLUMNS = ("fcd", "classifier_score", "kid", "precision", "recall", "density", "coverage")


def real_vs_real(config, split: str, reference_split: str, extractor, cache_dir: str) -> dict:
  """FD, score and KID of the whole `split` against `reference_split` (both as reference statistics)."""
  from gans.metrics import evaluator, stats  # pylint: disable=g-import-not-at-top
  ref, _, _ = evaluator.reference_stats(config, reference_split, extractor, cache_dir)
  other, protocol, _ = evaluator.reference_stats(config, split, extractor, cache_dir)
  fd_name, score_name = ("fcd", "classifier_score") if extractor.name == "classifier" else ("fid", "is")
  kid, _ = stats.kernel_inception_distance(other["features"], ref["features"])
  return {fd_name: stats.frechet_distance(other["mu"], other["sigma"], ref["mu"], ref["sigma"]),
          score_name: float(other["is_mean"]), "kid": kid,
          "protocol": {"samples": f"{split} split, {protocol['num_real']} real images",
                       "extractor": extractor.protocol}}


def untrained(config, extractor, num: int, reference_split: str, cache_dir: str) -> dict:
  """Metrics of the config's generator at initialisation."""
  import jax  # pylint: disable=g-import-not-at-top

  from gans import parallel  # pylint: disable=g-import-not-at-top
  from gans.data import pipeline  # pylint: disable=g-import-not-at-top
  from gans.metrics import evaluator  # pylint: disable=g-import-not-at-top
  from gans.train import loop  # pylint: disable=g-import-not-at-top
  task = loop.create_task(config, pipeline.data_spec(config), parallel.make_mesh(1))
  state = task.init(jax.random.key(config.seed))
  return evaluator.evaluate_state(config, task, state, num, extractor, reference_split, cache_dir=cache_dir)


def table(rows: list[tuple[str, dict]], extractor_protocol: dict, num: int, split: str) -> str:
  """The Markdown table of (name, metrics) rows, one column per metric of COLUMNS, and its protocol note."""
  cells = [[name] + [f"{r[c]:.4g}" if c in r else "-" for c in COLUMNS] for name, r in rows]
  ext = extractor_protocol
  note = (f"\n\nAgainst the {split} split; {num} samples per generator; extractor `{ext['name']}` "
          f"({ext.get('model', '')}, features: {ext.get('features', '')}), weights sha256 "
          f"`{ext['weights_sha256'][:16]}...`. Regenerate: `python -m launch.reference_points` (see its docstring).\n")
  return tables.markdown_table(["samples", *COLUMNS], cells) + note


def main(argv):
  del argv
  from gans import runs  # pylint: disable=g-import-not-at-top
  from gans.metrics import features  # pylint: disable=g-import-not-at-top
  config = FLAGS.config
  ext = features.get_extractor(FLAGS.extractor)
  rows = []

  def emit(name, result, t0):
    result = {**result, "minutes": (time.time() - t0) / 60}
    print(json.dumps({"row": name, **result}), flush=True)
    rows.append((name, result))

  t0 = time.time()
  emit("train split (real)", real_vs_real(config, "train", FLAGS.reference_split, ext, FLAGS.cache_dir), t0)
  t0 = time.time()
  emit(f"{config.get('experiment', 'generator')} at initialisation",
       untrained(config, ext, FLAGS.num, FLAGS.reference_split, FLAGS.cache_dir), t0)
  for workdir in FLAGS.workdirs:
    t0 = time.time()
    result = runs.evaluate_workdir(workdir, FLAGS.num, ext, FLAGS.reference_split, cache_dir=FLAGS.cache_dir)
    emit(f"{workdir} (step {result['step']})", result, t0)
  if FLAGS.reference_readme:
    body = table(rows, ext.protocol, FLAGS.num, FLAGS.reference_split)
    tables.write_between_markers(FLAGS.reference_readme, MARKERS, body)


if __name__ == "__main__":
  common.run(main)
