#!/usr/bin/env python3
"""ONNX Runtime on RNNKit's exported model against the hand-built graph of run_peers.py.

`rnnkit convert reference_lstm.keras OUT.onnx` should be as fast in ONNX Runtime as the graph
run_peers.py builds by hand from the same weights (Transpose, the LSTM operators with layout=0,
MatMul/Add): this script converts the model, builds the hand graph, checks both give the same
outputs, then times the two sessions alternately (batch 1 and 32, 1 and 2 threads; the timing
rule of `rnnkit bench`, several rounds, lowest median) and writes
Benchmarks/onnx_export_results.md.

Usage:
    python3 Benchmarks/onnx_export_speed.py [--rnnkit .build/release/rnnkit] [--rounds 3]
"""

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ["KERAS_BACKEND"] = "tensorflow"

import argparse
import collections
import datetime
import subprocess
import sys
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from run_peers import (REPO, WORK_DIR, bench_inputs, build_onnx_model, ensure_models, git_revision,  # noqa: E402
                       keras_to_onnx_layout, log, machine_description, ort_session, time_calls)

MODEL = "reference_lstm"
CONFIGS = [(1, 1), (1, 2), (32, 1), (32, 2)]  # (batch, threads)


def operator_counts(path):
    import onnx
    graph = onnx.load(str(path)).graph
    counts = collections.Counter(node.op_type for node in graph.node)
    return ", ".join(f"{op} {n}" for op, n in sorted(counts.items()))


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--rnnkit", default=str(REPO / ".build/release/rnnkit"))
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--out", type=Path, default=HERE / "onnx_export_results.md")
    args = parser.parse_args()

    import keras
    import onnxruntime as ort
    manifest = ensure_models([MODEL])
    entry = manifest["models"][MODEL]
    keras_path = HERE / "models" / entry["keras"]
    model = keras.saving.load_model(keras_path)
    WORK_DIR.mkdir(parents=True, exist_ok=True)
    exported, hand = WORK_DIR / f"{MODEL}.export.onnx", WORK_DIR / f"{MODEL}.hand.onnx"
    subprocess.run([args.rnnkit, "convert", str(keras_path), str(exported), "--force"], check=True)
    hand.write_bytes(build_onnx_model(model, keras_to_onnx_layout(model), steps_fixed=None).SerializeToString())

    steps = entry["steps"]
    rows = []
    for batch, threads in CONFIGS:
        sessions = {"export": ort_session(exported, threads), "hand": ort_session(hand, threads)}
        x = bench_inputs(entry["inputs"], batch, steps, seed=batch)[0]
        feeds = {label: {s.get_inputs()[0].name: x} for label, s in sessions.items()}
        outputs = {label: s.run(None, feeds[label])[0] for label, s in sessions.items()}
        difference = float(np.max(np.abs(outputs["export"] - outputs["hand"])))
        if not np.all(np.isfinite(outputs["export"])) or difference > 1e-5:
            raise SystemExit(f"batch {batch}: the exported model differs from the hand graph by {difference:.2e}")
        medians = {label: [] for label in sessions}
        for _ in range(args.rounds):  # alternate, so both see the same machine
            for label, s in sessions.items():
                medians[label].append(time_calls(lambda: s.run(None, feeds[label]))["median_ms"])
        best = {label: min(values) for label, values in medians.items()}
        rows.append((batch, threads, best["export"], best["hand"], difference))
        log(f"batch {batch}, {threads} thread(s): export {best['export']:.3f} ms, hand {best['hand']:.3f} ms")

    machine = machine_description()
    lines = [
        "# ONNX Runtime: RNNKit's exported model against the hand-built graph", "",
        "Written by `python3 Benchmarks/onnx_export_speed.py`.", "",
        f"Measured {datetime.datetime.now():%Y-%m-%d %H:%M} on {machine['cpu']} (cpu family "
        f"{machine.get('family', '?')}, model {machine.get('model', '?')}), {machine['cores']} cores, "
        f"{machine.get('simd', '?')}; onnxruntime {ort.__version__}; RNNKit {git_revision()}.", "",
        f"{MODEL} (T={steps}), ORT CPU provider, all graph optimizations; lowest median of {args.rounds} "
        "alternating rounds, ms per call.", "",
        f"- exported (`rnnkit convert {entry['keras']} model.onnx`): {operator_counts(exported)}",
        f"- hand-built (run_peers.py `build_onnx_model`): {operator_counts(hand)}", "",
        "| batch | threads | exported | hand-built | exported / hand | largest difference |",
        "|---:|---:|---:|---:|---:|---:|",
    ]
    lines += [f"| {b} | {t} | {e:.3f} | {h:.3f} | {e / h:.2f} | {d:.1e} |" for b, t, e, h, d in rows]
    args.out.write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
