#!/bin/sh
# Long fuzzing with libFuzzer (clang, ASan + UBSan): tools/fuzz.sh [SECONDS] (default 60)
# for each target, on a copy of its seed corpus. Findings land in build/fuzz/findings.
set -eu
cd "$(dirname "$0")/.."
sh tools/deps.sh clang libclang-rt-14-dev
secs=${1:-60}
cmake -S . -B build/fuzz -DCMAKE_C_COMPILER=clang -DCMAKE_BUILD_TYPE=Debug \
    -DCONCURIO_FUZZ=ON -DCONCURIO_SANITIZE=address,undefined -DCONCURIO_BUILD_EXAMPLES=OFF \
    >/dev/null
cmake --build build/fuzz -j 2 --target fuzz_headers >/dev/null
mkdir -p build/fuzz/findings build/fuzz/corpus
cp -r tests/fuzz/corpus/headers build/fuzz/corpus/
status=0
build/fuzz/tests/fuzz/fuzz_headers -max_total_time="$secs" -artifact_prefix=build/fuzz/findings/ \
    build/fuzz/corpus/headers >build/fuzz/fuzz_headers.log 2>&1 || status=$?
tail -n 3 build/fuzz/fuzz_headers.log
if [ "$status" -ne 0 ]; then
    echo "fuzz_headers: a finding, see build/fuzz/fuzz_headers.log and build/fuzz/findings" >&2
    exit 1
fi
echo "fuzz_headers: ${secs} s without a finding"
