"""gans: a JAX/Flax functional research codebase of GANs and CNN image classifiers."""

import os

# TensorFlow only feeds data here: keep its start-up chatter out (oneDNN only changes TF-side numerics).
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")

__version__ = "0.1.0"
