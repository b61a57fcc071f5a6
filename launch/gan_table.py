"""Trains the GAN family on the 2-D mixtures (and Fashion-MNIST) and writes the results into docs/results.md.

  python -m launch.gan_table --seeds 0,1,2                      # ring8 + grid25 table
  python -m launch.gan_table --fashion_steps 2000 --datasets=   # Fashion-MNIST sample grids only

For every variant and dataset (`configs/<variant>.py:<dataset>`) and seed it trains in
`--workroot/<variant>_<dataset>_s<seed>` (a finished run is reused, an interrupted one resumes) and
reads the final PacGAN mode-coverage evaluation (2,500 samples; Lin et al. 2018, sec. 5.1). Each
dataset's Markdown table goes between `<!-- gan-table:<dataset>:start -->` and
`<!-- gan-table:<dataset>:end -->` in `--table_readme`, so one dataset can be rerun alone;
Fashion-MNIST grids go to `--samples_dir` and their table between `<!-- gan-samples:start -->` and
`<!-- gan-samples:end -->`. CPU minutes are this process's CPU time (all threads) per run.
"""
import os

import numpy as np
from absl import flags

from gans.train.gan_parts import VARIANTS
from launch import common, tables

UNCONDITIONAL = ("gan", "nsgan", "lsgan", "wgan", "wgan_gp", "dragan", "sngan", "began", "pacgan")
FASHION = ("dcgan", "gan", "lsgan", "wgan", "wgan_gp", "dragan", "sngan", "began", "pacgan", "cgan", "acgan",
           "infogan", "sgan")
flags.DEFINE_string("workroot", "workdirs/gan_table", "Where the runs live.")
flags.DEFINE_list("variants", list(UNCONDITIONAL), "Variants for the 2-D table.")
flags.DEFINE_list("datasets", ["ring8", "grid25"], "2-D mixtures.")
flags.DEFINE_list("critic_seeds", [], "Seeds for the variants with n_critic > 1 (wgan, wgan_gp, sngan: five D "
                  "updates per step cost ~3x a run); empty: --seeds.")
flags.DEFINE_integer("mixture_steps", 0, "Override total_steps of the 2-D runs (0: the configs' own).")
flags.DEFINE_list("fashion_variants", [], "Variants for the Fashion-MNIST sample grids (e.g. all: "
                  + ",".join(FASHION) + ").")
flags.DEFINE_integer("fashion_steps", 2000, "total_steps of the Fashion-MNIST runs.")
flags.DEFINE_string("table_readme", "docs/results.md", "The results page to update.")
flags.DEFINE_string("samples_dir", "docs/gan_samples", "Where the Fashion-MNIST grids go.")
flags.DEFINE_bool("tiny", False, "Tiny models and batches (to test this script).")
FLAGS = flags.FLAGS

SAMPLES_MARKERS = ("<!-- gan-samples:start -->", "<!-- gan-samples:end -->")


def table_markers(dataset: str) -> tuple[str, str]:
  """The markers around `dataset`'s mode-coverage table."""
  return f"<!-- gan-table:{dataset}:start -->", f"<!-- gan-table:{dataset}:end -->"


def _config(variant: str, dataset: str, seed: int, steps: int, tiny: bool):
  c = common.experiment_config(f"{variant}:{dataset}", steps)
  c.seed = seed
  if tiny:
    c.batch_size = 16
    c.model.g_hidden = c.model.d_hidden = (16,)
    c.model.g_width = c.model.d_width = 4
  c.eval_every = c.checkpoint_every = c.total_steps
  c.log_every = max(1, c.total_steps // 10)
  c.num_devices = 1
  return c


def mixture_table(results: dict, variants, dataset: str) -> str:
  """Markdown: per variant on `dataset`, mean modes captured, % high quality and reverse KL over its seeds."""
  from gans.data import toy  # pylint: disable=g-import-not-at-top
  k = len(toy.modes(dataset))
  header = ["variant", f"{dataset} modes", f"{dataset} % HQ", f"{dataset} rev. KL", "seeds", "CPU min/run"]
  rows = []
  for v in variants:
    runs = results.get((v, dataset), [])
    if not runs:
      rows.append([v, "-", "-", "-", "-", "-"])
      continue
    modes = [int(r["modes_captured"]) for r in runs]
    rows.append([v, f"{np.mean(modes):.1f}/{k} ({min(modes)}-{max(modes)})",
                 f"{100 * np.mean([r['high_quality'] for r in runs]):.1f}",
                 f"{np.mean([r['reverse_kl'] for r in runs]):.3f}", ", ".join(str(r["seed"]) for r in runs),
                 f"{np.mean([r['cpu_min'] for r in runs]):.1f}"])
  return tables.markdown_table(header, rows, align="lrrrlr")


def run_mixtures(variants, datasets, seeds, steps, workroot, tiny=False, critic_seeds=()) -> tuple[dict, dict]:
  """Trains every (variant, dataset, seed) (`critic_seeds`, if given, for variants with n_critic > 1);
  returns ({dataset: Markdown table}, results)."""
  results = {}
  for v in variants:
    for d in datasets:
      slow = _config(v, d, 0, steps, tiny).n_critic > 1
      for s in (critic_seeds if critic_seeds and slow else seeds):
        config = _config(v, d, int(s), steps, tiny)
        r = {**tables.train_one(config, os.path.join(workroot, f"{v}_{d}_s{s}")), "seed": int(s)}
        print(f"{v} {d} seed {s}: {r.get('modes_captured')} modes, {100 * r.get('high_quality', 0):.1f}% HQ, "
              f"{r['cpu_min']:.2f} CPU min", flush=True)
        results.setdefault((v, d), []).append(r)
  note = ("\nMean over the seeds listed; modes as mean (min-max); 2,500 samples per run, high quality = within 3 "
          "std of the nearest mode (PacGAN protocol). Generated by `python -m launch.gan_table`.")
  return {d: mixture_table(results, variants, d) + "\n" + note for d in datasets}, results


def run_fashion(variants, steps, workroot, samples_dir, readme, tiny=False) -> str:
  """Trains each variant on Fashion-MNIST, copies its last sample grid; returns a Markdown grid table."""
  import shutil  # pylint: disable=g-import-not-at-top
  rows = []
  os.makedirs(samples_dir, exist_ok=True)
  for v in variants:
    config = _config(v, "fashion_mnist", 0, steps, tiny)
    workdir = os.path.join(workroot, f"{v}_fashion_mnist")
    r = tables.train_one(config, workdir)
    png = os.path.join(samples_dir, f"{v}.png")
    shutil.copyfile(os.path.join(workdir, "samples", f"step_{config.total_steps}.png"), png)
    notes = f"{config.total_steps} steps, {r['cpu_min']:.1f} CPU min"
    if "test_accuracy" in r:
      notes += (f"; test accuracy {100 * r['test_accuracy']:.1f}% with {config.sgan.labels_per_class} labels per "
                "class (the first of each class in tfds train order)")
    if VARIANTS.get(config.variant).draws_labels:
      notes += "; one row per label"
    rows.append([v, f"![{v}]({os.path.relpath(png, os.path.dirname(os.path.abspath(readme)))})", notes])
    print(f"{v} fashion_mnist: {notes}", flush=True)
  return tables.markdown_table(["variant", "samples", "notes"], rows)


def main(argv):
  del argv
  if FLAGS.variants and FLAGS.datasets:
    seeds = FLAGS.seeds or ["0", "1", "2"]
    tables, _ = run_mixtures(FLAGS.variants, FLAGS.datasets, seeds, FLAGS.mixture_steps, FLAGS.workroot,
                             FLAGS.tiny, FLAGS.critic_seeds)
    for dataset, table in tables.items():
      tables.write_between_markers(FLAGS.table_readme, table_markers(dataset), table)
      print(table)
  if FLAGS.fashion_variants:
    grid = run_fashion(FLAGS.fashion_variants, FLAGS.fashion_steps, FLAGS.workroot, FLAGS.samples_dir,
                       FLAGS.table_readme, FLAGS.tiny)
    tables.write_between_markers(FLAGS.table_readme, SAMPLES_MARKERS, grid)
    print(grid)


if __name__ == "__main__":
  common.run(main)
