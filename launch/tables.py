"""The runs behind the results tables (trained once, reused when finished) and the Markdown the table
scripts write into a Markdown page (docs/results.md) between a pair of marker comments."""
import json
import os
import time
from collections.abc import Iterable, Sequence

from absl import flags

from gans.errors import UserError

# Shared by the table launchers (gan_table, classifier_table), which can be imported together.
flags.DEFINE_list("seeds", [], "Seeds to train each run with (gan_table: 0,1,2 if empty; classifier_table: the "
                  "config's own seed if empty).")

EVAL_KEYS = ("modes_captured", "test_accuracy", "validation_accuracy")  # a metrics.jsonl row holding a final evaluation
_RULES = {"l": "---", "r": "---:", "c": ":---:"}


def markdown_table(header: Sequence[str], rows: Iterable[Sequence[object]], align: str = "") -> str:
  """A Markdown table: the `header` cells, a rule, then one line per row of cells (str() of each). `align`
  has a letter per column, l (left, "---"; also for columns past its end), r ("---:") or c (":---:")."""
  if set(align) - set(_RULES) or len(align) > len(header):
    raise ValueError(f"align needs at most {len(header)} letters l, r or c, got {align!r}")
  body = [list(header)] + [[str(cell) for cell in row] for row in rows]
  for row in body:
    if len(row) != len(header):
      raise ValueError(f"a row of {len(row)} cells under a header of {len(header)}: {row}")
  lines = ["| " + " | ".join(row) + " |" for row in body]
  lines.insert(1, "|" + "|".join(_RULES[a] for a in align.ljust(len(header), "l")) + "|")
  return "\n".join(lines)


def cells(line: str) -> list[str]:
  """The cells of one Markdown table line ('| a | b |' -> ['a', 'b'])."""
  return [c.strip() for c in line.strip().removeprefix("|").removesuffix("|").split("|")]


def final_eval(workdir: str, step: int, keys: tuple[str, ...] = EVAL_KEYS) -> dict:
  """The last row of `step` in the run's metrics.jsonl holding one of `keys` (empty: any row, e.g. a task's final
  evaluation, which comes after the step's training log); {} if none."""
  path = os.path.join(workdir, "metrics.jsonl")
  if not os.path.exists(path):
    return {}
  with open(path) as f:
    rows = [r for r in map(json.loads, f) if r["step"] == step and (not keys or any(k in r for k in keys))]
  return rows[-1] if rows else {}


def _checkpointed_step(workdir: str) -> int:
  """The newest checkpoint's step in the run's workdir (0: none), where a resumed run starts."""
  folder = os.path.join(workdir, "checkpoints")
  return max((int(n) for n in os.listdir(folder) if n.isdigit()), default=0) if os.path.isdir(folder) else 0


def train_one(config, workdir: str) -> dict:
  """Trains (or reuses a finished) run; returns its final evaluation plus `cpu_min` and `wall_min`: the CPU time
  (all threads) and the wall time of `train_and_evaluate`, over every process that trained it, and `load_before`,
  the 1-minute load average when it started (workdir/timing.json keeps them with the step reached). A run
  resumed from a checkpoint past the step timing.json reached (its process was killed, not stopped) also reports
  `unmeasured_steps`: the steps whose times are unknown."""
  from gans.train import loop  # pylint: disable=g-import-not-at-top
  timing_path = os.path.join(workdir, "timing.json")
  timing = {}
  if os.path.exists(timing_path):
    with open(timing_path) as f:
      timing = json.load(f)
    if timing.get("steps") == config.total_steps:
      return {**final_eval(workdir, config.total_steps), **timing}
  start = _checkpointed_step(workdir)
  before = timing if start and timing.get("steps") == start else {"cpu_min": 0.0, "wall_min": 0.0,
                                                                  "unmeasured_steps": start}
  load, cpu, wall = os.getloadavg()[0], time.process_time(), time.time()
  state = loop.train_and_evaluate(config, workdir)
  step = int(state.step)
  timing = {"steps": step, "cpu_min": before["cpu_min"] + (time.process_time() - cpu) / 60,
            "wall_min": before["wall_min"] + (time.time() - wall) / 60, "load_before": before.get("load_before", load)}
  if before.get("unmeasured_steps"):
    timing["unmeasured_steps"] = before["unmeasured_steps"]
  os.makedirs(workdir, exist_ok=True)
  with open(timing_path, "w") as f:
    json.dump(timing, f)
  if step < config.total_steps:  # stopped early (SIGTERM): not a finished run
    raise UserError(f"{workdir} stopped at step {step} of {config.total_steps}; run again to resume it")
  return {**final_eval(workdir, config.total_steps), **timing}


def cpu_minutes(timing: dict) -> str:
  """A table cell: the run's CPU minutes, '+' after them where some steps' times are unknown."""
  return f"{timing['cpu_min']:.1f}" + ("+" if timing.get("unmeasured_steps") else "")


def _block(path: str, markers: tuple[str, str]) -> tuple[str, int, int]:
  """`path`'s text and the span between the end of `markers[0]` and the start of `markers[1]` (-1, -1: none)."""
  start, end = markers
  with open(path) as f:
    content = f.read()
  i, j = content.find(start), content.find(end)
  return (content, i + len(start), j) if 0 <= i < j else (content, -1, -1)


def between_markers(path: str, markers: tuple[str, str]) -> str:
  """The text between `markers` in `path` ('' if they are missing)."""
  content, i, j = _block(path, markers)
  return content[i:j] if i >= 0 else ""


def table_rows(path: str, markers: tuple[str, str]) -> dict[str, str]:
  """The Markdown table lines between `markers` in `path`, by their first cell (header and rule excluded)."""
  lines = between_markers(path, markers).splitlines()
  rows = [line for line in lines if line.startswith("|") and not line.startswith("|---")][1:]
  return {cells(line)[0]: line for line in rows}


def write_between_markers(path: str, markers: tuple[str, str], body: str) -> None:
  """Replaces what lies between `markers[0]` and `markers[1]` in `path` by `body` (markers kept)."""
  content, i, j = _block(path, markers)
  if i < 0:
    raise UserError(f"{path} has no {markers[0]} ... {markers[1]} block")
  with open(path, "w") as f:
    f.write(content[:i] + "\n" + body.rstrip() + "\n" + content[j:])


def merge_table(path: str, markers: tuple[str, str], new: str, lead: str) -> str:
  """The table between `markers` in `path` with `new`'s rows put in (replacing rows of the same first cell, else
  appended) and `new`'s note, after `lead`, added below the old notes; `new` itself where `path` has no table."""
  def split(text: str) -> tuple[list[str], str]:  # (the table's lines, the text around it)
    lines = text.strip().splitlines()
    table = [line for line in lines if line.startswith("|")]
    return table, "\n".join(line for line in lines if not line.startswith("|")).strip()

  old_rows, old_notes = split(between_markers(path, markers))
  new_rows, new_note = split(new)
  if not old_rows:
    return new
  if cells(old_rows[0]) != cells(new_rows[0]):
    raise UserError(f"{path}: the table between {markers[0]} ... has other columns than the new rows; "
                    "regenerate it whole")
  measured = {cells(line)[0]: line for line in new_rows[2:]}
  body = [measured.pop(cells(line)[0], line) for line in old_rows[2:]] + list(measured.values())
  notes = "\n\n".join(n for n in (old_notes, lead + new_note if new_note else "") if n)
  return "\n".join(new_rows[:2] + body) + ("\n\n" + notes if notes else "")
