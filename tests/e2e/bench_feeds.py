"""Measures attendance.v1.Feeds on the real ledgerd (a benchmark, not a
test: nothing gates on it). While `loadgen` ingests MARKS marks into one
school at RATE marks/s (`loadgen --rate`: a steady load, not flat out;
0 = as fast as it can), a probe writes one mark every 20 ms into another
school, and N subscribers (0, 1, 10, 100), each its own SubscribeEvents call
filtered on the probe school, receive the probes: append-to-delivery
latency is the time from the probe event's recorded_at to its arrival (the
server scans every ingested event for every subscriber). Then the catch-up
rate of one subscriber from position 0 over the whole log, with a filter
that matches nothing (the server's scan) and with none (every event sent;
the client counts the events in each message without decoding them, so
that Python's protobuf decoding is not what is measured).

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


def percentile(values, p):
    values = sorted(values)
    return values[min(len(values) - 1, int(len(values) * p))] if values else float("nan")


def count_events(data):
    """(events, position, caught_up) of a serialized SubscribeEventsResponse,
    reading only its top-level fields (events are field 2, skipped)."""
    i, n, events, position, caught_up = 0, len(data), 0, 0, False

    def varint(i):
        shift = value = 0
        while True:
            b = data[i]
            i += 1
            value |= (b & 0x7F) << shift
            if b < 0x80:
                return value, i
            shift += 7

    while i < n:
        key, i = varint(i)
        field, wire = key >> 3, key & 7
        if wire == 2:
            length, i = varint(i)
            i += length
            events += field == 2
        else:
            value, i = varint(i)
            if field == 1:
                position = value
            elif field == 3:
                caught_up = bool(value)
    return events, position, caught_up


def run(build, stubs, subscribers, marks, rate):
    import attendance.v1.feeds_service_pb2 as fpb  # noqa: E402
    import attendance.v1.feeds_service_pb2_grpc as fsvc  # noqa: E402
    work = tempfile.mkdtemp(prefix="ledger-bench-feeds-")
    server = harness.LedgerProcess(os.path.join(build, "tools", "ledgerd"),
                                   os.path.join(work, "data"), work)
    try:
        server.start()
        # Its own connection: gRPC shares one between channels to the same
        # address, where the subscribers' 100 streams would fill
        # --max-streams-per-connection and queue the probe's calls.
        channel = grpc.insecure_channel(server.target,
                                        options=[("grpc.use_local_subchannel_pool", 1)])
        ledger = stubs.svc.LedgerStub(channel)
        set_up_probe(stubs, ledger)
        latencies = []
        lock = threading.Lock()
        calls = []
        ready = threading.Semaphore(0)

        def subscribe():
            ch = grpc.insecure_channel(server.target)
            call = fsvc.FeedsStub(ch).SubscribeEvents(
                fpb.SubscribeEventsRequest(from_now=True, school_id=PROBE), timeout=600)
            with lock:
                calls.append(call)
            try:
                for message in call:
                    now_us = time.time() * 1e6
                    if message.caught_up and not message.events:
                        ready.release()
                    with lock:
                        for e in message.events:
                            latencies.append((now_us - e.recorded_at_us) / 1000.0)
            except grpc.RpcError:
                pass
            ch.close()

        threads = [threading.Thread(target=subscribe, daemon=True) for _ in range(subscribers)]
        for t in threads:
            t.start()
        for _ in range(subscribers):
            ready.acquire()
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
        with lock:
            lat = list(latencies)
            for call in calls:
                call.cancel()
        print(f"{subscribers:3d} subscribers: ingest {marks} marks at {ingest_rate:,.0f} marks/s "
              f"(asked {rate:,}; {ingest_s:.1f} s with loadgen's setup); probe latency p50 {percentile(lat, 0.5):.1f} ms "
              f"p99 {percentile(lat, 0.99):.1f} ms over {len(lat)} deliveries", flush=True)
        if subscribers == 1:
            raw = channel.unary_stream(
                "/attendance.v1.Feeds/SubscribeEvents",
                request_serializer=fpb.SubscribeEventsRequest.SerializeToString,
                response_deserializer=None)
            for label, request in (
                    ("scan (filter matches nothing)",
                     fpb.SubscribeEventsRequest(event_types=[stubs.pb.LETTER_SENT])),
                    ("every event sent", fpb.SubscribeEventsRequest())):
                t0 = time.monotonic()
                received = 0
                for data in raw(request, timeout=600):
                    events, position, caught_up = count_events(data)
                    received += events
                    if caught_up:
                        break
                dt = time.monotonic() - t0
                print(f"catch-up from 0, {label}: {position:,} events scanned, {received:,} "
                      f"sent, in {dt:.2f} s ({position / dt:,.0f} events/s)", flush=True)
        channel.close()
    finally:
        server.kill()
        shutil.rmtree(work, ignore_errors=True)


def main():
    if len(sys.argv) < 3:
        sys.stderr.write(__doc__)
        sys.exit(2)
    build, proto = os.path.abspath(sys.argv[1]), os.path.abspath(sys.argv[2])
    marks = int(sys.argv[3]) if len(sys.argv) > 3 else 500000
    rate = int(sys.argv[4]) if len(sys.argv) > 4 else 50000
    # Switch threads often: a subscriber's arrival time is taken when its
    # thread runs, and the default 5 ms would be part of every figure.
    sys.setswitchinterval(0.0005)
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
