"""Flax linen models: GAN generators/discriminators (`gan/`) and image classifiers (`classifiers/`)."""
