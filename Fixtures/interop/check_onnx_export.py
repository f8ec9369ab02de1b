#!/usr/bin/env python3
"""Checks the ONNX models `rnnkit convert MODEL OUT.onnx` writes with real ONNX and ONNX Runtime.

Usage (from the repository root; not part of `make test`):

    pip install onnx==1.23.2 onnxruntime==1.32.0 numpy==2.4.6   # or -r Fixtures/interop/requirements.txt
    swift build --product rnnkit
    python3 Fixtures/interop/check_onnx_export.py [--rnnkit PATH] [--opset N] [--also-opsets 14,18,21]
        [--fixture NAME] [--keep DIR]

For every fixture in Fixtures/manifest.json and every Keras-made source file (keras3.keras,
keras3.h5, tfkeras.h5; keras3.keras also at each of --also-opsets), `rnnkit convert SOURCE OUT.onnx
--opset N` writes an ONNX model, which must
pass `onnx.checker.check_model(full_check=True)` (types and shapes inferred). ONNX Runtime (CPU)
then runs it on Fixtures/<fixture>/input_<i>.npy, fed by the model's input names, and each output
is compared with Fixtures/<fixture>/expected_<writer of the source>_<i>.npy (pass <= 1e-5 max abs
difference). The batch axis of every graph input and output must be the dynamic `batch` (Keras's
fixed batch size for the fixtures in FIXED_BATCH). A conversion refused by rnnkit (exit 1) is
listed with its reason; a refusal is expected
exactly for the fixtures (and sources) in EXPECTED_REFUSALS (layers without an ONNX form yet), with
that reason in the message.

The exit status is 1 if anything fails or a refusal is unexpected or missing; the table goes to
stdout and to Fixtures/interop/results-onnx.md (when all fixtures and sources are run).
"""

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile

import numpy as np
import onnx
import onnxruntime as ort

TOLERANCE = 1e-5
HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
FIXTURES = os.path.join(REPO, "Fixtures")
SOURCES = ("keras3.keras", "keras3.h5", "tfkeras.h5")
# fixture -> a phrase the refusal must contain, or (phrase, the sources it is expected from):
# layers without an ONNX form yet (normalizations, activation layers, attention, operations,
# ConvLSTM...). Keras 3 writes explicit masks as operation nodes, which its files alone hold.
KERAS3 = ("keras3.keras", "keras3.h5")
# Fixtures whose Keras model fixes the batch size (stateful layers, batch_shape): the graph keeps it.
FIXED_BATCH = {"stateful"}
EXPECTED_REFUSALS = {
    "lstm_batchnorm": "has no form for",
    "batchnorm_options": "has no form for",
    "gru_layernorm": "has no form for",
    "layernorm_options": "has no form for",
    "activation_layers": "has no form for",
    "time_resampling": "has no form for",
    "attention_seq2seq": "has no form for",
    "attention_options": "has no form for",
    "attention_causal_self": "has no form for",
    "attention_masked": "has no form for",
    "activations_keras3": "has no ONNX form written yet",
    "unit_prelu_dot": "has no form for",
    "masked_prelu_unit": "has no form for",
    "time_distributed_any": "only TimeDistributed(Dense)",
    "ops_mask_tagger": ("has no form for", KERAS3),
    "ops_graph": "has no form for",
    "ops_masking": ("has no form for", KERAS3),
    "masked_recurrent": ("has no form for", KERAS3),
    "mha_self": "has no form for",
    "mha_masked": "has no form for",
    "mha_attention_mask": "has no form for",
}


def expected_refusal(name, source):
    """The phrase a refusal of `source` of fixture `name` must contain, or None if it must convert."""
    entry = EXPECTED_REFUSALS.get(name)
    if isinstance(entry, tuple):
        phrase, sources = entry
        return phrase if source in sources else None
    return entry


def convert(rnnkit, source, out, opset):
    command = [rnnkit, "convert", source, out, "--force"]
    if opset is not None:
        command += ["--opset", str(opset)]
    return subprocess.run(command, capture_output=True, text=True)


def run_fixture(rnnkit, name, source, folder, opset):
    """(status, detail) of one source file: ("pass", diff), ("refused", reason) or ("FAIL", why)."""
    writer = "keras3" if source.startswith("keras3") else "tfkeras"
    manifest = {f["name"]: f for f in json.load(open(os.path.join(FIXTURES, "manifest.json")))["fixtures"]}[name]
    out = os.path.join(folder, f"{name}-{source.replace('.', '_')}.onnx")
    done = convert(rnnkit, os.path.join(FIXTURES, name, source), out, opset)
    if done.returncode != 0:
        reason = done.stderr.strip().splitlines()[-1] if done.stderr.strip() else f"exit {done.returncode}"
        expected = expected_refusal(name, source)
        # rnnkit: error: <source>: <layer>: <reason>; the table keeps <layer>: <reason>.
        reason = reason.split(os.path.join(FIXTURES, name, source) + ": ", 1)[-1]
        if done.returncode == 1 and expected and expected in reason:
            return "refused", reason
        return "FAIL", f"conversion failed unexpectedly: {reason}"
    if expected_refusal(name, source):
        return "FAIL", "converted, but a refusal was expected"
    model = onnx.load(out)
    try:
        onnx.checker.check_model(model, full_check=True)
    except Exception as error:  # noqa: BLE001
        return "FAIL", f"onnx.checker: {error}"
    graph = model.graph
    batch = np.load(os.path.join(FIXTURES, name, "input_0.npy")).shape[0]
    for value in list(graph.input) + list(graph.output):
        dims = value.type.tensor_type.shape.dim
        if name in FIXED_BATCH:
            if not dims or dims[0].dim_value != batch:
                return "FAIL", f"{value.name}: batch axis is not Keras's fixed {batch}"
        elif not dims or dims[0].dim_param != "batch":
            return "FAIL", f"{value.name}: batch axis is not dynamic"
    session = ort.InferenceSession(out, providers=["CPUExecutionProvider"])
    feeds = {}
    for index, value in enumerate(session.get_inputs()):
        array = np.load(os.path.join(FIXTURES, name, f"input_{index}.npy"))
        feeds[value.name] = array
    outputs = session.run(None, feeds)
    if len(outputs) != manifest["outputs"]:
        return "FAIL", f"{len(outputs)} outputs, Keras has {manifest['outputs']}"
    worst = 0.0
    for index, output in enumerate(outputs):
        expected = np.load(os.path.join(FIXTURES, name, f"expected_{writer}_{index}.npy"))
        if output.shape != expected.shape:
            return "FAIL", f"output {index} has shape {output.shape}, Keras {expected.shape}"
        worst = max(worst, float(np.max(np.abs(output.astype(np.float64) - expected))) if output.size else 0.0)
    if not worst <= TOLERANCE:
        return "FAIL", f"max abs diff {worst:.2e} > {TOLERANCE}"
    ops = sorted({node.op_type for node in graph.node if node.op_type in ("RNN", "LSTM", "GRU", "Scan")})
    return "pass", (worst, ops, model.opset_import[0].version)


def masking_without_recurrent_layer(rnnkit, folder):
    """Masking on its own (no fixture has one that does not feed a recurrent layer): masking_gru
    written as RNNKit JSON without its GRU (Masking -> Dense), exported, and compared with
    `rnnkit predict` of the same JSON, which computes Keras's Masking. Returns (status, detail)."""
    source = os.path.join(folder, "masking_gru.json")
    done = subprocess.run([rnnkit, "convert", os.path.join(FIXTURES, "masking_gru", "keras3.keras"), source,
                           "--force"], capture_output=True, text=True)
    if done.returncode != 0:
        return "FAIL", done.stderr.strip()
    model = json.load(open(source))
    model["layers"] = [layer for layer in model["layers"] if layer["class_name"] != "GRU"]
    derived = os.path.join(folder, "masking_dense.json")
    json.dump(model, open(derived, "w"))
    out, expected = os.path.join(folder, "masking_dense.onnx"), os.path.join(folder, "masking_dense.npy")
    inputs = os.path.join(FIXTURES, "masking_gru", "input_0.npy")
    for command in ([rnnkit, "convert", derived, out, "--force"],
                    [rnnkit, "predict", derived, "--input", inputs, "--output", expected, "--force"]):
        done = subprocess.run(command, capture_output=True, text=True)
        if done.returncode != 0:
            return "FAIL", done.stderr.strip()
    onnx.checker.check_model(onnx.load(out), full_check=True)
    session = ort.InferenceSession(out, providers=["CPUExecutionProvider"])
    output = session.run(None, {session.get_inputs()[0].name: np.load(inputs)})[0]
    worst = float(np.max(np.abs(output - np.load(expected))))
    return ("pass", worst) if worst <= TOLERANCE else ("FAIL", f"max abs diff {worst:.2e}")


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rnnkit", default=os.path.join(REPO, ".build", "debug", "rnnkit"))
    parser.add_argument("--opset", type=int, default=None, help="passed to rnnkit convert (default: rnnkit's)")
    parser.add_argument("--also-opsets", default="14,18,21",
                        help="comma-separated opsets to convert keras3.keras with as well ('' for none)")
    parser.add_argument("--fixture", action="append", help="only these fixtures")
    parser.add_argument("--keep", help="write the .onnx files here instead of a temporary folder")
    args = parser.parse_args()
    fixtures = [f["name"] for f in json.load(open(os.path.join(FIXTURES, "manifest.json")))["fixtures"]]
    chosen = args.fixture or fixtures
    folder = args.keep or tempfile.mkdtemp(prefix="rnnkit-onnx-")
    os.makedirs(folder, exist_ok=True)
    also = [int(o) for o in args.also_opsets.split(",") if o]
    columns = [(source, args.opset) for source in SOURCES] + [("keras3.keras", o) for o in also]
    rows, failures, passes, refusals, reasons = [], 0, 0, 0, []
    for name in chosen:
        cells, operators = [], set()
        for source, opset in columns:
            if not os.path.exists(os.path.join(FIXTURES, name, source)):
                cells.append("-")
                continue
            status, detail = run_fixture(args.rnnkit, name, source, folder, opset)
            if status == "pass":
                passes += 1
                worst, ops, _ = detail
                operators.update(ops)
                cells.append(f"{worst:.1e}")
            elif status == "refused":
                refusals += 1
                if detail not in reasons:
                    reasons.append(detail)
                cells.append(f"refused [{reasons.index(detail) + 1}]")
            else:
                failures += 1
                cells.append("**FAIL**: " + detail.replace("|", "\\|"))
        rows.append((name, cells, ", ".join(sorted(operators)) or "-"))
        print(name, *cells, sep="  |  ", flush=True)
    lines = [
        "# ONNX export: ONNX Runtime against Keras",
        "",
        f"Written by `Fixtures/interop/check_onnx_export.py` (onnx {onnx.__version__}, onnxruntime "
        f"{ort.__version__}, numpy {np.__version__}, python {platform.python_version()}, CPU), "
        f"opset {args.opset or 'default (17)'} for the three sources, and keras3.keras again at opsets "
        f"{', '.join(map(str, also)) or 'none'}.",
        "",
        "Each fixture's Keras-made files converted with `rnnkit convert SOURCE OUT.onnx`, checked by "
        "`onnx.checker.check_model(full_check=True)` and run by ONNX Runtime; a number is the max abs "
        f"difference from Keras's expected outputs over all outputs (pass <= {TOLERANCE:g}).",
        "",
        "| fixture | " + " | ".join(s if o is None else f"{s}, opset {o}" for s, o in columns)
        + " | recurrent operators (Scan: a Scan of Keras's cell) |",
        "|---|" + "---|" * (len(columns) + 1),
    ]
    for name, cells, ops in rows:
        lines.append(f"| {name} | " + " | ".join(cells) + f" | {ops} |")
    status, detail = masking_without_recurrent_layer(args.rnnkit, folder)
    print("masking without its GRU:", status, detail)
    if status == "pass":
        passes += 1
    else:
        failures += 1
    lines += ["", "Masking on its own, which no fixture has: `masking_gru` without its GRU (Masking -> Dense, "
              "as RNNKit JSON), against `rnnkit predict` of the same file: "
              + (f"{detail:.1e}" if status == "pass" else f"**FAIL**: {detail}") + "."]
    lines += [""] + [f"[{i + 1}] {reason}" + ("  " if i + 1 < len(reasons) else "") for i, reason in enumerate(reasons)]
    lines += ["", f"{passes} passed, {refusals} refused as expected, {failures} failed."]
    print("\n".join(lines[-1:]))
    if not args.fixture:
        with open(os.path.join(HERE, "results-onnx.md"), "w") as handle:
            handle.write("\n".join(lines) + "\n")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
