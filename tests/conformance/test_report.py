#!/usr/bin/env python3
"""report.py on made-up runs: the shape of build/conformance.json, Wine's
output parsed as test.h prints it, and each condition of the gate failing
on its own (ctest: conformance_gate)."""
import json
import os
import subprocess
import sys
import tempfile
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
REPORT = os.path.join(HERE, "report.py")

SOCK_OK = """\
sock.c:3324: Tests skipped: IPX is not supported
sock.c:3571: Test failed: WSAConnectByNameA should have succeeded, error 11001
sock.c:13489: Test failed: got echo sequence 0x1.
0020:sock: {checks} tests executed (410 marked as todo, 0 as flaky, 2 failures), 2 skipped.
"""
PROTOCOL_OK = "0020:protocol: 7011 tests executed (51 marked as todo, 0 as flaky, 0 failures), 4 skipped.\n"


def stats(from_table=3, below=1, bypassed=()):
    return {"calls": {"WSPConnect": 10}, "getpeername_from_table": from_table,
            "getpeername_asked_below": below, "bypasses": len(bypassed),
            "bypassed": list(bypassed), "unknown_handles": 0}


class Runs:
    """A runs directory the way conformance.sh leaves it."""

    def __init__(self, root):
        self.root = root

    def put(self, mode, test, out=None, rc=0, stats_obj=None, err="", note=None, attempt=1):
        d = os.path.join(self.root, "runs", mode)
        os.makedirs(d, exist_ok=True)
        if attempt > 1:
            test = f"{test}.{attempt}"
        if note is not None:
            with open(os.path.join(d, test + ".note"), "w") as f:
                f.write(note + "\n")
        if out is None:
            return
        for ext, text in ((".out", out), (".err", err), (".rc", f"{rc}\n"), (".secs", "60\n")):
            with open(os.path.join(d, test + ext), "w") as f:
                f.write(text)
        if stats_obj is not None:
            with open(os.path.join(d, test + ".stats.json"), "w") as f:
                json.dump(stats_obj, f)

    def all_good(self, checks=2672960):
        for mode in ("direct", "base_only", "peerlsp"):
            routed = mode != "direct"
            self.put(mode, "sock", SOCK_OK.format(checks=checks), rc=2,
                     stats_obj=stats() if routed else None)
            self.put(mode, "protocol", PROTOCOL_OK, stats_obj=stats(0, 0) if routed else None)


class ReportTest(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory()
        self.root = self.tmp.name
        self.runs = Runs(self.root)
        self.known = os.path.join(self.root, "known.txt")
        self.docs = os.path.join(self.root, "testing.md")
        self.races = os.path.join(self.root, "races.txt")
        with open(self.races, "w") as f:
            f.write("# Wine's own\nsock.c:9999 failed in direct runs\n")
        self.write_known({})

    def tearDown(self):
        self.tmp.cleanup()

    def write_known(self, gaps, in_docs=True):
        with open(self.known, "w") as f:
            f.write("# comment\n\n")
            for loc, reason in gaps.items():
                f.write(f"{loc} {reason}\n")
        with open(self.docs, "w") as f:
            f.write("| location | why |\n")
            if in_docs:
                for loc, reason in gaps.items():
                    f.write(f"| `{loc}` | {reason} |\n")

    def run_report(self, *extra):
        out = os.path.join(self.root, "conformance.json")
        return out, subprocess.run(
            [sys.executable, REPORT, "--runs", os.path.join(self.root, "runs"), "--known", self.known,
             "--races", self.races,
             "--docs", self.docs, "--tests", "sock protocol", "--wine-version", "8.0~repack-4",
             "--out", out, *extra], capture_output=True, text=True)

    def report(self):
        out, proc = self.run_report()
        with open(out) as f:
            return proc.returncode, json.load(f), proc.stderr

    def repeats_wanted(self):
        _, proc = self.run_report("--repeat-wanted", "3")
        self.assertEqual(proc.returncode, 0, proc.stderr)
        return proc.stdout.splitlines()

    def assert_gate_fails(self, words):
        rc, doc, err = self.report()
        self.assertEqual(rc, 1, err)
        self.assertFalse(doc["gate"]["passed"])
        self.assertIn(words, " ".join(doc["gate"]["problems"]))
        self.assertIn(words, err)
        return doc

    def test_shape_and_figures(self):
        self.runs.all_good()
        rc, doc, err = self.report()
        self.assertEqual(rc, 0, err)
        self.assertEqual(sorted(doc["runs"]), ["base_only", "direct", "peerlsp"])
        for mode, r in doc["runs"].items():
            for key in ("checks", "failures", "todo", "skipped", "bypasses",
                        "getpeername_from_table", "getpeername_asked_below"):
                self.assertIn(key, r)
            self.assertEqual(r["checks"], 2672960 + 7011)
            self.assertEqual(r["failures"], ["sock.c:3571", "sock.c:13489"])
            self.assertEqual(r["todo"], 461)
            self.assertEqual(r["skipped"], 6)
            self.assertEqual(r["status"], "ok")
        self.assertEqual(doc["runs"]["direct"]["getpeername_from_table"], 0)
        self.assertEqual(doc["runs"]["peerlsp"]["getpeername_from_table"], 3)
        self.assertEqual(doc["runs"]["peerlsp"]["getpeername_asked_below"], 1)
        self.assertEqual(doc["runs"]["peerlsp"]["files"]["sock"]["stats"]["calls"], {"WSPConnect": 10})
        self.assertEqual(doc["differences"]["peerlsp_minus_base_only"], [])
        self.assertTrue(doc["gate"]["passed"])

    def test_todo_success_and_context_count_as_failures(self):
        self.runs.all_good()
        out = ("sock.c:100: Test succeeded inside todo block: got 0\n"
               "sock.c:200:0.5 Test failed: IPv4: family 2: got 1\n"
               "sock.c:300: Test marked flaky: slow\n"
               "0020:sock: 10 tests executed (1 marked as todo, 1 as flaky, 2 failures), 0 skipped.\n")
        self.runs.put("direct", "sock", out, rc=2)
        _, doc, _ = self.report()
        self.assertEqual(doc["runs"]["direct"]["failures"], ["sock.c:100", "sock.c:200"])
        self.assertEqual(doc["runs"]["direct"]["files"]["sock"]["flaky_locations"], ["sock.c:300"])

    def test_failure_only_through_peerlsp(self):
        self.runs.all_good()
        self.runs.put("peerlsp", "sock", SOCK_OK.format(checks=2672960)
                      + "sock.c:4242: Test failed: wrong peer\n", rc=3, stats_obj=stats())
        doc = self.assert_gate_fails("sock.c:4242")
        self.assertEqual(doc["differences"]["peerlsp_minus_base_only"], ["sock.c:4242"])

    def test_bypass(self):
        self.runs.all_good()
        self.runs.put("base_only", "sock", SOCK_OK.format(checks=2672960), rc=2,
                      stats_obj=stats(bypassed=["WSAPoll"]))
        self.assert_gate_fails("base_only: 1 bypasses (WSAPoll)")

    def test_too_few_checks(self):
        self.runs.all_good()
        self.runs.put("peerlsp", "sock", SOCK_OK.format(checks=2600000), rc=2, stats_obj=stats())
        self.assert_gate_fails("under 99%")

    def test_getpeername_never_from_table(self):
        self.runs.all_good()
        self.runs.put("peerlsp", "sock", SOCK_OK.format(checks=2672960), rc=2, stats_obj=stats(0, 5))
        self.assert_gate_fails("from its table 0 times")

    def test_host_gap_listed_or_not(self):
        self.runs.all_good()
        self.runs.put("base_only", "sock", SOCK_OK.format(checks=2672960)
                      + "sock.c:777: Test failed: no WSAPoll\n", rc=3, stats_obj=stats())
        self.runs.put("peerlsp", "sock", SOCK_OK.format(checks=2672960)
                      + "sock.c:777: Test failed: no WSAPoll\n", rc=3, stats_obj=stats())
        self.assert_gate_fails("does not list: sock.c:777")
        self.write_known({"sock.c:777": "WSAPoll is not routed yet"}, in_docs=False)
        self.assert_gate_fails("missing from docs/testing.md: sock.c:777")
        self.write_known({"sock.c:777": "WSAPoll is not routed yet"})
        rc, doc, err = self.report()
        self.assertEqual(rc, 0, err)
        self.assertEqual(doc["differences"]["base_only_minus_direct"], ["sock.c:777"])

    def test_at_most_twenty_gaps(self):
        self.runs.all_good()
        self.write_known({f"sock.c:{n}": "reason" for n in range(1, 22)})
        self.assert_gate_fails("21 known host gaps listed, more than 20")

    def test_runner_not_built(self):
        self.runs.all_good()
        for t in ("sock", "protocol"):
            for m in ("base_only", "peerlsp"):
                os.remove(os.path.join(self.root, "runs", m, t + ".out"))
                self.runs.put(m, t, note="peerlsp-run not built")
        doc = self.assert_gate_fails("peerlsp-run not built")
        self.assertIsNone(doc["differences"]["peerlsp_minus_base_only"])

    def test_unsupported_function_and_crash(self):
        self.runs.all_good()
        self.runs.put("peerlsp", "sock", "sock.c:10: Test failed: x\n", rc=126, stats_obj=stats(),
                      err="peerlsp-run: WSAFoo is not supported\n")
        self.runs.put("direct", "protocol", "protocol.c:2021: Test failed: result == NULL\n", rc=5,
                      err="wine: Unhandled page fault on read access to 0000000000000028\n")
        self.assert_gate_fails("exit code 126: peerlsp-run: WSAFoo is not supported")
        self.assert_gate_fails("Unhandled page fault")

    def test_incomplete_baseline_run_repeated(self):
        """A run without peerlsp that ends with no summary line says nothing
        about peerlsp (seen once: protocol through --base-only, exit code 1,
        no output): it is run again, and the attempt stays on record. A
        peerlsp run that does not finish is never repeated away."""
        self.runs.all_good()
        self.runs.put("base_only", "protocol", "", rc=1)
        self.assertEqual(self.repeats_wanted(), ["base_only protocol"])
        self.assert_gate_fails("base_only run: protocol: incomplete: exit code 1, no summary line")
        self.runs.put("base_only", "protocol", PROTOCOL_OK, stats_obj=stats(0, 0), attempt=2)
        self.assertEqual(self.repeats_wanted(), [])
        rc, doc, err = self.report()
        self.assertEqual(rc, 0, err)
        f = doc["runs"]["base_only"]["files"]["protocol"]
        self.assertEqual(f["attempts"], 2)
        self.assertEqual(f["checks"], 7011)
        self.assertEqual(len(f["incomplete_attempts"]), 1)
        self.assertIn("exit code 1, no summary line", f["incomplete_attempts"][0])
        self.assertIn("base_only protocol: a run that did not finish, repeated",
                      " ".join(doc["gate"]["notes"]))
        # The same through peerlsp: no repeat, the gate fails.
        self.runs.put("peerlsp", "protocol", "", rc=1)
        self.assertEqual(self.repeats_wanted(), [])
        self.assert_gate_fails("peerlsp run: protocol: incomplete: exit code 1")

    def test_program_not_started_repeated(self):
        """peerlsp-run could not start the program (exit code 125, seen
        once: CreateProcess failing with ERROR_INTERNAL_ERROR): peerlsp.dll
        never ran, so the run is repeated in any mode, and kept on record."""
        self.runs.all_good()
        self.runs.put("peerlsp", "sock", "", rc=125,
                      err="peerlsp-run: starting the program failed (error 1359)\n")
        self.assertEqual(self.repeats_wanted(), ["peerlsp sock"])
        self.assert_gate_fails("exit code 125: peerlsp-run: starting the program failed")
        self.runs.put("peerlsp", "sock", SOCK_OK.format(checks=2672960), rc=2,
                      stats_obj=stats(), attempt=2)
        self.assertEqual(self.repeats_wanted(), [])
        rc, doc, err = self.report()
        self.assertEqual(rc, 0, err)
        self.assertEqual(doc["runs"]["peerlsp"]["files"]["sock"]["attempts"], 2)
        self.assertIn("peerlsp sock: a run that did not finish, repeated",
                      " ".join(doc["gate"]["notes"]))

    def test_race_repeated_and_not_counted(self):
        """A failure only one run has is run again; it counts only if it
        fails in every run of that mode."""
        self.runs.all_good()
        racy = SOCK_OK.format(checks=2672960) + "sock.c:6867: Test failed: event series matches\n"
        self.runs.put("peerlsp", "sock", racy, rc=3, stats_obj=stats())
        self.assertEqual(self.repeats_wanted(), ["peerlsp sock"])
        self.runs.put("peerlsp", "sock", SOCK_OK.format(checks=2672960), rc=2, stats_obj=stats(), attempt=2)
        self.assertEqual(self.repeats_wanted(), [])
        rc, doc, err = self.report()
        self.assertEqual(rc, 0, err)
        r = doc["runs"]["peerlsp"]
        self.assertEqual(r["failures"], ["sock.c:3571", "sock.c:13489"])
        self.assertEqual(r["failures_seen"], ["sock.c:3571", "sock.c:6867", "sock.c:13489"])
        self.assertEqual(r["files"]["sock"]["attempts"], 2)

    def test_failure_in_every_run_counts(self):
        self.runs.all_good()
        bad = SOCK_OK.format(checks=2672960) + "sock.c:4242: Test failed: wrong peer\n"
        for attempt in (1, 2, 3):
            self.runs.put("peerlsp", "sock", bad, rc=3, stats_obj=stats(), attempt=attempt)
            self.assertEqual(self.repeats_wanted(), ["peerlsp sock"] if attempt < 3 else [])
        doc = self.assert_gate_fails("sock.c:4242")
        self.assertEqual(doc["runs"]["peerlsp"]["files"]["sock"]["attempt_failures"][2],
                         ["sock.c:3571", "sock.c:4242", "sock.c:13489"])

    def test_base_only_repeated_first(self):
        """base_only is settled before peerlsp is compared with it."""
        self.runs.all_good()
        extra = SOCK_OK.format(checks=2672960) + "sock.c:6857: Test failed: x\n"
        self.runs.put("base_only", "sock", extra, rc=3, stats_obj=stats())
        self.runs.put("peerlsp", "sock", extra.replace("6857", "6867"), rc=3, stats_obj=stats())
        self.assertEqual(self.repeats_wanted(), ["base_only sock"])
        self.write_known({"sock.c:6857": "listed"})
        self.assertEqual(self.repeats_wanted(), ["peerlsp sock"])

    def test_wine_race_not_counted(self):
        """A listed race of Wine's own suite is neither repeated nor held
        against a routed run; an unlisted one still is."""
        with open(self.races, "w") as f:
            f.write("sock.c:6857 failed in direct runs\n")
        self.runs.all_good()
        racy = SOCK_OK.format(checks=2672960) + "sock.c:6857: Test failed: expected timeout\n"
        self.runs.put("base_only", "sock", racy, rc=3, stats_obj=stats())
        self.runs.put("peerlsp", "sock", racy, rc=3, stats_obj=stats())
        self.assertEqual(self.repeats_wanted(), [])
        rc, doc, err = self.report()
        self.assertEqual(rc, 0, err)
        self.assertEqual(doc["differences"]["base_only_minus_direct"], ["sock.c:6857"])
        self.assertIn("races that failed (not counted): sock.c:6857", " ".join(doc["gate"]["notes"]))
        with open(self.races, "w") as f:
            f.write("sock.c:6867 another one\n")
        self.assertEqual(self.repeats_wanted(), ["base_only sock"])
        self.assert_gate_fails("does not list: sock.c:6857")

    def test_missing_stats(self):
        self.runs.all_good()
        os.remove(os.path.join(self.root, "runs", "peerlsp", "sock.stats.json"))
        self.assert_gate_fails("no stats file")


if __name__ == "__main__":
    unittest.main()
