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
exactly for the fixtures (and sources) in EXPECTED_REFUSALS (none today), with that reason in the
message.

What no fixture reaches is checked on derived models (RNNKit JSON of a fixture, edited, or written
here) against `rnnkit predict`: LayerNormalization with rms_scaling, MultiHeadAttention query steps
that see nothing (Keras 3's zero weights and tf_keras's uniform ones), every operation RNNKit
reads (OPERATIONS) and a bool model input.

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
# Fixtures whose Keras model fixes the batch size (stateful layers, batch_shape): the graph keeps it.
FIXED_BATCH = {"stateful"}
# fixture -> a phrase the refusal must contain, or (phrase, the sources it is expected from).
EXPECTED_REFUSALS = {}


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


def layer_normalization_with_rms_scaling(rnnkit, folder):
    """Keras 3's rms_scaling, which no fixture has: layernorm_options's `no_center` layer (gamma
    only, as rms_scaling has) switched to rms_scaling, against RNNKit. Returns (status, detail)."""
    def rms(model):
        model["outputs"] = ["no_center"]
        for layer in model["layers"]:
            if layer["name"] == "no_center":
                layer["config"]["rms_scaling"] = True
    return against_rnnkit(rnnkit, folder, "layernorm_options", "layernorm_rms_scaling", rms)


# Every TensorOperation, one output each, on x [batch, 4, 3] (float32) and ids [batch, 4] (int32):
# (name, operation, arguments, inputs, other config). Nothing in the fixtures reaches them all.
S = {"start": None, "stop": None, "step": None}
OPERATIONS = [
    ("not_equal", "NotEqual", ["input", 0.5], ["x"], {}),
    ("equal", "Equal", ["input", 2.0], ["ids"], {}),
    ("greater_equal", "GreaterEqual", ["input", 0.0], ["x"], {}),
    ("less", "Less", ["input", -0.25], ["x"], {}),
    ("less_equal", "LessEqual", ["input", "input"], ["x", "exp"], {}),
    ("divide", "Divide", ["input", 3.0], ["x"], {}),
    ("true_divide", "TrueDivide", [2.0, "input"], ["exp"], {}),
    ("power", "Power", ["input", [2.0, 3.0, 1.0]], ["x"], {}),
    ("maximum", "Maximum", ["input", 0.0], ["x"], {}),
    ("minimum", "Minimum", ["input", "input"], ["x", "negative"], {}),
    ("logical_and", "LogicalAnd", ["input", "input"], ["greater_equal", "not_equal"], {}),
    ("logical_or", "LogicalOr", ["input", "input"], ["less", "not_equal"], {}),
    ("negative", "Negative", ["input"], ["x"], {}),
    ("absolute", "Absolute", ["input"], ["x"], {}),
    ("sqrt", "Sqrt", ["input"], ["absolute"], {}),
    ("square", "Square", ["input"], ["x"], {}),
    ("exp", "Exp", ["input"], ["x"], {}),
    ("log", "Log", ["input"], ["exp"], {}),
    ("logical_not", "LogicalNot", ["input"], ["less"], {}),
    ("sign", "Sign", ["input"], ["x"], {}),
    ("tanh", "Tanh", ["input"], ["x"], {}),
    ("sigmoid", "Sigmoid", ["input"], ["x"], {}),
    ("relu", "Relu", ["input"], ["x"], {}),
    ("relu6", "Relu6", ["input"], ["power"], {}),
    ("softplus", "Softplus", ["input"], ["x"], {}),
    ("softsign", "Softsign", ["input"], ["x"], {}),
    ("silu", "Silu", ["input"], ["x"], {}),
    ("selu", "Selu", ["input"], ["x"], {}),
    ("hard_sigmoid", "HardSigmoid", ["input"], ["power"], {}),
    ("elu", "Elu", ["input"], ["x"], {"alpha": 0.5}),
    ("leaky_relu", "LeakyRelu", ["input"], ["x"], {"negative_slope": 0.3}),
    ("gelu", "Gelu", ["input"], ["x"], {"approximate": True}),
    ("gelu_exact", "Gelu", ["input"], ["x"], {"approximate": False}),
    ("sum", "Sum", ["input"], ["x"], {"axis": [1, 2], "keepdims": False}),
    ("mean", "Mean", ["input"], ["x"], {"axis": -1, "keepdims": True}),
    ("max", "Max", ["input"], ["x"], {"axis": 1, "keepdims": False, "initial": None}),
    ("min", "Min", ["input"], ["x"], {"axis": -1, "keepdims": True, "initial": None}),
    ("any", "Any", ["input"], ["less"], {"axis": 1, "keepdims": False}),
    ("all", "All", ["input"], ["greater_equal"], {"axis": [1, 2], "keepdims": True}),
    ("matmul", "Matmul", ["input", "input"], ["x", "transpose"], {}),
    ("einsum", "Einsum", ["input", [[0.5, -1.0], [1.5, 0.25], [-0.75, 2.0]]], ["x"], {"subscripts": "btd,de->bte"}),
    ("einsum_pair", "Einsum", ["input", "input"], ["x", "exp"], {"subscripts": "btd,bsd->bst"}),
    ("concatenate", "Concatenate", ["input", "input"], ["x", "exp"], {"axis": 1}),
    ("stack", "Stack", ["input", "input"], ["x", "exp"], {"axis": 1}),
    ("stack_last", "Stack", ["input", "input", "input"], ["x", "exp", "sign"], {"axis": -1}),
    ("expand_dims", "ExpandDims", ["input"], ["x"], {"axis": [-1, 1]}),
    ("squeeze", "Squeeze", ["input"], ["expand_dims"], {"axis": [1, -1]}),
    ("reshape", "Reshape", ["input"], ["x"], {"newshape": [-1, 2, -1]}),
    ("transpose", "Transpose", ["input"], ["x"], {"axes": [0, 2, 1]}),
    ("cast_int", "Cast", ["input"], ["divide"], {"dtype": "int32"}),
    ("cast_bool", "Cast", ["input"], ["relu"], {"dtype": "bool"}),
    ("convert_to_tensor", "ConvertToTensor", ["input"], ["x"], {"dtype": None, "sparse": None, "ragged": None}),
    ("convert_int", "ConvertToTensor", ["input"], ["exp"], {"dtype": "int64", "sparse": None, "ragged": None}),
    ("zeros_like", "ZerosLike", ["input"], ["x"], {"dtype": None}),
    ("ones_like", "OnesLike", ["input"], ["ids"], {"dtype": "float32"}),
    ("where", "Where", ["input", "input", "input"], ["less", "x", "exp"], {}),
    ("clip", "Clip", ["input"], ["x"], {"x_min": -0.5, "x_max": 0.75}),
    ("softmax", "Softmax", ["input"], ["x"], {"axis": 1}),
    ("get_item", "GetItem", ["input"], ["x"], {"key": ["...", {"start": 1, "stop": 3, "step": None}]}),
    ("get_item_last", "GetItem", ["input"], ["x"], {"key": [S, -1, "...", -2]}),
    ("get_item_reversed", "GetItem", ["input"], ["x"], {"key": [S, {"start": None, "stop": None, "step": -2}, None, 0]}),
    ("get_item_new_axes", "GetItem", ["input"], ["x"], {"key": [S, None, {"start": -2, "stop": None, "step": None}, "...",
                                                                 None, {"start": None, "stop": 0, "step": -1}]}),
]


def against_rnnkit_at_opsets(rnnkit, folder, model, feeds, opsets, check=None):
    """RNNKit JSON `model` (a dict), saved in `folder`, exported at each of `opsets` and run by ONNX
    Runtime on `feeds`, every output compared with `rnnkit predict` of the same file, which
    computes what Keras does. `check` may refuse an exported ModelProto (a reason, or None).
    Returns (status, detail)."""
    name = model["name"]
    source = os.path.join(folder, f"{name}.json")
    json.dump(model, open(source, "w"))
    inputs, expected = os.path.join(folder, f"{name}_inputs.npz"), os.path.join(folder, f"{name}_expected.npz")
    np.savez(inputs, **feeds)
    done = subprocess.run([rnnkit, "predict", source, "--input", inputs, "--output", expected, "--format", "npz",
                           "--force"], capture_output=True, text=True)
    if done.returncode != 0:
        return "FAIL", done.stderr.strip()
    reference = np.load(expected)
    worst = 0.0
    for opset in opsets:
        out = os.path.join(folder, f"{name}-{opset}.onnx")
        done = convert(rnnkit, source, out, opset)
        if done.returncode != 0:
            return "FAIL", done.stderr.strip()
        exported = onnx.load(out)
        onnx.checker.check_model(exported, full_check=True)
        refusal = check(exported) if check else None
        if refusal:
            return "FAIL", f"opset {opset}: {refusal}"
        session = ort.InferenceSession(out, providers=["CPUExecutionProvider"])
        for index, (output, output_name) in enumerate(zip(session.run(None, feeds), model["outputs"])):
            wanted = reference[f"output_{index}"]
            if output.shape != wanted.shape:
                return "FAIL", f"opset {opset}, {output_name}: shape {output.shape}, rnnkit predict {wanted.shape}"
            difference = float(np.max(np.abs(output.astype(np.float64) - wanted)))
            if not difference <= TOLERANCE:
                return "FAIL", f"opset {opset}, {output_name}: max abs diff {difference:.2e}"
            worst = max(worst, difference)
    return "pass", worst


def every_operation(rnnkit, folder, opsets):
    """Every TensorOperation on its own (OPERATIONS, as RNNKit JSON), exported at each of `opsets`
    and compared with `rnnkit predict` of the same file, which computes what Keras does.
    Returns (status, detail)."""
    layers = [{"name": "x", "class_name": "InputLayer", "config": {"batch_shape": [None, 4, 3], "dtype": "float32"}},
              {"name": "ids", "class_name": "InputLayer", "config": {"batch_shape": [None, 4], "dtype": "int32"}}]
    for name, operation, arguments, inputs, config in OPERATIONS:
        layers.append({"name": name, "class_name": "Operation", "inputs": inputs,
                       "config": {"operation": operation, "arguments": arguments, **config}})
    model = {"format": "rnnkit", "format_version": 1, "name": "operations", "inputs": ["x", "ids"],
             "outputs": [entry[0] for entry in OPERATIONS], "layers": layers}
    generator = np.random.default_rng(15)
    feeds = {"x": generator.normal(size=(2, 4, 3)).astype(np.float32),
             "ids": generator.integers(0, 4, size=(2, 4)).astype(np.int32)}
    return against_rnnkit_at_opsets(rnnkit, folder, model, feeds, opsets)


def boolean_input(rnnkit, folder, opsets):
    """A bool model input, which no fixture has, read by the layers that take it: an explicit
    `mask=` (a masked SimpleRNN), a Dense and an Embedding (which Keras cast to floats and ids)
    and an operation, as RNNKit JSON, declared BOOL in the graph, exported at each of `opsets` and
    compared with `rnnkit predict` of the same file. Returns (status, detail)."""
    def weights(shape, generator):
        return {"shape": list(shape), "data": generator.normal(size=shape).round(3).tolist()}
    generator = np.random.default_rng(16)
    layers = [
        {"name": "x", "class_name": "InputLayer", "config": {"batch_shape": [None, 4, 3], "dtype": "float32"}},
        {"name": "flags", "class_name": "InputLayer", "config": {"batch_shape": [None, 4], "dtype": "bool"}},
        {"name": "simple_rnn", "class_name": "SimpleRNN", "config": {"units": 2, "return_sequences": True},
         "inputs": ["x"], "mask": ["flags"],
         "weights": {"kernel": weights((3, 2), generator), "recurrent_kernel": weights((2, 2), generator),
                     "bias": weights((2,), generator)}},
        {"name": "dense", "class_name": "Dense", "config": {"units": 2}, "inputs": ["flags"],
         "weights": {"kernel": weights((4, 2), generator), "bias": weights((2,), generator)}},
        {"name": "embedding", "class_name": "Embedding", "config": {"input_dim": 2, "output_dim": 3},
         "inputs": ["flags"], "weights": {"embeddings": weights((2, 3), generator)}},
        {"name": "multiply", "class_name": "Operation", "inputs": ["flags"],
         "config": {"operation": "Multiply", "arguments": ["input", 2.5]}},
    ]
    model = {"format": "rnnkit", "format_version": 1, "name": "boolean_input", "inputs": ["x", "flags"],
             "outputs": [layer["name"] for layer in layers[2:]], "layers": layers}
    feeds = {"x": generator.normal(size=(3, 4, 3)).astype(np.float32), "flags": generator.random((3, 4)) < 0.6}

    def declared_bool(exported):
        flags = exported.graph.input[1]
        return None if flags.type.tensor_type.elem_type == onnx.TensorProto.BOOL else "input flags is not declared bool"
    return against_rnnkit_at_opsets(rnnkit, folder, model, feeds, opsets, check=declared_bool)


def hidden_query_rows(rnnkit, folder):
    """A query step that sees no value step: `mha_attention_mask` as RNNKit JSON with
    return_attention_scores (Keras 3 then gives such a step zero weights, tf_keras uniform ones),
    fed an attention_mask with rows of zeros, exported and compared with `rnnkit predict` of the
    same file, once as Keras 3 and once as tf_keras wrote it. Returns (status, detail)."""
    source = os.path.join(folder, "mha_attention_mask.json")
    done = subprocess.run([rnnkit, "convert", os.path.join(FIXTURES, "mha_attention_mask", "keras3.keras"), source,
                           "--force"], capture_output=True, text=True)
    if done.returncode != 0:
        return "FAIL", done.stderr.strip()
    model = json.load(open(source))
    for layer in model["layers"]:
        if layer["class_name"] == "MultiHeadAttention":
            layer["config"]["return_attention_scores"] = True
    query, mask = (np.load(os.path.join(FIXTURES, "mha_attention_mask", f"input_{i}.npy")) for i in (0, 1))
    mask = mask.copy()
    mask[0, 1:3, :] = 0
    mask[-1, 0, :] = 0
    inputs = os.path.join(folder, "hidden_rows_inputs.npz")
    np.savez(inputs, **{model["inputs"][0]: query, model["inputs"][1]: mask})
    worst, results = 0.0, []
    for version in ("3.15.1", "2.21.0"):
        model["keras_version"] = version
        derived = os.path.join(folder, f"hidden_rows_{version[0]}.json")
        json.dump(model, open(derived, "w"))
        out, expected = derived.replace(".json", ".onnx"), derived.replace(".json", ".npy")
        for command in ([rnnkit, "convert", derived, out, "--force"],
                        [rnnkit, "predict", derived, "--input", inputs, "--output", expected, "--force"]):
            done = subprocess.run(command, capture_output=True, text=True)
            if done.returncode != 0:
                return "FAIL", done.stderr.strip()
        onnx.checker.check_model(onnx.load(out), full_check=True)
        session = ort.InferenceSession(out, providers=["CPUExecutionProvider"])
        output = session.run(None, {model["inputs"][0]: query, model["inputs"][1]: mask})[0]
        results.append(np.load(expected))
        worst = max(worst, float(np.max(np.abs(output - results[-1]))))
    if not np.max(np.abs(results[0] - results[1])) > TOLERANCE:
        return "FAIL", "zero and uniform weights give the same outputs: the check does not tell them apart"
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
    # Checks of what no fixture reaches, against `rnnkit predict`: (label, check, table text).
    derived = [
        ("LayerNormalization with rms_scaling", lambda: layer_normalization_with_rms_scaling(args.rnnkit, folder),
         "LayerNormalization with Keras 3's rms_scaling, which no fixture has: `layernorm_options` with its "
         "`no_center` layer switched to rms_scaling (as RNNKit JSON), against `rnnkit predict` of the same file: "),
        ("query steps that see nothing", lambda: hidden_query_rows(args.rnnkit, folder),
         "MultiHeadAttention query steps that see no value step: `mha_attention_mask` with "
         "return_attention_scores (as RNNKit JSON, written by Keras 3, which zeroes their weights, and by "
         "tf_keras, which leaves them uniform), fed an attention_mask with rows of zeros, against "
         "`rnnkit predict` of the same files: "),
        ("every operation", lambda: every_operation(args.rnnkit, folder, [args.opset] + also),
         f"Every operation RNNKit reads ({len(OPERATIONS)} calls, OPERATIONS in the script: each comparison, "
         "arithmetic and logical function, element-wise function, reduction, Matmul, Einsum, joins, shape "
         "changes, casts, fills, Where, Clip, Softmax and GetItem keys with ellipsis, negative steps and new "
         "axes) on its own, as RNNKit JSON with a float and an int32 input, against `rnnkit predict` of the same "
         f"file, at opset {args.opset or 'default (17)'} and {', '.join(map(str, also)) or 'no other'}: "),
        ("boolean input", lambda: boolean_input(args.rnnkit, folder, [args.opset] + also),
         "A bool model input, which no fixture has, declared BOOL and read by an explicit mask= (a masked "
         "SimpleRNN), a Dense, an Embedding and an operation (as RNNKit JSON), against `rnnkit predict` of the "
         f"same file, at opset {args.opset or 'default (17)'} and {', '.join(map(str, also)) or 'no other'}: "),
    ]
    for label, check, text in derived:
        status, detail = check()
        print(f"{label}:", status, detail)
        if status == "pass":
            passes += 1
        else:
            failures += 1
        lines += ["", text + (f"{detail:.1e}" if status == "pass" else f"**FAIL**: {detail}") + "."]
    lines += [""] + [f"[{i + 1}] {reason}" + ("  " if i + 1 < len(reasons) else "") for i, reason in enumerate(reasons)]
    lines += ["", f"{passes} passed, {refusals} refused as expected, {failures} failed."]
    print("\n".join(lines[-1:]))
    if not args.fixture:
        with open(os.path.join(HERE, "results-onnx.md"), "w") as handle:
            handle.write("\n".join(lines) + "\n")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
