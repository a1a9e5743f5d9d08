#!/usr/bin/env python3
"""Fails when a folder of src/ includes a folder the allow-list does not give it.

Usage: check_layers.py SRC_DIR LAYERS_FILE
Prints one line per offending include ("src/api/x.cpp:12: api may not include
daemon/serve.hpp") and exits 1; a folder missing from the list is an error too.
"""
import pathlib
import re
import sys

INCLUDE = re.compile(r'^\s*#\s*include\s+"([a-z_]+)/')


def read_layers(path):
    allowed = {}
    for line in pathlib.Path(path).read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        name, _, deps = line.partition(":")
        allowed[name.strip()] = set(deps.split())
    return allowed


def is_test(path):
    return path.name.endswith("_test.cpp") or "test_support" in path.name


def main(src, layers):
    allowed = read_layers(layers)
    problems = []
    for folder in sorted(p for p in pathlib.Path(src).iterdir() if p.is_dir()):
        if folder.name not in allowed:
            problems.append(f"{folder}: not in {layers}: say what it may include")
            continue
        for path in sorted(folder.rglob("*")):
            if path.suffix not in (".cpp", ".hpp") or is_test(path):
                continue
            for number, line in enumerate(path.read_text(errors="replace").splitlines(), 1):
                match = INCLUDE.match(line)
                if not match:
                    continue
                target = match.group(1)
                if target == folder.name or target in allowed[folder.name]:
                    continue
                if not (pathlib.Path(src) / target).is_dir():
                    continue  # not one of ours (a system header with a slash)
                header = line.split('"')[1]
                problems.append(f"{path}:{number}: {folder.name} may not include {header}")
    for problem in problems:
        print(problem)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], sys.argv[2]))
