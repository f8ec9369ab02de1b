"""The host's own limits, measured by the C probes in this folder, built with the host's `cc` for the
widest vectors it has (`-march=native`): the float32 multiply-add ceiling (fma_peak.c) and the read
rate from one cache level (cache_read_rate.c). run_peers.py and scoring.py state their timings
against them; a probe that cannot be built or run raises ProbeError, and the caller says so in its
report instead of a figure."""

import shlex
import shutil
import subprocess
from pathlib import Path

HERE = Path(__file__).resolve().parent

FMA_PEAK_FLAGS = ["-O3", "-march=native"]
CACHE_READ_FLAGS = ["-O2", "-march=native"]


class ProbeError(RuntimeError):
    pass


def run_probe(command):
    """The standard output of `command`; ProbeError with its last lines of error when it fails."""
    try:
        done = subprocess.run([str(c) for c in command], capture_output=True, text=True)
    except OSError as error:
        raise ProbeError(f"`{shlex.join(str(c) for c in command)}`: {error}") from error
    if done.returncode != 0:
        error = " | ".join(done.stderr.strip().splitlines()[-3:]) or "(no output)"
        raise ProbeError(f"`{shlex.join(str(c) for c in command)}` exited {done.returncode}: {error}")
    return done.stdout


def build(source, work_dir, flags):
    """Compiles Benchmarks/`source` with `cc flags` into `work_dir`; returns the binary."""
    compiler = shutil.which("cc")
    if compiler is None:
        raise ProbeError(f"no C compiler (`cc`) to build Benchmarks/{source}")
    Path(work_dir).mkdir(parents=True, exist_ok=True)
    binary = Path(work_dir) / Path(source).stem
    run_probe([compiler, *flags, HERE / source, "-o", binary, "-lpthread"])
    return binary


def fma_peak(threads, work_dir, before_each=lambda: None, runs=3):
    """The float32 FMA ceiling of `threads` threads together, in GFLOP/s: the best of `runs` runs of
    fma_peak.c (each after `before_each()`, e.g. a wait for idle CPUs)."""
    binary = build("fma_peak.c", work_dir, FMA_PEAK_FLAGS)
    rates = []
    for _ in range(runs):
        before_each()
        try:
            rates.append(float(run_probe([binary, threads])))
        except ValueError as error:
            raise ProbeError(f"fma_peak.c printed no rate: {error}") from error
    return max(rates)
