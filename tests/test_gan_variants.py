"""The classic GAN family as configurations of one step: every variant trains from its config, and the
papers' formulas (ACGAN, InfoGAN, SGAN, BEGAN, PacGAN, minibatch discrimination, SN) hold."""
import functools
import importlib

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from scipy import stats

from gans import losses
from gans.data.pipeline import DataSpec
from gans.errors import UserError
from gans.models.gan import heads, mlp
from gans.train import gan_parts, gan_task, gan_tricks, gan_variants

TOY = ("gan", "nsgan", "lsgan", "wgan", "wgan_gp", "dragan", "sngan", "began", "pacgan", "cgan", "acgan", "infogan",
       "sgan")
IMAGE = ("gan", "lsgan", "wgan", "wgan_gp", "dragan", "sngan", "began", "pacgan", "cgan", "acgan", "infogan", "sgan")
RING8 = DataSpec((2,), 8, 0)


def _config(name, dataset="ring8", **overrides):
  c = importlib.import_module(f"configs.{name}").get_config(dataset)
  c.batch_size, c.total_steps = 8, 2
  c.model.g_hidden = c.model.d_hidden = (16,)
  c.model.g_width = c.model.d_width = 4
  c.sgan.labels_per_class, c.sgan.labelled_batch = 3, 4
  if c.model.minibatch_kernels:
    c.model.minibatch_kernels = 3
  c.update(overrides)
  return c


def _toy_batch(c, seed):
  n = c.batch_size * c.n_critic
  rng = np.random.default_rng(seed)
  return {"image": rng.normal(size=(n, 2)).astype(np.float32), "label": rng.integers(0, 8, n).astype(np.int32)}


def _compile(fn, *args):
  """jit without LLVM's expensive passes (on top of conftest's optimisation level 0): tiny steps compile faster."""
  return jax.jit(fn).lower(*args).compile({"xla_llvm_disable_expensive_passes": True})


@functools.lru_cache(maxsize=None)
def _trained(name):
  """(task, initial state, state after 2 steps, last metrics) for the tiny ring8 config `name`."""
  c = _config(name)
  task = gan_task.GANTask(c, RING8)
  state0 = task.init(jax.random.key(0))
  step = _compile(task.step, state0, _toy_batch(c, 0), jax.random.key(1))
  state = state0
  for i in range(2):
    state, metrics = step(state, _toy_batch(c, i), jax.random.key(1))
  return task, state0, state, jax.device_get(metrics)


def _max_diff(a, b):
  pairs = zip(jax.tree.leaves(a), jax.tree.leaves(b))
  return max(float(np.max(np.abs(np.asarray(x) - np.asarray(y)))) for x, y in pairs)


@pytest.mark.parametrize("name", TOY)
def test_every_variant_trains_from_its_config(name):
  task, state0, state, metrics = _trained(name)
  assert int(state.step) == 2
  assert all(np.isfinite(v) for v in metrics.values())
  assert _max_diff(state0.g.params, state.g.params) > 0 and _max_diff(state0.d.params, state.d.params) > 0
  expected = {"began": {"k_t", "convergence"}, "acgan": {"class_loss_real", "class_loss_fake", "g_class_loss"},
              "infogan": {"mi_lower_bound", "g_mi_lower_bound"}, "sgan": {"supervised_loss"}}
  assert set(metrics) >= {"d_loss", "g_loss"} | expected.get(name, set())
  # D updates per step: n_critic (5 for the WGANs, Arjovsky et al. 2017 Alg. 1, and for SNGAN on the mixtures,
  # Miyato et al. 2018's n_dis = 5; 1 otherwise).
  assert task.spec.n_critic == (5 if name in ("wgan", "wgan_gp", "sngan") else 1)
  assert task.examples_per_step == 8 * task.spec.n_critic


@pytest.mark.parametrize("name", IMAGE)
def test_fashion_mnist_configs_trace_with_conv_models(name):
  c = _config(name, "fashion_mnist")
  data = DataSpec((28, 28, 1), 10, 60_000)
  if name == "sgan":  # its labelled subset would be read from the data: give it one directly
    c.variant = "unconditional"
  task = gan_task.GANTask(c, data)
  state = jax.eval_shape(task.init, jax.random.key(0))
  n = c.batch_size * c.n_critic
  batch = {"image": jax.ShapeDtypeStruct((n, 28, 28, 1), jnp.float32), "label": jax.ShapeDtypeStruct((n,), jnp.int32)}
  new_state, metrics = jax.eval_shape(task.step, state, batch, jax.random.key(0))
  assert jax.tree.map(lambda x: x.shape, new_state.d.params) == jax.tree.map(lambda x: x.shape, state.d.params)
  assert all(m.shape == () for m in metrics.values())
  stats_names = str(jax.tree_util.tree_structure(state.d.batch_stats))
  if name in ("wgan_gp", "dragan"):  # no BatchNorm in the critic (Gulrajani et al. 2017, sec. 4)
    assert not jax.tree.leaves(state.d.batch_stats)
  if name == "sngan":  # power-iteration state instead of BatchNorm statistics
    assert "kernel/u" in stats_names and "kernel/sigma" in stats_names and "mean" not in stats_names
  if name == "pacgan":  # m = 2 images packed on the channel axis: D's first conv sees 2 channels
    assert state.d.params["Conv_0"]["kernel"].shape == (4, 4, 2, 4)
  if name == "cgan":  # 10 one-hot label maps concatenated to the image channel
    assert state.d.params["Conv_0"]["kernel"].shape == (4, 4, 11, 4)


def test_grid25_configs_name_their_data():
  for name in ("gan", "nsgan", "lsgan", "wgan", "wgan_gp", "dragan", "sngan", "began", "pacgan"):
    c = importlib.import_module(f"configs.{name}").get_config("grid25")
    assert (c.dataset, c.experiment) == ("grid25", f"{name}_grid25")


# --- the papers' formulas


def test_wgan_keeps_every_critic_weight_clipped():
  _, _, state, _ = _trained("wgan")
  assert max(float(jnp.max(jnp.abs(x))) for x in jax.tree.leaves(state.d.params)) <= 0.01


def test_acgan_class_losses_against_hand_values():
  logits = jnp.array([[2.0, 0.0, 0.0], [0.0, 1.0, 0.0]])
  labels = jnp.array([0, 2])
  # -log softmax: row 0 label 0: -2 + log(e^2 + 2); row 1 label 2: log(e + 2).
  expected = 0.5 * ((-2 + np.log(np.e ** 2 + 2)) + np.log(np.e + 2))
  np.testing.assert_allclose(losses.classification_loss(logits, labels), expected, rtol=1e-6)
  spec = _trained("acgan")[0].spec
  real_h, fake_h = {"class_logits": logits}, {"class_logits": logits[::-1]}
  aux, metrics = spec.variant.d_terms(gan_parts.DTerms(real_h, fake_h, labels, {"label": jnp.array([1, 1])},
                                                        None, None, None, {}))
  fake_ce = 0.5 * ((-1 + np.log(np.e + 2)) + (np.log(np.e ** 2 + 2)))  # rows swapped, both labels 1
  np.testing.assert_allclose(metrics["class_loss_fake"], fake_ce, rtol=1e-6)
  np.testing.assert_allclose(aux, expected + fake_ce, rtol=1e-6)  # Odena et al. eq. 3: real + fake


def test_infogan_mutual_information_bound_against_direct_formula():
  rng = np.random.default_rng(0)
  q = rng.normal(size=(5, 4 + 2)).astype(np.float32)
  cat = rng.integers(0, 4, 5)
  cont = rng.uniform(-1, 1, (5, 2)).astype(np.float32)
  log_softmax = q[:, :4] - np.log(np.exp(q[:, :4]).sum(1, keepdims=True))
  log_q = log_softmax[np.arange(5), cat] + stats.norm.logpdf(cont, loc=q[:, 4:], scale=1.0).sum(1)
  expected = log_q.mean() + np.log(4) + 2 * np.log(2)  # + H(c): uniform categorical, U[-1, 1] codes
  np.testing.assert_allclose(losses.infogan_mi_lower_bound(q, jnp.asarray(cat), cont), expected, rtol=1e-5)
  # A Q that decodes the categorical code perfectly reaches H(cat) = log 4 on that part.
  perfect = np.full((5, 4), -1e4, np.float32)
  perfect[np.arange(5), cat] = 0.0
  np.testing.assert_allclose(losses.infogan_mi_lower_bound(perfect, jnp.asarray(cat), np.zeros((5, 0))), np.log(4),
                             rtol=1e-6)


def test_infogan_q_head_shares_the_discriminator_body():
  _, state0, state, _ = _trained("infogan")
  params = state.d.params
  assert params["Dense_3"]["kernel"].shape == (128, 8 + 1)  # Q: 8 categories + 1 continuous code, after
  assert params["Dense_2"]["kernel"].shape == (16, 128)  # its own FC layer on the shared features
  assert params["Dense_0"]["kernel"].shape == (2, 16)  # one body for adv and Q


def test_sgan_k_plus_one_discriminator():
  logits = np.array([[0.5, -1.0, 2.0], [-3.0, -2.0, -4.0]])
  z = np.exp(logits).sum(1)
  d_real = z / (z + 1)  # Salimans et al. 2016, sec. 5: D(x) = Z(x) / (Z(x) + 1)
  np.testing.assert_allclose(jax.nn.sigmoid(losses.k_plus_one_logit(jnp.asarray(logits))), d_real, rtol=1e-6)


def test_sgan_labelled_subset_is_deterministic_and_balanced():
  c = _config("sgan")
  c.sgan.labels_per_class = 7
  x1, y1 = gan_variants.labelled_subset(c, RING8)
  x2, y2 = gan_variants.labelled_subset(c, RING8)
  assert np.array_equal(x1, x2) and np.array_equal(y1, y2)
  assert np.bincount(np.asarray(y1), minlength=8).tolist() == [7] * 8
  from gans.data import toy
  nearest = np.argmin(np.linalg.norm(np.asarray(x1)[:, None] - toy.modes("ring8")[None], axis=-1), axis=1)
  assert np.array_equal(nearest, np.asarray(y1))  # each label is its point's mode


def test_feature_matching_against_hand_value():
  real = jnp.array([[1.0, 2.0], [3.0, 4.0]])  # mean (2, 3)
  fake = jnp.array([[0.0, 0.0], [2.0, 2.0], [1.0, 1.0]])  # mean (1, 1)
  assert float(losses.feature_matching(real, fake)) == pytest.approx(1.0 + 4.0)


def test_minibatch_discrimination_against_numpy_formula():
  layer = heads.MinibatchDiscrimination(num_kernels=3, kernel_dim=2)
  f = np.random.default_rng(1).normal(size=(4, 5)).astype(np.float32)
  variables = layer.init(jax.random.key(0), f)
  out = np.asarray(layer.apply(variables, f))
  t = np.asarray(variables["params"]["T"]).reshape(5, 3, 2)
  m = np.einsum("na,abc->nbc", f.astype(np.float64), t)
  o = np.zeros((4, 3))
  for i in range(4):
    for j in range(4):
      o[i] += np.exp(-np.abs(m[i] - m[j]).sum(-1))  # c_b(x_i, x_j), Salimans et al. 2016, sec. 3.2
  np.testing.assert_allclose(out, np.concatenate([f, o], 1), rtol=1e-5)


def test_began_k_update_convergence_and_losses():
  # k_{t+1} = clip(k_t + lambda_k (gamma L(x) - L(G(z))), 0, 1)
  assert float(losses.began_k_update(0.5, 0.2, 0.05, 0.5, 0.1)) == pytest.approx(0.5 + 0.1 * (0.1 - 0.05))
  assert float(losses.began_k_update(0.0, 0.1, 0.9, 0.5, 0.1)) == 0.0
  assert float(losses.began_k_update(0.999, 1.0, 0.0, 0.5, 1.0)) == 1.0
  assert float(losses.began_convergence(0.2, 0.3, 0.5)) == pytest.approx(0.2 + 0.2)
  loss = losses.began()
  real, fake = jnp.array([0.2, 0.4]), jnp.array([0.1, 0.5])
  assert float(loss.d_loss(real, fake, k=0.25)) == pytest.approx(0.3 - 0.25 * 0.3)
  assert float(loss.g_loss(fake)) == pytest.approx(0.3)
  # In the step: k_t starts at 0 and follows the rule with L(x) of the D update, L(G(z)) of G's.
  _, state0, state, metrics = _trained("began")
  assert float(state0.extra["k_t"]) == 0.0
  assert float(state.extra["k_t"]) == float(metrics["k_t"])
  assert 0.0 <= float(metrics["k_t"]) <= 1.0
  assert float(metrics["convergence"]) == pytest.approx(
      metrics["d_real"] + abs(0.5 * metrics["d_real"] - metrics["g_loss"]), rel=1e-5)


def test_began_discriminator_is_an_l1_autoencoder_loss():
  from gans.models.gan import began
  d = _trained("began")[0].spec.discriminator
  x = jnp.array([[0.3, -0.2], [1.0, 2.0]])
  params = d.init(jax.random.key(0), x)["params"]
  h = began.Encoder(d.h_dim, d.width, d.hidden).apply({"params": params["Encoder_0"]}, x)
  recon = began.Decoder((2,), d.width, d.hidden).apply({"params": params["Decoder_0"]}, h)
  expected = np.mean(np.abs(np.asarray(x) - np.asarray(recon)), axis=1)  # L(v) = |v - D(v)|, eta = 1
  np.testing.assert_allclose(d.apply({"params": params}, x), expected, rtol=1e-6)


def test_packing_shape_and_order():
  x = jnp.arange(8.0).reshape(4, 2)  # samples (0,1), (2,3), (4,5), (6,7)
  np.testing.assert_array_equal(gan_tricks.pack(x, 2), [[0, 1, 2, 3], [4, 5, 6, 7]])
  img = jnp.arange(6 * 2 * 2 * 3.0).reshape(6, 2, 2, 3)
  packed = gan_tricks.pack(img, 3)
  assert packed.shape == (2, 2, 2, 9)
  for j in range(2):
    for i in range(3):  # pack j, slot i holds sample j*m+i in channels i*C .. (i+1)*C-1
      np.testing.assert_array_equal(packed[j, :, :, 3 * i:3 * i + 3], img[3 * j + i])


def test_pacgan_discriminator_sees_packed_samples():
  _, _, state, _ = _trained("pacgan")
  assert state.d.params["Dense_0"]["kernel"].shape == (2 * 2, 16)


def test_spectral_norm_largest_singular_value_is_one_after_power_iterations():
  d = mlp.Discriminator(hidden=(32, 32), spectral_norm=True)
  x = jax.random.normal(jax.random.key(0), (8, 6))
  variables = d.init(jax.random.key(1), x, train=False)
  apply = _compile(lambda v: d.apply(v, x, train=True, mutable=["batch_stats"])[1], variables)
  for _ in range(30):  # one power iteration per training call
    variables = {"params": variables["params"], **apply(variables)}
  checked = 0
  for path, sigma in jax.tree_util.tree_flatten_with_path(variables["batch_stats"])[0]:
    keys = [k.key for k in path]
    if not keys[-1].endswith("kernel/sigma"):
      continue
    layer = keys[-1].split("/")[0]
    scope = variables["params"]
    for k in keys[:-2]:  # the parent module of the SpectralNorm wrapper
      scope = scope[k]
    normalised = np.asarray(scope[layer]["kernel"]) / float(sigma)
    top = np.linalg.svd(normalised, compute_uv=False)[0]
    assert abs(top - 1.0) < 0.05, (keys, top)
    checked += 1
  assert checked == 3  # two hidden layers and the adversarial head


def test_cgan_generator_follows_the_label():
  task, _, state, _ = _trained("cgan")
  assert task.conditional and task.num_labels == 8
  assert state.g.params["Dense_0"]["kernel"].shape == (2 + 8, 16)  # [z, one-hot y]
  assert state.d.params["Dense_0"]["kernel"].shape == (2 + 8, 16)  # [x, one-hot y]
  a = task.sample(state, 4, seed=0, labels=[0, 0, 0, 0])
  b = task.sample(state, 4, seed=0, labels=[3, 3, 3, 3])
  assert a.shape == (4, 2) and np.abs(a - b).max() > 0
  with pytest.raises(UserError, match="labels must be"):
    task.sample(state, 2, seed=0, labels=[0, 8])
  unconditional, _, nstate, _ = _trained("nsgan")
  with pytest.raises(UserError, match="unconditional"):
    unconditional.sample(nstate, 2, seed=0, labels=[0, 1])


def test_bad_variant_options_are_user_errors():
  with pytest.raises(UserError, match="unknown GAN variant 'xgan'; known: acgan, cgan, infogan, sgan"):
    gan_task.GANTask(_config("nsgan", variant="xgan"), RING8)
  with pytest.raises(UserError, match="pack"):
    gan_task.GANTask(_config("pacgan", pack=3), RING8)
  with pytest.raises(UserError, match="began"):
    gan_task.GANTask(_config("nsgan", loss="began"), RING8)
  with pytest.raises(UserError, match="grad_accum_steps"):
    gan_task.GANTask(_config("nsgan", grad_accum_steps=3), RING8)  # batch 8
  with pytest.raises(UserError, match="divisible by 2"):
    gan_task.GANTask(_config("pacgan", pack=2, grad_accum_steps=8), RING8)  # micro-batches of 1 cannot pack
  with pytest.raises(UserError, match="labelled_batch"):
    gan_task.GANTask(_config("sgan", grad_accum_steps=8), DataSpec((2,), 8, 8))


def test_gan_table_writes_between_markers(tmp_path):
  from launch import gan_table  # pylint: disable=g-import-not-at-top
  from launch import tables as table_io  # pylint: disable=g-import-not-at-top
  readme = tmp_path / "README.md"
  readme.write_text("# title\n<!-- gan-table:ring8:start -->\nold\n<!-- gan-table:ring8:end -->\nafter\n")
  tables, results = gan_table.run_mixtures(["nsgan", "wgan"], ["ring8"], ["0"], 4, str(tmp_path / "runs"), tiny=True,
                                          critic_seeds=["1"])
  assert list(tables) == ["ring8"]
  assert [r["seed"] for r in results[("wgan", "ring8")]] == [1]  # n_critic = 5: its own seeds
  assert (tmp_path / "runs" / "wgan_ring8_s1").is_dir() and not (tmp_path / "runs" / "wgan_ring8_s0").exists()
  table = tables["ring8"]
  table_io.write_between_markers(str(readme), gan_table.table_markers("ring8"), table)
  text = readme.read_text()
  assert text.startswith("# title\n<!-- gan-table:ring8:start -->\n| variant | ring8 modes |")
  assert text.endswith("<!-- gan-table:ring8:end -->\nafter\n")
  assert "old" not in text and "| nsgan | " in text
  run = results[("nsgan", "ring8")][0]
  assert f"{run['modes_captured']:.1f}/8" in text and run["cpu_min"] > 0
  assert "| 0 | " in table.splitlines()[2] and "| 1 | " in table.splitlines()[3]  # the seeds column
  again, _ = gan_table.run_mixtures(["nsgan", "wgan"], ["ring8"], ["0"], 4, str(tmp_path / "runs"), tiny=True,
                                    critic_seeds=["1"])
  assert again["ring8"] == table  # a finished run is reused, not retrained
  readme.write_text(readme.read_text() + "<!-- gan-samples:start -->\n<!-- gan-samples:end -->\n")
  table_io.write_between_markers(str(readme), gan_table.SAMPLES_MARKERS, "grid")
  assert readme.read_text().endswith("<!-- gan-samples:start -->\ngrid\n<!-- gan-samples:end -->\n")
