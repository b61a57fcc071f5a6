"""Installs the `gans` library: JAX/Flax GANs and CNN classifiers."""
import setuptools

setuptools.setup(
    name="gans",
    version="0.1.0",
    description="A JAX functional research codebase of GANs and CNN image classifiers.",
    packages=setuptools.find_packages(include=["gans", "gans.*"]),
    package_data={"gans.metrics": ["weights/*.safetensors", "weights/*.json"]},  # the shipped extractors
    python_requires=">=3.10",
    # Ranges tested on 2026-11-23 (jax 0.10.2, flax 0.12.8, orbax 0.12.8, tfds 4.9.10, tf 2.21).
    install_requires=[
        "jax>=0.10.2,<0.11",
        "jaxlib>=0.10.2,<0.11",
        "flax>=0.12.8,<0.13",
        "optax>=0.2.8,<0.3",
        "orbax-checkpoint>=0.12.8,<0.13",
        "tensorflow-datasets>=4.9.10,<4.10",
        "tensorflow-cpu>=2.21,<2.22",
        "absl-py>=2.1,<3",
        "ml-collections>=1.0,<2",
        "numpy>=2.0,<2.5",
        "scipy>=1.13,<2",
        "importlib_resources>=6",
        "pillow>=10,<14",
        "matplotlib>=3.8,<4",
        "mlxtend>=0.23,<0.26",
        "tensorboard>=2.21,<2.22",
        "clu>=0.0.12,<0.1",
        "safetensors>=0.4,<1",
        "scikit-image>=0.22,<0.27",
        "dm-pix>=0.4,<0.5",
    ],
    extras_require={"test": ["pytest>=8,<10", "pytest-xdist>=3.2,<4", "ruff>=0.15,<0.18"]},
)
