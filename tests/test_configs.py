"""Every experiment config builds for each of its datasets with the launch contract's keys; an unknown
dataset is a one-line UserError; the Markdown table helper of the README writers."""
import glob
import importlib
import os

import pytest
from absl import flags
from ml_collections import config_flags

from gans.errors import UserError
from launch import common as launch_common
from launch import tables

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CONTRACT = ("total_steps", "batch_size", "seed", "dataset", "log_every", "checkpoint_every", "eval_every")
NAMES = sorted(os.path.basename(f)[:-3] for f in glob.glob(os.path.join(ROOT, "configs", "*.py"))
               if os.path.basename(f) not in ("__init__.py", "common.py"))
# The GAN variants (one file each, get_config(dataset)) and their datasets, first the default.
VARIANTS = {
    "dcgan": ("fashion_mnist", "mnist_5k"),
    "nsgan": ("ring8", "grid25"),
    **{v: ("ring8", "grid25", "fashion_mnist")
       for v in ("gan", "lsgan", "wgan", "wgan_gp", "dragan", "sngan", "began", "pacgan")},
    **{v: ("ring8", "fashion_mnist") for v in ("cgan", "acgan", "infogan", "sgan")},
}
CLASSIFIERS = ("airbench", "densenet121", "lenet5", "mobilenet_v2", "resnet18", "resnet20", "vgg11")
# Some experiments of the other training families: (task, dataset).
EXPERIMENTS = {
    **{f"{f}_fashion_mnist": (f, "fashion_mnist") for f in ("lapgan", "progan", "stylegan2")},
    **{f"{f}_stacked_mnist": (t, "stacked_mnist") for f, t in (("dcgan", "gan"), ("pacgan", "gan"),
                                                                ("progan", "progan"), ("stylegan2", "stylegan2"))},
    "lenet5_mnist_5k": ("classifier", "mnist_5k"),
    "biggan_fashion_mnist": ("gan", "fashion_mnist"), "sagan_fashion_mnist": ("gan", "fashion_mnist"),
    "icgan_fashion_mnist": ("icgan", "fashion_mnist"),
    **{f"{m}_x4": ("super_resolution", "natural_images") for m in ("srcnn", "espcn", "srresnet", "srgan", "esrgan")},
    "johnson_brick": ("style_transfer", "natural_images"),
}


def _cases():
  for name in NAMES:
    for dataset in VARIANTS.get(name, (None,)):
      yield name, dataset


def test_the_gan_variants_and_classifiers_have_their_config_files():
  assert set(VARIANTS) | {f"{m}_fashion_mnist" for m in CLASSIFIERS} <= set(NAMES)
  for name in NAMES:  # a file that takes an argument lists its choices (launch.benchmark_table reads them)
    assert (name in VARIANTS) == hasattr(importlib.import_module(f"configs.{name}"), "DATASETS"), name


@pytest.mark.parametrize("name,dataset", list(_cases()))
def test_config_builds_with_the_contract_keys(name, dataset):
  module = importlib.import_module(f"configs.{name}")
  c = module.get_config(dataset) if dataset else module.get_config()
  for key in CONTRACT:
    assert key in c, f"{name}:{dataset} lacks {key}"
  assert c.total_steps > 0 and c.batch_size > 0 and c.log_every > 0
  if dataset:  # a GAN variant: the dataset argument is the data, the experiment names both
    assert tuple(module.DATASETS) == VARIANTS[name]
    assert (c.dataset, c.experiment) == (dataset, f"{name}_{dataset}")
    assert c.variant in ("unconditional", "cgan", "acgan", "infogan", "sgan") and "aux" not in c
  else:  # one experiment: its name, and a task the trainer knows
    from gans.train.task import TASKS  # pylint: disable=g-import-not-at-top
    assert c.experiment == name and c.task in TASKS
    if name in {f"{m}_fashion_mnist" for m in CLASSIFIERS}:
      assert (c.dataset, c.task) == ("fashion_mnist", "classifier")
    if name in EXPERIMENTS:
      assert (c.task, c.dataset) == EXPERIMENTS[name]
    if c.task == "classifier":  # the README's `--config.validation_examples=5000` must be an accepted override
      assert c.validation_examples == 0 and c.tta_flip in (False, True)


@pytest.mark.parametrize("name", sorted(VARIANTS))
def test_variant_default_dataset_and_unknown_dataset(name):
  module = importlib.import_module(f"configs.{name}")
  assert module.get_config().to_dict() == module.get_config(VARIANTS[name][0]).to_dict()
  with pytest.raises(UserError, match=rf"configs/{name}\.py has no dataset 'cifar10'; known: "
                                      + ", ".join(VARIANTS[name])):
    module.get_config("cifar10")


def test_gan_config_defaults_of_the_new_keys():
  from configs import common  # pylint: disable=g-import-not-at-top
  c = common.gan_config()
  assert (c.variant, c.label_smoothing, c.historical_averaging, c.virtual_batch_norm) == (
      "unconditional", 0.0, 0.0, 0)


def test_config_flag_passes_the_text_after_the_colon():
  values = flags.FlagValues()
  config_flags.DEFINE_config_file("config", None, flag_values=values)
  values(["prog", "--config", os.path.join(ROOT, "configs", "wgan_gp.py:grid25")])
  assert (values.config.experiment, values.config.dataset) == ("wgan_gp_grid25", "grid25")
  assert values.config.model.g_hidden == (256, 256, 256)  # grid25's MLPs


def test_experiment_config_takes_name_and_argument():
  c = launch_common.experiment_config("wgan_gp:grid25", steps=7)
  assert (c.experiment, c.total_steps) == ("wgan_gp_grid25", 7)
  assert launch_common.experiment_config("dcgan").experiment == "dcgan_fashion_mnist"
  assert launch_common.experiment_config("lenet5_fashion_mnist").experiment == "lenet5_fashion_mnist"
  with pytest.raises(UserError, match="no dataset 'grid25'"):
    launch_common.experiment_config("cgan:grid25")
  with pytest.raises(UserError, match="no config configs/wgan_gp_grid25.py"):
    launch_common.experiment_config("wgan_gp_grid25")


def test_markdown_table_golden():
  table = tables.markdown_table(["name", "value", "note"], [("a", 1, "x"), ["bb", 2.5, ""]], align="lr")
  assert table == ("| name | value | note |\n"
                   "|---|---:|---|\n"
                   "| a | 1 | x |\n"
                   "| bb | 2.5 |  |")
  assert tables.markdown_table(["h"], [], align="c") == "| h |\n|:---:|"
  assert tables.cells("| bb | 2.5 |  |") == ["bb", "2.5", ""]


def test_markdown_table_rejects_ragged_rows_and_bad_alignment():
  with pytest.raises(ValueError, match="2 cells under a header of 3"):
    tables.markdown_table(["a", "b", "c"], [("1", "2")])
  with pytest.raises(ValueError, match="align"):
    tables.markdown_table(["a"], [], align="x")
  with pytest.raises(ValueError, match="align"):
    tables.markdown_table(["a"], [], align="lr")


def test_gan_mixture_table_golden():
  from launch import gan_table  # pylint: disable=g-import-not-at-top
  runs = [{"modes_captured": 8, "high_quality": 0.9, "reverse_kl": 0.01, "seed": 0, "cpu_min": 1.0},
          {"modes_captured": 7, "high_quality": 0.8, "reverse_kl": 0.03, "seed": 1, "cpu_min": 2.0}]
  assert gan_table.mixture_table({("nsgan", "ring8"): runs}, ["nsgan", "wgan"], "ring8") == (
      "| variant | ring8 modes | ring8 % HQ | ring8 rev. KL | seeds | CPU min/run |\n"
      "|---|---:|---:|---:|---|---:|\n"
      "| nsgan | 7.5/8 (7-8) | 85.0 | 0.020 | 0, 1 | 1.5 |\n"
      "| wgan | - | - | - | - | - |")
