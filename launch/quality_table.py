"""Trains models of every family at one budget and writes their results tables into docs/results.md.

  python -m launch.quality_table --runs dcgan=dcgan:fashion_mnist,biggan=biggan_fashion_mnist \
      --set dcgan:total_steps=5000 --set biggan:total_steps=500 --only dcgan   # train one run (e.g. per core)
  python -m launch.quality_table --runs ... --set ...                          # train what is missing, write
  python -m launch.quality_table --runs biggan_60min=biggan_fashion_mnist --keep_other_rows  # add a row

Each run `name=config` (`config` names configs/<config>.py, `<config>:<dataset>` for a variant's file) trains
in `--quality_workroot/<name>` (a finished run is reused, an interrupted one resumes) with its config's own
settings and the `--set name:key=value` overrides (how the runs are cut to one budget), with one evaluation at
the end. Then, for every run, from its last checkpoint (the EMA generator where kept):
  - GANs on Fashion-MNIST (any image dataset): FCD, KID (100 subsets), precision/recall (k=3) of
    `--fashion_num` samples against the test split with `--fashion_extractor` (the shipped LeNet-5 by default;
    gans.metrics.evaluator's protocol), and for class-conditional runs the extractor's accuracy on samples of
    each requested class;
  - Stacked-MNIST runs: modes hit of 1,000 and KL(mode histogram || uniform) of 26,000 samples, each channel's
    digit read by `--digit_classifier` (Lin et al. 2018, sec. 5.2);
  - any other task (IcGAN, colourisation, inpainting, CycleGAN, super-resolution, ...): its own final
    evaluation (`task.evaluate`, e.g. Set14 PSNR/SSIM), one table per pairing or task, a column per number.
The results are kept in `<run>/quality.json`, each run's last pictures are copied to `--quality_samples_dir`;
each table (a GAN dataset, a pairing, a task) goes between `<!-- quality-table:<table>:start -->` and
`<!-- quality-table:<table>:end -->` in `--results`. CPU minutes are the training process's CPU time (all
threads) from the first step to the last checkpoint, its one in-loop evaluation included, summed over the
processes of a resumed run ('+' after them where a process was killed and its time is unknown).
"""
import ast
import glob
import json
import os
import shutil

from absl import flags

from gans.errors import UserError
from launch import common, tables

flags.DEFINE_list("runs", None, "name=config entries (config: configs/<config>.py, or <variant>:<dataset>).")
flags.DEFINE_multi_string("set", [], "name:key=value overrides of one run's config (value parsed as Python "
                          "literal, else kept as a string); repeatable.")
flags.DEFINE_list("only", [], "Train just these runs now and write no table (to run several processes).")
flags.DEFINE_string("quality_workroot", "workdirs/quality_table", "Where the runs live.")
flags.DEFINE_string("results", "docs/results.md", "The results page to update.")
flags.DEFINE_string("fashion_extractor", "shipped:fashion_mnist", "Feature extractor of the Fashion-MNIST metrics.")
flags.DEFINE_string("digit_classifier", "shipped:mnist_5k", "Digit classifier of the Stacked-MNIST mode count.")
flags.DEFINE_integer("fashion_num", 10_000, "Samples per Fashion-MNIST evaluation.")
flags.DEFINE_integer("stacked_num", 26_000, "Samples per Stacked-MNIST mode count (PacGAN: 26,000).")
flags.DEFINE_string("quality_samples_dir", "docs/quality_samples", "Where each run's last pictures are copied "
                    "(linked from the tables).")
flags.DEFINE_bool("keep_other_rows", False, "Keep the rows of runs not in --runs in each table written (a table "
                  "grown over several commands), the note added below the old ones.")
flags.DEFINE_string("note", "", "Machine state and budget, printed under the tables.")
flags.mark_flags_as_required(["runs"])
FLAGS = flags.FLAGS

STACKED = "stacked_mnist"


def table_markers(table: str) -> tuple[str, str]:
  return f"<!-- quality-table:{table}:start -->", f"<!-- quality-table:{table}:end -->"


def parse_runs(runs: list[str], overrides: list[str]) -> dict[str, tuple[str, dict]]:
  """{name: (config spec, {key: value})} from `name=config` entries and `name:key=value` overrides."""
  parsed = {}
  for entry in runs:
    name, sep, spec = entry.partition("=")
    if not sep or not name or not spec or name in parsed:
      raise UserError(f"--runs wants distinct name=config entries, got {entry!r}")
    parsed[name] = (spec, {})
  for entry in overrides:
    name, sep, assignment = entry.partition(":")
    key, eq, value = assignment.partition("=")
    if not sep or not eq or not key or name not in parsed:
      raise UserError(f"--set wants name:key=value with a name of --runs ({', '.join(parsed)}), got {entry!r}")
    try:
      value = ast.literal_eval(value)
    except (ValueError, SyntaxError):
      pass
    parsed[name][1][key] = value
  return parsed


def run_config(spec: str, overrides: dict):
  """The run's config: `spec` loaded as launch.train would, the overrides applied, one evaluation at the end."""
  c = common.experiment_config(spec)
  with c.unlocked():
    for key, value in overrides.items():
      *parents, leaf = key.split(".")
      target = c
      for part in parents:
        target = target[part]
      if leaf not in target:
        raise UserError(f"--set {key}: the config has no such key")
      target[leaf] = value
    c.eval_every = c.total_steps
    c.checkpoint_every = min(c.get("checkpoint_every", c.total_steps), c.total_steps)
    if c.get("task", "gan") == "gan":
      c.eval_extractor = ""  # the table's own evaluation below replaces the GAN task's in-loop one
    c.num_devices = 1
  return c


def evaluate(name: str, config, workdir: str) -> dict:
  """The run's quality metrics (cached in workdir/quality.json, keyed by the settings that produce them)."""
  import numpy as np  # pylint: disable=g-import-not-at-top

  from gans import runs  # pylint: disable=g-import-not-at-top
  from gans.metrics import evaluator, stacked_mnist  # pylint: disable=g-import-not-at-top
  from gans.train import loop  # pylint: disable=g-import-not-at-top
  from gans.train.task import Sampler  # pylint: disable=g-import-not-at-top
  stacked = config.dataset == STACKED
  key = {"num": FLAGS.stacked_num if stacked else FLAGS.fashion_num,
         "measure": FLAGS.digit_classifier if stacked else FLAGS.fashion_extractor, "steps": config.total_steps}
  path = os.path.join(workdir, "quality.json")
  if os.path.exists(path):
    with open(path) as f:
      cached = json.load(f)
    if cached.get("key") == key:
      return cached["result"]
  _, task, state, step = runs.restore_task(workdir)
  result = {"step": int(step), "params": loop.param_counts(state)}
  if not isinstance(task, Sampler):  # the task's own final evaluation, from the run's log
    result["evaluation"] = {k: v for k, v in tables.final_eval(workdir, config.total_steps, keys=()).items()
                            if k != "step" and isinstance(v, (int, float))}
  elif stacked:
    samples = task.sample(state, key["num"], config.seed + 2)
    result.update(stacked_mnist.mode_count(samples, stacked_mnist.classifier(FLAGS.digit_classifier)))
  else:
    metrics = evaluator.evaluate_state(config, task, state, key["num"], FLAGS.fashion_extractor, seed=config.seed + 2,
                                       cache_dir=evaluator.default_cache_dir(config, workdir))
    protocol = metrics.pop("protocol")
    result.update({k: float(v) for k, v in metrics.items() if np.isscalar(v)}, protocol=protocol)
  with open(path, "w") as f:
    json.dump({"key": key, "result": result}, f, indent=1)
  print(name, json.dumps({k: v for k, v in result.items() if k != "protocol"}), flush=True)
  return result


def copy_pictures(name: str, workdir: str, step: int, samples_dir: str, results: str) -> str:
  """Copies the run's pictures of its last step (samples/<kind>_step_<N>.png, translations/step_<N>.png, or
  samples/step_<N>_<kind>.png as super-resolution names its outputs) to `samples_dir`/<name>_<kind>.png; returns
  Markdown links to them relative to the `results` page."""
  links = []
  for folder in ("samples", "translations"):
    found = glob.glob(os.path.join(workdir, folder, f"*step_{step}.png"))
    found += glob.glob(os.path.join(workdir, folder, f"step_{step}_*.png"))
    for f in sorted(found):
      kind = os.path.basename(f).removesuffix(".png").replace(f"step_{step}", "").strip("_") or folder
      os.makedirs(samples_dir, exist_ok=True)
      out = os.path.join(samples_dir, f"{name}_{kind}.png")
      shutil.copyfile(f, out)
      links.append(f"[{kind}]({os.path.relpath(out, os.path.dirname(os.path.abspath(results)))})")
  return ", ".join(links) or "-"


def _params(counts: dict) -> str:
  """'G / D' parameter counts of a GAN state's networks (a GAN's g and d, CycleGAN's G_AB, D_A, ...), or the
  one total of any other state."""
  g = sum(n for k, n in counts.items() if k.lower().startswith("g"))
  d = sum(n for k, n in counts.items() if k.lower().startswith("d"))
  return f"{g:,} / {d:,}" if g and d else f"{sum(counts.values()):,}"


def sample_table(rows: list[tuple[str, dict]]) -> str:
  header = ["run", "G / D params", "steps", "CPU min", "FCD", "KID", "precision", "recall", "class acc. %",
            "worst class %", "pictures"]
  body = []
  for name, r in rows:
    per_class = [v for k, v in r.items() if k.startswith("class_accuracy_")]
    body.append([name, _params(r["params"]), f"{r['steps']:,}", tables.cpu_minutes(r), f"{r['fcd']:.3f}",
                 f"{r['kid']:.4f}", f"{r['precision']:.3f}", f"{r['recall']:.3f}",
                 f"{100 * r['class_accuracy']:.1f}" if "class_accuracy" in r else "-",
                 f"{100 * min(per_class):.1f}" if per_class else "-", r["pictures"]])
  return tables.markdown_table(header, body, align="llrrrrrrrr")


def stacked_table(rows: list[tuple[str, dict]]) -> str:
  header = ["run", "G / D params", "steps", "CPU min", "modes (of 1,000)", "KL to uniform", "pictures"]
  body = [[name, _params(r["params"]), f"{r['steps']:,}", tables.cpu_minutes(r), str(r["modes"]), f"{r['kl']:.3f}",
           r["pictures"]] for name, r in rows]
  return tables.markdown_table(header, body, align="llrrrr")


def task_table(rows: list[tuple[str, dict]]) -> str:
  """Any task's final evaluation: a column per number any run reported (but per-class ones), in the order first
  seen."""
  keys = []
  for _, r in rows:  # per-class numbers (`<name>_<k>`) stay in quality.json
    keys += [k for k in r["evaluation"] if k not in keys and not k.rpartition("_")[2].isdigit()]
  header = ["run", "params", "steps", "CPU min", *keys, "pictures"]
  body = [[name, _params(r["params"]), f"{r['steps']:,}", tables.cpu_minutes(r),
           *(f"{r['evaluation'][k]:.4g}" if k in r["evaluation"] else "-" for k in keys), r["pictures"]]
          for name, r in rows]
  return tables.markdown_table(header, body, align="llrr" + "r" * len(keys))


def table_name(config, result: dict) -> str:
  """The table a run belongs to: its dataset for generators, else its pairing or task."""
  return (config.get("pairing") or config.task) if "evaluation" in result else config.dataset


def main(argv):
  del argv
  parsed = parse_runs(FLAGS.runs, FLAGS.set)
  unknown = set(FLAGS.only) - set(parsed)
  if unknown:
    raise UserError(f"--only names {sorted(unknown)} not in --runs ({', '.join(parsed)})")
  by_table = {}
  for name, (spec, overrides) in parsed.items():
    if FLAGS.only and name not in FLAGS.only:
      continue
    config = run_config(spec, overrides)
    workdir = os.path.join(FLAGS.quality_workroot, name)
    timing = tables.train_one(config, workdir)
    kept = ("steps", "cpu_min", "wall_min", "unmeasured_steps")
    result = {**evaluate(name, config, workdir), **{k: timing[k] for k in kept if k in timing}}
    if not FLAGS.only:
      result["pictures"] = copy_pictures(name, workdir, config.total_steps, FLAGS.quality_samples_dir,
                                         FLAGS.results)
    by_table.setdefault(table_name(config, result), []).append((name, result))
  if FLAGS.only:
    return
  for name, rows in by_table.items():
    first = rows[0][1]
    table = (task_table if "evaluation" in first else stacked_table if "modes" in first else sample_table)(rows)
    body = table + "\n\n" + (FLAGS.note + " " if FLAGS.note else "") + "Regenerate: `python -m launch.quality_table`" \
        " with the command in the text above."
    if FLAGS.keep_other_rows:
      body = tables.merge_table(FLAGS.results, table_markers(name), body, f"Rows {', '.join(n for n, _ in rows)}: ")
    tables.write_between_markers(FLAGS.results, table_markers(name), body)
    print(body)


if __name__ == "__main__":
  common.run(main)
