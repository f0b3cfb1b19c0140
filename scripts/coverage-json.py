#!/usr/bin/env python3
"""Turns gcovr's --json-summary into build/coverage.json (docs/testing.md):
{"src": {"lines": PCT, "branches": PCT}, "installer": {...},
 "files": {"src/dispatch.c": {"lines": PCT, "branches": PCT}, ...}}
Percentages with one decimal; a file without branches counts 100."""
import json
import sys


def drop_functions(path):
    """Function records of a native build of the table cannot be merged by
    gcovr 5.2 with the MinGW build's (the test build's allocation hooks move
    functions); lines and branches merge fine, and only they are reported."""
    with open(path) as f:
        data = json.load(f)
    for entry in data["files"]:
        entry["functions"] = []
    with open(path, "w") as f:
        json.dump(data, f)


def pct(covered, total):
    return round(100.0 * covered / total, 1) if total else 100.0


def main(path):
    with open(path) as f:
        summary = json.load(f)
    areas = {}
    files = {}
    for entry in summary["files"]:
        name = entry["filename"]
        area = name.split("/", 1)[0]
        if area not in ("src", "installer"):
            continue
        files[name] = {"lines": pct(entry["line_covered"], entry["line_total"]),
                       "branches": pct(entry["branch_covered"], entry["branch_total"])}
        sums = areas.setdefault(area, [0, 0, 0, 0])
        sums[0] += entry["line_covered"]
        sums[1] += entry["line_total"]
        sums[2] += entry["branch_covered"]
        sums[3] += entry["branch_total"]
    out = {}
    for area in ("src", "installer"):
        lc, lt, bc, bt = areas.get(area, [0, 0, 0, 0])
        out[area] = {"lines": pct(lc, lt), "branches": pct(bc, bt)}
    out["files"] = dict(sorted(files.items()))
    json.dump(out, sys.stdout, indent=1)
    sys.stdout.write("\n")


if __name__ == "__main__":
    if sys.argv[1] == "--drop-functions":
        drop_functions(sys.argv[2])
    else:
        main(sys.argv[1])
