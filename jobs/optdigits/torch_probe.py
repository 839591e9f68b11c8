#!/usr/bin/python3
"""Architecture probe for the study's open cell (docs/OPTDIGITS.md, session 44): not a product path.

  torch_probe.py SPLITDIR ARCH [--train train-shift.csv] [--steps 15000] [--channels 32]
                 [--threads 2] [--chains 64]

Trains one σ-conditioned denoiser in PyTorch (Debian: apt-get install python3-torch
libopenblas0-pthread) with edm-narrow's recipe (prior-narrow.toml: EDM preconditioning of Karras
et al. 2022 with σ_d the data's root-mean-square spread about the column means, log σ ~
N(−1.9, 0.35²), Adam 1e-3 with 500 warm-up steps and cosine decay, EMA 0.999, dropout 0.1,
batch 256, seed 0) on SPLITDIR/--train, then prints the consistency check of consistency.py:
Tweedie's mean y + σ_y² s(y; σ_y) against the mean of --chains reverse-diffusion chains started
at x_σy = y on ve-pc's geometric grid (200 points from σ 5 to σ_min 0.1, the points below σ_y),
denoised at σ_min, on the validation digits (val.csv / val_y_denoise.csv) and on the first 300
training digits (noise drawn with numpy seed 11). ARCH:
  mlp   three hidden layers of 512 SiLU units, e(log σ) concatenated to each (as the product's
        --embedding 16; a control for the PyTorch recipe against the product's edm-narrow-shift)
  emlp  the same MLP as a scalar potential Φ(u; σ) with F = ∇_u Φ: a conservative score at every
        σ (Salimans & Ho 2021, "Should EBMs model the energy or the score?")
  conv  3×3 convolutions on the 8×8 grid (zero padding), --channels C, four residual blocks
        h ← h + conv(SiLU(h + U_b e(log σ))) with a per-block, per-channel embedding of log σ
        (the NCSN++ time embedding, Song et al. 2021) and a learned per-pixel bias
It answers one question — does a network with translation structure make the noised scores one
family on split A's writers? — before the product grows a layer type for it.
"""
import math
import sys
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

SIGMA_Y, K = 0.2, 16


def emb(ls):
    om = 0.25 * 64.0 ** (torch.arange(K) / (K - 1))
    a = ls[:, None] * om[None]
    return torch.cat([ls[:, None], a.sin(), a.cos()], 1)


class Mlp(nn.Module):
    def __init__(self, width=512, layers=3, out=64):
        super().__init__()
        e = 1 + 2 * K
        self.layers = nn.ModuleList([nn.Linear((64 if i == 0 else width) + e, width)
                                     for i in range(layers)])
        self.head = nn.Linear(width, out)
        self.drop = nn.Dropout(0.1)

    def forward(self, z, ls):
        e, h = emb(ls), z
        for layer in self.layers:
            h = self.drop(F.silu(layer(torch.cat([h, e], 1))))
        return self.head(h)


class EnergyMlp(nn.Module):
    def __init__(self):
        super().__init__()
        self.phi = Mlp(out=1)

    def forward(self, z, ls):
        with torch.enable_grad():
            u = z if z.requires_grad else z.detach().requires_grad_(True)
            return torch.autograd.grad(self.phi(u, ls).sum(), u, create_graph=self.training)[0]


class Conv(nn.Module):
    def __init__(self, c=32, blocks=4):
        super().__init__()
        self.c, self.blocks = c, blocks
        self.inp = nn.Conv2d(1, c, 3, padding=1)
        self.emb = nn.Sequential(nn.Linear(1 + 2 * K, 128), nn.SiLU(),
                                 nn.Linear(128, c * (blocks + 1)))
        self.convs = nn.ModuleList([nn.Conv2d(c, c, 3, padding=1) for _ in range(blocks)])
        self.out = nn.Conv2d(c, 1, 3, padding=1)
        self.drop = nn.Dropout(0.1)
        self.pos = nn.Parameter(torch.zeros(1, c, 8, 8))

    def forward(self, z, ls):
        b = z.shape[0]
        eb = self.emb(emb(ls)).view(b, self.blocks + 1, self.c, 1, 1)
        h = self.inp(z.view(b, 1, 8, 8)) + eb[:, 0] + self.pos
        for j, conv in enumerate(self.convs):
            h = h + self.drop(conv(F.silu(h + eb[:, j + 1])))
        return self.out(F.silu(h)).view(b, 64)


def load(path):
    return np.loadtxt(path, delimiter=",", skiprows=1, dtype=np.float64)


def psnr(a, b):
    return 10 * math.log10(1 / np.mean((a - b) ** 2))


def main(argv):
    if len(argv) < 2 or argv[1] not in ("mlp", "emlp", "conv"):
        raise SystemExit(__doc__)
    split, arch = argv[0], argv[1]
    opts = {"--train": "train-shift.csv", "--steps": "15000", "--channels": "32",
            "--threads": "2", "--chains": "64"}
    for i in range(2, len(argv), 2):
        if argv[i] not in opts or i + 1 >= len(argv):
            raise SystemExit(__doc__)
        opts[argv[i]] = argv[i + 1]
    torch.set_num_threads(int(opts["--threads"]))
    steps, chains = int(opts["--steps"]), int(opts["--chains"])
    x_train = load(f"{split}/{opts['--train']}")
    mu = x_train.mean(0)
    sd = float(np.sqrt(((x_train - mu) ** 2).mean()))
    torch.manual_seed(0)
    net = {"mlp": Mlp, "emlp": EnergyMlp,
           "conv": lambda: Conv(int(opts["--channels"]))}[arch]()
    print(f"{arch}: {sum(p.numel() for p in net.parameters())} parameters, sigma_d {sd:.4f}",
          flush=True)

    def denoise(z, sig):  # D(z; σ) = c_skip z + c_out F(c_in z; log σ), z centred
        s2, d2 = sig ** 2, sd * sd
        c_in, c_skip = 1 / torch.sqrt(s2 + d2), d2 / (s2 + d2)
        c_out = sig * sd / torch.sqrt(s2 + d2)
        return c_skip[:, None] * z + c_out[:, None] * net(c_in[:, None] * z, torch.log(sig))

    data = torch.tensor(x_train - mu, dtype=torch.float32)
    ema = [p.detach().clone() for p in net.parameters()]
    opt = torch.optim.Adam(net.parameters(), lr=1e-3)
    gen = torch.Generator().manual_seed(0)
    start = time.time()
    for it in range(steps):
        lr = 1e-3 * min(1, (it + 1) / 500) * 0.5 * (1 + math.cos(math.pi * it / steps))
        for group in opt.param_groups:
            group["lr"] = lr
        x = data[torch.randint(0, data.shape[0], (256,), generator=gen)]
        sig = torch.exp(-1.9 + 0.35 * torch.randn(256, generator=gen)).clamp(0.01, 5)
        noisy = x + sig[:, None] * torch.randn(256, 64, generator=gen)
        weight = (sig ** 2 + sd * sd) / (sig * sd) ** 2  # unit weight in F's units
        loss = (weight[:, None] * (denoise(noisy, sig) - x) ** 2).sum(1).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
        with torch.no_grad():
            for e, p in zip(ema, net.parameters()):
                e.mul_(0.999).add_(p, alpha=0.001)
        if it % 1000 == 0:
            print(f"step {it} loss {float(loss):.3f} {time.time() - start:.0f} s", flush=True)
    print(f"trained {steps} steps in {time.time() - start:.0f} s", flush=True)
    with torch.no_grad():
        for e, p in zip(ema, net.parameters()):
            p.copy_(e)
    net.eval()

    grid = [5 * (0.1 / 5) ** (i / 199) for i in range(200)]
    levels = [SIGMA_Y] + [s for s in grid if s < SIGMA_Y]

    @torch.no_grad()
    def means(y):
        z0 = torch.tensor(y - mu, dtype=torch.float32)
        tweedie = denoise(z0, torch.full((len(y),), SIGMA_Y)).numpy() + mu
        gen = torch.Generator().manual_seed(1)
        total, block = np.zeros_like(y), 16
        for _ in range(chains // block):
            z = z0.repeat(block, 1)
            for a, b in zip(levels[:-1], levels[1:]):
                score = (denoise(z, torch.full((z.shape[0],), a)) - z) / a ** 2
                z = z + (a * a - b * b) * score + math.sqrt(a * a - b * b) * torch.randn(
                    z.shape, generator=gen)
            d = denoise(z, torch.full((z.shape[0],), levels[-1])).numpy()
            total += d.reshape(block, len(y), 64).sum(0)
        return tweedie, total / (block * (chains // block)) + mu

    val, y_val = load(f"{split}/val.csv"), load(f"{split}/val_y_denoise.csv")
    train = load(f"{split}/train.csv")[:300]
    y_train = train + SIGMA_Y * np.random.default_rng(11).standard_normal(train.shape)
    print("| network | digits | Tweedie | ve-pc to σ 0.1 | ve-pc − Tweedie |")
    print("|---|---|---|---|---|")
    for name, y, truth in [(f"validation ({len(val)})", y_val, val),
                           (f"training ({len(train)})", y_train, train)]:
        tw, vp = means(y)
        a, b = psnr(tw, truth), psnr(vp, truth)
        print(f"| torch {arch} | {name} | {a:.2f} | {b:.2f} | {b - a:+.2f} |", flush=True)


if __name__ == "__main__":
    main(sys.argv[1:])
