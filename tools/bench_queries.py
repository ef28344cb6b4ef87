"""Query latency of a real ledgerd over a realistic school, for
tools/bench_all.sh: loads a synthetic history (tools/history's
`ledger-history`: N pupils over Y academic years ending last summer, with
amendments, letters and meetings following the built-in policy), starts
ledgerd on it and times, through gRPC from one Python client (so each figure
includes about 0.2 ms of Python and gRPC overhead):
GetPupilAttendance of random pupils, the whole school's GetCohortAttendance
and the worklist (ListDueActions, first page of 100), all as of the last
day of the history.

Usage: /usr/bin/python3 tools/bench_queries.py BUILD_DIR PROTO_DIR [PUPILS [YEARS [QUERIES]]]
(defaults 2000 3 2000). Prints a summary and one line starting "RESULT".
"""

import datetime
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time

import grpc

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "e2e"))
import ledger_harness as harness  # noqa: E402

SCHOOL = "bench-school"


def percentile(values, q):
    values = sorted(values)
    return values[min(len(values) - 1, int(q * (len(values) - 1) + 0.5))] if values else float("nan")


def timed(calls, fn):
    out = []
    for i in range(calls):
        t0 = time.perf_counter()
        fn(i)
        out.append((time.perf_counter() - t0) * 1000)
    return out


def main():
    if len(sys.argv) < 3:
        sys.stderr.write(__doc__)
        sys.exit(2)
    build, proto = os.path.abspath(sys.argv[1]), os.path.abspath(sys.argv[2])
    pupils = int(sys.argv[3]) if len(sys.argv) > 3 else 2000
    years = int(sys.argv[4]) if len(sys.argv) > 4 else 3
    queries = int(sys.argv[5]) if len(sys.argv) > 5 else 2000
    today = datetime.date.today()
    as_of = f"{today.year if today.month >= 8 else today.year - 1}-07-10"  # last summer term
    work = tempfile.mkdtemp(prefix="ledger-bench-queries-")
    server = None
    try:
        stubs = harness.generate_stubs(proto, os.path.join(work, "stubs"))
        import attendance.v1.escalation_service_pb2 as esc  # noqa: E402
        import attendance.v1.escalation_service_pb2_grpc as esc_svc  # noqa: E402

        data = os.path.join(work, "data")
        t0 = time.monotonic()
        loaded = subprocess.run([os.path.join(build, "tools", "history", "ledger-history"), "--data",
                                 data, "--school", SCHOOL, "--pupils", str(pupils), "--years",
                                 str(years)], capture_output=True, text=True)
        if loaded.returncode != 0:
            sys.exit(f"ledger-history failed: {loaded.stdout}{loaded.stderr}")
        print(f"history: {pupils} pupils x {years} years loaded in {time.monotonic() - t0:.1f} s: "
              f"{loaded.stdout.strip().splitlines()[-1] if loaded.stdout.strip() else ''}",
              flush=True)
        server = harness.LedgerProcess(os.path.join(build, "tools", "ledgerd"), data, work,
                                       ["--log-level", "warn"]).start(timeout=300)
        channel = grpc.insecure_channel(server.target)
        proj = stubs.proj_svc.ProjectionsStub(channel)
        escalation = esc_svc.EscalationStub(channel)
        rng = random.Random(1)

        def pupil(_):
            proj.GetPupilAttendance(stubs.proj.GetPupilAttendanceRequest(
                school_id=SCHOOL, pupil_id=f"P{rng.randint(1, pupils):04d}", as_of=as_of),
                timeout=10)

        def cohort(_):
            proj.GetCohortAttendance(stubs.proj.GetCohortAttendanceRequest(
                school_id=SCHOOL, as_of=as_of,
                window=stubs.proj.Window(kind=stubs.proj.ACADEMIC_YEAR_TO_DATE)), timeout=10)

        due = []

        def worklist(_):
            r = escalation.ListDueActions(esc.ListDueActionsRequest(
                school_id=SCHOOL, as_of=as_of, page_size=100), timeout=30)
            due.append(r.total)

        for fn in (pupil, cohort, worklist):  # warm: connections, first folds
            fn(0)
        pupil_ms = timed(queries, pupil)
        cohort_ms = timed(max(20, queries // 20), cohort)
        worklist_ms = timed(max(20, queries // 20), worklist)
        print(f"as of {as_of}: pupil p50 {percentile(pupil_ms, .5):.3f} ms p99 "
              f"{percentile(pupil_ms, .99):.3f} ms; cohort p50 {percentile(cohort_ms, .5):.2f} ms "
              f"p99 {percentile(cohort_ms, .99):.2f} ms; worklist ({due[-1]} due actions, first "
              f"100) p50 {percentile(worklist_ms, .5):.2f} ms p99 {percentile(worklist_ms, .99):.2f} ms",
              flush=True)
        print(f"RESULT pupil_p50_ms={percentile(pupil_ms, .5):.3f} "
              f"pupil_p99_ms={percentile(pupil_ms, .99):.3f} "
              f"cohort_p50_ms={percentile(cohort_ms, .5):.2f} "
              f"cohort_p99_ms={percentile(cohort_ms, .99):.2f} "
              f"worklist_p50_ms={percentile(worklist_ms, .5):.2f} "
              f"worklist_p99_ms={percentile(worklist_ms, .99):.2f} due={due[-1]}", flush=True)
        channel.close()
    except grpc.RpcError as e:
        sys.exit(f"bench_queries: {e.code()} {e.details()}")
    finally:
        if server is not None:
            server.stop()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
