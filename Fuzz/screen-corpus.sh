#!/usr/bin/env bash
# Runs every mutant of a dumped regression corpus through `rnnkit validate` in its own process
# and lists the ones that crash, hang, print more than one line on stderr, or let HDF5's own
# diagnostics through. Use it to find inputs that must leave the in-process corpus
# (RegressionCorpusTests.isolationOnly) after a library change:
#
#   RNNKIT_CORPUS_DUMP=/tmp/corpus swift test --filter RegressionCorpusTests
#   Fuzz/screen-corpus.sh /tmp/corpus            # needs .build/debug/rnnkit (swift build)
#
# Output: one line per bad mutant, "<reason>\t<mutant name>\t<model>\t<weights>"; exit 1 if any.
set -u
folder=${1:?usage: Fuzz/screen-corpus.sh CORPUS_FOLDER [RNNKIT_BINARY]}
binary=${2:-"$(dirname "$0")/../.build/debug/rnnkit"}
limit=${SCREEN_TIMEOUT:-10}
[ -x "$binary" ] || { echo "no rnnkit binary at $binary (run swift build)" >&2; exit 2; }
# Read in this process, not in rnnkit's isolated worker: the point is to see what would crash a
# process that loads models itself (the test process). No Swift backtraces: they are slow.
export RNNKIT_ISOLATED_CHILD=1 SWIFT_BACKTRACE=enable=no
bad=0
total=0
while IFS=$'\t' read -r name model weights; do
  total=$((total + 1))
  args=(validate "$model")
  [ -n "$weights" ] && args+=(--weights "$weights")
  err=$(timeout -s KILL "$limit" "$binary" "${args[@]}" 2>&1 >/dev/null)
  status=$?
  reason=""
  if [ $status -eq 137 ]; then reason="hang"
  elif [ $status -ne 0 ] && [ $status -ne 1 ] && [ $status -ne 2 ]; then reason="crash($status)"
  elif printf '%s' "$err" | grep -q "HDF5-DIAG"; then reason="hdf5-diag"
  elif [ "$(printf '%s' "$err" | grep -c '')" -gt 1 ]; then reason="multi-line"
  fi
  if [ -n "$reason" ]; then
    bad=$((bad + 1))
    printf '%s\t%s\t%s\t%s\n' "$reason" "$name" "$model" "$weights"
  fi
done < "$folder/manifest.tsv"
echo "screened $total mutants: $bad bad" >&2
[ $bad -eq 0 ]
