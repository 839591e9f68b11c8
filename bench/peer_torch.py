#!/usr/bin/python3
"""Peer measurements in PyTorch (Debian's python3-torch 1.13, OpenBLAS) for the same shapes as
scorematch_bench, so both can be run side by side on one machine (docs/PERFORMANCE.md, "Against
PyTorch"). Not part of the test suite; needs `apt-get install python3-torch`.

  /usr/bin/python3 bench/peer_torch.py [--threads 2] [--dtype float64] [--min-time 1.0]

Workloads (energy MLP phi: d -> 128 -> 128 -> 128 -> 1, softplus, batch 256; times per step of
forward + loss + theta-gradient, no optimiser update, like BM_TrainStep):
  ism-autograd  0.5|grad phi|^2 - Laplacian, the Laplacian by d double-backward passes
  ism-forward   the same loss with a forward Laplacian (value, d tangents, second-order sum per
                layer; Li et al. 2023), written in PyTorch: the method scorematch uses
  ssm           one Rademacher projection: 0.5 (v.grad phi)^2 - v^T H v  (double backward)
  dsm           single sigma = 0.1, lambda = sigma^2: 0.5 sigma^2 |-grad phi(x~) + (x~ - x)/sigma^2|^2
  ula           one ULA step of 1024 chains with the score -grad phi by autograd (chain-steps/s)
"""
import argparse
import math
import time

import torch


def mlp(d, width=128, depth=3, dtype=torch.float64, seed=1):
    g = torch.Generator().manual_seed(seed)
    dims = [d] + [width] * depth + [1]
    params = []
    for a, b in zip(dims[:-1], dims[1:]):
        w = (torch.randn(b, a, generator=g, dtype=dtype) / math.sqrt(a)).requires_grad_()
        params += [w, torch.zeros(b, dtype=dtype, requires_grad=True)]
    return params


def energy(params, x):
    h = x
    n = len(params) // 2
    for l in range(n):
        h = h @ params[2 * l].T + params[2 * l + 1]
        if l < n - 1:
            h = torch.nn.functional.softplus(h)
    return h[:, 0]


def grad_phi(params, x, create_graph=True):
    x = x.requires_grad_() if not x.requires_grad else x
    (g,) = torch.autograd.grad(energy(params, x).sum(), x, create_graph=create_graph)
    return g


def ism_autograd(params, x):
    x = x.clone().requires_grad_()
    g = grad_phi(params, x)
    lap = 0
    for k in range(x.shape[1]):
        (hk,) = torch.autograd.grad(g[:, k].sum(), x, create_graph=True)
        lap = lap + hk[:, k]
    loss = (0.5 * (g * g).sum(1) - lap).mean()
    loss.backward()
    return loss


def ism_forward(params, x):
    # Forward Laplacian: carry (value h, tangents J [B, d, n], second-order sum L [B, n]).
    B, d = x.shape
    n_layers = len(params) // 2
    W0, b0 = params[0], params[1]
    a = x @ W0.T + b0
    J = W0.T.unsqueeze(0).expand(B, d, W0.shape[0])  # d/dx_k of a = W0[:, k]
    L = torch.zeros_like(a)
    for l in range(1, n_layers):
        s = torch.sigmoid(a)
        s1, s2 = s, s * (1 - s)
        h = torch.nn.functional.softplus(a)
        L = s1 * L + s2 * (J * J).sum(1)
        J = s1.unsqueeze(1) * J
        W, b = params[2 * l], params[2 * l + 1]
        a = h @ W.T + b
        J = J @ W.T
        L = L @ W.T
    grad = J[:, :, 0]
    lap = L[:, 0]
    loss = (0.5 * (grad * grad).sum(1) - lap).mean()
    loss.backward()
    return loss


def ssm(params, x, gen):
    x = x.clone().requires_grad_()
    v = torch.randint(0, 2, x.shape, generator=gen, dtype=x.dtype) * 2 - 1
    g = grad_phi(params, x)
    vg = (v * g).sum(1)
    (hv,) = torch.autograd.grad(vg.sum(), x, create_graph=True)
    loss = (0.5 * vg * vg - (v * hv).sum(1)).mean()
    loss.backward()
    return loss


def dsm(params, x, gen, sigma=0.1):
    noise = torch.randn(x.shape, generator=gen, dtype=x.dtype)
    xt = (x + sigma * noise).requires_grad_()
    g = grad_phi(params, xt)
    r = -g + (xt - x) / sigma**2
    loss = (0.5 * sigma**2 * (r * r).sum(1)).mean()
    loss.backward()
    return loss


def ula_step(params, x, gen, alpha=1e-3):
    with torch.enable_grad():
        xg = x.detach().requires_grad_()
        (g,) = torch.autograd.grad(energy(params, xg).sum(), xg)
    return x - alpha * g + math.sqrt(2 * alpha) * torch.randn(x.shape, generator=gen, dtype=x.dtype)


def timeit(fn, min_time):
    fn()  # warm-up
    n, t0 = 0, time.perf_counter()
    while True:
        fn()
        n += 1
        elapsed = time.perf_counter() - t0
        if elapsed >= min_time and n >= 3:
            return elapsed / n


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--dtype", default="float64", choices=["float64", "float32"])
    ap.add_argument("--min-time", type=float, default=1.0)
    ap.add_argument("--dims", default="2,16,64,256")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    dtype = getattr(torch, args.dtype)
    gen = torch.Generator().manual_seed(3)
    print(f"# torch {torch.__version__}, {args.threads} threads, {args.dtype}, batch 256, 3x128 softplus")
    print("workload,d,ms_per_step,per_second")
    for d in [int(v) for v in args.dims.split(",")]:
        params = mlp(d, dtype=dtype)
        x = torch.randn(256, d, generator=gen, dtype=dtype)

        def step(f):
            def run():
                for p in params:
                    p.grad = None
                f()

            return run

        work = {
            "ism-forward": step(lambda: ism_forward(params, x)),
            "ssm": step(lambda: ssm(params, x, gen)),
            "dsm": step(lambda: dsm(params, x, gen)),
        }
        if d <= 64:
            work["ism-autograd"] = step(lambda: ism_autograd(params, x))
        for name, fn in work.items():
            t = timeit(fn, args.min_time)
            print(f"{name},{d},{t * 1e3:.3f},{256 / t:.0f}", flush=True)
        if d in (2, 64):
            chains = [torch.randn(1024, d, generator=gen, dtype=dtype)]

            def ula():
                chains[0] = ula_step(params, chains[0], gen)

            t = timeit(ula, args.min_time)
            print(f"ula,{d},{t * 1e3:.3f},{1024 / t:.0f}", flush=True)


if __name__ == "__main__":
    main()
