"""Separable vs full self-attention: forward+backward time and peak memory.

DVD-GAN section 3.2 motivates separable attention by memory: the largest tensor
drops from (HWT)^2 to max(H^2WT, HW^2T, HWT^2). Each configuration runs in its
own process so peak memory is not polluted by the previous one.

    python benchmarks/bench_attention.py            # B=2, C=64, T=16, 32x32
    python benchmarks/bench_attention.py --t 8 --hw 16
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import torch
from torch.nn.attention import SDPBackend, sdpa_kernel

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from _measure import PeakMemory, print_table, run_isolated, time_fn  # noqa: E402

from vidgan_blocks.layers import SelfAttention, SeparableSelfAttention  # noqa: E402

BACKENDS = {"auto": None, "math": [SDPBackend.MATH]}


def one(cfg: dict) -> dict:
    torch.manual_seed(0)
    torch.set_num_threads(cfg["threads"])
    device = torch.device(cfg["device"])
    cls = SeparableSelfAttention if cfg["kind"] == "separable" else SelfAttention
    m = cls(cfg["c"]).to(device)
    with torch.no_grad():
        for p in m.parameters():
            if p.dim() == 0:
                p.fill_(0.5)
    x = torch.randn(cfg["b"], cfg["c"], cfg["t"], cfg["hw"], cfg["hw"], device=device, requires_grad=True)

    def step() -> None:
        backend = BACKENDS[cfg["backend"]]
        if backend is None:
            m(x).square().mean().backward()
        else:
            with sdpa_kernel(backend):
                m(x).square().mean().backward()

    with PeakMemory(device) as mem:
        ms = time_fn(step, device, warmup=1, repeats=cfg["repeats"])
    return {**cfg, "ms": ms, "peak_mib": mem.mib}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--b", type=int, default=2)
    ap.add_argument("--c", type=int, default=64)
    ap.add_argument("--t", type=int, default=16)
    ap.add_argument("--hw", type=int, default=32)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--threads", type=int, default=torch.get_num_threads())
    ap.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    ap.add_argument("--one", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.one:
        print(json.dumps(one(json.loads(args.one))))
        return
    base = {k: getattr(args, k) for k in ("b", "c", "t", "hw", "repeats", "threads", "device")}
    rows = [
        run_isolated(__file__, {**base, "kind": kind, "backend": backend})
        for kind, backend in (("separable", "auto"), ("full", "auto"), ("separable", "math"), ("full", "math"))
    ]
    print_table(rows, ["kind", "backend", "b", "c", "t", "hw", "ms", "peak_mib", "error"])
    ok = {(r["kind"], r["backend"]): r for r in rows if "error" not in r}
    for backend in BACKENDS:
        s, f = ok.get(("separable", backend)), ok.get(("full", backend))
        if s and f:
            print(f"[{backend}] full / separable: time x{f['ms'] / s['ms']:.2f}, peak memory x{f['peak_mib'] / max(s['peak_mib'], 1e-9):.2f}")


if __name__ == "__main__":
    main()
