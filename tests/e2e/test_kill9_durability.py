#!/usr/bin/python3
"""Crash durability of the attendance ledger: SIGKILL under write load.

Starts the real `ledgerd`, sets up a school, then runs several writer threads
that push RecordMarks batches, and one that pushes StreamMarks batches (each thread its own pupils, each batch its own
day, so no two batches touch the same session). The server is SIGKILLed a few
times mid-load and restarted on the same data directory; writers retry the
batch they had in flight with the same request id until it is acknowledged.
At the end, ReadEvents must show:
  - every acknowledged batch exactly once and complete, at the positions its
    acknowledgement gave;
  - no batch partially present (also batches never acknowledged);
  - no session marked twice, and a gapless log;
and `ledgerd --data DIR --verify` must exit 0.

Usage: /usr/bin/python3 test_kill9_durability.py LEDGERD PROTO_DIR
(or set LEDGERD and PROTO_DIR). Bounded to well under 60 s.
"""

import collections
import datetime
import os
import random
import shutil
import sys
import threading
import time
import unittest

import grpc

import ledger_harness as harness

LEDGERD = PROTO_DIR = None
STUBS = None

SCHOOL = "kill9-school"
WRITERS = 4         # unary RecordMarks writers
STREAM_WRITERS = 1  # StreamMarks writers, STREAM_CHUNK batches in flight
STREAM_CHUNK = 8
PUPILS_PER_WRITER = 50
KILLS = 3
ADMIN = harness.actor("Kill9 Admin", "admin")
TEACHER = harness.actor("Kill9 Teacher", "teacher")
# Seconds of load between kills, and after the last restart.
LOAD_SECONDS = (0.6, 1.5)
TAIL_SECONDS = 1.0
DEADLINE_SECONDS = 50


# Enough school days that writers never run out of work before the last kill.
YEARS = range(2004, 2026)


def half_terms(year):
    return (("Autumn 1", f"{year}-09-01", f"{year}-10-20"),
            ("Autumn 2", f"{year}-11-01", f"{year}-12-18"))


def school_days():
    """Weekdays of the calendars set below: the autumn terms of YEARS."""
    days = []
    for year in YEARS:
        for _, first, last in half_terms(year):
            d = datetime.date.fromisoformat(first)
            end = datetime.date.fromisoformat(last)
            while d <= end:
                if d.weekday() < 5:
                    days.append(d.isoformat())
                d += datetime.timedelta(days=1)
    return days


class Target:
    """The server's current address; writers reconnect when it changes."""

    def __init__(self):
        self.lock = threading.Condition()
        self.generation = 0
        self.address = None
        self.up = False

    def set_up(self, address):
        with self.lock:
            self.generation += 1
            self.address = address
            self.up = True
            self.lock.notify_all()

    def set_down(self):
        with self.lock:
            self.up = False

    def wait_up(self, seen_generation, timeout):
        """Blocks until the server is up in a generation after
        `seen_generation` (or the current one, if it is newer)."""
        with self.lock:
            self.lock.wait_for(lambda: self.up and self.generation != seen_generation,
                               timeout=timeout)
            return self.generation, self.address, self.up


class Writer(threading.Thread):
    def __init__(self, index, target, stop, days):
        super().__init__(name=f"writer-{index}", daemon=True)
        self.index = index
        self.target = target
        self.stop_event = stop
        self.days = days
        self.pupils = [f"K{index}-{p:03d}" for p in range(PUPILS_PER_WRITER)]
        self.acked = {}      # request id -> (request, response)
        self.sent = {}       # request id -> request (acknowledged or not)
        self.errors = []     # unexpected statuses
        self.retries = 0

    def batch(self, n):
        ev, pb = STUBS.events, STUBS.pb
        req = pb.RecordMarksRequest(school_id=SCHOOL, request_id=f"k9-w{self.index}-b{n}")
        day = self.days[n // 2]
        session = ev.AM if n % 2 == 0 else ev.PM
        for i, pupil in enumerate(self.pupils):
            code = "/" if session == ev.AM else "\\"
            if (i + n) % 17 == 0:
                code = "I"
            req.marks.add(pupil_id=pupil, date=day, session=session, code=code)
        return req

    def run(self):
        generation, address, _ = self.target.wait_up(-1, timeout=30)
        channel = grpc.insecure_channel(address)
        stub = STUBS.svc.LedgerStub(channel)
        n = 0
        while not self.stop_event.is_set() and n < 2 * len(self.days):
            req = self.batch(n)
            self.sent[req.request_id] = req
            while True:
                try:
                    resp = stub.RecordMarks(req, metadata=TEACHER, timeout=5)
                    self.acked[req.request_id] = (req, resp)
                    break
                except grpc.RpcError as e:
                    if e.code() not in (grpc.StatusCode.UNAVAILABLE,
                                        grpc.StatusCode.DEADLINE_EXCEEDED,
                                        grpc.StatusCode.CANCELLED,
                                        grpc.StatusCode.UNKNOWN,
                                        grpc.StatusCode.INTERNAL):
                        self.errors.append((req.request_id, e.code(), e.details()))
                        return
                    # The server went away: wait for the next one, retry the
                    # same request id.
                    self.retries += 1
                    generation, address, up = self.target.wait_up(generation, timeout=30)
                    if not up:
                        self.errors.append((req.request_id, "server did not come back", ""))
                        return
                    channel.close()
                    channel = grpc.insecure_channel(address)
                    stub = STUBS.svc.LedgerStub(channel)
            n += 1
        channel.close()


class StreamWriter(Writer):
    """Sends batches over StreamMarks, STREAM_CHUNK per stream. When a stream
    breaks, the batches it had not answered are sent again, with the same
    request ids, on a stream to the next server."""

    def run(self):
        generation, address, _ = self.target.wait_up(-1, timeout=30)
        channel = grpc.insecure_channel(address)
        stub = STUBS.svc.LedgerStub(channel)
        n = 0
        unanswered = []
        while unanswered or (not self.stop_event.is_set() and n < 2 * len(self.days)):
            chunk = list(unanswered)
            while len(chunk) < STREAM_CHUNK and n < 2 * len(self.days) and \
                    not self.stop_event.is_set():
                req = self.batch(n)
                self.sent[req.request_id] = req
                chunk.append(req)
                n += 1
            unanswered = list(chunk)
            try:
                for resp in stub.StreamMarks(iter(chunk), metadata=TEACHER, timeout=10):
                    req = unanswered.pop(0)
                    if resp.request_id != req.request_id or resp.error_code != 0:
                        self.errors.append((req.request_id, resp.error_code, resp.error_message))
                        return
                    self.acked[req.request_id] = (req, resp.result)
            except grpc.RpcError as e:
                if e.code() not in (grpc.StatusCode.UNAVAILABLE,
                                    grpc.StatusCode.DEADLINE_EXCEEDED,
                                    grpc.StatusCode.CANCELLED, grpc.StatusCode.UNKNOWN,
                                    grpc.StatusCode.INTERNAL):
                    self.errors.append(("stream", e.code(), e.details()))
                    return
                self.retries += 1
                generation, address, up = self.target.wait_up(generation, timeout=30)
                if not up:
                    self.errors.append(("stream", "server did not come back", ""))
                    return
                channel.close()
                channel = grpc.insecure_channel(address)
                stub = STUBS.svc.LedgerStub(channel)
        channel.close()


class Kill9DurabilityTest(unittest.TestCase):
    def setUp(self):
        self.work = harness.make_temp_dir("ledger-kill9-")
        self.server = harness.LedgerProcess(LEDGERD, os.path.join(self.work, "data"), self.work)

    def tearDown(self):
        self.server.kill()
        if os.environ.get("KEEP_E2E_DIR"):
            print(f"kept {self.work}")
        else:
            shutil.rmtree(self.work, ignore_errors=True)

    def set_up_school(self, stub):
        ev, pb = STUBS.events, STUBS.pb
        stub.SetSchoolSettings(pb.SetSchoolSettingsRequest(
            school_id=SCHOOL, request_id="k9-settings",
            settings=ev.SchoolSettings(school_name="Kill9 Primary")), metadata=ADMIN, timeout=10)
        for year in YEARS:
            cal = ev.SchoolCalendarSet(academic_year=year)
            autumn = cal.terms.add(name="Autumn")
            for name, first, last in half_terms(year):
                autumn.half_terms.add(name=name, first_day=first, last_day=last)
            stub.SetSchoolCalendar(pb.SetSchoolCalendarRequest(
                school_id=SCHOOL, request_id=f"k9-calendar-{year}", calendar=cal),
                metadata=ADMIN, timeout=10)
        # Enrol everyone concurrently (one WAL sync covers several).
        errors = []

        def enrol(w):
            for p in range(PUPILS_PER_WRITER):
                pupil_id = f"K{w}-{p:03d}"
                try:
                    stub.EnrolPupil(pb.EnrolPupilRequest(
                        school_id=SCHOOL, request_id=f"k9-enrol-{pupil_id}",
                        pupil=ev.Pupil(pupil_id=pupil_id, given_name="K", family_name=pupil_id,
                                       year_group=w + 1),
                        on_roll_from=f"{YEARS[0]}-09-01"), metadata=ADMIN, timeout=10)
                except grpc.RpcError as e:
                    errors.append((pupil_id, e.code(), e.details()))

        threads = [threading.Thread(target=enrol, args=(w,))
                   for w in range(WRITERS + STREAM_WRITERS)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        self.assertEqual(errors, [])

    def test_kill9_under_load(self):
        started = time.monotonic()
        rng = random.Random(9)
        self.server.start()
        channel = grpc.insecure_channel(self.server.target)
        self.set_up_school(STUBS.svc.LedgerStub(channel))
        channel.close()

        target = Target()
        stop = threading.Event()
        days = school_days()
        writers = [Writer(i, target, stop, days) for i in range(WRITERS)]
        writers += [StreamWriter(WRITERS + i, target, stop, days) for i in range(STREAM_WRITERS)]
        for w in writers:
            w.start()
        target.set_up(self.server.target)
        kill_log = []
        for k in range(KILLS):
            time.sleep(rng.uniform(*LOAD_SECONDS))
            self.assertTrue(all(w.is_alive() for w in writers),
                            "a writer finished before the kill: more YEARS needed")
            acked_before = sum(len(w.acked) for w in writers)
            target.set_down()
            self.server.kill()
            kill_log.append(acked_before)
            self.server.start()
            target.set_up(self.server.target)
        time.sleep(TAIL_SECONDS)
        stop.set()
        for w in writers:
            w.join(timeout=30)
            self.assertFalse(w.is_alive(), f"{w.name} did not finish")
        for w in writers:
            self.assertEqual(w.errors, [], w.name)
        self.assertGreater(sum(len(w.acked) for w in writers), KILLS,
                           "too few batches acknowledged to mean anything")

        # Read everything back.
        channel = grpc.insecure_channel(self.server.target)
        stub = STUBS.svc.LedgerStub(channel)
        events = list(stub.ReadEvents(STUBS.pb.ReadEventsRequest(), timeout=60))
        channel.close()
        self.assertEqual([e.position for e in events], list(range(1, len(events) + 1)),
                         "the log has gaps")
        by_request = collections.defaultdict(list)
        sessions = collections.Counter()
        for e in events:
            if e.HasField("mark_recorded"):
                m = e.mark_recorded
                by_request[e.request_id].append(e)
                sessions[(m.pupil_id, m.date, m.session)] += 1
        duplicates = [k for k, c in sessions.items() if c > 1]
        self.assertEqual(duplicates, [], "sessions marked more than once")

        acked_total = 0
        unacked_present = 0
        for w in writers:
            for request_id, req in w.sent.items():
                stored = by_request.pop(request_id, [])
                want = [(m.pupil_id, m.date, m.session, m.code) for m in req.marks]
                got = [(e.mark_recorded.pupil_id, e.mark_recorded.date, e.mark_recorded.session,
                        e.mark_recorded.code) for e in stored]
                if request_id in w.acked:
                    acked_total += 1
                    _, resp = w.acked[request_id]
                    self.assertEqual(got, want, f"{request_id}: acknowledged but not all stored")
                    self.assertEqual([e.position for e in stored],
                                     list(range(resp.first_position, resp.last_position + 1)),
                                     f"{request_id}: stored at other positions than acknowledged")
                else:
                    # Never acknowledged: all or nothing.
                    self.assertIn(got, ([], want), f"{request_id}: partially stored")
                    unacked_present += bool(got)
        self.assertEqual(dict(by_request), {}, "marks stored under unknown request ids")

        # The hash chain verifies offline.
        self.server.stop()
        code, output = self.server.verify()
        self.assertEqual(code, 0, f"--verify failed: {output}")
        elapsed = time.monotonic() - started
        retries = sum(w.retries for w in writers)
        # Batches committed before a kill whose answer was lost: the retry
        # was answered as a replay.
        replays = sum(1 for w in writers for _, resp in w.acked.values() if resp.replayed)
        print(f"\nkill9: {KILLS} kills (acknowledged before each: {kill_log}), "
              f"{acked_total} batches acknowledged ({acked_total * PUPILS_PER_WRITER} marks), "
              f"{unacked_present} unacknowledged batches found whole, {retries} retries "
              f"({replays} answered as replays), "
              f"{len(events)} events, {elapsed:.1f} s")
        self.assertLess(elapsed, DEADLINE_SECONDS)


def main():
    harness.run_tests("kill9", globals(), __doc__)


if __name__ == "__main__":
    main()
