#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# Checks the layers (CONTRIBUTING.md): what each directory may include, that the core
# names no engine, and that no two files of the library or of the tool call each other
# in a circle. The last is read from the built objects (nm), so it sees every call,
# however it is spelled.
#
# Usage: tools/check_layers.sh [BUILD_DIR]    (default: build/default; build it first)
# Exit: 0 clean, 1 a rule broken (each printed), 2 no objects found.
set -eu
cd "$(dirname "$0")/.."
build=${1:-build/default}
bad=0

fail() {
    echo "check_layers: $*" >&2
    bad=1
}

# ---- includes, per layer -------------------------------------------------------------
# Each layer's quoted includes must be in its list; <...> includes of another layer's
# libraries are refused by name.
check_includes() { # dir "allowed quoted headers" "refused <...> patterns"
    dir=$1 allowed=$2 refused=$3
    for f in "$dir"/*.c "$dir"/*.h; do
        [ -e "$f" ] || continue
        grep -n '^[[:space:]]*#[[:space:]]*include[[:space:]]*"' "$f" |
            sed 's/^\([0-9]*\):.*"\(.*\)".*/\1 \2/' | while read -r line h; do
            case " $allowed " in
            *" $h "*) ;;
            *) echo "$f:$line: includes \"$h\", which $dir may not" ;;
            esac
        done
        if [ -n "$refused" ]; then
            grep -nE "^[[:space:]]*#[[:space:]]*include[[:space:]]*<($refused)" "$f" |
                sed "s|^|$f:|; s|\$| (not in $dir)|" || true
        fi
    done
}
core_h=$(cd src/core && ls *.h | tr '\n' ' ')
out=$(
    check_includes src/core "$core_h concurio/concurio.h" 'curl/|hiredis/|event2/dns|event2/http'
    # Engines see the core through its door (core.h) and its pure helpers only.
    check_includes src/http "core.h mem.h list.h adapt.h lanes.h socks.h cookies.h concurio/concurio.h" 'hiredis/'
    check_includes src/adapters "core.h mem.h list.h concurio/concurio.h" 'curl/|hiredis/'
    check_includes src/redis "concurio/redis.h concurio/concurio.h list.h scripts.h" 'curl/'
    tool_h=$(cd tools/concurio-fetch && ls *.h | tr '\n' ' ')
    # hiredis's reply type is part of concurio/redis.h's contract; curl is not the tool's.
    check_includes tools/concurio-fetch "$tool_h" 'curl/'
)
[ -z "$out" ] || fail "includes across layers:
$out"
# The tool includes the library by its public headers only.
out=$(grep -nE '#[[:space:]]*include[[:space:]]*<concurio/' tools/concurio-fetch/*.[ch] |
    grep -vE '<concurio/(concurio|redis)\.h>' || true)
[ -z "$out" ] || fail "the tool includes a private header:
$out"

# ---- the core names no engine ---------------------------------------------------------
out=$(grep -nEi 'curl|evdns|hiredis|redis|lanes|cio__http|cio__thread|cio__dns|cio__timer|pthread' \
    src/core/*.c src/core/*.h || true)
[ -z "$out" ] || fail "the core names an engine:
$out"

# ---- calls in a circle ----------------------------------------------------------------
# An edge "a b" for every object a that uses a symbol object b defines; tsort names the
# files of any loop. One graph for the library (core, engines, Redis), one for the tool.
objs_lib=$(find "$build/CMakeFiles" -path '*concurio_*.dir/src/*' -name '*.c.o' 2>/dev/null | sort)
objs_tool=$(find "$build/tools/CMakeFiles" -path '*.dir/concurio-fetch/*' -name '*.c.o' \
    2>/dev/null | sort -u)
if [ -z "$objs_lib" ] || [ -z "$objs_tool" ]; then
    echo "check_layers: no objects under $build: build it first" >&2
    exit 2
fi

edges() { # objects...
    for o in "$@"; do
        nm --defined-only "$o" | awk -v f="$(basename "$o" .c.o)" '$2 ~ /[TDBR]/ {print $3, f}'
    done | sort -u >"$tmp/defs"
    for o in "$@"; do
        nm -u "$o" | awk -v f="$(basename "$o" .c.o)" '{print $2, f}'
    done | sort -u >"$tmp/uses"
    # symbol user + symbol definer -> "user definer"
    join "$tmp/uses" "$tmp/defs" | awk '$2 != $3 {print $2, $3}' | sort -u
}

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
for part in lib tool; do
    eval "objs=\$objs_$part"
    # Files of the same name in two places (the tool's objects are built twice) count once.
    # shellcheck disable=SC2086
    edges $objs >"$tmp/edges.$part"
    if ! tsort "$tmp/edges.$part" >/dev/null 2>"$tmp/loop"; then
        fail "files of the $part call each other in a circle:
$(grep -v '^tsort: -: input contains a loop:' "$tmp/loop" | sed 's/^tsort: /  /')"
    fi
done
# The core's objects use nothing the engines' objects define.
core_files=$(cd src/core && ls *.c | sed 's/\.c$//' | tr '\n' ' ')
out=$(awk -v core=" $core_files " 'index(core, " " $1 " ") && !index(core, " " $2 " ")' \
    "$tmp/edges.lib")
[ -z "$out" ] || fail "core files call an engine's (file, what it calls into):
$out"
# Nor anything of the engines' libraries: no curl, hiredis or evdns symbol in a core object.
for f in src/core/*.c; do
    o=$(find "$build/CMakeFiles" -path "*concurio_core.dir/src/core/$(basename "$f").o" | head -n 1)
    [ -n "$o" ] || continue
    out=$(nm -u "$o" | awk '{print $2}' | grep -E '^(curl_|redis|evdns_|evhttp_)' || true)
    [ -z "$out" ] || fail "$f uses an engine's library: $out"
done
if [ "$bad" = 0 ]; then
    echo "check_layers: includes follow the layers; the core names no engine;" \
        "no file calls back into one that calls it ($(wc -l <"$tmp/edges.lib") library" \
        "and $(wc -l <"$tmp/edges.tool") tool file dependencies)"
fi
exit "$bad"
