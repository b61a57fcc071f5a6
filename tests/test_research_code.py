"""docs/research_code.md's code blocks run as written: the library used from a user's own loop."""
import os
import re

import pytest

DOC = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "docs", "research_code.md")
BLOCKS = re.findall(r"```python\n(.*?)```", open(DOC).read(), flags=re.S)


def test_the_page_has_its_three_examples():
  assert len(BLOCKS) == 3


@pytest.mark.parametrize("index", range(len(BLOCKS)))
def test_block_runs(index):
  namespace = {}
  exec(compile(BLOCKS[index], f"{DOC} block {index}", "exec"), namespace)  # noqa: S102
  if index == 0:
    assert namespace["samples"].shape == (8, 28, 28, 1)
    assert int(namespace["state"].step) == 3
  if index == 2:
    assert namespace["logits"].shape == (16, 10)
