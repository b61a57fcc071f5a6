"""BigGAN (Brock, Donahue & Simonyan 2019, ICLR) and SAGAN (Zhang et al. 2019, ICML) generator and discriminator,
layer for layer as the authors' BigGAN-PyTorch (`BigGAN.py`, `layers.py`).

Both networks are stacks of residual blocks (Miyato et al. 2018; Brock et al. 2019, fig. 15 a-c) whose channel
widths are multiples of `ch` given by the tables `generator_arch` / `discriminator_arch` for 32, 64, 128 and
256 px. Every convolution and linear layer of G and D, and D's class embedding, is spectrally normalised
(Zhang et al. 2019, sec. 4.1; the power-iteration vectors live in 'batch_stats', they are not parameters); G's
class embeddings are not, as in the reference. A self-attention block (Zhang et al. 2019, sec. 3) follows the
residual block of each resolution listed in `attention` ('64', '32_64'; '0' for none); resolutions no block
has are ignored, as in the reference.

Generator: z -> linear -> 4x4 map -> up-sampling blocks (BN-ReLU-up-conv3x3-BN-ReLU-conv3x3, 1x1 shortcut)
-> BN-ReLU-conv3x3 -> tanh. Its BatchNorms are class-conditional (`ConditionalBatchNorm`): gains 1 + W_g y and
biases W_b y, linear in a conditioning vector y. With `shared` (BigGAN's shared embedding, sec. 3) y is one
class embedding shared by all blocks, and with `hier` (hierarchical latent space, sec. 3) z is split into
num_blocks + 1 equal chunks: the first feeds the linear layer, chunk i+1 is concatenated to y for block i. Without
`shared` (SAGAN), each BN has its own class embeddings for gains and biases.

Discriminator: down-sampling blocks (ReLU-conv3x3-ReLU-conv3x3-avgpool; the first block without the leading
ReLU), ReLU, global sum pooling to h, then the projection discriminator (Miyato & Koyama 2018, eq. 3):
D(x, y) = linear(h) + <embed(y), h>.

Conditioning is the one-hot label `cond` [B, K] (its width K sets the number of classes); `cond=None` is the
unconditional model: no embeddings, plain BatchNorm in G (or BNs conditioned on the z chunks alone with `hier`),
no projection term.
"""
from typing import Any

import flax.linen as nn
import jax
import jax.numpy as jnp

from gans.errors import UserError
from gans.models import layers, summary
from gans.models.gan import ARCHITECTURES, heads
from gans.models.gan import dtype as gan_dtype

RESOLUTIONS = (32, 64, 128, 256)
_INITS = {"ortho": nn.initializers.orthogonal(), "N02": nn.initializers.normal(0.02),
          "glorot": nn.initializers.xavier_uniform(), "xavier": nn.initializers.xavier_uniform()}


def attention_resolutions(attention: str | int) -> set[int]:
  """'32_64' -> {32, 64}; '0' -> {} (an int, as a command line may parse '64', is read as its digits)."""
  items = str(attention).split("_")
  try:
    resolutions = {int(item) for item in items}
  except ValueError:
    raise UserError(f"attention resolutions must look like '64' or '32_64' ('0': none), got {attention!r}") from None
  bad = [r for r in resolutions if r != 0 and (r < 4 or r & (r - 1))]
  if bad:
    hint = " (a command line may read 32_64 as the number 3264: quote it, \"'32_64'\")" if isinstance(
        attention, int) else ""
    raise UserError(f"attention resolutions must be powers of two joined by '_' (e.g. '32_64'), got "
                    f"{attention!r}{hint}")
  return resolutions - {0}


def _check_resolution(image_size: int) -> None:
  if image_size not in RESOLUTIONS:
    raise UserError(f"biggan takes {', '.join(map(str, RESOLUTIONS))} px images, got {image_size}")


def generator_arch(image_size: int, ch: int, attention: str | int = "64") -> dict:
  """BigGAN-PyTorch's `G_arch`: per block its input and output widths, output resolution and attention."""
  _check_resolution(image_size)
  widths = {256: [16, 16, 8, 8, 4, 2, 1], 128: [16, 16, 8, 4, 2, 1], 64: [16, 16, 8, 4, 2], 32: [4, 4, 4, 4]}
  w = widths[image_size]
  resolution = [8 * 2 ** i for i in range(len(w) - 1)]
  wanted = attention_resolutions(attention)
  return {"in_channels": [ch * m for m in w[:-1]], "out_channels": [ch * m for m in w[1:]],
          "resolution": resolution, "attention": [r in wanted for r in resolution]}


def discriminator_arch(image_size: int, ch: int, attention: str | int = "64") -> dict:
  """BigGAN-PyTorch's `D_arch` (input channels of block 0 left out): output widths, down-sampling, the
  resolution each block is listed at (the reference lists all four 32 px blocks at 16) and attention."""
  _check_resolution(image_size)
  tables = {256: ([1, 2, 4, 8, 8, 16, 16], [True] * 6 + [False], [128, 64, 32, 16, 8, 4, 4]),
            128: ([1, 2, 4, 8, 16, 16], [True] * 5 + [False], [64, 32, 16, 8, 4, 4]),
            64: ([1, 2, 4, 8, 16], [True] * 4 + [False], [32, 16, 8, 4, 4]),
            32: ([4, 4, 4, 4], [True, True, False, False], [16, 16, 16, 16])}
  widths, downsample, resolution = tables[image_size]
  wanted = attention_resolutions(attention)
  return {"out_channels": [ch * m for m in widths], "downsample": downsample, "resolution": resolution,
          "attention": [r in wanted for r in resolution]}


def _upsample(x):
  """Nearest-neighbour 2x up-sampling (F.interpolate(scale_factor=2))."""
  b, h, w, c = x.shape
  return jnp.broadcast_to(x[:, :, None, :, None], (b, h, 2, w, 2, c)).reshape(b, 2 * h, 2 * w, c)


def _avg_pool(x):
  b, h, w, c = x.shape
  return x.reshape(b, h // 2, 2, w // 2, 2, c).mean(axis=(2, 4))


def _max_pool(x):
  b, h, w, c = x.shape
  return x.reshape(b, h // 2, 2, w // 2, 2, c).max(axis=(2, 4))


class ClassEmbedding(nn.Module):
  """A class embedding table [K, features] applied to one-hot (or soft) labels [B, K]: y @ table.

  Its parameter is named 'embedding' and laid out as torch's nn.Embedding weight (one row per class).
  """
  features: int
  embedding_init: Any = nn.initializers.orthogonal()
  dtype: Any = jnp.float32

  @nn.compact
  def __call__(self, cond):
    table = self.param("embedding", self.embedding_init, (cond.shape[-1], self.features))
    return cond.astype(self.dtype) @ table.astype(self.dtype)


def _embedding(features: int, spectral_norm: bool, train: bool, init, dtype, name: str):
  layer = ClassEmbedding(features, init, dtype, name=name)
  if not spectral_norm:
    return layer
  return lambda y: nn.SpectralNorm(layer, name=f"{name}_sn")(y, update_stats=train)


class ConditionalBatchNorm(nn.Module):
  """BatchNorm whose gain and bias are functions of a conditioning vector (BigGAN-PyTorch's `ccbn`).

  out = BN(x) * (1 + gain(y)) + bias(y), BN without affine parameters. `class_embedding`: y is a one-hot
  label and gain/bias are class embeddings (SAGAN; not spectrally normalised, as the reference's nn.Embedding);
  otherwise gain/bias are bias-free (spectrally normalised) linear maps of y (BigGAN). y None: a plain BN with
  learned gain and bias (BigGAN-PyTorch's `bn`).
  """
  class_embedding: bool = False
  spectral_norm: bool = True
  kernel_init: Any = nn.initializers.orthogonal()
  dtype: Any = jnp.float32

  @nn.compact
  def __call__(self, x, y, train: bool):
    if y is None:
      return layers.batch_norm(train, self.dtype, name="bn")(x)
    x = layers.batch_norm(train, self.dtype, name="bn", use_scale=False, use_bias=False)(x)
    c = x.shape[-1]
    if self.class_embedding:
      gain = ClassEmbedding(c, self.kernel_init, self.dtype, name="gain")(y)
      bias = ClassEmbedding(c, self.kernel_init, self.dtype, name="bias")(y)
    else:
      gain, bias = (heads.dense(c, self.spectral_norm, train, self.dtype, use_bias=False,
                                kernel_init=self.kernel_init, name=name)(y) for name in ("gain", "bias"))
    return x * (1 + gain[:, None, None, :]) + bias[:, None, None, :]


class Attention(nn.Module):
  """Self-attention (Zhang et al. 2019, sec. 3) as BigGAN-PyTorch's `Attention`.

  theta, phi: 1x1 convs to C/8; g: 1x1 conv to C/2; phi and g max-pooled 2x2 (a quarter of the keys);
  beta = softmax_j(theta_i . phi_j); o = conv1x1_{C/2 -> C}(sum_j beta_ij g_j); out = gamma * o + x with the
  scalar gamma initialised to 0 (the block starts as the identity). All convs are bias-free.
  """
  spectral_norm: bool = True
  kernel_init: Any = nn.initializers.orthogonal()
  dtype: Any = jnp.float32

  @nn.compact
  def __call__(self, x, train: bool):
    b, h, w, c = x.shape

    def conv(features, name):
      return heads.conv(features, (1, 1), (1, 1), self.spectral_norm, train, self.dtype, use_bias=False,
                        kernel_init=self.kernel_init, name=name)

    theta = conv(c // 8, "theta")(x).reshape(b, h * w, c // 8)
    phi = _max_pool(conv(c // 8, "phi")(x)).reshape(b, h * w // 4, c // 8)
    g = _max_pool(conv(c // 2, "g")(x)).reshape(b, h * w // 4, c // 2)
    logits = jnp.einsum("bnc,bmc->bnm", theta, phi).astype(jnp.float32)
    beta = jax.nn.softmax(logits, axis=-1).astype(self.dtype)
    o = conv(c, "o")(jnp.einsum("bnm,bmc->bnc", beta, g).reshape(b, h, w, c // 2))
    gamma = self.param("gamma", nn.initializers.zeros_init(), ())
    return gamma.astype(self.dtype) * o + x


class GBlock(nn.Module):
  """Up-sampling residual block: [CBN-ReLU-up-conv3x3-CBN-ReLU-conv3x3] + conv1x1(up(x)).

  The 1x1 shortcut is applied before the nearest-neighbour up-sampling, which it commutes with (the
  reference applies it after: same function, a quarter of the work)."""
  features: int
  class_embedding: bool = False
  spectral_norm: bool = True
  kernel_init: Any = nn.initializers.orthogonal()
  dtype: Any = jnp.float32

  @nn.compact
  def __call__(self, x, y, train: bool):
    def conv(kernel, name):
      return heads.conv(self.features, kernel, (1, 1), self.spectral_norm, train, self.dtype, padding="SAME",
                        kernel_init=self.kernel_init, name=name)

    def bn(name):
      return ConditionalBatchNorm(self.class_embedding, self.spectral_norm, self.kernel_init, self.dtype, name=name)

    h = _upsample(nn.relu(bn("bn1")(x, y, train)))
    h = conv((3, 3), "conv1")(h)
    h = conv((3, 3), "conv2")(nn.relu(bn("bn2")(h, y, train)))
    return h + _upsample(conv((1, 1), "conv_sc")(x))


class DBlock(nn.Module):
  """Residual block of D: [ReLU-conv3x3-ReLU-conv3x3-avgpool] + shortcut; the first block (not
  `preactivation`) has no leading ReLU and pools before its 1x1 shortcut conv, the others convolve first.
  `wide` (SAGAN/BigGAN): the hidden width is the output width; else the input width (SN-GAN)."""
  features: int
  downsample: bool
  preactivation: bool
  wide: bool = True
  spectral_norm: bool = True
  kernel_init: Any = nn.initializers.orthogonal()
  dtype: Any = jnp.float32

  @nn.compact
  def __call__(self, x, train: bool):
    def conv(features, kernel, name):
      return heads.conv(features, kernel, (1, 1), self.spectral_norm, train, self.dtype, padding="SAME",
                        kernel_init=self.kernel_init, name=name)

    hidden = self.features if self.wide else x.shape[-1]
    h = nn.relu(x) if self.preactivation else x
    h = conv(self.features, (3, 3), "conv2")(nn.relu(conv(hidden, (3, 3), "conv1")(h)))
    if self.downsample:
      h = _avg_pool(h)
    shortcut = x
    if x.shape[-1] != self.features or self.downsample:
      sc_conv = conv(self.features, (1, 1), "conv_sc")
      if self.preactivation:
        shortcut = sc_conv(x)
        shortcut = _avg_pool(shortcut) if self.downsample else shortcut
      else:
        shortcut = sc_conv(_avg_pool(x) if self.downsample else x)
    return h + shortcut


class Generator(nn.Module):
  """z [B, dim_z] and one-hot labels [B, K] (or None) -> images [B, S, S, channels] in [-1, 1].

  `shared_dim` 0 means the width of z (as the reference). With `hier`, dim_z must be a multiple of
  num_blocks + 1 (`latent_dim` gives the largest one not above a wanted size).
  """
  image_size: int = 128
  channels: int = 3
  ch: int = 64
  attention: str = "64"
  shared: bool = True
  shared_dim: int = 0
  hier: bool = False
  spectral_norm: bool = True
  init_style: str = "ortho"
  dtype: Any = jnp.float32

  @nn.compact
  def __call__(self, z, cond=None, train: bool = True):
    arch = generator_arch(self.image_size, self.ch, self.attention)
    kernel_init = _init(self.init_style)
    num_blocks = len(arch["out_channels"])
    dim_z = z.shape[-1]
    z = z.astype(self.dtype)
    if self.hier:
      if cond is not None and not self.shared:
        raise UserError("biggan: hier needs the shared embedding (each BN takes [shared(y), z chunk])")
      if dim_z % (num_blocks + 1):
        raise UserError(f"biggan: with hier, z's width ({dim_z}) must be a multiple of the number of blocks + 1 "
                        f"({num_blocks + 1}) at {self.image_size} px")
      chunks = jnp.split(z, num_blocks + 1, axis=-1)
      z, z_chunks = chunks[0], chunks[1:]
    else:
      z_chunks = [None] * num_blocks
    class_embedding = cond is not None and not self.shared
    y = None
    if cond is not None:
      y = cond.astype(self.dtype)
      if self.shared:  # not spectrally normalised, as in the reference
        y = ClassEmbedding(self.shared_dim or dim_z, kernel_init, self.dtype, name="shared")(y)
    start = 4
    h = heads.dense(arch["in_channels"][0] * start * start, self.spectral_norm, train, self.dtype,
                    kernel_init=kernel_init, name="linear")(z)
    h = h.reshape(h.shape[0], start, start, arch["in_channels"][0])
    for i in range(num_blocks):
      parts = [p for p in (y, z_chunks[i]) if p is not None]
      block_y = jnp.concatenate(parts, axis=-1) if parts else None
      h = GBlock(arch["out_channels"][i], class_embedding, self.spectral_norm, kernel_init, self.dtype,
                 name=f"block{i}")(h, block_y, train)
      if arch["attention"][i]:
        h = Attention(self.spectral_norm, kernel_init, self.dtype, name=f"attention{i}")(h, train)
    h = nn.relu(layers.batch_norm(train, self.dtype, name="output_bn")(h))
    h = heads.conv(self.channels, (3, 3), (1, 1), self.spectral_norm, train, self.dtype, padding="SAME",
                   kernel_init=kernel_init, name="output_conv")(h)
    return jnp.tanh(h.astype(jnp.float32))


class Discriminator(nn.Module):
  """images [B, S, S, C] and one-hot labels [B, K] (or None) -> logits [B], or a dict of heads (see `heads`;
  the projection term is added to 'adv')."""
  ch: int = 64
  attention: str = "64"
  wide: bool = True
  spectral_norm: bool = True
  init_style: str = "ortho"
  dtype: Any = jnp.float32
  heads: dict | None = None  # keyword arguments of heads.outputs (num_classes, features, ...)

  @nn.compact
  def __call__(self, x, cond=None, train: bool = True):
    arch = discriminator_arch(x.shape[1], self.ch, self.attention)
    kernel_init = _init(self.init_style)
    h = x.astype(self.dtype)
    for i, features in enumerate(arch["out_channels"]):
      h = DBlock(features, arch["downsample"][i], i > 0, self.wide, self.spectral_norm, kernel_init, self.dtype,
                 name=f"block{i}")(h, train)
      if arch["attention"][i]:
        h = Attention(self.spectral_norm, kernel_init, self.dtype, name=f"attention{i}")(h, train)
    h = jnp.sum(nn.relu(h), axis=(1, 2))
    out = heads.outputs(h, train, **(self.heads or {}), spectral_norm=self.spectral_norm, kernel_init=kernel_init,
                        dtype=self.dtype)
    if cond is None:
      return out
    embed = _embedding(h.shape[-1], self.spectral_norm, train, kernel_init, self.dtype, "embed")(cond)
    projection = jnp.sum(embed * h, axis=-1).astype(jnp.float32)  # Miyato & Koyama 2018, eq. 3
    if isinstance(out, dict):
      return {**out, "adv": out["adv"] + projection}
    return out + projection


def _init(name: str):
  if name not in _INITS:
    raise UserError(f"biggan init must be one of {', '.join(_INITS)}, got {name!r}")
  return _INITS[name]


def latent_dim(image_size: int, dim_z: int, hier: bool) -> int:
  """The width of z G takes: with `hier`, dim_z rounded down to a multiple of num_blocks + 1 (as the reference
  does with its `dim_z`)."""
  if not hier:
    return dim_z
  slots = len(generator_arch(image_size, 1, "0")["out_channels"]) + 1
  if dim_z < slots:
    raise UserError(f"biggan: with hier, dim_z must be at least {slots} at {image_size} px, got {dim_z}")
  return dim_z // slots * slots


_D_HEADS = {"adv", "num_classes", "features"}


@ARCHITECTURES.register("biggan")
def build(model_config, data_shape: tuple[int, ...], d_heads: dict):
  """BigGAN / SAGAN networks. `model_config` keys (BigGAN-PyTorch's option in brackets, defaults those of the
  BigGAN 128 px launch script except the widths):

    z_dim (dim_z, 120): the width of z; with hier a multiple of num_blocks + 1 (6 at 128 px).
    g_ch, d_ch (G_ch, D_ch, 64): width multipliers.    g_attn, d_attn (G_attn, D_attn, '64'): attention.
    g_shared (G_shared, True), shared_dim (shared_dim, 128; 0 = z_dim), hier (hier, True).
    d_wide (D_wide, True).    init (G_init, D_init, 'ortho'; 'N02', 'glorot').
    spectral_norm (G_param, D_param = 'SN', True).    dtype ('float32').

  SAGAN is g_shared False, hier False, shared_dim 0. Labels come as G's and D's one-hot `cond`. `d_heads`:
  the adversarial head and optionally 'num_classes' (a class-logit head) and 'features'.
  """
  if len(data_shape) != 3 or data_shape[0] != data_shape[1] or data_shape[0] not in RESOLUTIONS:
    raise UserError(f"biggan needs square images [S, S, C] with S in {RESOLUTIONS}, got data of shape {data_shape}")
  unsupported = set(d_heads) - _D_HEADS
  if unsupported:
    raise UserError(f"biggan's discriminator has no {', '.join(sorted(unsupported))} head; it supports "
                    f"{', '.join(sorted(_D_HEADS))}")
  if not d_heads.get("adv", True):
    raise UserError("biggan's projection discriminator needs the adversarial head (adv)")
  size, channels = data_shape[0], data_shape[2]
  hier = bool(model_config.get("hier", True))
  z_dim = model_config.get("z_dim", 120)
  if latent_dim(size, z_dim, hier) != z_dim:
    slots = len(generator_arch(size, 1, "0")["out_channels"]) + 1
    raise UserError(f"biggan: with hier, z_dim must be a multiple of {slots} at {size} px, got {z_dim}")
  attention_resolutions(model_config.get("g_attn", "64"))
  attention_resolutions(model_config.get("d_attn", "64"))
  dtype = gan_dtype(model_config)
  sn = bool(model_config.get("spectral_norm", True))
  init = model_config.get("init", "ortho")
  _init(init)
  g = Generator(image_size=size, channels=channels, ch=model_config.get("g_ch", 64),
                attention=str(model_config.get("g_attn", "64")), shared=bool(model_config.get("g_shared", True)),
                shared_dim=model_config.get("shared_dim", 128), hier=hier, spectral_norm=sn, init_style=init,
                dtype=dtype)
  d = Discriminator(ch=model_config.get("d_ch", 64), attention=str(model_config.get("d_attn", "64")),
                    wide=bool(model_config.get("d_wide", True)), spectral_norm=sn, init_style=init, dtype=dtype,
                    heads=dict(d_heads))
  return g, d


def _counts(image_size, channels, num_classes, *, G_ch, D_ch, dim_z, G_shared, shared_dim, hier, G_attn, D_attn,
            D_wide) -> dict:
  _check_resolution(image_size)
  attention_resolutions(G_attn)
  attention_resolutions(D_attn)
  if hier and num_classes and not G_shared:
    raise UserError("biggan: hier needs G_shared (BigGAN-PyTorch's G cannot run hier without it)")
  z = jax.ShapeDtypeStruct((1, latent_dim(image_size, dim_z, hier)), jnp.float32)
  x = jax.ShapeDtypeStruct((1, image_size, image_size, channels), jnp.float32)
  cond = jax.ShapeDtypeStruct((1, num_classes), jnp.float32) if num_classes else None
  g = Generator(image_size=image_size, channels=channels, ch=G_ch, attention=str(G_attn), shared=bool(G_shared),
                shared_dim=shared_dim, hier=bool(hier))
  d = Discriminator(ch=D_ch, attention=str(D_attn), wide=bool(D_wide))
  return {"generator": summary.param_count(g, z, cond, train=False),
          "discriminator": summary.param_count(d, x, cond, train=False)}


@summary.FAMILIES.register("biggan")
def biggan_counts(image_size: int, channels: int, num_classes: int, G_ch: int = 96, D_ch: int = 96,
                  dim_z: int = 120, G_shared: bool = True, shared_dim: int = 128, hier: bool = True,
                  G_attn: str = "64", D_attn: str = "64", D_wide: bool = True) -> dict:
  """BigGAN-PyTorch's counts; defaults of scripts/launch_BigGAN_bs256x8.sh (128 px ImageNet: G 70,433,988,
  D 87,982,370). G_attn / D_attn like '32_64' (quote it for launch.summary: --arg G_attn="'32_64'")."""
  return _counts(image_size, channels, num_classes, G_ch=G_ch, D_ch=D_ch, dim_z=dim_z, G_shared=G_shared,
                 shared_dim=shared_dim, hier=hier, G_attn=G_attn, D_attn=D_attn, D_wide=D_wide)


@summary.FAMILIES.register("sagan")
def sagan_counts(image_size: int, channels: int, num_classes: int, G_ch: int = 64, D_ch: int = 64,
                 dim_z: int = 128, G_shared: bool = False, shared_dim: int = 0, hier: bool = False,
                 G_attn: str = "64", D_attn: str = "64", D_wide: bool = True) -> dict:
  """The SAGAN baseline of BigGAN-PyTorch (scripts/launch_SAGAN_bs128x2_ema.sh: the parser's defaults, attention
  at 64 in G and D, no shared embedding, no hierarchical z)."""
  return _counts(image_size, channels, num_classes, G_ch=G_ch, D_ch=D_ch, dim_z=dim_z, G_shared=G_shared,
                 shared_dim=shared_dim, hier=hier, G_attn=G_attn, D_attn=D_attn, D_wide=D_wide)
