"""Tests for launch.benchmark_table: the README table writer and the matmul peak measurement."""
import pytest

from gans.errors import UserError
from launch import benchmark_table as bt
from launch import tables

_ROW = {"experiment": "dcgan_fashion_mnist", "devices": 1, "batch_size": 64, "ms_per_step": 123.456,
        "images_per_sec": 518.4, "compile_s": 7.26, "peak_rss_mb": 1348.5, "gflop_per_step": 9.218,
        "gflop_per_sec": 74.7}


def test_format_table_cells_and_percent_of_peak():
  table = bt.format_table([_ROW, {**_ROW, "experiment": "x", "gflop_per_sec": 0.0}], peak_gflops=300.0)
  lines = table.splitlines()
  assert lines[0] == ("| experiment | devices | ms/step | images/s | GFLOP/s | % of matmul peak | "
                      "compile s | peak MB |")
  assert lines[1] == "|---|---|---|---|---|---|---|---|"
  # 74.7 / 300 = 24.9% -> "25"; 1348.5 MB rounds half to even -> "1348".
  assert lines[2] == "| dcgan_fashion_mnist | 1 | 123.5 | 518.4 | 74.7 | 25 | 7.3 | 1348 |"
  assert lines[3] == "| x | 1 | 123.5 | 518.4 |  |  | 7.3 | 1348 |"  # no FLOP count: blank cells


def test_format_table_without_peak_leaves_percent_blank():
  assert bt.format_table([_ROW]).splitlines()[2].split(" | ")[5] == ""


def test_write_between_markers_keeps_the_rest(tmp_path):
  path = tmp_path / "README.md"
  path.write_text(f"intro\n{bt.START}\nold table\n{bt.END}\noutro\n")
  tables.write_between_markers(str(path), (bt.START, bt.END), "| new |")
  assert path.read_text() == f"intro\n{bt.START}\n| new |\n{bt.END}\noutro\n"
  tables.write_between_markers(str(path), (bt.START, bt.END), "| newer |")  # idempotent: the markers stay
  assert path.read_text() == f"intro\n{bt.START}\n| newer |\n{bt.END}\noutro\n"


def test_table_rows_by_first_cell(tmp_path):
  readme = tmp_path / "README.md"
  readme.write_text("| a | b |\n<!-- s -->\n| config | x |\n|---|---:|\n| one | 1 |\n| two | 2 |\n\nnote\n<!-- e -->\n")
  assert tables.table_rows(str(readme), ("<!-- s -->", "<!-- e -->")) == {"one": "| one | 1 |", "two": "| two | 2 |"}
  assert tables.table_rows(str(readme), ("<!-- x -->", "<!-- e -->")) == {}


def test_write_between_markers_without_markers_is_a_user_error(tmp_path):
  path = tmp_path / "README.md"
  path.write_text("no markers here\n")
  with pytest.raises(UserError):
    tables.write_between_markers(str(path), (bt.START, bt.END), "| t |")


def test_matmul_peak_is_positive_and_finite_on_a_tiny_size():
  peak = bt.measure_matmul_peak(size=64, repeats=3)
  assert 0.0 < peak < 1e6  # GFLOP/s: no CPU does a petaflop


def test_matmul_peak_rejects_bad_size():
  with pytest.raises(UserError):
    bt.measure_matmul_peak(size=0)


def test_all_configs_lists_every_experiment_per_dataset_and_dcgan_64(tmp_path):
  for name in ("common.py", "__init__.py", "a_net.py", "notes.txt"):
    (tmp_path / name).write_text("")
  (tmp_path / "b_gan.py").write_text('"""doc"""\nDATASETS = ("ring8", "grid25")\n\n\ndef get_config(dataset="ring8"):\n'
                                     '  DATASETS = ("not", "this")\n')
  (tmp_path / "dcgan.py").write_text('DATASETS = ("fashion_mnist", "mnist_5k")\n')
  (tmp_path / "encoder.py").write_text('def get_config():\n  return {"generator_workdir": "run"}\n')  # needs a run
  d = str(tmp_path)
  assert bt.all_configs(d) == [f"{d}/a_net.py", f"{d}/b_gan.py:ring8", f"{d}/b_gan.py:grid25",
                               f"{d}/dcgan.py:fashion_mnist", f"{d}/dcgan.py:mnist_5k",
                               f"{d}/dcgan.py:fashion_mnist --config.image_size=64"]
  (tmp_path / "dcgan.py").unlink()
  assert bt.all_configs(d)[-1] == f"{d}/b_gan.py:grid25"  # no DCGAN: no 64x64 entry


def test_default_list_is_every_config_of_the_repository():
  entries = bt.all_configs()
  assert "configs/wgan_gp.py:grid25" in entries and "configs/dcgan.py:mnist_5k" in entries
  assert "configs/lenet5_fashion_mnist.py" in entries and "configs/nsgan.py:fashion_mnist" not in entries
  assert entries[-1] == "configs/dcgan.py:fashion_mnist --config.image_size=64"


def test_benchmark_of_a_split_step_counts_every_critic_update():
  # wgan on ring8 has n_critic = 5: the launcher compiles the D update once, and the FLOPs per step must
  # still be 5 D updates + 1 G update, as XLA counts them for the whole step jitted in one piece.
  import functools  # pylint: disable=g-import-not-at-top

  import jax

  from configs import wgan
  from gans import benchmark, parallel
  from gans.data import pipeline
  from gans.train import gan_step, loop
  config = wgan.get_config("ring8")
  config.batch_size, config.num_devices = 512, 1  # ~0.2 GFLOP per step: the row's 3 decimals are enough
  row = benchmark.benchmark(config, steps=1, warmup=1)
  mesh = parallel.mesh_from_config(config)
  task = loop.create_task(config, pipeline.data_spec(config), mesh)
  assert isinstance(task.step, gan_step.SplitStep) and task.step.n_critic == 5
  state = task.init(jax.random.key(0))
  batch = next(pipeline.train_batches(config, mesh, task.examples_per_step))
  whole = jax.jit(functools.partial(gan_step.train_step, task.spec)).lower(state, batch, jax.random.key(1)).compile()
  cost = whole.cost_analysis()
  flops = float((cost[0] if isinstance(cost, (list, tuple)) else cost)["flops"])
  assert abs(row["gflop_per_step"] * 1e9 / flops - 1) < 0.02


def test_update_replaces_measured_rows_keeps_the_others_and_adds_a_note(tmp_path):
  path = tmp_path / "results.md"
  old = bt.format_table([_ROW, {**_ROW, "experiment": "wgan_ring8"}], 150.0) + "\n\nold note"
  path.write_text(f"intro\n{bt.START}\n{old}\n{bt.END}\n")
  new = bt.format_table([{**_ROW, "ms_per_step": 99.0}, {**_ROW, "experiment": "biggan"}], 300.0) + "\n\nnew note"
  merged = tables.merge_table(str(path), (bt.START, bt.END), new, "Rows measured today: ").splitlines()
  assert merged[:2] == new.splitlines()[:2]
  assert [tables.cells(line)[0] for line in merged[2:5]] == ["dcgan_fashion_mnist", "wgan_ring8", "biggan"]
  assert tables.cells(merged[2])[2] == "99.0" and tables.cells(merged[2])[5] == "25"  # 74.7 / 300
  assert tables.cells(merged[3])[2] == "123.5" and tables.cells(merged[3])[5] == "50"  # kept: 74.7 / 150
  assert merged[-3:] == ["old note", "", "Rows measured today: new note"]
  empty = tmp_path / "empty.md"
  empty.write_text(f"{bt.START}\n{bt.END}\n")
  assert tables.merge_table(str(empty), (bt.START, bt.END), new, "x") == new
