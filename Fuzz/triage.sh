#!/usr/bin/env bash
# Groups a target's findings by what went wrong and where, so that known crashes (see
# Fixtures/regressions/README.md) can be told from new ones:
#
#   Fuzz/triage.sh TARGET [FILE...]     default: every file in .build/fuzz-artifacts/TARGET
#
# Each finding is run once more through .build/fuzz/bin/TARGET (built by `Fuzz/run.sh build`);
# the signature is the sanitizer's or libFuzzer's verdict plus the first frames in libhdf5,
# json-c, ZIPFoundation or RNNKit. Output: one line per signature, "count<TAB>verdict | frames<TAB>
# an example file". A timeout is re-run with -timeout=${TRIAGE_TIMEOUT:-3}.
set -uo pipefail
cd "$(dirname "$0")/.."
target=${1:?usage: Fuzz/triage.sh hdf5|keras|json|tensors [FILE...]}
shift
binary=.build/fuzz/bin/$target
[ -x "$binary" ] || { echo "no $binary (run Fuzz/run.sh build)" >&2; exit 2; }
files=("$@")
[ ${#files[@]} -eq 0 ] && files=(.build/fuzz-artifacts/"$target"/*)
[ -e "${files[0]}" ] || { echo "no findings for $target" >&2; exit 0; }
for file in "${files[@]}"; do
    output=$(SWIFT_BACKTRACE=enable=no ASAN_OPTIONS=detect_leaks=0:allocator_may_return_null=1 \
        timeout -s KILL 60 "$binary" -timeout="${TRIAGE_TIMEOUT:-3}" -rss_limit_mb="${RSS_LIMIT_MB:-2048}" \
        "$file" 2>&1)
    verdict=$(printf '%s\n' "$output" \
        | grep -oE "ERROR: (AddressSanitizer|LeakSanitizer|libFuzzer): [A-Za-z-]+( signal)?|Swift runtime failure: [A-Za-z ]+|Fatal error: .{0,80}" \
        | head -1 | sed 's/^ERROR: //')
    frames=$(printf '%s\n' "$output" | grep -E "^ +#[0-9]+ 0x" \
        | sed -E 's/^ +#[0-9]+ 0x[0-9a-f]+ in ([^ ]+).*/\1/' \
        | grep -E "^(H5|json_|\\\$s6RNNKit|\\\$s13ZIPFoundation|Swift runtime)" | head -5 | tr '\n' ' ')
    printf '%s | %s\t%s\n' "${verdict:-no crash now}" "${frames:--}" "$file"
done | sort | awk -F'\t' '{ count[$1]++; if (!($1 in example)) example[$1] = $2 }
    END { for (s in count) printf "%d\t%s\t%s\n", count[s], s, example[s] }' | sort -rn
