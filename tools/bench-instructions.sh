#!/usr/bin/env bash
# Instructions per frame-allocator operation, counted by callgrind (valgrind) on the
# single-threaded driver bench/instruction_counts.cpp. Instruction counts do not care how busy
# the machine is, so they are the figures to compare between two versions of the allocator.
#
#   tools/bench-instructions.sh [DRIVER] [OUTPUT_DIR]
#
# DRIVER defaults to build/bench/instruction_counts; the callgrind dumps (one per measured
# section) and the logs go to OUTPUT_DIR (default build/bench/callgrind). Prints one table:
# a row per shape, a column per allocator and request size, instructions per operation (per
# request; per allocate+free pair for the pairs_* rows).
set -euo pipefail

driver=${1:-build/bench/instruction_counts}
out=${2:-build/bench/callgrind}

command -v valgrind > /dev/null || { echo "bench-instructions: valgrind is not installed" >&2; exit 1; }
rm -rf "$out"
mkdir -p "$out"
if ! valgrind --tool=callgrind --callgrind-out-file="$out/callgrind.out" "$driver" \
        > "$out/driver.log" 2> "$out/valgrind.log"; then
    cat "$out/valgrind.log" "$out/driver.log" >&2
    exit 1
fi
cat "$out/driver.log"

# Every dump names its section "variant/shape/frames:N/ops:M" and carries "totals: <Ir>".
for dump in $(ls "$out"/callgrind.out.* | sort -V); do
    awk '/^desc: Trigger: Client Request: / { name = $5 } /^totals: / { total = $2 }
         END { print name, total }' "$dump"
done | awk '
    {
        split($1, part, "/")
        variant = part[1]; shape = part[2]
        sub("frames:", "", part[3]); sub("ops:", "", part[4])
        column = variant "/" part[3]
        per_op[shape, column] = $2 / part[4]
        if (!(shape in seen_shape)) { seen_shape[shape] = 1; shapes[++shape_count] = shape }
        if (!(column in seen_column)) { seen_column[column] = 1; columns[++column_count] = column }
    }
    END {
        printf "| instructions per op |"
        for (c = 1; c <= column_count; ++c) printf " %s |", columns[c]
        printf "\n|---|"
        for (c = 1; c <= column_count; ++c) printf "---:|"
        printf "\n"
        for (s = 1; s <= shape_count; ++s) {
            printf "| %s |", shapes[s]
            for (c = 1; c <= column_count; ++c) printf " %.0f |", per_op[shapes[s], columns[c]]
            printf "\n"
        }
    }'
