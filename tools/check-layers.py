#!/usr/bin/env python3
"""Prints how often each folder of src/ includes each other folder, and fails when an include
goes against the layers below (a folder may include only folders of a lower layer) or when the
folders' include graph has a cycle. Run by `make test` (target `layers`).

The layers, lowest first; folders on one line are side by side and do not include each other.
Keep this list and the README's "Map of the source" the same."""

import pathlib
import re
import sys

LAYERS = [
    ["lib"],
    ["mm", "shell/input", "gfx"],
    ["heap", "vm"],
    ["acpi", "boot/multiboot2", "arch/x86_64"],
    ["kernel"],
    ["smp"],
    ["shell"],
    ["boot"],
]

INCLUDE = re.compile(r'^\s*#\s*include\s+"([^"]+)"', re.MULTILINE)
SOURCE_SUFFIXES = {".cpp", ".hpp", ".h", ".S"}


def folder_of(path: str, folders: list[str]) -> str | None:
    """The deepest layered folder that holds `path` (a path relative to src/)."""
    best = None
    for folder in folders:
        if path.startswith(folder + "/") and (best is None or len(folder) > len(best)):
            best = folder
    return best


def find_cycle(edges: dict[str, set[str]]) -> list[str] | None:
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    path: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        path.append(node)
        for target in sorted(edges.get(node, ())):
            if state.get(target) == 1:
                return path[path.index(target):] + [target]
            if target not in state:
                cycle = visit(target)
                if cycle:
                    return cycle
        path.pop()
        state[node] = 2
        return None

    for node in sorted(edges):
        if node not in state:
            cycle = visit(node)
            if cycle:
                return cycle
    return None


README_ROW = re.compile(r"^\| `src/([a-z0-9_/]+)/` \| (\d+) \|", re.MULTILINE)


def readme_problems(readme: pathlib.Path, rank: dict[str, int]) -> list[str]:
    """The README's map of the source must list every layered folder at its layer."""
    if not readme.exists():
        return []
    listed = {folder: int(level) for folder, level in README_ROW.findall(readme.read_text())}
    problems = []
    for folder, level in sorted(rank.items()):
        if folder not in listed:
            problems.append(f"{readme}: the map of the source has no row for src/{folder}/")
        elif listed[folder] != level:
            problems.append(f"{readme}: src/{folder}/ is listed at layer {listed[folder]}, "
                            f"but LAYERS puts it at {level}")
    for folder in sorted(set(listed) - set(rank)):
        problems.append(f"{readme}: src/{folder}/ is in the map of the source but in no layer")
    return problems


def main() -> int:
    root = pathlib.Path(sys.argv[1] if len(sys.argv) > 1 else "src")
    rank = {folder: level for level, group in enumerate(LAYERS) for folder in group}
    folders = list(rank)
    counts: dict[tuple[str, str], int] = {}
    problems = []
    for file in sorted(root.rglob("*")):
        if file.suffix not in SOURCE_SUFFIXES:
            continue
        relative = file.relative_to(root).as_posix()
        source = folder_of(relative, folders)
        if source is None:
            problems.append(f"{file}: its folder is in no layer; add it to LAYERS")
            continue
        for target_path in INCLUDE.findall(file.read_text()):
            target = folder_of(target_path, folders)
            if target is None:
                problems.append(f"{file}: includes {target_path}, which is in no layer")
                continue
            if target == source:
                continue
            counts[(source, target)] = counts.get((source, target), 0) + 1
            if rank[target] >= rank[source]:
                problems.append(f"{file}: includes {target_path}: {source} (layer {rank[source]}) "
                                f"may not include {target} (layer {rank[target]})")

    print("folder -> folder: includes")
    for (source, target), count in sorted(counts.items(), key=lambda item: (-rank[item[0][0]], item[0])):
        print(f"  {source:16} -> {target:16} {count:4}")
    edges: dict[str, set[str]] = {}
    for source, target in counts:
        edges.setdefault(source, set()).add(target)
    problems += readme_problems(root.parent / "README.md", rank)
    cycle = find_cycle(edges)
    if cycle:
        problems.append("cycle: " + " -> ".join(cycle))
    for problem in problems:
        print(f"check-layers: {problem}", file=sys.stderr)
    if problems:
        return 1
    print(f"check-layers: {len(counts)} folder-to-folder dependencies, no cycle, none against the layers, and the README's map agrees")
    return 0


if __name__ == "__main__":
    sys.exit(main())
