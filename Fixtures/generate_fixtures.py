#!/usr/bin/env python3
"""Generate the Keras test fixtures used by RNNKit.

Every fixture is built twice, once with Keras 3 (TensorFlow backend) and once
with tf_keras 2, with the *same* weight values (drawn from a seeded NumPy RNG),
then saved with every writer listed in README.md, run on seeded inputs, and
reloaded to check that the saved files reproduce the expected outputs.

Usage:
    pip install -r Fixtures/requirements.txt
    python3 Fixtures/generate_fixtures.py            # writes into Fixtures/
    python3 Fixtures/generate_fixtures.py --out DIR  # writes somewhere else
    python3 Fixtures/generate_fixtures.py --no-probe # skip the (slow) Keras
                                                     # load probes of malformed/
    python3 Fixtures/generate_fixtures.py --only activations  # one folder only
"""

import os

# Must be set before TensorFlow / Keras are imported.
os.environ["KERAS_BACKEND"] = "tensorflow"
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")  # bit-stable CPU math
os.environ.setdefault("CUDA_VISIBLE_DEVICES", "")

import argparse
import dataclasses
import json
import shutil
import subprocess
import sys
import warnings
import zipfile
import zlib
from pathlib import Path
from typing import Callable, List

import absl.logging
import h5py
import numpy as np
import tensorflow as tf
import keras
import tf_keras

warnings.filterwarnings("ignore")
tf.get_logger().setLevel("ERROR")
absl.logging.set_verbosity(absl.logging.ERROR)  # e.g. "HDF5 format is legacy"

RTOL, ATOL = 1e-5, 1e-6          # reload-vs-expected tolerance
CROSS_ATOL = 1e-5                # Keras 3 vs tf_keras tolerance
HARD_SIGMOID_MIN_DIFF = 1e-3     # hard_sigmoid fixtures must differ at least this much
VERSIONS_MIN_DIFF = 1e-3         # so must fixtures that Keras 3 and tf_keras compute differently
COUSIN_MIN_DIFF = 1e-3           # outputs must move this much when an activation is swapped


# Every activation RNNKit supports, with the close cousins a wrong implementation could compute
# instead (Keras config name -> {cousin name: function}). A fixture listing the activation in
# `checks_activations` must tell each cousin apart: with every use of the activation replaced by
# the cousin (same weights, same inputs), some Keras 3 output moves by more than COUSIN_MIN_DIFF.
# The cousins' outputs are saved as cousin_<activation>_<cousin>_<i>.npy, so that RNNKit's tests
# can check that the fixture still discriminates without Python.
def _leaky(slope):
    return lambda x: keras.activations.leaky_relu(x, negative_slope=slope)


ACTIVATION_COUSINS = {
    "linear": {"relu": keras.activations.relu},
    "tanh": {"hard_tanh": keras.activations.hard_tanh, "softsign": keras.activations.softsign},
    "sigmoid": {"hard_sigmoid": keras.activations.hard_sigmoid},
    "relu": {"leaky_relu": _leaky(0.2), "softplus": keras.activations.softplus},
    "elu": {"selu": keras.activations.selu},
    "selu": {"elu": keras.activations.elu},
    "softplus": {"relu": keras.activations.relu},
    "softsign": {"tanh": keras.activations.tanh},
    "silu": {"hard_silu": keras.activations.hard_silu},
    "gelu": {"gelu_tanh": lambda x: keras.activations.gelu(x, approximate=True)},
    "exponential": {"expm1": lambda x: keras.ops.expm1(x)},
    "relu6": {"relu": keras.activations.relu},
    "leaky_relu": {"relu": keras.activations.relu, "leaky_relu_0.3": _leaky(0.3)},
    # Keras 3's clip(x/6 + 0.5, 0, 1) against Keras 2's clip(0.2x + 0.5, 0, 1).
    "hard_sigmoid": {"hard_sigmoid_keras2": lambda x: keras.ops.clip(0.2 * x + 0.5, 0.0, 1.0)},
    "softmax": {"sigmoid": keras.activations.sigmoid},
    # Keras 3's additions (tf_keras has only mish), with Keras's default parameters.
    "celu": {"celu_alpha_2": lambda x: keras.activations.celu(x, alpha=2.0), "relu": keras.activations.relu},
    "hard_silu": {"silu": keras.activations.silu},
    "hard_tanh": {"tanh": keras.activations.tanh},
    "hard_shrink": {"soft_shrink": keras.activations.soft_shrink},
    "soft_shrink": {"hard_shrink": keras.activations.hard_shrink},
    "tanh_shrink": {"soft_shrink": keras.activations.soft_shrink},
    "sparse_plus": {"softplus": keras.activations.softplus},
    "sparse_sigmoid": {"hard_sigmoid": keras.activations.hard_sigmoid},
    "squareplus": {"softplus": keras.activations.softplus},
    "mish": {"silu": keras.activations.silu},
    # A sign slip: log_sigmoid(x) is −softplus(−x).
    "log_sigmoid": {"neg_softplus": lambda x: -keras.activations.softplus(x)},
    "log_softmax": {"softmax": keras.activations.softmax},
    "sparsemax": {"softmax": keras.activations.softmax},
}


# ---------------------------------------------------------------------------
# Helpers
# ---------------------------------------------------------------------------

def seed_for(name: str) -> int:
    """A stable per-fixture seed (independent of the fixture's table position)."""
    return zlib.crc32(name.encode("utf-8"))


def floats(rng, *shape, low=-1.0, high=1.0):
    return rng.uniform(low, high, size=shape).astype(np.float32)


def reset_sessions():
    """Reset both frameworks so auto-generated layer names restart (dense, lstm, ...)."""
    tf_keras.backend.clear_session()
    keras.backend.clear_session()
    keras.utils.set_random_seed(0)
    tf_keras.utils.set_random_seed(0)


def assign_weights(m3, mt, rng, scale=0.5, layer_scales=None):
    """Draw every weight from uniform(-scale, scale) (or the layer's own scale in
    `layer_scales`, by name) and set the same values in both models, layer by layer
    (layers are paired by name). `mt` is None for a Keras-3-only fixture."""
    for layer in m3.layers:
        shapes = [w.shape for w in layer.get_weights()]
        if not shapes:
            continue
        bound = (layer_scales or {}).get(layer.name, scale)
        # Variances must be positive: BatchNormalization's moving_variance ~ uniform(0.05, 1.5),
        # small enough that a wrong epsilon shows.
        values = [(rng.uniform(0.05, 1.5, size=s) if "moving_variance" in w.name
                   else rng.uniform(-bound, bound, size=s)).astype(np.float32)
                  for w, s in zip(layer.weights, shapes)]
        layer.set_weights(values)
        if mt is None:
            continue
        twin = mt.get_layer(layer.name)
        twin_shapes = [w.shape for w in twin.get_weights()]
        if twin_shapes != shapes:
            raise RuntimeError(f"{layer.name}: Keras 3 shapes {shapes} != tf_keras {twin_shapes}")
        twin.set_weights(values)
    # Every tf_keras weight must have been covered.
    for a, b in zip(m3.get_weights(), mt.get_weights() if mt is not None else m3.get_weights()):
        if a.shape != b.shape or not np.array_equal(a, b):
            raise RuntimeError("weight mismatch between Keras 3 and tf_keras models")


def as_list(x):
    return list(x) if isinstance(x, (list, tuple)) else [x]


def predict(model, inputs):
    """Inference-mode forward pass; returns a list of float32 arrays."""
    feed = inputs if len(inputs) > 1 else inputs[0]
    return [np.asarray(y, dtype=np.float32) for y in as_list(model(feed, training=False))]


def shape_json(tensor):
    return [None if d is None else int(d) for d in tensor.shape]


def summarize(model):
    layers = []
    for layer in model.layers:
        out = layer.output
        shape = [shape_json(t) for t in out] if isinstance(out, (list, tuple)) else shape_json(out)
        layers.append({
            "name": layer.name,
            "class_name": layer.__class__.__name__,
            "output_shape": shape,
            "params": int(layer.count_params()),
        })
    count = lambda ws: int(sum(int(np.prod(w.shape)) for w in ws))
    return {
        "total_params": int(model.count_params()),
        "trainable_params": count(model.trainable_weights),
        "non_trainable_params": count(model.non_trainable_weights),
        "layers": layers,
    }


def write_json(path: Path, obj):
    path.write_text(json.dumps(obj, indent=2) + "\n")


def max_abs_diff(a_list, b_list):
    return float(max(np.max(np.abs(a - b)) for a, b in zip(a_list, b_list)))


def short_error(e: BaseException) -> str:
    msg = " ".join(str(e).split())
    return f"{type(e).__name__}: {msg[:300]}"


# ---------------------------------------------------------------------------
# Fixture builders. `K` is either the `keras` (3) or the `tf_keras` module;
# the layer APIs used here are identical in both.
# ---------------------------------------------------------------------------

def build_simple_rnn(K):
    L = K.layers
    model = K.Sequential([K.Input((4, 5)), L.SimpleRNN(3), L.Dense(1, activation="sigmoid")])
    model.compile(optimizer="adam", loss="binary_crossentropy")
    return model


def build_lstm_sequences(K):
    L = K.layers
    return K.Sequential([K.Input((5, 3)), L.LSTM(4, return_sequences=True),
                         L.TimeDistributed(L.Dense(2))])


def build_gru_reset_after(K):
    L = K.layers
    return K.Sequential([K.Input((5, 4)), L.GRU(3, reset_after=True), L.Dense(2)])


def build_gru_reset_before(K):
    L = K.layers
    return K.Sequential([K.Input((5, 3)),
                         L.GRU(3, reset_after=False, go_backwards=True, return_sequences=True),
                         L.GlobalAveragePooling1D()])


def build_stacked_lstm(K):
    L = K.layers
    return K.Sequential([K.Input((6, 4)), L.LSTM(6, return_sequences=True), L.LSTM(4),
                         L.Dense(3, activation="softmax")])


def bidirectional_builder(rnn_class: str, merge_mode: str):
    def build(K):
        L = K.layers
        rnn = getattr(L, rnn_class)(3, return_sequences=True)
        return K.Sequential([K.Input((5, 4)), L.Bidirectional(rnn, merge_mode=merge_mode),
                             L.GlobalMaxPooling1D()])
    return build


def build_bidirectional_none(K):
    L = K.layers
    x = K.Input((5, 4))
    fwd, bwd = L.Bidirectional(L.GRU(2), merge_mode=None)(x)
    merged = L.Concatenate()([fwd, bwd])
    y = L.Dense(1)(merged)
    return K.Model(x, [y, bwd])


def build_embedding_mask(K):
    L = K.layers
    return K.Sequential([K.Input((6,), dtype="int32"), L.Embedding(20, 4, mask_zero=True),
                         L.LSTM(3), L.Dense(2)])


def build_masking_gru(K):
    L = K.layers
    return K.Sequential([K.Input((6, 3)), L.Masking(0.0), L.GRU(3, return_sequences=True),
                         L.Dense(1)])


def build_seq2seq(K):
    L = K.layers
    encoder_in = K.Input((None, 4))
    decoder_in = K.Input((None, 3))
    _, h, c = L.LSTM(5, return_state=True)(encoder_in)
    seq = L.LSTM(5, return_sequences=True)(decoder_in, initial_state=[h, c])
    y = L.Dense(3, activation="softmax")(seq)
    return K.Model([encoder_in, decoder_in], y)


def build_activations(K):
    L = K.layers
    return K.Sequential([
        K.Input((4, 3)),
        L.SimpleRNN(3, activation="relu", return_sequences=True),
        L.LSTM(3, activation="softsign", recurrent_activation="hard_sigmoid", use_bias=False),
        L.RepeatVector(2),
        L.GRU(2, activation="elu", recurrent_activation="hard_sigmoid", return_sequences=True),
        L.Flatten(),
        L.Dense(2),
        L.Activation("softmax"),
    ])


def build_activations_more(K):
    """One branch per activation, each reading the input itself, so that each activation sees
    pre-activations wide enough to tell it from its cousins (see ACTIVATION_COUSINS) and its
    outputs reach the model's outputs undamped. Layers are named after what they check."""
    L = K.layers
    x = K.Input((5, 3))
    gelu = L.LSTM(4, activation="gelu", return_sequences=True, name="gelu_lstm")(x)
    branches = [
        L.SimpleRNN(3, activation="selu", return_sequences=True, name="selu_rnn")(x),
        L.SimpleRNN(3, activation="softplus", return_sequences=True, name="softplus_rnn")(x),
        L.GRU(3, activation="swish", recurrent_activation="relu6", return_sequences=True, name="swish_gru")(x),
        L.SimpleRNN(3, activation="relu6", return_sequences=True, name="relu6_rnn")(x),
        # gelu and its tanh form differ by 4.7e-4 at most: a Dense with large weights sums the
        # differences of the LSTM's units past 1e-3.
        L.Dense(2, name="gelu_amplifier")(gelu),
        L.SimpleRNN(3, activation="leaky_relu", return_sequences=True, name="leaky_relu_rnn")(x),
        L.SimpleRNN(3, activation="tanh", return_sequences=True, name="tanh_rnn")(x),
        L.SimpleRNN(2, activation="exponential", return_sequences=True, name="exponential_rnn")(x),
    ]
    y = L.Concatenate(name="branches")(branches)
    return K.Model(x, [y, L.Dense(2, activation="linear", name="linear_dense")(y)])


def build_misc_layers(K):
    L = K.layers
    x = K.Input((5, 4))
    a = L.Dropout(0.2)(x)
    a = L.SpatialDropout1D(0.1)(a)
    a = L.GaussianNoise(0.1)(a)
    a = L.SimpleRNN(3, return_sequences=True)(a)
    b = L.TimeDistributed(L.Dense(3))(x)
    y = L.Add()([a, b])
    y = L.GlobalMaxPooling1D()(y)
    y = L.Dense(2)(y)
    return K.Model(x, y)


def build_conv1d_stack(K):
    L = K.layers
    return K.Sequential([K.Input((10,), dtype="int32"), L.Embedding(20, 6),
                         L.Conv1D(8, 3, padding="same", activation="relu"), L.MaxPooling1D(2),
                         L.LSTM(4), L.Dense(2)])


def build_conv1d_options(K):
    """One output per option, each reading the input, so that a wrong padding side, stride or
    dilation shows on its own output."""
    L = K.layers
    x = K.Input((9, 4))
    outputs = [
        L.Conv1D(3, 3, strides=2, use_bias=False, name="valid_strided")(x),
        L.Conv1D(4, 2, padding="causal", dilation_rate=2, activation="tanh", name="causal_dilated")(x),
        L.Conv1D(3, 4, padding="same", strides=2, name="same_even_kernel")(x),
        L.Conv1D(3, 3, padding="causal", strides=2, activation="sigmoid", name="causal_strided")(x),
        L.Conv1D(4, 3, padding="same", groups=2, name="grouped")(x),
        L.MaxPooling1D(3, strides=2, padding="same", name="max_same")(x),
        L.AveragePooling1D(3, strides=2, padding="same", name="average_same")(x),
        L.AveragePooling1D(2, name="average_valid")(x),
        L.MaxPooling1D(4, strides=3, name="max_valid")(x),
    ]
    return K.Model(x, outputs)


def build_lstm_batchnorm(K):
    L = K.layers
    return K.Sequential([K.Input((6, 3)), L.LSTM(5, return_sequences=True), L.BatchNormalization(),
                         L.LSTM(4), L.Dense(2)])


def build_batchnorm_options(K):
    """BatchNormalization along time (axis 1), without centre, without scale, and with a
    large epsilon; the masks of Masking pass through it into the GRU. (Sequential: tf_keras
    cannot reload a Functional one, whose mask becomes a NotEqual op layer.)"""
    L = K.layers
    return K.Sequential([K.Input((5, 4)), L.Masking(0.0),
                         L.BatchNormalization(axis=1, epsilon=0.1, name="time_axis"),
                         L.BatchNormalization(center=False, name="no_center"),
                         L.BatchNormalization(scale=False, epsilon=1e-5, name="no_scale"),
                         L.GRU(3, return_sequences=True)])


def build_gru_layernorm(K):
    L = K.layers
    return K.Sequential([K.Input((6, 3)), L.GRU(5, return_sequences=True), L.LayerNormalization(),
                         L.GRU(4), L.Dense(2)])


def build_layernorm_options(K):
    """LayerNormalization without centre or scale, with a tiny epsilon (tf_keras computes it
    without its fused kernel, which would raise epsilon to 1.001e-5), and a large one. (Over
    several axes, axis=[1, 2], Keras reloads its own files with misshaped weights.)"""
    L = K.layers
    x = K.Input((5, 4))
    a = L.LayerNormalization(name="defaults")(x)
    b = L.LayerNormalization(center=False, epsilon=1e-6, name="no_center")(x)
    c = L.LayerNormalization(scale=False, epsilon=0.5, name="no_scale_large_epsilon")(x)
    return K.Model(x, [a, b, c])


def build_activation_layers(K):
    """One output per activation layer, all on one Dense whose outputs spread over about ±3, so
    that every kink (threshold, max_value, slope) is crossed."""
    L = K.layers
    x = K.Input((5, 4))
    d = L.Dense(6, name="spread")(x)
    # Keras 3 spells LeakyReLU's slope negative_slope; tf_keras alpha.
    slope = {"negative_slope": 0.2} if K is keras else {"alpha": 0.2}
    outputs = [
        L.ReLU(name="relu")(d),
        L.ReLU(max_value=1.5, negative_slope=0.1, threshold=0.5, name="relu_all_options")(d),
        L.ReLU(max_value=1.0, name="relu_max")(d),
        L.ReLU(negative_slope=0.2, threshold=1.0, name="relu_threshold")(d),
        L.LeakyReLU(name="leaky_relu", **slope)(d),
        L.ELU(alpha=0.7, name="elu")(d),
        L.Softmax(name="softmax")(d),
        L.Softmax(axis=1, name="softmax_over_time")(d),
    ]
    return K.Model(x, outputs)


def build_merge_reshape(K):
    """The element-wise merges of three Dense branches, Reshape with -1 and Permute, the last
    feeding an LSTM across the swapped axes."""
    L = K.layers
    x = K.Input((6, 4))
    a, b, c = (L.Dense(4, name=name)(x) for name in ("a", "b", "c"))
    return K.Model(x, [
        L.Subtract()([a, b]),
        L.Multiply()([a, b, c]),
        L.Average()([a, b, c]),
        L.Maximum()([a, b]),
        L.Minimum()([a, b, c]),
        L.Reshape((-1, 8))(x),
        L.Reshape((4, 6))(x),
        L.LSTM(3)(L.Permute((2, 1))(x)),
    ])


def build_time_resampling(K):
    L = K.layers
    x = K.Input((6, 3))
    y = L.ZeroPadding1D((1, 2))(x)
    # Kernel 2 (8 steps, 64 product rows at the test's batch of 8): Kernels.gemm leaves the last
    # rows of 56 unwritten on 3 threads, a runtime bug reported apart.
    y = L.Conv1D(4, 2)(y)
    y = L.Cropping1D((2, 1))(y)
    y = L.UpSampling1D(2)(y)
    y = L.GRU(3)(y)
    return K.Model(x, [L.Dense(2)(y), L.ZeroPadding1D(2)(x), L.Cropping1D(1)(x), L.UpSampling1D(3)(x)])


def build_nested_models(K):
    L = K.layers
    # A Sequential encoder and a Functional head used as layers of the outer model.
    encoder = K.Sequential([K.Input((5, 3)), L.Dense(4), L.LSTM(3, return_sequences=True)], name="encoder")
    head_in = K.Input((5, 3))
    head = K.Model(head_in, L.GRU(4)(L.Dense(3, activation="tanh")(head_in)), name="head")
    x = K.Input((5, 3))
    return K.Model(x, L.Dense(2)(head(encoder(x))))


def build_nested_siamese(K):
    L = K.layers
    # One Functional encoder called on two inputs (a siamese pair): its layers run once per call
    # with one weight set. The second call's output is also a model output of its own.
    encoder_in = K.Input((5, 3))
    encoder = K.Model(encoder_in, L.LSTM(3)(L.Dense(4, activation="tanh")(encoder_in)), name="encoder")
    left, right = K.Input((5, 3)), K.Input((5, 3))
    left_code, right_code = encoder(left), encoder(right)
    return K.Model([left, right], [L.Dense(1, activation="sigmoid")(L.Subtract()([left_code, right_code])), right_code])


def build_nested_in_sequential(K):
    L = K.layers
    # A nested Sequential and a nested Functional as layers of a Sequential model: the Embedding's
    # mask goes through both (their LSTM and GRU skip the padded steps) into the outer LSTM.
    encoder = K.Sequential([K.Input((6, 4)), L.Dense(3, activation="tanh"), L.LSTM(3, return_sequences=True)],
                           name="encoder")
    head_in = K.Input((6, 3))
    head = K.Model(head_in, L.GRU(4, return_sequences=True)(head_in), name="head")
    return K.Sequential([K.Input((6,), dtype="int32"), L.Embedding(20, 4, mask_zero=True), encoder, head,
                         L.LSTM(2), L.Dense(2)])


def build_nested_two_deep(K):
    L = K.layers
    # A Sequential inside a Functional inside the outer Sequential; the Masking layer's mask goes
    # through both levels into the GRU.
    inner = K.Sequential([K.Input((6, 3)), L.Dense(4, activation="tanh"), L.LSTM(3, return_sequences=True)],
                         name="inner")
    middle_in = K.Input((6, 3))
    middle = K.Model(middle_in, L.GRU(3)(inner(middle_in)), name="middle")
    return K.Sequential([K.Input((6, 3)), L.Masking(0.0), middle, L.Dense(2)])


def build_time_distributed_nested(K):
    L = K.layers
    # The video / CRNN pattern: a nested Sequential applied to every frame, then another to every
    # step's features, in front of an LSTM.
    frames = K.Sequential([K.Input((6, 6, 1)), L.Conv2D(2, 3, activation="relu"), L.MaxPooling2D(2), L.Flatten()],
                          name="frame_encoder")
    features = K.Sequential([K.Input((8,)), L.Dense(4, activation="tanh"), L.Dense(3)], name="step_head")
    return K.Sequential([K.Input((4, 6, 6, 1)), L.TimeDistributed(frames), L.TimeDistributed(features),
                         L.LSTM(3), L.Dense(2)])


def build_global_pooling_channels_first(K):
    L = K.layers
    # channels_first pools [B, F, T] over its last axis: here the GRU's 4 units, for each of the
    # 6 steps (channels_last would pool the 6 steps instead, another shape).
    x = K.Input((6, 3))
    s = L.GRU(4, return_sequences=True)(x)
    averaged = L.GlobalAveragePooling1D(data_format="channels_first")(s)
    peaks = L.GlobalMaxPooling1D(data_format="channels_first", keepdims=True)(s)
    return K.Model(x, [L.Dense(2)(averaged), peaks])


def build_zero_padding_channels_first(K):
    L = K.layers
    # channels_first pads [B, F, T] on its last axis: here the GRU's 4 units of each of the 6
    # steps get 1 zero before and 2 after (Keras 3 only: tf_keras's ZeroPadding1D has no data_format).
    x = K.Input((6, 3))
    padded = L.ZeroPadding1D((1, 2), data_format="channels_first")(L.GRU(4, return_sequences=True)(x))
    return K.Model(x, [L.Dense(2)(L.LSTM(2)(padded)), padded])


def build_attention_seq2seq(K):
    L = K.layers
    encoder_in = K.Input((5, 4))
    decoder_in = K.Input((4, 3))
    encoded, h, c = L.LSTM(5, return_sequences=True, return_state=True)(encoder_in)
    decoded = L.LSTM(5, return_sequences=True)(decoder_in, initial_state=[h, c])
    context, scores = L.Attention(use_scale=True)([decoded, encoded], return_attention_scores=True)
    merged = L.Concatenate()([context, decoded])
    y = L.TimeDistributed(L.Dense(3, activation="softmax"))(merged)
    return K.Model([encoder_in, decoder_in], [y, scores])


def build_attention_options(K):
    L = K.layers
    x = K.Input((5, 4))
    query = L.Dense(4)(x)
    key = L.Dense(4)(x)
    value = L.Dense(3)(x)
    causal = L.Attention(score_mode="concat", use_scale=True)([query, value, key], use_causal_mask=True)
    concat = L.Attention(score_mode="concat")([query, key])
    dot = L.Attention()([query, x, key])
    return K.Model(x, [causal, concat, dot])


def build_attention_bahdanau(K):
    L = K.layers
    x = K.Input((6, 3))
    masked = L.Masking(0.0)(x)
    sequence = L.Bidirectional(L.GRU(3, return_sequences=True))(masked)
    attended = L.AdditiveAttention()([sequence, sequence])
    pooled = L.GlobalAveragePooling1D()(attended)
    return K.Model(x, L.Dense(2, activation="softmax")(pooled))


def build_attention_masked(K):
    L = K.layers
    tokens = K.Input((6,), dtype="int32")
    embedded = L.Embedding(20, 4, mask_zero=True)(tokens)
    sequence = L.Bidirectional(L.GRU(3, return_sequences=True))(embedded)
    attended = L.AdditiveAttention()([sequence, sequence])
    pooled = L.GlobalAveragePooling1D()(attended)
    _, scores = L.Attention(use_scale=True)([sequence, embedded, sequence], return_attention_scores=True)
    return K.Model(tokens, [L.Dense(2, activation="softmax")(pooled), scores])


def build_attention_causal_self(K):
    L = K.layers
    x = K.Input((5, 4))
    sequence = L.GRU(4, return_sequences=True)(x)
    attended = L.AdditiveAttention(use_scale=False)([sequence, sequence], use_causal_mask=True)
    return K.Model(x, L.Dense(2)(L.Add()([sequence, attended])))


def build_rnn_cells(K):
    L = K.layers
    x = K.Input((6, 3))
    lone, h, c = L.RNN(L.LSTMCell(3), return_state=True, name="lone_lstm")(x)
    simple = L.RNN(L.SimpleRNNCell(2, activation="relu"), name="lone_simple")(x)
    pair = L.RNN(L.StackedRNNCells([L.GRUCell(3), L.GRUCell(3)]), return_state=True, name="gru_pair")(x)
    return K.Model(x, [lone, h, c, simple] + list(pair))


def build_rnn_cells_masked(K):
    # Sequential: in a Functional model Keras 3 saves Masking's mask as NotEqual and Any op
    # layers, which its own legacy .h5 loader cannot read back.
    L = K.layers
    return K.Sequential([
        K.Input((6, 3)), L.Masking(0.0),
        L.RNN(L.StackedRNNCells([L.LSTMCell(4), L.GRUCell(3, reset_after=False), L.LSTMCell(2, activation="relu")]),
              return_sequences=True, go_backwards=True, name="stacked"),
    ])


def build_stateful(K):
    # A stateful layer needs the batch size in the input shape.
    L = K.layers
    return K.Sequential([
        K.Input(batch_shape=(2, 4, 3)),
        L.LSTM(4, stateful=True, return_sequences=True),
        L.RNN(L.GRUCell(3), stateful=True, name="stateful_rnn"),
        L.Dense(2),
    ])


def build_cudnn_equivalent(K):
    """The LSTM and GRU(reset_after=True) model that tf_keras loads `build_cudnn_source`'s
    weights into (converting them, as `load_weights` does for CuDNN layers); Keras 3 builds it too."""
    L = K.layers
    return K.Sequential([
        K.Input((5, 3)),
        L.LSTM(4, return_sequences=True, name="cudnn_lstm"),
        L.Bidirectional(L.GRU(3, return_sequences=True, reset_after=True), name="bidirectional"),
        L.GRU(2, reset_after=True, name="cudnn_gru"),
    ], name="cudnn")


def build_cudnn_source(K):
    """tf_keras only: Keras 2's CuDNNLSTM and CuDNNGRU, which tf_keras builds and saves on a CPU
    but cannot call without a GPU."""
    from tf_keras.src.layers.rnn.cudnn_gru import CuDNNGRU
    from tf_keras.src.layers.rnn.cudnn_lstm import CuDNNLSTM
    L = K.layers
    return K.Sequential([
        K.Input((5, 3)),
        CuDNNLSTM(4, return_sequences=True, name="cudnn_lstm"),
        L.Bidirectional(CuDNNGRU(3, return_sequences=True), name="bidirectional"),
        CuDNNGRU(2, name="cudnn_gru"),
    ], name="cudnn")


def build_unit_prelu_dot(K):
    L = K.layers
    x = K.Input((5, 4))
    a = L.Dense(6, name="spread_a")(x)
    b = L.Dense(6, name="spread_b")(x)
    pooled = L.GlobalAveragePooling1D()(b)
    return K.Model(x, [
        L.UnitNormalization(name="unit_last")(a),
        L.UnitNormalization(axis=1, name="unit_time")(a),
        L.PReLU(name="prelu_full")(a),
        L.PReLU(shared_axes=[1], name="prelu_shared")(b),
        L.Flatten()(L.Dot(axes=2, name="dot_steps")([a, b])),
        L.Dot(axes=(1, 1), normalize=True, name="dot_cosine")([a, b]),
        L.Dot(axes=-1, name="dot_vectors")([L.GlobalAveragePooling1D()(a), pooled]),
        L.Dot(axes=(2, 1), name="dot_matrix_vector")([a, pooled]),
        L.Concatenate(axis=1)([a, b]),
    ])


def build_masked_prelu_unit(K):
    """Sequential, as Keras 3 saves a functional Masking with a NotEqual op node in .h5."""
    L = K.layers
    return K.Sequential([
        K.Input((5, 4)),
        L.Masking(0.0),
        L.PReLU(shared_axes=[1]),
        L.UnitNormalization(),
        L.GRU(3, return_sequences=True),
    ])


def build_activations_keras3(K):
    """Keras 3's activations that tf_keras lacks, one branch each on the input, named after what
    they check: recurrent activations, Dense, Conv1D and Activation layers."""
    L = K.layers
    x = K.Input((5, 3))
    branches = [
        L.SimpleRNN(3, activation="celu", return_sequences=True, name="celu_rnn")(x),
        L.GRU(3, activation="hard_tanh", recurrent_activation="sparse_sigmoid", return_sequences=True,
              name="hard_tanh_gru")(x),
        L.LSTM(3, activation="hard_silu", return_sequences=True, name="hard_silu_lstm")(x),
        L.Dense(4, activation="hard_shrink", name="hard_shrink_dense")(x),
        L.Dense(4, activation="soft_shrink", name="soft_shrink_dense")(x),
        L.Dense(4, activation="tanh_shrink", name="tanh_shrink_dense")(x),
        L.Dense(4, activation="sparse_plus", name="sparse_plus_dense")(x),
        L.Dense(4, activation="squareplus", name="squareplus_dense")(x),
        L.Conv1D(4, 2, padding="same", activation="log_sigmoid", name="log_sigmoid_conv")(x),
        L.Dense(4, activation="log_softmax", name="log_softmax_dense")(x),
        L.Activation("sparsemax", name="sparsemax")(L.Dense(5, name="sparsemax_logits")(x)),
    ]
    return K.Model(x, L.Concatenate(name="branches")(branches))


def build_activations_mish(K):
    L = K.layers
    return K.Sequential([
        K.Input((5, 3)),
        L.SimpleRNN(4, activation="mish", return_sequences=True),
        L.Dense(3),
        L.Activation("mish"),
    ])


def build_time_distributed_any(K):
    """TimeDistributed of layers other than Dense, on [B, T, S, F] (T = 4 outer steps)."""
    L = K.layers
    x = K.Input((4, 6, 3))
    conv = L.TimeDistributed(L.Conv1D(4, 3, activation="relu"), name="td_conv")(x)
    pooled = L.TimeDistributed(L.GlobalMaxPooling1D(), name="td_pool")(conv)
    flat = L.TimeDistributed(L.Flatten(), name="td_flatten")(conv)
    summary = L.TimeDistributed(L.LSTM(3), name="td_lstm")(x)
    normalized = L.TimeDistributed(L.BatchNormalization(), name="td_batchnorm")(x)
    return K.Model(x, [
        L.GRU(2, name="over_steps")(summary),
        L.TimeDistributed(L.Dense(2, activation="tanh"), name="td_dense")(L.Concatenate()([pooled, flat])),
        normalized,
    ])


def build_conv1d_channels_first(K):
    """Conv1D and the 1D poolings on channels-first sequences, each reading the input. TensorFlow's
    CPU kernels run channels-first Conv1D eagerly only when grouped; SurroundingLayerTests checks
    the ungrouped case against channels_last."""
    L = K.layers
    x = K.Input((9, 4))
    first = L.Permute((2, 1))(x)  # the same sequences, channels first
    return K.Model(x, [
        L.Conv1D(6, 4, strides=2, padding="same", groups=2, data_format="channels_first",
                 name="same_even_kernel")(first),
        L.Conv1D(4, 2, padding="causal", dilation_rate=2, groups=2, activation="tanh",
                 data_format="channels_first", name="causal_grouped")(first),
        L.MaxPooling1D(3, strides=2, padding="same", data_format="channels_first", name="max_same")(first),
        L.AveragePooling1D(3, strides=2, padding="same", data_format="channels_first",
                           name="average_same")(first),
    ])


def build_conv2d_crnn(K):
    """A text-line recognizer in miniature: two convolution blocks, the width as time."""
    L = K.layers
    return K.Sequential([
        K.Input((8, 12, 1)),
        L.Conv2D(4, 3, padding="same", activation="relu"),
        L.MaxPooling2D(2),
        L.Conv2D(6, 3, padding="same", activation="relu"),
        L.MaxPooling2D((2, 1)),
        L.Permute((2, 1, 3)),
        L.Reshape((6, 12)),
        L.Dense(8, activation="relu"),
        L.Bidirectional(L.LSTM(4, return_sequences=True)),
        L.Dense(5, activation="softmax"),
    ])


def build_conv2d_options(K):
    """One output per option, each reading the input (7 rows, 8 columns: odd and even), so that a
    wrong padding side, stride, dilation, group or axis order shows on its own output. TensorFlow's
    CPU Conv2D and tf_keras's CPU pooling refuse channels_first when called eagerly: those are
    tested in Swift only."""
    L = K.layers
    x = K.Input((7, 8, 3))
    first = L.Permute((3, 1, 2))(x)  # the same images, channels first
    outputs = [
        L.Conv2D(4, (2, 3), strides=(2, 1), padding="same", use_bias=False, name="strided_same")(x),
        L.Conv2D(3, (3, 2), dilation_rate=(2, 1), activation="tanh", name="dilated_valid")(x),
        L.Conv2D(4, (4, 2), strides=2, padding="same", name="same_even_kernel")(x),
        L.Conv2D(6, 3, padding="same", groups=3, name="grouped")(x),
        L.MaxPooling2D((3, 2), strides=2, padding="same", name="max_same")(x),
        L.AveragePooling2D(3, strides=(2, 3), padding="same", name="average_same")(x),
        L.AveragePooling2D(2, name="average_valid")(x),
        L.MaxPooling2D((2, 3), strides=(1, 2), name="max_valid")(x),
        L.GlobalAveragePooling2D(keepdims=True, name="global_average_keepdims")(x),
        L.GlobalMaxPooling2D(name="global_max")(x),
        L.GlobalAveragePooling2D(data_format="channels_first", keepdims=True,
                                 name="global_average_channels_first")(first),
        L.Cropping2D(((1, 0), (2, 1)), name="crop")(L.ZeroPadding2D(((1, 2), (0, 1)), name="pad")(x)),
        L.Cropping2D(((0, 2), (1, 0)), data_format="channels_first", name="crop_channels_first")(
            L.ZeroPadding2D((1, 2), data_format="channels_first", name="pad_channels_first")(first)),
    ]
    return K.Model(x, outputs)


def build_depthwise_separable(K):
    """Depthwise and separable convolutions of images and sequences, one output each."""
    L = K.layers
    images, sequences = K.Input((7, 8, 3)), K.Input((9, 4))
    return K.Model([images, sequences], [
        L.DepthwiseConv2D((3, 2), strides=2, padding="same", depth_multiplier=2, activation="tanh",
                          name="depthwise2d_same")(images),
        L.DepthwiseConv2D(2, dilation_rate=(1, 2), use_bias=False, name="depthwise2d_dilated")(images),
        L.SeparableConv2D(5, (2, 3), padding="same", depth_multiplier=2, activation="relu",
                          name="separable2d")(images),
        L.DepthwiseConv1D(4, strides=2, padding="same", depth_multiplier=2, name="depthwise1d")(sequences),
        L.SeparableConv1D(3, 3, dilation_rate=2, name="separable1d")(sequences),
    ])


def build_conv_lstm2d(K):
    """Two ConvLSTM2D layers: same padding over an odd image (the recurrent convolution pads
    both ends), then strides 2 and valid padding (the recurrent convolution runs over the
    smaller output image)."""
    L = K.layers
    # tf_keras's default recurrent_activation is hard_sigmoid, Keras 3's sigmoid.
    return K.Sequential([
        K.Input((4, 6, 5, 2)),
        L.ConvLSTM2D(3, (3, 3), padding="same", recurrent_activation="sigmoid", return_sequences=True),
        L.ConvLSTM2D(2, (2, 2), strides=2, padding="valid", recurrent_activation="sigmoid"),
        L.Flatten(),
        L.Dense(3),
    ])


def build_conv_lstm1d(K):
    """ConvLSTM1D with dilation 2 and valid padding returning its states, and one with strides
    2, an even kernel, same padding, go_backwards, relu and sequences."""
    L = K.layers
    x = K.Input((4, 7, 2))
    output, h, c = L.ConvLSTM1D(3, 3, padding="valid", dilation_rate=2, recurrent_activation="sigmoid",
                                return_state=True, name="dilated_state")(x)
    backwards = L.ConvLSTM1D(2, 2, strides=2, padding="same", go_backwards=True, activation="relu",
                             recurrent_activation="sigmoid", return_sequences=True,
                             name="strided_backwards")(x)
    return K.Model(x, [output, h, c, backwards])


def image_and_sequence_inputs(rng):
    return [floats(rng, 2, 7, 8, 3), floats(rng, 2, 9, 4)]


def build_ops_mask_tagger(K):
    """Keras 3 saves the mask of Embedding(mask_zero) as a NotEqual operation node passed to the
    LSTM as mask=; tf_keras keeps it implicit."""
    L = K.layers
    x = K.Input((6,), dtype="int32")
    y = L.LSTM(3, return_sequences=True)(L.Embedding(20, 4, mask_zero=True)(x))
    return K.Model(x, L.Dense(2)(y))


def build_ops_masking(K):
    """Keras 3 saves Masking's mask as NotEqual and Any operation nodes, passed as mask= to the
    layers after it (a list of two for Concatenate); tf_keras keeps it implicit."""
    L = K.layers
    x = K.Input((6, 3))
    masked = L.Masking(0.0)(x)
    a = L.Bidirectional(L.GRU(3, return_sequences=True))(masked)
    return K.Model(x, [L.GlobalAveragePooling1D()(a), L.LSTM(2)(L.Concatenate()([a, L.Dense(2)(masked)]))])


def build_masked_recurrent(K):
    """Masked recurrent layers beyond a plain one (the ONNX export's Scans follow each): Keras 3
    saves Masking's mask as operation nodes, tf_keras keeps it implicit. No initial_state: given
    one, Keras 3's Bidirectional ignores the mask (masked steps are computed), tf_keras does not."""
    L = K.layers
    x = K.Input((6, 3))
    masked = L.Masking(0.0)(x)
    summed, forward_h, _, _, backward_c = L.Bidirectional(L.LSTM(3, return_state=True), merge_mode="sum",
                                                          name="bi_sum")(masked)
    averaged = L.Bidirectional(L.SimpleRNN(2, activation="selu", return_sequences=True), merge_mode="ave",
                               name="bi_selu")(masked)
    backwards = L.GRU(3, reset_after=False, go_backwards=True, recurrent_activation="hard_sigmoid",
                      return_sequences=True, name="gru_backwards")(masked)
    zeros = L.LSTM(2, return_sequences=True, zero_output_for_mask=True, name="zero_output")(masked)
    apart = L.Bidirectional(L.GRU(3, return_sequences=True, return_state=True), merge_mode=None,
                            name="bi_apart")(masked)
    return K.Model(x, [summed, forward_h, backward_c, averaged, L.GlobalAveragePooling1D(name="average")(backwards),
                       zeros] + list(apart))


def build_initial_state_mask(K):
    """Masked sequences into recurrent layers given initial_state, a decoder's pattern. Keras 3
    fills a call's mask only when the call has one tensor argument: these calls run unmasked,
    while their outputs still carry the mask to the layers after them. tf_keras applies it."""
    L = K.layers
    x, context = K.Input((6, 3), name="sequence"), K.Input((4,), name="context")
    masked = L.Masking(0.0)(x)
    h, c = L.Dense(4, activation="tanh", name="h0")(context), L.Dense(4, name="c0")(context)
    decoded = L.LSTM(4, return_sequences=True, name="decoder")(masked, initial_state=[h, c])
    after = L.GRU(3, name="after")(decoded)
    g = L.Dense(3, name="g0")(context)
    both = L.Bidirectional(L.GRU(3, return_sequences=True), name="bi")(masked, initial_state=[g, g])
    simple = L.SimpleRNN(2, name="simple")(masked, initial_state=[L.Dense(2, name="s0")(context)])
    return K.Model([x, context], [decoded, after, L.GlobalAveragePooling1D(name="pool")(both), simple])


def masking_and_context_inputs(rng):
    return masking_inputs(rng) + [floats(rng, 3, 4, low=-2.0, high=2.0)]


def build_ops_graph(K):
    """Tensor operations between layers: Keras 3 operation nodes (keras.ops) or tf_keras
    TFOpLambda / SlicingOpLambda layers (tf functions), the same numbers either way."""
    L = K.layers
    if K is keras:
        ops = keras.ops
        mean, concat, expand, where, matmul = ops.mean, ops.concatenate, ops.expand_dims, ops.where, ops.matmul
        sigmoid, softmax, maximum = ops.sigmoid, ops.softmax, ops.max
    else:
        import tensorflow as tf
        mean, concat, expand, where, matmul = tf.reduce_mean, tf.concat, tf.expand_dims, tf.where, tf.linalg.matmul
        sigmoid, softmax = tf.math.sigmoid, tf.nn.softmax
        maximum = lambda t, axis, keepdims: tf.reduce_max(t, axis=axis, keepdims=keepdims)
    weights = np.array([[0.5, -1.0], [1.5, 0.25], [-0.75, 2.0], [1.0, -0.5]], dtype=np.float32)
    x = K.Input((5, 3))
    h = L.LSTM(4, return_sequences=True)(x)
    last = h[:, -1, :]
    average = mean(h, axis=1) * 2.0 + 0.5
    joined = concat([last, average], axis=-1)
    leaky = where(h > 0, h, h * 0.1)
    return K.Model(x, [
        L.Dense(2)(joined),
        expand(sigmoid(last - average), 1),
        x[:, ::2, 1:],
        x[..., None, -1],
        matmul(last, weights),
        softmax(leaky, axis=1),
        maximum(leaky[:, 1:-1], axis=1, keepdims=True),
    ])


def build_mha_self(K):
    L = K.layers
    x = K.Input((5, 3))
    sequence = L.Bidirectional(L.LSTM(3, return_sequences=True))(x)
    attended, scores = L.MultiHeadAttention(num_heads=2, key_dim=3, value_dim=2)(
        sequence, sequence, return_attention_scores=True)
    residual = L.Add()([sequence, attended])
    causal = L.MultiHeadAttention(num_heads=2, key_dim=2, use_bias=False, output_shape=4)(
        residual, x, key=sequence, use_causal_mask=True)
    pooled = L.GlobalAveragePooling1D()(causal)
    return K.Model(x, [L.Dense(2)(pooled), scores])


def build_mha_masked(K):
    L = K.layers
    tokens = K.Input((6,), dtype="int32")
    embedded = L.Embedding(20, 4, mask_zero=True)(tokens)
    sequence = L.Bidirectional(L.LSTM(3, return_sequences=True))(embedded)
    attended = L.MultiHeadAttention(num_heads=2, key_dim=3)(sequence, sequence, use_causal_mask=True)
    pooled = L.GlobalAveragePooling1D()(L.Add()([sequence, attended]))
    # An unmasked query: Keras 3 zeroes the returned weights of masked query steps, tf_keras not.
    query = L.Embedding(20, 3)(tokens)
    _, scores = L.MultiHeadAttention(num_heads=2, key_dim=2, value_dim=3)(
        query, embedded, key=sequence, return_attention_scores=True)
    return K.Model(tokens, [L.Dense(2)(pooled), scores])


def build_mha_attention_mask(K):
    L = K.layers
    x = K.Input((4, 3))
    allowed = K.Input((4, 4))
    sequence = L.GRU(4, return_sequences=True)(x)
    attended = L.MultiHeadAttention(num_heads=2, key_dim=2)(
        sequence, sequence, attention_mask=allowed, use_causal_mask=True)
    return K.Model([x, allowed], L.Dense(2)(attended))


def conv_token_inputs(rng):
    return [rng.integers(0, 20, size=(3, 10)).astype(np.int32)]


def masking_inputs_5x4(rng):
    x = floats(rng, 3, 5, 4, low=-2.0, high=2.0)
    x[0, 1] = 0.0
    x[1, 3:] = 0.0
    return [x]


# ---------------------------------------------------------------------------
# Input makers (batch of 2 or 3)
# ---------------------------------------------------------------------------

def float_inputs(*shape, scale=1.0):
    return lambda rng: [floats(rng, *shape, low=-scale, high=scale)]


def embedding_inputs(rng):
    ids = rng.integers(1, 20, size=(3, 6)).astype(np.int32)
    ids[1, 4:] = 0          # 2 trailing pads
    ids[2, 2:] = 0          # 4 trailing pads
    return [ids]


def masking_inputs(rng):
    x = floats(rng, 3, 6, 3)
    x[0, 2] = 0.0           # a hole in the middle
    x[0, 5] = 0.0           # ... and one at the end
    x[1, 4:] = 0.0          # two trailing masked steps
    # row 2 is unmasked
    return [x]


def attention_mask_inputs(rng):
    allowed = (rng.uniform(size=(2, 4, 4)) < 0.6).astype(np.float32)
    allowed[:, :, 0] = 1.0
    allowed[1, 2, :] = 0.0  # a query step that may attend nowhere: uniform weights
    return [floats(rng, 2, 4, 3, low=-2.0, high=2.0), allowed]


def seq2seq_attention_inputs(rng):
    return [floats(rng, 2, 5, 4, low=-2.0, high=2.0), floats(rng, 2, 4, 3, low=-2.0, high=2.0)]


def siamese_inputs(rng):
    return [floats(rng, 2, 5, 3), floats(rng, 2, 5, 3)]


def seq2seq_inputs(rng):
    return [floats(rng, 2, 5, 4), floats(rng, 2, 4, 3)]


# ---------------------------------------------------------------------------
# Fixture table
# ---------------------------------------------------------------------------

@dataclasses.dataclass
class Fixture:
    name: str
    description: str
    build: Callable
    make_inputs: Callable
    uses_hard_sigmoid: bool = False
    # Why Keras 3 and tf_keras compute the model differently, if they do: their outputs must then
    # differ by VERSIONS_MIN_DIFF at least.
    versions_differ: str = ""
    weight_scale: float = 0.5     # weights ~ uniform(-weight_scale, weight_scale)
    checks_activations: bool = False  # must tell every activation it uses from its cousins
    layer_weight_scales: dict = dataclasses.field(default_factory=dict)  # name -> scale
    # Why Keras 3's legacy .h5 loader cannot read the model back, if it cannot: keras3.h5 is
    # then written but not reloaded.
    keras3_h5_unloadable: str = ""
    writers: tuple = ("keras3", "tfkeras")  # the Keras versions whose files are saved
    # A tf_keras model saved as the tfkeras files in place of build(tf_keras), for layers whose
    # weights tf_keras converts on load (CuDNN): its drawn weights reach both build() models
    # through tf_keras's load_weights, and its files are verified by loading them into build().
    tfkeras_source: Callable = None
    # A stateful model: after the expected outputs, each model is called again on new inputs
    # (second_input_<i>.npy), carrying its states, and gives second_expected_<writer>_<i>.npy.
    second_call: bool = False


# Keras 3's legacy .h5 loader and Attention (keras3_h5_unloadable).
ATTENTION_SCORE_MODE = ("turns Attention's score_mode 'dot' into the function keras.ops.dot and refuses it "
                        "(also for tfkeras.h5)")


FIXTURES: List[Fixture] = [
    Fixture("simple_rnn",
            "Sequential: SimpleRNN(3) on (4,5) -> Dense(1, sigmoid). 27 + 4 = 31 params. "
            "Compiled (adam, binary_crossentropy), so files carry training/compile config.",
            build_simple_rnn, float_inputs(3, 4, 5)),
    Fixture("lstm_sequences",
            "Sequential: LSTM(4, return_sequences=True) on (5,3) -> TimeDistributed(Dense(2)).",
            build_lstm_sequences, float_inputs(2, 5, 3)),
    Fixture("gru_reset_after",
            "Sequential: GRU(3, reset_after=True) on (5,4) -> Dense(2). Bias shape (2, 9).",
            build_gru_reset_after, float_inputs(3, 5, 4)),
    Fixture("gru_reset_before",
            "Sequential: GRU(3, reset_after=False, go_backwards=True, return_sequences=True) "
            "on (5,3) -> GlobalAveragePooling1D. Bias shape (9,).",
            build_gru_reset_before, float_inputs(2, 5, 3)),
    Fixture("stacked_lstm",
            "Sequential: LSTM(6, return_sequences=True) -> LSTM(4) -> Dense(3, softmax) on (6,4).",
            build_stacked_lstm, float_inputs(3, 6, 4)),
    Fixture("bidirectional_concat",
            "Sequential: Bidirectional(LSTM(3, return_sequences=True), merge_mode='concat') "
            "on (5,4) -> GlobalMaxPooling1D.",
            bidirectional_builder("LSTM", "concat"), float_inputs(2, 5, 4)),
    Fixture("bidirectional_sum",
            "Sequential: Bidirectional(GRU(3, return_sequences=True), merge_mode='sum') "
            "on (5,4) -> GlobalMaxPooling1D.",
            bidirectional_builder("GRU", "sum"), float_inputs(2, 5, 4)),
    Fixture("bidirectional_mul",
            "Sequential: Bidirectional(SimpleRNN(3, return_sequences=True), merge_mode='mul') "
            "on (5,4) -> GlobalMaxPooling1D.",
            bidirectional_builder("SimpleRNN", "mul"), float_inputs(2, 5, 4)),
    Fixture("bidirectional_ave",
            "Sequential: Bidirectional(LSTM(3, return_sequences=True), merge_mode='ave') "
            "on (5,4) -> GlobalMaxPooling1D.",
            bidirectional_builder("LSTM", "ave"), float_inputs(2, 5, 4)),
    Fixture("bidirectional_none",
            "Functional: Bidirectional(GRU(2), merge_mode=None) on (5,4) gives [fwd, bwd]; "
            "Concatenate -> Dense(1) is output 0, the backward branch itself is output 1.",
            build_bidirectional_none, float_inputs(3, 5, 4)),
    Fixture("embedding_mask",
            "Sequential: int32 ids (6,) -> Embedding(20, 4, mask_zero=True) -> LSTM(3) -> Dense(2). "
            "Rows 1 and 2 end in 2 and 4 padding zeros.",
            build_embedding_mask, embedding_inputs),
    Fixture("masking_gru",
            "Sequential: Masking(0.0) -> GRU(3, return_sequences=True) -> Dense(1) on (6,3). "
            "Row 0 has all-zero steps at t=2 and t=5, row 1 at t=4,5, row 2 none.",
            build_masking_gru, masking_inputs),
    Fixture("seq2seq",
            "Functional encoder-decoder: encoder (None,4) -> LSTM(5, return_state=True) -> [h, c]; "
            "decoder (None,3) -> LSTM(5, return_sequences=True, initial_state=[h, c]) -> "
            "Dense(3, softmax). Inputs: encoder (2,5,4), decoder (2,4,3).",
            build_seq2seq, seq2seq_inputs),
    Fixture("activations",
            "Sequential on (4,3): SimpleRNN(3, relu, seq) -> LSTM(3, softsign, hard_sigmoid, "
            "use_bias=False) -> RepeatVector(2) -> GRU(2, elu, hard_sigmoid, seq) -> Flatten -> "
            "Dense(2) -> Activation(softmax). Keras 3 and tf_keras outputs differ (hard_sigmoid). "
            "Weights ~ uniform(-1, 1) and inputs ~ uniform(-3, 3) so gate pre-activations leave "
            "the region where the two hard_sigmoid formulas nearly agree.",
            build_activations, float_inputs(3, 4, 3, scale=3.0), uses_hard_sigmoid=True,
            weight_scale=1.0, checks_activations=True),
    Fixture("activations_more",
            "Functional on (5,3), one branch per activation, each on the input: SimpleRNN(3, selu), "
            "SimpleRNN(3, softplus), GRU(3, swish, recurrent relu6), SimpleRNN(3, relu6), "
            "LSTM(4, gelu) -> Dense(2), SimpleRNN(3, leaky_relu), SimpleRNN(3, tanh), "
            "SimpleRNN(2, exponential), all with sequences, concatenated as output 0; "
            "Dense(2, linear) of that is output 1. Weights ~ uniform(-1, 1) (exponential_rnn 0.3, "
            "relu6_rnn 2, gelu_lstm 2, gelu_amplifier 3) and inputs ~ uniform(-2, 2), so that "
            "swapping any activation for a close cousin moves the outputs by more than 1e-3.",
            build_activations_more, float_inputs(2, 5, 3, scale=2.0), weight_scale=1.0,
            checks_activations=True,
            layer_weight_scales={"exponential_rnn": 0.3, "relu6_rnn": 2.0, "gelu_lstm": 2.0,
                                 "gelu_amplifier": 3.0}),
    Fixture("misc_layers",
            "Functional on (5,4): Dropout(0.2) -> SpatialDropout1D(0.1) -> GaussianNoise(0.1) -> "
            "SimpleRNN(3, seq) as branch a; TimeDistributed(Dense(3)) as branch b; Add -> "
            "GlobalMaxPooling1D -> Dense(2). Outputs are inference-mode (training=False).",
            build_misc_layers, float_inputs(2, 5, 4)),
    Fixture("conv1d_stack",
            "Sequential: int32 ids (10,) -> Embedding(20, 6) -> Conv1D(8, 3, same, relu) -> "
            "MaxPooling1D(2) -> LSTM(4) -> Dense(2).",
            build_conv1d_stack, conv_token_inputs),
    Fixture("conv1d_options",
            "Functional on (9,4), nine outputs each reading the input: Conv1D valid strides 2 "
            "without bias; causal dilation 2 tanh; same kernel 4 strides 2 (padding 1 before, 2 "
            "after); causal strides 2 sigmoid; same groups 2; MaxPooling1D(3, 2, same); "
            "AveragePooling1D(3, 2, same) (padding not counted); AveragePooling1D(2); "
            "MaxPooling1D(4, 3).",
            build_conv1d_options, float_inputs(2, 9, 4)),
    Fixture("lstm_batchnorm",
            "Sequential: LSTM(5, seq) -> BatchNormalization -> LSTM(4) -> Dense(2) on (6,3). "
            "moving_variance ~ uniform(0.05, 1.5); 10 non-trainable parameters (the moving statistics).",
            build_lstm_batchnorm, float_inputs(3, 6, 3)),
    Fixture("batchnorm_options",
            "Sequential on (5,4): Masking(0) -> BatchNormalization(axis=1, epsilon=0.1) -> "
            "BatchNormalization(center=False) -> BatchNormalization(scale=False, epsilon=1e-5) -> "
            "GRU(3, seq). Row 0 masked at t=1, row 1 at t=3,4: the mask crosses the normalizations.",
            build_batchnorm_options, masking_inputs_5x4),
    Fixture("gru_layernorm",
            "Sequential: GRU(5, seq) -> LayerNormalization -> GRU(4) -> Dense(2) on (6,3).",
            build_gru_layernorm, float_inputs(3, 6, 3)),
    Fixture("layernorm_options",
            "Functional on (5,4), three outputs: LayerNormalization(); "
            "(center=False, epsilon=1e-6); (scale=False, epsilon=0.5).",
            build_layernorm_options, float_inputs(2, 5, 4, scale=2.0)),
    Fixture("activation_layers",
            "Functional on (5,4): Dense(6) `spread` (weights ~ uniform(-1, 1), inputs ±2), then "
            "eight outputs: ReLU(); ReLU(max_value=1.5, negative_slope=0.1, threshold=0.5); "
            "ReLU(max_value=1); ReLU(negative_slope=0.2, threshold=1); LeakyReLU(0.2) "
            "(negative_slope in Keras 3, alpha in tf_keras); ELU(0.7); Softmax(); Softmax(axis=1).",
            build_activation_layers, float_inputs(2, 5, 4, scale=2.0), weight_scale=1.0),
    Fixture("merge_reshape",
            "Functional on (6,4): Dense(4) branches a, b, c; outputs Subtract(a, b), "
            "Multiply(a, b, c), Average(a, b, c), Maximum(a, b), Minimum(a, b, c), Reshape((-1, 8)), "
            "Reshape((4, 6)), LSTM(3) on Permute((2, 1)).",
            build_merge_reshape, float_inputs(2, 6, 4)),
    Fixture("unit_prelu_dot",
            "Functional on (5,4), Dense(6) branches a and b: UnitNormalization() of a; "
            "UnitNormalization(axis=1) of a; PReLU() of a (alpha [5, 6]); "
            "PReLU(shared_axes=[1]) of b (alpha [1, 6]); "
            "Flatten of Dot(axes=2)(a, b) [5, 5]; Dot(axes=(1, 1), normalize=True)(a, b) [6, 6]; "
            "Dot(axes=-1) of the time averages of a and b [1]; Dot(axes=(2, 1)) of a and b's time "
            "average [5]; Concatenate(axis=1)(a, b).",
            build_unit_prelu_dot, float_inputs(2, 5, 4, scale=2.0)),
    Fixture("masked_prelu_unit",
            "Sequential on (5,4): Masking(0) -> PReLU(shared_axes=[1]) -> UnitNormalization() -> "
            "GRU(3, seq). Row 0 masked at t=1, row 1 at t=3,4: the mask crosses both layers.",
            build_masked_prelu_unit, masking_inputs_5x4),
    Fixture("activations_keras3",
            "Keras 3 only (tf_keras lacks these activations). Functional on (5,3), one branch per "
            "activation, each on the input, concatenated: SimpleRNN(3, celu), GRU(3, hard_tanh, "
            "recurrent sparse_sigmoid), LSTM(3, hard_silu), Dense(4) with hard_shrink, soft_shrink, "
            "tanh_shrink, sparse_plus, squareplus and log_softmax, Conv1D(4, 2, same, log_sigmoid), "
            "Dense(5) -> Activation(sparsemax). Weights ~ uniform(-1, 1), inputs ~ uniform(-2, 2).",
            build_activations_keras3, float_inputs(2, 5, 3, scale=2.0), weight_scale=1.0,
            checks_activations=True, writers=("keras3",)),
    Fixture("activations_mish",
            "Sequential on (5,3): SimpleRNN(4, mish, seq) -> Dense(3) -> Activation(mish). "
            "Weights ~ uniform(-1, 1), inputs ~ uniform(-2, 2).",
            build_activations_mish, float_inputs(2, 5, 3, scale=2.0), weight_scale=1.0,
            checks_activations=True),
    Fixture("time_distributed_any",
            "Functional on (4,6,3) (4 outer steps of 6x3): TimeDistributed(Conv1D(4, 3, relu)) -> "
            "TimeDistributed(GlobalMaxPooling1D) and TimeDistributed(Flatten), concatenated -> "
            "TimeDistributed(Dense(2, tanh)) is output 1; TimeDistributed(LSTM(3)) -> GRU(2) is "
            "output 0; TimeDistributed(BatchNormalization) of the input is output 2.",
            build_time_distributed_any, float_inputs(2, 4, 6, 3, scale=2.0)),
    Fixture("time_resampling",
            "Functional on (6,3): ZeroPadding1D((1, 2)) -> Conv1D(4, 2) -> Cropping1D((2, 1)) -> "
            "UpSampling1D(2) -> GRU(3) -> Dense(2) is output 0; ZeroPadding1D(2), Cropping1D(1) and "
            "UpSampling1D(3) of the input are outputs 1 to 3.",
            build_time_resampling, float_inputs(2, 6, 3)),
    Fixture("nested_models",
            "Functional on (5,3): a nested Sequential 'encoder' (Dense(4) -> LSTM(3, seq)) -> a nested "
            "Functional 'head' (Dense(3, tanh) -> GRU(4)) -> Dense(2).",
            build_nested_models, float_inputs(2, 5, 3)),
    Fixture("nested_siamese",
            "Functional on two (5,3) inputs: one nested Functional 'encoder' (Dense(4, tanh) -> LSTM(3)) "
            "called on both (shared weights) -> Subtract -> Dense(1, sigmoid) is output 0; the encoder's "
            "second call is output 1.",
            build_nested_siamese, siamese_inputs),
    Fixture("nested_in_sequential",
            "Sequential on int32 ids (6,): Embedding(20, 4, mask_zero=True) -> a nested Sequential 'encoder' "
            "(Dense(3, tanh) -> LSTM(3, seq)) -> a nested Functional 'head' (GRU(4, seq)) -> LSTM(2) -> "
            "Dense(2). Rows 1 and 2 end in 2 and 4 padding zeros, masked through both nested models.",
            build_nested_in_sequential, embedding_inputs),
    Fixture("nested_two_deep",
            "Sequential on (6,3): Masking(0.0) -> a nested Functional 'middle' (a nested Sequential 'inner' "
            "(Dense(4, tanh) -> LSTM(3, seq)) -> GRU(3)) -> Dense(2). Masked steps as in masking_gru.",
            build_nested_two_deep, masking_inputs),
    Fixture("time_distributed_nested",
            "Sequential on (4,6,6,1) (4 frames of 6x6): TimeDistributed(a nested Sequential 'frame_encoder' "
            "(Conv2D(2, 3, relu) -> MaxPooling2D(2) -> Flatten)) -> TimeDistributed(a nested Sequential "
            "'step_head' (Dense(4, tanh) -> Dense(3))) -> LSTM(3) -> Dense(2).",
            build_time_distributed_nested, float_inputs(2, 4, 6, 6, 1)),
    Fixture("global_pooling_channels_first",
            "Functional on (6,3): GRU(4, seq) s; GlobalAveragePooling1D(data_format='channels_first')(s) "
            "(the mean of each step's 4 units) -> Dense(2) is output 0; GlobalMaxPooling1D("
            "data_format='channels_first', keepdims=True)(s), [B, 6, 1], is output 1.",
            build_global_pooling_channels_first, float_inputs(2, 6, 3)),
    Fixture("zero_padding_channels_first",
            "Functional on (6,3): GRU(4, seq) -> ZeroPadding1D((1, 2), data_format='channels_first') "
            "([B, 6, 7]: each step's 4 units padded) is output 1; LSTM(2) of it -> Dense(2) is output 0. "
            "Keras 3 only (tf_keras's ZeroPadding1D has no data_format).",
            build_zero_padding_channels_first, float_inputs(2, 6, 3), writers=("keras3",)),
    Fixture("attention_seq2seq",
            "Luong-attention seq2seq: encoder LSTM(5, return_sequences, return_state) on (5,4); decoder "
            "LSTM(5, seq) on (4,3) with initial_state the encoder's states; Attention(use_scale=True)([decoder, encoder], "
            "return_attention_scores=True); Concatenate([context, decoder]) -> TimeDistributed(Dense(3, "
            "softmax)) is output 0, the attention weights output 1. Scale ~ uniform(-2, 2).",
            build_attention_seq2seq, seq2seq_attention_inputs, layer_weight_scales={"attention": 2.0},
            keras3_h5_unloadable=ATTENTION_SCORE_MODE),
    Fixture("attention_options",
            "Functional on (5,4): Dense(4) query and key, Dense(3) value; outputs "
            "Attention(concat, use_scale)([q, v, k], use_causal_mask=True), Attention(concat)([q, k]), "
            "Attention()([q, input, k]) (dot, no scale). Attention weights ~ uniform(-2, 2).",
            build_attention_options, float_inputs(2, 5, 4, scale=2.0),
            layer_weight_scales={"attention": 2.0, "attention_1": 2.0}, keras3_h5_unloadable=ATTENTION_SCORE_MODE),
    Fixture("attention_masked",
            "Functional on token ids (6,), rows padded with 0: Embedding(20, 4, mask_zero=True) -> "
            "Bidirectional(GRU(3, seq)) s; AdditiveAttention()([s, s]) -> GlobalAveragePooling1D -> "
            "Dense(2, softmax) is output 0; the weights of Attention(use_scale=True)([s, embedded, s]) "
            "are output 1. Keras 3 writes the masks as operation nodes (NotEqual, ConvertToTensor) passed as mask=.",
            build_attention_masked, embedding_inputs, layer_weight_scales={"attention": 2.0},
            keras3_h5_unloadable="refuses operation nodes"),
    Fixture("mha_self",
            "Functional on (5,3): Bidirectional(LSTM(3, seq)) s; MultiHeadAttention(2 heads, key_dim 3, "
            "value_dim 2)(s, s, return_attention_scores=True) a, its weights output 1; Add([s, a]) r; "
            "MultiHeadAttention(2 heads, key_dim 2, no bias, output_shape 4)(r, input, key=s, "
            "use_causal_mask=True) -> GlobalAveragePooling1D -> Dense(2) is output 0. Attention "
            "weights ~ uniform(-1.5, 1.5).",
            build_mha_self, float_inputs(2, 5, 3, scale=2.0),
            layer_weight_scales={"multi_head_attention": 1.5, "multi_head_attention_1": 1.5}),
    Fixture("mha_masked",
            "Functional on token ids (6,), rows padded with 0: Embedding(20, 4, mask_zero=True) e -> "
            "Bidirectional(LSTM(3, seq)) s; MultiHeadAttention(2 heads, key_dim 3)(s, s, "
            "use_causal_mask=True) a; Add([s, a]) -> GlobalAveragePooling1D -> Dense(2) is output 0; "
            "the weights of MultiHeadAttention(2 heads, key_dim 2, value_dim 3)(Embedding(20, 3) of the ids, e, "
            "key=s) are output 1. Keras 3 writes the masks as operation nodes passed as mask=.",
            build_mha_masked, embedding_inputs,
            layer_weight_scales={"multi_head_attention": 1.5, "multi_head_attention_1": 1.5},
            keras3_h5_unloadable="refuses operation nodes"),
    Fixture("mha_attention_mask",
            "Functional on (4,3) x and a (4,4) 0/1 attention mask m: GRU(4, seq) s; "
            "MultiHeadAttention(2 heads, key_dim 2)(s, s, attention_mask=m, use_causal_mask=True) -> "
            "Dense(2). Query step 2 of row 1 may attend nowhere. Attention weights ~ uniform(-1.5, 1.5).",
            build_mha_attention_mask, attention_mask_inputs,
            layer_weight_scales={"multi_head_attention": 1.5}),
    Fixture("attention_causal_self",
            "Functional on (5,4): GRU(4, seq); AdditiveAttention(use_scale=False)([s, s], "
            "use_causal_mask=True); Add([s, attention]) -> Dense(2).",
            build_attention_causal_self, float_inputs(2, 5, 4, scale=2.0)),
    Fixture("rnn_cells",
            "Functional on (6,3), RNN(cell) forms: RNN(LSTMCell(3), return_state) `lone_lstm` gives "
            "outputs 0-2; RNN(SimpleRNNCell(2, relu)) `lone_simple` output 3; "
            "RNN(StackedRNNCells([GRUCell(3), GRUCell(3)]), return_state) `gru_pair` outputs 4-6 "
            "(the last cell's output, then each cell's state).",
            build_rnn_cells, float_inputs(3, 6, 3)),
    Fixture("rnn_cells_masked",
            "Sequential on (6,3): Masking(0) -> RNN(StackedRNNCells([LSTMCell(4), GRUCell(3, "
            "reset_after=False), LSTMCell(2, relu)]), return_sequences, go_backwards) `stacked`. "
            "Row 0 has all-zero (masked) steps at t=2 and t=5, row 1 at t=4,5.",
            build_rnn_cells_masked, masking_inputs),
    Fixture("stateful",
            "Sequential on batch_shape (2,4,3): LSTM(4, stateful, seq) -> RNN(GRUCell(3), stateful) "
            "`stateful_rnn` -> Dense(2). expected_* are a first call from zero states; "
            "second_expected_* the same model called next on second_input_0.npy, from the states the "
            "first call left (Keras's stateful behaviour, which a PredictionStream reproduces).",
            build_stateful, float_inputs(2, 4, 3), second_call=True),
    Fixture("cudnn",
            "tf_keras files: Sequential on (5,3): CuDNNLSTM(4, seq) `cudnn_lstm` -> "
            "Bidirectional(CuDNNGRU(3, seq)) -> CuDNNGRU(2) `cudnn_gru`. Expected outputs: tf_keras's "
            "LSTM / GRU(reset_after=True) model loading these weights (load_weights converts them). "
            "The keras3 files hold that LSTM/GRU model with the converted weights (Keras 3 has no "
            "CuDNN classes).",
            build_cudnn_equivalent, float_inputs(2, 5, 3), tfkeras_source=build_cudnn_source),
    Fixture("conv1d_channels_first",
            "Functional on (9,4) read channels first through Permute((2, 1)), four outputs: Conv1D(6, 4, "
            "strides 2, same, groups 2); Conv1D(4, 2, causal, dilation 2, groups 2, tanh); MaxPooling1D(3, 2, same); "
            "AveragePooling1D(3, 2, same), all data_format channels_first.",
            build_conv1d_channels_first, float_inputs(2, 9, 4)),
    Fixture("conv2d_crnn",
            "Sequential CRNN on (8,12,1) images: Conv2D(4, 3, same, relu) -> MaxPooling2D(2) -> "
            "Conv2D(6, 3, same, relu) -> MaxPooling2D((2, 1)) -> Permute((2, 1, 3)) -> Reshape((6, 12)) "
            "-> Dense(8, relu) -> Bidirectional(LSTM(4, return_sequences)) -> Dense(5, softmax).",
            build_conv2d_crnn, float_inputs(2, 8, 12, 1)),
    Fixture("conv2d_options",
            "Functional on (7,8,3), thirteen outputs each reading the input (or its channels-first "
            "Permute((3, 1, 2))): Conv2D (2,3) strides (2,1) same without bias; (3,2) dilation (2,1) "
            "tanh; (4,2) strides 2 same (even kernels: padding after is the larger); 3 same groups 3; "
            "MaxPooling2D((3,2), 2, same); "
            "AveragePooling2D(3, (2,3), same) (padding not counted); AveragePooling2D(2); "
            "MaxPooling2D((2,3), (1,2)); GlobalAveragePooling2D "
            "keepdims; GlobalMaxPooling2D; GlobalAveragePooling2D channels_first keepdims; "
            "ZeroPadding2D(((1,2),(0,1))) -> Cropping2D(((1,0),(2,1))); the same channels_first.",
            build_conv2d_options, float_inputs(2, 7, 8, 3)),
    Fixture("conv_lstm2d",
            "Sequential on (4 steps, 6, 5, 2): ConvLSTM2D(3, (3,3), same, return_sequences) -> "
            "ConvLSTM2D(2, (2,2), strides 2, valid) -> Flatten -> Dense(3).",
            build_conv_lstm2d, float_inputs(2, 4, 6, 5, 2, scale=2.0)),
    Fixture("conv_lstm1d",
            "Functional on (4 steps, 7, 2), four outputs: ConvLSTM1D(3, 3, valid, dilation 2, "
            "return_state) output, h and c; ConvLSTM1D(2, 2, strides 2, same, go_backwards, relu, "
            "return_sequences).",
            build_conv_lstm1d, float_inputs(2, 4, 7, 2, scale=2.0)),
    Fixture("depthwise_separable",
            "Functional on (7,8,3) images and (9,4) sequences, five outputs: DepthwiseConv2D((3,2), "
            "strides 2, same, depth_multiplier 2, tanh); DepthwiseConv2D(2, dilation (1,2), no bias); "
            "SeparableConv2D(5, (2,3), same, depth_multiplier 2, relu) of the images; DepthwiseConv1D(4, "
            "strides 2, same, depth_multiplier 2); SeparableConv1D(3, 3, dilation 2) of the sequences.",
            build_depthwise_separable, image_and_sequence_inputs),
    Fixture("ops_mask_tagger",
            "Functional: int32 ids (6,) -> Embedding(20, 4, mask_zero=True) -> LSTM(3, "
            "return_sequences=True) -> Dense(2). Keras 3 saves the mask as a NotEqual operation node "
            "passed as mask= to the LSTM. Rows 1 and 2 end in 2 and 4 padding zeros.",
            build_ops_mask_tagger, embedding_inputs, keras3_h5_unloadable="refuses operation nodes"),
    Fixture("ops_masking",
            "Functional on (6,3): Masking(0.0) -> Bidirectional(GRU(3, return_sequences=True)) a; "
            "GlobalAveragePooling1D(a) is output 0, LSTM(2) of Concatenate([a, Dense(2) of the masked "
            "input]) output 1. Keras 3 saves the mask as NotEqual and Any operation nodes passed as "
            "mask= (a list of two to Concatenate). Row 0 has all-zero steps at t=2 and t=5, row 1 at t=4,5.",
            build_ops_masking, masking_inputs, keras3_h5_unloadable="refuses operation nodes"),
    Fixture("masked_recurrent",
            "Functional on (6,3), Masking(0.0) then ten outputs: Bidirectional(LSTM(3, return_state), sum) "
            "`bi_sum` output, forward h and backward c (outputs 0-2); Bidirectional(SimpleRNN(2, selu, seq), "
            "ave) `bi_selu` (3); GlobalAveragePooling1D of GRU(3, reset_after=False, go_backwards, "
            "hard_sigmoid, seq) (4); LSTM(2, seq, zero_output_for_mask) (5); Bidirectional(GRU(3, seq, "
            "return_state), None) `bi_apart`: both sequences and both states (6-9). Keras 3 saves the mask as operation nodes. Row 0 has all-zero "
            "steps at t=2 and t=5, row 1 at t=4,5. Weights ~ uniform(-0.8, 0.8), so that hard_sigmoid's "
            "Keras 2 and Keras 3 forms differ.",
            build_masked_recurrent, masking_inputs, uses_hard_sigmoid=True, weight_scale=0.8,
            keras3_h5_unloadable="refuses operation nodes"),
    Fixture("initial_state_mask",
            "Functional on a masked (6,3) sequence and a (4,) context: LSTM(4, seq) `decoder` given "
            "initial_state [Dense(4, tanh), Dense(4)] of the context (output 0), GRU(3) `after` of it "
            "(1); GlobalAveragePooling1D of Bidirectional(GRU(3, seq)) `bi` given initial_state [g, g] "
            "(2); SimpleRNN(2) `simple` given a Dense(2) state (3). Row 0 has all-zero steps at t=2 "
            "and t=5, row 1 at t=4,5.",
            build_initial_state_mask, masking_and_context_inputs,
            versions_differ="Keras 3 runs a call given initial_state without its mask (only a call of one "
                            "tensor argument gets it), while the calls after it get the mask; tf_keras "
                            "applies it to every call",
            keras3_h5_unloadable="refuses operation nodes"),
    Fixture("ops_graph",
            "Functional on (5,3): LSTM(4, return_sequences=True) h; operations on it (Keras 3 keras.ops "
            "nodes, tf_keras TFOpLambda/SlicingOpLambda): h[:, -1, :], mean over time * 2 + 0.5, "
            "concatenate -> Dense(2); expand_dims(sigmoid(last - mean), 1); x[:, ::2, 1:]; x[..., None, -1]; "
            "matmul by a constant (4, 2); softmax over time of where(h > 0, h, 0.1 h); its max over "
            "steps 1..-1 with keepdims.",
            build_ops_graph, float_inputs(2, 5, 3), keras3_h5_unloadable="refuses operation nodes"),
]


# ---------------------------------------------------------------------------
# Writers and verification
# ---------------------------------------------------------------------------

def save_keras3(model, d: Path):
    model.save(d / "keras3.keras")
    model.save(d / "keras3.h5")                       # Keras 3's legacy HDF5 writer
    (d / "keras3.json").write_text(model.to_json())
    model.save_weights(d / "keras3.weights.h5")


def save_tfkeras(model, d: Path):
    model.save(d / "tfkeras.h5", save_format="h5")
    (d / "tfkeras.json").write_text(model.to_json())
    model.save_weights(d / "tfkeras_weights.h5")      # legacy HDF5 weights-only


def reload_keras3(d: Path, legacy_h5=True):
    yield "keras3.keras", keras.models.load_model(d / "keras3.keras")
    if legacy_h5:
        yield "keras3.h5", keras.models.load_model(d / "keras3.h5")
    m = keras.models.model_from_json((d / "keras3.json").read_text())
    m.load_weights(d / "keras3.weights.h5")
    yield "keras3.json+keras3.weights.h5", m


def reload_tfkeras(d: Path):
    yield "tfkeras.h5", tf_keras.models.load_model(d / "tfkeras.h5")
    m = tf_keras.models.model_from_json((d / "tfkeras.json").read_text())
    m.load_weights(d / "tfkeras_weights.h5")
    yield "tfkeras.json+tfkeras_weights.h5", m


def reload_into(build):
    """A tf_keras reloader for `tfkeras_source` fixtures: the files' weights loaded into build()."""
    def reload(d: Path):
        for name in ("tfkeras.h5", "tfkeras_weights.h5"):
            model = build(tf_keras)
            model.load_weights(d / name)
            yield f"{name} into the equivalent model", model
    return reload


def assign_converted_weights(source, m3, mt, rng, scale, d: Path):
    """Draws `source`'s weights from uniform(-scale, scale), loads them into the tf_keras model
    `mt` through tf_keras's load_weights (which converts CuDNN weights), and copies the result
    into the Keras 3 model `m3`, layer by layer by name."""
    for layer in source.layers:
        layer.set_weights([rng.uniform(-scale, scale, size=w.shape).astype(np.float32)
                           for w in layer.get_weights()])
    scratch = d / "scratch_weights.h5"
    source.save_weights(scratch)
    mt.load_weights(scratch)
    scratch.unlink()
    for layer in m3.layers:
        layer.set_weights(mt.get_layer(layer.name).get_weights())


def verify(reloader, d: Path, inputs, expected, failures: list):
    """Reload each saved form and compare its predictions with `expected`."""
    results = {}
    try:
        for label, model in reloader(d):
            got = predict(model, inputs)
            ok = len(got) == len(expected) and all(
                g.shape == e.shape and np.allclose(g, e, rtol=RTOL, atol=ATOL)
                for g, e in zip(got, expected))
            results[label] = "ok" if ok else f"MISMATCH (max abs diff {max_abs_diff(got, expected):.3g})"
            if not ok:
                failures.append(f"{d.name}: {label} reload mismatch")
    except Exception as e:  # record, keep going
        results["error"] = short_error(e)
        failures.append(f"{d.name}: reload failed: {short_error(e)}")
    return results


def cross_loads(d: Path, inputs, expected3, expectedt):
    """Informational: what each framework does with the *other* one's files."""
    checks = {
        "keras3 load_model(tfkeras.h5)":
            (lambda: keras.models.load_model(d / "tfkeras.h5"), expected3),
        "keras3 model_from_json(keras3.json).load_weights(tfkeras_weights.h5)":
            (lambda: _json_plus_weights(keras, d / "keras3.json", d / "tfkeras_weights.h5"), expected3),
        "tf_keras load_model(keras3.h5)":
            (lambda: tf_keras.models.load_model(d / "keras3.h5"), expectedt),
    }
    out = {}
    for label, (load, expected) in checks.items():
        try:
            got = predict(load(), inputs)
            diff = max_abs_diff(got, expected)
            out[label] = "ok" if diff <= CROSS_ATOL else f"loads, outputs differ (max abs diff {diff:.3g})"
        except Exception as e:
            out[label] = short_error(e).replace(str(d) + "/", "")
    return out


ACTIVATION_KEYS = ("activation", "recurrent_activation")


def activations_used(model) -> set:
    """The Keras config names of every activation a model's layers apply."""
    return {layer.get_config()[key] for layer in model.layers for key in ACTIVATION_KEYS
            if isinstance(layer.get_config().get(key), str)}


def with_activation_swapped(model, name: str, function):
    """A copy of a Keras 3 model (same weights) in which every use of activation `name` is
    `function`."""
    def clone(layer):
        config = layer.get_config()
        for key in ACTIVATION_KEYS:
            if config.get(key) == name:
                config[key] = function
        return layer.__class__.from_config(config)
    twin = keras.models.clone_model(model, clone_function=clone)
    twin.set_weights(model.get_weights())
    return twin


def save_cousins(m3, d: Path, inputs, expected3, failures: list) -> list:
    """For every activation of the model and each of its cousins: the Keras 3 outputs with the
    cousin in its place, saved beside the fixture, and how far they are from the real ones."""
    cousins = []
    for name in sorted(activations_used(m3)):
        if name not in ACTIVATION_COUSINS:
            failures.append(f"{d.name}: activation {name} has no cousins listed")
            continue
        for cousin, function in ACTIVATION_COUSINS[name].items():
            outputs = predict(with_activation_swapped(m3, name, function), inputs)
            prefix = f"cousin_{name}_{cousin}_"
            for i, y in enumerate(outputs):
                np.save(d / f"{prefix}{i}.npy", y)
            diff = max_abs_diff(outputs, expected3)
            cousins.append({"activation": name, "cousin": cousin, "prefix": prefix, "max_abs_diff": diff})
            if not diff > COUSIN_MIN_DIFF:
                failures.append(f"{d.name}: swapping {name} for {cousin} moves the outputs by only {diff:.3g}")
    return cousins


def _json_plus_weights(K, json_path, weights_path):
    m = K.models.model_from_json(json_path.read_text())
    m.load_weights(weights_path)
    return m


def generate_fixture(fx: Fixture, root: Path, failures: list) -> dict:
    d = root / fx.name
    shutil.rmtree(d, ignore_errors=True)
    d.mkdir(parents=True)
    rng = np.random.default_rng(seed_for(fx.name))
    notes = []

    reset_sessions()
    m3 = fx.build(keras)
    # tf_keras cannot build a Keras-3-only fixture (an activation it lacks).
    mt = fx.build(tf_keras) if "tfkeras" in fx.writers else None
    if fx.tfkeras_source:
        source = fx.tfkeras_source(tf_keras)
        assign_converted_weights(source, m3, mt, rng, fx.weight_scale, d)
    else:
        source = mt
        assign_weights(m3, mt, rng, fx.weight_scale, fx.layer_weight_scales)
    inputs = fx.make_inputs(rng)
    for i, x in enumerate(inputs):
        np.save(d / f"input_{i}.npy", x)

    expected3 = predict(m3, inputs)
    expectedt = expected3 if mt is None else predict(mt, inputs)
    if fx.second_call:
        # Straight after the first call, so that each model goes on from the states it left.
        second = fx.make_inputs(rng)
        for i, x in enumerate(second):
            np.save(d / f"second_input_{i}.npy", x)
        for writer, model in (("keras3", m3), ("tfkeras", mt)):
            outputs = predict(model, second)
            for i, y in enumerate(outputs):
                np.save(d / f"second_expected_{writer}_{i}.npy", y)
            if max_abs_diff(outputs, predict(fx.build(keras if writer == "keras3" else tf_keras), second)) < 1e-3:
                failures.append(f"{fx.name}: the second call does not depend on the first one's states")
        for model in (m3, mt):
            for layer in model.layers:
                if getattr(layer, "stateful", False):
                    layer.reset_states()
    for i, y in enumerate(expected3):
        np.save(d / f"expected_keras3_{i}.npy", y)
    if mt is not None:
        for i, y in enumerate(expectedt):
            np.save(d / f"expected_tfkeras_{i}.npy", y)

    diff = max_abs_diff(expected3, expectedt)
    if fx.uses_hard_sigmoid:
        if diff < HARD_SIGMOID_MIN_DIFF:
            failures.append(f"{fx.name}: Keras 3 and tf_keras outputs differ by only {diff:.3g}")
    elif fx.versions_differ:
        if diff < VERSIONS_MIN_DIFF:
            failures.append(f"{fx.name}: Keras 3 and tf_keras outputs differ by only {diff:.3g}")
    elif diff > CROSS_ATOL:
        failures.append(f"{fx.name}: Keras 3 vs tf_keras outputs differ by {diff:.3g}")

    cousins = save_cousins(m3, d, inputs, expected3, failures) if fx.checks_activations else []

    writers, verification = [], {}
    tfkeras_reloader = reload_tfkeras if source is mt else reload_into(fx.build)
    for writer, save, reloader, model, expected in [
        ("keras3", save_keras3, lambda d: reload_keras3(d, legacy_h5=not fx.keras3_h5_unloadable), m3, expected3),
        ("tfkeras", save_tfkeras, tfkeras_reloader, source, expectedt),
    ]:
        if writer not in fx.writers:
            continue
        try:
            save(model, d)
        except Exception as e:
            notes.append(f"{writer} writer skipped: {short_error(e)}")
            failures.append(f"{fx.name}: {writer} writer failed: {short_error(e)}")
            continue
        writers.append(writer)
        write_json(d / f"summary_{writer}.json", summarize(model))
        verification[writer] = verify(reloader, d, inputs, expected, failures)

    if fx.keras3_h5_unloadable:
        notes.append(f"keras3.h5 not reloaded: Keras 3's legacy .h5 loader {fx.keras3_h5_unloadable}")
    entry = {
        "name": fx.name,
        "description": fx.description,
        "writers": writers,
        "inputs": len(inputs),
        "outputs": len(expected3),
        "uses_hard_sigmoid": fx.uses_hard_sigmoid,
        **({"versions_differ": fx.versions_differ} if fx.versions_differ else {}),
        "seed": seed_for(fx.name),
        "weight_range": [-fx.weight_scale, fx.weight_scale],
        **({"layer_weight_ranges": {name: [-scale, scale] for name, scale in fx.layer_weight_scales.items()}}
           if fx.layer_weight_scales else {}),
        "input_shapes": [list(x.shape) for x in inputs],
        "input_dtypes": [str(x.dtype) for x in inputs],
        "output_shapes": [list(y.shape) for y in expected3],
        "max_abs_diff_keras3_vs_tfkeras": diff,
        **({"activation_cousins": cousins} if fx.checks_activations else {}),
        "verification": verification,
        "cross_loads": cross_loads(d, inputs, expected3, expectedt) if len(writers) == 2 else {},
        "notes": notes,
        "files": sorted(p.name for p in d.iterdir()),
    }
    print(f"  {fx.name:22s} writers={writers} k3-vs-tfk diff={diff:.2e}", flush=True)
    return entry


# ---------------------------------------------------------------------------
# Malformed files (derived from simple_rnn)
# ---------------------------------------------------------------------------

def set_string_attr(attrs, name, text: str):
    """Overwrite a scalar string attribute, keeping its HDF5 string type
    (vlen ASCII stays vlen ASCII holding UTF-8 bytes, vlen UTF-8 stays UTF-8)."""
    info = h5py.check_string_dtype(attrs.get_id(name).dtype)
    if info is None or info.length is not None:
        raise RuntimeError(f"attribute {name} is not a variable-length string")
    value = text.encode("utf-8") if info.encoding == "ascii" else text
    attrs.create(name, value, dtype=h5py.string_dtype(encoding=info.encoding))


def get_model_config(f) -> dict:
    raw = f.attrs["model_config"]
    return json.loads(raw.decode("utf-8") if isinstance(raw, bytes) else raw)


def edit_copy(src: Path, dst: Path, edit: Callable):
    shutil.copyfile(src, dst)
    with h5py.File(dst, "r+") as f:
        edit(f)


def build_functional_base(path: Path):
    """A small valid tf_keras Functional model: Input -> SimpleRNN(3) -> Dense(1)."""
    reset_sessions()
    L = tf_keras.layers
    x = tf_keras.Input((4, 5))
    y = L.Dense(1)(L.SimpleRNN(3)(x))
    model = tf_keras.Model(x, y)
    rng = np.random.default_rng(seed_for("functional_ok"))
    model.set_weights([rng.uniform(-0.5, 0.5, size=w.shape).astype(np.float32)
                       for w in model.get_weights()])
    model.save(path, save_format="h5")


def rewire(layer_name: str, inbound_from: str):
    """Make `layer_name`'s first inbound node take its input from `inbound_from`."""
    def edit(f):
        cfg = get_model_config(f)
        for layer in cfg["config"]["layers"]:
            if layer["name"] == layer_name:
                layer["inbound_nodes"][0][0][0] = inbound_from
        set_string_attr(f.attrs, "model_config", json.dumps(cfg))
    return edit


def make_malformed(root: Path) -> list:
    src = root / "simple_rnn"
    d = root / "malformed"
    shutil.rmtree(d, ignore_errors=True)
    d.mkdir()
    h5 = src / "tfkeras.h5"
    rnn = "model_weights/simple_rnn/simple_rnn/simple_rnn_cell"
    entries = []

    def add(name, description, probes):
        entries.append({"file": name, "description": description, "probes": probes})

    with h5py.File(d / "not_a_model.h5", "w") as f:
        f.create_dataset("data", data=np.arange(6, dtype=np.float32).reshape(2, 3))
    add("not_a_model.h5", "Valid HDF5 with only a dataset /data (float32 2x3); no Keras attributes.",
        ["tf_keras", "keras3"])

    # Keras 3 cannot load any tf_keras-written RNN .h5 (it rejects the `time_major`
    # key), so files whose damage lies past the config are probed with tf_keras only.
    def drop_recurrent(f):
        del f[f"{rnn}/recurrent_kernel:0"]
    edit_copy(h5, d / "missing_weight.h5", drop_recurrent)
    add("missing_weight.h5", f"simple_rnn/tfkeras.h5 with dataset /{rnn}/recurrent_kernel:0 deleted "
        "(weight_names still lists it).", ["tf_keras"])

    def misshape(f):
        path = "model_weights/dense/dense/kernel:0"
        del f[path]
        f.create_dataset(path, data=np.full((4, 1), 0.25, dtype=np.float32))
    edit_copy(h5, d / "misshaped_weight.h5", misshape)
    add("misshaped_weight.h5", "simple_rnn/tfkeras.h5 with /model_weights/dense/dense/kernel:0 "
        "replaced by a (4,1) array (expected (3,1)).", ["tf_keras"])

    def put_nan(f):
        f[f"{rnn}/kernel:0"][0, 0] = np.nan
    edit_copy(h5, d / "nan_weight.h5", put_nan)
    add("nan_weight.h5", f"simple_rnn/tfkeras.h5 with /{rnn}/kernel:0[0,0] = NaN.", ["tf_keras"])

    def unknown_layer(f):
        cfg = get_model_config(f)
        for layer in cfg["config"]["layers"]:
            if layer["class_name"] == "Dense":
                layer["class_name"] = "FancyDense"
        set_string_attr(f.attrs, "model_config", json.dumps(cfg))
    edit_copy(h5, d / "unknown_layer.h5", unknown_layer)
    add("unknown_layer.h5", "simple_rnn/tfkeras.h5 with the Dense layer's class_name in "
        "model_config changed to \"FancyDense\".", ["tf_keras"])

    edit_copy(h5, d / "config_not_json.h5",
              lambda f: set_string_attr(f.attrs, "model_config",
                                        '{"class_name": "Sequential", "config": '))
    add("config_not_json.h5", "simple_rnn/tfkeras.h5 with model_config set to the truncated JSON "
        "'{\"class_name\": \"Sequential\", \"config\": '.", ["tf_keras", "keras3"])

    base = d / "functional_ok.h5"
    build_functional_base(base)
    add("functional_ok.h5", "VALID control file: tf_keras Functional Input(4,5) 'input_1' -> "
        "SimpleRNN(3) 'simple_rnn' -> Dense(1) 'dense', saved with model.save(h5). "
        "dangling_ref.h5 and cyclic_ref.h5 are edits of it.", ["tf_keras"])
    edit_copy(base, d / "dangling_ref.h5", rewire("dense", "no_such_layer"))
    add("dangling_ref.h5", "functional_ok.h5 with the Dense layer's inbound node referring to "
        "layer \"no_such_layer\", which does not exist.", ["tf_keras"])
    edit_copy(base, d / "cyclic_ref.h5", rewire("simple_rnn", "dense"))
    add("cyclic_ref.h5", "functional_ok.h5 with the SimpleRNN's inbound node referring to "
        "\"dense\" (simple_rnn <- dense <- simple_rnn: a cycle; nothing consumes input_1).",
        ["tf_keras"])

    cfg = json.loads((src / "keras3.json").read_text())
    for layer in cfg["config"]["layers"]:
        if layer["class_name"] == "SimpleRNN":
            layer["config"]["units"] = 2 ** 40
    (d / "huge_units.json").write_text(json.dumps(cfg))
    add("huge_units.json", "simple_rnn/keras3.json with SimpleRNN units = 1099511627776 (2^40). "
        "Not load-probed: Keras would try to allocate terabytes.", [])

    cfg = json.loads((src / "keras3.json").read_text())
    for layer in cfg["config"]["layers"]:
        if layer["class_name"] == "InputLayer":
            layer["config"]["batch_shape"] = [None, 4, -5]
    (d / "negative_dim.json").write_text(json.dumps(cfg))
    add("negative_dim.json", "simple_rnn/keras3.json with the InputLayer batch_shape set to "
        "[null, 4, -5] (build_config/build_input_shape left at [null, 4, 5]).", ["keras3_json"])

    data = h5.read_bytes()
    (d / "truncated.h5").write_bytes(data[: len(data) // 2])
    add("truncated.h5", f"First {len(data) // 2} of the {len(data)} bytes of simple_rnn/tfkeras.h5.",
        ["tf_keras", "keras3"])

    data = bytearray((src / "keras3.keras").read_bytes())
    mid, span = len(data) // 2, 16
    for i in range(mid, mid + span):
        data[i] ^= 0xFF
    (d / "bitflipped.keras").write_bytes(bytes(data))
    add("bitflipped.keras", f"simple_rnn/keras3.keras ({len(data)} bytes) with bytes "
        f"[{mid}, {mid + span}) XOR 0xFF, which lies inside ZIP member "
        f"'{zip_member_at(src / 'keras3.keras', mid)}' (its CRC-32 no longer matches).",
        ["keras3_keras"])
    return entries


def zip_member_at(path: Path, offset: int) -> str:
    with zipfile.ZipFile(path) as z:
        infos = sorted(z.infolist(), key=lambda i: i.header_offset)
        hit = [i.filename for i in infos if i.header_offset <= offset]
        return hit[-1] if hit else "?"


# Loading is done in a child process so a hang or crash in Keras cannot take
# the generator down.
PROBE_SNIPPET = r"""
import os, re, sys, warnings
os.environ["KERAS_BACKEND"] = "tensorflow"; os.environ["TF_CPP_MIN_LOG_LEVEL"] = "3"
os.environ["CUDA_VISIBLE_DEVICES"] = ""; warnings.filterwarnings("ignore")
kind, path = sys.argv[1], sys.argv[2]
try:
    if kind == "tf_keras":
        import tf_keras; tf_keras.models.load_model(path)
    elif kind == "keras3_json":
        import keras; keras.models.model_from_json(open(path).read())
    else:
        import keras; keras.models.load_model(path)
    print("RESULT loaded without error")
except BaseException as e:
    msg = re.sub(r" (object )?at 0x[0-9a-f]+", "", " ".join(str(e).split()))
    if len(msg) > 400:
        msg = msg[:200] + " ... " + msg[-200:]
    print("RESULT " + type(e).__name__ + ": " + msg)
"""

PROBE_TIMEOUT = 60  # seconds; tf_keras loops forever on cyclic_ref.h5

PROBE_LABELS = {
    "tf_keras": "tf_keras.models.load_model",
    "keras3": "keras.models.load_model",
    "keras3_keras": "keras.models.load_model",
    "keras3_json": "keras.models.model_from_json",
}


def probe_malformed(root: Path, entries: list):
    d = root / "malformed"
    for entry in entries:
        results = {}
        for kind in entry.pop("probes"):
            try:
                proc = subprocess.run([sys.executable, "-c", PROBE_SNIPPET, kind, entry["file"]],
                                      cwd=d, capture_output=True, text=True, timeout=PROBE_TIMEOUT)
                lines = [l for l in proc.stdout.splitlines() if l.startswith("RESULT ")]
                results[PROBE_LABELS[kind]] = (lines[-1][7:] if lines else
                                               f"process died (exit {proc.returncode})")
            except subprocess.TimeoutExpired:
                results[PROBE_LABELS[kind]] = f"did not finish within {PROBE_TIMEOUT} s (killed)"
        entry["keras_behaviour"] = results
        print(f"  malformed/{entry['file']}: {results}", flush=True)


# ---------------------------------------------------------------------------

def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", type=Path, default=Path(__file__).resolve().parent)
    parser.add_argument("--no-probe", action="store_true",
                        help="do not record how Keras reacts to the malformed files")
    parser.add_argument("--only", action="append", metavar="FIXTURE",
                        help="regenerate only this fixture folder (repeatable); the other folders, "
                             "malformed/ and the other manifest entries are kept as they are")
    args = parser.parse_args()
    root = args.out
    root.mkdir(parents=True, exist_ok=True)

    failures: list = []
    print(f"keras {keras.__version__}, tf_keras {tf_keras.__version__}, "
          f"tensorflow {tf.__version__} -> {root}", flush=True)
    if args.only:
        unknown = set(args.only) - {fx.name for fx in FIXTURES}
        if unknown:
            parser.error(f"no fixture named {', '.join(sorted(unknown))}")
        previous = json.loads((root / "manifest.json").read_text())
        fresh = {fx.name: generate_fixture(fx, root, failures) for fx in FIXTURES if fx.name in args.only}
        fixtures = [fresh.get(entry["name"], entry) for entry in previous["fixtures"]]
        known = {entry["name"] for entry in previous["fixtures"]}
        fixtures += [fresh[fx.name] for fx in FIXTURES if fx.name in fresh and fx.name not in known]
        malformed = previous["malformed"]
    else:
        fixtures = [generate_fixture(fx, root, failures) for fx in FIXTURES]
        malformed = make_malformed(root)
        if args.no_probe:
            for e in malformed:
                e.pop("probes")
        else:
            probe_malformed(root, malformed)

    checked = {c["activation"] for entry in fixtures for c in entry.get("activation_cousins", [])}
    for name in sorted(set(ACTIVATION_COUSINS) - checked):
        failures.append(f"no fixture tells activation {name} from its cousins")

    write_json(root / "manifest.json", {
        "generator": {
            "keras": keras.__version__,
            "tf_keras": tf_keras.__version__,
            "tensorflow": tf.__version__,
            "h5py": h5py.__version__,
            "numpy": np.__version__,
            "keras_backend": keras.backend.backend(),
            "script": "generate_fixtures.py",
        },
        "fixtures": fixtures,
        "malformed": malformed,
    })

    if failures:
        print("\nFAILURES:\n  " + "\n  ".join(failures))
        sys.exit(1)
    print("\nall fixtures generated and verified")


if __name__ == "__main__":
    main()
