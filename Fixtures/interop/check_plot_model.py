#!/usr/bin/env python3
"""Checks that `rnnkit plot` draws the same boxes and arrows as Keras's own
`keras.utils.plot_model` (through `model_to_dot`) for every fixture's Keras 3 `.keras` file.

Usage (from the repository root, after `swift build --product rnnkit`; Keras and pydot from
Fixtures/requirements.txt and this folder's requirements.txt):

    python3 Fixtures/interop/check_plot_model.py [path/to/rnnkit]

A box is named by its layer's name; an arrow by the names of the two boxes it joins (plot_model
draws one arrow between two layers, however many tensors pass). Exit status 0 when every
fixture matches, 1 otherwise.
"""
import os
import re
import subprocess
import sys
import tempfile

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
import keras  # noqa: E402

FIXTURES = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
BOLD = re.compile(r"<b>([^<]*)</b>")


def keras_graph(model):
    """Keras's boxes (layer names) and arrows (pairs of names)."""
    dot = keras.utils.model_to_dot(model, show_shapes=False)
    names = {}
    for node in dot.get_nodes():
        found = BOLD.search(node.get_label() or "")
        if found:
            names[node.get_name()] = found.group(1)
    arrows = {(names.get(e.get_source()), names.get(e.get_destination())) for e in dot.get_edges()}
    return set(names.values()), arrows


def rnnkit_graph(rnnkit, path, folder):
    """The same for the DOT text `rnnkit plot` writes."""
    out = os.path.join(folder, "model.dot")
    subprocess.run([rnnkit, "plot", path, out, "--force"], check=True, capture_output=True)
    text = open(out).read()
    names = dict(re.findall(r"^\s*(\w+) \[label=.*?<b>([^<]*)</b>", text, re.M))
    arrows = {(names.get(a), names.get(b)) for a, b in re.findall(r"^\s*(\w+) -> (\w+)", text, re.M)}
    return set(names.values()), arrows


def main():
    rnnkit = sys.argv[1] if len(sys.argv) > 1 else ".build/debug/rnnkit"
    failures = 0
    with tempfile.TemporaryDirectory() as folder:
        for name in sorted(os.listdir(FIXTURES)):
            path = os.path.join(FIXTURES, name, "keras3.keras")
            if not os.path.exists(path):
                continue
            expected = keras_graph(keras.saving.load_model(path, compile=False))
            drawn = rnnkit_graph(rnnkit, path, folder)
            same = expected == drawn and expected[0]
            failures += not same
            print(f"{'ok  ' if same else 'DIFF'} {name}: {len(expected[0])} boxes, {len(expected[1])} arrows"
                  + ("" if same else f"; Keras {sorted(expected[1])}, RNNKit {sorted(drawn[1])}"))
    print(f"{failures} fixture(s) differ")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
