#!/usr/bin/env python3
"""RNNKit side by side with ONNX Runtime and TensorFlow, on the same weights and inputs.

For each model of make_models.py and each configuration (batch 1 or 32, 1 or 2
threads; T = 100 time steps, 4 for simple_rnn_31, 200 for cnn_lstm):

  rnnkit  `rnnkit bench MODEL.keras --batch B --steps T --threads N --json`
  ort     ONNX Runtime (CPU provider) on an ONNX graph of the LSTM/GRU/RNN operators
          (layout=0 plus Transpose), whose weights are RNNKit's ONNX-layout export
          (`rnnkit convert MODEL.keras OUT.npz --layout onnx`); until that command exists,
          the same tensors computed here from the Keras weights (keras-formats.md §6.3).
          cnn_lstm and attention_seq2seq run RNNKit's own ONNX export
          (`rnnkit convert MODEL.keras MODEL.onnx`); where it refuses the model, the column
          says "not exportable" and why
  tf      TensorFlow, a tf.function around the Keras model call

Every peer runs in its own process with the same thread count (ORT
intra_op_num_threads=N, inter_op 1; TF intra-op N, inter-op 1; rnnkit --threads N)
and the same timing rule as `rnnkit bench`: 3 warm-up runs, then runs until at
least 10 ran and 1 second passed; the median is reported. Before timing, the ORT,
TF and `rnnkit predict` outputs of one seeded input are compared.

The machine's sgemm rate (Debian's OpenBLAS through ctypes when it is installed,
and numpy's bundled OpenBLAS) gives the ceiling; RNNKit uses its own kernel.

reference_lstm's batch-1 floor: every time step reads each recurrent kernel whole, from
L2, at the rate Benchmarks/cache_read_rate.c measures (compiled with `cc -O2
-march=native`); the input projections can run in the shadow of those reads. Also stated:
the reads plus the projections at the fastest sgemm rate measured, one after the other.
Its batch-32 ceiling: the products' FLOPs at the host's float32 multiply-add ceiling
(Benchmarks/fma_peak.c, `cc -O3 -march=native`), and the share of that ceiling a ratio
limit asks for.

Usage:
    python3 Benchmarks/run_peers.py                       # everything; writes Benchmarks/results.md
    python3 Benchmarks/run_peers.py --rnnkit PATH         # another rnnkit binary
    python3 Benchmarks/run_peers.py --models reference_lstm --peers ort tf
"""

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("CUDA_VISIBLE_DEVICES", "")
os.environ["KERAS_BACKEND"] = "tensorflow"

import argparse
import ctypes
import ctypes.util
import datetime
import json
import platform
import re
import shlex
import statistics
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

from host_probes import CACHE_READ_FLAGS, FMA_PEAK_FLAGS, ProbeError, build, fma_peak, run_probe
from model_inputs import sample_inputs

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
MODELS_DIR = HERE / "models"
WORK_DIR = HERE / "work"
MODEL_NAMES = ["reference_lstm", "simple_rnn_31", "gru", "bidirectional", "cnn_lstm", "attention_seq2seq"]
# Models whose ONNX Runtime graph is RNNKit's own export (`rnnkit convert MODEL.keras MODEL.onnx`):
# the graph built here has recurrent layers and Dense only.
RNNKIT_ONNX_GRAPH = {"cnn_lstm", "attention_seq2seq"}
# Per-layer criteria (`rnnkit bench --layers`), model -> (layer class, layer class it must take less
# time than): issue #12, the CNN-LSTM's convolution faster than its LSTM at batch 32.
LAYER_CRITERIA = {"cnn_lstm": ("Conv1D", "LSTM")}
LOAD_MODEL = "large_lstm"  # 100 MB of weights: only its load is timed
# Models whose batch-1 floor and batch-32 ceiling are stated (issue #14): at batch 1 a time step
# multiplies one row by each recurrent kernel, which it must read whole, from L2 when it does not
# fit L1; at batch 32 the products keep the multiply units busy.
FLOOR_MODELS = {"reference_lstm"}
# cache_read_rate.c's buffer per thread: bigger than L1 and well inside L2 (as half of an LSTM(256)
# kernel is on two threads); and one inside L1, for contrast.
L2_BUFFER_KIB, L1_BUFFER_KIB = 512, 16
CONFIGS = [(1, 1), (1, 2), (32, 1), (32, 2)]  # (batch, threads)
PEERS = ["rnnkit", "ort", "tf"]
PEER_TITLES = {"rnnkit": "RNNKit", "ort": "ONNX Runtime", "tf": "TensorFlow"}
CHECK_BATCH = 2
CHECK_ATOL = 1e-4   # float32 over 100 steps: the peers sum in different orders
NOISY_BUSY = 0.25   # other processes' share of the CPUs above which a measurement is marked noisy

# The timing rule of `rnnkit bench` (Sources/RNNKit/Inference/Benchmark.swift).
WARMUP_RUNS, MIN_RUNS, MIN_SECONDS, MAX_RUNS = 3, 10, 1.0, 10_000


def log(message):
    print(message, file=sys.stderr, flush=True)


def time_calls(call, min_seconds=MIN_SECONDS):
    for _ in range(WARMUP_RUNS):
        call()
    times = []
    start = time.perf_counter()
    while len(times) < MAX_RUNS and (len(times) < MIN_RUNS or time.perf_counter() - start < min_seconds):
        before = time.perf_counter()
        call()
        times.append((time.perf_counter() - before) * 1e3)
    times.sort()
    return {"median_ms": times[len(times) // 2], "min_ms": times[0], "max_ms": times[-1], "runs": len(times)}


def bench_inputs(specs, batch, steps, seed):
    """The model's inputs (manifest.json's `inputs`) as a list, seeded."""
    x = sample_inputs(specs, batch, steps, np.random.default_rng(seed))
    return x if isinstance(x, list) else [x]


# ONNX Runtime's input types, for the arrays fed to a graph.
ORT_INPUT_TYPES = {"tensor(float)": np.float32, "tensor(int64)": np.int64, "tensor(int32)": np.int32}


def ort_feed(session, arrays):
    """The graph's inputs, in order, bound to `arrays` in its types."""
    return {spec.name: array.astype(ORT_INPUT_TYPES[spec.type]) for spec, array in zip(session.get_inputs(), arrays)}


# ---------------------------------------------------------------------------
# Keras weights -> ONNX layout (layouts.md "onnx", keras-formats.md §6.3)
# ---------------------------------------------------------------------------

# π: the Keras gate block feeding ONNX gate q (LSTM i,f,c,o -> i,o,f,c; GRU z,r,h kept).
ONNX_GATE_SOURCE = {"SimpleRNN": [0], "LSTM": [0, 3, 1, 2], "GRU": [0, 1, 2]}
ONNX_OP = {"SimpleRNN": "RNN", "LSTM": "LSTM", "GRU": "GRU"}
ONNX_ACTIVATION = {"tanh": "Tanh", "sigmoid": "Sigmoid", "relu": "Relu"}


def recurrent_parts(layer):
    """(name, [directional Keras RNN layers], merge_mode) of a recurrent layer, else None."""
    kind = type(layer).__name__
    if kind == "Bidirectional":
        return layer.name, [layer.forward_layer, layer.backward_layer], layer.merge_mode
    if kind in ONNX_OP:
        return layer.name, [layer], None
    return None


def keras_to_onnx_layout(model):
    """The tensors `rnnkit convert MODEL OUT.npz --layout onnx` writes, computed from the
    Keras weights: W[d, q·U+j, k] = K[k, π(q)·U+j], R likewise, B = [Wb | Rb]."""
    tensors = {}
    for layer in model.layers:
        parts = recurrent_parts(layer)
        if parts is None:
            if type(layer).__name__ == "Dense":
                tensors[f"{layer.name}.kernel"] = np.asarray(layer.kernel, dtype=np.float32)
                if layer.use_bias:
                    tensors[f"{layer.name}.bias"] = np.asarray(layer.bias, dtype=np.float32)
            elif layer.weights:
                raise NotImplementedError(f"{layer.name}: no ONNX-layout rule for {type(layer).__name__}")
            continue
        name, directions, _ = parts
        Ws, Rs, Bs = [], [], []
        for rnn in directions:
            kind, cell, units = type(rnn).__name__, rnn.cell, rnn.units
            index = np.concatenate([np.arange(p * units, (p + 1) * units) for p in ONNX_GATE_SOURCE[kind]])
            Ws.append(np.asarray(cell.kernel)[:, index].T)
            Rs.append(np.asarray(cell.recurrent_kernel)[:, index].T)
            if cell.use_bias:
                bias = np.asarray(cell.bias)
                if kind == "GRU" and cell.reset_after:
                    input_bias, recurrent_bias = bias[0], bias[1]
                else:
                    input_bias, recurrent_bias = bias, np.zeros_like(bias)
                Bs.append(np.concatenate([input_bias[index], recurrent_bias[index]]))
        tensors[f"{name}.W"] = np.ascontiguousarray(np.stack(Ws), dtype=np.float32)
        tensors[f"{name}.R"] = np.ascontiguousarray(np.stack(Rs), dtype=np.float32)
        if Bs:
            tensors[f"{name}.B"] = np.ascontiguousarray(np.stack(Bs), dtype=np.float32)
    return tensors


def rnnkit_onnx_export(rnnkit, model_path, out_path):
    """RNNKit's own ONNX-layout export: {name: array}, without the model entry."""
    run([rnnkit, "convert", str(model_path), str(out_path), "--layout", "onnx", "--force"])
    with np.load(out_path) as npz:
        return {key: npz[key] for key in npz.files if key != "__rnnkit_model__"}, "__rnnkit_model__" in npz.files


def compare_exports(python_tensors, rnnkit_tensors):
    """Problems between the two exports (an exact conversion: equal bit for bit)."""
    problems = []
    for key in sorted(set(python_tensors) | set(rnnkit_tensors)):
        if key not in rnnkit_tensors:
            problems.append(f"{key}: missing from rnnkit's export")
        elif key not in python_tensors:
            problems.append(f"{key}: in rnnkit's export only")
        else:
            a, b = python_tensors[key], rnnkit_tensors[key]
            if a.shape != b.shape:
                problems.append(f"{key}: shape {list(b.shape)} in rnnkit's export, {list(a.shape)} expected")
            elif b.dtype != np.float32:
                problems.append(f"{key}: dtype {b.dtype} in rnnkit's export, float32 expected")
            elif not np.array_equal(a, b):
                problems.append(f"{key}: values differ by up to {float(np.max(np.abs(a - b))):.3g}")
    return problems


# ---------------------------------------------------------------------------
# The ONNX graph
# ---------------------------------------------------------------------------

def build_onnx_model(model, tensors, steps_fixed):
    """An ONNX graph of `model` (a Sequential of recurrent layers and Dense) over the
    ONNX-layout `tensors`: Transpose to time-major once, the recurrent operators with
    layout=0, Dense as Gemm/MatMul, Transpose back if the output is a sequence."""
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    nodes, initializers, counter = [], [], [0]

    def fresh(prefix):
        counter[0] += 1
        return f"{prefix}_{counter[0]}"

    def constant(name, array):
        initializers.append(numpy_helper.from_array(np.asarray(array), name))
        return name

    def node(op, inputs, n_outputs=1, **attrs):
        outputs = [fresh(op.lower()) for _ in range(n_outputs)]
        nodes.append(helper.make_node(op, inputs, outputs, name=fresh(op), **attrs))
        return outputs if n_outputs > 1 else outputs[0]

    features = model.input_shape[-1]
    steps_dim = model.input_shape[1] if steps_fixed else "steps"
    graph_input = helper.make_tensor_value_info("input", TensorProto.FLOAT, ["batch", steps_dim, features])
    current = node("Transpose", ["input"], perm=[1, 0, 2])   # [T, B, F]
    is_sequence = True

    for layer in model.layers:
        kind = type(layer).__name__
        parts = recurrent_parts(layer)
        if parts is not None:
            if not is_sequence:
                raise NotImplementedError(f"{layer.name}: recurrent layer after a non-sequence output")
            name, directions, merge_mode = parts
            rnn = directions[0]
            rnn_kind, units = type(rnn).__name__, rnn.units
            config = rnn.get_config()
            if len(directions) == 2:
                direction = "bidirectional"
                if merge_mode != "concat":
                    raise NotImplementedError(f"{layer.name}: merge_mode {merge_mode!r} (only concat is built)")
            else:
                direction = "reverse" if config["go_backwards"] else "forward"
            activations = []
            for d in directions:
                c = d.get_config()
                names = {"SimpleRNN": [c["activation"]],
                         "GRU": [c.get("recurrent_activation"), c["activation"]],
                         "LSTM": [c.get("recurrent_activation"), c["activation"], c["activation"]]}[rnn_kind]
                for a in names:
                    if a not in ONNX_ACTIVATION:
                        raise NotImplementedError(f"{layer.name}: activation {a!r} not built")
                activations += [ONNX_ACTIVATION[a] for a in names]
            attrs = {"hidden_size": units, "direction": direction, "activations": activations, "layout": 0}
            if rnn_kind == "GRU":
                attrs["linear_before_reset"] = 1 if rnn.cell.reset_after else 0
            inputs = [current, constant(f"{name}.W", tensors[f"{name}.W"]),
                      constant(f"{name}.R", tensors[f"{name}.R"])]
            if f"{name}.B" in tensors:
                inputs.append(constant(f"{name}.B", tensors[f"{name}.B"]))
            n_outputs = 3 if rnn_kind == "LSTM" else 2
            y, y_h = node(ONNX_OP[rnn_kind], inputs, n_outputs, **attrs)[:2]
            dirs = len(directions)
            if config["return_sequences"]:
                # Y: [T, dirs, B, H]
                if dirs == 1:
                    current = node("Squeeze", [y, constant(fresh("axes"), np.array([1], np.int64))])
                    if config["go_backwards"]:  # Keras returns the reversed-time sequence
                        current = node("Slice", [current, constant(fresh("s"), np.array([-1], np.int64)),
                                                 constant(fresh("e"), np.array([-2**62], np.int64)),
                                                 constant(fresh("a"), np.array([0], np.int64)),
                                                 constant(fresh("st"), np.array([-1], np.int64))])
                else:
                    current = node("Transpose", [y], perm=[0, 2, 1, 3])       # [T, B, 2, H]
                    current = node("Reshape", [current, constant(fresh("shape"), np.array([0, 0, -1], np.int64))])
            else:
                # Y_h: [dirs, B, H]
                if dirs == 1:
                    current = node("Squeeze", [y_h, constant(fresh("axes"), np.array([0], np.int64))])
                else:
                    current = node("Transpose", [y_h], perm=[1, 0, 2])         # [B, 2, H]
                    current = node("Reshape", [current, constant(fresh("shape"), np.array([0, -1], np.int64))])
                is_sequence = False
        elif kind == "Dense":
            kernel = constant(f"{layer.name}.kernel", tensors[f"{layer.name}.kernel"])
            bias_name = f"{layer.name}.bias"
            if is_sequence:
                current = node("MatMul", [current, kernel])
                if bias_name in tensors:
                    current = node("Add", [current, constant(bias_name, tensors[bias_name])])
            else:
                inputs = [current, kernel] + ([constant(bias_name, tensors[bias_name])] if bias_name in tensors else [])
                current = node("Gemm", inputs)
            activation = layer.get_config()["activation"]
            if activation in ("sigmoid", "tanh", "relu"):
                current = node(ONNX_ACTIVATION[activation], [current])
            elif activation == "softmax":
                current = node("Softmax", [current], axis=-1)
            elif activation != "linear":
                raise NotImplementedError(f"{layer.name}: Dense activation {activation!r} not built")
        elif kind in ("Dropout", "InputLayer"):
            continue
        else:
            raise NotImplementedError(f"{layer.name}: {kind} is not built into the ONNX graph")

    if is_sequence:
        current = node("Transpose", [current], perm=[1, 0, 2])
    nodes.append(helper.make_node("Identity", [current], ["output"], name="output"))
    output_shape = ["batch"] + [d if d is not None else steps_dim for d in model.output_shape[1:]]
    graph_output = helper.make_tensor_value_info("output", TensorProto.FLOAT, output_shape)
    graph = helper.make_graph(nodes, model.name, [graph_input], [graph_output], initializers)
    onnx_model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)],
                                   producer_name="RNNKit Benchmarks/run_peers.py")
    onnx_model.ir_version = 8
    onnx.checker.check_model(onnx_model)
    return onnx_model


# ---------------------------------------------------------------------------
# Workers: one process per peer and thread count
# ---------------------------------------------------------------------------

def ort_session(model, threads):
    """An ONNX Runtime CPU session of `model` (a path or serialized bytes) on `threads` intra-op
    threads, one inter-op, sequential, every graph optimization: how every script here runs ORT."""
    import onnxruntime as ort
    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    return ort.InferenceSession(model if isinstance(model, bytes) else str(model), options,
                                providers=["CPUExecutionProvider"])


def worker_ort(args):
    import onnxruntime as ort
    session = ort_session(args.model, args.threads)
    results = []
    for batch in args.batches:
        feed = ort_feed(session, bench_inputs(json.loads(args.inputs), batch, args.steps, seed=batch))
        results.append({"batch": batch, **time_calls(lambda: session.run(None, feed))})
    print(json.dumps({"version": ort.__version__, "results": results}))


def worker_tf(args):
    import tensorflow as tf
    tf.config.threading.set_intra_op_parallelism_threads(args.threads)
    tf.config.threading.set_inter_op_parallelism_threads(1)
    import keras
    model = keras.models.load_model(args.model, compile=False)
    forward = tf.function(lambda x: model(x, training=False))
    results = []
    for batch in args.batches:
        x = [tf.constant(a) for a in bench_inputs(json.loads(args.inputs), batch, args.steps, seed=batch)]
        x = x[0] if len(x) == 1 else x
        forward(x)  # trace
        results.append({"batch": batch, **time_calls(lambda: forward(x).numpy())})
    print(json.dumps({"version": tf.__version__, "keras": keras.__version__,
                      "onednn": os.environ.get("TF_ENABLE_ONEDNN_OPTS", "default (on)"), "results": results}))


def load_debian_openblas():
    for candidate in ("/usr/lib/x86_64-linux-gnu/libopenblas.so.0", "/usr/lib/aarch64-linux-gnu/libopenblas.so.0",
                      ctypes.util.find_library("openblas")):
        if candidate and (not candidate.startswith("/") or Path(candidate).exists()):
            try:
                return ctypes.CDLL(candidate), candidate
            except OSError:
                continue
    return None, None


def worker_sgemm(args):
    """sgemm GFLOP/s of Debian's OpenBLAS (ctypes) and numpy's bundled one, both at args.threads."""
    shapes = [(2048, 2048, 2048), (32, 1024, 1024)]
    out = {"threads": args.threads, "numpy": {}, "openblas": {}}
    rng = np.random.default_rng(0)
    for m, n, k in shapes:
        a = rng.standard_normal((m, k), dtype=np.float32)
        b = rng.standard_normal((k, n), dtype=np.float32)
        c = np.empty((m, n), np.float32)
        t = time_calls(lambda: np.matmul(a, b, out=c), min_seconds=args.seconds)
        out["numpy"][f"{m}x{k}x{n}"] = 2 * m * n * k / (t["median_ms"] * 1e6)
    lib, path = load_debian_openblas()
    if lib is None:
        out["openblas"] = None
    else:
        lib.openblas_set_num_threads(ctypes.c_int(args.threads))
        lib.openblas_get_config.restype = ctypes.c_char_p
        lib.openblas_get_corename.restype = ctypes.c_char_p
        out["openblas_library"] = path
        out["openblas_config"] = lib.openblas_get_config().decode()
        out["openblas_core"] = lib.openblas_get_corename().decode()
        f = ctypes.c_float
        p = ctypes.c_void_p
        lib.cblas_sgemm.argtypes = [ctypes.c_int] * 6 + [f, p, ctypes.c_int, p, ctypes.c_int, f, p, ctypes.c_int]
        lib.cblas_sgemm.restype = None
        for m, n, k in shapes:
            a = rng.standard_normal((m, k), dtype=np.float32)
            b = rng.standard_normal((k, n), dtype=np.float32)
            c = np.zeros((m, n), np.float32)
            call = lambda: lib.cblas_sgemm(101, 111, 111, m, n, k, 1.0, a.ctypes.data, k, b.ctypes.data, n,
                                           0.0, c.ctypes.data, n)  # row-major, no transposes
            call()
            if not np.allclose(c, a @ b, rtol=1e-3, atol=1e-2):
                raise RuntimeError("cblas_sgemm through ctypes gave a wrong product")
            t = time_calls(call, min_seconds=args.seconds)
            out["openblas"][f"{m}x{k}x{n}"] = 2 * m * n * k / (t["median_ms"] * 1e6)
    print(json.dumps(out))


def run_worker(kind, threads, extra):
    """Runs this script as a worker in a fresh process; returns its JSON (or raises)."""
    env = dict(os.environ)
    env.update({"OMP_NUM_THREADS": str(threads), "OPENBLAS_NUM_THREADS": str(threads),
                "MKL_NUM_THREADS": str(threads)})
    command = [sys.executable, str(Path(__file__).resolve()), "--worker", kind, "--threads", str(threads)] + extra
    done = subprocess.run(command, capture_output=True, text=True, env=env)
    if done.returncode != 0:
        raise RuntimeError(f"{kind} worker failed ({done.returncode}): {tail(done.stderr)}")
    return json.loads(done.stdout.strip().splitlines()[-1])


# ---------------------------------------------------------------------------
# The batch-1 floor
# ---------------------------------------------------------------------------

def recurrent_traffic(model):
    """(bytes of recurrent kernel read by one time step of every recurrent layer, input-projection
    multiply-adds per time step and batch row), from the model's weights: a step multiplies the
    state by each direction's recurrent kernel, and each input row by its input kernel."""
    step_bytes, projection_macs = 0, 0
    for layer in model.layers:
        parts = recurrent_parts(layer)
        if parts is None:
            continue
        for rnn in parts[1]:
            recurrent = np.asarray(rnn.cell.recurrent_kernel)
            step_bytes += recurrent.size * recurrent.itemsize
            projection_macs += np.asarray(rnn.cell.kernel).size
    return step_bytes, projection_macs


def cache_read_rates(wait_idle):
    """The host's read rates into registers (Benchmarks/cache_read_rate.c compiled with
    CACHE_READ_FLAGS, best of three runs): ({"compile", "vector_bits", "rates": [{"threads", "l2",
    "l1"} in GB/s, all threads together]}, None), or (None, why not)."""
    measured = {"compile": shlex.join(["cc", *CACHE_READ_FLAGS]), "vector_bits": None, "rates": []}
    try:
        binary = build("cache_read_rate.c", WORK_DIR, CACHE_READ_FLAGS)
        for threads in (1, 2):
            rate = {"threads": threads}
            for level, kib in (("l2", L2_BUFFER_KIB), ("l1", L1_BUFFER_KIB)):
                wait_idle()
                runs = [run_probe([binary, threads, kib]).split() for _ in range(3)]
                rate[level] = max(float(gbps) for gbps, _ in runs)
                measured["vector_bits"] = int(runs[0][1])
            measured["rates"].append(rate)
    except (ProbeError, ValueError) as error:
        return None, f"Benchmarks/cache_read_rate.c: {error}; no batch-1 floor stated"
    return measured, None


def fma_ceilings(wait_idle):
    """The host's float32 multiply-add ceiling on 1 and 2 threads (Benchmarks/fma_peak.c, best of
    three runs): ({"compile", "rates": [{"threads", "gflops"}]}, None), or (None, why not)."""
    try:
        rates = [{"threads": threads, "gflops": fma_peak(threads, WORK_DIR, before_each=wait_idle)}
                 for threads in (1, 2)]
    except ProbeError as error:
        return None, f"Benchmarks/fma_peak.c: {error}; no batch-32 ceiling stated"
    return {"compile": shlex.join(["cc", *FMA_PEAK_FLAGS]), "rates": rates}, None


def fma_gflops(report):
    """{threads: GFLOP/s} of the FMA ceiling measured in this run ({} when none was)."""
    return {rate["threads"]: rate["gflops"] for rate in (report.get("fma_ceiling") or {}).get("rates", [])}


def ceiling_share(report, key, limit):
    """The share of the host's FMA ceiling that the model's products alone would need to run at for
    RNNKit / ORT to reach `limit` in the row `key` (model, batch, threads); None where not measured."""
    gflops = fma_gflops(report)
    row = next((r for r in report["rows"] if (r["model"], r["batch"], r["threads"]) == key), {})
    ort = row.get("ort")
    if not isinstance(ort, (int, float)) or ort <= 0 or key[2] not in gflops:
        return None
    return row["flops"] / (limit * ort * 1e6) / gflops[key[2]]


def fastest_sgemm(report, threads):
    """(GFLOP/s, which library and shape) of the fastest sgemm measured on `threads` threads, or
    (None, None) when none was (--no-sgemm)."""
    measured = [(rate, f"{title} {shape.replace('x', '×')}")
                for s in report["sgemm"] if s["threads"] == threads
                for key, title in (("openblas", "Debian OpenBLAS"), ("numpy", "numpy's OpenBLAS"))
                for shape, rate in (s.get(key) or {}).items()]
    return max(measured, default=(None, None))


def batch1_floors(report, traffic, read_rates):
    """The floor of each FLOOR_MODELS model at batch 1 and 1 or 2 threads: T steps × the recurrent
    bytes a step reads / the L2 read rate on that many threads (each core reading its share of every
    kernel from its own L2); and that plus the input projections' FLOPs at the fastest sgemm rate
    measured, for the projections run apart instead of in the reads' shadow."""
    floors = []
    for name, (steps, step_bytes, projection_macs) in traffic.items():
        for rate in read_rates["rates"]:
            threads = rate["threads"]
            sgemm, sgemm_source = fastest_sgemm(report, threads)
            recurrent_ms = steps * step_bytes / (rate["l2"] * 1e9) * 1e3
            projection_flops = 2 * steps * projection_macs
            projection_ms = projection_flops / (sgemm * 1e9) * 1e3 if sgemm else 0.0
            floors.append({"model": name, "batch": 1, "threads": threads, "steps": steps,
                           "recurrent_bytes_per_step": step_bytes, "l2_read_gbps": rate["l2"],
                           "l1_read_gbps": rate["l1"], "recurrent_ms": recurrent_ms,
                           "projection_flops": projection_flops, "sgemm_gflops": sgemm,
                           "sgemm_source": sgemm_source, "projection_ms": projection_ms,
                           "floor_ms": recurrent_ms, "apart_ms": recurrent_ms + projection_ms})
    return floors


def floor_over_ort(report):
    """{(model, batch, threads): floor ms / ONNX Runtime's median ms} where both were measured."""
    ort = {(r["model"], r["batch"], r["threads"]): r.get("ort") for r in report["rows"]}
    ratios = {}
    for floor in report.get("floor", {}).get("rows", []):
        key = (floor["model"], floor["batch"], floor["threads"])
        if isinstance(ort.get(key), (int, float)) and ort[key] > 0:
            ratios[key] = floor["floor_ms"] / ort[key]
    return ratios


# ---------------------------------------------------------------------------
# rnnkit
# ---------------------------------------------------------------------------

def tail(text, lines=3):
    return " | ".join(text.strip().splitlines()[-lines:]) or "(no output)"


def run(command):
    done = subprocess.run([str(c) for c in command], capture_output=True, text=True, cwd=REPO)
    if done.returncode != 0:
        raise RuntimeError(f"`{shlex.join(str(c) for c in command)}` exited {done.returncode}: {tail(done.stderr)}")
    return done.stdout


def rnnkit_onnx_graph(rnnkit, model_path, onnx_path, name):
    """RNNKit's own ONNX export of the model into `onnx_path`: {} when written, else
    {name: "not exportable: <rnnkit's one-line reason>"}."""
    done = subprocess.run([rnnkit, "convert", str(model_path), str(onnx_path), "--force"],
                          capture_output=True, text=True, cwd=REPO)
    if done.returncode == 0:
        return {}
    reason = (done.stderr.strip().splitlines() or [f"rnnkit convert exited {done.returncode}"])[-1]
    # "rnnkit: error: PATH: layer: why" without the parts every row would repeat.
    reason = reason.removeprefix("rnnkit: error: ").removeprefix(f"{model_path}: ")
    return {name: f"not exportable: {reason}"}


def rnnkit_subcommands(rnnkit):
    """The subcommands `rnnkit --help` lists, or None when the binary is missing."""
    if not Path(rnnkit).exists():
        return None
    try:
        text = run([rnnkit, "--help"])
    except (RuntimeError, OSError):
        return None
    listing = text.split("SUBCOMMANDS:", 1)[-1]
    return set(re.findall(r"^\s{2}(\w[\w-]*)\s", listing, flags=re.M))


def rnnkit_bench(rnnkit, model_path, batch, steps, threads, layers=False):
    """`rnnkit bench --json`; with `layers`, its JSON lists each layer call's median time too."""
    stdout = run([rnnkit, "bench", model_path, "--batch", batch, "--steps", steps, "--threads", threads, "--json"]
                 + (["--layers"] if layers else []))
    result = json.loads(stdout[stdout.index("{"):])   # one JSON object, maybe pretty-printed
    if (result.get("batch"), result.get("steps"), result.get("threads")) != (batch, steps, threads):
        raise ValueError(f"rnnkit bench ran batch/steps/threads {result.get('batch')}/{result.get('steps')}/"
                         f"{result.get('threads')}, not {batch}/{steps}/{threads}")
    return result


# ---------------------------------------------------------------------------
# The driver
# ---------------------------------------------------------------------------

def ensure_models(names):
    manifest_path = MODELS_DIR / "manifest.json"
    manifest = json.loads(manifest_path.read_text()) if manifest_path.exists() else {"models": {}}
    # An entry without `inputs` was written before make_models.py recorded them.
    missing = [n for n in names if n not in manifest["models"] or "inputs" not in manifest["models"][n]
               or not (MODELS_DIR / manifest["models"][n]["keras"]).exists()]
    if missing:
        log(f"building {', '.join(missing)} with Benchmarks/make_models.py")
        subprocess.run([sys.executable, str(HERE / "make_models.py"), *missing], check=True,
                       stdout=sys.stderr)
        manifest = json.loads(manifest_path.read_text())
    return manifest


def cpu_busy(seconds=0.5):
    """Fraction of the machine's CPU time that other processes used over `seconds`
    (this script sleeps meanwhile): how noisy the next measurement may be."""
    def sample():
        fields = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
        return sum(fields), fields[3] + fields[4]  # total, idle + iowait
    try:
        total0, idle0 = sample()
        time.sleep(seconds)
        total1, idle1 = sample()
    except OSError:
        return 0.0
    return 1.0 - (idle1 - idle0) / max(1, total1 - total0)


class IdleWaiter:
    """Before each measurement, waits for other processes to leave the CPUs idle: up to
    30 s each time and `budget` seconds over the whole run. Records how busy they were."""

    def __init__(self, budget, threshold=NOISY_BUSY):
        self.budget, self.threshold, self.busy = budget, threshold, []

    def __call__(self):
        start = time.time()
        busy = cpu_busy()
        while busy > self.threshold and time.time() - start < min(30.0, self.budget):
            busy = cpu_busy(2.0)
        self.budget = max(0.0, self.budget - (time.time() - start))
        self.busy.append(busy)
        return busy


def machine_description():
    info = {"cpu": platform.processor() or "?", "cores": os.cpu_count(), "flags": ""}
    try:
        text = Path("/proc/cpuinfo").read_text()
        get = lambda key: (re.search(rf"^{key}\s*:\s*(.*)$", text, flags=re.M) or [None, "?"])[1]
        info["cpu"] = get("model name")
        info["family"] = get("cpu family")
        info["model"] = get("model")
        flags = get("flags").split()
        info["simd"] = "AVX-512" if "avx512f" in flags else "AVX2" if "avx2" in flags else "below AVX2"
    except OSError:
        pass
    for line in subprocess.run(["lscpu"], capture_output=True, text=True).stdout.splitlines():
        if line.startswith(("L2 cache", "L3 cache")):
            key, value = line.split(":", 1)
            info[key.strip()] = value.strip()
    return info


def git_revision():
    try:
        rev = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, cwd=REPO).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--", "Sources", "Package.swift"],
                               capture_output=True, text=True, cwd=REPO).stdout.strip()
        return rev + (" + uncommitted changes in Sources/" if dirty else "")
    except OSError:
        return "?"


def check_outputs(name, model, entry, onnx_path, rnnkit, can_predict):
    """Max |difference| between the peers' outputs on one seeded input, before any timing."""
    import onnxruntime as ort
    x = bench_inputs(entry["inputs"], CHECK_BATCH, entry["steps"], seed=12345)
    outputs = {"tf": np.asarray(model(x[0] if len(x) == 1 else x, training=False), dtype=np.float32)}
    if onnx_path is not None:
        session = ort.InferenceSession(str(onnx_path), providers=["CPUExecutionProvider"])
        outputs["ort"] = session.run(None, ort_feed(session, x))[0]
    notes = []
    if can_predict:
        y_path = WORK_DIR / f"{name}.rnnkit_output.npy"
        input_options = []
        for index, array in enumerate(x):
            np.save(WORK_DIR / f"{name}.check_input_{index}.npy", array)
            input_options += ["--input", WORK_DIR / f"{name}.check_input_{index}.npy"]
        try:
            run([rnnkit, "predict", MODELS_DIR / entry["keras"], *input_options, "--output", y_path, "--force"])
            outputs["rnnkit"] = np.load(y_path)
        except RuntimeError as error:
            notes.append(f"rnnkit predict failed: {error}")
    diffs = {}
    for a, b in (("ort", "tf"), ("rnnkit", "tf"), ("rnnkit", "ort")):
        if a in outputs and b in outputs:
            if outputs[a].shape != outputs[b].shape:
                diffs[f"{a}-{b}"] = float("inf")
                notes.append(f"{a} output shape {outputs[a].shape} != {b} {outputs[b].shape}")
            else:
                diffs[f"{a}-{b}"] = float(np.max(np.abs(outputs[a] - outputs[b])))
    return diffs, notes


def fmt_ms(value, noisy=False):
    if value is None:
        return "—"
    if isinstance(value, str):
        return value
    text = f"{value:.3f}" if value < 1 else f"{value:.2f}" if value < 100 else f"{value:.0f}"
    return text + ("\\*" if noisy else "")


def fmt_ratio(a, b):
    if isinstance(a, (int, float)) and isinstance(b, (int, float)) and b > 0:
        return f"{a / b:.2f}"
    return "—"


def criteria(report):
    """The speed issue's done-when lines, each with its measured value."""
    rows = {(r["model"], r["batch"], r["threads"]): r for r in report["rows"]}

    def ratio(model, batch, threads):
        row = rows.get((model, batch, threads), {})
        r, o = row.get("rnnkit"), row.get("ort")
        return r / o if isinstance(r, (int, float)) and isinstance(o, (int, float)) else None

    def verdict(value, limit):
        return "—" if value is None else ("met" if value <= limit else "NOT met")

    lines = ["| criterion | measured | limit | |", "|---|---:|---:|---|"]
    checks = [(f"reference_lstm, batch {b}, {t} thread{'s' if t > 1 else ''}: RNNKit / ORT", ("reference_lstm", b, t),
               0.8 if b == 1 else 0.9) for b, t in CONFIGS]
    checks += [(f"{model}, batch {b}, {t} thread{'s' if t > 1 else ''}: RNNKit / ORT", (model, b, t), 1.0)
               for model in ("gru", "bidirectional", "cnn_lstm", "attention_seq2seq") for b, t in CONFIGS]
    checks.append(("simple_rnn_31, batch 1, 1 thread: RNNKit / ORT", ("simple_rnn_31", 1, 1), 0.2))
    floors = floor_over_ort(report)
    for label, key, limit in checks:
        value = ratio(*key)
        below_floor = (f"; the limit is below the host's bandwidth floor (floor / ORT {floors[key]:.2f})"
                       if floors.get(key, 0) > limit else "")
        share = ceiling_share(report, key, limit) if key[0] in FLOOR_MODELS and key[1] > 1 else None
        needs = (f"; reaching the limit needs the products alone at {share:.0%} of the host's FMA ceiling"
                 if share is not None else "")
        lines.append(f"| {label} | {'—' if value is None else f'{value:.2f}'} | ≤ {limit:g} | "
                     f"{verdict(value, limit)}{below_floor}{needs} |")
    for (model, (faster, slower)), threads in ((item, t) for item in LAYER_CRITERIA.items() for t in (1, 2)):
        layer_ms = {}  # each layer class's lowest median over the rounds
        for result in rows.get((model, 32, threads), {}).get("rnnkit_json", []):
            for layer in result.get("layers", []):
                layer_ms[layer["class_name"]] = min(layer_ms.get(layer["class_name"], float("inf")), layer["median_ms"])
        if faster in layer_ms and slower in layer_ms:
            share = layer_ms[faster] / layer_ms[slower]
            lines.append(f"| {model}, batch 32, {threads} thread{'s' if threads > 1 else ''}: RNNKit's {faster} ms / its "
                         f"{slower} ms (`rnnkit bench --layers`: {layer_ms[faster]:.2f} / {layer_ms[slower]:.2f}) | "
                         f"{share:.2f} | < 1 | {'met' if share < 1 else 'NOT met'} |")
    for threads in (1, 2):
        row = rows.get(("reference_lstm", 32, threads), {})
        rates = [s["openblas"]["2048x2048x2048"] for s in report.get("sgemm", []) if s["threads"] == threads and s.get("openblas")]
        if isinstance(row.get("rnnkit"), (int, float)) and rates:
            share = row["flops"] / (row["rnnkit"] * 1e6) / max(rates)
            lines.append(f"| reference_lstm, batch 32, {threads} thread{'s' if threads > 1 else ''}: RNNKit GFLOP/s / "
                         f"Debian OpenBLAS sgemm GFLOP/s ({threads} thread{'s' if threads > 1 else ''}) | "
                         f"{share:.0%} | ≥ 85% | {'met' if share >= 0.85 else 'NOT met'} |")
    for item in report.get("loading", []):
        if not item["file"].startswith(LOAD_MODEL):
            continue
        load = item["load_ms"] / item["read_ms"]
        lines.append(f"| {item['file']} ({item['size'] / 1e6:.0f} MB): load / reading the file | {load:.2f} | ≤ 2 | "
                     f"{verdict(load, 2.0)} |")
        if item.get("load_peak_added_bytes") is not None:
            peak = item["load_peak_added_bytes"] / item["weight_bytes"]
            lines.append(f"| {item['file']}: peak memory added by the load / weights | {peak:.2f} | < 1.5 | "
                         f"{verdict(peak, 1.5)} |")
        if item.get("predictor_peak_added_bytes") is not None:
            peak = item["predictor_peak_added_bytes"] / item["weight_bytes"]
            lines.append(f"| {item['file']}: peak memory added by a Predictor and its predictions / weights | "
                         f"{peak:.2f} | ≤ 1.3 | {verdict(peak, 1.3)} |")
    return lines


def kernel_paths(report):
    """The kernel paths `rnnkit bench` said it ran (`"kernel"` in its JSON)."""
    return {j.get("kernel", "?") for row in report["rows"] for j in row.get("rnnkit_json", [])}


def render_floor(report):
    """The batch-1 floor table and how it is made."""
    floor = report["floor"]
    rates = {r["threads"]: r for r in floor["read_rates"]["rates"]}
    one, two = rates.get(1, {}), rates.get(2, {})
    ratios = floor_over_ort(report)
    rows = {(r["model"], r["batch"], r["threads"]): r for r in report["rows"]}
    lines = [f"Batch-1 floor: at batch 1 a time step multiplies one row by each recurrent kernel, so it reads "
             f"every recurrent weight (float32) once a step; a kernel that does not fit L1 streams from L2. "
             f"Benchmarks/cache_read_rate.c (`{floor['read_rates']['compile']}`, {floor['read_rates']['vector_bits']}-bit vectors) "
             f"sums a {L2_BUFFER_KIB} KiB buffer per thread, inside L2, at {one.get('l2', 0):.0f} GB/s on 1 thread "
             f"and {two.get('l2', 0):.0f} GB/s on 2 (each core its own buffer, as two threads each read their share of "
             f"every kernel from their own L2); a {L1_BUFFER_KIB} KiB one, inside L1, at {one.get('l1', 0):.0f} and "
             f"{two.get('l1', 0):.0f} GB/s. Floor = T × recurrent bytes per step / that L2 rate: a lower bound "
             f"for any implementation that keeps float32 weights and reads each recurrent weight once per step, "
             f"with the input projections' multiply-adds hidden in the shadow of those reads (RNNKit hides part "
             f"of them: its riding projection). Apart = the floor + the projections' FLOPs at the fastest sgemm "
             f"rate measured above, for the projections run before the reads.", "",
             "| model | batch | threads | recurrent MB per step | L2 read GB/s | floor ms (reads) | "
             "projection MFLOP | sgemm GFLOP/s | projections ms | apart ms | ONNX Runtime ms | floor / ORT | "
             "apart / ORT | RNNKit / ORT |",
             "|---|---:|---:|---:|---:|---:|---:|---|---:|---:|---:|---:|---:|---:|"]
    for f in floor["rows"]:
        key = (f["model"], f["batch"], f["threads"])
        row = rows.get(key, {})
        sgemm = (f"{f['sgemm_gflops']:.0f} ({f['sgemm_source']})" if f["sgemm_gflops"]
                 else "not measured (--no-sgemm): not counted")
        lines.append(f"| {f['model']} (T={f['steps']}) | {f['batch']} | {f['threads']} | "
                     f"{f['recurrent_bytes_per_step'] / 1e6:.2f} | {f['l2_read_gbps']:.0f} | {f['recurrent_ms']:.2f} | "
                     f"{f['projection_flops'] / 1e6:.1f} | {sgemm} | {f['projection_ms']:.2f} | "
                     f"{f['apart_ms']:.2f} | {fmt_ms(row.get('ort'))} | "
                     f"{f'{ratios[key]:.2f}' if key in ratios else '—'} | {fmt_ratio(f['apart_ms'], row.get('ort'))} | "
                     f"{fmt_ratio(row.get('rnnkit'), row.get('ort'))} |")
    return lines + [""]


def render_ceiling(report):
    """The batch-32 ceiling table: the FLOOR_MODELS' products at the host's FMA ceiling."""
    ceiling, gflops = report["fma_ceiling"], fma_gflops(report)
    lines = [f"Batch-32 ceiling: at batch 32 the products keep the multiply units busy, so their FLOPs at the "
             f"host's float32 multiply-add ceiling bound any implementation that computes every product in "
             f"float32. Benchmarks/fma_peak.c (`{ceiling['compile']}`) runs independent fused multiply-adds on "
             f"registers alone: {gflops[1]:.0f} GFLOP/s on 1 thread, {gflops[2]:.0f} on 2. Products ms = the "
             f"model's multiply-adds × 2 (as in the GFLOP/s table) / that ceiling, before any activation, copy "
             f"or synchronisation. Needed share = the ceiling's share that the products alone would need for "
             f"RNNKit / ORT ≤ 0.9.", "",
             "| model | batch | threads | GFLOP | FMA ceiling GFLOP/s | products ms | ONNX Runtime ms | "
             "products / ORT | RNNKit ms | RNNKit share of ceiling | ORT share of ceiling | needed share for 0.9 |",
             "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for row in report["rows"]:
        key = (row["model"], row["batch"], row["threads"])
        if row["model"] not in FLOOR_MODELS or row["batch"] == 1 or row["threads"] not in gflops:
            continue
        peak = gflops[row["threads"]]
        products_ms = row["flops"] / (peak * 1e6)

        def share(ms):
            return f"{row['flops'] / (ms * 1e6) / peak:.0%}" if isinstance(ms, (int, float)) else "—"

        needed = ceiling_share(report, key, 0.9)
        lines.append(f"| {row['model']} (T={row['steps']}) | {row['batch']} | {row['threads']} | "
                     f"{row['flops'] / 1e9:.2f} | {peak:.0f} | {products_ms:.2f} | {fmt_ms(row.get('ort'))} | "
                     f"{fmt_ratio(products_ms, row.get('ort'))} | {fmt_ms(row.get('rnnkit'))} | "
                     f"{share(row.get('rnnkit'))} | {share(row.get('ort'))} | "
                     f"{'—' if needed is None else f'{needed:.0%}'} |")
    return lines + [""]


def render(report):
    lines = []
    m = report["machine"]
    lines += [f"Measured {report['date']} on {m['cpu']} (cpu family {m.get('family', '?')}, model {m.get('model', '?')}), "
              f"{m['cores']} cores, {m.get('simd', '?')}, L2 {m.get('L2 cache', '?')}, L3 {m.get('L3 cache', '?')}.",
              f"RNNKit {report['rnnkit_revision']} (`{report['rnnkit_binary']}`), kernel path "
              f"{', '.join(sorted(kernel_paths(report))) or '?'}; "
              + ", ".join(f"{k} {v}" for k, v in report["versions"].items()) + ".",
              f"ONNX weights: {report['export_source']}.", ""]

    lines += ["Median ms per prediction (batch × T time steps), lower is better; ratios below 1 mean RNNKit is faster.", "",
              "| model | batch | threads | RNNKit | ONNX Runtime | TensorFlow | RNNKit / ORT | RNNKit / TF |",
              "|---|---:|---:|---:|---:|---:|---:|---:|"]
    for row in report["rows"]:
        r, o, t = (row.get(p) for p in PEERS)
        r_, o_, t_ = (fmt_ms(row.get(p), row.get(f"{p}_noisy", False)) for p in PEERS)
        lines.append(f"| {row['model']} (T={row['steps']}) | {row['batch']} | {row['threads']} | {r_} | "
                     f"{o_} | {t_} | {fmt_ratio(r, o)} | {fmt_ratio(r, t)} |")
    if any(row.get(f"{p}_noisy") for row in report["rows"] for p in PEERS):
        lines += ["", f"\\* other processes used more than {NOISY_BUSY:.0%} of the CPUs just before this measurement."]
    lines.append("")

    if report["rows"]:
        lines += ["Effective GFLOP/s (multiply-adds × 2 of the recurrent, Conv1D, Attention and Dense layers / median time):", "",
                  "| model | batch | threads | RNNKit | ONNX Runtime | TensorFlow |", "|---|---:|---:|---:|---:|---:|"]
        for row in report["rows"]:
            if row["model"] == "simple_rnn_31":
                continue
            cells = []
            for p in PEERS:
                v = row.get(p)
                cells.append(f"{row['flops'] / (v * 1e6):.1f}" if isinstance(v, (int, float)) else "—")
            lines.append(f"| {row['model']} | {row['batch']} | {row['threads']} | " + " | ".join(cells) + " |")
        lines.append("")

    if report.get("loading"):
        lines += ["Loading (`rnnkit bench` in one process, page cache warm): the load against reading the same "
                  "file whole into fresh memory, and the most memory the load added against the weights' size "
                  "(the load's fixed costs, about 5 ms and 5 MB, dominate small files):", "",
                  "| file | size MB | read ms | load ms | load / read | peak added MB | weights MB | peak / weights |",
                  "|---|---:|---:|---:|---:|---:|---:|---:|"]
        for item in report["loading"]:
            peak = item.get("load_peak_added_bytes")
            lines.append(f"| {item['file']} | {item['size'] / 1e6:.1f} | {item['read_ms']:.1f} | {item['load_ms']:.1f} | "
                         f"{item['load_ms'] / item['read_ms']:.2f} | "
                         + (f"{peak / 1e6:.1f} | {item['weight_bytes'] / 1e6:.1f} | {peak / item['weight_bytes']:.2f} |"
                            if peak is not None else f"— | {item['weight_bytes'] / 1e6:.1f} | — |"))
        lines.append("")

    if report.get("sgemm"):
        lines += ["sgemm GFLOP/s, [M×K]·[K×N]: the machine's matrix-multiply rate (OpenBLAS; RNNKit uses its own "
                  "kernel, not OpenBLAS):", "",
                  "| library | threads | 2048×2048×2048 | 32×1024×1024 |", "|---|---:|---:|---:|"]
        for s in report["sgemm"]:
            if s.get("openblas"):
                lines.append(f"| Debian OpenBLAS ({s.get('openblas_core', '?')}) | {s['threads']} | "
                             f"{s['openblas']['2048x2048x2048']:.0f} | {s['openblas']['32x1024x1024']:.0f} |")
            lines.append(f"| numpy's bundled OpenBLAS | {s['threads']} | {s['numpy']['2048x2048x2048']:.0f} | "
                         f"{s['numpy']['32x1024x1024']:.0f} |")
        lines.append("")

    if report.get("floor"):
        lines += render_floor(report)
    if report.get("fma_ceiling"):
        lines += render_ceiling(report)

    lines += ["The speed issue's criteria, from the tables above:", ""] + criteria(report) + [""]

    lines += [f"Agreement before timing (max |difference| of the outputs, batch {CHECK_BATCH}, seeded input; "
              f"must be ≤ {CHECK_ATOL:g}):", "", "| model | ORT vs TF | RNNKit vs TF | RNNKit vs ORT |", "|---|---:|---:|---:|"]
    for name, check in report["checks"].items():
        d = check["diffs"]
        cell = lambda k: f"{d[k]:.1e}" if k in d else "—"
        lines.append(f"| {name} | {cell('ort-tf')} | {cell('rnnkit-tf')} | {cell('rnnkit-ort')} |")
    lines.append("")
    if report["notes"]:
        lines += ["Notes:", ""] + [f"- {n}" for n in report["notes"]] + [""]
    return "\n".join(lines)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rnnkit", default=str(REPO / ".build/release/rnnkit"), help="the rnnkit binary")
    parser.add_argument("--models", nargs="+", default=MODEL_NAMES, choices=MODEL_NAMES)
    parser.add_argument("--peers", nargs="+", default=PEERS, choices=PEERS)
    parser.add_argument("--export", choices=["auto", "rnnkit", "python"], default="auto",
                        help="ONNX weights from `rnnkit convert` (rnnkit), from Python (python), or rnnkit's "
                             "when the command exists (auto, the default)")
    parser.add_argument("--rounds", type=int, default=1,
                        help="time everything this many times, keep each cell's lowest median (default 1; "
                             "3 on a noisy machine)")
    parser.add_argument("--no-sgemm", action="store_true", help="skip the sgemm measurement")
    parser.add_argument("--no-load", action="store_true",
                        help=f"skip timing the load of every model file (and of {LOAD_MODEL}, 100 MB)")
    parser.add_argument("--wait-idle", type=float, default=180, metavar="SECONDS",
                        help="before each measurement, wait for other processes to leave the CPUs idle, "
                             "at most 30 s each time and SECONDS in all (default 180; 0: never wait)")
    parser.add_argument("--out", type=Path, default=HERE / "results.md", help="the markdown report")
    # Worker mode (internal).
    parser.add_argument("--worker", choices=["ort", "tf", "sgemm"], help=argparse.SUPPRESS)
    parser.add_argument("--threads", type=int, default=1, help=argparse.SUPPRESS)
    parser.add_argument("--model", help=argparse.SUPPRESS)
    parser.add_argument("--batches", type=int, nargs="+", default=[1], help=argparse.SUPPRESS)
    parser.add_argument("--steps", type=int, default=100, help=argparse.SUPPRESS)
    parser.add_argument("--inputs", help=argparse.SUPPRESS)  # manifest.json's input specs, as JSON
    parser.add_argument("--seconds", type=float, default=1.0, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)

    if args.worker:
        {"ort": worker_ort, "tf": worker_tf, "sgemm": worker_sgemm}[args.worker](args)
        return 0

    started = time.time()
    WORK_DIR.mkdir(exist_ok=True)
    manifest = ensure_models(args.models + ([] if args.no_load else [LOAD_MODEL]))

    import onnx
    import onnxruntime
    import tensorflow as tf
    import keras

    rnnkit = os.path.abspath(args.rnnkit) if Path(args.rnnkit).exists() else args.rnnkit
    commands = rnnkit_subcommands(rnnkit)
    notes = []
    if commands is None:
        notes.append(f"no rnnkit binary at `{args.rnnkit}` (build it with `swift build -c release --product rnnkit`)")
        commands = set()
    can_bench, can_convert, can_predict = "bench" in commands, "convert" in commands, "predict" in commands
    if "rnnkit" in args.peers and not can_bench and commands:
        notes.append("`rnnkit bench` does not exist in this binary yet: RNNKit column empty")
    if args.export == "rnnkit" and not can_convert:
        parser.error("--export rnnkit: this rnnkit binary has no `convert` command")
    use_rnnkit_export = can_convert and args.export != "python"
    export_source = ("RNNKit's export (`rnnkit convert --layout onnx`), checked equal to the Python one"
                     if use_rnnkit_export else
                     "computed in Python from the Keras weights (keras-formats.md §6.3); `rnnkit convert` "
                     + ("not used (--export python)" if can_convert else "does not exist yet"))

    report = {"date": datetime.datetime.now().strftime("%Y-%m-%d %H:%M"), "machine": machine_description(),
              "rnnkit_binary": os.path.relpath(rnnkit, REPO) if Path(rnnkit).exists() else args.rnnkit,
              "rnnkit_revision": git_revision(),
              "versions": {"onnxruntime": onnxruntime.__version__, "onnx": onnx.__version__,
                           "tensorflow": tf.__version__, "keras": keras.__version__, "numpy": np.__version__,
                           "python": platform.python_version()},
              "export_source": export_source, "rows": [], "checks": {}, "sgemm": [], "loading": [], "notes": notes}

    wait_idle = IdleWaiter(args.wait_idle)
    if not args.no_sgemm:
        for threads in (1, 2):
            log(f"sgemm, {threads} thread(s)")
            wait_idle()
            report["sgemm"].append(run_worker("sgemm", threads, ["--seconds", "1.5"]))
    read_rates = None
    if FLOOR_MODELS & set(args.models):
        log("cache read rates (Benchmarks/cache_read_rate.c)")
        read_rates, why_not = cache_read_rates(wait_idle)
        if why_not:
            notes.append(why_not)
        log("FMA ceiling (Benchmarks/fma_peak.c)")
        report["fma_ceiling"], why_not = fma_ceilings(wait_idle)
        if why_not:
            notes.append(why_not)

    prepared, unexportable, traffic = {}, {}, {}

    def check_and_record(name, model, entry, model_path, onnx_path):
        """The outputs must agree before anything is timed."""
        diffs, check_notes = check_outputs(name, model, entry, onnx_path, rnnkit, can_predict)
        report["checks"][name] = {"diffs": diffs}
        notes.extend(f"{name}: {n}" for n in check_notes)
        bad = {k: v for k, v in diffs.items() if not v <= CHECK_ATOL}
        log(f"{name}: outputs agree within " + ", ".join(f"{k} {v:.1e}" for k, v in diffs.items()))
        if bad:
            notes.append(f"{name}: outputs DISAGREE ({', '.join(f'{k} {v:.2e}' for k, v in bad.items())}); "
                         "times of the disagreeing peers are not comparable")
        prepared[name] = (entry, model_path, onnx_path)

    for name in args.models:
        entry = manifest["models"][name]
        model_path = MODELS_DIR / entry["keras"]
        model = keras.models.load_model(model_path, compile=False)
        onnx_path = WORK_DIR / f"{name}.onnx"
        if name in FLOOR_MODELS:
            traffic[name] = (entry["steps"], *recurrent_traffic(model))

        if name in RNNKIT_ONNX_GRAPH:
            if not can_convert:
                unexportable[name] = "not exportable: this rnnkit binary has no `convert` command"
            else:
                unexportable.update(rnnkit_onnx_graph(rnnkit, model_path, onnx_path, name))
            if name in unexportable:
                log(f"{name}: ONNX Runtime column {unexportable[name]}")
                onnx_path = None
            check_and_record(name, model, entry, model_path, onnx_path)
            continue

        # ONNX-layout weights, then the ONNX graph.
        tensors = keras_to_onnx_layout(model)
        if use_rnnkit_export:
            exported, has_model_entry = rnnkit_onnx_export(rnnkit, model_path, WORK_DIR / f"{name}.onnx-layout.npz")
            problems = compare_exports(tensors, exported)
            if not has_model_entry:
                problems.append("no __rnnkit_model__ entry")
            if problems:
                raise SystemExit(f"{name}: rnnkit's ONNX-layout export disagrees with layouts.md:\n  "
                                 + "\n  ".join(problems) + "\n(run with --export python to time anyway)")
            tensors = exported
        onnx.save(build_onnx_model(model, tensors, entry["fixed_steps"]), onnx_path)
        check_and_record(name, model, entry, model_path, onnx_path)

    # Timing: each round times every model, thread count and peer once; a cell keeps the
    # lowest of its rounds' medians (noise on a shared machine only ever adds time).
    rows = {(name, b, t): {"model": name, "steps": prepared[name][0]["steps"], "batch": b, "threads": t,
                           "flops": prepared[name][0]["flops_per_sequence"] * b}
            for name in args.models for b, t in CONFIGS}

    def record(key, peer, median_ms, busy):
        rows[key].setdefault(f"{peer}_rounds", []).append({"median_ms": median_ms, "busy_before": busy})
        if rows[key].get(peer) != "error" and median_ms <= rows[key].get(peer, median_ms):
            rows[key][peer] = median_ms
            rows[key][f"{peer}_noisy"] = busy > NOISY_BUSY

    for round_index in range(args.rounds):
        prefix = f"round {round_index + 1}/{args.rounds}: " if args.rounds > 1 else ""
        for name in args.models:
            entry, model_path, onnx_path = prepared[name]
            steps = entry["steps"]
            for threads in (1, 2):
                batches = [b for b, t in CONFIGS if t == threads]
                common = ["--steps", str(steps), "--inputs", json.dumps(entry["inputs"]), "--batches", *map(str, batches)]

                def time_worker(peer, path):
                    if path is None:  # no ONNX graph: the column says why
                        for b in batches:
                            rows[(name, b, threads)][peer] = unexportable[name]
                        return
                    log(f"{prefix}{name}: {PEER_TITLES[peer]}, {threads} thread(s), batches {batches}")
                    try:
                        busy = wait_idle()
                        result = run_worker(peer, threads, ["--model", str(path)] + common)
                        for r in result["results"]:
                            record((name, r["batch"], threads), peer, r["median_ms"], busy)
                    except RuntimeError as error:
                        notes.append(f"{name}, {threads} thread(s): {PEER_TITLES[peer]} failed: {error}")
                        for b in batches:
                            rows[(name, b, threads)][peer] = "error"

                def time_rnnkit():
                    if not can_bench:
                        return
                    for batch in batches:
                        log(f"{prefix}{name}: RNNKit, {threads} thread(s), batch {batch}")
                        try:
                            busy = wait_idle()
                            result = rnnkit_bench(rnnkit, model_path, batch, steps, threads,
                                                  layers=name in LAYER_CRITERIA)
                            record((name, batch, threads), "rnnkit", result["median_ms"], busy)
                            rows[(name, batch, threads)].setdefault("rnnkit_json", []).append(result)
                        except (RuntimeError, ValueError, KeyError) as error:
                            notes.append(f"{name}, batch {batch}, {threads} thread(s): rnnkit bench failed: {error}")
                            rows[(name, batch, threads)]["rnnkit"] = "error"

                # Each round starts with another peer, so that none always runs right after the
                # same one (a peer that heats the cores, or leaves its threads spinning, slows the next).
                timers = [("ort", lambda: time_worker("ort", onnx_path)), ("tf", lambda: time_worker("tf", model_path)),
                          ("rnnkit", time_rnnkit)]
                timers = [t for t in timers if t[0] in args.peers]
                shift = round_index % len(timers) if timers else 0
                for _, time_peer in timers[shift:] + timers[:shift]:
                    time_peer()
    report["rows"] = list(rows.values())
    if read_rates and traffic:
        report["floor"] = {"read_rates": read_rates, "rows": batch1_floors(report, traffic, read_rates)}

    if not args.no_load and can_bench:
        # Small files only show the fixed costs (a few ms and MB): time the two large models.
        for name in [n for n in args.models if n == "reference_lstm"] + [LOAD_MODEL]:
            entry = manifest["models"][name]
            for file in (entry["keras"], entry["h5"]):
                log(f"loading {file}")
                wait_idle()
                try:
                    result = rnnkit_bench(rnnkit, MODELS_DIR / file, 1, entry["steps"], 1)
                    report["loading"].append({"file": file, "size": (MODELS_DIR / file).stat().st_size,
                                              **{k: result.get(k) for k in ("load_ms", "read_ms", "load_peak_added_bytes",
                                                                            "weight_bytes", "predictor_peak_added_bytes")}})
                except (RuntimeError, ValueError, KeyError) as error:
                    notes.append(f"{file}: timing the load failed: {error}")

    busy = wait_idle.busy
    worst = max(busy, default=0.0)
    report["busy_before_measurements"] = busy
    if worst > NOISY_BUSY:
        notes.append(f"NOISY: other processes used up to {worst:.0%} of the CPUs just before a measurement "
                     f"(median {statistics.median(busy):.0%}); re-run on an idle machine before trusting the ratios")
    else:
        notes.append(f"other processes used at most {worst:.0%} of the CPUs just before each measurement")
    notes.append(f"timing rule for every peer: {WARMUP_RUNS} warm-up runs, then at least {MIN_RUNS} runs and "
                 f"{MIN_SECONDS:g} s; inputs uniform(-1, 1)"
                 + (f"; lowest median of {args.rounds} rounds, each starting with another peer" if args.rounds > 1 else "")
                 + f"; whole run took {time.time() - started:.0f} s")
    text = render(report)
    print(text)
    args.out.write_text("# RNNKit vs ONNX Runtime vs TensorFlow: latest results\n\n"
                        "Written by `python3 Benchmarks/run_peers.py`; see README.md in this folder.\n\n" + text)
    args.out.with_suffix(".json").write_text(json.dumps(report, indent=2) + "\n")
    log(f"wrote {os.path.relpath(args.out)} and {os.path.relpath(args.out.with_suffix('.json'))}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
