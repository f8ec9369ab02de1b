"""What the interop scripts share: a fixture's numbered arrays."""
import os

import numpy as np


def load(folder, prefix):
    """`<prefix>0.npy`, `<prefix>1.npy`, ... of `folder`, in order, until one is missing."""
    result = []
    while os.path.exists(os.path.join(folder, f"{prefix}{len(result)}.npy")):
        result.append(np.load(os.path.join(folder, f"{prefix}{len(result)}.npy")))
    return result
