"""Optimizers from config: airbench's lookahead against the reference's loop restated in numpy."""
import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

from configs import common
from gans import errors
from gans.train import optim


def _reference_lookahead(a, b, w0, lr, total, every):
  """airbench94's loop on 0.5 |a w - b|^2 with plain SGD: every `every` steps the slow copy takes
  lerp(slow, fast, 1 - 0.95^5 (t / total)^3) and the net restarts from it; the net ends as the slow copy."""
  alpha = 0.95 ** 5 * (np.arange(total + 1) / total) ** 3
  net, slow = w0.copy(), w0.copy()
  for t in range(1, total + 1):
    net = net - lr * a.T @ (a @ net - b)
    if t % every == 0:
      slow = slow + (1 - alpha[t]) * (net - slow)
      net = slow.copy()
  return slow


@pytest.mark.parametrize("total", [23, 25])  # the last sync before the end, and on the last step
def test_lookahead_matches_the_reference_loop(total):
  rng = np.random.default_rng(0)
  a, b, w0 = rng.normal(size=(6, 3)), rng.normal(size=6), rng.normal(size=3)
  tx = optim.lookahead(optax.sgd(0.05), total, every=5)
  params = {"w": jnp.asarray(w0, jnp.float32)}
  state = tx.init(params)
  loss = lambda p: 0.5 * jnp.sum((jnp.asarray(a, jnp.float32) @ p["w"] - jnp.asarray(b, jnp.float32)) ** 2)
  update = jax.jit(tx.update)
  for _ in range(total):
    updates, state = update(jax.grad(loss)(params), state, params)
    params = optax.apply_updates(params, updates)
  want = _reference_lookahead(a, b, w0, 0.05, total, 5)
  plain = w0.copy()
  for _ in range(total):
    plain = plain - 0.05 * a.T @ (a @ plain - b)
  assert np.abs(want - plain).max() > 1e-2  # lookahead changes the result, so the comparison can fail
  np.testing.assert_allclose(params["w"], want, atol=1e-5)


def test_make_wraps_lookahead_only_when_asked():
  cfg = common.optimizer("sgd", 0.1, momentum=0.9)
  params = {"w": jnp.ones(3)}
  assert not isinstance(optim.make(cfg, 10).init(params), optim.LookaheadState)
  cfg.lookahead_every = 5
  assert isinstance(optim.make(cfg, 10).init(params), optim.LookaheadState)
  for bad in (-1, 2.5):
    with pytest.raises(errors.UserError, match="lookahead_every"):
      optim.make(common.optimizer("sgd", 0.1, lookahead_every=bad), 10)
