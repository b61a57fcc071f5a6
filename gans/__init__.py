"""gans: a JAX/Flax functional research codebase of GANs and CNN image classifiers."""

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # TensorFlow only feeds data here; keep its start-up chatter out

__version__ = "0.1.0"
