"""The PyTorch half of benchmarks/conv_vs_torch.py: the conv families' architectures and
training steps in PyTorch, run as a worker process by that script (with its
--torch_python). Imports torch, which is never a dependency of genjax: this module is
only ever run by an interpreter that has it.

Each model has the layer shapes and parameter count of the genjax config it mirrors
(the parameter count is printed beside genjax's), NCHW unless `channels_last` is
given, and a step of the same work: forward,
loss, backward, global-norm gradient clipping where the config clips, Adam, and the
parameter EMA where the config keeps one.

Worker protocol (stdin/stdout, one line each): started as
  python torch_conv_models.py MODEL BATCH THREADS [channels_last]
it builds the model, runs warm-up steps and prints `ready <params>`; then for every line
`run K` it runs K steps and prints the seconds per step; `quit` ends it.
"""

import math
import sys
import time

from conv_vs_torch import serve
import torch
from torch import nn
import torch.nn.functional as F

FORMAT = [torch.contiguous_format]  # main() sets torch.channels_last when asked


def _ema(model):
  return [p.detach().clone() for p in model.parameters()]


def _ema_update(ema, model, decay):
  with torch.no_grad():
    torch._foreach_mul_(ema, decay)
    torch._foreach_add_(ema, [p.detach() for p in model.parameters()], alpha=1 - decay)


class Trainer:
  """One network, its Adam, optional clipping and EMA."""

  def __init__(self, model, lr, betas=(0.9, 0.999), clip=None, ema_decay=0.0):
    self.model, self.clip, self.ema_decay = model, clip, ema_decay
    self.opt = torch.optim.Adam(model.parameters(), lr=lr, betas=betas, foreach=True)
    self.ema = _ema(model) if ema_decay else None

  def update(self, loss):
    self.opt.zero_grad(set_to_none=True)
    loss.backward()
    if self.clip:
      nn.utils.clip_grad_norm_(self.model.parameters(), self.clip, foreach=True)
    self.opt.step()
    if self.ema is not None:
      _ema_update(self.ema, self.model, self.ema_decay)


# ----------------------------------------------------------------- VAE (vae_digits:conv)


class ConvVAE(nn.Module):
  """genjax.nn.vae.VAE(backbone="conv", channels=(32, 64), latent_dim=2) on 28x28x1."""

  def __init__(self, latent=2, ch=(32, 64)):
    super().__init__()
    self.enc = nn.Sequential(
      nn.Conv2d(1, ch[0], 4, 2, 1), nn.ReLU(), nn.Conv2d(ch[0], ch[1], 4, 2, 1), nn.ReLU()
    )
    self.head = nn.Linear(7 * 7 * ch[1], 2 * latent)
    self.project = nn.Linear(latent, 7 * 7 * ch[1])
    self.dec = nn.Sequential(
      nn.ConvTranspose2d(ch[1], ch[1], 4, 2, 1),
      nn.ReLU(),
      nn.ConvTranspose2d(ch[1], ch[0], 4, 2, 1),
      nn.ReLU(),
      nn.Conv2d(ch[0], 1, 3, 1, 1),
    )
    self.ch = ch

  def forward(self, x):
    mean, logvar = self.head(self.enc(x).flatten(1)).chunk(2, dim=1)
    z = mean + torch.exp(0.5 * logvar) * torch.randn_like(mean)
    h = F.relu(self.project(z)).view(-1, self.ch[1], 7, 7)
    logits = self.dec(h)
    rec = F.binary_cross_entropy_with_logits(logits, x, reduction="none").flatten(1).sum(1)
    kl = 0.5 * (mean.square() + logvar.exp() - 1 - logvar).sum(1)
    return (rec + kl).mean()


def vae(batch):
  model = ConvVAE().to(memory_format=FORMAT[0])
  t = Trainer(model, 1e-3, clip=100.0, ema_decay=0.99)
  x = (torch.rand(batch, 1, 28, 28) < 0.3).float().contiguous(memory_format=FORMAT[0])
  return [model], lambda: t.update(model(x))


# ------------------------------------------------------------ PixelCNN (pixelcnn_digits)


class MaskedConv(nn.Conv2d):
  """genjax.nn.pixelcnn.MaskedConv (one colour): a (kh, kw) kernel holding only the
  causal rows, the last row cut after column `left` (mask A: the centre too)."""

  def __init__(self, cin, cout, kernel=(1, 1), left=0, mask="B"):
    super().__init__(cin, cout, kernel)
    kh, kw = kernel
    m = torch.ones(cout, cin, kh, kw)
    m[:, :, kh - 1, left + 1 :] = 0
    if mask == "A":
      m[:, :, kh - 1, left] = 0
    self.register_buffer("mask", m)
    self.pads = (left, kw - 1 - left, kh - 1, 0)

  def forward(self, x):
    return F.conv2d(F.pad(x, self.pads), self.weight * self.mask, self.bias)


class PixelCNN(nn.Module):
  def __init__(self, hidden=16, layers=5, k=3, k0=7, head=64):
    super().__init__()
    h = hidden
    self.conv_in = MaskedConv(1, 2 * h, (k0 // 2 + 1, k0), k0 // 2, "A")
    self.down = nn.ModuleList(MaskedConv(2 * h, h) for _ in range(layers))
    self.spatial = nn.ModuleList(MaskedConv(h, h, (k // 2 + 1, k), k // 2) for _ in range(layers))
    self.up = nn.ModuleList(MaskedConv(h, 2 * h) for _ in range(layers))
    self.head1, self.head2 = MaskedConv(2 * h, head), MaskedConv(head, 1)

  def forward(self, x):
    y = self.conv_in(x)
    for down, spatial, up in zip(self.down, self.spatial, self.up):
      t = F.relu(down(F.relu(y)))
      y = y + up(F.relu(spatial(t)))
    logits = self.head2(F.relu(self.head1(F.relu(y))))
    nll = F.binary_cross_entropy_with_logits(logits, x, reduction="none").flatten(1).sum(1)
    return nll.mean()


def pixelcnn(batch):
  model = PixelCNN().to(memory_format=FORMAT[0])
  t = Trainer(model, 1e-3, clip=10.0, ema_decay=0.99)
  x = (torch.rand(batch, 1, 28, 28) < 0.3).float().contiguous(memory_format=FORMAT[0])
  return [model], lambda: t.update(model(x))


# ------------------------------------------------------------------ DCGAN (dcgan_digits)


class Generator(nn.Module):
  def __init__(self, z=100, ch=(128, 64), size=16):
    super().__init__()
    self.s0, self.ch = size // 4, ch
    self.project = nn.Linear(z, self.s0 * self.s0 * ch[0])
    self.bn0 = nn.BatchNorm2d(ch[0], momentum=0.1)
    self.up = nn.ConvTranspose2d(ch[0], ch[1], 4, 2, 1)
    self.bn1 = nn.BatchNorm2d(ch[1], momentum=0.1)
    self.out = nn.ConvTranspose2d(ch[1], 1, 4, 2, 1)

  def forward(self, z):
    x = self.project(z).view(-1, self.ch[0], self.s0, self.s0)
    x = F.relu(self.bn0(x.contiguous(memory_format=FORMAT[0])))
    x = F.relu(self.bn1(self.up(x)))
    return torch.tanh(self.out(x))


class Discriminator(nn.Module):
  def __init__(self, ch=(64, 128), size=16):
    super().__init__()
    self.c0 = nn.Conv2d(1, ch[0], 4, 2, 1)
    self.c1 = nn.Conv2d(ch[0], ch[1], 4, 2, 1)
    self.bn1 = nn.BatchNorm2d(ch[1], momentum=0.1)
    self.out = nn.Linear((size // 4) ** 2 * ch[1], 1)

  def forward(self, x):
    x = F.leaky_relu(self.c0(x), 0.2)
    x = F.leaky_relu(self.bn1(self.c1(x)), 0.2)
    return self.out(x.flatten(1))[:, 0]


def dcgan(batch):
  g = Generator().to(memory_format=FORMAT[0])
  d = Discriminator().to(memory_format=FORMAT[0])
  tg = Trainer(g, 2e-4, betas=(0.5, 0.999))
  td = Trainer(d, 2e-4, betas=(0.5, 0.999))
  real = (torch.rand(batch, 1, 16, 16) * 2 - 1).contiguous(memory_format=FORMAT[0])
  bce = F.binary_cross_entropy_with_logits

  def step():
    # D step: G's forward in train mode without its gradient, D on real and fake.
    with torch.no_grad():
      fake = g(torch.rand(batch, 100) * 2 - 1)
    lr, lf = d(real), d(fake)
    td.update(bce(lr, torch.ones_like(lr)) + bce(lf, torch.zeros_like(lf)))
    # G step (non-saturating loss) through D; D's gradient is not kept.
    d.requires_grad_(False)
    lf = d(g(torch.rand(batch, 100) * 2 - 1))
    tg.update(bce(lf, torch.ones_like(lf)))
    d.requires_grad_(True)

  return [g, d], step


# ---------------------------------------------------------------- DDPM U-Net (ddpm_digits)


def timestep_embedding(t, dim):
  half = dim // 2
  freqs = torch.exp(-math.log(10000.0) * torch.arange(half, dtype=torch.float32) / (half - 1))
  args = t.float()[:, None] * freqs[None]
  return torch.cat([torch.sin(args), torch.cos(args)], dim=1)


class ResBlock(nn.Module):
  def __init__(self, cin, cout, temb, groups, dropout):
    super().__init__()
    self.n1, self.c1 = nn.GroupNorm(groups, cin, eps=1e-6), nn.Conv2d(cin, cout, 3, 1, 1)
    self.t = nn.Linear(temb, cout)
    self.n2, self.c2 = nn.GroupNorm(groups, cout, eps=1e-6), nn.Conv2d(cout, cout, 3, 1, 1)
    self.drop = nn.Dropout(dropout)
    self.skip = nn.Conv2d(cin, cout, 1) if cin != cout else None

  def forward(self, x, temb):
    h = self.c1(F.silu(self.n1(x)))
    h = h + self.t(F.silu(temb))[:, :, None, None]
    h = self.c2(self.drop(F.silu(self.n2(h))))
    return (self.skip(x) if self.skip is not None else x) + h


class AttnBlock(nn.Module):
  def __init__(self, ch, groups):
    super().__init__()
    self.n = nn.GroupNorm(groups, ch, eps=1e-6)
    self.q, self.k, self.v, self.o = (nn.Linear(ch, ch) for _ in range(4))

  def forward(self, x):
    b, c, hh, ww = x.shape
    h = self.n(x).flatten(2).transpose(1, 2)  # [B, HW, C]
    w = torch.softmax(self.q(h) @ self.k(h).transpose(1, 2) / math.sqrt(c), dim=-1)
    return x + self.o(w @ self.v(h)).transpose(1, 2).reshape(b, c, hh, ww)


class UNet(nn.Module):
  """genjax.nn.unet.UNet: same blocks, widths, attention resolutions and skips."""

  def __init__(self, ch=16, ch_mult=(1, 2), nres=2, attn=(4,), dropout=0.1, groups=8, size=8):
    super().__init__()
    self.ch, self.attn = ch, set(attn)
    tc = 4 * ch
    self.t1, self.t2 = nn.Linear(ch, tc), nn.Linear(tc, tc)
    self.conv_in = nn.Conv2d(1, ch, 3, 1, 1)
    self.down, chans, res, c = nn.ModuleList(), [ch], size, ch
    for level, mult in enumerate(ch_mult):
      for _ in range(nres):
        self.down.append(ResBlock(c, ch * mult, tc, groups, dropout))
        c = ch * mult
        if res in self.attn:
          self.down.append(AttnBlock(c, groups))
        chans.append(c)
      if level != len(ch_mult) - 1:
        self.down.append(nn.Conv2d(c, c, 3, 2, 1))
        chans.append(c)
        res //= 2
    self.mid = nn.ModuleList(
      [
        ResBlock(c, c, tc, groups, dropout),
        AttnBlock(c, groups),
        ResBlock(c, c, tc, groups, dropout),
      ]
    )
    self.up = nn.ModuleList()
    for level, mult in reversed(list(enumerate(ch_mult))):
      for _ in range(nres + 1):
        self.up.append(ResBlock(c + chans.pop(), ch * mult, tc, groups, dropout))
        c = ch * mult
        if res in self.attn:
          self.up.append(AttnBlock(c, groups))
      if level != 0:
        self.up.append(nn.Upsample(scale_factor=2, mode="nearest"))
        self.up.append(nn.Conv2d(c, c, 3, 1, 1))
        res *= 2
    self.n_out, self.conv_out = nn.GroupNorm(groups, c, eps=1e-6), nn.Conv2d(c, 1, 3, 1, 1)

  def forward(self, x, t):
    temb = self.t2(F.silu(self.t1(timestep_embedding(t, self.ch))))
    hs = [self.conv_in(x)]
    for m in self.down:
      if isinstance(m, ResBlock):
        hs.append(m(hs[-1], temb))
      elif isinstance(m, AttnBlock):
        hs[-1] = m(hs[-1])
      else:
        hs.append(m(hs[-1]))
    h = hs[-1]
    h = self.mid[2](self.mid[1](self.mid[0](h, temb)), temb)
    for m in self.up:
      if isinstance(m, ResBlock):
        h = m(torch.cat([h, hs.pop()], dim=1), temb)
      else:
        h = m(h)
    return self.conv_out(F.silu(self.n_out(h)))


def ddpm(batch, size=8, **unet):
  model = UNet(**{"attn": (size // 2,), **unet}, size=size).to(memory_format=FORMAT[0])
  t = Trainer(model, 1e-3, clip=1.0, ema_decay=0.999)
  betas = torch.linspace(1e-4, 0.02, 1000)
  abar = torch.cumprod(1 - betas, 0)
  x0 = (torch.rand(batch, 1, size, size) * 2 - 1).contiguous(memory_format=FORMAT[0])

  def step():
    tt = torch.randint(0, 1000, (batch,))
    eps = torch.randn_like(x0)
    a = abar[tt][:, None, None, None]
    pred = model(a.sqrt() * x0 + (1 - a).sqrt() * eps, tt)
    t.update((eps - pred).square().mean())

  return [model], step


MODELS = {
  "vae_conv": vae,
  "pixelcnn": pixelcnn,
  "dcgan": dcgan,
  "ddpm8": lambda b: ddpm(b, 8),
  "ddpm28": lambda b: ddpm(b, 28),
  "ddpm16": lambda b: ddpm(b, 16),
  # The 28x28 U-Net without its dropout and/or its attention blocks (conv_vs_torch.ABLATIONS)
  "ddpm28_nodrop": lambda b: ddpm(b, 28, dropout=0.0),
  "ddpm28_noattn": lambda b: ddpm(b, 28, attn=()),
  "ddpm28_plain": lambda b: ddpm(b, 28, dropout=0.0, attn=()),
}


def main():
  name, batch, threads = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
  if sys.argv[4:] == ["channels_last"]:
    FORMAT[0] = torch.channels_last
  torch.set_num_threads(threads)
  torch.manual_seed(0)
  models, step = MODELS[name](batch)
  for m in models:
    m.train()
  for _ in range(3):
    step()
  params = sum(p.numel() for m in models for p in m.parameters())

  def run(k):
    t = time.perf_counter()
    for _ in range(k):
      step()
    return (time.perf_counter() - t) / k

  serve(f"{params} torch {torch.__version__} threads {torch.get_num_threads()}", run)


if __name__ == "__main__":
  main()
