"""Read models of the real `ledgerd`: read your own writes, and read models
after SIGKILL.

- A write, then a Projections query with the write's position, always sees
  the write (100 times in a row, through the real server).
- Writers write while `ledgerd` is SIGKILLed, twice; after each restart the
  read models resume from their own checkpoints (the log says so), and the
  figures equal the log: the whole school's possible sessions are the marks
  ReadEvents returns.
- ReadEvents followers that stop reading do not hold up writes.

Usage: /usr/bin/python3 test_read_models_e2e.py LEDGERD PROTO_DIR
(or set LEDGERD and PROTO_DIR).
"""

import datetime
import os
import shutil
import threading
import time
import unittest

import grpc

import ledger_harness as harness

LEDGERD = PROTO_DIR = None
STUBS = None

SCHOOL = "rm-school"
# Last academic year (from 1 August): its sessions have all happened, and the
# figures ask for it as the PREVIOUS_ACADEMIC_YEAR window as of today ("as
# of" a past date would leave out marks recorded today).
_TODAY = datetime.date.today()
YEAR = (_TODAY.year if _TODAY.month >= 8 else _TODAY.year - 1) - 1
PUPILS = 30
WRITERS = 3
ADMIN = harness.actor("RM Admin", "admin")
TEACHER = harness.actor("RM Teacher", "teacher")


def school_sessions():
    """(date, session) of every weekday of the autumn term in the calendar below."""
    out = []
    day = datetime.date(YEAR, 9, 1)
    while day <= datetime.date(YEAR, 12, 18):
        if day.weekday() < 5:
            out.append((day.isoformat(), "AM"))
            out.append((day.isoformat(), "PM"))
        day += datetime.timedelta(days=1)
    return out


def projections_stubs():
    import attendance.v1.projections_service_pb2 as ppb  # noqa: E402
    import attendance.v1.projections_service_pb2_grpc as psvc  # noqa: E402
    return ppb, psvc


def server_rss_kb(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


class ReadModelsTest(unittest.TestCase):
    def setUp(self):
        self.work = harness.make_temp_dir("ledger-read-models-")
        self.server = harness.LedgerProcess(LEDGERD, os.path.join(self.work, "data"), self.work)
        self.server.start()
        self.connect()
        self.set_up_school()

    def tearDown(self):
        self.channel.close()
        self.server.kill()
        shutil.rmtree(self.work, ignore_errors=True)

    def connect(self):
        ppb, psvc = projections_stubs()
        self.ppb = ppb
        self.channel = grpc.insecure_channel(self.server.target)
        self.ledger = STUBS.svc.LedgerStub(self.channel)
        self.projections = psvc.ProjectionsStub(self.channel)

    def set_up_school(self):
        ev, pb = STUBS.events, STUBS.pb
        self.ledger.SetSchoolSettings(pb.SetSchoolSettingsRequest(
            school_id=SCHOOL, request_id="settings",
            settings=ev.SchoolSettings(school_name="Read Model Primary")), metadata=ADMIN,
            timeout=10)
        cal = ev.SchoolCalendarSet(academic_year=YEAR)
        autumn = cal.terms.add(name="Autumn")
        autumn.half_terms.add(name="Autumn", first_day=f"{YEAR}-09-01", last_day=f"{YEAR}-12-18")
        self.ledger.SetSchoolCalendar(pb.SetSchoolCalendarRequest(
            school_id=SCHOOL, request_id="calendar", calendar=cal), metadata=ADMIN, timeout=10)
        # P00..: the writers' pupils; PX: marked once after each restart.
        for pupil_id in [f"P{p:02d}" for p in range(PUPILS)] + ["PX"]:
            self.ledger.EnrolPupil(pb.EnrolPupilRequest(
                school_id=SCHOOL, request_id=f"enrol-{pupil_id}",
                pupil=ev.Pupil(pupil_id=pupil_id, given_name="R", family_name=pupil_id,
                               year_group=3),
                on_roll_from=f"{YEAR}-09-01"), metadata=ADMIN, timeout=10)

    def marks_in_log(self):
        request = STUBS.pb.ReadEventsRequest(school_id=SCHOOL,
                                             event_types=[STUBS.pb.MARK_RECORDED])
        return sum(1 for _ in self.ledger.ReadEvents(request, timeout=60))

    def last_year(self):
        return self.ppb.Window(kind=self.ppb.PREVIOUS_ACADEMIC_YEAR, years_back=1)

    def whole_school_possible(self, min_position):
        answer = self.projections.GetCohortAttendance(self.ppb.GetCohortAttendanceRequest(
            school_id=SCHOOL, window=self.last_year(), min_position=min_position), timeout=30)
        return answer.whole_school.figures.possible_sessions

    def pupil_possible_last_year(self, answer):
        for window in answer.windows:
            if window.window.kind == self.ppb.PREVIOUS_ACADEMIC_YEAR and window.window.years_back == 1:
                return window.figures.possible_sessions
        self.fail(f"no previous-year window in {answer}")

    def test_a_query_with_a_writes_position_sees_it(self):
        pb = STUBS.pb
        for i, (date, session) in enumerate(school_sessions()[:100]):
            written = self.ledger.RecordMarks(pb.RecordMarksRequest(
                school_id=SCHOOL, request_id=f"ryw-{i}",
                marks=[pb.Mark(pupil_id="P00", date=date, session=session, code="/")]),
                metadata=TEACHER, timeout=10)
            answer = self.projections.GetPupilAttendance(self.ppb.GetPupilAttendanceRequest(
                school_id=SCHOOL, pupil_id="P00", min_position=written.last_position), timeout=30)
            self.assertEqual(self.pupil_possible_last_year(answer), i + 1, (i, date))

    def test_read_models_after_sigkill_equal_the_log(self):
        sessions = school_sessions()
        next_session = [0]
        lock = threading.Lock()
        acked = [0]

        def writer(stop, target):
            pb = STUBS.pb
            channel = grpc.insecure_channel(target)
            stub = STUBS.svc.LedgerStub(channel)
            try:
                while not stop.is_set():
                    with lock:
                        if next_session[0] >= len(sessions):
                            return
                        date, session = sessions[next_session[0]]
                        next_session[0] += 1
                    request = pb.RecordMarksRequest(
                        school_id=SCHOOL, request_id=f"k-{date}-{session}",
                        marks=[pb.Mark(pupil_id=f"P{p:02d}", date=date, session=session, code="/")
                               for p in range(PUPILS)])
                    stub.RecordMarks(request, metadata=TEACHER, timeout=10)
                    with lock:
                        acked[0] += 1
            except grpc.RpcError:
                pass  # the server went away mid-call
            finally:
                channel.close()

        for kill in range(2):
            stop = threading.Event()
            threads = [threading.Thread(target=writer, args=(stop, self.server.target))
                       for _ in range(WRITERS)]
            for t in threads:
                t.start()
            # Kill once a good part of the load is in.
            while acked[0] < 20 * (kill + 1) and next_session[0] < len(sessions):
                time.sleep(0.01)
            self.server.kill()
            stop.set()
            for t in threads:
                t.join()
            self.channel.close()
            self.server.start()
            self.connect()
            head = self.ledger.RecordMarks(STUBS.pb.RecordMarksRequest(
                school_id=SCHOOL, request_id=f"after-kill-{kill}",
                marks=[STUBS.pb.Mark(pupil_id="PX", date=sessions[0][0],
                                     session="AM" if kill == 0 else "PM", code="/")]),
                metadata=TEACHER, timeout=10)
            expected = self.marks_in_log()
            self.assertEqual(self.whole_school_possible(head.last_position), expected)
        with open(self.server.log_path) as f:
            log = f.read()
        # Resumed from their own checkpoints (the mark history writes one at
        # every publish, so it always has one to resume from).
        self.assertIn("read model audit.mark_history.v1 restored at position", log)

    def test_stalled_followers_do_not_hold_up_writes(self):
        pb = STUBS.pb
        rss_before = server_rss_kb(self.server.proc.pid)
        followers = []
        for _ in range(10):
            # Never read: the server fills the stream's flow-control window,
            # then its Write blocks with at most one chunk read.
            call = self.ledger.ReadEvents(pb.ReadEventsRequest(follow=True), timeout=120)
            followers.append(call)
        sessions = school_sessions()[:120]
        for i, (date, session) in enumerate(sessions):
            self.ledger.RecordMarks(pb.RecordMarksRequest(
                school_id=SCHOOL, request_id=f"stall-{i}",
                marks=[pb.Mark(pupil_id=f"P{p:02d}", date=date, session=session, code="/")
                       for p in range(PUPILS)]), metadata=TEACHER, timeout=10)
        rss_after = server_rss_kb(self.server.proc.pid)
        print(f"ledgerd RSS with 10 stalled followers: {rss_before} kB -> {rss_after} kB "
              f"after {len(sessions) * PUPILS} marks")
        # Every write was acknowledged while the followers stalled; now one
        # of them reads on and gets everything, in order.
        first = followers[0]
        position = 0
        for event in first:
            self.assertEqual(event.position, position + 1)
            position = event.position
            if position >= PUPILS + 3 + len(sessions) * PUPILS:
                break
        for call in followers:
            call.cancel()


def main():
    harness.run_tests("read-models", globals(), __doc__)


if __name__ == "__main__":
    main()
