"""Plain PyTorch CPU versions of the benchmarked train steps, to time side by side with JAX.

  /tmp/torchvenv/bin/python -m launch.torch_reference --model dcgan --image_size 64 [--steps N]
  /tmp/torchvenv/bin/python -m launch.torch_reference --model resnet18 [--batch_size 128]

Prints one JSON line: experiment, framework, threads, batch_size, ms_per_step (median after warm-up),
images_per_sec. torch is an optional dependency of this script only (not of the `gans` package).

The steps do the same work as the JAX ones (gans.train.gan_step, gans.train.classifier_step):
- dcgan: the DCGAN of gans.models.gan.dcgan (Radford et al. 2016) with BatchNorm, non-saturating loss
  and Adam(2e-4, 0.5, 0.999); one D update (G forward on fresh z without gradient, D on the real and
  the fake batch separately) then one G update on fresh z through the frozen D.
- resnet18: the CIFAR-style ResNet-18 (3x3 stride-1 stem, no max-pool; He et al. 2016) with SGD +
  Nesterov 0.9, weight decay 5e-4 and label-smoothed cross-entropy 0.1.
"""
import argparse
import json
import statistics
import sys
import time


def _import_torch():
  try:
    import torch  # pylint: disable=g-import-not-at-top
  except ImportError:
    sys.exit("launch.torch_reference needs PyTorch, an optional dependency: "
             "python3 -m venv /tmp/torchvenv && /tmp/torchvenv/bin/pip install torch numpy, "
             "then run this script with /tmp/torchvenv/bin/python")
  return torch


def dcgan_models(torch, image_size: int, channels: int, width: int = 64, z_dim: int = 100):
  """(G, D) with the layer sizes of gans.models.gan.dcgan for `image_size` 4*2^n or 7*2^n."""
  nn = torch.nn
  n = next(n for n in range(1, 8) for s in (4, 7) if s << n == image_size)
  start = image_size >> n

  class Generator(nn.Module):
    def __init__(self):
      super().__init__()
      c = width * 2 ** (n - 1)
      self.c, self.fc, self.bn = c, nn.Linear(z_dim, start * start * c, bias=False), nn.BatchNorm2d(c)
      layers = []
      for i in range(n - 1):
        out = width * 2 ** (n - 2 - i)
        # 4x4 stride 2, padding 1: out = 2 * in, like flax's 'SAME' transposed conv.
        layers += [nn.ConvTranspose2d(c, out, 4, 2, 1, bias=False), nn.BatchNorm2d(out), nn.ReLU()]
        c = out
      layers += [nn.ConvTranspose2d(c, channels, 4, 2, 1), nn.Tanh()]
      self.body = nn.Sequential(*layers)

    def forward(self, z):
      x = self.fc(z).view(z.shape[0], self.c, start, start)
      return self.body(torch.relu(self.bn(x)))

  layers, c = [], channels
  for i in range(n):
    out = width * 2 ** i
    layers.append(nn.Conv2d(c, out, 4, 2, 1, bias=i == 0))
    if i > 0:
      layers.append(nn.BatchNorm2d(out))
    layers.append(nn.LeakyReLU(0.2))
    c = out
  layers += [nn.Flatten(), nn.Linear(c * start * start, 1)]
  return Generator(), nn.Sequential(*layers)


def resnet18(torch, num_classes: int = 10, in_channels: int = 3):
  """ResNet-18 with the CIFAR stem, as gans.models.classifiers.resnet with small_inputs=True."""
  nn = torch.nn

  def conv_bn(cin, cout, k, stride):
    return [nn.Conv2d(cin, cout, k, stride, k // 2, bias=False), nn.BatchNorm2d(cout)]

  class Block(nn.Module):
    def __init__(self, cin, cout, stride):
      super().__init__()
      self.body = nn.Sequential(*conv_bn(cin, cout, 3, stride), nn.ReLU(), *conv_bn(cout, cout, 3, 1))
      self.short = (nn.Sequential(*conv_bn(cin, cout, 1, stride)) if stride != 1 or cin != cout
                    else nn.Identity())

    def forward(self, x):
      return torch.relu(self.body(x) + self.short(x))

  layers, c = [*conv_bn(in_channels, 64, 3, 1), nn.ReLU()], 64
  for i in range(4):
    for j in range(2):
      out = 64 * 2 ** i
      layers.append(Block(c, out, 2 if i > 0 and j == 0 else 1))
      c = out
  layers += [nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(c, num_classes)]
  return nn.Sequential(*layers)


def gan_step_fn(torch, image_size: int, channels: int, batch_size: int, z_dim: int = 100):
  """A closure running one DCGAN train step (D update, then G update) on a fixed real batch."""
  g, d = dcgan_models(torch, image_size, channels, z_dim=z_dim)
  for m in (*g.modules(), *d.modules()):  # Radford et al. 2016, sec. 4: N(0, 0.02)
    if isinstance(m, (torch.nn.Conv2d, torch.nn.ConvTranspose2d, torch.nn.Linear)):
      torch.nn.init.normal_(m.weight, 0.0, 0.02)
  g_opt = torch.optim.Adam(g.parameters(), 2e-4, betas=(0.5, 0.999))
  d_opt = torch.optim.Adam(d.parameters(), 2e-4, betas=(0.5, 0.999))
  real = torch.rand(batch_size, channels, image_size, image_size) * 2 - 1
  softplus = torch.nn.functional.softplus

  def step():
    with torch.no_grad():
      fake = g(torch.randn(batch_size, z_dim))
    d_opt.zero_grad(set_to_none=True)
    d_loss = softplus(-d(real)).mean() + softplus(d(fake)).mean()  # Goodfellow et al. 2014, eq. 1
    d_loss.backward()
    d_opt.step()
    d.requires_grad_(False)
    g_opt.zero_grad(set_to_none=True)
    g_loss = softplus(-d(g(torch.randn(batch_size, z_dim)))).mean()  # non-saturating, sec. 3
    g_loss.backward()
    g_opt.step()
    d.requires_grad_(True)
    return g_loss.item()

  return step


def classifier_step_fn(torch, image_size: int, channels: int, batch_size: int):
  """A closure running one ResNet-18 SGD step on a fixed batch."""
  model = resnet18(torch, 10, channels)
  opt = torch.optim.SGD(model.parameters(), 0.1, momentum=0.9, nesterov=True, weight_decay=5e-4)
  x = torch.rand(batch_size, channels, image_size, image_size) * 2 - 1
  y = torch.randint(0, 10, (batch_size,))
  loss_fn = torch.nn.CrossEntropyLoss(label_smoothing=0.1)

  def step():
    opt.zero_grad(set_to_none=True)
    loss = loss_fn(model(x), y)
    loss.backward()
    opt.step()
    return loss.item()

  return step


def run(model: str, image_size: int, channels: int, batch_size: int, steps: int, warmup: int = 2,
        threads: int = 0, channels_last: bool = False) -> dict:
  """Times `steps` train steps after `warmup`; returns the JSON-able figures."""
  torch = _import_torch()
  if threads:
    torch.set_num_threads(threads)
  torch.manual_seed(0)
  if model == "dcgan":
    step = gan_step_fn(torch, image_size, channels, batch_size)
  elif model == "resnet18":
    step = classifier_step_fn(torch, image_size, channels, batch_size)
  else:
    sys.exit(f"unknown model {model!r}; known: dcgan, resnet18")
  times = []
  for i in range(warmup + steps):
    t = time.perf_counter()
    step()
    if i >= warmup:
      times.append(time.perf_counter() - t)
  ms = statistics.median(times) * 1e3
  return {"experiment": f"{model}_{image_size}x{image_size}x{channels}", "framework": "pytorch",
          "torch_version": torch.__version__, "threads": torch.get_num_threads(),
          "batch_size": batch_size, "ms_per_step": round(ms, 2),
          "images_per_sec": round(batch_size / (ms / 1e3), 1)}


def main(argv=None):
  p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
  p.add_argument("--model", default="dcgan", choices=("dcgan", "resnet18"))
  p.add_argument("--image_size", type=int, default=None, help="dcgan: 28 or 64 (default 64); resnet18: 32")
  p.add_argument("--channels", type=int, default=None, help="default 1 for dcgan, 3 for resnet18")
  p.add_argument("--batch_size", type=int, default=None, help="default 64 for dcgan, 128 for resnet18")
  p.add_argument("--steps", type=int, default=10)
  p.add_argument("--threads", type=int, default=0, help="torch.set_num_threads (0: PyTorch's default)")
  a = p.parse_args(argv)
  gan = a.model == "dcgan"
  size = a.image_size or (64 if gan else 32)
  if gan and size not in {s << n for s in (4, 7) for n in range(1, 8)}:
    sys.exit(f"dcgan image_size must be 4 or 7 times a power of two, got {size}")
  print(json.dumps(run(a.model, size, a.channels or (1 if gan else 3), a.batch_size or (64 if gan else 128),
                       a.steps, threads=a.threads)))


if __name__ == "__main__":
  main()
