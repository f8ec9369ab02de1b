#!/usr/bin/env python3
"""Loads the PyTorch- and ONNX-layout files `rnnkit convert` writes into real PyTorch and ONNX
Runtime, runs them on the fixtures' inputs and compares with Keras's expected outputs. Also
validates every RNNKit JSON `rnnkit convert` writes against Schemas/rnnkit-model.schema.json, and
checks that what a layout cannot express is refused for the right reason.

Usage (from the repository root; not part of `make test`):

    pip install -r Fixtures/interop/requirements.txt
    swift build --product rnnkit
    python3 Fixtures/interop/check_torch_onnx.py                       # all fixtures, ~2 min
    python3 Fixtures/interop/check_torch_onnx.py --rnnkit /tmp/b/debug/rnnkit --fixture seq2seq \
        --source tfkeras.h5 --keep /tmp/rnnkit-torch-onnx

For every fixture in Fixtures/manifest.json and every Keras-made source file (keras3.keras,
keras3.h5, tfkeras.h5; --source picks some), `rnnkit convert SOURCE OUT --layout L` writes
  pytorch.safetensors (pytorch), onnx.safetensors and onnx.npz (onnx),
  keras.json, split.json, pytorch.json, onnx.json (keras, split, pytorch, onnx).
Outputs are compared with Fixtures/<fixture>/expected_<writer of the source>_<i>.npy.

Refusals: layouts.md lists what a layout cannot express (pytorch: GRU reset_after=false,
LSTM/GRU activations other than tanh/sigmoid, SimpleRNN other than tanh/relu, Bidirectional
directions that differ in use_bias or activation; onnx: directions that differ in use_bias or
reset_after). A conversion must be refused (exit 1) exactly when the model has one of these, and
the reason must name the layer and one of them.

torch: the model JSON in the safetensors metadata gives the layers. Every layer with weights
becomes a torch module (nn.RNN/LSTM/GRU with batch_first=True, bidirectional for a Bidirectional,
bias=use_bias; nn.Linear for Dense and TimeDistributed(Dense); nn.Embedding), sized from the
architecture, and gets `load_state_dict(..., strict=True)` with the file's tensors under
`<layer>.`; every tensor of the file must be taken by exactly one module. The modules are then
wired by the architecture with Keras semantics (return_sequences, return_state, go_backwards in
processing order, initial_state, Bidirectional merge modes, masks).
onnxruntime: an ONNX graph (opset 22) is built with onnx.helper, with the file's tensors as
initializers under RNNKit's names: one RNN/LSTM/GRU node per recurrent layer (layout=0 between
Transposes; activations, activation_alpha/beta and linear_before_reset from the config,
docs/layouts.md, "onnx"), Dense as MatMul+Add, and so on; onnx.checker (full_check) must accept
it and ONNX Runtime (CPU) runs it.
Both: where the Keras layer has one bias, the recurrent bias (bias_hh_l0, the Rb half of B) must
be zeros, as layouts.md says; the outputs cannot tell.

Masks: a mask that is right-padded (every row valid for a prefix) maps to
pack_padded_sequence / ONNX sequence_lens, when the outputs at padded steps do not matter
(return_sequences=False) or are zeros in Keras too. Any other mask (holes) is computed step
by step with the same module / operator (one time step per call, state and output kept at
masked steps, as Keras does). Recurrent activations ONNX's operators lack (selu, gelu, swish,
relu6, exponential) are computed with an unrolled cell of ONNX elementwise operators on the
same W, R, B tensors, in ONNX gate order.

A comparison passes at max abs difference <= 1e-5. The exit status is 1 if a comparison fails,
a strict load fails, a tensor is left over or misshaped, a recurrent bias that should be zero is
not, a JSON file is invalid, the written files disagree with each other, a conversion fails
unexpectedly or a refusal is wrong; otherwise 0 (a model this script cannot build is "skipped",
shown in the table, not a failure). Results go to stdout and Fixtures/interop/results-torch-onnx.md.
"""

import argparse
import functools
import json
import operator
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import traceback

os.environ.setdefault("CUDA_VISIBLE_DEVICES", "")

import numpy as np  # noqa: E402
import fixture_arrays  # noqa: E402 (the module beside this script)

TOLERANCE = 1e-5
HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
FIXTURES = os.path.join(REPO, "Fixtures")
SCHEMA = os.path.join(REPO, "Schemas", "rnnkit-model.schema.json")
OPSET = 22
RECURRENT = ("SimpleRNN", "LSTM", "GRU")
GATES = {"SimpleRNN": 1, "LSTM": 4, "GRU": 3}
ONNX_OPS = {"SimpleRNN": "RNN", "LSTM": "LSTM", "GRU": "GRU"}
PASS_THROUGH = ("Dropout", "SpatialDropout1D", "GaussianNoise")
SOURCES = ("keras3.keras", "keras3.h5", "tfkeras.h5")
CONVERSIONS = {  # file name -> layout
    "pytorch.safetensors": "pytorch",
    "onnx.safetensors": "onnx",
    "onnx.npz": "onnx",
    "keras.json": "keras",
    "split.json": "split",
    "pytorch.json": "pytorch",
    "onnx.json": "onnx",
}
JSON_FILES = [f for f in CONVERSIONS if f.endswith(".json")]


class Skip(Exception):
    """The check cannot express this model; not a failure."""


class Failure(Exception):
    """RNNKit's file is wrong (strict load, leftover or misshaped tensor, ...)."""


# --------------------------------------------------------------------------------------------
# Architecture


def parse_ref(ref):
    name, _, index = ref.partition(":")
    return name, int(index) if index else 0


class Arch:
    """The RNNKit JSON model (architecture; weights ignored)."""

    def __init__(self, model):
        self.model = model
        self.layers = model["layers"]
        self.keras_major = int(str(model.get("keras_version", "3")).split(".")[0])
        inputs = [layer["name"] for layer in self.layers if layer["class_name"] == "InputLayer"]
        self.inputs = [parse_ref(r)[0] for r in model.get("inputs", inputs)]
        self.outputs = [parse_ref(r) for r in model.get("outputs", [self.layers[-1]["name"]])]
        previous = None
        self.refs = {}
        for layer in self.layers:
            if layer["class_name"] != "InputLayer":
                refs = layer.get("inputs")
                self.refs[layer["name"]] = (
                    [parse_ref(r) for r in refs] if refs else [(previous, 0)])
            previous = layer["name"]

    def order(self):
        """Layers in an order where every input comes first."""
        done, ordered, pending = set(), [], list(self.layers)
        while pending:
            ready = [l for l in pending if all(n in done for n, _ in self.refs.get(l["name"], []))]
            if not ready:
                raise Failure("the layer graph has a cycle or a dangling reference")
            for layer in ready:
                ordered.append(layer)
                done.add(layer["name"])
                pending.remove(layer)
        return ordered


def run_graph(arch, inputs, backend):
    """Evaluates the graph with `backend`; values are (tensor, mask) pairs."""
    values = {}
    for layer in arch.order():
        name = layer["name"]
        if layer["class_name"] == "InputLayer":
            values[name] = [backend.input(layer, inputs[arch.inputs.index(name)])]
        else:
            args = [values[n][k] for n, k in arch.refs[name]]
            values[name] = backend.layer(layer, args)
    return [values[n][k] for n, k in arch.outputs]


def wrapped_configs(layer):
    """(class, forward config, backward config or None) of a recurrent or Bidirectional layer."""
    cfg = layer["config"]
    if layer["class_name"] != "Bidirectional":
        return layer["class_name"], cfg, None
    inner = cfg["layer"]
    back = cfg.get("backward_layer") or {
        "class_name": inner["class_name"],
        "config": dict(inner["config"], go_backwards=not inner["config"].get("go_backwards", False))}
    if back["class_name"] != inner["class_name"]:
        raise Skip(f"{layer['name']}: backward layer class differs from the forward one")
    return inner["class_name"], inner["config"], back["config"]


def is_recurrent(layer):
    return layer["class_name"] in RECURRENT or layer["class_name"] == "Bidirectional"


def act_name(value, default):
    if value is None:
        return default
    if isinstance(value, dict):  # serialized function {"class_name": "function", "config": "tanh"}
        value = value.get("config", value.get("class_name"))
    return value


def activations_of(cfg):
    """(activation, recurrent_activation) of a recurrent layer's config, Keras's defaults filled in."""
    return act_name(cfg.get("activation"), "tanh"), act_name(cfg.get("recurrent_activation"), "sigmoid")


def dense_config(layer):
    """The Dense config of a Dense or TimeDistributed(Dense) layer."""
    if layer["class_name"] == "Dense":
        return layer["config"]
    inner = layer["config"]["layer"]
    if inner["class_name"] != "Dense":
        raise Skip(f"{layer['name']}: TimeDistributed({inner['class_name']})")
    return inner["config"]


def merge_masks(masks, both):
    """The known masks combined with `both`; None when no input has a mask."""
    known = [m for m in masks if m is not None]
    return functools.reduce(both, known) if known else None


def zero_output(layer):
    """Whether masked steps output zeros: zero_output_for_mask, which a Bidirectional forces to
    return_sequences, as Keras's Bidirectional does."""
    _, fwd, back = wrapped_configs(layer)
    if back is not None:
        return fwd.get("return_sequences", False)
    return fwd.get("zero_output_for_mask", False)


def initial_states(layer, initial):
    """The initial-state inputs of a recurrent layer split by direction, or None."""
    inner, _, back = wrapped_configs(layer)
    if not initial:
        return None
    per, dirs = (2 if inner == "LSTM" else 1), (1 if back is None else 2)
    if len(initial) != per * dirs:
        raise Skip(f"{layer['name']}: {len(initial)} initial states for {dirs} direction(s)")
    return [initial[d * per:(d + 1) * per] for d in range(dirs)]


def keras_outputs(layer, ys, states, mask, ops):
    """A recurrent layer's Keras outputs from each direction's output (sequence or last) and
    final states: a Bidirectional's merged by `ops`, then the states with return_state; the
    mask goes on with sequences."""
    _, fwd, back = wrapped_configs(layer)
    if back is not None:
        mode = layer["config"].get("merge_mode", "concat")
        merge = {None: lambda: ys, "concat": lambda: [ops.concat(*ys)], "sum": lambda: [ops.add(*ys)],
                 "mul": lambda: [ops.mul(*ys)], "ave": lambda: [ops.half(ops.add(*ys))]}
        if mode not in merge:
            raise Skip(f"{layer['name']}: merge_mode {mode!r}")
        ys = merge[mode]()
    extra = sum(states, []) if fwd.get("return_state") else []
    out_mask = mask if fwd.get("return_sequences") else None
    return [(y, out_mask) for y in ys] + [(s, None) for s in extra]


def mask_kind(mask):
    """None, "right" (each row valid for a non-empty prefix), or "general"."""
    if mask is None:
        return None
    if isinstance(mask, str):
        return "general"
    m = mask.astype(bool)
    lengths = m.sum(axis=1)
    prefix = np.arange(m.shape[1])[None, :] < lengths[:, None]
    return "right" if (m == prefix).all() and (lengths > 0).all() else "general"


def goes_backwards(layer):
    """A standalone layer with go_backwards=True (a Bidirectional's backward copy is direction 1)."""
    _, fwd, back = wrapped_configs(layer)
    return back is None and fwd.get("go_backwards", False)


def packable(layer, kind):
    """Whether the layer's mask can be given as sequence lengths (pack_padded_sequence, ONNX
    sequence_lens), which output zeros at padded steps and keep the last valid state."""
    seq = wrapped_configs(layer)[1].get("return_sequences", False)
    return kind == "right" and not goes_backwards(layer) and zero_output(layer) == seq


def stepwise_reason(layer, kind):
    if kind != "right":
        return "mask with holes"
    if goes_backwards(layer):
        return "mask with go_backwards"
    return "right-padded mask; Keras repeats the last output at padded steps"


# --------------------------------------------------------------------------------------------
# What a layout cannot express (layouts.md)


def inexpressible(arch, layout):
    """(layer name, phrase of the reason) for everything in the model `layout` cannot express."""
    reasons = []
    for layer in filter(is_recurrent, arch.layers):
        inner, fwd, back = wrapped_configs(layer)
        cfgs = [fwd] if back is None else [fwd, back]
        if layout == "pytorch":
            for cfg in cfgs:
                act, rec = activations_of(cfg)
                if inner == "GRU" and not cfg.get("reset_after", True):
                    reasons.append((layer["name"], "reset_after=false"))
                if act not in (("tanh", "relu") if inner == "SimpleRNN" else ("tanh",)):
                    reasons.append((layer["name"], f"activation '{act}'"))
                if inner != "SimpleRNN" and rec != "sigmoid":
                    reasons.append((layer["name"], f"recurrent_activation '{rec}'"))
        if back is not None:
            differing = {"pytorch": ("use_bias", "activation"), "onnx": ("use_bias", "reset_after")}
            settings = [dict(use_bias=c.get("use_bias", True), activation=activations_of(c)[0],
                             reset_after=c.get("reset_after", True)) for c in cfgs]
            reasons += [(layer["name"], f"differ in {key}") for key in differing.get(layout, ())
                        if settings[0][key] != settings[1][key]]
    return reasons


def outcome_problem(outcome, reasons):
    """What is wrong with a conversion's outcome, given what the layout cannot express, or None."""
    status, message = outcome
    if status == "error":
        return f"convert failed: {message}"
    if status == "written":
        return f"written although {reasons[0][0]}: {reasons[0][1]}" if reasons else None
    if not reasons:
        return f"unexpected refusal: {message}"
    if not any(f"'{layer}'" in message and phrase in message for layer, phrase in reasons):
        return (f"refused for another reason: {message} (expected one of: "
                + "; ".join(f"{layer}: {phrase}" for layer, phrase in reasons) + ")")
    return None


def check_single_biases(arch, tensors, layout):
    """layouts.md: a Keras layer with one bias vector (all but GRU reset_after=true) has zeros as
    its recurrent bias (pytorch bias_hh_l0, the Rb half of ONNX B). The outputs cannot tell."""
    for layer in filter(is_recurrent, arch.layers):
        inner, fwd, back = wrapped_configs(layer)
        if not fwd.get("use_bias", True) or (inner == "GRU" and fwd.get("reset_after", True)):
            continue
        name = layer["name"]
        if layout == "pytorch":
            suffixes = ["", "_reverse"] if back is not None else [""]
            recurrent = [tensors[f"{name}.bias_hh_l0{s}"] for s in suffixes]
        else:
            both = np.asarray(tensors[f"{name}.B"])
            recurrent = [both[:, both.shape[1] // 2:]]
        if any(np.any(np.asarray(r) != 0) for r in recurrent):
            raise Failure(f"{name}: the recurrent bias is not zero, but the Keras layer has one bias")


# --------------------------------------------------------------------------------------------
# Shape and mask probe (numpy): static shapes for sizing modules, masks for choosing how to
# run a masked recurrent layer.


class Probe:
    """Values are (array or None when not computed, mask, shape)."""

    def __init__(self, arch):
        self.arch = arch
        self.in_shapes = {}   # layer name -> shapes of its inputs
        self.masks = {}       # layer name -> mask kind of its first input

    def run(self, inputs):
        self.outputs = run_graph(self.arch, inputs, self)
        return self

    def input(self, layer, array):
        return (array, None, list(array.shape))

    def layer(self, layer, args):
        name, cls, cfg = layer["name"], layer["class_name"], layer["config"]
        x, mask, shape = args[0]
        self.in_shapes[name] = [a[2] for a in args]
        self.masks[name] = mask_kind(mask)
        value, out_mask, shapes, masked = None, None, None, 1
        if cls == "Masking":
            value, shapes = x, [shape]
            out_mask = "unknown" if x is None else np.any(x != cfg.get("mask_value", 0.0), axis=-1)
        elif cls == "Embedding":
            shapes = [shape + [cfg["output_dim"]]]
            if cfg.get("mask_zero"):
                out_mask = "unknown" if x is None else x != 0
        elif cls in PASS_THROUGH:
            value, out_mask, shapes = x, mask, [shape]
        elif cls == "Activation":
            out_mask, shapes = mask, [shape]
        elif cls in ("Dense", "TimeDistributed"):
            out_mask, shapes = mask, [shape[:-1] + [dense_config(layer)["units"]]]
        elif is_recurrent(layer):
            inner, fwd, _ = wrapped_configs(layer)
            units, seq = fwd["units"], fwd.get("return_sequences", False)
            y = shape[:2] + [units] if seq else [shape[0], units]
            states = [[shape[0], units]] * (2 if inner == "LSTM" else 1)
            if cls == "Bidirectional":
                mode = cfg.get("merge_mode", "concat")
                ys = [y, y] if mode is None else [y[:-1] + [2 * units] if mode == "concat" else y]
                shapes = ys + (states * 2 if fwd.get("return_state") else [])
            else:
                shapes = [y] + (states if fwd.get("return_state") else [])
            out_mask = mask if seq else None
            masked = len(ys) if cls == "Bidirectional" else 1
        elif cls == "RepeatVector":
            shapes = [[shape[0], cfg["n"], shape[-1]]]
        elif cls == "Flatten":
            shapes = [[shape[0], int(np.prod(shape[1:]))]]
        elif cls == "Concatenate":
            axis = cfg.get("axis", -1) % len(shape)
            out = list(shape)
            out[axis] = sum(a[2][axis] for a in args)
            shapes, out_mask = [out], merge_masks([a[1] for a in args], merge_masks_np)
        elif cls == "Add":
            shapes, out_mask = [shape], merge_masks([a[1] for a in args], merge_masks_np)
        elif cls in ("GlobalMaxPooling1D", "GlobalAveragePooling1D"):
            shapes = [[shape[0], 1, shape[-1]] if cfg.get("keepdims") else [shape[0], shape[-1]]]
        else:
            raise Skip(f"layer {name}: class {cls} is not handled by this check")
        return [(value if k == 0 else None, out_mask if k < masked else None, s)
                for k, s in enumerate(shapes)]


def merge_masks_np(a, b):
    return "unknown" if isinstance(a, str) or isinstance(b, str) else a & b


# --------------------------------------------------------------------------------------------
# Keras activations


def hard_sigmoid_alpha(arch):
    return 0.2 if arch.keras_major < 3 else 1.0 / 6.0


def torch_activation(name, x, arch):
    import torch
    import torch.nn.functional as F
    table = {
        "linear": lambda v: v,
        "relu": torch.relu, "sigmoid": torch.sigmoid, "tanh": torch.tanh,
        "softmax": lambda v: torch.softmax(v, dim=-1),
        "log_softmax": lambda v: torch.log_softmax(v, dim=-1),
        "softsign": F.softsign, "softplus": F.softplus, "elu": F.elu, "selu": F.selu,
        "swish": F.silu, "silu": F.silu, "gelu": F.gelu, "relu6": F.relu6,
        "leaky_relu": lambda v: F.leaky_relu(v, 0.2),  # Keras 3 and tf.nn.leaky_relu
        "exponential": torch.exp, "mish": F.mish,
        "hard_sigmoid": lambda v: torch.clamp(hard_sigmoid_alpha(arch) * v + 0.5, 0, 1),
    }
    if name not in table:
        raise Skip(f"activation {name!r} is not handled by this check")
    return table[name](x)


# --------------------------------------------------------------------------------------------
# PyTorch


class TorchBackend:
    """Builds one strictly loaded torch module per weighted layer, then runs the graph."""

    def __init__(self, arch, tensors, probe):
        import torch
        self.torch = torch
        self.arch, self.probe = arch, probe
        self.modules = {}
        self.notes = []
        consumed = set()
        for layer in arch.layers:
            module = self.build(layer)
            if module is None:
                continue
            prefix = layer["name"] + "."
            state = {k[len(prefix):]: torch.from_numpy(np.array(v)) for k, v in tensors.items()
                     if k.startswith(prefix)}
            try:
                module.load_state_dict(state, strict=True)
            except Exception as error:  # noqa: BLE001 (torch raises RuntimeError)
                raise Failure(f"strict load of {layer['name']} ({type(module).__name__}) failed: "
                              + " ".join(str(error).split()))
            consumed.update(prefix + k for k in state)
            self.modules[layer["name"]] = module.eval()
        leftover = sorted(set(tensors) - consumed)
        if leftover:
            raise Failure(f"tensors no module takes: {', '.join(leftover)}")

    def build(self, layer):
        nn = self.torch.nn
        cls, cfg, name = layer["class_name"], layer["config"], layer["name"]
        if cls in ("Dense", "TimeDistributed"):
            cfg = dense_config(layer)
            in_features = self.probe.in_shapes[name][0][-1]
            return nn.Linear(in_features, cfg["units"], bias=cfg.get("use_bias", True))
        if cls == "Embedding":
            return nn.Embedding(cfg["input_dim"], cfg["output_dim"])
        if is_recurrent(layer):
            inner, fwd, back = wrapped_configs(layer)
            kwargs = dict(input_size=self.probe.in_shapes[name][0][-1], hidden_size=fwd["units"],
                          bias=fwd.get("use_bias", True), batch_first=True,
                          bidirectional=back is not None)
            if inner == "SimpleRNN":
                return nn.RNN(nonlinearity=activations_of(fwd)[0], **kwargs)
            return (nn.LSTM if inner == "LSTM" else nn.GRU)(**kwargs)
        return None

    # merge operations of keras_outputs
    def concat(self, a, b):
        return self.torch.cat([a, b], dim=-1)

    add, mul = staticmethod(operator.add), staticmethod(operator.mul)

    def half(self, a):
        return a / 2

    def input(self, layer, array):
        t = self.torch.from_numpy(np.array(array))
        return (t.long() if not t.is_floating_point() else t.float(), None)

    def layer(self, layer, args):
        torch = self.torch
        cls, cfg, name = layer["class_name"], layer["config"], layer["name"]
        x, mask = args[0]
        if cls in PASS_THROUGH:
            return [(x, mask)]
        if cls == "Masking":
            m = torch.any(x != cfg.get("mask_value", 0.0), dim=-1)
            return [(x * m.unsqueeze(-1).to(x.dtype), m)]
        if cls == "Embedding":
            return [(self.modules[name](x), (x != 0) if cfg.get("mask_zero") else None)]
        if cls in ("Dense", "TimeDistributed"):
            return [(torch_activation(act_name(dense_config(layer).get("activation"), "linear"),
                                      self.modules[name](x), self.arch), mask)]
        if cls == "Activation":
            return [(torch_activation(act_name(cfg.get("activation"), "linear"), x, self.arch), mask)]
        if is_recurrent(layer):
            return self.recurrent(layer, x, mask, [a[0] for a in args[1:]])
        if cls == "RepeatVector":
            return [(x.unsqueeze(1).repeat(1, cfg["n"], 1), None)]
        if cls == "Flatten":
            return [(x.reshape(x.shape[0], -1), None)]
        if cls == "Concatenate":
            return [(torch.cat([a[0] for a in args], dim=cfg.get("axis", -1)),
                     merge_masks([a[1] for a in args], operator.and_))]
        if cls == "Add":
            return [(sum(a[0] for a in args), merge_masks([a[1] for a in args], operator.and_))]
        keep = bool(cfg.get("keepdims"))
        if cls == "GlobalMaxPooling1D":
            return [(torch.amax(x, dim=1, keepdim=keep), None)]
        if cls == "GlobalAveragePooling1D":
            w = torch.ones_like(x[..., :1]) if mask is None else mask.to(x.dtype).unsqueeze(-1)
            return [((x * w).sum(1, keepdim=keep) / w.sum(1, keepdim=keep), None)]
        raise Skip(f"layer {name}: class {cls} is not handled by this check")

    def recurrent(self, layer, x, mask, initial):
        torch = self.torch
        name = layer["name"]
        inner, fwd, back = wrapped_configs(layer)
        module, units, is_lstm = self.modules[name], fwd["units"], inner == "LSTM"
        dirs = 1 if back is None else 2
        kind = self.probe.masks[name]
        h0 = self.initial_state(initial_states(layer, initial), is_lstm)
        xr, mr = x, mask
        if goes_backwards(layer):  # Keras: outputs in processing order
            xr = torch.flip(x, [1])
            mr = None if mask is None else torch.flip(mask, [1])
        if mask is None:
            out, states = module(xr, h0)
        elif packable(layer, kind):
            out, states = self.packed(module, xr, mr, h0)
            self.notes.append(f"{name}: packed sequence (right-padded mask)")
        elif back is None:
            out, states = self.stepwise(module, xr, mr, h0, is_lstm, zero_output(layer))
            self.notes.append(f"{name}: one time step per module call ({stepwise_reason(layer, kind)})")
        else:
            raise Skip(f"{name}: Bidirectional with a mask that is not right-padded")
        h, c = states if is_lstm else (states, None)  # [dirs, B, H]
        if fwd.get("return_sequences"):
            ys = [out[..., d * units:(d + 1) * units] for d in range(dirs)]
        else:  # the last output: the final state, except where masked steps output zeros
            ys = [out[:, -1]] if mask is not None and not packable(layer, kind) else list(h)
        return keras_outputs(layer, ys, [[h[d], c[d]] if is_lstm else [h[d]] for d in range(dirs)],
                             mask, self)

    def initial_state(self, per_direction, is_lstm):
        if per_direction is None:
            return None
        stacked = [self.torch.stack([s[k] for s in per_direction]).contiguous()
                   for k in range(len(per_direction[0]))]
        return tuple(stacked) if is_lstm else stacked[0]

    def packed(self, module, x, mask, h0):
        from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence
        lengths = mask.sum(dim=1).cpu()
        packed = pack_padded_sequence(x, lengths, batch_first=True, enforce_sorted=False)
        out, states = module(packed, h0)
        out, _ = pad_packed_sequence(out, batch_first=True, total_length=x.shape[1])
        return out, states

    def stepwise(self, module, x, mask, h0, is_lstm, zero_out):
        """Keras masking: states and output kept at masked steps (output 0 if zero_out)."""
        torch = self.torch
        zeros = torch.zeros(1, x.shape[0], module.hidden_size)
        state = h0 if h0 is not None else ((zeros, zeros) if is_lstm else zeros)
        prev, outs = zeros[0], []
        for t in range(x.shape[1]):
            y, new = module(x[:, t:t + 1].contiguous(), state)
            m = mask[:, t].unsqueeze(-1)  # [B, 1]
            if is_lstm:
                state = tuple(torch.where(m.unsqueeze(0), n, s) for n, s in zip(new, state))
            else:
                state = torch.where(m.unsqueeze(0), new, state)
            prev = torch.where(m, y[:, 0], torch.zeros_like(prev) if zero_out else prev)
            outs.append(prev)
        return torch.stack(outs, dim=1), state


# --------------------------------------------------------------------------------------------
# ONNX


ONNX_RNN_ACTIVATIONS = {  # Keras name -> (ONNX name, alphas, betas)
    "tanh": ("Tanh", [], []), "sigmoid": ("Sigmoid", [], []), "relu": ("Relu", [], []),
    "linear": ("Affine", [1.0], [0.0]), "softsign": ("Softsign", [], []),
    "softplus": ("Softplus", [], []), "elu": ("Elu", [1.0], []), "leaky_relu": ("LeakyRelu", [0.2], []),
}


def onnx_rnn_activation(name, arch):
    """(ONNX name, alphas, betas) of a Keras activation in the RNN operators' list, or None."""
    if name == "hard_sigmoid":
        return ("HardSigmoid", [hard_sigmoid_alpha(arch)], [0.5])
    return ONNX_RNN_ACTIVATIONS.get(name)


class OnnxBuilder:
    def __init__(self, arch, tensors, probe):
        from onnx import TensorProto, helper, numpy_helper
        self.helper, self.numpy_helper, self.TensorProto = helper, numpy_helper, TensorProto
        self.arch, self.tensors, self.probe = arch, tensors, probe
        self.nodes, self.initializers, self.graph_inputs = [], {}, []
        self.consumed = set()
        self.counter = 0
        self.notes = []

    # -- helpers
    def fresh(self, hint):
        self.counter += 1
        return f"{hint}__{self.counter}"

    def node(self, op, inputs, outputs=1, **attrs):
        names = [self.fresh(op) for _ in range(outputs)]
        self.nodes.append(self.helper.make_node(op, list(inputs), names, **attrs))
        return names if len(names) != 1 else names[0]

    def const(self, array, hint="const"):
        name = self.fresh(hint)
        self.initializers[name] = self.numpy_helper.from_array(np.asarray(array), name)
        return name

    def ints(self, values):
        return self.const(np.array(values, dtype=np.int64), "ints")

    def slice(self, value, axis, start, end):
        return self.node("Slice", [value, self.ints([start]), self.ints([end]), self.ints([axis])])

    def pick(self, value, axis, index):
        """value[..., index, ...] along `axis`, that axis removed."""
        return self.node("Squeeze", [self.slice(value, axis, index, index + 1), self.ints([axis])])

    def weight(self, name, shape):
        if name not in self.tensors:
            raise Failure(f"missing tensor {name}")
        array = np.asarray(self.tensors[name])
        if list(array.shape) != list(shape):
            raise Failure(f"{name} has shape {list(array.shape)}, expected {list(shape)}")
        if name not in self.initializers:
            self.initializers[name] = self.numpy_helper.from_array(array.astype(np.float32), name)
        self.consumed.add(name)
        return name

    def activation(self, name, x):
        if name == "linear":
            return x
        simple = {"relu": "Relu", "sigmoid": "Sigmoid", "tanh": "Tanh", "softsign": "Softsign",
                  "softplus": "Softplus", "exponential": "Exp", "gelu": "Gelu"}
        if name in simple:
            return self.node(simple[name], [x])
        if name in ("softmax", "log_softmax"):
            return self.node("Softmax" if name == "softmax" else "LogSoftmax", [x], axis=-1)
        if name == "elu":
            return self.node("Elu", [x], alpha=1.0)
        if name == "selu":
            return self.node("Selu", [x], alpha=1.6732632423543772, gamma=1.0507009873554805)
        if name in ("swish", "silu"):
            return self.node("Mul", [x, self.node("Sigmoid", [x])])
        if name == "relu6":
            return self.node("Clip", [x, self.const(np.float32(0)), self.const(np.float32(6))])
        if name == "leaky_relu":
            return self.node("LeakyRelu", [x], alpha=0.2)
        if name == "hard_sigmoid":
            return self.node("HardSigmoid", [x], alpha=hard_sigmoid_alpha(self.arch), beta=0.5)
        raise Skip(f"activation {name!r} is not handled by this check")

    # merge operations of keras_outputs
    def concat(self, a, b):
        return self.node("Concat", [a, b], axis=-1)

    def add(self, a, b):
        return self.node("Add", [a, b])

    def mul(self, a, b):
        return self.node("Mul", [a, b])

    def half(self, a):
        return self.node("Mul", [a, self.const(np.float32(0.5))])

    def both(self, mask_a, mask_b):
        return self.node("And", [mask_a, mask_b])

    # -- graph walking
    def input(self, layer, array):
        self.graph_inputs.append(self.helper.make_tensor_value_info(
            layer["name"], self.helper.np_dtype_to_tensor_dtype(array.dtype), list(array.shape)))
        return (layer["name"], None)

    def layer(self, layer, args):
        cls, cfg, name = layer["class_name"], layer["config"], layer["name"]
        x, mask = args[0]
        in_shape = self.probe.in_shapes[name][0]
        if cls in PASS_THROUGH:
            return [(x, mask)]
        if cls == "Masking":
            value = self.const(np.float32(cfg.get("mask_value", 0.0)))
            differs = self.node("Cast", [self.node("Not", [self.node("Equal", [x, value])])],
                                to=self.TensorProto.FLOAT)
            m = self.node("ReduceMax", [differs, self.ints([-1])], keepdims=1)  # [B, T, 1]
            out = self.node("Mul", [x, m])
            return [(out, self.node("Cast", [self.node("Squeeze", [m, self.ints([-1])])],
                                    to=self.TensorProto.BOOL))]
        if cls == "Embedding":
            table = self.weight(f"{name}.embeddings", [cfg["input_dim"], cfg["output_dim"]])
            ids = self.node("Cast", [x], to=self.TensorProto.INT64)
            m = None
            if cfg.get("mask_zero"):
                m = self.node("Not", [self.node("Equal", [ids, self.const(np.int64(0))])])
            return [(self.node("Gather", [table, ids], axis=0), m)]
        if cls in ("Dense", "TimeDistributed"):
            cfg = dense_config(layer)
            out = self.node("MatMul", [x, self.weight(f"{name}.kernel", [in_shape[-1], cfg["units"]])])
            if cfg.get("use_bias", True):
                out = self.add(out, self.weight(f"{name}.bias", [cfg["units"]]))
            return [(self.activation(act_name(cfg.get("activation"), "linear"), out), mask)]
        if cls == "Activation":
            return [(self.activation(act_name(cfg.get("activation"), "linear"), x), mask)]
        if is_recurrent(layer):
            return self.recurrent(layer, x, mask, [a[0] for a in args[1:]])
        if cls == "RepeatVector":
            out = self.node("Tile", [self.node("Unsqueeze", [x, self.ints([1])]),
                                     self.ints([1, cfg["n"], 1])])
            return [(out, None)]
        if cls == "Flatten":
            return [(self.node("Flatten", [x], axis=1), None)]
        if cls == "Concatenate":
            return [(self.node("Concat", [a[0] for a in args], axis=cfg.get("axis", -1)),
                     merge_masks([a[1] for a in args], self.both))]
        if cls == "Add":
            return [(self.node("Sum", [a[0] for a in args]), merge_masks([a[1] for a in args], self.both))]
        keep = int(bool(cfg.get("keepdims")))
        if cls == "GlobalMaxPooling1D":
            return [(self.node("ReduceMax", [x, self.ints([1])], keepdims=keep), None)]
        if cls == "GlobalAveragePooling1D":
            if mask is None:
                return [(self.node("ReduceMean", [x, self.ints([1])], keepdims=keep), None)]
            w = self.node("Unsqueeze", [self.node("Cast", [mask], to=self.TensorProto.FLOAT), self.ints([-1])])
            total = self.node("ReduceSum", [self.mul(x, w), self.ints([1])], keepdims=keep)
            count = self.node("ReduceSum", [w, self.ints([1])], keepdims=keep)
            return [(self.node("Div", [total, count]), None)]
        raise Skip(f"layer {name}: class {cls} is not handled by this check")

    # -- recurrent layers
    def recurrent(self, layer, x, mask, initial):
        name = layer["name"]
        inner, fwd, back = wrapped_configs(layer)
        batch, steps, features = self.probe.in_shapes[name][0]
        units, gates = fwd["units"], GATES[inner]
        cfgs = [fwd] if back is None else [fwd, back]
        W = self.weight(f"{name}.W", [len(cfgs), gates * units, features])
        R = self.weight(f"{name}.R", [len(cfgs), gates * units, units])
        B = self.weight(f"{name}.B", [len(cfgs), 2 * gates * units]) if fwd.get("use_bias", True) else None
        acts = [self.op_activations(inner, c) for c in cfgs]
        init = initial_states(layer, initial)
        kind = self.probe.masks[name]
        seq = fwd.get("return_sequences", False)
        xt = self.node("Transpose", [x], perm=[1, 0, 2])  # [T, B, I]
        if all(acts) and (mask is None or packable(layer, kind)):
            direction = "bidirectional" if back is not None else "reverse" if goes_backwards(layer) else "forward"
            lens = ""
            if mask is not None:
                lens = self.node("ReduceSum", [self.node("Cast", [mask], to=self.TensorProto.INT32),
                                               self.ints([1])], keepdims=0)
                self.notes.append(f"{name}: sequence_lens (right-padded mask)")
            initial_inputs = [] if init is None else [
                self.node("Concat", [self.node("Unsqueeze", [s[k], self.ints([0])]) for s in init], axis=0)
                for k in range(len(init[0]))]
            Y, *final = self.op_node(inner, fwd, acts, direction, [xt, W, R, B or "", lens] + initial_inputs)
            states = [[self.pick(f, 0, d) for f in final] for d in range(len(cfgs))]
            ys = []
            for d, st in enumerate(states):
                if not seq:
                    ys.append(st[0])
                    continue
                y = self.pick(Y, 1, d)  # [T, B, H]
                if goes_backwards(layer):  # Keras: processing order
                    y = self.node("Slice", [y, self.ints([-1]), self.ints([-(2 ** 62)]),
                                            self.ints([0]), self.ints([-1])])
                ys.append(self.node("Transpose", [y], perm=[1, 0, 2]))
        else:
            how, why = (("one operator per step", stepwise_reason(layer, kind)) if all(acts) else
                        ("unrolled cell", "ONNX's operator has no "
                         + ", ".join(sorted(self.missing_activations(inner, cfgs)))))
            self.notes.append(f"{name}: {how} ({why})")
            ys, states = [], []
            for d, cfg in enumerate(cfgs):
                order = range(steps)[::-1] if goes_backwards(layer) or d == 1 else range(steps)
                outs, st = self.loop(inner, cfg, acts[d], W, R, B, d, xt, mask, order,
                                     init[d] if init else None, batch, units, zero_output(layer))
                if seq:
                    if d == 1:  # Bidirectional: backward outputs back in time order
                        outs = outs[::-1]
                    ys.append(self.node("Concat", [self.node("Unsqueeze", [o, self.ints([1])]) for o in outs], axis=1))
                else:
                    ys.append(outs[-1])
                states.append(st)
        return keras_outputs(layer, ys, states, mask, self)

    def missing_activations(self, inner, cfgs):
        names = {n for c in cfgs for n in activations_of(c)[:1 if inner == "SimpleRNN" else 2]}
        return {n for n in names if onnx_rnn_activation(n, self.arch) is None}

    def op_activations(self, inner, cfg):
        """(activations, alphas, betas) of one direction for the ONNX operator, or None."""
        act, rec = activations_of(cfg)
        names = {"SimpleRNN": [act], "GRU": [rec, act], "LSTM": [rec, act, act]}[inner]
        mapped = [onnx_rnn_activation(n, self.arch) for n in names]
        if None in mapped:
            return None
        return ([m[0] for m in mapped], sum((m[1] for m in mapped), []), sum((m[2] for m in mapped), []))

    def op_node(self, inner, cfg, acts, direction, inputs):
        """One RNN/LSTM/GRU node (acts: op_activations of each direction); returns Y, Y_h (, Y_c)."""
        attrs = dict(hidden_size=cfg["units"], direction=direction, layout=0,
                     activations=sum((a[0] for a in acts), []))
        alphas, betas = sum((a[1] for a in acts), []), sum((a[2] for a in acts), [])
        if alphas:
            attrs["activation_alpha"] = alphas
        if betas:
            attrs["activation_beta"] = betas
        if inner == "GRU":
            attrs["linear_before_reset"] = int(bool(cfg.get("reset_after", True)))
        while inputs[-1] == "":
            inputs = inputs[:-1]
        return self.node(ONNX_OPS[inner], inputs, 3 if inner == "LSTM" else 2, **attrs)

    def loop(self, inner, cfg, acts, W, R, B, d, xt, mask, order, init, batch, units, zero_out):
        """Runs one direction step by step in `order`; returns outputs in processing order and
        the final states."""
        is_lstm = inner == "LSTM"
        Wd, Rd = self.slice(W, 0, d, d + 1), self.slice(R, 0, d, d + 1)  # [1, G*H, *]
        Bd = self.slice(B, 0, d, d + 1) if B else None
        zeros = self.const(np.zeros((batch, units), np.float32), "zeros")
        h = init[0] if init else zeros
        c = (init[1] if init else zeros) if is_lstm else None
        prev, outs = zeros, []
        for t in order:
            x_t = self.slice(xt, 0, t, t + 1)  # [1, B, I]
            if acts is not None:
                new_h, new_c = self.op_step(inner, cfg, acts, Wd, Rd, Bd, x_t, h, c)
            else:
                new_h, new_c = self.cell_step(inner, cfg, Wd, Rd, Bd, x_t, h, c, units)
            if mask is not None:
                m = self.slice(mask, 1, t, t + 1)  # [B, 1]
                prev = self.node("Where", [m, new_h, zeros if zero_out else prev])
                h = self.node("Where", [m, new_h, h])
                c = self.node("Where", [m, new_c, c]) if is_lstm else None
            else:
                h, c, prev = new_h, new_c, new_h
            outs.append(prev)
        return outs, ([h, c] if is_lstm else [h])

    def op_step(self, inner, cfg, acts, Wd, Rd, Bd, x_t, h, c):
        inputs = [x_t, Wd, Rd, Bd or "", "", self.node("Unsqueeze", [h, self.ints([0])])]
        if inner == "LSTM":
            inputs.append(self.node("Unsqueeze", [c, self.ints([0])]))
        _, *final = self.op_node(inner, cfg, [acts], "forward", inputs)
        new_h = self.pick(final[0], 0, 0)
        return new_h, (self.pick(final[1], 0, 0) if inner == "LSTM" else None)

    def cell_step(self, inner, cfg, Wd, Rd, Bd, x_t, h, c, units):
        """The ONNX operator's equations with ONNX elementwise ops (gate order i,o,f,c / z,r,h)."""
        act, rec = activations_of(cfg)
        gates = GATES[inner]
        x2 = self.pick(x_t, 0, 0)                                  # [B, I]
        Wt = self.node("Transpose", [self.pick(Wd, 0, 0)])         # [I, G*H]
        Rt = self.node("Transpose", [self.pick(Rd, 0, 0)])         # [H, G*H]
        gx = self.node("MatMul", [x2, Wt])
        rb = None
        if Bd:
            b = self.pick(Bd, 0, 0)
            gx = self.add(gx, self.slice(b, 0, 0, gates * units))
            rb = self.slice(b, 0, gates * units, 2 * gates * units)

        def block(v, k, axis=1):
            return self.slice(v, axis, k * units, (k + 1) * units)

        def plus_rb(v, k=None):
            """v + the recurrent bias (its block k)."""
            if rb is None:
                return v
            return self.add(v, rb if k is None else block(rb, k, axis=0))

        if inner != "GRU":
            total = plus_rb(self.add(gx, self.node("MatMul", [h, Rt])))
            if inner == "SimpleRNN":
                return self.activation(act, total), None
            i, o, f = (self.activation(rec, block(total, k)) for k in range(3))
            new_c = self.add(self.mul(f, c), self.mul(i, self.activation(act, block(total, 3))))
            return self.mul(o, self.activation(act, new_c)), new_c
        z, r = (self.activation(rec, plus_rb(self.add(block(gx, k), self.node("MatMul", [h, block(Rt, k)])), k))
                for k in range(2))
        if cfg.get("reset_after", True):
            hh = self.mul(r, plus_rb(self.node("MatMul", [h, block(Rt, 2)]), 2))
        else:
            hh = plus_rb(self.node("MatMul", [self.mul(r, h), block(Rt, 2)]), 2)
        n = self.activation(act, self.add(block(gx, 2), hh))
        one_minus_z = self.node("Sub", [self.const(np.float32(1)), z])
        return self.add(self.mul(one_minus_z, n), self.mul(z, h)), None

    def finish(self, outputs):
        helper = self.helper
        leftover = sorted(set(self.tensors) - self.consumed)
        if leftover:
            raise Failure(f"tensors the graph does not use: {', '.join(leftover)}")
        outs = []
        for k, ((value, _), probed) in enumerate(zip(outputs, self.probe.outputs)):
            name = f"output_{k}"
            self.nodes.append(helper.make_node("Identity", [value], [name]))
            outs.append(helper.make_tensor_value_info(name, self.TensorProto.FLOAT, probed[2]))
        graph = helper.make_graph(self.nodes, self.arch.model.get("name", "model"), self.graph_inputs,
                                  outs, list(self.initializers.values()))
        return helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)],
                                 producer_name="rnnkit-interop-check")


# --------------------------------------------------------------------------------------------
# Checks


def read_tensor_file(path):
    """(tensors, architecture JSON, metadata layout) of an RNNKit safetensors or npz file."""
    if path.endswith(".safetensors"):
        from safetensors import safe_open
        from safetensors.numpy import load_file
        with safe_open(path, "np") as f:
            metadata = f.metadata() or {}
        if metadata.get("format") != "rnnkit":
            raise Failure(f"{os.path.basename(path)}: __metadata__ format is {metadata.get('format')!r}")
        return load_file(path), json.loads(metadata["model"]), metadata.get("layout")
    with np.load(path) as z:
        if "__rnnkit_model__" not in z.files:
            raise Failure(f"{os.path.basename(path)}: no __rnnkit_model__ entry")
        tensors = {k: z[k] for k in z.files if k != "__rnnkit_model__"}
        model = json.loads(bytes(z["__rnnkit_model__"]).decode("utf-8"))
    return tensors, model, None


def read_model_file(path, layout):
    """(tensors, Arch) of a tensor file that must be in `layout` throughout."""
    tensors, model, metadata_layout = read_tensor_file(path)
    if path.endswith(".safetensors") and metadata_layout != layout:
        raise Failure(f"__metadata__ layout is {metadata_layout!r}")
    weighted = RECURRENT + ("Bidirectional", "Dense", "TimeDistributed", "Embedding")
    wrong = [l["name"] for l in model["layers"]
             if l["class_name"] in weighted and l.get("layout", "keras") != layout]
    if wrong:
        raise Failure(f"layers not marked layout {layout!r}: {', '.join(wrong)}")
    return tensors, Arch(model)


def compare(outputs, expected):
    if len(outputs) != len(expected):
        raise Failure(f"{len(outputs)} outputs, expected {len(expected)}")
    worst = 0.0
    for k, (out, want) in enumerate(zip(outputs, expected)):
        out = np.asarray(out, dtype=np.float32)
        if out.shape != want.shape:
            raise Failure(f"output {k} has shape {list(out.shape)}, expected {list(want.shape)}")
        worst = max(worst, float(np.max(np.abs(out.astype(np.float64) - want.astype(np.float64)))))
    return worst


class Cell:
    """One table cell: "ok" with a value (a max abs diff or a count), or refused / skipped / FAIL
    / ERROR with a text."""

    def __init__(self, status, value=None, text="", notes=()):
        self.status, self.value, self.text, self.notes = status, value, text, list(notes)

    @property
    def failed(self):
        return self.status in ("FAIL", "ERROR")

    def render(self, shown):
        return shown.format(self.value) if self.status == "ok" else f"{self.status}: {self.text}"


COLUMNS = [  # title, how the values of several sources combine, how a value is shown
    ("torch", max, "{:.1e}"),
    ("ORT (safetensors)", max, "{:.1e}"),
    ("ORT (npz)", max, "{:.1e}"),
    ("JSON schema", sum, "{} valid"),
    ("files agree", sum, "{} tensors identical"),
]


def combine(by_source, column):
    """One cell for several sources' cells of a column: the worst diff (or the total count) when
    all are ok, the common cell when all agree, otherwise each source's."""
    title, reduce, shown = column
    cells = [row[title] for row in by_source.values()]
    notes = list(dict.fromkeys(n for c in cells for n in c.notes))
    if all(c.status == "ok" for c in cells):
        return Cell("ok", reduce(c.value for c in cells), notes=notes)
    if len({c.render(shown) for c in cells}) == 1:
        return cells[0]
    return Cell("FAIL" if any(c.failed for c in cells) else "mixed", notes=notes, text="; ".join(
        f"{source}: {row[title].render(shown)}" for source, row in by_source.items()))


def measured(worst, notes):
    if worst <= TOLERANCE:
        return Cell("ok", worst, notes=notes)
    return Cell("FAIL", text=f"max abs diff {worst:.2e} > {TOLERANCE:g}", notes=notes)


def check_torch(path, inputs, expected):
    import torch
    tensors, arch = read_model_file(path, "pytorch")
    backend = TorchBackend(arch, tensors, Probe(arch).run(inputs))  # strict loads happen here
    check_single_biases(arch, tensors, "pytorch")
    with torch.no_grad():
        outputs = run_graph(arch, inputs, backend)
    return measured(compare([o[0].numpy() for o in outputs], expected), backend.notes)


def check_onnx(path, inputs, expected, save_to=None):
    import onnx
    import onnxruntime as ort
    tensors, arch = read_model_file(path, "onnx")
    builder = OnnxBuilder(arch, tensors, Probe(arch).run(inputs))
    onnx_model = builder.finish(run_graph(arch, inputs, builder))
    check_single_biases(arch, tensors, "onnx")
    onnx.checker.check_model(onnx_model, full_check=True)
    if save_to:
        onnx.save(onnx_model, save_to)
    options = ort.SessionOptions()
    options.log_severity_level = 3
    session = ort.InferenceSession(onnx_model.SerializeToString(), options,
                                   providers=["CPUExecutionProvider"])
    results = session.run(None, dict(zip(arch.inputs, inputs)))
    return measured(compare(results, expected), builder.notes)


def check_schema(paths, validator):
    problems = []
    for path in paths:
        with open(path) as f:
            document = json.load(f)
        for error in validator.iter_errors(document):
            pointer = "/" + "/".join(str(p) for p in error.absolute_path)
            problems.append(f"{os.path.basename(path)} {pointer}: {error.message[:120]}")
    if problems:
        return Cell("FAIL", text="; ".join(problems[:3]) + (f" (+{len(problems) - 3})" if len(problems) > 3 else ""))
    return Cell("ok", len(paths))


def strip_weights(model):
    return dict(model, layers=[{k: v for k, v in layer.items() if k != "weights"} for layer in model["layers"]])


def check_agreement(folder, written):
    """The JSON files' weights equal the tensor files' bit for bit, and the architectures agree."""
    problems, compared = [], 0
    pairs = [("pytorch.json", "pytorch.safetensors"), ("onnx.json", "onnx.safetensors"), ("onnx.json", "onnx.npz")]
    for json_name, tensor_name in pairs:
        if json_name not in written or tensor_name not in written:
            continue
        with open(os.path.join(folder, json_name)) as f:
            document = json.load(f)
        from_json = {f"{layer['name']}.{key}": np.array(t["data"], dtype=np.float32).reshape(t["shape"])
                     for layer in document["layers"] for key, t in layer.get("weights", {}).items()}
        tensors, model, _ = read_tensor_file(os.path.join(folder, tensor_name))
        if strip_weights(document) != strip_weights(model):
            problems.append(f"{tensor_name} architecture differs from {json_name}")
        if set(tensors) != set(from_json):
            problems.append(f"{tensor_name} names {sorted(set(tensors) ^ set(from_json))} differ from {json_name}")
            continue
        for name, array in tensors.items():
            compared += 1
            if array.dtype != np.float32 or array.shape != from_json[name].shape or not np.array_equal(
                    array.view(np.uint32), from_json[name].view(np.uint32)):
                problems.append(f"{tensor_name} {name} differs from {json_name}")
    if problems:
        return Cell("FAIL", text="; ".join(problems[:3]))
    return Cell("ok", compared)


def guarded(check, *args):
    """check(*args), with Skip, Failure and unexpected exceptions as cells."""
    try:
        return check(*args)
    except Skip as skip:
        return Cell("skipped", text=short(skip))
    except Failure as failure:
        return Cell("FAIL", text=short(failure, 300))
    except Exception as error:  # noqa: BLE001 - every failure is reported
        traceback.print_exc()
        return Cell("ERROR", text=short(f"{type(error).__name__}: {error}", 300))


# --------------------------------------------------------------------------------------------
# Driver


def convert(rnnkit, source, out, layout):
    """("written" | "refused" | "error", rnnkit's message)."""
    proc = subprocess.run([rnnkit, "convert", source, out, "--layout", layout, "--force"],
                          capture_output=True, text=True)
    if proc.returncode == 0 and os.path.exists(out):
        return "written", None
    message = proc.stderr.strip().splitlines()[-1] if proc.stderr.strip() else f"exit {proc.returncode}"
    # "rnnkit: error: <path>: <where>: <reason>": keep what follows the output path
    message = message.replace("rnnkit: error: ", "").replace(out + ": ", "")
    return ("refused" if proc.returncode == 1 else "error"), message


def short(reason, limit=110):
    reason = " ".join(str(reason).split())
    return reason if len(reason) <= limit else reason[:limit - 1] + "…"


def run_fixture(name, source_name, rnnkit, out_dir, validator, keep):
    """Converts one source file of a fixture every way and checks each file: the cells of one
    row, and each conversion's outcome."""
    folder = os.path.join(FIXTURES, name)
    os.makedirs(out_dir, exist_ok=True)
    inputs = fixture_arrays.load(folder, "input_")
    expected = fixture_arrays.load(folder, f"expected_{source_name.split('.')[0]}_")
    outcomes = {f: convert(rnnkit, os.path.join(folder, source_name), os.path.join(out_dir, f), layout)
                for f, layout in CONVERSIONS.items()}
    if outcomes["keras.json"][0] != "written":
        cell = Cell("ERROR", text=f"keras.json: {short(outcomes['keras.json'][1])}")
        return {title: cell for title, _, _ in COLUMNS}, outcomes
    with open(os.path.join(out_dir, "keras.json")) as f:
        arch = Arch(json.load(f))
    problems = {f: outcome_problem(outcomes[f], inexpressible(arch, layout)) for f, layout in CONVERSIONS.items()}

    def tensor_cell(file_name, check, *extra):
        if problems[file_name]:
            return Cell("FAIL", text=short(problems[file_name], 300))
        if outcomes[file_name][0] == "refused":
            return Cell("refused", text=short(outcomes[file_name][1].split(": ", 1)[-1], 160))  # no location
        return guarded(check, os.path.join(out_dir, file_name), inputs, expected, *extra)

    row = {"torch": tensor_cell("pytorch.safetensors", check_torch),
           "ORT (safetensors)": tensor_cell("onnx.safetensors", check_onnx,
                                            os.path.join(out_dir, "model.onnx") if keep else None),
           "ORT (npz)": tensor_cell("onnx.npz", check_onnx)}
    written = {f for f, (status, _) in outcomes.items() if status == "written"}
    json_problems = [f"{f}: {problems[f]}" for f in JSON_FILES if problems[f]]
    schema = check_schema([os.path.join(out_dir, f) for f in JSON_FILES if f in written], validator)
    if json_problems:
        schema = Cell("FAIL", text=short("; ".join(json_problems + ([schema.text] if schema.failed else [])), 300))
    row["JSON schema"] = schema
    row["files agree"] = guarded(check_agreement, out_dir, written)
    return row, outcomes


def versions():
    import importlib.metadata as md
    found = {}
    for name in ["torch", "onnx", "onnxruntime", "safetensors", "jsonschema", "numpy"]:
        try:
            found[name] = md.version(name)
        except md.PackageNotFoundError:
            found[name] = "not installed"
    found["python"] = platform.python_version()
    return found


def render_markdown(summary, vers, notes, json_counts, sources):
    shown = {title: fmt for title, _, fmt in COLUMNS}
    lines = ["# PyTorch / ONNX Runtime interop check of RNNKit's tensor files", "",
             "Written by `Fixtures/interop/check_torch_onnx.py` "
             f"({', '.join(f'{k} {v}' for k, v in vers.items())}, CPU).", "",
             f"Each fixture's {', '.join(f'`{s}`' for s in sources)} converted by `rnnkit convert`; "
             "a number is the worst max abs difference from Keras's `expected_<writer>_<i>.npy` over "
             f"those sources and all outputs (pass ≤ {TOLERANCE:g}).", "",
             "- **torch**: `--layout pytorch` safetensors, torch.nn modules loaded with "
             "`load_state_dict(strict=True)`; a refusal must name the layer and what torch lacks.",
             "- **ORT**: `--layout onnx` safetensors and npz as the W, R, B initializers of "
             "ONNX RNN/LSTM/GRU nodes run by ONNX Runtime (CPU).",
             "- **JSON schema**: every `--layout keras|split|pytorch|onnx` RNNKit JSON written, against "
             "`Schemas/rnnkit-model.schema.json`.",
             "- **files agree**: the pytorch/onnx JSON weights equal the tensor files' bit for bit.", "",
             "| fixture | " + " | ".join(shown) + " |",
             "|---|" + "---|" * len(shown)]
    for name, cells in summary.items():
        lines.append(f"| {name} | " + " | ".join(cells[t].render(shown[t]).replace("|", "\\|") for t in shown) + " |")
    valid, written, refused = json_counts
    lines += ["", f"JSON schema: {valid} of {written} RNNKit JSON files written are valid; "
                  f"{refused} refused, each for a reason layouts.md gives."]
    if notes:
        lines += ["", "How masked or unusual layers were computed:", ""] + [f"- {n}" for n in notes]
    return "\n".join(lines) + "\n"


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rnnkit", default=os.path.join(REPO, ".build", "debug", "rnnkit"),
                        help="the rnnkit binary (default .build/debug/rnnkit; the script does not build it)")
    parser.add_argument("--fixture", action="append", help="only this fixture (repeatable)")
    parser.add_argument("--source", action="append", choices=SOURCES,
                        help="only this Keras-made file of each fixture (repeatable; default all three)")
    parser.add_argument("--keep", metavar="DIR", help="write the converted files (and model.onnx) here")
    parser.add_argument("--results", default=os.path.join(HERE, "results-torch-onnx.md"),
                        help="markdown summary ('-' for none)")
    args = parser.parse_args()
    sources = args.source or list(SOURCES)

    if not os.access(args.rnnkit, os.X_OK):
        sys.exit(f"no rnnkit binary at {args.rnnkit} (swift build --product rnnkit, or --rnnkit PATH)")
    import torch
    torch.set_num_threads(1)
    from jsonschema import Draft202012Validator
    with open(SCHEMA) as f:
        schema = json.load(f)
    Draft202012Validator.check_schema(schema)
    validator = Draft202012Validator(schema)

    with open(os.path.join(FIXTURES, "manifest.json")) as f:
        manifest = json.load(f)
    names = [e["name"] for e in manifest["fixtures"] if not args.fixture or e["name"] in args.fixture]
    if args.fixture and len(names) != len(set(args.fixture)):
        sys.exit(f"unknown fixture in {args.fixture}")

    work = args.keep or tempfile.mkdtemp(prefix="rnnkit-torch-onnx-")
    rows, failures, json_counts = {}, [], [0, 0, 0]
    try:
        for name in names:
            for source in sources:
                out_dir = os.path.join(work, name, source.replace(".", "_"))
                row, outcomes = run_fixture(name, source, args.rnnkit, out_dir, validator, bool(args.keep))
                rows.setdefault(name, {})[source] = row
                json_counts[0] += row["JSON schema"].value if row["JSON schema"].status == "ok" else 0
                json_counts[1] += sum(outcomes[f][0] == "written" for f in JSON_FILES)
                json_counts[2] += sum(outcomes[f][0] == "refused" for f in JSON_FILES)
                failures += [f"{name} / {source} / {title}: {row[title].render(fmt)}"
                             for title, _, fmt in COLUMNS if row[title].failed]
                print(f"{name:<21} {source:<13} "
                      + "  ".join(f"{title}: {row[title].render(fmt)}" for title, _, fmt in COLUMNS), flush=True)
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)

    summary = {name: {column[0]: combine(by_source, column) for column in COLUMNS}
               for name, by_source in rows.items()}
    notes = list(dict.fromkeys(f"{name} ({title.split(' ')[0]}): {note}"
                               for name, cells in summary.items() for title, cell in cells.items()
                               for note in cell.notes))
    markdown = render_markdown(summary, versions(), notes, json_counts, sources)
    print()
    print(markdown)
    if args.results != "-":
        with open(args.results, "w") as f:
            f.write(markdown)
    if failures:
        print(f"{len(failures)} failure(s):", *failures, sep="\n  ", file=sys.stderr)
        return 1
    skipped = sum(row[title].status == "skipped" for by_source in rows.values()
                  for row in by_source.values() for title, _, _ in COLUMNS)
    print(f"all {len(rows)} fixtures pass (or are refused with the right reason)"
          + (f"; {skipped} checks skipped, see the table" if skipped else ""))
    return 0


if __name__ == "__main__":
    sys.exit(main())
