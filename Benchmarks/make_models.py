#!/usr/bin/env python3
"""Build the benchmark models with real Keras 3 and save them in Benchmarks/models/.

Each model gets seeded random weights (a NumPy generator seeded from the model's
name), so every run of this script writes the very same weights. The files are
not committed: `run_peers.py` runs this script first when a model is missing.

    reference_lstm  Input((None, 64)) -> LSTM(256, return_sequences=True) -> LSTM(256) -> Dense(10)
    simple_rnn_31   Input((4, 5)) -> SimpleRNN(3) -> Dense(1, sigmoid)   (as Fixtures/simple_rnn)
    gru             Input((None, 64)) -> GRU(128, return_sequences=True) -> GRU(128) -> Dense(10)
    bidirectional   Input((None, 64)) -> Bidirectional(LSTM(128)) -> Dense(10)
    large_lstm      Input((None, 1024)) -> 3 x LSTM(1024) -> Dense(10): 100 MB of weights, for timing
                    the load only
    cnn_lstm        Input((None,), int32) -> Embedding(5000, 64) -> Conv1D(64, 5, relu) -> MaxPooling1D(2)
                    -> LSTM(128) -> Dense(1, sigmoid): the text classifier of the Keras examples
    attention_seq2seq  encoder Input((None, 64)) -> LSTM(128, return_sequences, return_state);
                    decoder Input((None, 64)) -> LSTM(128, return_sequences, initial_state = the
                    encoder's) -> Attention()([decoder, encoder]) -> Concatenate([decoder, context])
                    -> Dense(10): Luong attention over the encoder's steps

Writes <name>.keras and <name>.h5 for each, and manifest.json: input shape,
time steps to benchmark, parameter count, FLOPs per sequence and a SHA-256 of
the weight values (the .keras archive itself holds a date, so its bytes vary).

Usage:
    python3 Benchmarks/make_models.py              # writes Benchmarks/models/
    python3 Benchmarks/make_models.py --out DIR
"""

import os

os.environ["KERAS_BACKEND"] = "tensorflow"
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("CUDA_VISIBLE_DEVICES", "")

import argparse
import hashlib
import json
import sys
import warnings
import zlib
from pathlib import Path

import absl.logging
import numpy as np
import tensorflow as tf
import keras

from model_inputs import sample_inputs

warnings.filterwarnings("ignore")
tf.get_logger().setLevel("ERROR")
absl.logging.set_verbosity(absl.logging.ERROR)  # "HDF5 format is legacy"

HERE = Path(__file__).resolve().parent
GATES = {"SimpleRNN": 1, "LSTM": 4, "GRU": 3}


def build_stacked(layer, units, name):
    """Two recurrent layers (the first returning sequences) and Dense(10) on 64 features."""
    prefix = layer.__name__.lower()
    return keras.Sequential([
        keras.Input((None, 64)),
        layer(units, return_sequences=True, name=prefix),
        layer(units, name=prefix + "_1"),
        keras.layers.Dense(10, name="dense"),
    ], name=name)


def build_reference_lstm():
    return build_stacked(keras.layers.LSTM, 256, "reference_lstm")


def build_simple_rnn_31():
    L = keras.layers
    return keras.Sequential([
        keras.Input((4, 5)),
        L.SimpleRNN(3, name="simple_rnn"),
        L.Dense(1, activation="sigmoid", name="dense"),
    ], name="simple_rnn_31")


def build_gru():
    return build_stacked(keras.layers.GRU, 128, "gru")


def build_bidirectional():
    L = keras.layers
    return keras.Sequential([
        keras.Input((None, 64)),
        L.Bidirectional(L.LSTM(128), name="bidirectional"),
        L.Dense(10, name="dense"),
    ], name="bidirectional")


def build_large_lstm():
    L = keras.layers
    return keras.Sequential([
        keras.Input((None, 1024)),
        L.LSTM(1024, return_sequences=True, name="lstm"),
        L.LSTM(1024, return_sequences=True, name="lstm_1"),
        L.LSTM(1024, name="lstm_2"),
        L.Dense(10, name="dense"),
    ], name="large_lstm")


def build_cnn_lstm():
    L = keras.layers
    return keras.Sequential([
        keras.Input((None,), dtype="int32"),
        L.Embedding(5000, 64, name="embedding"),
        L.Conv1D(64, 5, activation="relu", name="conv1d"),
        L.MaxPooling1D(2, name="max_pooling1d"),
        L.LSTM(128, name="lstm"),
        L.Dense(1, activation="sigmoid", name="dense"),
    ], name="cnn_lstm")


def build_attention_seq2seq():
    L = keras.layers
    source = keras.Input((None, 64), name="source")
    target = keras.Input((None, 64), name="target")
    encoded, h, c = L.LSTM(128, return_sequences=True, return_state=True, name="encoder")(source)
    decoded = L.LSTM(128, return_sequences=True, name="decoder")(target, initial_state=[h, c])
    context = L.Attention(name="attention")([decoded, encoded])
    merged = L.Concatenate(name="concatenate")([decoded, context])
    return keras.Model([source, target], L.Dense(10, name="dense")(merged), name="attention_seq2seq")


# name -> (builder, time steps to benchmark with)
MODELS = {
    "reference_lstm": (build_reference_lstm, 100),
    "simple_rnn_31": (build_simple_rnn_31, 4),
    "gru": (build_gru, 100),
    "bidirectional": (build_bidirectional, 100),
    "large_lstm": (build_large_lstm, 2),
    "cnn_lstm": (build_cnn_lstm, 200),
    "attention_seq2seq": (build_attention_seq2seq, 100),
}


# Models whose .h5 Keras 3's legacy loader cannot read back (RNNKit reads it): it turns
# Attention's score_mode "dot" into the function keras.ops.dot and refuses it.
KERAS_H5_UNLOADABLE = {"attention_seq2seq"}


def seed_for(name):
    return zlib.crc32(name.encode("utf-8"))


def assign_seeded_weights(model, name):
    """Kernels uniform(+-1/sqrt(fan_in)), biases uniform(+-0.1): activations stay
    out of saturation over 100 steps, so the outputs are worth comparing."""
    rng = np.random.default_rng(seed_for(name))
    for layer in model.layers:
        values = []
        for variable in layer.weights:
            shape = tuple(variable.shape)
            # A GRU bias is [2, 3H] (reset_after): recognise biases by name, not rank.
            scale = 0.1 if "bias" in variable.path else 1.0 / np.sqrt(shape[0])
            values.append(rng.uniform(-scale, scale, size=shape).astype(np.float32))
        if values:
            layer.set_weights(values)


def flops_per_sequence(model, steps):
    """Multiply-adds (x2) of one sequence: recurrent, Conv1D, Attention and Dense layers,
    following the sequence length through the model's convolutions and poolings (in layer
    order: every sequence of the model has the same length)."""
    total, length = 0, steps
    for layer in model.layers:
        if isinstance(layer, keras.layers.InputLayer):
            continue
        inner = [layer.forward_layer, layer.backward_layer] if isinstance(layer, keras.layers.Bidirectional) else [layer]
        features = (layer.input[0] if isinstance(layer.input, list) else layer.input).shape[-1]
        for rnn in inner:
            kind = type(rnn).__name__
            if kind in GATES:
                total += 2 * length * GATES[kind] * rnn.units * (features + rnn.units)
        if isinstance(layer, keras.layers.Conv1D):  # valid padding, stride 1
            length = length - layer.kernel_size[0] + 1
            total += 2 * length * layer.kernel_size[0] * features * layer.filters
        if isinstance(layer, keras.layers.MaxPooling1D):
            length //= layer.pool_size[0]
        if isinstance(layer, keras.layers.Attention):  # query·keys, then the weights·values
            total += 2 * 2 * length * length * features
        if isinstance(layer, keras.layers.Dense):
            total += 2 * features * layer.units * (length if len(layer.output.shape) == 3 else 1)
    return int(total)


def input_specs(model):
    """Each input's shape, dtype and, for token ids, the vocabulary of the Embedding reading it."""
    specs = []
    for tensor in model.inputs:
        spec = {"name": tensor.name, "shape": [None if d is None else int(d) for d in tensor.shape],
                "dtype": "int32" if "int" in str(tensor.dtype) else "float32"}
        if spec["dtype"] == "int32":
            spec["vocabulary"] = next(int(layer.input_dim) for layer in model.layers
                                      if isinstance(layer, keras.layers.Embedding))
        specs.append(spec)
    return specs


def weights_digest(model):
    h = hashlib.sha256()
    for w in model.get_weights():
        h.update(np.ascontiguousarray(w, dtype=np.float32).tobytes())
    return h.hexdigest()


def make(name, out_dir):
    builder, steps = MODELS[name]
    keras.backend.clear_session()
    keras.utils.set_random_seed(0)
    model = builder()
    assign_seeded_weights(model, name)

    keras_path, h5_path = out_dir / f"{name}.keras", out_dir / f"{name}.h5"
    model.save(keras_path)
    model.save(h5_path)

    # Both files must reload to the same outputs as the model in memory (the .h5 where Keras's
    # own legacy loader can read it).
    inputs = input_specs(model)
    x = sample_inputs(inputs, 2, steps, np.random.default_rng(seed_for(name) + 1))
    expected = np.asarray(model(x, training=False))
    for path in (keras_path,) + (() if name in KERAS_H5_UNLOADABLE else (h5_path,)):
        got = np.asarray(keras.models.load_model(path, compile=False)(x, training=False))
        if not np.array_equal(got, expected):
            raise RuntimeError(f"{path}: reloaded model differs by {np.max(np.abs(got - expected))}")

    fixed_steps = inputs[0]["shape"][1]
    return {
        "name": name,
        "keras": keras_path.name,
        "h5": h5_path.name,
        "input_shape": inputs[0]["shape"],
        "inputs": inputs,
        "steps": steps,
        "fixed_steps": fixed_steps is not None,
        "params": int(model.count_params()),
        "flops_per_sequence": flops_per_sequence(model, steps),
        "weights_sha256": weights_digest(model),
        "layers": [f"{type(layer).__name__}({layer.name})" for layer in model.layers],
    }


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, default=HERE / "models", help="output folder")
    parser.add_argument("models", nargs="*", metavar="MODEL",
                        help=f"models to build, among {', '.join(MODELS)} (default: all)")
    args = parser.parse_args(argv)
    unknown = [n for n in args.models if n not in MODELS]
    if unknown:
        parser.error(f"unknown model(s) {', '.join(unknown)}; choose among {', '.join(MODELS)}")
    args.out.mkdir(parents=True, exist_ok=True)

    names = args.models or list(MODELS)
    manifest_path = args.out / "manifest.json"
    manifest = json.loads(manifest_path.read_text()) if manifest_path.exists() else {}
    manifest.setdefault("versions", {})
    manifest["versions"].update({"keras": keras.__version__, "tensorflow": tf.__version__,
                                 "numpy": np.__version__})
    manifest.setdefault("models", {})
    for name in names:
        entry = make(name, args.out)
        manifest["models"][name] = entry
        print(f"{name}: {entry['params']} params, {entry['flops_per_sequence'] / 1e6:.1f} MFLOP/sequence "
              f"at T={entry['steps']}, weights sha256 {entry['weights_sha256'][:16]}")
    manifest["models"] = {n: manifest["models"][n] for n in MODELS if n in manifest["models"]}
    manifest_path.write_text(json.dumps(manifest, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
