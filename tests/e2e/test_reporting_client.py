"""tools/reporting_client.py against the real `ledgerd`: the client follows
one school's projection feed into SQLite while marks and amendments are
pushed; it is SIGKILLed twice and the server once; at the end its table
equals the server's own projection (GetPupilAttendance and
ListPupilAttendance) row for row, and its checkpoint is the log's head.

Usage: /usr/bin/python3 test_reporting_client.py LEDGERD PROTO_DIR
"""

import datetime
import os
import shutil
import signal
import sqlite3
import subprocess
import threading
import time
import unittest

import grpc

import ledger_harness as harness

LEDGERD = PROTO_DIR = None
STUBS = None

SCHOOL = "feed-school"
OTHER = "other-school"  # its events must not reach the client's table
_TODAY = datetime.date.today()
YEAR = (_TODAY.year if _TODAY.month >= 8 else _TODAY.year - 1) - 1
PUPILS = 24
CLIENT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "tools",
                      "reporting_client.py")


def school_sessions():
    out = []
    day = datetime.date(YEAR, 9, 1)
    while day <= datetime.date(YEAR, 12, 18):
        if day.weekday() < 5:
            out.append((day.isoformat(), "AM"))
            out.append((day.isoformat(), "PM"))
        day += datetime.timedelta(days=1)
    return out


class ReportingClientTest(unittest.TestCase):
    def setUp(self):
        self.work = harness.make_temp_dir("ledger-reporting-")
        self.server = harness.LedgerProcess(LEDGERD, os.path.join(self.work, "data"), self.work)
        self.target_file = os.path.join(self.work, "target")
        self.db_path = os.path.join(self.work, "report.sqlite")
        self.start_server()
        self.client = None

    def tearDown(self):
        if self.client is not None and self.client.poll() is None:
            self.client.kill()
            self.client.wait()
        self.channel.close()
        self.server.kill()
        shutil.rmtree(self.work, ignore_errors=True)

    def start_server(self):
        self.server.start()
        with open(self.target_file + ".tmp", "w") as f:
            f.write(self.server.target)
        os.rename(self.target_file + ".tmp", self.target_file)
        self.channel = grpc.insecure_channel(self.server.target)
        self.ledger = STUBS.svc.LedgerStub(self.channel)
        import attendance.v1.projections_service_pb2_grpc as psvc  # noqa: E402
        import attendance.v1.feeds_service_pb2_grpc as fsvc  # noqa: E402
        self.projections = psvc.ProjectionsStub(self.channel)
        self.feeds = fsvc.FeedsStub(self.channel)

    def start_client(self):
        self.client = subprocess.Popen(
            ["/usr/bin/python3", CLIENT, "--proto-dir", PROTO_DIR, "--school", SCHOOL,
             "--db", self.db_path, "--target-file", self.target_file, "--window",
             "previous-year"], stdout=subprocess.DEVNULL, stderr=open(
                 os.path.join(self.work, "client.log"), "ab"))

    def kill_client(self):
        self.client.send_signal(signal.SIGKILL)
        self.client.wait()

    def client_position(self):
        try:
            db = sqlite3.connect(self.db_path)
            try:
                row = db.execute("SELECT position FROM checkpoint WHERE school_id = ?",
                                 (SCHOOL,)).fetchone()
            finally:
                db.close()
            return row[0] if row else 0
        except sqlite3.Error:
            return 0

    def head(self):
        import attendance.v1.feeds_service_pb2 as fpb  # noqa: E402
        for message in self.feeds.SubscribeEvents(fpb.SubscribeEventsRequest(from_now=True),
                                                  timeout=10):
            return message.position

    def set_up_school(self, school):
        ev, pb = STUBS.events, STUBS.pb
        self.ledger.SetSchoolSettings(pb.SetSchoolSettingsRequest(
            school_id=school, request_id="settings",
            settings=ev.SchoolSettings(school_name="Feed Primary")), timeout=10)
        cal = ev.SchoolCalendarSet(academic_year=YEAR)
        autumn = cal.terms.add(name="Autumn")
        autumn.half_terms.add(name="Autumn", first_day=f"{YEAR}-09-01", last_day=f"{YEAR}-12-18")
        self.ledger.SetSchoolCalendar(pb.SetSchoolCalendarRequest(
            school_id=school, request_id="calendar", calendar=cal), timeout=10)
        for p in range(PUPILS):
            self.ledger.EnrolPupil(pb.EnrolPupilRequest(
                school_id=school, request_id=f"enrol-{p}",
                pupil=ev.Pupil(pupil_id=f"P{p:02d}", given_name="F", family_name=f"P{p:02d}",
                               year_group=4),
                on_roll_from=f"{YEAR}-09-01"), timeout=10)

    def push(self, sessions, stop):
        """Marks for every pupil of both schools, session by session, and an
        amendment of a few of them to N or back; retries through restarts
        with the same request ids."""
        pb = STUBS.pb
        codes = ["/", "/", "/", "N", "I", "/", "M", "/", "G", "/"]
        for i, (date, session) in enumerate(sessions):
            if stop.is_set():
                return
            calls = []
            for school in (SCHOOL, OTHER):
                calls.append(lambda s=school: self.ledger.RecordMarks(pb.RecordMarksRequest(
                    school_id=s, request_id=f"m-{date}-{session}",
                    marks=[pb.Mark(pupil_id=f"P{p:02d}", date=date, session=session,
                                   code=codes[(p + i) % len(codes)]) for p in range(PUPILS)]),
                    timeout=10))
            for p in range(0, PUPILS, 5):
                code = codes[(p + i) % len(codes)]
                calls.append(lambda p=p, code=code: self.ledger.AmendMark(pb.AmendMarkRequest(
                    school_id=SCHOOL, request_id=f"a-{date}-{session}-{p}", pupil_id=f"P{p:02d}",
                    date=date, session=session, amended_code="N" if code != "N" else "M",
                    reason="e2e"), timeout=10))
            for call in calls:
                while not stop.is_set():
                    try:
                        call()
                        break
                    except grpc.RpcError as e:
                        if e.code() != grpc.StatusCode.UNAVAILABLE:
                            raise
                        time.sleep(0.05)
                    except ValueError:  # the channel was closed for a restart
                        time.sleep(0.05)

    def wait_for_client(self, position, timeout=120):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.client_position() >= position:
                return
            time.sleep(0.05)
        self.fail(f"the client is at {self.client_position()}, the log at {position}")

    def test_client_table_equals_the_projection_after_kills(self):
        self.set_up_school(SCHOOL)
        self.set_up_school(OTHER)
        sessions = school_sessions()
        thirds = [sessions[:40], sessions[40:80], sessions[80:120]]
        self.start_client()
        stop = threading.Event()
        for step, part in enumerate(thirds):
            pusher = threading.Thread(target=self.push, args=(part, stop))
            pusher.start()
            start = self.client_position()
            while self.client_position() == start and pusher.is_alive():
                time.sleep(0.02)
            if step < 2:
                self.kill_client()  # mid-stream, while marks are pushed
                self.start_client()
            else:
                self.server.kill()  # the server, mid-push
                self.channel.close()
                self.start_server()
            pusher.join()
        # The last push may have been cut by the kill: push it again (replays).
        self.push(thirds[2], threading.Event())
        self.wait_for_client(self.head())
        self.kill_client()
        self.client = None
        self.compare()

    def compare(self):
        import attendance.v1.projections_service_pb2 as ppb  # noqa: E402
        db = sqlite3.connect(self.db_path)
        rows = {r[0]: r[1:] for r in db.execute(
            "SELECT pupil_id, possible, attended, authorised, unauthorised, "
            "persistent_absence, severe_absence, band FROM pupil_figures")}
        db.close()
        window = ppb.Window(kind=ppb.PREVIOUS_ACADEMIC_YEAR, years_back=1)
        listed = self.projections.ListPupilAttendance(ppb.ListPupilAttendanceRequest(
            school_id=SCHOOL, window=window, page_size=1000), timeout=30)
        self.assertEqual(sorted(rows), sorted(r.pupil.pupil_id for r in listed.pupils))
        bands = set()
        for pupil_id, row in rows.items():
            answer = self.projections.GetPupilAttendance(ppb.GetPupilAttendanceRequest(
                school_id=SCHOOL, pupil_id=pupil_id), timeout=30)
            figures = [w.figures for w in answer.windows
                       if w.window.kind == ppb.PREVIOUS_ACADEMIC_YEAR
                       and w.window.years_back == 1][0]
            band = ("severe" if figures.severe_absence else
                    "persistent" if figures.persistent_absence else "none")
            bands.add(band)
            self.assertEqual(row, (figures.possible_sessions, figures.attended_sessions,
                                   figures.authorised_absence, figures.unauthorised_absence,
                                   int(figures.persistent_absence), int(figures.severe_absence),
                                   band), pupil_id)
        self.assertEqual(len(rows), PUPILS)
        self.assertGreater(len(bands), 1, "the marks should put pupils in different bands")


def main():
    harness.run_tests("reporting-client", globals(), __doc__)


if __name__ == "__main__":
    main()
