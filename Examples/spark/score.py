"""Scores a Spark DataFrame of sequences with `rnnkit predict --format ndjson -`.

Each partition streams its rows, one JSON line per sequence, through one rnnkit process (reading
stdin, writing stdout), and gets one line of outputs per line back, in the same order. The binary
and the model are shipped to the executors with SparkContext.addFile (the same as spark-submit
--files rnnkit,model.keras on a cluster) and found there with SparkFiles.get.

    python score.py RNNKIT MODEL [--partitions 4] [--sequences 2000] [--timing]

Checks every output against a direct `rnnkit predict` of the same sequences, exactly (RNNKit's
outputs do not depend on how the rows are batched). Exit 0 when all agree.
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile
import threading
import time

import numpy as np
from pyspark import SparkFiles
from pyspark.sql import SparkSession


def score_partition(rows, binary_name, model_name):
    """Runs rnnkit on one partition's rows: (id, sequence) in, (id, output line) out."""
    binary = SparkFiles.get(binary_name)
    model = SparkFiles.get(model_name)
    if not os.access(binary, os.X_OK):
        os.chmod(binary, 0o755)
    rows = list(rows)
    if not rows:
        return
    process = subprocess.Popen([binary, "predict", model, "--format", "ndjson", "--quiet", "-"],
                               stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE)

    def feed():
        for _, sequence in rows:
            process.stdin.write((json.dumps(sequence) + "\n").encode())
        process.stdin.close()

    writer = threading.Thread(target=feed)
    writer.start()
    outputs = process.stdout.read().decode().splitlines()
    errors = process.stderr.read().decode()
    writer.join()
    if process.wait() != 0:
        raise RuntimeError(f"rnnkit failed: {errors.strip()}")
    if len(outputs) != len(rows):
        raise RuntimeError(f"rnnkit gave {len(outputs)} lines for {len(rows)} sequences")
    for (row_id, _), line in zip(rows, outputs):
        yield row_id, line


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("rnnkit")
    parser.add_argument("model")
    parser.add_argument("--partitions", type=int, default=4)
    parser.add_argument("--sequences", type=int, default=2000)
    parser.add_argument("--timing", action="store_true", help="also time 1, 2 and 4 partitions")
    args = parser.parse_args()

    spark = (SparkSession.builder.master(f"local[{args.partitions}]").appName("rnnkit-scoring")
             .config("spark.ui.enabled", "false").config("spark.ui.showConsoleProgress", "false").getOrCreate())
    spark.sparkContext.setLogLevel("ERROR")
    sc = spark.sparkContext
    sc.addFile(os.path.abspath(args.rnnkit))
    sc.addFile(os.path.abspath(args.model))
    binary_name, model_name = os.path.basename(args.rnnkit), os.path.basename(args.model)

    # A DataFrame of sequences (4 steps of 5 features, the simple_rnn fixture's input).
    rng = np.random.default_rng(7)
    data = rng.standard_normal((args.sequences, 4, 5)).astype(np.float32)
    frame = spark.createDataFrame([(i, data[i].tolist()) for i in range(args.sequences)],
                                  "id long, sequence array<array<float>>")

    def run(partitions):
        rdd = frame.rdd.map(lambda row: (row.id, row.sequence)).repartition(partitions)
        return rdd.mapPartitions(lambda rows: score_partition(rows, binary_name, model_name)).collect()

    scored = dict(run(args.partitions))

    # The reference: one direct run over every sequence, in id order.
    with tempfile.TemporaryDirectory() as folder:
        inputs = os.path.join(folder, "all.ndjson")
        with open(inputs, "w") as handle:
            for i in range(args.sequences):
                handle.write(json.dumps(data[i].tolist()) + "\n")
        direct = subprocess.run([args.rnnkit, "predict", args.model, inputs, "--format", "ndjson", "--quiet"],
                                check=True, capture_output=True, text=True).stdout.splitlines()

    mismatches = [i for i in range(args.sequences) if scored.get(i) != direct[i]]
    print(f"{len(scored)} sequences scored on {args.partitions} partitions; "
          f"{args.sequences - len(mismatches)} equal to a direct rnnkit run, {len(mismatches)} differ")
    if args.timing:
        for partitions in (1, 2, 4):
            started = time.time()
            run(partitions)
            seconds = time.time() - started
            print(f"{partitions} partition(s): {args.sequences / seconds:.0f} sequences/s ({seconds:.2f} s)")
    spark.stop()
    sys.exit(1 if mismatches or len(scored) != args.sequences else 0)


if __name__ == "__main__":
    main()
