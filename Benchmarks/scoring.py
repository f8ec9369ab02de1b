#!/usr/bin/env python3
"""Scoring benchmark: CSV series through `rnnkit predict --window`, against a Python loop calling
Keras `model.predict` on batches and against ONNX Runtime on batches.

Two parts, one run:

1. Memory: a CSV series of --mb megabytes (20 features, seeded) scored with --window 60 through a
   small LSTM (Input((None, 20)) -> LSTM(16) -> Dense(1), made here with Keras, seeded weights):
   rows/s and peak RSS (of rnnkit and its isolated reader, from wait4), then the same series cut
   into --pieces files overlapping by window - 1 rows, scored one by one; the outputs must be
   identical.
2. Throughput: --windows windows of the reference model's input (64 features; Benchmarks/models/
   reference_lstm.keras, made by make_models.py when missing) scored by rnnkit from CSV, by a
   Python loop (numpy reads the CSV, cuts the windows, model.predict per batch) and by ONNX Runtime
   per batch (the graph run_peers.py builds), each with --threads threads and batches of --batch.

    python3 Benchmarks/scoring.py [--rnnkit .build/release/rnnkit] [--mb 1024] [--windows 4096]

Writes Benchmarks/scoring_results.md. Needs Benchmarks/requirements.txt installed.
"""
import os

os.environ.setdefault("KERAS_BACKEND", "tensorflow")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("CUDA_VISIBLE_DEVICES", "")

import argparse
import platform
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

from host_probes import ProbeError, fma_peak

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
WORK = ROOT / ".build" / "scoring"


def log(message):
    print(message, file=sys.stderr, flush=True)


def write_series(path, megabytes, features, seed):
    """A CSV series of about `megabytes` MB: 8 seeded blocks of 20 000 rows, cycled; returns its rows."""
    rng = np.random.default_rng(seed)
    blocks = []
    for _ in range(8):
        block = rng.standard_normal((20000, features)).astype(np.float32)
        blocks.append("\n".join(",".join(f"{v:.5f}" for v in row) for row in block) + "\n")
    target = megabytes << 20
    rows = 0
    with open(path, "w") as handle:
        while handle.tell() < target:
            handle.write(blocks[(rows // 20000) % len(blocks)])
            rows += 20000
    return rows


def timed_child(command):
    """Runs `command` under /usr/bin/time; returns seconds, peak RSS in MB (of rnnkit and its
    isolated worker, as wait4 reports it to `time`) and CPU seconds. Not wait4 from here: a child
    forked from this Python process starts with its high-water mark (TensorFlow's hundreds of MB)."""
    stats = WORK / "time.txt"
    process = subprocess.run(["/usr/bin/time", "-o", str(stats), "-f", "%e %M %U %S"] + [str(c) for c in command],
                             stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    if process.returncode != 0:
        raise SystemExit(f"{' '.join(map(str, command))} failed: {process.stderr.strip()}")
    seconds, peak_kib, user, system = stats.read_text().split()[-4:]
    return float(seconds), int(peak_kib) / 1024, float(user) + float(system)


def small_model(path):
    import keras
    rng = np.random.default_rng(20)
    model = keras.Sequential([keras.Input((None, 20)), keras.layers.LSTM(16, name="lstm"),
                              keras.layers.Dense(1, name="dense")], name="scoring_lstm")
    model.set_weights([rng.uniform(-0.3, 0.3, w.shape).astype(np.float32) for w in model.get_weights()])
    model.save(path)


def memory_part(args, report):
    model = WORK / "scoring_lstm.keras"
    if not model.exists():
        small_model(model)
    series = WORK / f"series-{args.mb}mb.csv"
    if not series.exists():
        log(f"writing {series} ({args.mb} MB)")
        write_series(series, args.mb, 20, seed=1)
    rows = sum(1 for _ in open(series, "rb"))
    size = series.stat().st_size
    output = WORK / "whole.npy"
    log(f"scoring {rows} rows ({size / 1e6:.0f} MB) with --window {args.window}")
    seconds, peak, cpu = timed_child([args.rnnkit, "predict", str(model), str(series), "--window", str(args.window),
                                      "--threads", str(args.threads), "--quiet", "--force", "--output", str(output)])
    windows = rows - args.window + 1
    report.append(f"| 1 GB-class memory run: {size / 1e6:.0f} MB CSV, {rows} rows x 20 features, --window "
                  f"{args.window}, scoring_lstm | {windows} | {seconds:.1f} | {windows / seconds:,.0f} | "
                  f"{peak:.0f} | {cpu:.1f} |")
    log(report[-1])
    # The same series cut into pieces overlapping by window - 1 rows.
    whole = np.load(output)
    per_piece = -(-rows // args.pieces)
    outputs = []
    with open(series) as handle:
        carried = []
        for index in range(args.pieces):
            piece_lines = carried + [handle.readline() for _ in range(per_piece)]
            piece_lines = [line for line in piece_lines if line]
            if len(piece_lines) < args.window:
                break
            piece = WORK / "piece.csv"
            piece.write_text("".join(piece_lines))
            piece_out = WORK / "piece.npy"
            timed_child([args.rnnkit, "predict", str(model), str(piece), "--window", str(args.window), "--quiet",
                         "--force", "--output", str(piece_out)])
            outputs.append(np.load(piece_out))
            carried = piece_lines[-(args.window - 1):]
    pieces = np.concatenate(outputs)
    same = pieces.shape == whole.shape and np.array_equal(pieces.view(np.uint32), whole.view(np.uint32))
    report.append(f"\nThe same series in {len(outputs)} files overlapping by {args.window - 1} rows gives "
                  f"{'bit-identical' if same else 'DIFFERENT'} outputs ({pieces.shape[0]} rows).\n")
    log(report[-1])
    return same and peak < 300


def throughput_part(args, report):
    sys.path.insert(0, str(HERE))
    model_path = HERE / "models" / "reference_lstm.keras"
    if not model_path.exists():
        subprocess.run([sys.executable, str(HERE / "make_models.py")], check=True)
    rows = args.windows + args.window - 1
    series = WORK / f"reference-{rows}.csv"
    rng = np.random.default_rng(3)
    data = rng.standard_normal((rows, 64)).astype(np.float32)
    np.savetxt(series, data, delimiter=",", fmt="%.5f")
    results = {}

    seconds, peak, cpu = timed_child([args.rnnkit, "predict", str(model_path), str(series), "--window",
                                      str(args.window), "--threads", str(args.threads), "--batch-size",
                                      str(args.batch), "--quiet", "--force", "--output", str(WORK / "ref.npy")])
    results["rnnkit predict (streaming CSV)"] = (seconds, peak, cpu)

    import keras
    model = keras.saving.load_model(model_path)

    def python_loop(run_batch):
        started = time.perf_counter()
        cpu0 = time.process_time()
        values = np.loadtxt(series, delimiter=",", dtype=np.float32)
        windows = np.lib.stride_tricks.sliding_window_view(values, (args.window, 64))[:, 0]
        outputs = [run_batch(np.ascontiguousarray(windows[i:i + args.batch]))
                   for i in range(0, len(windows), args.batch)]
        return time.perf_counter() - started, np.concatenate(outputs), time.process_time() - cpu0

    model.predict(data[None, :args.window], verbose=0)  # warm up
    seconds, keras_out, cpu = python_loop(lambda batch: model.predict(batch, batch_size=args.batch, verbose=0))
    results["Python loop: Keras model.predict per batch"] = (seconds, None, cpu)

    from run_peers import build_onnx_model, keras_to_onnx_layout, ort_session
    onnx_model = build_onnx_model(model, keras_to_onnx_layout(model), steps_fixed=None)
    session = ort_session(onnx_model.SerializeToString(), args.threads)
    name = session.get_inputs()[0].name
    seconds, ort_out, cpu = python_loop(lambda batch: session.run(None, {name: batch})[0])
    results["Python loop: ONNX Runtime per batch"] = (seconds, None, cpu)

    ours = np.load(WORK / "ref.npy")
    worst = max(float(np.max(np.abs(ours - keras_out))), float(np.max(np.abs(ours - ort_out))))
    for label, (seconds, peak, cpu) in results.items():
        report.append(f"| {label} | {args.windows} | {seconds:.1f} | {args.windows / seconds:,.0f} | "
                      f"{'' if peak is None else f'{peak:.0f}'} | {cpu:.1f} |")
        log(report[-1])
    rnnkit_rate = args.windows / results["rnnkit predict (streaming CSV)"][0]
    keras_rate = args.windows / results["Python loop: Keras model.predict per batch"][0]
    ort_rate = args.windows / results["Python loop: ONNX Runtime per batch"][0]
    report.append(f"\nreference_lstm, --window {args.window}, batches of {args.batch}, {args.threads} thread(s): "
                  f"RNNKit / Keras loop = {rnnkit_rate / keras_rate:.2f}x, RNNKit / ONNX Runtime = "
                  f"{rnnkit_rate / ort_rate:.2f}x; largest difference from Keras and ORT {worst:.2e}.\n")
    log(report[-1])
    report.append(ceiling_note(args, model, results["rnnkit predict (streaming CSV)"][0], keras_rate))
    log(report[-1])


def ceiling_note(args, model, rnnkit_seconds, keras_rate):
    """How the scoring rate compares with the host's arithmetic ceiling: a ratio to the Keras loop
    that would need more than the ceiling cannot be reached on this host."""
    from make_models import flops_per_sequence
    work = flops_per_sequence(model, args.window) * args.windows / 1e9
    try:
        peak = fma_peak(args.threads, WORK)
    except ProbeError as error:
        return f"No FMA ceiling stated: {error}.\n"
    needed = work * 3 * keras_rate / args.windows
    return (f"Work: {work:.0f} GFLOP of products. RNNKit ran at {work / rnnkit_seconds:.0f} GFLOP/s, start-up, "
            f"load and CSV parsing included; this host's FMA ceiling on {args.threads} thread(s) is {peak:.0f} "
            f"GFLOP/s (Benchmarks/fma_peak.c). 3x the Keras loop would need {needed:.0f} GFLOP/s of products "
            f"alone ({needed / peak:.0%} of the ceiling).\n")


def main():
    WORK.mkdir(parents=True, exist_ok=True)  # either part may run alone
    parser = argparse.ArgumentParser()
    parser.add_argument("--rnnkit", default=str(ROOT / ".build" / "release" / "rnnkit"))
    parser.add_argument("--mb", type=int, default=1024)
    parser.add_argument("--window", type=int, default=60)
    parser.add_argument("--pieces", type=int, default=8)
    parser.add_argument("--windows", type=int, default=4096)
    parser.add_argument("--batch", type=int, default=256)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--skip-memory", action="store_true")
    parser.add_argument("--skip-throughput", action="store_true")
    args = parser.parse_args()
    cpu = subprocess.run(["lscpu"], capture_output=True, text=True).stdout
    model_name = next((line.split(":", 1)[1].strip() for line in cpu.splitlines() if line.startswith("Model name")), "?")
    report = ["# Scoring benchmark", "",
              f"{model_name}, {os.cpu_count()} CPUs, {platform.platform()}; `python3 Benchmarks/scoring.py "
              + " ".join(sys.argv[1:]) + "`", "",
              "| run | windows | seconds | windows/s | peak RSS MB | CPU s |", "|---|---:|---:|---:|---:|---:|"]
    # TensorFlow takes its thread counts only before its first use, which either part may make.
    import tensorflow as tf
    tf.config.threading.set_intra_op_parallelism_threads(args.threads)
    tf.config.threading.set_inter_op_parallelism_threads(1)
    ok = True
    if not args.skip_memory:
        ok = memory_part(args, report) and ok
    if not args.skip_throughput:
        throughput_part(args, report)
    (HERE / "scoring_results.md").write_text("\n".join(report) + "\n")
    print("\n".join(report))
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
