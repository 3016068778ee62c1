#!/bin/sh
# Usage: install_consumer.sh BUILD-DIR SOURCE-DIR
# Installs the build into a temporary prefix, then builds a consumer two ways, with
# find_package(concurio) and with pkg-config, and runs them.
set -eu
build=$1
src=$2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cmake --install "$build" --prefix "$tmp/prefix" >/dev/null
cmake -S "$src/tests/consumer" -B "$tmp/consumer" -DCMAKE_PREFIX_PATH="$tmp/prefix" >/dev/null
cmake --build "$tmp/consumer" >/dev/null
"$tmp/consumer/consumer_shared"
"$tmp/consumer/consumer_static"
pc=$(find "$tmp/prefix" -name concurio.pc)
libdir=$(dirname "$(dirname "$pc")")
# shellcheck disable=SC2046
cc -o "$tmp/pc_consumer" "$src/tests/consumer/main.c" \
    $(PKG_CONFIG_PATH=$(dirname "$pc") pkg-config --cflags --libs concurio)
LD_LIBRARY_PATH=$libdir "$tmp/pc_consumer"
# The tool and its manual page are installed too, and the tool runs from there.
if [ -e "$build/tools/concurio-fetch" ]; then
    "$tmp/prefix/bin/concurio-fetch" --version
    test -s "$tmp/prefix/share/man/man1/concurio-fetch.1"
fi
