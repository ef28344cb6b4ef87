#!/usr/bin/python3
"""Crash durability of the attendance ledger: repeated SIGKILL under mixed writes.

Starts the real `ledgerd`, sets up a school, then runs writer threads that
submit marks (RecordMarks), amendments of their own marks (AmendMark),
letters (RecordLetter) and enrolments (EnrolPupil), and one that streams
marks over StreamMarks; each thread has its own pupils, so nothing it sends
depends on another thread. The server is SIGKILLed KILLS times mid-load (and
every GRACEFUL_EVERY-th restart is a SIGTERM instead, which saves the
read-models' checkpoint, so that later restarts resume from it); writers
retry the request they had in flight with the same request id until it is
acknowledged. After every restart, before writes resume:
  - `ledgerd --verify` passes on a copy of the stopped data directory;
  - ReadEvents (from where the previous check stopped, after checking the
    last event seen is unchanged) shows every acknowledged request exactly
    once, at the positions its acknowledgement gave, with what was sent;
    no request partially present (also those never acknowledged); a
    gapless log;
  - the restarted server's GetCohortAttendance and ListPupilAttendance
    answers equal those of a second ledgerd started with
    --rebuild-read-models on the copy (projections rebuilt from position 1).
At the end no event has a request id nobody sent.

Usage: /usr/bin/python3 test_kill9_durability.py LEDGERD PROTO_DIR
(or set LEDGERD and PROTO_DIR). Bounded to well under 3 minutes.
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
WRITERS = 4         # unary writers of marks, amendments, letters, enrolments
STREAM_WRITERS = 1  # StreamMarks writers, STREAM_CHUNK batches in flight
STREAM_CHUNK = 8
BATCH_PUPILS = 12   # marks per batch: one session for a group of a writer's pupils
GROUPS = 4          # groups of pupils per unary writer
STREAM_GROUPS = 12  # the stream writer commits faster: more sessions to fill
KILLS = 20
GRACEFUL_EVERY = 5  # every 5th restart is a SIGTERM, not a SIGKILL
ADMIN = harness.actor("Kill9 Admin", "admin")
TEACHER = harness.actor("Kill9 Teacher", "teacher")
OFFICER = harness.actor("Kill9 Officer", "attendance_officer")
# Seconds of load between stops, and after the last restart.
LOAD_SECONDS = (0.3, 0.8)
TAIL_SECONDS = 0.5
RETRYABLE = (grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.DEADLINE_EXCEEDED,
             grpc.StatusCode.CANCELLED, grpc.StatusCode.UNKNOWN, grpc.StatusCode.INTERNAL)


def academic_year(day):
    return day.year if day.month >= 9 else day.year - 1


# The three academic years before the current one: PREVIOUS_ACADEMIC_YEAR
# windows 1..3 of today's projections cover them, and every session in them
# has happened.
CURRENT_YEAR = academic_year(datetime.date.today())
YEARS = range(CURRENT_YEAR - 3, CURRENT_YEAR)


def half_terms(year):
    return (("Autumn", "Autumn 1", f"{year}-09-02", f"{year}-10-20"),
            ("Autumn", "Autumn 2", f"{year}-11-01", f"{year}-12-18"),
            ("Spring", "Spring 1", f"{year + 1}-01-06", f"{year + 1}-02-12"),
            ("Spring", "Spring 2", f"{year + 1}-02-23", f"{year + 1}-03-31"),
            ("Summer", "Summer 1", f"{year + 1}-04-15", f"{year + 1}-05-22"),
            ("Summer", "Summer 2", f"{year + 1}-06-02", f"{year + 1}-07-18"))


def school_sessions():
    """(date, AM/PM) of every weekday of the calendars set below."""
    sessions = []
    for year in YEARS:
        for _, _, first, last in half_terms(year):
            d = datetime.date.fromisoformat(first)
            end = datetime.date.fromisoformat(last)
            while d <= end:
                if d.weekday() < 5:
                    sessions.append((d.isoformat(), STUBS.events.AM))
                    sessions.append((d.isoformat(), STUBS.events.PM))
                d += datetime.timedelta(days=1)
    return sessions


class Target:
    """The server's current address. Writers start a call only while it is
    up, and the test waits for calls in flight to end before it starts the
    next server, so no write reaches a server while it is being checked."""

    def __init__(self):
        self.lock = threading.Condition()
        self.generation = 0
        self.address = None
        self.up = False
        self.in_flight = 0

    def set_up(self, address):
        with self.lock:
            self.generation += 1
            self.address = address
            self.up = True
            self.lock.notify_all()

    def set_down(self):
        with self.lock:
            self.up = False

    def wait_idle(self, timeout):
        with self.lock:
            return self.lock.wait_for(lambda: self.in_flight == 0, timeout=timeout)

    def enter(self, seen_generation, timeout):
        """Waits until the server is up (in a generation after
        `seen_generation` if given) and counts a call in flight. Returns
        (generation, address), or None on timeout."""
        with self.lock:
            ok = self.lock.wait_for(
                lambda: self.up and (seen_generation is None or
                                     self.generation != seen_generation),
                timeout=timeout)
            if not ok:
                return None
            self.in_flight += 1
            return self.generation, self.address

    def leave(self):
        with self.lock:
            self.in_flight -= 1
            self.lock.notify_all()


class Connection:
    """A writer's channel, renewed when the server changes."""

    def __init__(self):
        self.address = None
        self.channel = None
        self.stub = None

    def to(self, address):
        if address != self.address:
            self.close()
            self.address = address
            self.channel = grpc.insecure_channel(address)
            self.stub = STUBS.svc.LedgerStub(self.channel)
        return self.stub

    def close(self):
        if self.channel is not None:
            self.channel.close()
        self.address = self.channel = self.stub = None


class Writer(threading.Thread):
    """Submits its plan in order, retrying each request with its id until
    it is acknowledged."""

    def __init__(self, index, target, stop, sessions, groups=GROUPS):
        super().__init__(name=f"writer-{index}", daemon=True)
        self.index = index
        self.target = target
        self.stop_event = stop
        self.sessions = sessions
        self.groups = groups
        self.pupils = [f"K{index}-{p:03d}" for p in range(BATCH_PUPILS * groups)]
        self.lock = threading.Lock()
        self.acked = {}      # request id -> (kind, request, response)
        self.sent = {}       # request id -> (kind, request), acknowledged or not
        self.errors = []     # unexpected statuses
        self.retries = 0
        self.exhausted = False

    def marks_batch(self, n):
        """Batch n: one session for a group of the writer's pupils; some N codes."""
        ev, pb = STUBS.events, STUBS.pb
        req = pb.RecordMarksRequest(school_id=SCHOOL, request_id=f"k9-w{self.index}-b{n}")
        day, session = self.sessions[n // self.groups]
        first = (n % self.groups) * BATCH_PUPILS
        for i, pupil in enumerate(self.pupils[first:first + BATCH_PUPILS]):
            code = "/" if session == ev.AM else "\\"
            if (i + n) % 7 == 0:
                code = "N"
            elif (i + n) % 11 == 0:
                code = "I"
            req.marks.add(pupil_id=pupil, date=day, session=session, code=code)
        return req

    def plan(self):
        """Yields (kind, request): marks batches, each N in every third
        batch amended to I, a letter every 10 batches, an enrolment every 25."""
        ev, pb = STUBS.events, STUBS.pb
        n = 0
        while self.groups * len(self.sessions) > n:
            batch = self.marks_batch(n)
            yield "marks", batch
            if n % 3 == 0:
                for k, m in enumerate(batch.marks):
                    if m.code == "N":
                        yield "amend", pb.AmendMarkRequest(
                            school_id=SCHOOL, request_id=f"{batch.request_id}-a{k}",
                            pupil_id=m.pupil_id, date=m.date, session=m.session,
                            amended_code="I", expected_code="N", reason="parent phoned: ill")
            if n % 10 == 5:
                m = batch.marks[0]
                yield "letter", pb.RecordLetterRequest(
                    school_id=SCHOOL, request_id=f"{batch.request_id}-l", pupil_id=m.pupil_id,
                    letter_id="letter_1", channel=ev.POST, sent_on=m.date)
            if n % 25 == 20:
                pupil_id = f"K{self.index}-new-{n}"
                yield "enrol", pb.EnrolPupilRequest(
                    school_id=SCHOOL, request_id=f"k9-enrol-{pupil_id}",
                    pupil=ev.Pupil(pupil_id=pupil_id, given_name="New", family_name=pupil_id,
                                   year_group=self.index + 1),
                    on_roll_from=batch.marks[0].date)
            n += 1

    def call(self, stub, kind, req):
        method = {"marks": stub.RecordMarks, "amend": stub.AmendMark,
                  "letter": stub.RecordLetter, "enrol": stub.EnrolPupil}[kind]
        metadata = TEACHER if kind == "marks" else OFFICER
        return method(req, metadata=metadata, timeout=5)

    def run(self):
        conn = Connection()
        generation = None
        for kind, req in self.plan():
            if self.stop_event.is_set():
                break
            with self.lock:
                self.sent[req.request_id] = (kind, req)
            while True:
                entered = self.target.enter(generation, timeout=60)
                if entered is None:
                    self.errors.append((req.request_id, "server did not come back", ""))
                    return
                generation, address = entered
                try:
                    resp = self.call(conn.to(address), kind, req)
                    with self.lock:
                        self.acked[req.request_id] = (kind, req, resp)
                    generation = None  # the same server may take the next one
                    break
                except grpc.RpcError as e:
                    if e.code() not in RETRYABLE:
                        self.errors.append((req.request_id, e.code(), e.details()))
                        return
                    # The server went away: retry on the next one.
                    self.retries += 1
                finally:
                    self.target.leave()
        else:
            self.exhausted = True
        conn.close()

    def snapshot(self):
        with self.lock:
            return dict(self.sent), dict(self.acked)


class StreamWriter(Writer):
    """Sends marks batches over StreamMarks, STREAM_CHUNK per stream. When a
    stream breaks, the batches it had not answered are sent again, with the
    same request ids, on a stream to the next server."""

    def run(self):
        conn = Connection()
        generation = None
        n = 0
        unanswered = []
        while unanswered or (not self.stop_event.is_set() and n < self.groups * len(self.sessions)):
            chunk = list(unanswered)
            while len(chunk) < STREAM_CHUNK and n < self.groups * len(self.sessions) and \
                    not self.stop_event.is_set():
                req = self.marks_batch(n)
                with self.lock:
                    self.sent[req.request_id] = ("marks", req)
                chunk.append(req)
                n += 1
            unanswered = list(chunk)
            entered = self.target.enter(generation, timeout=60)
            if entered is None:
                self.errors.append(("stream", "server did not come back", ""))
                return
            generation, address = entered
            try:
                for resp in conn.to(address).StreamMarks(iter(chunk), metadata=TEACHER,
                                                          timeout=10):
                    req = unanswered.pop(0)
                    if resp.request_id != req.request_id or resp.error_code != 0:
                        self.errors.append((req.request_id, resp.error_code, resp.error_message))
                        return
                    with self.lock:
                        self.acked[req.request_id] = ("marks", req, resp.result)
                generation = None
            except grpc.RpcError as e:
                if e.code() not in RETRYABLE:
                    self.errors.append(("stream", e.code(), e.details()))
                    return
                self.retries += 1
            finally:
                self.target.leave()
        self.exhausted = n >= self.groups * len(self.sessions)
        conn.close()


def expected_events(kind, req):
    """What the log must hold for a request: (event kind, fields) per event."""
    if kind == "marks":
        return [("mark_recorded", (m.pupil_id, m.date, m.session, m.code)) for m in req.marks]
    if kind == "amend":
        return [("mark_amended", (req.pupil_id, req.date, req.session, req.amended_code))]
    if kind == "letter":
        return [("letter_sent", (req.pupil_id, req.letter_id, req.sent_on))]
    return [("pupil_enrolled", (req.pupil.pupil_id,))]


def event_fields(e):
    kind = e.WhichOneof("payload")
    if kind == "mark_recorded":
        m = e.mark_recorded
        return kind, (m.pupil_id, m.date, m.session, m.code)
    if kind == "mark_amended":
        m = e.mark_amended
        return kind, (m.pupil_id, m.date, m.session, m.amended_code)
    if kind == "letter_sent":
        m = e.letter_sent
        return kind, (m.pupil_id, m.letter_id, m.sent_on)
    if kind == "pupil_enrolled":
        return kind, (e.pupil_enrolled.pupil.pupil_id,)
    return kind, ()


def acked_positions(kind, resp):
    if kind == "marks":
        return list(range(resp.first_position, resp.last_position + 1))
    return [resp.position]


class LogMirror:
    """The log as read so far: each restart reads only what is new, after
    checking that the last event it saw is still there with the same hash
    (with the chain verified, the whole prefix is then unchanged)."""

    def __init__(self):
        self.last_position = 0
        self.last_hash = b""
        self.by_request = collections.defaultdict(list)  # id -> [(position, kind, fields)]

    def catch_up(self, test, stub):
        from_position = max(self.last_position, 1)
        events = list(stub.ReadEvents(STUBS.pb.ReadEventsRequest(from_position=from_position),
                                      timeout=60))
        if self.last_position > 0:
            test.assertTrue(events, f"position {self.last_position} is gone from the log")
            seen = events.pop(0)
            test.assertEqual((seen.position, seen.hash), (self.last_position, self.last_hash),
                             "an event already seen changed")
        for e in events:
            test.assertEqual(e.position, self.last_position + 1, "the log has a gap")
            if self.last_position > 0:
                test.assertEqual(e.prev_hash, self.last_hash, f"chain broken at {e.position}")
            kind, fields = event_fields(e)
            self.by_request[e.request_id].append((e.position, kind, fields))
            self.last_position, self.last_hash = e.position, e.hash
        return len(events)


class Kill9DurabilityTest(unittest.TestCase):
    def setUp(self):
        self.work = harness.make_temp_dir("ledger-kill9-")
        self.data = os.path.join(self.work, "data")
        self.server = harness.LedgerProcess(LEDGERD, self.data, self.work)
        self.rebuilt = None

    def tearDown(self):
        self.server.kill()
        if self.rebuilt is not None:
            self.rebuilt.kill()
        if os.environ.get("KEEP_E2E_DIR"):
            print(f"kept {self.work}")
        else:
            shutil.rmtree(self.work, ignore_errors=True)

    def set_up_school(self, stub, writers):
        ev, pb = STUBS.events, STUBS.pb
        stub.SetSchoolSettings(pb.SetSchoolSettingsRequest(
            school_id=SCHOOL, request_id="k9-settings",
            settings=ev.SchoolSettings(school_name="Kill9 Primary")), metadata=ADMIN, timeout=10)
        for year in YEARS:
            cal = ev.SchoolCalendarSet(academic_year=year)
            terms = {}
            for term, name, first, last in half_terms(year):
                if term not in terms:
                    terms[term] = cal.terms.add(name=term)
                terms[term].half_terms.add(name=name, first_day=first, last_day=last)
            stub.SetSchoolCalendar(pb.SetSchoolCalendarRequest(
                school_id=SCHOOL, request_id=f"k9-calendar-{year}", calendar=cal),
                metadata=ADMIN, timeout=10)
        errors = []

        def enrol(w):
            for p, pupil_id in enumerate(w.pupils):
                try:
                    stub.EnrolPupil(pb.EnrolPupilRequest(
                        school_id=SCHOOL, request_id=f"k9-enrol-{pupil_id}",
                        pupil=ev.Pupil(pupil_id=pupil_id, given_name="K", family_name=pupil_id,
                                       year_group=w.index + 1,
                                       sex=ev.FEMALE if p % 2 else ev.MALE),
                        on_roll_from=f"{YEARS[0]}-09-01"), metadata=ADMIN, timeout=10)
                except grpc.RpcError as e:
                    errors.append((pupil_id, e.code(), e.details()))

        # Concurrently: one WAL sync covers several.
        threads = [threading.Thread(target=enrol, args=(w,)) for w in writers]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        self.assertEqual(errors, [])

    def projections(self, address):
        """The read models' answers the test compares: cohorts by year group
        and sex, and every pupil's row, for each previous academic year."""
        import attendance.v1.projections_service_pb2 as ppb  # generated by the harness
        import attendance.v1.projections_service_pb2_grpc as pgrpc
        channel = grpc.insecure_channel(address)
        stub = pgrpc.ProjectionsStub(channel)
        answers = []
        try:
            for back in (1, 2, 3):
                window = ppb.Window(kind=ppb.PREVIOUS_ACADEMIC_YEAR, years_back=back)
                answers.append(stub.GetCohortAttendance(ppb.GetCohortAttendanceRequest(
                    school_id=SCHOOL, group_by=[ppb.YEAR_GROUP, ppb.SEX], window=window),
                    timeout=30))
                token = ""
                while True:
                    page = stub.ListPupilAttendance(ppb.ListPupilAttendanceRequest(
                        school_id=SCHOOL, window=window, page_size=1000, page_token=token),
                        timeout=30)
                    answers.append(page)
                    token = page.next_page_token
                    if not token:
                        break
        finally:
            channel.close()
        return answers

    def check_projections(self, mirror):
        """The running server's answers equal a rebuild's, on a copy of the
        data directory taken while it was stopped."""
        copy = os.path.join(self.work, "copy")
        self.rebuilt = harness.LedgerProcess(LEDGERD, copy, os.path.join(self.work, "rebuilt"),
                                             extra_args=["--rebuild-read-models"])
        os.makedirs(self.rebuilt.work_dir, exist_ok=True)
        self.rebuilt.start()
        live = self.projections(self.server.target)
        rebuilt = self.projections(self.rebuilt.target)
        self.rebuilt.kill()
        self.rebuilt = None
        shutil.rmtree(copy)
        shutil.rmtree(os.path.join(self.work, "rebuilt"))
        self.assertEqual(len(live), len(rebuilt))
        for a, b in zip(live, rebuilt):
            self.assertEqual(a.position, mirror.last_position,
                             "projections do not reflect the whole log")
            self.assertEqual(a, b, "projections differ from a rebuild from position 1")
        return sum(len(r.pupils) for r in live if hasattr(r, "pupils"))

    def check_requests(self, mirror, writers, final=False):
        """Every acknowledged request once, at its positions, as sent;
        unacknowledged ones whole or absent."""
        found = set()
        counts = collections.Counter()
        for w in writers:
            sent, acked = w.snapshot()
            for request_id, (kind, req) in sent.items():
                stored = mirror.by_request.get(request_id, [])
                found.add(request_id)
                got = [(k, f) for _, k, f in stored]
                want = expected_events(kind, req)
                if request_id in acked:
                    counts["acknowledged"] += 1
                    _, _, resp = acked[request_id]
                    self.assertEqual(got, want, f"{request_id}: acknowledged but not as sent")
                    self.assertEqual([p for p, _, _ in stored], acked_positions(kind, resp),
                                     f"{request_id}: stored at other positions than acknowledged")
                else:
                    self.assertIn(got, ([], want), f"{request_id}: partially stored")
                    counts["unacknowledged whole" if got else "unacknowledged absent"] += 1
        if final:
            unknown = [r for r in mirror.by_request
                       if r not in found and not r.startswith(("k9-settings", "k9-calendar-",
                                                               "k9-enrol-K"))]
            self.assertEqual(unknown, [], "events stored under unknown request ids")
        return counts

    def test_kill9_under_load(self):
        started = time.monotonic()
        rng = random.Random(9)
        target = Target()
        stop = threading.Event()
        sessions = school_sessions()
        writers = [Writer(i, target, stop, sessions) for i in range(WRITERS)]
        writers += [StreamWriter(WRITERS + i, target, stop, sessions, groups=STREAM_GROUPS)
                    for i in range(STREAM_WRITERS)]
        self.server.start()
        channel = grpc.insecure_channel(self.server.target)
        self.set_up_school(STUBS.svc.LedgerStub(channel), writers)
        channel.close()
        for w in writers:
            w.start()
        target.set_up(self.server.target)
        mirror = LogMirror()
        kills = graceful = 0
        pupil_rows = 0
        cycle_log = []
        phases = collections.Counter()  # seconds spent per check, for the summary
        in_flight = collections.Counter()  # unacknowledged at a restart: whole or absent
        while kills < KILLS:
            time.sleep(rng.uniform(*LOAD_SECONDS))
            self.assertFalse(any(w.exhausted for w in writers),
                             f"a writer ran out of sessions before kill {kills + 1}: "
                             f"{[(w.name, len(w.acked)) for w in writers]}")
            self.assertTrue(all(w.is_alive() for w in writers),
                            f"a writer stopped: {[w.errors for w in writers]}")
            target.set_down()
            stop_gracefully = (kills + graceful + 1) % GRACEFUL_EVERY == 0
            if stop_gracefully:
                self.assertEqual(self.server.stop(), 0, "ledgerd did not stop cleanly")
                graceful += 1
            else:
                self.server.kill()
                kills += 1
            self.assertTrue(target.wait_idle(timeout=30), "calls to a stopped server hung")
            lap = time.monotonic()

            def phase(name):
                nonlocal lap
                now = time.monotonic()
                phases[name] += now - lap
                lap = now

            shutil.copytree(self.data, os.path.join(self.work, "copy"))
            phase("copy")
            # --verify on the copy while the server restarts on the original.
            verified = {}
            verifier = threading.Thread(target=lambda: verified.update(result=harness.LedgerProcess(
                LEDGERD, os.path.join(self.work, "copy"), self.work).verify()))
            verifier.start()
            self.server.start()
            verifier.join()
            code, output = verified["result"]
            self.assertEqual(code, 0, f"--verify failed after restart {kills + graceful}: {output}")
            phase("restart and verify")
            channel = grpc.insecure_channel(self.server.target)
            new_events = mirror.catch_up(self, STUBS.svc.LedgerStub(channel))
            channel.close()
            counts = self.check_requests(mirror, writers)
            in_flight["whole"] += counts["unacknowledged whole"]
            in_flight["absent"] += counts["unacknowledged absent"]
            phase("log check")
            pupil_rows = self.check_projections(mirror)
            phase("projections")
            cycle_log.append(new_events)
            target.set_up(self.server.target)
        time.sleep(TAIL_SECONDS)
        stop.set()
        for w in writers:
            w.join(timeout=60)
            self.assertFalse(w.is_alive(), f"{w.name} did not finish")
        for w in writers:
            self.assertEqual(w.errors, [], w.name)

        channel = grpc.insecure_channel(self.server.target)
        mirror.catch_up(self, STUBS.svc.LedgerStub(channel))
        channel.close()
        counts = self.check_requests(mirror, writers, final=True)
        kinds = collections.Counter(kind for w in writers for kind, _, _ in w.snapshot()[1].values())
        self.assertGreater(counts["acknowledged"], KILLS,
                           "too few requests acknowledged to mean anything")
        self.server.stop()
        code, output = self.server.verify()
        self.assertEqual(code, 0, f"--verify failed: {output}")
        elapsed = time.monotonic() - started
        retries = sum(w.retries for w in writers)
        # Committed before a kill whose answer was lost: the retry was
        # answered as a replay.
        replays = sum(1 for w in writers for _, _, resp in w.snapshot()[1].values()
                      if resp.replayed)
        print(f"\nkill9: {kills} SIGKILLs and {graceful} SIGTERMs, each restart checked "
              f"(events new at each: {cycle_log}); acknowledged {dict(kinds)}; "
              f"unacknowledged at a restart: {in_flight['whole']} found whole, "
              f"{in_flight['absent']} absent; {retries} retries "
              f"({replays} answered as replays); {mirror.last_position} events; projections "
              f"({pupil_rows} pupil rows) equal a rebuild each time; {elapsed:.1f} s "
              f"({', '.join(f'{k} {v:.1f} s' for k, v in phases.items())})")


def main():
    harness.run_tests("kill9", globals(), __doc__)


if __name__ == "__main__":
    main()
