#!/usr/bin/env python3
"""Times PyTorch SDPA's FlashAttention-2 and cuDNN backends on the local GPU and prints rows in
the measured-timings format of validate/data/measured/README.md (one per pass and shape).

    python3 validate/probes/sdpa_timings.py OUT.csv

Shapes: the FlashAttention-2 paper's sweep (batch x seq = 16k tokens, heads x head_dim = 2048,
head_dim 64 and 128, seq 512-16k, causal and not), bf16, forward and backward. Timing:
triton.testing.do_bench, median, L2 cleared before each call (the clearing keeps the GPU busy
while the host issues the call, so host time stays hidden: caller `direct`). The backward row
times out.backward() (all of the backend's backward kernels) with the forward's graph retained.
Needs torch and triton; nothing from this project.
"""
import csv
import sys

import torch
import torch.nn.functional as F
from torch.nn.attention import SDPBackend, sdpa_kernel
from triton.testing import do_bench

BACKENDS = [(SDPBackend.FLASH_ATTENTION, "fa2"), (SDPBackend.CUDNN_ATTENTION, "cudnn")]
LENGTHS = [512, 1024, 2048, 4096, 8192, 16384]


def flops(batch, heads, seq, d, causal, backward):
    f = 4 * batch * heads * seq * seq * d / (2 if causal else 1)
    return f * (2.5 if backward else 1.0)


def main(path):
    name = torch.cuda.get_device_name(0)
    hw = name  # as the driver reports it: validate's reader resolves such names to profiles
    versions = "torch {}, CUDA {}, cuDNN {}, {}".format(
        torch.__version__, torch.version.cuda, torch.backends.cudnn.version(), name)
    fields = ["hw", "kernel", "pass", "dtype", "batch", "heads_q", "heads_kv", "head_dim",
              "seq_q", "seq_kv", "causal", "time_us", "tflops", "source", "caller"]
    # Each row is written as it is measured, so that a run cut short keeps what it timed.
    with open(path, "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=fields)
        w.writeheader()
        f.flush()
        for backend, kernel in BACKENDS:
            for d in (64, 128):
                heads = 2048 // d
                for seq in LENGTHS:
                    batch = 16384 // seq
                    for causal in (False, True):
                        time_shape(w, f, backend, kernel, hw, versions, batch, heads, seq, d,
                                   causal)


def time_shape(w, f, backend, kernel, hw, versions, batch, heads, seq, d, causal):
    torch.manual_seed(seq + d)
    q, k, v = (torch.randn(batch, heads, seq, d, device="cuda", dtype=torch.bfloat16,
                           requires_grad=True) for _ in range(3))

    def fwd():
        return F.scaled_dot_product_attention(q, k, v, is_causal=causal)

    def row(pass_, ms):
        tf = flops(batch, heads, seq, d, causal, pass_ == "bwd") / (ms * 1e-3) / 1e12
        print(f"{kernel:6} {pass_} d{d:<4} s{seq:<6} b{batch:<3} causal={int(causal)} "
              f"{ms * 1e3:10.1f} us {tf:7.1f} TFLOP/s", flush=True)
        w.writerow({
            "hw": hw, "kernel": kernel, "pass": pass_, "dtype": "bf16", "batch": batch,
            "heads_q": heads, "heads_kv": heads, "head_dim": d, "seq_q": seq, "seq_kv": seq,
            "causal": int(causal), "time_us": round(ms * 1e3, 2), "tflops": round(tf, 1),
            "source": "validate/probes/sdpa_timings.py, this project's run (PyTorch SDPA "
                      f"backend {backend.name}; {versions})",
            "caller": "direct"})
        f.flush()

    # A backend that refuses a shape or a pass: say so and go on.
    with sdpa_kernel([backend]):
        try:
            row("fwd", do_bench(fwd, warmup=25, rep=100, return_mode="median"))
        except Exception as e:
            print(f"skipped {kernel} fwd d{d} s{seq} causal={causal}: {e}", file=sys.stderr)
            return
        try:
            out = fwd()
            dout = torch.randn_like(out)
            row("bwd", do_bench(lambda: out.backward(dout, retain_graph=True), warmup=25,
                                rep=100, grad_to_none=[q, k, v], return_mode="median"))
        except Exception as e:
            print(f"skipped {kernel} bwd d{d} s{seq} causal={causal}: {e}", file=sys.stderr)


if __name__ == "__main__":
    main(sys.argv[1])
