"""gans: a JAX/Flax functional research codebase of GANs and CNN image classifiers."""

__version__ = "0.1.0"
