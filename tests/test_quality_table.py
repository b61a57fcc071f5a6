"""launch.quality_table: run specs and overrides, and a tiny end-to-end table of a GAN, a Stacked-MNIST GAN
and an inpainting run."""
import json
import os
import subprocess
import sys

import pytest

from gans.errors import UserError
from launch import quality_table, tables

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def test_runs_and_overrides_are_parsed_with_one_line_errors():
  parsed = quality_table.parse_runs(["a=dcgan:fashion_mnist", "b=progan_fashion_mnist"],
                                    ["a:total_steps=7", "b:progan.images_per_phase=320", "a:note=x y"])
  assert parsed == {"a": ("dcgan:fashion_mnist", {"total_steps": 7, "note": "x y"}),
                    "b": ("progan_fashion_mnist", {"progan.images_per_phase": 320})}
  c = quality_table.run_config(*parsed["b"])
  assert c.progan.images_per_phase == 320 and c.eval_every == c.total_steps and c.num_devices == 1
  c = quality_table.run_config("dcgan:fashion_mnist", {"total_steps": 7})
  assert c.total_steps == c.eval_every == 7 and c.eval_extractor == ""
  for runs, sets in ((["a"], []), (["a=x", "a=y"], []), (["a=dcgan:fashion_mnist"], ["c:total_steps=1"]),
                     (["a=dcgan:fashion_mnist"], ["a:total_steps"])):
    with pytest.raises(UserError):
      quality_table.parse_runs(runs, sets)
  with pytest.raises(UserError, match="no such key"):
    quality_table.run_config("dcgan:fashion_mnist", {"model.no_such_width": 3})


def test_task_table_has_a_column_per_reported_number():
  rows = [("x", {"params": {"params": 10}, "steps": 5, "cpu_min": 1.0, "evaluation": {"psnr": 20.0, "acc_3": 0.1},
                 "pictures": "-"}),
          ("y", {"params": {"G": 3, "D": 4}, "steps": 6, "cpu_min": 2.0, "evaluation": {"psnr": 21.0, "ssim": 0.5},
                 "pictures": "[p](p.png)"})]
  lines = quality_table.task_table(rows).splitlines()
  assert tables.cells(lines[0]) == ["run", "params", "steps", "CPU min", "psnr", "ssim", "pictures"]
  assert tables.cells(lines[2]) == ["x", "10", "5", "1.0", "20", "-", "-"]  # per-class acc_3 left out
  assert tables.cells(lines[3]) == ["y", "3 / 4", "6", "2.0", "21", "0.5", "[p](p.png)"]


def test_tiny_table_end_to_end(data_dir, tmp_path):
  results = tmp_path / "results.md"
  results.write_text("".join(f"<!-- quality-table:{t}:start -->\n<!-- quality-table:{t}:end -->\n"
                             for t in ("mnist_5k", "stacked_mnist", "inpaint")))
  common = ["total_steps=2", "batch_size=8", f"data_dir={data_dir}"]
  sets = [f"g:{s}" for s in common + ["dataset=mnist_5k", "model.g_width=4", "model.d_width=4", "model.z_dim=8"]]
  sets += [f"s:{s}" for s in common + ["model.g_width=4", "model.d_width=4", "model.z_dim=8"]]
  sets += [f"i:{s}" for s in common + ["model.nef=4", "model.ngf=4", "model.ndf=4", "model.nBottleneck=8"]]
  args = ["--runs", "g=dcgan:fashion_mnist,s=dcgan_stacked_mnist,i=inpaint_natural_images",
          *(f"--set={s}" for s in sets), "--quality_workroot", str(tmp_path / "w"), "--results", str(results),
          "--fashion_num=50", "--stacked_num=50", "--quality_samples_dir", str(tmp_path / "pictures")]
  env = {**os.environ, "XLA_FLAGS": os.environ["GANS_TEST_XLA_FLAGS"]}
  proc = subprocess.run([sys.executable, "-m", "launch.quality_table", *args], cwd=ROOT, env=env,
                        capture_output=True, text=True, timeout=900)
  assert proc.returncode == 0, proc.stderr[-3000:]
  gan = tables.table_rows(str(results), quality_table.table_markers("mnist_5k"))["g"]
  quality = json.load(open(tmp_path / "w" / "g" / "quality.json"))["result"]
  assert tables.cells(gan)[4] == f"{quality['fcd']:.3f}" and tables.cells(gan)[8] == "-"  # unconditional
  assert tables.cells(gan)[10] == "[samples](pictures/g_samples.png)"
  assert (tmp_path / "pictures" / "g_samples.png").exists()
  stacked = tables.cells(tables.table_rows(str(results), quality_table.table_markers("stacked_mnist"))["s"])
  assert 1 <= int(stacked[4]) <= 50
  inpaint = tables.table_rows(str(results), quality_table.table_markers("inpaint"))
  header = tables.cells(open(results).read().split("quality-table:inpaint:start -->")[1].splitlines()[1])
  assert "set14_psnr" in header and "set14_biharmonic_psnr" in header
  assert tables.cells(inpaint["i"])[-1] == "[translations](pictures/i_translations.png)"
  # A second call reuses the finished runs and their evaluations; with --keep_other_rows it keeps a table's
  # rows of runs it was not given.
  text = results.read_text()
  results.write_text(text.replace(gan, gan.replace("| g |", "| older |", 1) + "\n" + gan))
  again = subprocess.run([sys.executable, "-m", "launch.quality_table", *args, "--keep_other_rows"], cwd=ROOT,
                         env=env, capture_output=True, text=True, timeout=900)
  assert again.returncode == 0 and "training" not in again.stderr
  assert list(tables.table_rows(str(results), quality_table.table_markers("mnist_5k"))) == ["older", "g"]
  assert "Rows g: Regenerate" in tables.between_markers(str(results), quality_table.table_markers("mnist_5k"))


def test_pictures_of_the_last_step_are_copied_and_linked(tmp_path):
  run = tmp_path / "run"
  for folder, file in (("samples", "samples_step_8.png"), ("samples", "step_8_woman.png"),
                       ("samples", "step_80.png"), ("samples", "step_80_woman.png"), ("translations", "step_8.png")):
    (run / folder).mkdir(parents=True, exist_ok=True)
    (run / folder / file).write_bytes(file.encode())
  links = quality_table.copy_pictures("r", str(run), 8, str(tmp_path / "docs" / "pics"),
                                      str(tmp_path / "docs" / "results.md"))
  assert links == "[samples](pics/r_samples.png), [woman](pics/r_woman.png), [translations](pics/r_translations.png)"
  assert (tmp_path / "docs" / "pics" / "r_woman.png").read_bytes() == b"step_8_woman.png"
  assert sorted(os.listdir(tmp_path / "docs" / "pics")) == ["r_samples.png", "r_translations.png", "r_woman.png"]
