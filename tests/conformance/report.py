#!/usr/bin/env python3
"""Reads the conformance runs (build/conformance/runs/MODE/TEST.*), writes
build/conformance.json and applies the gate of docs/testing.md.

Each run directory holds, per test file: TEST.out (Wine's test output),
TEST.err, TEST.rc (exit code), TEST.secs, TEST.stats.json (peerlsp-run
--stats, routed runs only) and TEST.note (why a run did not happen or was
stopped). Exit status 0 when the gate passes, 1 when it does not.
"""
import argparse
import json
import os
import re
import sys

MODES = ("direct", "base_only", "peerlsp")
ROUTED = ("base_only", "peerlsp")
# The runs without peerlsp: the baselines peerlsp is compared with.
BASELINES = ("direct", "base_only")
MAX_KNOWN_GAPS = 20
MIN_CHECK_RATIO = 0.99

# Wine's include/wine/test.h: "file.c:LINE:ELAPSED Test failed: ..." (ELAPSED
# is empty unless WINETEST_TIME is set). A success inside a todo block counts
# as a failure too: the exit status of the test adds both.
FAILURE_RE = re.compile(r"^(\w+\.c):(\d+):\S* (Test failed|Test succeeded inside todo block): ")
FLAKY_RE = re.compile(r"^(\w+\.c):(\d+):\S* (Test marked flaky|Test succeeded inside flaky todo block): ")
SUMMARY_RE = re.compile(
    r"^[0-9a-f]+:(\w+):\S* (\d+) tests executed \((\d+) marked as todo, (\d+) as flaky, "
    r"(\d+) failures?\), (\d+) skipped\.")
LOCATION_RE = re.compile(r"^(\w+\.c):(\d+):")


def read_text(path):
    try:
        with open(path, encoding="utf-8", errors="replace") as f:
            return f.read()
    except FileNotFoundError:
        return None


def parse_output(text):
    """Wine's test output -> figures of one test file."""
    failures, flaky = set(), set()
    summary = None
    last_location = None
    for line in text.splitlines():
        m = FAILURE_RE.match(line)
        if m:
            failures.add(f"{m.group(1)}:{m.group(2)}")
        m = FLAKY_RE.match(line)
        if m:
            flaky.add(f"{m.group(1)}:{m.group(2)}")
        m = SUMMARY_RE.match(line)
        if m:
            summary = m
        m = LOCATION_RE.match(line)
        if m:
            last_location = f"{m.group(1)}:{m.group(2)}"
    figures = {"failures": failures, "flaky_locations": sorted(flaky), "last_location": last_location}
    if summary:
        figures.update(checks=int(summary.group(2)), todo=int(summary.group(3)),
                       flaky=int(summary.group(4)), failure_count=int(summary.group(5)),
                       skipped=int(summary.group(6)), finished=True)
    else:
        figures.update(checks=0, todo=0, flaky=0, failure_count=len(failures), skipped=0, finished=False)
    return figures


def attempt_stem(run_dir, mode, test, attempt):
    name = test if attempt == 1 else f"{test}.{attempt}"
    return os.path.join(run_dir, mode, name)


def read_attempt(run_dir, test, mode, attempt):
    """One run of one test file in one mode -> its figures, with a status."""
    base = attempt_stem(run_dir, mode, test, attempt)
    note = read_text(base + ".note")
    text = read_text(base + ".out")
    result = {"status": "ok", "checks": 0, "failures": set(), "todo": 0, "skipped": 0,
              "bypasses": 0, "getpeername_from_table": 0, "getpeername_asked_below": 0}
    if text is None:
        result["status"] = "not run: " + (note.strip() if note else "no output")
        return result
    figures = parse_output(text)
    result.update(figures)
    rc = read_text(base + ".rc")
    result["exit_code"] = int(rc) if rc and rc.strip().lstrip("-").isdigit() else None
    secs = read_text(base + ".secs")
    result["seconds"] = int(secs) if secs and secs.strip().isdigit() else None
    err = read_text(base + ".err") or ""
    # What peerlsp-run itself said (unsupported functions, launch failures).
    runner_lines = [l for l in err.splitlines() if "peerlsp" in l.lower()]
    if runner_lines:
        result["runner_messages"] = runner_lines[:20]
    if figures["failure_count"] and not figures["failures"]:
        note = (note or "") + "summary counts failures but no failure line was understood"
    if note:
        result["status"] = note.strip()
    elif not figures["finished"]:
        # peerlsp-run: 126 after a routed function it does not support, 125
        # when it could not start the program; it says which on stderr.
        crash = [l for l in err.splitlines() if "nhandled" in l]
        if mode in ROUTED and result["exit_code"] in (125, 126) and runner_lines:
            why = f"exit code {result['exit_code']}: {runner_lines[-1]}"
        elif crash:
            why = crash[0]
        else:
            why = f"exit code {result['exit_code']}, no summary line"
        result["status"] = f"incomplete: {why} (last output at {figures['last_location']})"
    if mode in ROUTED:
        stats_text = read_text(base + ".stats.json")
        if stats_text is None:
            if result["status"] == "ok":
                result["status"] = "no stats file from peerlsp-run"
        else:
            try:
                stats = json.loads(stats_text)
            except json.JSONDecodeError as e:
                stats = None
                if result["status"] == "ok":
                    result["status"] = f"stats file is not JSON: {e}"
            if stats is not None:
                for key in ("bypasses", "getpeername_from_table", "getpeername_asked_below"):
                    result[key] = int(stats.get(key, 0))
                result["stats"] = stats
    return result


def not_finished_by_chance(mode, status):
    """An attempt that may be run again and then set aside: a baseline run
    (no peerlsp in it) that did not finish, or a routed one whose program
    peerlsp-run could not start (exit code 125: peerlsp.dll never ran)."""
    if not status.startswith("incomplete"):
        return False
    return mode in BASELINES or status.startswith("incomplete: exit code 125:")


def read_file_run(run_dir, test, mode):
    """Every run of one test file in one mode. A run is repeated (TEST.2.*,
    TEST.3.*) when it failed a check that the gate would hold against it;
    "failures" are then the locations that failed in every run
    (confirmed), "failures_seen" those that failed in any. A baseline run
    (no peerlsp in it) that did not finish is repeated too, and so is a run
    whose program peerlsp-run could not start: once one of its attempts
    finished, those are listed in "incomplete_attempts" and no longer hold
    the gate."""
    attempts = [read_attempt(run_dir, test, mode, 1)]
    while True:
        n = len(attempts) + 1
        stem = attempt_stem(run_dir, mode, test, n)
        if not (os.path.exists(stem + ".out") or os.path.exists(stem + ".note")):
            break
        attempts.append(read_attempt(run_dir, test, mode, n))
    incomplete = []
    if any(a["status"] == "ok" for a in attempts):
        incomplete = [f"attempt {i + 1}: {a['status']}" for i, a in enumerate(attempts)
                      if not_finished_by_chance(mode, a["status"])]
        attempts = [a for a in attempts if not not_finished_by_chance(mode, a["status"])]
    result = dict(attempts[0])
    if incomplete:
        result["incomplete_attempts"] = incomplete
    finished = [a for a in attempts if a["status"] == "ok"] or attempts[:1]
    result["failures"] = set.intersection(*(a["failures"] for a in finished))
    result["failures_seen"] = set.union(*(a["failures"] for a in attempts))
    result["attempts"] = len(attempts) + len(incomplete)
    if len(attempts) > 1:
        result["attempt_failures"] = [sort_locations(a["failures"]) for a in attempts]
        result["seconds"] = sum(a.get("seconds") or 0 for a in attempts)
        for a in attempts:
            if a["status"] != "ok" and result["status"] == "ok":
                result["status"] = f"repeat {attempts.index(a) + 1}: {a['status']}"
    return result


def merge_runs(files):
    """Per-file figures of one mode -> the run's R."""
    run = {"checks": 0, "failures": set(), "todo": 0, "skipped": 0, "bypasses": 0,
           "getpeername_from_table": 0, "getpeername_asked_below": 0, "failures_seen": set()}
    statuses = []
    seconds = 0
    for test, f in files.items():
        for key in ("checks", "todo", "skipped", "bypasses", "getpeername_from_table",
                    "getpeername_asked_below"):
            run[key] += f[key]
        run["failures"] |= f["failures"]
        run["failures_seen"] |= f["failures_seen"]
        seconds += f.get("seconds") or 0
        if f["status"] != "ok":
            statuses.append(f"{test}: {f['status']}")
    run["status"] = "ok" if not statuses else "; ".join(statuses)
    run["seconds"] = seconds
    run["files"] = {}
    for test, f in files.items():
        per_file = {k: v for k, v in f.items() if k not in ("failures", "failures_seen")}
        per_file["failures"] = sort_locations(f["failures"])
        per_file["failures_seen"] = sort_locations(f["failures_seen"])
        run["files"][test] = per_file
    return run


def sort_locations(locations):
    def key(loc):
        name, _, line = loc.partition(":")
        return (name, int(line) if line.isdigit() else 0)
    return sorted(locations, key=key)


FUNCTION_RE = re.compile(r"^(?:static\s+)?(?:[A-Za-z_][\w]*[\s\*]+)+\**([A-Za-z_]\w*)\s*\([^;]*$")


def describe_locations(locations, source_dir):
    """file.c:LINE -> the function it is in and the text of that line, read
    from the very copies that were built (line numbers are Wine's)."""
    sources, described = {}, {}
    for loc in sort_locations(locations):
        name, _, line = loc.partition(":")
        if name not in sources:
            text = read_text(os.path.join(source_dir, name)) if source_dir else None
            sources[name] = text.splitlines() if text else None
        lines = sources[name]
        if not lines or not line.isdigit() or int(line) > len(lines):
            continue
        index = int(line) - 1
        function = None
        for i in range(index, -1, -1):
            m = FUNCTION_RE.match(lines[i])
            if m and not lines[i].startswith(("return", "else", "typedef")):
                function = m.group(1)
                break
        described[loc] = {"function": function, "source": lines[index].strip()}
    return described


def read_known_gaps(path):
    """known-host-gaps.txt: 'file.c:LINE reason' a line, '#' comments."""
    gaps = {}
    with open(path, encoding="utf-8") as f:
        for number, line in enumerate(f, 1):
            line = line.strip()
            if not line or line.startswith("#"):
                continue
            location, _, reason = line.partition(" ")
            if not re.fullmatch(r"\w+\.c:\d+", location) or not reason.strip():
                raise SystemExit(f"{path}:{number}: expected 'file.c:LINE reason', got {line!r}")
            gaps[location] = reason.strip()
    return gaps


def gate(runs, known, docs_text, races):
    """The conditions of docs/testing.md; returns (problems, notes). A
    location of `races` (Wine's own races, seen failing in direct runs) is
    never held against a routed run."""
    problems, notes = [], []
    for mode in MODES:
        if runs[mode]["status"] != "ok":
            problems.append(f"{mode} run: {runs[mode]['status']}")
    direct, base, lsp = runs["direct"], runs["base_only"], runs["peerlsp"]
    extra = lsp["failures"] - base["failures_seen"] - set(races)
    if extra:
        problems.append("through peerlsp, failures the base_only run does not have: "
                        + ", ".join(sort_locations(extra)))
    for mode in ROUTED:
        if runs[mode]["bypasses"]:
            bypassed = sorted({name for f in runs[mode]["files"].values()
                               for name in f.get("stats", {}).get("bypassed", [])})
            problems.append(f"{mode}: {runs[mode]['bypasses']} bypasses ({', '.join(bypassed)})")
    if direct["checks"] and lsp["checks"] < MIN_CHECK_RATIO * direct["checks"]:
        problems.append(f"peerlsp ran {lsp['checks']} checks, under {MIN_CHECK_RATIO:.0%} "
                        f"of direct's {direct['checks']}")
    if lsp["getpeername_from_table"] <= 0:
        problems.append("peerlsp answered getpeername from its table 0 times")
    if len(known) > MAX_KNOWN_GAPS:
        problems.append(f"{len(known)} known host gaps listed, more than {MAX_KNOWN_GAPS}")
    host_gaps = base["failures"] - direct["failures_seen"] - set(races)
    unlisted = host_gaps - set(known)
    if unlisted:
        problems.append("base_only failures that direct does not have and "
                        "tests/conformance/known-host-gaps.txt does not list: "
                        + ", ".join(sort_locations(unlisted)))
    undocumented = [loc for loc in known if loc not in docs_text]
    if undocumented:
        problems.append("known host gaps missing from docs/testing.md: " + ", ".join(undocumented))
    stale = set(known) - host_gaps
    if stale and base["status"] == "ok" and direct["status"] == "ok":
        notes.append("listed host gaps that did not show this time (fixed, or timing): "
                     + ", ".join(sort_locations(stale)))
    for mode in MODES:
        for test, f in runs[mode]["files"].items():
            if f.get("incomplete_attempts"):
                notes.append(f"{mode} {test}: a run that did not finish, repeated: "
                             + "; ".join(f["incomplete_attempts"]))
    for mode in ROUTED:
        seen = runs[mode]["failures"] & set(races)
        if seen:
            notes.append(f"{mode}: Wine's own races that failed (not counted): "
                         + ", ".join(sort_locations(seen)))
    return problems, notes


def repeats_wanted(run_dir, tests, known, races, max_attempts):
    """Runs whose failures the gate would hold against them: a base_only
    failure that direct never had and that is not a listed host gap, a
    peerlsp failure that base_only never had. Wine's suite has races of its
    own (direct runs differ from each other by a location or two); such a
    failure is only counted if it happens again. And baseline runs (no
    peerlsp in them) that did not finish."""
    wanted = []
    for t in tests:
        f = {mode: read_file_run(run_dir, t, mode) for mode in MODES}
        unfinished = [m for m in MODES if not_finished_by_chance(m, f[m]["status"])
                      and f[m]["attempts"] < max_attempts]
        if unfinished:
            wanted += [f"{m} {t}" for m in unfinished]
            continue
        if any(f[m]["status"] != "ok" for m in MODES):
            continue
        if f["base_only"]["attempts"] < max_attempts and \
                (f["base_only"]["failures"] - f["direct"]["failures_seen"]) - set(known) - set(races):
            wanted.append(f"base_only {t}")
        elif f["peerlsp"]["attempts"] < max_attempts and \
                f["peerlsp"]["failures"] - f["base_only"]["failures_seen"] - set(races):
            wanted.append(f"peerlsp {t}")
    return wanted


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", required=True)
    parser.add_argument("--known", required=True)
    parser.add_argument("--races", help="Wine's own races: 'file.c:LINE evidence' a line")
    parser.add_argument("--docs", required=True)
    parser.add_argument("--tests", required=True, help="test files, space-separated")
    parser.add_argument("--wine-version", required=True)
    parser.add_argument("--out", required=True)
    parser.add_argument("--source-dir", help="the built copies of the test files")
    parser.add_argument("--repeat-wanted", type=int, metavar="MAX",
                        help="only print 'MODE TEST' for each run to repeat (at most MAX runs each)")
    args = parser.parse_args()

    tests = args.tests.split()
    known = read_known_gaps(args.known)
    races = read_known_gaps(args.races) if args.races else {}
    if args.repeat_wanted:
        for line in repeats_wanted(args.runs, tests, known, races, args.repeat_wanted):
            print(line)
        return 0
    runs = {mode: merge_runs({t: read_file_run(args.runs, t, mode) for t in tests}) for mode in MODES}
    docs_text = read_text(args.docs) or ""
    problems, notes = gate(runs, known, docs_text, races)

    def diff(a, b):
        """Confirmed failures of run a that never failed in run b; None
        unless both finished."""
        if runs[a]["status"] != "ok" or runs[b]["status"] != "ok":
            return None
        return sort_locations(runs[a]["failures"] - runs[b]["failures_seen"])

    document = {
        "runs": {},
        "differences": {
            "base_only_minus_direct": diff("base_only", "direct"),
            "peerlsp_minus_base_only": diff("peerlsp", "base_only"),
            "direct_minus_base_only": diff("direct", "base_only"),
            "base_only_minus_peerlsp": diff("base_only", "peerlsp"),
        },
        "known_host_gaps": known,
        "wine_races": races,
        "locations": describe_locations(
            set().union(*(runs[m]["failures_seen"] for m in MODES)) | set(known), args.source_dir),
        "wine_source": f"wine {args.wine_version} (Debian source package)",
        "tests": tests,
        "gate": {"passed": not problems, "problems": problems, "notes": notes},
    }
    for mode in MODES:
        run = dict(runs[mode])
        run["failures"] = sort_locations(run["failures"])
        run["failures_seen"] = sort_locations(run["failures_seen"])
        document["runs"][mode] = run
    os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
    with open(args.out, "w", encoding="utf-8") as f:
        json.dump(document, f, indent=2)
        f.write("\n")

    for mode in MODES:
        r = runs[mode]
        print(f"conformance: {mode:9} checks {r['checks']:>8}  failures {len(r['failures']):>3}  "
              f"todo {r['todo']:>4}  skipped {r['skipped']:>2}  bypasses {r['bypasses']}  "
              f"getpeername table/below {r['getpeername_from_table']}/{r['getpeername_asked_below']}  "
              f"{r['seconds']} s  [{r['status']}]")
    for name, locations in document["differences"].items():
        for loc in locations or []:
            where = document["locations"].get(loc, {})
            print(f"conformance: {name}: {loc} in {where.get('function')}: {where.get('source')}")
    for note in notes:
        print(f"conformance: note: {note}")
    print(f"conformance: wrote {args.out}")
    if problems:
        for p in problems:
            print(f"conformance: FAILED: {p}", file=sys.stderr)
        return 1
    print("conformance: gate passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
