#!/usr/bin/env python3
"""Writes tests/integration_shards.txt: the integration test suites split into shards of about
equal measured time (the longest suite first into the shard with the least so far).

Usage: scripts/balance-shards.py [--shards N] RESULT.json [RESULT.json ...]
Each RESULT.json is a gtest --gtest_output=json file of integration_tests (a whole run, or the
shards of one run); a suite's time is the sum of its tests' times, each test's the largest
over the files given. Measure on a machine as loaded as CI (three shards side by side) and
regenerate when suites grow.

tests/CMakeLists.txt turns the file into one --gtest_filter per ctest shard; the last shard
runs every suite that no other shard lists, so a suite added later still runs (there) until
the file is regenerated. The last shard is therefore the one with the least measured time.
"""
import argparse
import json
import os
import sys


def suite_times(paths):
    # A test's time is its largest over the files (several runs); a suite's, the sum of its
    # tests' (gtest's own sharding spreads a suite's tests over the shards' files).
    tests = {}
    for path in paths:
        with open(path) as f:
            doc = json.load(f)
        for suite in doc.get("testsuites", []):
            for test in suite.get("testsuite", []):
                key = (suite["name"], test["name"])
                seconds = float(str(test.get("time", "0s")).rstrip("s") or 0)
                tests[key] = max(tests.get(key, 0.0), seconds)
    times = {}
    for (suite, _), seconds in tests.items():
        times[suite] = times.get(suite, 0.0) + seconds
    return times


def pack(times, shards):
    loads = [0.0] * shards
    members = [[] for _ in range(shards)]
    for name, t in sorted(times.items(), key=lambda kv: (-kv[1], kv[0])):
        i = min(range(shards), key=lambda k: loads[k])
        loads[i] += t
        members[i].append((name, t))
    # The lightest shard last: it also takes the suites nobody measured yet.
    order = sorted(range(shards), key=lambda k: -loads[k])
    return [(loads[k], members[k]) for k in order]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--shards", type=int, default=3)
    ap.add_argument("--out", default=os.path.join(os.path.dirname(__file__), "..", "tests", "integration_shards.txt"))
    ap.add_argument("results", nargs="+")
    a = ap.parse_args()
    times = suite_times(a.results)
    if not times:
        sys.exit("no test suites in " + " ".join(a.results))
    shards = pack(times, a.shards)
    lines = [
        "# Integration test suites by ctest shard (integration_tests_<shard>), balanced by measured",
        "# time: written by scripts/balance-shards.py from gtest JSON results; regenerate it when the",
        "# suites grow. Read by tests/CMakeLists.txt. Lines: <shard> <suite> <seconds measured>.",
        "# The last shard runs every suite no other shard lists (new suites land there).",
    ]
    for i, (load, members) in enumerate(shards):
        lines.append("# shard %d: %.1f s measured" % (i, load))
        lines += ["%d %s %.1f" % (i, name, t) for name, t in members]
    with open(a.out, "w") as f:
        f.write("\n".join(lines) + "\n")
    for i, (load, members) in enumerate(shards):
        print("shard %d: %d suites, %.1f s" % (i, len(members), load))


if __name__ == "__main__":
    main()
