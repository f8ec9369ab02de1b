#!/usr/bin/env bash
# Builds one libFuzzer target and runs it for a while, seeded from Fixtures/.
#
#   Fuzz/run.sh TARGET [SECONDS]      TARGET: hdf5 | keras | json | tensors | serve_request | ndjson |
#                                     onnx | all; SECONDS: default 120
#   Fuzz/run.sh build                 only build every target
#
# RNNKit (and ZIPFoundation) are compiled once with coverage, AddressSanitizer and -enable-testing
# (the targets reach internal readers through @testable import) into
# .build/fuzz (a build folder of its own, so the normal debug build is untouched); each target is
# Fuzz/Targets/Common.swift + Fuzz/Targets/TARGET.swift linked against those objects, giving
# .build/fuzz/bin/TARGET. The corpus grows in .build/fuzz-corpus/TARGET; crashes, timeouts and
# out-of-memory inputs land in .build/fuzz-artifacts/TARGET. The run keeps going after a finding
# (libFuzzer's fork mode) and exits 1 if it made any.
#
# Environment: FUZZ_NO_BUILD=1 (run the targets already in .build/fuzz/bin),
# JOBS (parallel fuzzing processes, default 1), RSS_LIMIT_MB (default 2048),
# TIMEOUT (seconds per input, default 3: libhdf5 has known endless loops, see
# Fixtures/regressions, and each one the fuzzer meets again costs that long),
# RNNKIT_FUZZ_ALLOW_MULTILINE=1 (skip the one-line message check), FUZZ_ARGS (more libFuzzer flags).
# Fuzz/triage.sh TARGET groups the findings by signature.
set -euo pipefail
cd "$(dirname "$0")/.."

target=${1:?usage: Fuzz/run.sh hdf5|keras|json|tensors|serve_request|ndjson|onnx|all|build [SECONDS]}
seconds=${2:-120}
targets=(hdf5 keras json tensors serve_request ndjson onnx)
build=.build/fuzz
products=$build/release
bin=$build/bin

build_library() {
    [ -n "${FUZZ_NO_BUILD:-}" ] && return 0
    echo "== building RNNKit with -sanitize=fuzzer,address into $build" >&2
    swift build -c release --build-path "$build" --target RNNKit \
        -Xswiftc -sanitize=fuzzer,address -Xswiftc -g -Xswiftc -enable-testing \
        -Xcc -fsanitize=fuzzer-no-link,address >&2
}

link_target() {
    local name=$1
    [ -n "${FUZZ_NO_BUILD:-}" ] && [ -x "$bin/$name" ] && return 0
    local cflags=() maps=() objects=()
    for flag in $(pkg-config --cflags hdf5 json-c libdeflate); do cflags+=(-Xcc "$flag"); done
    # The C modules RNNKit imports: system-library targets, ZIPFoundation's zlib, generated maps.
    while IFS= read -r map; do maps+=(-Xcc "-fmodule-map-file=$map"); done < <(
        find Sources "$build"/checkouts/*/Sources -maxdepth 2 -name module.modulemap
        ls "$products"/*.build/module.modulemap 2>/dev/null || true)
    # RNNKit, ZIPFoundation, SwiftProtobuf and the C targets; never the CLI (it has a main) nor the tests.
    for dir in "$products"/*.build; do
        case $(basename "$dir") in
            # Other packages' C targets (the server's) have folders here but no objects: skip them.
            RNNKit.build|ZIPFoundation.build|SwiftProtobuf.build|C*.build)
                for object in "$dir"/*.o; do [ -e "$object" ] && objects+=("$object"); done ;;
        esac
    done
    # serve_request compiles the server's request codecs into the target itself: they use only
    # RNNKit, and the HTTP server's packages stay out of the fuzz build.
    local sources=()
    [ "$name" = serve_request ] && sources=(Sources/RNNKitServer/Codec/*.swift Sources/RNNKitServer/ServeError.swift)
    mkdir -p "$bin"
    echo "== linking $bin/$name" >&2
    # ld.gold warns about every ASan helper it cannot export; those lines are noise.
    swiftc -sanitize=fuzzer,address -parse-as-library -g -O \
        -I "$products/Modules" "${maps[@]}" "${cflags[@]}" \
        Fuzz/Targets/Common.swift "Fuzz/Targets/$name.swift" ${sources[@]+"${sources[@]}"} "${objects[@]}" \
        $(pkg-config --libs hdf5 json-c libdeflate) -lz -o "$bin/$name" 2>&1 \
        | { grep -v "Cannot export local symbol" || true; } >&2
}

seed() {
    local name=$1 corpus=.build/fuzz-corpus/$1
    mkdir -p "$corpus"
    [ -n "$(ls -A "$corpus")" ] && return 0
    case $name in
        hdf5)    cp Fixtures/*/keras3.h5 Fixtures/*/tfkeras.h5 Fixtures/malformed/*.h5 "$corpus"/ 2>/dev/null || true
                 # Weights files, made even-sized so that the target reads them as weights.
                 for f in Fixtures/simple_rnn/*weights*.h5; do
                     cp "$f" "$corpus/w-$(basename "$f")"
                     [ $(( $(stat -c %s "$f") % 2 )) -eq 1 ] && printf '\0' >> "$corpus/w-$(basename "$f")"
                 done ;;
        keras)   for f in Fixtures/*/keras3.keras Fixtures/malformed/*.keras; do
                     cp "$f" "$corpus/$(basename "$(dirname "$f")")-$(basename "$f")"
                 done ;;
        json)    for f in Fixtures/*/keras3.json Fixtures/*/tfkeras.json Fixtures/malformed/*.json Fixtures/*/summary_keras3.json; do
                     cp "$f" "$corpus/$(basename "$(dirname "$f")")-$(basename "$f")"
                 done ;;
        tensors) for f in Fixtures/*/input_*.npy Fixtures/*/expected_keras3_*.npy; do
                     cp "$f" "$corpus/$(basename "$(dirname "$f")")-$(basename "$f")"
                 done
                 printf 'a,b,c\n1,2,3\n4,5,6\n7,8,9\n' > "$corpus/seed.csv"
                 printf '[[[1, 2], [3, 4]], [[5, 6], [7, 8]]]' > "$corpus/seed.json"
                 printf '{"input_0": [[1, 2, 3]], "input_1": [[0.5]]}' > "$corpus/seed-object.json" ;;
        serve_request)
                 printf '{"instances": [[[0.1, 0.2, 0.3], [1, 2, 3], [0, 0, 0], [4e-3, -5, 6], [7, 8, 9]]]}' > "$corpus/rows.json"
                 printf '{"signature_name": "serving_default", "inputs": [[[1, 2, 3], [4, 5, 6]]]}' > "$corpus/columns.json"
                 printf '{"instances": [{"a": [1, 2], "b": [[1, 2, 3]]}, {"a": [3, 4], "b": [[4, 5, 6]]}]}' > "$corpus/named.json"
                 printf '{"inputs": {"tokens": [[1, 2, 3, 4, 5, 6]]}}' > "$corpus/tokens.json"
                 printf '{"inputs": [NaN, Infinity, -Infinity, "\\u00e9\\ud83d\\ude00"]}' > "$corpus/odd.json" ;;
        ndjson)  printf '[[1,2,3,4,5],[1,2,3,4,5],[1,2,3,4,5],[1,2,3,4,5]]\n[1, 2\n\n{"input_layer": [[0.5,1,2,3,4]]}\r\n' > "$corpus/seed.ndjson"
                 printf 'a,b,c,d,e\n1,2,3,4,5\n6,7,8,9,10\n1,"2",3,4,5\n1,x,3,4,5\r\n6,7,8,9,10\n1,2,3,4,5\n' > "$corpus/seed.csv"
                 printf '[[1e3,-2,nan,Infinity,5],[1,2,3,4,5],[1,2,3,4,5],[1,2,3,4,5]]\n' > "$corpus/seed-nonfinite.ndjson" ;;
        onnx)    cp Fuzz/seeds/onnx/*.onnx "$corpus"/ ;;
    esac
    [ "$name" = json ] && cp Fixtures/regressions/*.json "$corpus"/ 2>/dev/null || true
    [ "$name" = hdf5 ] && cp Fixtures/regressions/*.h5 "$corpus"/ 2>/dev/null || true
    return 0
}

run_target() {
    local name=$1
    local corpus=.build/fuzz-corpus/$name artifacts=.build/fuzz-artifacts/$name
    seed "$name"
    mkdir -p "$artifacts"
    local dictionary=()
    [ -f "Fuzz/dictionaries/$name.dict" ] && dictionary=(-dict="Fuzz/dictionaries/$name.dict")
    echo "== fuzzing $name for $seconds s (corpus $corpus, findings in $artifacts)" >&2
    local before
    before=$(ls "$artifacts" | wc -l)
    # Fork mode keeps going after crashes, timeouts and OOMs and saves each input. Leak checks are
    # off (Foundation and ZIPFoundation leak a few bytes per archive opened); a failed huge
    # allocation returns NULL as it does without ASan, for libhdf5 to report.
    # No Swift backtracer: it reads the crashed process's memory and ASan reports that instead.
    SWIFT_BACKTRACE=enable=no ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=0:allocator_may_return_null=1} \
    "$bin/$name" "$corpus" -fork="${JOBS:-1}" -ignore_crashes=1 -ignore_timeouts=1 -ignore_ooms=1 \
        -max_total_time="$seconds" -timeout="${TIMEOUT:-3}" -rss_limit_mb="${RSS_LIMIT_MB:-2048}" \
        -detect_leaks=0 -artifact_prefix="$artifacts/" -print_final_stats=1 "${dictionary[@]}" \
        ${FUZZ_ARGS:-} 2>&1 | tee "$build/$name.log" | grep -E "^#[0-9]+.*(DONE|INITED)|crash|Timeout|out-of-memory|ERROR|SUMMARY|stat::" >&2 || true
    local after
    after=$(ls "$artifacts" | wc -l)
    echo "== $name: $((after - before)) new finding(s); $after in $artifacts; log $build/$name.log" >&2
    [ "$after" -eq "$before" ]
}

case $target in
    build)
        build_library
        for name in "${targets[@]}"; do link_target "$name"; done ;;
    all)
        build_library
        status=0
        for name in "${targets[@]}"; do link_target "$name"; run_target "$name" || status=1; done
        exit $status ;;
    hdf5|keras|json|tensors|serve_request|ndjson|onnx)
        build_library
        link_target "$target"
        run_target "$target" ;;
    *)
        echo "unknown target '$target' (hdf5, keras, json, tensors, serve_request, ndjson, onnx, all, build)" >&2
        exit 2 ;;
esac
