#!/usr/bin/env python3
"""Writes a compilation database (compile_commands.json) to standard output, so clangd and
other tools see each source with the flags its build uses.

Usage: compile-commands.py --group "FLAGS" FILE... [--group "FLAGS" FILE...]...
Each group names the flags of the files after it. Dependency-file flags are dropped: they
only matter to make."""

import json
import os
import shlex
import sys

DROPPED = {"-MMD", "-MP"}


def main(argv: list[str]) -> int:
    directory = os.getcwd()
    entries = []
    flags: list[str] | None = None
    index = 0
    while index < len(argv):
        word = argv[index]
        if word == "--group":
            flags = [flag for flag in shlex.split(argv[index + 1]) if flag not in DROPPED]
            index += 2
            continue
        if flags is None:
            print(f"compile-commands: {word} comes before any --group", file=sys.stderr)
            return 2
        entries.append({
            "directory": directory,
            "file": word,
            "arguments": ["c++", *flags, "-c", word],
        })
        index += 1
    json.dump(entries, sys.stdout, indent=1)
    print()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
