"""Markdown blocks that scripts regenerate inside a README, between a pair of marker comments."""
from gans.errors import UserError


def write_between_markers(path: str, markers: tuple[str, str], body: str) -> None:
  """Replaces what lies between `markers[0]` and `markers[1]` in `path` by `body` (markers kept)."""
  start, end = markers
  with open(path) as f:
    content = f.read()
  i, j = content.find(start), content.find(end)
  if i < 0 or j < i:
    raise UserError(f"{path} has no {start} ... {end} block")
  with open(path, "w") as f:
    f.write(content[:i + len(start)] + "\n" + body.rstrip() + "\n" + content[j:])
