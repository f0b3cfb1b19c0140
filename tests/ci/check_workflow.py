#!/usr/bin/env python3
"""Checks a GitHub Actions workflow of this project without running it.

The Windows job (.github/workflows/windows.yml) cannot run here, so `make
test` checks what can be checked: the file parses as YAML (Debian's
python3-yaml), and everything its `run:` steps name exists in the tree -
repository paths, CMake presets, make targets, ctest test names - as do the
presets the scripts it runs ask for, the artifacts it downloads and the
programs its ws2_32 suite runs.

    check_workflow.py [--root DIR] WORKFLOW

Exit 0 when all is well; 1 with one line per problem otherwise.
"""
import argparse
import glob
import json
import os
import re
import shlex
import sys

import yaml

# Top-level directories of the tree whose paths a run: step may name.
TREE_DIRS = ("scripts", "tests", "cmake", "installer", "src", "docs", "include", ".github")
PATH_RE = re.compile(r"(?<![\w./$-])((?:%s)/[\w./*-]+)" % "|".join(re.escape(d) for d in TREE_DIRS))
PRESET_RE = re.compile(r"--preset(?:=|\s+)[\"']?([\w$.{}-]+)")
# make as a command: at the start of a line or after ; && || | (
MAKE_RE = re.compile(r"(?:^|[;&|(])[ \t]*make((?:[ \t]+[\w.-]+)*)", re.M)
CTEST_R_RE = re.compile(r"ctest\b[^\n]*?\s-R\s+[\"']?\^?([\w]+)\$?")


def load_presets(root):
    with open(os.path.join(root, "CMakePresets.json")) as f:
        data = json.load(f)
    names = set()
    for kind in ("configurePresets", "buildPresets", "testPresets"):
        names.update(p["name"] for p in data.get(kind, []))
    return names


def make_targets(root):
    targets = set()
    with open(os.path.join(root, "Makefile")) as f:
        for line in f:
            m = re.match(r"^([\w.-]+(?:\s+[\w.-]+)*)\s*:(?!=)", line)
            if m and not line.startswith("\t"):
                targets.update(m.group(1).split())
    return targets


def ctest_names(root):
    names = set()
    for path in glob.glob(os.path.join(root, "tests", "**", "CMakeLists.txt"), recursive=True):
        text = open(path).read()
        names.update(re.findall(r"peerlsp_(?:e2e|add)_test\((\w+)", text))
        names.update(re.findall(r"add_test\(NAME\s+(\w+)", text))
    for program in ws2_programs(root):
        names.add(program + "_ws2_32")
    return names


def e2e_programs(root):
    text = open(os.path.join(root, "tests", "e2e", "CMakeLists.txt")).read()
    return set(re.findall(r"peerlsp_e2e_test\((\w+)", text))


def ws2_programs(root):
    path = os.path.join(root, "tests", "e2e", "ws2_32-programs.txt")
    with open(path) as f:
        return [l.strip() for l in f if l.strip() and not l.startswith("#")]


def script_invocations(run):
    """(script path, first argument) for each line that runs a tree script."""
    for line in run.splitlines():
        try:
            words = shlex.split(line, comments=True)
        except ValueError:
            continue
        for i, w in enumerate(words):
            if w.startswith("scripts/") and w.endswith(".sh"):
                yield w, words[i + 1] if i + 1 < len(words) else None


def check(root, workflow):
    problems = []
    try:
        with open(workflow) as f:
            doc = yaml.safe_load(f)
    except (OSError, yaml.YAMLError) as e:
        return ["%s: does not parse: %s" % (workflow, e)]
    if not isinstance(doc, dict) or not isinstance(doc.get("jobs"), dict) or not doc["jobs"]:
        return ["%s: no jobs" % workflow]
    if "on" not in doc and True not in doc:  # YAML 1.1 reads a bare `on` as True
        problems.append("%s: no `on:` trigger" % workflow)

    presets = load_presets(root)
    targets = make_targets(root)
    tests = ctest_names(root)
    uploaded, downloads = set(), []

    for job_name, job in doc["jobs"].items():
        if not isinstance(job, dict) or "runs-on" not in job or not isinstance(job.get("steps"), list):
            problems.append("job %s: needs runs-on and steps" % job_name)
            continue
        for need in ([job["needs"]] if isinstance(job.get("needs"), str) else job.get("needs", [])):
            if need not in doc["jobs"]:
                problems.append("job %s: needs unknown job %s" % (job_name, need))
        for n, step in enumerate(job["steps"], 1):
            where = "job %s, step %d (%s)" % (job_name, n, step.get("name") or step.get("uses") or "run")
            if not isinstance(step, dict) or ("run" in step) == ("uses" in step):
                problems.append("%s: a step has exactly one of run/uses" % where)
                continue
            uses = step.get("uses", "")
            if uses.startswith("actions/upload-artifact"):
                uploaded.add(step.get("with", {}).get("name"))
            if uses.startswith("actions/download-artifact"):
                downloads.append((where, step.get("with", {}).get("name")))
            run = step.get("run")
            if not isinstance(run, str):
                continue
            for path in PATH_RE.findall(run):
                if not glob.glob(os.path.join(root, path)):
                    problems.append("%s: names %s, which is not in the tree" % (where, path))
            for preset in PRESET_RE.findall(run):
                if preset not in presets:
                    problems.append("%s: names preset %s, not in CMakePresets.json" % (where, preset))
            for m in MAKE_RE.finditer(run):
                for target in m.group(1).split():
                    if target.startswith("-") or "=" in target:
                        continue
                    if target not in targets:
                        problems.append("%s: names make target %s, not in the Makefile" % (where, target))
            for name in CTEST_R_RE.findall(run):
                if name not in tests:
                    problems.append("%s: names ctest test %s, not registered" % (where, name))
            # Presets the scripts ask for, with their first argument put in.
            for script, arg in script_invocations(run):
                path = os.path.join(root, script)
                if not os.path.isfile(path):
                    continue  # reported above
                if not os.access(path, os.X_OK):
                    problems.append("%s: %s is not executable" % (where, script))
                text = open(path).read()
                for preset in PRESET_RE.findall(text):
                    if arg is not None:
                        preset = re.sub(r"\$\{?(?:arch|1)\}?", arg, preset)
                    if "$" not in preset and preset not in presets:
                        problems.append("%s: %s asks for preset %s, not in CMakePresets.json"
                                        % (where, script, preset))
    for where, name in downloads:
        if name not in uploaded:
            problems.append("%s: downloads artifact %s, which no job uploads" % (where, name))
    known = e2e_programs(root)
    for program in ws2_programs(root):
        if program not in known:
            problems.append("tests/e2e/ws2_32-programs.txt: %s is not an end-to-end program" % program)
    return problems


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--root", default=os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
    ap.add_argument("workflow")
    args = ap.parse_args()
    problems = check(os.path.abspath(args.root), args.workflow)
    for p in problems:
        print("check_workflow: " + p)
    if problems:
        return 1
    print("check_workflow: %s: parses; every path, preset, target and test it names exists" % args.workflow)
    return 0


if __name__ == "__main__":
    sys.exit(main())
