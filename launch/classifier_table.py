"""Trains the Fashion-MNIST classifier configs and writes their results into docs/results.md.

  python -m launch.classifier_table          # the configs in --classifier_configs, into docs/results.md
  python -m launch.classifier_table --classifier_configs lenet5_fashion_mnist --classifier_workroot /tmp/runs

Each config `configs/<name>.py` trains in `--classifier_workroot/<name>` (a finished run is reused, an
interrupted one resumes) on the 60k train split; the table reports its final test-split evaluation (top-1, top-5), the
wall-clock minutes of `train_and_evaluate` (compile, training, evaluations and checkpoints included),
and the trainable parameter count. The Markdown goes between `<!-- classifier-table:start -->` and
`<!-- classifier-table:end -->` in `--classifier_readme`; rows of configs not trained in this call are kept.
"""
import os

from absl import flags

from launch import common, tables

CONFIGS = ("lenet5_fashion_mnist", "resnet20_fashion_mnist", "airbench_fashion_mnist")
flags.DEFINE_list("classifier_configs", list(CONFIGS), "Config names under configs/.")
flags.DEFINE_string("classifier_workroot", "workdirs", "Where the runs live (<root>/<config>, as in the configs' "
                    "own commands).")
flags.DEFINE_string("classifier_readme", "docs/results.md", "The results page to update.")
flags.DEFINE_integer("classifier_steps", 0, "Override total_steps (0: the configs' own; to test this script).")
FLAGS = flags.FLAGS

MARKERS = ("<!-- classifier-table:start -->", "<!-- classifier-table:end -->")


def param_count(config) -> int:
  """Trainable parameters of the config's model on its dataset's image shape."""
  import jax  # pylint: disable=g-import-not-at-top
  import jax.numpy as jnp  # pylint: disable=g-import-not-at-top

  from gans.data import pipeline  # pylint: disable=g-import-not-at-top
  from gans.models import classifiers, summary  # pylint: disable=g-import-not-at-top
  data = pipeline.data_spec(config)
  model = classifiers.from_config(config.model, data.num_classes)
  return summary.count(jax.eval_shape(model.init, jax.random.key(0), jnp.zeros((1, *data.shape)))["params"])


def table(rows: list[tuple[str, object, dict]], kept: dict[str, str] | None = None) -> str:
  """The Markdown table of `rows`, with the `kept` rows (first cell -> line) of configs not in `rows`."""
  cells = {name: tables.cells(line) for name, line in (kept or {}).items()}
  for name, config, r in rows:
    top1 = f"{100 * r['test_accuracy']:.2f}" if "test_accuracy" in r else "-"
    top5 = f"{100 * r['test_top5_accuracy']:.2f}" if "test_top5_accuracy" in r else "-"
    cells[name] = [name, config.model.name, top1, top5, f"{r['wall_min']:.1f}", f"{param_count(config):,}"]
  order = sorted(cells, key=lambda n: (CONFIGS.index(n) if n in CONFIGS else len(CONFIGS), n))
  header = ["config", "model", "test top-1 %", "test top-5 %", "minutes", "params"]
  return tables.markdown_table(header, [cells[n] for n in order], align="llrrrr") + (
      "\n\nTrained on the 60k train split, evaluated on the 10k test split; minutes are wall-clock on this "
      "2-core CPU. Regenerate: `python -m launch.classifier_table`.")


def main(argv):
  del argv
  rows = []
  for name in FLAGS.classifier_configs:
    config = common.experiment_config(name, FLAGS.classifier_steps)
    r = tables.train_one(config, os.path.join(FLAGS.classifier_workroot, name))
    print(f"{name}: test accuracy {r.get('test_accuracy')}, {r['wall_min']:.1f} min", flush=True)
    rows.append((name, config, r))
  body = table(rows, tables.table_rows(FLAGS.classifier_readme, MARKERS))
  tables.write_between_markers(FLAGS.classifier_readme, MARKERS, body)
  print(body)


if __name__ == "__main__":
  common.run(main)
