"""The benchmark models' inputs, shared by make_models.py and run_peers.py (which imports
no Keras in its ONNX Runtime workers)."""

import numpy as np


def sample_inputs(specs, batch, steps, rng):
    """Seeded inputs for the input `specs` of manifest.json at `batch`, with `steps` where the
    time axis is free: token ids uniform over the vocabulary, features uniform(-1, 1). One
    array for one input, else a list in the model's input order."""
    arrays = []
    for spec in specs:
        shape = [batch] + [steps if d is None else d for d in spec["shape"][1:]]
        if spec["dtype"] == "int32":
            arrays.append(rng.integers(0, spec["vocabulary"], size=shape).astype(np.int32))
        else:
            arrays.append(rng.uniform(-1, 1, size=shape).astype(np.float32))
    return arrays[0] if len(arrays) == 1 else arrays
