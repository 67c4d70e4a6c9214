"""Seconds per training epoch: MLP Studio's engine vs PyTorch CPU vs the GEMMs alone.

Each system runs in its own process; the parent interleaves them in short slices of a
quarter of an epoch (engine, torch, gemm, then torch, gemm, engine, ...: the order rotates), so
that the slow spells of this virtual machine (seconds long; in them the second core barely
helps a 2-thread GEMM, which then runs up to 1.6x slower) hit neighbouring slices alike.
Between slices it pauses 0.3 s: a child's idle BLAS/OpenMP threads spin for up to ~0.1 s after
its last call, and without the pause they took one of the two cores from the next system
(engine/gemm read 1.3-2.0 instead of 1.27-1.30). Each
ratio is the median over rounds of the ratio within a round, and rounds in which the GEMM
slice ran more than 15 % slower than the fastest GEMM slices are left out as disturbed (their
number is printed). Seconds per epoch are medians of slices, scaled to a whole epoch. Before
timing, it checks that the engine and PyTorch compute the same thing: same initial weights,
same batches -> same losses.

    python benchmarks/bench_epoch.py                       # paper architecture, batch 128
    python benchmarks/bench_epoch.py --hidden 1024 1024    # large architecture
    python benchmarks/bench_epoch.py --batch-size 6000     # the paper's near-full-batch study
    python benchmarks/bench_epoch.py --all                 # the three, then evaluation and load timings
    python benchmarks/bench_epoch.py --epochs 12           # more rounds (default 8 epochs' worth)
    python benchmarks/bench_epoch.py --baseline HEAD~3     # also the engine of 3 commits ago: before/after

PyTorch is optional (``pip install torch==2.13.0`` installs a CPU build on this machine).
Needs the real Fashion-MNIST (``MLP_STUDIO_DATA``); falls back to random data of the same
shape with a warning.
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time

import numpy as np

N_TRAIN = 60_000
PAUSE = 0.3  # seconds between slices (see measure)


def load_inputs():
    from mlp_engine import load_dataset
    from mlp_engine.preprocessing import Preprocessor

    try:
        d = load_dataset("fashion-mnist")
        X, y = d.X_train, d.y_train
    except FileNotFoundError:
        print("warning: Fashion-MNIST not found; timing random data of the same shape", file=sys.stderr)
        rng = np.random.default_rng(0)
        X, y = rng.integers(0, 256, (N_TRAIN, 784), dtype=np.uint8), rng.integers(0, 10, N_TRAIN)
    return X, Preprocessor("log").transform(X), y.astype(np.int64)


def batches(epoch, n, bs):
    perm = np.random.default_rng(1000 + epoch).permutation(n)
    return [perm[i : i + bs] for i in range(0, n, bs)]


# ---- child processes: one system each --------------------------------------------------------
class EngineSystem:
    def __init__(self, sizes, bs, lr):
        from mlp_engine import TrainConfig, Trainer

        X_raw, _, y = load_inputs()
        data = type("D", (), dict(X_train=X_raw, y_train=y, X_test=None, y_test=None, class_names=tuple("0123456789")))
        cfg = TrainConfig(hidden=tuple(sizes[1:-1]), batch_size=bs, lr=lr, epochs=10_000, eval_train=False, preprocess="log")
        self.trainer = Trainer(cfg, data)
        self.run = self.trainer.run()

    def batches(self, count):
        """Train ``count`` batches (an epoch's end, when crossed, is part of the time)."""
        from mlp_engine import BatchReport

        t0 = time.perf_counter()
        done = 0
        for r in self.run:
            if isinstance(r, BatchReport):
                done += 1
                if done == count:
                    break
        return time.perf_counter() - t0


class GemmSystem:
    """Only the matrix products of one training epoch, into preallocated outputs."""

    def __init__(self, sizes, bs, lr):
        rng = np.random.default_rng(0)
        self.Ws = [rng.standard_normal((a, b), dtype=np.float32) * 0.01 for a, b in zip(sizes[:-1], sizes[1:])]
        self.bs, self.sizes = bs, sizes
        _, self.X, _ = load_inputs()

        self.b = 0  # batch index within the epoch
        self.bufs = {}

    def _buffers(self, bs):
        if bs not in self.bufs:
            xb = np.ascontiguousarray(self.X[:bs])
            hs = [xb] + [np.empty((bs, w.shape[1]), np.float32) for w in self.Ws]
            ds = [np.empty((bs, w.shape[0]), np.float32) for w in self.Ws]
            gs = [np.empty_like(w) for w in self.Ws]
            self.bufs[bs] = hs, ds, gs
        return self.bufs[bs]

    def batches(self, count):
        n_batches = -(-N_TRAIN // self.bs)
        last = N_TRAIN - (n_batches - 1) * self.bs
        for bs in {self.bs, last}:
            self._buffers(bs)
        t0 = time.perf_counter()
        for _ in range(count):
            hs, ds, gs = self.bufs[self.bs if self.b < n_batches - 1 else last]
            for i, w in enumerate(self.Ws):
                np.matmul(hs[i], w, out=hs[i + 1])
            d = hs[-1]
            for i in reversed(range(len(self.Ws))):
                np.matmul(hs[i].T, d, out=gs[i])
                if i:
                    np.matmul(d, self.Ws[i].T, out=ds[i])
                    d = ds[i]
            self.b = (self.b + 1) % n_batches
        return time.perf_counter() - t0


class TorchSystem:
    def __init__(self, sizes, bs, lr):
        import torch

        torch.set_num_threads(int(os.environ.get("BENCH_THREADS", "2")))
        _, X, y = load_inputs()
        self.X, self.y = torch.from_numpy(X), torch.from_numpy(y)
        layers = []
        for i, (a, b) in enumerate(zip(sizes[:-1], sizes[1:])):
            layers.append(torch.nn.Linear(a, b))
            if i < len(sizes) - 2:
                layers.append(torch.nn.ReLU())
        self.model = torch.nn.Sequential(*layers)
        self.opt = torch.optim.SGD(self.model.parameters(), lr=lr, momentum=0.9)
        self.loss = torch.nn.CrossEntropyLoss()
        self.bs, self.i = bs, N_TRAIN
        self.torch = torch

    def batches(self, count):
        t0 = time.perf_counter()
        for _ in range(count):
            if self.i >= N_TRAIN:
                self.perm, self.i = self.torch.randperm(N_TRAIN), 0
            idx = self.perm[self.i : self.i + self.bs]
            self.i += self.bs
            self.opt.zero_grad(set_to_none=False)
            loss = self.loss(self.model(self.X[idx]), self.y[idx])
            loss.backward()
            self.opt.step()
        return time.perf_counter() - t0


SYSTEMS = {"engine": EngineSystem, "torch": TorchSystem, "gemm": GemmSystem}


def child(name, sizes, bs, lr):
    system = SYSTEMS[name](sizes, bs, lr)
    print("ready", flush=True)
    for line in sys.stdin:
        words = line.split()
        if len(words) != 2 or words[0] != "go":
            break
        print(json.dumps(system.batches(int(words[1]))), flush=True)


# ---- equivalence check ---------------------------------------------------------------------
def check_same_computation(sizes, bs, lr, n_batches=30):
    """Engine and PyTorch from the same weights on the same batches give the same losses."""
    import torch

    from mlp_engine import MLP, Momentum

    _, X, y = load_inputs()
    net = MLP(sizes, seed=0)
    opt = Momentum(net.parameters(), lr=lr, momentum=0.9)
    layers = []
    for i, (a, b) in enumerate(zip(sizes[:-1], sizes[1:])):
        lin = torch.nn.Linear(a, b)
        with torch.no_grad():
            lin.weight.copy_(torch.from_numpy(net.parameters()[2 * i].T.copy()))
            lin.bias.copy_(torch.from_numpy(net.parameters()[2 * i + 1]))
        layers += [lin] + ([torch.nn.ReLU()] if i < len(sizes) - 2 else [])
    model = torch.nn.Sequential(*layers)
    topt = torch.optim.SGD(model.parameters(), lr=lr, momentum=0.9)
    worst = 0.0
    acc = opt.accumulators()  # the Trainer's path: gradients GEMM'd straight into the velocities
    grads = [acc[i][0] if i in acc else g for i, g in enumerate(net._grads)]
    for idx in batches(0, N_TRAIN, bs)[:n_batches]:
        le = net._train_step(np.ascontiguousarray(X[idx]), y[idx], acc)
        opt.step(grads)
        topt.zero_grad()
        lt = torch.nn.functional.cross_entropy(model(torch.from_numpy(X[idx])), torch.from_numpy(y[idx]))
        lt.backward()
        topt.step()
        worst = max(worst, abs(le - lt.item()) / abs(lt.item()))
    return worst


def export_revision(rev: str) -> str:
    """``mlp_engine/`` as of git revision ``rev``, extracted into a temporary folder (kept until exit)."""
    import atexit
    import shutil
    import tempfile

    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    out = tempfile.mkdtemp(prefix="bench-baseline-")
    atexit.register(shutil.rmtree, out, True)
    archive = subprocess.run(["git", "-C", root, "archive", rev, "mlp_engine"], capture_output=True, check=False)
    if archive.returncode:
        raise SystemExit(f"cannot export mlp_engine/ at {rev!r}: {archive.stderr.decode().strip()}")
    subprocess.run(["tar", "-x", "-C", out], input=archive.stdout, check=True)
    return out


def measure(sizes, bs, lr, epochs, systems, slices_per_epoch=4, baseline_dir=None):
    """Slice times per system, one list entry per round (all systems ran one slice each).

    ``engine@REV`` is the engine as of git revision REV, imported from ``baseline_dir``."""
    procs = {}
    for name in systems:
        env = dict(os.environ)
        if name.startswith("engine@"):
            env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(baseline_dir), env.get("PYTHONPATH")]))
        p = subprocess.Popen(
            [sys.executable, __file__, "--child", name.split("@")[0], "--hidden", *map(str, sizes[1:-1]),
             "--batch-size", str(bs), "--lr", str(lr)],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, env=env,
        )
        if p.stdout.readline().strip() != "ready":
            raise SystemExit(f"{name} failed to start")
        procs[name] = p
    n_batches = -(-N_TRAIN // bs)
    per_slice = -(-n_batches // slices_per_epoch)
    names = list(procs)

    def run_slice(name, count):
        # BLAS and OpenMP worker threads spin for up to ~0.1 s after their last call before
        # they sleep; a pause lets the previous system's threads go quiet so that they do not
        # compete for the two cores with this slice.
        time.sleep(PAUSE)
        procs[name].stdin.write(f"go {count}\n")
        procs[name].stdin.flush()
        return json.loads(procs[name].stdout.readline())

    for name in names:  # warm-up: one epoch each, not timed
        run_slice(name, n_batches)
    times = {name: [] for name in names}
    for r in range(epochs * slices_per_epoch):
        order = names[r % len(names):] + names[: r % len(names)]
        for name in order:
            times[name].append(run_slice(name, per_slice))
    for p in procs.values():
        p.stdin.close()
        p.wait()
    return times, n_batches / per_slice


def gemm_flops(sizes, n=N_TRAIN):
    fwd = sum(a * b for a, b in zip(sizes[:-1], sizes[1:]))
    bwd_dx = sum(a * b for a, b in zip(sizes[1:-1], sizes[2:]))
    return 2 * n * (2 * fwd + bwd_dx)


def report(sizes, bs, lr, epochs, baseline=None):
    """One architecture; ``baseline`` is ``(rev, folder)`` from :func:`export_revision`, or None."""
    try:
        import torch  # noqa: F401

        systems = ["engine", "torch", "gemm"]
        worst = check_same_computation(sizes, bs, lr)
        check = f"engine vs PyTorch, 30 batches from the same weights: max relative loss difference {worst:.2e}"
        if worst > 1e-3:
            raise SystemExit("engine and PyTorch disagree: " + check)
    except ImportError:
        systems, check = ["engine", "gemm"], "PyTorch not installed: engine vs GEMMs only"
    baseline_dir = None
    if baseline:
        rev, baseline_dir = baseline
        systems.insert(1, f"engine@{rev}")
    times, scale = measure(sizes, bs, lr, epochs, systems, baseline_dir=baseline_dir)
    gemm = np.array(times["gemm"])
    calm = gemm <= 1.15 * np.percentile(gemm, 10)  # rounds without a slow spell
    if calm.sum() < max(4, len(gemm) // 4):
        calm[:] = True  # too few calm rounds to be choosy: keep them all, and say so
    med = {k: statistics.median(np.array(v)[calm]) * scale for k, v in times.items()}
    flops = gemm_flops(sizes)
    arch = "-".join(map(str, sizes))
    print(f"\n## {arch}, batch {bs} ({len(gemm)} rounds of a quarter epoch, interleaved; "
          f"{int((~calm).sum())} disturbed rounds left out)\n{check}")
    print("| system | s/epoch (median) | samples/s | GEMM GFLOP/s |")
    print("|---|---|---|---|")
    for k, v in med.items():
        print(f"| {k} | {v:.3f} | {N_TRAIN / v:,.0f} | {flops / v / 1e9:.1f} |")
    ratios = {}
    for k in med:
        if k == "engine":
            continue
        r = np.array(times["engine"])[calm] / np.array(times[k])[calm]
        ratios[f"engine / {k}"] = float(np.median(r))
        q1, q3 = np.percentile(r, [25, 75])
        print(f"engine / {k}: median of paired ratios {np.median(r):.3f} (quartiles {q1:.3f}-{q3:.3f})")
    return med, ratios


def eval_and_load_timings():
    from mlp_engine import MLP, load_dataset
    from mlp_engine.preprocessing import Preprocessor

    d = load_dataset("fashion-mnist")  # warm the cache
    t = []
    for _ in range(5):
        t0 = time.perf_counter()
        load_dataset("fashion-mnist")
        t.append(time.perf_counter() - t0)
    net = MLP([784, 256, 128, 10])
    net.preprocessor = Preprocessor("log")
    e = []
    for _ in range(7):
        t0 = time.perf_counter()
        net.predict(d.X_test, preprocessed=False)
        e.append(time.perf_counter() - t0)
    print(f"\nload_dataset (cached), median of 5: {statistics.median(t):.3f} s")
    print(f"evaluate 10,000 test images (784-256-128-10, incl. preprocessing), median of 7: {statistics.median(e):.3f} s")


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--hidden", type=int, nargs="*", default=[256, 128])
    ap.add_argument("--batch-size", type=int, default=128)
    ap.add_argument("--lr", type=float, default=0.01)
    ap.add_argument("--epochs", type=int, default=8, help="timed epochs per system (each in 4 slices)")
    ap.add_argument("--all", action="store_true")
    ap.add_argument("--child")
    ap.add_argument("--baseline", metavar="REV",
                    help="also time the engine as of this git revision (e.g. HEAD~3): before vs after in one run")
    a = ap.parse_args()
    sizes = [784, *a.hidden, 10]
    if a.child:
        return child(a.child, sizes, a.batch_size, a.lr)
    from threadpoolctl import threadpool_info

    print("BLAS:", ", ".join(f"{i['internal_api']} {i.get('version')} ({i['num_threads']} threads)" for i in threadpool_info()))
    baseline = (a.baseline, export_revision(a.baseline)) if a.baseline else None
    if a.all:
        report([784, 256, 128, 10], 128, a.lr, a.epochs, baseline)
        report([784, 1024, 1024, 10], 128, a.lr, max(3, a.epochs // 2), baseline)
        report([784, 256, 128, 10], 6000, a.lr, a.epochs, baseline)
        eval_and_load_timings()
    else:
        report(sizes, a.batch_size, a.lr, a.epochs, baseline)


if __name__ == "__main__":
    main()
