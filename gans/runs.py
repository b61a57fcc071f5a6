"""A trained run, from its workdir: the config it was trained with, its task and its latest state, the
sample-quality metrics of a GAN run, and network interpolation between two runs. The top layer: it uses both
`gans.train` and `gans.metrics`."""
import os

import jax
import numpy as np

from gans import checkpoint, parallel
from gans.data import pipeline
from gans.errors import UserError
from gans.metrics import evaluator
from gans.metrics import features as features_lib
from gans.metrics import sr as sr_metrics
from gans.train import loop
from gans.train.task import Sampler

load_config = checkpoint.load_config


def restore_task(workdir: str, mesh=None):
  """Rebuilds (config, task, state, step) from a workdir's config and latest checkpoint."""
  config = load_config(workdir)
  mesh = mesh or parallel.make_mesh(1)
  task = loop.create_task(config, pipeline.data_spec(config), mesh)
  abstract = loop.shard_task(task, mesh, config, jax.random.key(config.seed)).abstract_state
  mngr = checkpoint.manager(workdir, async_save=False)
  state, step = checkpoint.restore(mngr, abstract)
  if state is None:
    raise UserError(f"no checkpoint in {workdir}/checkpoints")
  return config, task, state, step


def evaluate_workdir(workdir: str, num: int | None = None, extractor: str | features_lib.Extractor = "",
                     reference_split: str = "test", use_ema: bool = True, seed: int = 0,
                     weights: str | None = None, cache_dir: str | None = None) -> dict:
  """Metrics of the latest checkpoint of the run in `workdir`, with a 'step' entry. A generative run
  (`Sampler`) gets the sample-quality metrics (`gans.metrics.evaluator.evaluate_state`'s arguments, with
  their 'protocol'; `extractor` defaults to `features.default_extractor` of the run's dataset, `cache_dir` to
  the run's data_dir, else the workdir); any other task its own
  evaluation (`task.evaluate`: a classifier's test accuracy, a super-resolution run's Set5/Set14 scores)."""
  config, task, state, step = restore_task(workdir)
  if not isinstance(task, Sampler):
    if num is not None:
      raise UserError(f"--num applies to generative runs; {workdir} holds a {config.get('task', 'gan')} run")
    return {"step": int(step), **task.evaluate(state, int(step), workdir)}
  extractor = extractor or features_lib.default_extractor(config.dataset)
  return {"step": int(step), **evaluator.evaluate_state(
      config, task, state, num, extractor, reference_split, use_ema, seed, weights,
      cache_dir or evaluator.default_cache_dir(config, workdir))}


def mix(a, b, alpha: float):
  """(1 - alpha) a + alpha b leaf by leaf, for two pytrees of the same structure and shapes."""
  return jax.tree.map(lambda x, y: ((1 - alpha) * np.asarray(x, np.float64) + alpha * np.asarray(y, np.float64))
                      .astype(np.asarray(x).dtype), a, b)


def interpolate_runs(psnr_workdir: str, gan_workdir: str, alpha: float, workdir: str) -> str:
  """Network interpolation (Wang et al. 2018, sec. 3.4): writes to `workdir` a run whose generator is (1 - alpha)
  x the PSNR-oriented run's + alpha x the GAN run's, every parameter and BatchNorm statistic mixed alike, with
  the GAN run's config and state otherwise; returns a one-line summary."""
  if not 0 <= alpha <= 1:
    raise UserError(f"alpha must be in [0, 1], got {alpha}")
  if os.path.exists(os.path.join(workdir, "config.json")):
    raise UserError(f"{workdir} already holds a run; choose a new --workdir")
  _, _, psnr_state, psnr_step = restore_task(psnr_workdir)
  config, _, gan_state, gan_step = restore_task(gan_workdir)
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


def super_resolution_panels(hr: np.ndarray, workdirs: dict[str, str], box: tuple[int, int, int]
                            ) -> list[tuple[str, np.ndarray, dict]]:
  """One photograph super-resolved by bicubic upscaling and by each run in `workdirs` ({name: workdir}, all
  of one scale): [(name, crop, {'psnr', 'ssim'} of the whole image)] in that order, then the original. The
  input is the evaluation's degradation of `hr` (cropped to a multiple of the scale, MATLAB bicubic to 1/scale,
  uint8); `box` = (top, left, size) is the crop in HR pixels; scores follow `gans.metrics.sr.sr_metrics`."""
  restored = {name: restore_task(workdir) for name, workdir in workdirs.items()}
  scales = {name: int(config.get("scale", 0)) for name, (config, *_) in restored.items()}
  if not scales or len(set(scales.values())) != 1 or 0 in scales.values():
    raise UserError(f"needs super-resolution runs of one scale, got scales {scales}")
  scale = next(iter(scales.values()))
  hr = sr_metrics.modcrop(np.asarray(hr, np.uint8), scale)
  top, left, size = box
  if size < 1 or top < 0 or left < 0 or top + size > hr.shape[0] or left + size > hr.shape[1]:
    raise UserError(f"crop (top {top}, left {left}, size {size}) does not fit the {hr.shape[1]}x{hr.shape[0]} "
                    "image (after cropping it to a multiple of the scale)")
  lr = sr_metrics.imresize(hr, 1 / scale)
  outputs = [("bicubic", sr_metrics.imresize(lr, scale))]
  outputs += [(name, np.asarray(task.translate(state, lr), np.uint8)) for name, (_, task, state, _) in restored.items()]
  crop = lambda image: image[top:top + size, left:left + size]
  panels = [(name, crop(out), sr_metrics.sr_metrics(hr, out, scale)) for name, out in outputs]
  return panels + [("original", crop(hr), {"psnr": float("inf"), "ssim": 1.0})]
