"""A trained run, from its workdir: the config it was trained with, its task and its latest state, and the
sample-quality metrics of a GAN run. The top layer: it uses both `gans.train` and `gans.metrics`."""
import jax

from gans import checkpoint, parallel
from gans.data import pipeline
from gans.errors import UserError
from gans.metrics import evaluator
from gans.metrics import features as features_lib
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
