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
difference). The batch axis of every graph input and output must be the dynamic `batch`. A conversion refused by rnnkit (exit 1) is listed with its reason; a refusal is expected
exactly for the fixtures in EXPECTED_REFUSALS (masked recurrent layers; activations ONNX's recurrent
operators lack), with that reason in the message.

What a refusal hides is checked on derived models (RNNKit JSON of a fixture, edited): the masked
layers before a refused GRU and LayerNormalization with rms_scaling against `rnnkit predict`, and
Keras 3's activations outside recurrent layers against the columns of Keras's own output.

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
# fixture -> a phrase the refusal must contain
EXPECTED_REFUSALS = {
    "embedding_mask": "carries a Keras mask",
    "masking_gru": "carries a Keras mask",
    "activations_more": "operator has no",
    "activations_keras3": "operator has no",
    "activations_mish": "operator has no",
    "masked_prelu_unit": "carries a Keras mask",
    "batchnorm_options": "carries a Keras mask",
    "nested_in_sequential": "carries a Keras mask",
    "nested_two_deep": "carries a Keras mask",
}


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
        expected = EXPECTED_REFUSALS.get(name)
        # rnnkit: error: <source>: <layer>: <reason>; the table keeps <layer>: <reason>.
        reason = reason.split(os.path.join(FIXTURES, name, source) + ": ", 1)[-1]
        if done.returncode == 1 and expected and expected in reason:
            return "refused", reason
        return "FAIL", f"conversion failed unexpectedly: {reason}"
    if name in EXPECTED_REFUSALS:
        return "FAIL", "converted, but a refusal was expected"
    model = onnx.load(out)
    try:
        onnx.checker.check_model(model, full_check=True)
    except Exception as error:  # noqa: BLE001
        return "FAIL", f"onnx.checker: {error}"
    graph = model.graph
    for value in list(graph.input) + list(graph.output):
        dims = value.type.tensor_type.shape.dim
        if not dims or dims[0].dim_param != "batch":
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
    ops = sorted({node.op_type for node in graph.node if node.op_type in ("RNN", "LSTM", "GRU")})
    return "pass", (worst, ops, model.opset_import[0].version)


def derived_model_output(rnnkit, folder, fixture, name, edit):
    """Fixture `fixture` written as RNNKit JSON, changed by `edit` (a function of the JSON model),
    saved as `name`.json, converted to ONNX and run by ONNX Runtime on the fixture's input.
    Returns (output 0, the JSON path) or raises RuntimeError with rnnkit's message."""
    source = os.path.join(folder, f"{fixture}.json")
    derived = os.path.join(folder, f"{name}.json")
    out = os.path.join(folder, f"{name}.onnx")
    inputs = os.path.join(FIXTURES, fixture, "input_0.npy")
    done = subprocess.run([rnnkit, "convert", os.path.join(FIXTURES, fixture, "keras3.keras"), source, "--force"],
                          capture_output=True, text=True)
    if done.returncode == 0:
        model = json.load(open(source))
        edit(model)
        json.dump(model, open(derived, "w"))
        done = subprocess.run([rnnkit, "convert", derived, out, "--force"], capture_output=True, text=True)
    if done.returncode != 0:
        raise RuntimeError(done.stderr.strip())
    onnx.checker.check_model(onnx.load(out), full_check=True)
    session = ort.InferenceSession(out, providers=["CPUExecutionProvider"])
    return session.run(None, {session.get_inputs()[0].name: np.load(inputs)})[0], derived


def compared(output, expected):
    """("pass", max abs diff) or ("FAIL", why)."""
    worst = float(np.max(np.abs(output.astype(np.float64) - expected)))
    return ("pass", worst) if worst <= TOLERANCE else ("FAIL", f"max abs diff {worst:.2e}")


# Fixtures whose layers before a masked recurrent layer (which is refused) are checked without it.
MASKED_FIXTURES_WITHOUT_RECURRENT_LAYER = {
    "masking_gru": "Masking -> Dense",
    "batchnorm_options": "Masking -> BatchNormalization(axis=1), (center=False), (scale=False)",
    "masked_prelu_unit": "Masking -> PReLU(shared_axes=[1]) -> UnitNormalization",
}


def against_rnnkit(rnnkit, folder, fixture, name, edit):
    """`fixture` changed by `edit` (see derived_model_output), exported, and compared with
    `rnnkit predict` of the same JSON, which computes Keras's numbers. Returns (status, detail)."""
    try:
        output, derived = derived_model_output(rnnkit, folder, fixture, name, edit)
    except RuntimeError as error:
        return "FAIL", str(error)
    expected = os.path.join(folder, f"{name}.npy")
    done = subprocess.run([rnnkit, "predict", derived, "--input", os.path.join(FIXTURES, fixture, "input_0.npy"),
                           "--output", expected, "--force"], capture_output=True, text=True)
    if done.returncode != 0:
        return "FAIL", done.stderr.strip()
    return compared(output, np.load(expected))


def without_recurrent_layer(rnnkit, folder, fixture):
    """The layers a masked recurrent layer refuses to follow, which no fixture has alone: `fixture`
    without its GRU, against RNNKit. Returns (status, detail)."""
    def drop_gru(model):
        model["layers"] = [layer for layer in model["layers"] if layer["class_name"] != "GRU"]
        model["outputs"] = [name if any(layer["name"] == name for layer in model["layers"])
                            else model["layers"][-1]["name"] for name in model["outputs"]]
    return against_rnnkit(rnnkit, folder, fixture, f"{fixture}_without_gru", drop_gru)


def layer_normalization_with_rms_scaling(rnnkit, folder):
    """Keras 3's rms_scaling, which no fixture has: layernorm_options's `no_center` layer (gamma
    only, as rms_scaling has) switched to rms_scaling, against RNNKit. Returns (status, detail)."""
    def rms(model):
        model["outputs"] = ["no_center"]
        for layer in model["layers"]:
            if layer["name"] == "no_center":
                layer["config"]["rms_scaling"] = True
    return against_rnnkit(rnnkit, folder, "layernorm_options", "layernorm_rms_scaling", rms)


def keras3_activations_without_recurrent_layers(rnnkit, folder):
    """Keras 3's activations outside recurrent layers (sparse_plus, sparsemax, log_softmax...),
    which activations_keras3 holds beside recurrent layers whose activations ONNX's operators lack:
    the fixture without its recurrent branches, against the columns of Keras's own expected output
    that the remaining branches give. Returns (status, detail)."""
    recurrent = ("SimpleRNN", "GRU", "LSTM")
    dropped = []

    def drop_recurrent(model):
        dropped.extend(layer["name"] for layer in model["layers"] if layer["class_name"] in recurrent)
        model["layers"] = [layer for layer in model["layers"] if layer["class_name"] not in recurrent]
        for layer in model["layers"]:
            if layer["class_name"] == "Concatenate":
                layer["inputs"] = [name for name in layer["inputs"] if name not in dropped]
    try:
        output, _ = derived_model_output(rnnkit, folder, "activations_keras3", "activations_keras3_elementwise",
                                         drop_recurrent)
    except RuntimeError as error:
        return "FAIL", str(error)
    expected = np.load(os.path.join(FIXTURES, "activations_keras3", "expected_keras3_0.npy"))
    # The recurrent branches come first in the concatenation, 3 units each.
    return compared(output, expected[..., 3 * len(dropped):])


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
        + " | recurrent operators |",
        "|---|" + "---|" * (len(columns) + 1),
    ]
    for name, cells, ops in rows:
        lines.append(f"| {name} | " + " | ".join(cells) + f" | {ops} |")
    lines += ["", "Masked layers before a masked GRU (which is refused), which no fixture has alone: the fixture "
              "without its GRU, as RNNKit JSON, against `rnnkit predict` of the same file:", ""]
    for fixture, layers in MASKED_FIXTURES_WITHOUT_RECURRENT_LAYER.items():
        status, detail = without_recurrent_layer(args.rnnkit, folder, fixture)
        print(f"{fixture} without its GRU:", status, detail)
        if status == "pass":
            passes += 1
        else:
            failures += 1
        lines.append(f"- `{fixture}` ({layers}): " + (f"{detail:.1e}" if status == "pass" else f"**FAIL**: {detail}"))
    status, detail = layer_normalization_with_rms_scaling(args.rnnkit, folder)
    print("LayerNormalization with rms_scaling:", status, detail)
    if status == "pass":
        passes += 1
    else:
        failures += 1
    lines += ["", "LayerNormalization with Keras 3's rms_scaling, which no fixture has: `layernorm_options` with "
              "its `no_center` layer switched to rms_scaling (as RNNKit JSON), against `rnnkit predict` of the same "
              "file: " + (f"{detail:.1e}" if status == "pass" else f"**FAIL**: {detail}") + "."]
    status, detail = keras3_activations_without_recurrent_layers(args.rnnkit, folder)
    print("Keras 3 activations without the recurrent branches:", status, detail)
    if status == "pass":
        passes += 1
    else:
        failures += 1
    lines += ["", "Keras 3's activations outside recurrent layers (hard_shrink, soft_shrink, tanh_shrink, "
              "sparse_plus, squareplus, log_sigmoid, log_softmax, sparsemax): `activations_keras3` without its "
              "recurrent branches (as RNNKit JSON), against the columns of Keras's expected output they give: "
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
