"""One process of the two-process test: trains a tiny config and saves its local copy of the parameters.

Usage: python tests/multihost_worker.py PROCESS_ID NUM_PROCESSES PORT WORKDIR OUT.npz CONFIG (e.g. nsgan:ring8,
configs/nsgan.py's get_config('ring8'))
"""
import importlib
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import jax  # pylint: disable=g-import-not-at-top,wrong-import-position
import numpy as np  # pylint: disable=wrong-import-position


def main():
  pid, nproc, port, workdir, out, name = int(sys.argv[1]), int(sys.argv[2]), *sys.argv[3:7]
  if nproc > 1:
    jax.config.update("jax_cpu_collectives_implementation", "gloo")
    jax.distributed.initialize(f"127.0.0.1:{port}", num_processes=nproc, process_id=pid)
  from gans.train import loop  # pylint: disable=g-import-not-at-top
  module, _, dataset = name.partition(":")
  c = importlib.import_module(f"configs.{module}").get_config(dataset)
  c.update(dict(total_steps=12, batch_size=32, log_every=4, eval_every=12, checkpoint_every=6, num_devices=0))
  c.model.g_hidden = c.model.d_hidden = (32,)
  state = loop.train_and_evaluate(c, workdir)
  local = [np.asarray(x.addressable_data(0)) for x in jax.tree.leaves(state)]
  np.savez(out, *local)


if __name__ == "__main__":
  main()
