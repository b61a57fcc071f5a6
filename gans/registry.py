"""Registries by name: the one mechanism by which configs choose models, variants, losses, penalties,
preprocessing ops, feature extractors and tasks.

  MODELS = Registry("GAN architecture", packages=("gans.models.gan",))

  @MODELS.register("dcgan")
  def build(...): ...

  MODELS.get("dcgan")   # an unknown name is a UserError that lists the known ones

`packages` (packages or plain modules) are imported, every module of a package, at the first lookup, so a
family registers itself by being a file in its package, and nothing imports the families by hand.
"""
import importlib
import pkgutil
from typing import Callable, Generic, Iterator, TypeVar

from gans.errors import UserError

T = TypeVar("T")


class Registry(Generic[T]):
  """Named items of one kind (`kind` is how errors call them)."""

  def __init__(self, kind: str, packages: tuple[str, ...] = ()):
    self.kind = kind
    self._packages = packages
    self._items: dict[str, T] = {}
    self._loaded = not packages

  def register(self, name: str, item: T | None = None) -> Callable[[T], T] | T:
    """`@registry.register(name)` as a decorator, or `registry.register(name, item)`."""
    def add(item: T) -> T:
      if name in self._items:
        raise ValueError(f"{self.kind} {name!r} registered twice")
      self._items[name] = item
      return item
    return add if item is None else add(item)

  def _load(self) -> None:
    if self._loaded:
      return
    self._loaded = True
    for name in self._packages:
      module = importlib.import_module(name)
      for info in pkgutil.iter_modules(getattr(module, "__path__", [])):
        importlib.import_module(f"{name}.{info.name}")

  def names(self) -> list[str]:
    """Every registered name, sorted."""
    self._load()
    return sorted(self._items)

  def __contains__(self, name: str) -> bool:
    self._load()
    return name in self._items

  def __iter__(self) -> Iterator[str]:
    return iter(self.names())

  def get(self, name: str) -> T:
    """The item registered as `name`; a UserError listing the known names when there is none."""
    self._load()
    if name not in self._items:
      raise UserError(f"unknown {self.kind} {name!r}; known: {', '.join(sorted(self._items))}")
    return self._items[name]
