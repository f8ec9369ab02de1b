#!/usr/bin/env bash
# `make spark-example`: scores a Spark DataFrame through `rnnkit predict --format ndjson -` in local
# mode on 4 partitions and checks every output against a direct rnnkit run (Examples/spark/README.md).
# Installs what it needs: Java 17 from Debian (apt-get, when missing and run as root) and pyspark
# (pinned) with NumPy in a virtual environment under .build/spark-venv. SPARK_TIMING=1 also times
# 1, 2 and 4 partitions.
set -euo pipefail
cd "$(dirname "$0")/../.."

if ! java -version 2>&1 | grep -q 'version "17'; then
    if [ "$(id -u)" = 0 ]; then
        apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq openjdk-17-jre-headless >/dev/null
    else
        echo "Spark needs Java 17: sudo apt-get install openjdk-17-jre-headless" >&2; exit 1
    fi
fi
venv=.build/spark-venv
if [ ! -x "$venv/bin/python" ] || ! "$venv/bin/python" -c 'import pyspark, numpy' 2>/dev/null; then
    python3 -m venv "$venv"
    "$venv/bin/pip" install -q -r Examples/spark/requirements.txt
fi
swift build -c release --product rnnkit >&2
"$venv/bin/python" Examples/spark/score.py .build/release/rnnkit Fixtures/simple_rnn/keras3.keras \
    --partitions 4 --sequences "${SPARK_SEQUENCES:-2000}" ${SPARK_TIMING:+--timing}
