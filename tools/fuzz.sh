#!/bin/sh
# Long fuzzing with libFuzzer (clang, ASan + UBSan): tools/fuzz.sh [SECONDS] runs each
# target for SECONDS (default 60) on a copy of its seed corpus. Findings land in
# build/fuzz/findings; the script fails when there is one.
set -eu
cd "$(dirname "$0")/.."
sh tools/deps.sh clang libclang-rt-14-dev
secs=${1:-60}
cmake -S . -B build/fuzz -DCMAKE_C_COMPILER=clang -DCMAKE_BUILD_TYPE=Debug \
    -DCONCURIO_FUZZ=ON -DCONCURIO_SANITIZE=address,undefined -DCONCURIO_BUILD_EXAMPLES=OFF \
    >/dev/null
mkdir -p build/fuzz/findings build/fuzz/corpus
for pair in fuzz_headers:headers fuzz_urllist:urllist fuzz_resume:resume fuzz_options:options \
    fuzz_record:record fuzz_format:format fuzz_names:names \
    fuzz_report:report; do
    target=${pair%%:*}
    corpus=${pair#*:}
    cmake --build build/fuzz -j 2 --target "$target" >/dev/null
    rm -rf "build/fuzz/corpus/$corpus"
    cp -r "tests/fuzz/corpus/$corpus" build/fuzz/corpus/
    status=0
    "build/fuzz/tests/fuzz/$target" -max_total_time="$secs" -artifact_prefix=build/fuzz/findings/ \
        "build/fuzz/corpus/$corpus" >"build/fuzz/$target.log" 2>&1 || status=$?
    tail -n 1 "build/fuzz/$target.log"
    if [ "$status" -ne 0 ]; then
        echo "$target: a finding, see build/fuzz/$target.log and build/fuzz/findings" >&2
        exit 1
    fi
    echo "$target: ${secs} s without a finding"
done
