"""The library's layers import only downward, with no cycle: read from the source with `ast`, every import
(at the top of a module or inside a function) counts.

Layers, lowest first: errors, registry, parallel and the other top-level helpers; data and models (which
know nothing of training or metrics); metrics (which know nothing of training); train; runs (a trained run
from its workdir, above both).
"""
import ast
import os

import pytest

ROOT = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "gans")
FORBIDDEN = {  # layer -> the layers it must not import
    "data": {"models", "metrics", "train", "runs"},
    "models": {"data", "metrics", "train", "runs"},
    "metrics": {"train", "runs"},
    "train": {"runs"},
}
# Imports allowed inside functions: optional or heavy dependencies, loaded only when used.
LAZY_OK = {"safetensors", "torch", "matplotlib", "skimage", "PIL"}


def _modules() -> dict[str, str]:
  mods = {}
  for directory, _, files in os.walk(ROOT):
    for f in files:
      if f.endswith(".py"):
        path = os.path.join(directory, f)
        name = "gans." + os.path.relpath(path, ROOT)[:-3].replace(os.sep, ".")
        mods[name.removesuffix(".__init__")] = path
  return mods


def _imports(name: str, path: str, mods: dict) -> list[tuple[str, bool]]:
  """(imported gans module, inside a function?) for each import of the module."""
  tree = ast.parse(open(path).read())
  nested = {id(n) for f in ast.walk(tree) if isinstance(f, (ast.FunctionDef, ast.AsyncFunctionDef))
            for n in ast.walk(f) if n is not f}
  out = []
  for node in ast.walk(tree):
    if isinstance(node, ast.Import):
      targets = [a.name for a in node.names]
    elif isinstance(node, ast.ImportFrom):
      base = node.module or ""
      if node.level:
        parts = name.split(".")[: len(name.split(".")) - node.level + path.endswith("__init__.py")]
        base = ".".join(parts + ([base] if base else []))
      targets = [f"{base}.{a.name}" for a in node.names] + [base]
    else:
      continue
    for t in targets:
      while t and t not in mods:
        t = t.rpartition(".")[0]
      if t and t != name:
        out.append((t, id(node) in nested))
  return out


def _layer(module: str) -> str | None:
  parts = module.split(".")
  return parts[1] if len(parts) > 1 and parts[1] in ("data", "models", "metrics", "train", "runs") else None


def _graph():
  mods = _modules()
  graph = {m: _imports(m, p, mods) for m, p in mods.items()}
  # a package's __init__ importing its own submodules is not an upward edge
  return mods, {m: [(t, lazy) for t, lazy in edges if not t.startswith(m + ".")] for m, edges in graph.items()}


def _cycles(graph) -> list[list[str]]:
  edges = {m: {t for t, _ in e} for m, e in graph.items()}
  index, low, stack, on, out = {}, {}, [], set(), []

  def visit(v):
    index[v] = low[v] = len(index)
    stack.append(v)
    on.add(v)
    for w in edges[v]:
      if w not in index:
        visit(w)
        low[v] = min(low[v], low[w])
      elif w in on:
        low[v] = min(low[v], index[w])
    if low[v] == index[v]:
      comp = []
      while True:
        w = stack.pop()
        on.discard(w)
        comp.append(w)
        if w == v:
          break
      if len(comp) > 1:
        out.append(sorted(comp))

  for v in edges:
    if v not in index:
      visit(v)
  return out


def test_no_cycle_no_upward_import_no_hidden_import():
  mods, graph = _graph()
  upward = [f"{a} -> {b}" for a, edges in graph.items() for b, _ in edges
            if _layer(b) in FORBIDDEN.get(_layer(a), ())]
  hidden = [f"{a} -> {b}" for a, edges in graph.items() for b, lazy in edges if lazy]
  cycles = _cycles(graph)
  print(f"import graph: {len(mods)} modules, {sum(map(len, graph.values()))} edges, {len(cycles)} cycles, "
        f"{len(upward)} upward imports, {len(hidden)} imports inside functions")
  assert not cycles, cycles
  assert not upward, upward
  assert not hidden, hidden


def test_lazy_imports_are_only_optional_dependencies():
  bad = []
  for path in _modules().values():
    tree = ast.parse(open(path).read())
    for f in ast.walk(tree):
      if isinstance(f, (ast.FunctionDef, ast.AsyncFunctionDef)):
        for node in ast.walk(f):
          if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
          elif isinstance(node, ast.ImportFrom):
            names = [node.module or "."]
          else:
            continue
          bad += [f"{path}: {n}" for n in names if n.split(".")[0] not in LAZY_OK]
  assert not bad, bad


@pytest.mark.parametrize("source, expected", [
    ("from gans.train import loop\n", [("gans.train.loop", False)]),
    ("def f():\n  from gans.metrics import stats\n", [("gans.metrics.stats", True)]),
])
def test_the_checker_sees_imports(source, expected, tmp_path):
  path = tmp_path / "probe.py"
  path.write_text(source)
  mods = {**_modules(), "gans.data.probe": str(path)}
  found = [e for e in _imports("gans.data.probe", str(path), mods) if e[0] != "gans.train" and e[0] != "gans.metrics"]
  assert found == expected
  assert _layer(found[0][0]) in FORBIDDEN["data"]  # such an import from data would be reported upward
