"""A content x style grid of neural style transfer, with the time per image of each method:

  python -m launch.style_grid --contents set14:lenna,set5:butterfly --styles skimage:brick,skimage:grass \\
      --johnson workdirs/johnson_brick --steps 100 --size 256 --out style_grid.png

Rows are the content images; the first row shows the style images. Each style gets a column of Gatys et al.
2016 (`launch.stylize`'s optimisation, its defaults) and each `--johnson` run (Johnson et al. 2016, one trained
network per style) a column of its network's outputs. Images are `--size` pixels on the longer side. Times are
wall-clock per image on this machine, compilation excluded (one warm-up image first); they and the VGG-19
weights used are printed and written next to the figure as <out>.json.
"""
import json
import time

from absl import flags

from launch import common

flags.DEFINE_list("contents", None, "Content images: files, skimage:<name> or <split>:<name> (set14:lenna).")
flags.DEFINE_list("styles", [], "Style images for Gatys et al.'s optimisation (files or skimage:<name>).")
flags.DEFINE_list("johnson", [], "Workdirs of style_transfer runs (Johnson et al.), one column each.")
flags.DEFINE_integer("steps", 100, "Gatys: optimiser steps per image.")
flags.DEFINE_enum("optimizer", "adam", ["adam", "lbfgs"], "Gatys: Adam on the pixels or L-BFGS.")
flags.DEFINE_float("learning_rate", 0.02, "Gatys: Adam's step size, in [0, 1] pixel units.")
flags.DEFINE_float("style_weight", 1e3, "Gatys: beta (content weight 1); the paper's alpha / beta = 1e-3 suits "
                   "real VGG-19 features, the random substitute's Gram matrices are smaller.")
flags.DEFINE_string("vgg_weights", "", "Gatys: converted torchvision VGG-19; default: the random substitute.")
flags.DEFINE_integer("size", 256, "Longer side of every image, in pixels.")
flags.DEFINE_string("out", None, "Where the PNG figure goes (and <out>.json the times).")
flags.mark_flags_as_required(["contents", "out"])
FLAGS = flags.FLAGS


def _timed(fn, *args):
  start = time.perf_counter()
  out = fn(*args)
  return out, time.perf_counter() - start


def main(argv):
  del argv
  # pylint: disable=g-import-not-at-top  # after absl parsed the flags
  import numpy as np

  from gans import runs, visualize
  from gans.errors import UserError
  from gans.train import style_task
  from gans.train.task import Translator
  if not FLAGS.styles and not FLAGS.johnson:
    raise UserError("give --styles (Gatys et al.) or --johnson runs (or both)")
  if FLAGS.size < 16 or FLAGS.steps < 1:
    raise UserError(f"--size must be at least 16 and --steps positive, got {FLAGS.size}, {FLAGS.steps}")
  fit = lambda spec: style_task.resize_longer_side(style_task.read_image(spec), FLAGS.size)
  contents = [fit(c) for c in FLAGS.contents]  # every image is read before any work
  styles = [fit(s) for s in FLAGS.styles]
  networks, vgg16 = [], []
  for workdir in FLAGS.johnson:
    config, task, state, _ = runs.restore_task(workdir)
    if not isinstance(task, Translator) or config.get("task") != "style_transfer":
      raise UserError(f"{workdir} holds a {config.get('task', 'gan')} run, not a style_transfer one")
    networks.append((config.style_image, task, state))
    vgg16.append(config.get("vgg_weights") or "random_vgg16(seed 0) substitute")
  loss, params, source = style_task.gatys_loss(FLAGS.vgg_weights, style_weight=FLAGS.style_weight)
  print(f"VGG-19 weights (Gatys): {source}", flush=True)

  def gatys(content, style):
    return style_task.gatys_transfer(content, style, loss, params, FLAGS.steps, FLAGS.optimizer,
                                     FLAGS.learning_rate, FLAGS.steps)

  times = {"gatys": [], "johnson": []}
  if styles:
    gatys(contents[0], styles[0])  # compiles for this size
  for _, task, state in networks:
    task.translate(state, contents[0])
  rows = [[None, *styles, *[None] * len(networks)]]
  for i, content in enumerate(contents):
    row = [content]
    for j, style in enumerate(styles):
      out, seconds = _timed(gatys, content, style)
      times["gatys"].append(seconds)
      print(f"Gatys {FLAGS.contents[i]} x {FLAGS.styles[j]}: {seconds:.1f} s", flush=True)
      row.append(out)
    for (name, task, state) in networks:
      out, seconds = _timed(task.translate, state, content)
      times["johnson"].append(seconds)
      print(f"Johnson ({name}) {FLAGS.contents[i]}: {seconds * 1000:.0f} ms", flush=True)
      row.append(out)
    rows.append(row)
  titles = ["content / style", *[f"Gatys: {s}" for s in FLAGS.styles],
            *[f"Johnson: {name}" for name, _, _ in networks]]
  visualize.save_labelled_grid(rows, FLAGS.out, titles, ["style", *FLAGS.contents])
  summary = {"size": FLAGS.size, "gatys_steps": FLAGS.steps, "gatys_optimizer": FLAGS.optimizer,
             "gatys_style_weight": FLAGS.style_weight,
             "gatys_vgg19": source, "johnson_runs": list(FLAGS.johnson), "johnson_vgg16": vgg16,
             "gatys_seconds_per_image": float(np.median(times["gatys"])) if times["gatys"] else None,
             "johnson_seconds_per_image": float(np.median(times["johnson"])) if times["johnson"] else None}
  with open(FLAGS.out + ".json", "w", encoding="utf-8") as f:
    json.dump(summary, f, indent=2)
  print(json.dumps(summary), flush=True)
  print(f"wrote {FLAGS.out}", flush=True)


if __name__ == "__main__":
  common.run(main)
