#!/usr/bin/env bash
# Runs a doctest binary and fails unless it ran at least one test: doctest passes silently when
# a filter matches nothing, and an empty run must never look green.
set -uo pipefail
binary=$1
shift
output=$("$binary" "$@" 2>&1)
status=$?
printf '%s\n' "$output"
[ $status -eq 0 ] || exit $status
count=$(printf '%s\n' "$output" | sed -n 's/^\[doctest\] test cases: *\([0-9]*\).*/\1/p' | tail -1)
if [ -z "$count" ] || [ "$count" -eq 0 ]; then
    echo "run-doctest: $binary ran no test cases" >&2
    exit 1
fi
