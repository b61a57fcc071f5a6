"""Trains the Fashion-MNIST classifier configs and writes their results into docs/results.md.

  python -m launch.classifier_table          # the configs in --classifier_configs, into docs/results.md
  python -m launch.classifier_table --classifier_configs lenet5_fashion_mnist,airbench_fashion_mnist --seeds 0,1,2
  python -m launch.classifier_table --classifier_configs lenet5_fashion_mnist --classifier_workroot /tmp/runs

Each config `configs/<name>.py` trains in `--classifier_workroot/<name>` (with `--seeds`, once per seed in
`<name>_s<seed>`; a finished run is reused, an interrupted one resumes) on the 60k train split; a row reports each
seed's final test-split top-1, their mean and minimum, the mean top-5, each seed's wall-clock minutes of
`train_and_evaluate` (compile, training, evaluations and checkpoints included), the 1-minute load average before
each run started (other work on the machine) and the trainable parameter count. The Markdown goes between
`<!-- classifier-table:start -->` and `<!-- classifier-table:end -->` in `--classifier_readme`; rows of configs
not trained in this call are kept.
"""
import os

import numpy as np
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


HEADER = ["config", "model", "seeds", "test top-1 % by seed", "mean", "min", "top-5 % mean", "minutes by seed",
          "load before", "params"]


def table(rows: list[tuple[str, object, list[dict]]], kept: dict[str, str] | None = None) -> str:
  """The Markdown table of `rows` (name, config, one result per seed), with the `kept` rows (first cell -> line)
  of configs not in `rows`; a kept row of the older one-seed layout is shown in this one."""
  cells = {}
  for name, line in (kept or {}).items():
    old = tables.cells(line)
    if len(old) == len(HEADER):
      cells[name] = old
    elif len(old) == 6:  # config, model, top-1, top-5, minutes, params: one run of the config's seed 0
      cells[name] = [*old[:2], "0", old[2], old[2], old[2], old[3], old[4], "-", old[5]]
    else:
      print(f"dropped {name}'s row, of another layout: {line}", flush=True)
  for name, config, runs in rows:
    top1 = [100 * r["test_accuracy"] for r in runs if "test_accuracy" in r]
    top5 = [100 * r["test_top5_accuracy"] for r in runs if "test_top5_accuracy" in r]
    joined = lambda values, fmt: " / ".join(format(v, fmt) for v in values) or "-"
    cells[name] = [name, config.model.name, ", ".join(str(r["seed"]) for r in runs), joined(top1, ".2f"),
                   f"{np.mean(top1):.2f}" if top1 else "-", f"{min(top1):.2f}" if top1 else "-",
                   f"{np.mean(top5):.2f}" if top5 else "-", joined([r["wall_min"] for r in runs], ".1f"),
                   joined([r["load_before"] for r in runs if "load_before" in r], ".1f"),
                   f"{param_count(config):,}"]
  order = sorted(cells, key=lambda n: (CONFIGS.index(n) if n in CONFIGS else len(CONFIGS), n))
  return tables.markdown_table(HEADER, [cells[n] for n in order], align="lllrrrrrrr") + (
      "\n\nTrained on the 60k train split, evaluated on the 10k test split; minutes are wall-clock on this "
      "2-core CPU (compile, evaluations and checkpoints included); load before: the 1-minute load average when "
      "the run started. Regenerate: `python -m launch.classifier_table --classifier_configs <row> --seeds 0,1,2`.")


def main(argv):
  del argv
  rows = []
  for name in FLAGS.classifier_configs:
    runs = []
    for seed in FLAGS.seeds or [None]:
      config = common.experiment_config(name, FLAGS.classifier_steps)
      if seed is not None:
        config.seed = int(seed)
      workdir = os.path.join(FLAGS.classifier_workroot, name if seed is None else f"{name}_s{seed}")
      r = {**tables.train_one(config, workdir), "seed": config.seed}
      print(f"{name} seed {config.seed}: test accuracy {r.get('test_accuracy')}, {r['wall_min']:.1f} min",
            flush=True)
      runs.append(r)
    rows.append((name, config, runs))
  body = table(rows, tables.table_rows(FLAGS.classifier_readme, MARKERS))
  tables.write_between_markers(FLAGS.classifier_readme, MARKERS, body)
  print(body)


if __name__ == "__main__":
  common.run(main)
