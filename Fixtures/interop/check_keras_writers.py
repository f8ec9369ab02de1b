#!/usr/bin/env python3
"""Loads the Keras files RNNKit wrote with real Keras 3 and tf_keras and compares their
predictions with the fixtures' expected outputs.

Usage (from the repository root):

    mkdir -p /tmp/rnnkit-interop
    RNNKIT_INTEROP_OUT=/tmp/rnnkit-interop swift test --filter KerasWriterTests/testEveryFixtureRoundTripsThroughBothWriters
    python3 Fixtures/interop/check_keras_writers.py /tmp/rnnkit-interop [--baseline] [--markdown]

The folder holds the written files and `index.json` (written by the Swift test): for each file
its fixture, the Keras-made source file it was converted from (keras3.keras, keras3.h5,
tfkeras.h5), the format written (h5 or keras), or the reason RNNKit refused to write it.
Each file is loaded with `keras.models.load_model` and `tf_keras.models.load_model`
(compile=False), run on Fixtures/<fixture>/input_<i>.npy, and compared with
Fixtures/<fixture>/expected_<source writer>_<i>.npy (the outputs of the Keras that made the
source file). A row passes when every output is within 1e-6 + 1e-5 x |expected| of it, the
tolerance generate_fixtures.py holds Keras's own reloads to (outputs reach 6 in activations_more).

Some failures are Keras's own, not the file's, and are reported as "expected" with the reason:
- hard_sigmoid: Keras 3 always computes clip(x/6 + 0.5, 0, 1) and tf_keras always
  clip(0.2x + 0.5, 0, 1), whatever version the file names. RNNKit keeps the source model's
  version (and formula) in the file, so only the loader of that major version matches.
- initial_state: tf_keras reads a call with initial_state tensors only as a Keras 2 node list,
  Keras 3 only as a Keras 3 node. An .h5 file uses the form of its own Keras version. The same
  holds for MultiHeadAttention's value/key tensors, keyword arguments of its call.
- .keras in tf_keras: tf_keras cannot read Keras 3 archives (neither Keras 3's own).
- score_mode: Keras 3's legacy .h5 loader deserializes Attention's score_mode "dot" as the
  function keras.ops.dot and refuses the model (its own keras3.h5 too). RNNKit leaves the
  default "dot" out of the configs it writes, so only the fixtures' own files fail this way.
- Keras-3-only fixtures (no tfkeras writer in the manifest): tf_keras lacks their activations.
- TFOpLambda in Keras 3: tf_keras saves TensorFlow operations as TFOpLambda layers, a class
  Keras 3 does not have (it refuses the fixtures' own tfkeras.h5 of ops_graph too).

With --baseline the fixtures' own Keras-made files are loaded the same way, for comparison.
Exit status: 0 when every row passes or fails only for an expected reason, 1 otherwise.
"""

import argparse
import json
import os
import sys
import traceback

os.environ.setdefault("KERAS_BACKEND", "tensorflow")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("CUDA_VISIBLE_DEVICES", "")
os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")  # the math the fixtures were made with (generate_fixtures.py)

import numpy as np  # noqa: E402
import fixture_arrays  # noqa: E402 (the module beside this script)

ATOL, RTOL = 1e-6, 1e-5  # generate_fixtures.py's reload tolerance


def load_loaders():
    import keras
    import tensorflow as tf
    import tf_keras

    tf.get_logger().setLevel("ERROR")  # retracing warnings from predicting many small models

    return {
        "keras3": lambda path: keras.models.load_model(path, compile=False),
        "tf_keras": lambda path: tf_keras.models.load_model(path, compile=False),
    }, {"keras3": keras.__version__, "tf_keras": tf_keras.__version__}


def predict(model, inputs):
    outputs = model.predict(inputs if len(inputs) > 1 else inputs[0], verbose=0)
    if isinstance(outputs, dict):
        outputs = list(outputs.values())
    if not isinstance(outputs, (list, tuple)):
        outputs = [outputs]
    return [np.asarray(o) for o in outputs]


def compare(outputs, expected):
    """The max abs difference, and whether every value is within ATOL + RTOL x |expected|."""
    if len(outputs) != len(expected):
        raise ValueError(f"{len(outputs)} outputs, expected {len(expected)}")
    worst, within = 0.0, True
    for output, want in zip(outputs, expected):
        if output.shape != want.shape:
            raise ValueError(f"output shape {output.shape}, expected {want.shape}")
        difference = np.abs(output.astype(np.float64) - want.astype(np.float64))
        worst = max(worst, float(np.max(difference, initial=0.0)))
        within = within and bool(np.all(difference <= ATOL + RTOL * np.abs(want.astype(np.float64))))
    return worst, within


def uses_hard_sigmoid(manifest, fixture):
    return any(f["name"] == fixture and f.get("uses_hard_sigmoid") for f in manifest["fixtures"])


def passes_initial_state(manifest, fixture):
    return any(f["name"] == fixture and "initial_state" in f.get("description", "") for f in manifest["fixtures"])


def keras3_only(manifest, fixture):
    return any(f["name"] == fixture and "tfkeras" not in f.get("writers", []) for f in manifest["fixtures"])
def passes_attention_tensors(manifest, fixture):
    return any(f["name"] == fixture and "MultiHeadAttention" in f.get("description", "") for f in manifest["fixtures"])


def expected_reason(manifest, fixture, file_name, file_major, fmt, loader, error):
    """Why a failure is Keras's own limitation, or None."""
    loader_major = 3 if loader == "keras3" else 2
    if fmt == "keras" and loader == "tf_keras":
        return "tf_keras cannot read Keras 3 .keras archives"
    if error is not None and loader == "tf_keras" and keras3_only(manifest, fixture):
        return "tf_keras lacks the model's Keras 3 activations"
    if error is not None and passes_initial_state(manifest, fixture) and fmt == "h5" and loader_major != file_major:
        return f"initial_state call in a Keras {file_major} .h5 (node form of its own version)"
    if error is not None and passes_attention_tensors(manifest, fixture) and fmt == "h5" and loader_major != file_major:
        return f"MultiHeadAttention value/key tensors in a Keras {file_major} .h5 (node form of its own version)"
    if error is not None and loader == "keras3" and fmt == "h5" and "score_mode" in error:
        return "Keras 3's legacy .h5 loader reads Attention's score_mode 'dot' as the function keras.ops.dot"
    if error is not None and fmt == "h5" and loader == "keras3" and "Unknown layer: 'TFOpLambda'" in error:
        return "Keras 3 has no TFOpLambda layer (tf_keras's TensorFlow operations)"
    if error is None and uses_hard_sigmoid(manifest, fixture) and loader_major != file_major:
        return f"loader computes Keras {loader_major} hard_sigmoid, the model is Keras {file_major}"
    return None


def check(entries, manifest, fixtures_dir, loaders, folder):
    rows = []
    for entry in entries:
        fixture = entry["fixture"]
        base = os.path.join(fixtures_dir, fixture)
        inputs = fixture_arrays.load(base, "input_")
        expected = fixture_arrays.load(base, f"expected_{entry['source_writer']}_")
        if "refused" in entry:
            rows.append(dict(entry, loader="-", result="refused by RNNKit", diff=None, ok=True,
                             note=entry["refused"].split(": ", 1)[-1][:90]))
            continue
        path = os.path.join(folder, entry["file"])
        file_major = int(str(entry.get("keras_version", "2")).split(".")[0] or 2)
        for loader, load in loaders.items():
            diff, within, error = None, False, None
            try:
                model = load(path)
                diff, within = compare(predict(model, inputs), expected)
            except Exception as exc:  # noqa: BLE001 - every failure is reported
                error = f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}"[:160]
                if os.environ.get("RNNKIT_INTEROP_TRACEBACK"):
                    traceback.print_exc()
            ok = error is None and within
            note = ""
            if not ok:
                reason = expected_reason(manifest, fixture, entry["file"], file_major, entry["format"], loader, error)
                if reason:
                    note = "expected: " + reason + ("" if error is None else f" ({error[:70]})")
                else:
                    note = error or f"max abs diff {diff:.3g}, beyond {ATOL} + {RTOL} x |expected|"
            rows.append(dict(entry, loader=loader, diff=diff, ok=ok or note.startswith("expected"),
                             result="ok" if ok else ("load error" if error else "MISMATCH"), note=note))
    return rows


def baseline_entries(manifest):
    entries = []
    for fixture in manifest["fixtures"]:
        for writer in fixture["writers"]:
            files = [("keras3.keras", "keras"), ("keras3.h5", "h5")] if writer == "keras3" else [(f"{writer}.h5", "h5")]
            for name, fmt in files:
                entries.append({"fixture": fixture["name"], "source": name, "source_writer": writer, "format": fmt,
                                "file": os.path.join(fixture["name"], name),
                                "keras_version": "3" if writer == "keras3" else "2"})
    return entries


def print_table(rows, markdown):
    header = ["fixture", "source", "written as", "loader", "max abs diff", "result", "note"]
    lines = []
    for row in rows:
        diff = "" if row["diff"] is None else f"{row['diff']:.2e}"
        lines.append([row["fixture"], row["source"], row["format"], row["loader"], diff, row["result"], row["note"]])
    print_rows(header, lines, markdown)


def short_reason(row):
    note = row["note"]
    if "hard_sigmoid" in note:
        return "hard_sigmoid"
    if "initial_state" in note:
        return "initial_state"
    if "MultiHeadAttention value/key" in note:
        return "MHA tensor kwargs"
    if "cannot read Keras 3 .keras" in note:
        return "no .keras in tf_keras"
    if "score_mode" in note:
        return "score_mode 'dot'"
    if "TFOpLambda" in note:
        return "no TFOpLambda in Keras 3"
    return "FAIL"


def print_summary(rows, markdown):
    """Fixture x (written format, loader): the worst max abs diff over the sources, or why not."""
    columns = [("h5", "keras3"), ("h5", "tf_keras"), ("keras", "keras3"), ("keras", "tf_keras")]
    header = ["fixture"] + [f"{fmt} -> {loader}" for fmt, loader in columns]
    lines = []
    for fixture in dict.fromkeys(r["fixture"] for r in rows):
        line = [fixture]
        for fmt, loader in columns:
            cells = [r for r in rows if r["fixture"] == fixture and r["format"] == fmt and r["loader"] in (loader, "-")]
            ok = [r["diff"] for r in cells if r["result"] == "ok"]
            other = [r for r in cells if r["result"] != "ok"]
            parts = []
            if ok:
                parts.append(f"{max(ok):.1e}" + (f" ({len(ok)})" if other else ""))
            for reason in dict.fromkeys("refused" if r["loader"] == "-" else short_reason(r) for r in other):
                count = sum(1 for r in other if ("refused" if r["loader"] == "-" else short_reason(r)) == reason)
                parts.append(f"{reason} ({count})")
            line.append(", ".join(parts))
        lines.append(line)
    print_rows(header, lines, markdown)


def print_rows(header, lines, markdown):
    if markdown:
        print("| " + " | ".join(header) + " |")
        print("|" + "---|" * len(header))
        for line in lines:
            print("| " + " | ".join(line) + " |")
        return
    widths = [max(len(h), *(len(l[i]) for l in lines)) if lines else len(h) for i, h in enumerate(header)]
    print("  ".join(h.ljust(w) for h, w in zip(header, widths)))
    for line in lines:
        print("  ".join(c.ljust(w) for c, w in zip(line, widths)))


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("folder", help="folder with index.json and the files RNNKit wrote")
    parser.add_argument("--fixtures", help="Fixtures folder (default: the one index.json names, else ../)")
    parser.add_argument("--baseline", action="store_true", help="also load the fixtures' own Keras-made files")
    parser.add_argument("--markdown", action="store_true", help="print the table as Markdown")
    parser.add_argument("--fixture", action="append", help="only this fixture (repeatable)")
    args = parser.parse_args()

    with open(os.path.join(args.folder, "index.json")) as handle:
        index = json.load(handle)
    fixtures_dir = args.fixtures or index.get("fixtures") or os.path.join(os.path.dirname(__file__), "..")
    with open(os.path.join(fixtures_dir, "manifest.json")) as handle:
        manifest = json.load(handle)

    loaders, versions = load_loaders()
    print(f"keras {versions['keras3']}, tf_keras {versions['tf_keras']}, numpy {np.__version__}, "
          f"tolerance {ATOL} + {RTOL} x |expected|")
    def selected(entries):
        return [e for e in entries if not args.fixture or e["fixture"] in args.fixture]

    rows = check(selected(index["files"]), manifest, fixtures_dir, loaders, args.folder)
    print(f"\nFiles written by RNNKit ({args.folder}):\n")
    print_table(rows, args.markdown)
    print("\nBy fixture: worst max abs diff over the 3 source files (keras3.keras, keras3.h5, tfkeras.h5),"
          " with counts when some fail for an expected reason\n")
    print_summary(rows, args.markdown)

    checked = [r for r in rows if r["loader"] != "-"]
    passed = sum(1 for r in checked if r["result"] == "ok")
    expected = sum(1 for r in checked if r["result"] != "ok" and r["ok"])
    failed = [r for r in rows if not r["ok"]]
    worst = max((r["diff"] for r in checked if r["result"] == "ok"), default=0.0)
    print(f"\nSummary: {len(checked)} loads, {passed} ok (worst max abs diff {worst:.2e}), "
          f"{expected} expected failures, {len(failed)} unexpected failures, "
          f"{sum(1 for r in rows if r['loader'] == '-')} refused by RNNKit")

    if args.baseline:
        base_rows = check(selected(baseline_entries(manifest)), manifest, fixtures_dir, loaders, fixtures_dir)
        print("\nBaseline: the fixtures' own Keras-made files\n")
        print_table(base_rows, args.markdown)
        base_ok = sum(1 for r in base_rows if r["result"] == "ok")
        print(f"\nBaseline summary: {len(base_rows)} loads, {base_ok} ok")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
