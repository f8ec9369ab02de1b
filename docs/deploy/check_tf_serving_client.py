#!/usr/bin/env python3
"""A TF Serving client's view of `rnnkit serve`: `requests` with the JSON that TF Serving's REST
API documents (row format "instances", columnar "inputs", "signature_name"), checked against the
Keras outputs stored with each fixture (Fixtures/*/expected_keras3_N.npy) within 1e-5.

    python3 docs/deploy/check_tf_serving_client.py --rnnkit .build/release/rnnkit   # serves every fixture itself
    python3 docs/deploy/check_tf_serving_client.py --url http://127.0.0.1:8501 --fixture lstm_sequences --name lstm

Loopback only. Exit status 0 when every answer agrees.
"""
import argparse
import json
import pathlib
import subprocess
import sys
import time

import numpy as np
import requests

FIXTURES = pathlib.Path(__file__).resolve().parents[2] / "Fixtures"
TOLERANCE = 1e-5


def fixture_arrays(name):
    manifest = json.loads((FIXTURES / "manifest.json").read_text())
    entry = next(f for f in manifest["fixtures"] if f["name"] == name)
    inputs = [np.load(FIXTURES / name / f"input_{i}.npy") for i in range(entry["inputs"])]
    expected = [np.load(FIXTURES / name / f"expected_keras3_{i}.npy") for i in range(entry["outputs"])]
    return inputs, expected


def check(url, fixture, model):
    inputs, expected = fixture_arrays(fixture)
    metadata = requests.get(f"{url}/v1/models/{model}/metadata", timeout=10).json()
    signature = metadata["metadata"]["signature_def"]["signature_def"]["serving_default"]
    input_names = list(signature["inputs"])
    output_names = sorted(signature["outputs"])
    # Outputs in the model's order are named after their layers; match them by shape.
    def as_list(array, name):
        return array.astype(int).tolist() if signature["inputs"][name]["dtype"] == "DT_INT32" else array.tolist()

    worst = 0.0
    # Columnar: {"inputs": tensor} or {"inputs": {name: tensor}} -> {"outputs": ...}.
    if len(inputs) == 1:
        body = {"signature_name": "serving_default", "inputs": as_list(inputs[0], input_names[0])}
    else:
        body = {"inputs": {name: as_list(array, name) for name, array in zip(input_names, inputs)}}
    answer = requests.post(f"{url}/v1/models/{model}:predict", json=body, timeout=10)
    answer.raise_for_status()
    outputs = answer.json()["outputs"]
    columnar = [np.array(outputs)] if len(output_names) == 1 else [np.array(outputs[n]) for n in output_names]
    # Row format: {"instances": [row, ...]} or a list of objects -> {"predictions": [...]}.
    rows = []
    for row in range(inputs[0].shape[0]):
        if len(inputs) == 1:
            rows.append(as_list(inputs[0][row], input_names[0]))
        else:
            rows.append({name: as_list(array[row], name) for name, array in zip(input_names, inputs)})
    answer = requests.post(f"{url}/v1/models/{model}/versions/1:predict", json={"instances": rows}, timeout=10)
    answer.raise_for_status()
    predictions = answer.json()["predictions"]
    if len(output_names) == 1:
        by_rows = [np.array(predictions)]
    else:
        by_rows = [np.array([p[n] for p in predictions]) for n in output_names]
    for got in (columnar, by_rows):
        for array in got:
            matches = [e for e in expected if e.shape == array.shape]
            if not matches:
                raise SystemExit(f"{fixture}: no Keras output of shape {array.shape}")
            worst = max(worst, min(float(np.max(np.abs(array - e))) for e in matches))
    status = "ok" if worst <= TOLERANCE else "FAILED"
    print(f"{fixture:22s} model {model:22s} worst difference from Keras {worst:.2e} {status}")
    return worst <= TOLERANCE


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--url", help="a running server, e.g. http://127.0.0.1:8501")
    parser.add_argument("--rnnkit", help="start this rnnkit binary serving every fixture on a free port")
    parser.add_argument("--fixture", help="check only this fixture")
    parser.add_argument("--name", help="the served model's name (default: the fixture's)")
    args = parser.parse_args()
    manifest = json.loads((FIXTURES / "manifest.json").read_text())
    fixtures = [args.fixture] if args.fixture else [f["name"] for f in manifest["fixtures"]]
    server = None
    url = args.url
    if args.rnnkit:
        models = [f"{name}={FIXTURES / name / 'keras3.keras'}" for name in fixtures]
        server = subprocess.Popen([args.rnnkit, "serve", *models, "--port", "0", "--log-level", "warning"],
                                  stdout=subprocess.PIPE, text=True)
        line = server.stdout.readline()
        url = line.split("listening on ")[1].split(" ")[0]
        time.sleep(0.1)
    try:
        ok = all([check(url, fixture, args.name or fixture) for fixture in fixtures])
    finally:
        if server:
            server.terminate()
            server.wait(timeout=30)
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
