"""Measures attendance.v1.Feeds on the real ledgerd (a benchmark, not a
test: nothing gates on it). While `loadgen` ingests MARKS marks into one
school at RATE marks/s (`loadgen --rate`: a steady load, not flat out;
0 = as fast as it can), a probe writes one mark every 20 ms into another
school, and N subscribers (0, 1, 10, 100), each its own SubscribeEvents call
filtered on the probe school, receive the probes: append-to-delivery
latency is the time from the probe event's recorded_at to its arrival (the
server scans every ingested event for every subscriber). The subscribers
are one C++ process, `feed-load` (tools/feed_load.cc: gRPC's callback API,
no thread per feed), so that the client is not what is measured. Then,
three times each, the catch-up rate of one subscriber (`feed-load
--catch-up`) from position 0 over the whole log, with a filter that
matches nothing (the server's scan) and with none (every event sent; the
client counts the events in each message without decoding them).

Usage: /usr/bin/python3 bench_feeds.py BUILD_DIR PROTO_DIR [MARKS [RATE [N,N...]]]
e.g.   /usr/bin/python3 tests/e2e/bench_feeds.py build proto 500000 50000
"""

import datetime
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time

import grpc

import ledger_harness as harness

PROBE = "probe-school"
CATCH_UP_RUNS = 3
_TODAY = datetime.date.today()
YEAR = (_TODAY.year if _TODAY.month >= 8 else _TODAY.year - 1) - 1


def probe_sessions():
    out = []
    day = datetime.date(YEAR, 9, 1)
    while day <= datetime.date(YEAR, 12, 18):
        if day.weekday() < 5:
            out += [(day.isoformat(), "AM"), (day.isoformat(), "PM")]
        day += datetime.timedelta(days=1)
    return out


def set_up_probe(stubs, stub):
    ev, pb = stubs.events, stubs.pb
    stub.SetSchoolSettings(pb.SetSchoolSettingsRequest(
        school_id=PROBE, request_id="s", settings=ev.SchoolSettings(school_name="Probe")),
        timeout=10)
    cal = ev.SchoolCalendarSet(academic_year=YEAR)
    cal.terms.add(name="Autumn").half_terms.add(name="Autumn", first_day=f"{YEAR}-09-01",
                                                last_day=f"{YEAR}-12-18")
    stub.SetSchoolCalendar(pb.SetSchoolCalendarRequest(school_id=PROBE, request_id="c",
                                                       calendar=cal), timeout=10)
    for p in range(60):
        stub.EnrolPupil(pb.EnrolPupilRequest(
            school_id=PROBE, request_id=f"e{p}", pupil=ev.Pupil(pupil_id=f"Q{p}", given_name="Q", family_name="Q",
                                                          year_group=3),
            on_roll_from=f"{YEAR}-09-01"), timeout=10)


def feed_load(build, *args, **kwargs):
    return subprocess.Popen([os.path.join(build, "tools", "feed-load"), *args], text=True,
                            stdout=subprocess.PIPE, **kwargs)


def result_of(output):
    """The key=value pairs of feed-load's or loadgen's RESULT line."""
    return dict(kv.split("=", 1) for line in output.splitlines()
                if line.startswith("RESULT ") for kv in line.split()[1:] if "=" in kv)


def run(build, stubs, subscribers, marks, rate):
    work = tempfile.mkdtemp(prefix="ledger-bench-feeds-")
    server = harness.LedgerProcess(os.path.join(build, "tools", "ledgerd"),
                                   os.path.join(work, "data"), work)
    subs = None
    try:
        server.start()
        # Its own connection: gRPC shares one between channels to the same
        # address, where the subscribers' 100 streams would fill
        # --max-streams-per-connection and queue the probe's calls.
        channel = grpc.insecure_channel(server.target,
                                        options=[("grpc.use_local_subchannel_pool", 1)])
        ledger = stubs.svc.LedgerStub(channel)
        set_up_probe(stubs, ledger)
        # The subscribers: feed-load, N feeds on gRPC's callback API in one
        # C++ process, so that the client is not what is measured.
        if subscribers > 0:
            subs = feed_load(build, "--target", server.target, "--subscribers", str(subscribers),
                             "--school", PROBE, stdin=subprocess.PIPE)
            if subs.stdout.readline().strip() != "READY":
                raise RuntimeError("feed-load did not start its feeds")
        stop = threading.Event()

        def probe():
            pb = stubs.pb
            for i, (date, session) in enumerate(probe_sessions() * 60):
                if stop.is_set():
                    return
                pupil = f"Q{i // len(probe_sessions())}"
                ledger.RecordMarks(pb.RecordMarksRequest(
                    school_id=PROBE, request_id=f"p{i}",
                    marks=[pb.Mark(pupil_id=pupil, date=date, session=session, code="/")]),
                    timeout=10)
                time.sleep(0.02)

        prober = threading.Thread(target=probe)
        prober.start()
        started = time.monotonic()
        loadgen = subprocess.run([os.path.join(build, "tools", "loadgen"), "--target",
                                  server.target, "--setup", "--marks", str(marks), "--clients",
                                  "4", "--rate", str(rate)],
                                 check=True, capture_output=True, text=True)
        ingest_s = time.monotonic() - started
        result = dict(kv.split("=", 1) for line in loadgen.stdout.splitlines()
                      if line.startswith("RESULT ") for kv in line.split()[1:])
        ingest_rate = float(result.get("marks_per_s", "nan"))
        stop.set()
        prober.join()
        time.sleep(0.5)
        line = f"{subscribers:3d} subscribers: ingest {marks} marks at {ingest_rate:,.0f} marks/s " \
               f"(asked {rate:,}; {ingest_s:.1f} s with loadgen's setup)"
        if subs is not None:
            out, _ = subs.communicate("", timeout=60)
            lat = result_of(out)
            line += (f"; probe latency p50 {lat.get('p50_ms')} ms p99 {lat.get('p99_ms')} ms "
                     f"max {lat.get('max_ms')} ms over {lat.get('deliveries')} deliveries "
                     f"(errors {lat.get('errors')})")
        print(line, flush=True)
        if subscribers == 1:
            for label, args in (("scan (filter matches nothing)", ["--event-type",
                                                                   str(stubs.pb.LETTER_SENT)]),
                                ("every event sent", [])):
                for _ in range(CATCH_UP_RUNS):
                    out, _ = feed_load(build, "--target", server.target, "--catch-up",
                                       *args).communicate(timeout=300)
                    r = result_of(out)
                    print(f"catch-up from 0, {label}: {int(r['events_scanned']):,} events "
                          f"scanned, {int(r['events_sent']):,} sent, in {float(r['seconds']):.2f} s "
                          f"({float(r['events_per_s']):,.0f} events/s)", flush=True)
        channel.close()
    finally:
        if subs is not None and subs.poll() is None:
            subs.kill()
        server.kill()
        shutil.rmtree(work, ignore_errors=True)


def main():
    if len(sys.argv) < 3:
        sys.stderr.write(__doc__)
        sys.exit(2)
    build, proto = os.path.abspath(sys.argv[1]), os.path.abspath(sys.argv[2])
    marks = int(sys.argv[3]) if len(sys.argv) > 3 else 500000
    rate = int(sys.argv[4]) if len(sys.argv) > 4 else 50000
    stub_dir = tempfile.mkdtemp(prefix="ledger-bench-feeds-stubs-")
    try:
        stubs = harness.generate_stubs(proto, stub_dir)
        counts = [int(n) for n in sys.argv[5].split(",")] if len(sys.argv) > 5 else [0, 1, 10, 100]
        for n in counts:
            run(build, stubs, n, marks, rate)
    finally:
        shutil.rmtree(stub_dir, ignore_errors=True)


if __name__ == "__main__":
    main()
