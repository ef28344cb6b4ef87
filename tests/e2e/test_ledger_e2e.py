#!/usr/bin/python3
"""End-to-end test of the attendance ledger through its gRPC API.

Starts the real `ledgerd` on a temporary data directory and a free port, then
sets up a school, enrols pupils, records marks (RecordMarks and StreamMarks),
amends one, checks validation errors and idempotency, reads the log back with
ReadEvents and checks it, restarts the server and checks again.

Usage: /usr/bin/python3 test_ledger_e2e.py LEDGERD PROTO_DIR [unittest args]
(or set LEDGERD and PROTO_DIR). Needs Debian's python3-grpcio.
"""

import datetime
import os
import shutil
import sys
import unittest

import grpc

import ledger_harness as harness

LEDGERD = PROTO_DIR = None
STUBS = None

# Callers by bearer token (ledgerd --tokens): the names and roles events
# record come from the tokens file, not from the request.
TOKENS = [("t-teacher", "attendance_officer", "e2e-school", "Miss C. Patel"),
          ("t-officer", "attendance_officer", "e2e-school", "Mrs A. Office"),
          ("t-admin", "admin", "*", "E2E Admin")]
TEACHER = harness.bearer("t-teacher")
OFFICER = harness.bearer("t-officer")
ADMIN = harness.bearer("t-admin")

SCHOOL = "e2e-school"
PUPILS = ["E001", "E002", "E003", "E004"]
# Autumn 1 2025: INSET on 1-2 September.
MARK_DAYS = ["2025-09-08", "2025-09-09", "2025-09-10"]
INSET_DAYS = ("2025-09-01", "2025-09-02")
STREAM_DAYS = ["2025-09-11", "2025-09-12", "2025-09-15"]


class LedgerE2ETest(unittest.TestCase):
    """One server for the whole class; tests run in name order and later ones
    rely on the school the first ones set up."""

    @classmethod
    def setUpClass(cls):
        cls.work = harness.make_temp_dir("ledger-e2e-")
        tokens = os.path.join(cls.work, "tokens")
        harness.write_tokens(tokens, TOKENS)
        cls.server = harness.LedgerProcess(LEDGERD, os.path.join(cls.work, "data"), cls.work,
                                           ["--tokens", tokens])
        cls.server.start()
        cls.connect()

    @classmethod
    def connect(cls):
        cls.channel = grpc.insecure_channel(cls.server.target)
        grpc.channel_ready_future(cls.channel).result(timeout=10)
        cls.stub = STUBS.svc.LedgerStub(cls.channel)

    @classmethod
    def tearDownClass(cls):
        cls.channel.close()
        try:
            code = cls.server.stop()
            if code != 0:
                print(f"ledgerd exited with {code} on SIGTERM\n{cls.server.log_tail()}")
        finally:
            if os.environ.get("KEEP_E2E_DIR"):
                print(f"kept {cls.work}")
            else:
                shutil.rmtree(cls.work, ignore_errors=True)

    # ---- helpers

    def read_events(self, school_id=SCHOOL, from_position=0, types=()):
        req = STUBS.pb.ReadEventsRequest(from_position=from_position, school_id=school_id,
                                         event_types=list(types))
        return list(self.stub.ReadEvents(req, metadata=ADMIN, timeout=30))

    def last_position(self):
        events = self.read_events(school_id="")
        return events[-1].position if events else 0

    def marks(self, days, session_codes=None, pupils=PUPILS):
        pb = STUBS.pb
        out = []
        for day in days:
            for session in (STUBS.events.AM, STUBS.events.PM):
                for pupil in pupils:
                    code = "/" if session == STUBS.events.AM else "\\"
                    if session_codes and (pupil, day, session) in session_codes:
                        code = session_codes[(pupil, day, session)]
                    out.append(pb.Mark(pupil_id=pupil, date=day, session=session, code=code))
        return out

    def assert_rpc_error(self, code, call, *args, **kwargs):
        with self.assertRaises(grpc.RpcError) as ctx:
            call(*args, **kwargs)
        self.assertEqual(ctx.exception.code(), code, ctx.exception.details())
        return ctx.exception.details()

    # ---- tests, in order

    def test_00_health(self):
        health = STUBS.health_svc.HealthStub(self.channel)
        try:
            resp = health.Check(STUBS.health_pb.HealthCheckRequest(service=""), timeout=5)
        except grpc.RpcError as e:
            if e.code() == grpc.StatusCode.UNIMPLEMENTED:
                self.skipTest("ledgerd does not serve grpc.health.v1.Health")
            raise
        self.assertEqual(resp.status, STUBS.health_pb.HealthCheckResponse.SERVING)

    def test_01_writes_need_an_actor(self):
        req = STUBS.pb.SetSchoolSettingsRequest(
            school_id="nobody-school", request_id="e2e-anon",
            settings=STUBS.events.SchoolSettings(school_name="Anon"))
        self.assert_rpc_error(grpc.StatusCode.UNAUTHENTICATED, self.stub.SetSchoolSettings, req,
                              timeout=10)

    def test_02_set_up_school(self):
        ev, pb = STUBS.events, STUBS.pb
        settings = ev.SchoolSettings(school_name="E2E Primary", am_register_closes="09:20",
                                     pm_register_closes="13:30", n_code_deadline_school_days=5,
                                     retention_years=6, rolling_window_weeks=[4, 6, 10, 12])
        r = self.stub.SetSchoolSettings(
            pb.SetSchoolSettingsRequest(school_id=SCHOOL, request_id="e2e-settings",
                                        settings=settings), metadata=ADMIN, timeout=10)
        self.assertGreater(r.position, 0)
        r = self.stub.SetSchoolCalendar(
            pb.SetSchoolCalendarRequest(school_id=SCHOOL, request_id="e2e-calendar",
                                        calendar=harness.calendar_2025(ev, INSET_DAYS)),
            metadata=ADMIN, timeout=10)
        self.assertGreater(r.position, 0)
        for i, pupil_id in enumerate(PUPILS):
            pupil = ev.Pupil(pupil_id=pupil_id, given_name=f"Pupil{i}", family_name="Test",
                             date_of_birth="2017-03-0%d" % (i + 1), year_group=3,
                             class_name="Year 3 Oak", sex=ev.FEMALE if i % 2 else ev.MALE,
                             send=ev.SEND_NONE, pupil_premium=(i == 0), eal=(i == 1))
            r = self.stub.EnrolPupil(
                pb.EnrolPupilRequest(school_id=SCHOOL, request_id=f"e2e-enrol-{pupil_id}",
                                     pupil=pupil, on_roll_from="2025-09-01"),
                metadata=ADMIN, timeout=10)
            self.assertEqual(r.stream_version, 1)
            self.assertFalse(r.replayed)
        # Enrolling the same pupil again under a new request id is refused.
        self.assert_rpc_error(
            grpc.StatusCode.ALREADY_EXISTS, self.stub.EnrolPupil,
            pb.EnrolPupilRequest(school_id=SCHOOL, request_id="e2e-enrol-again",
                                 pupil=ev.Pupil(pupil_id=PUPILS[0], given_name="X",
                                                family_name="Y", year_group=3),
                                 on_roll_from="2025-09-01"), metadata=ADMIN, timeout=10)

    def test_03_record_marks_and_retry(self):
        pb, ev = STUBS.pb, STUBS.events
        codes = {("E002", MARK_DAYS[0], ev.AM): "N", ("E003", MARK_DAYS[1], ev.PM): "M"}
        req = pb.RecordMarksRequest(school_id=SCHOOL, request_id="e2e-marks-1",
                                    marks=self.marks(MARK_DAYS, codes))
        late = req.marks.add(pupil_id="E004", date="2025-09-16", session=ev.AM, code="L",
                             minutes_late=12, comment="bus late")
        self.assertEqual(late.minutes_late, 12)
        r = self.stub.RecordMarks(req, metadata=TEACHER, timeout=10)
        self.assertEqual(r.recorded, len(req.marks))
        self.assertEqual(r.last_position - r.first_position + 1, len(req.marks))
        self.assertFalse(r.replayed)
        type(self).first_batch = (req, r)
        # A retry with the same id answers the original response, writes nothing.
        before = self.last_position()
        again = self.stub.RecordMarks(req, metadata=TEACHER, timeout=10)
        self.assertTrue(again.replayed)
        self.assertEqual((again.first_position, again.last_position),
                         (r.first_position, r.last_position))
        self.assertEqual(self.last_position(), before)
        # The same id with a different request is refused.
        other = pb.RecordMarksRequest(school_id=SCHOOL, request_id="e2e-marks-1",
                                      marks=self.marks(["2025-09-17"]))
        self.assert_rpc_error(grpc.StatusCode.ALREADY_EXISTS, self.stub.RecordMarks, other,
                              metadata=TEACHER, timeout=10)
        # A second mark for a session already marked is refused (amend it).
        dup = pb.RecordMarksRequest(school_id=SCHOOL, request_id="e2e-marks-dup",
                                    marks=self.marks([MARK_DAYS[0]], pupils=["E001"]))
        self.assert_rpc_error(grpc.StatusCode.ALREADY_EXISTS, self.stub.RecordMarks, dup,
                              metadata=TEACHER, timeout=10)
        self.assertEqual(self.last_position(), before)

    def test_04_validation_errors_write_nothing(self):
        pb, ev = STUBS.pb, STUBS.events
        before = self.last_position()
        # Unknown code in marks[1]: INVALID_ARGUMENT naming the field and value.
        bad = pb.RecordMarksRequest(school_id=SCHOOL, request_id="e2e-bad-code")
        bad.marks.add(pupil_id="E001", date="2025-09-17", session=ev.AM, code="/")
        bad.marks.add(pupil_id="E002", date="2025-09-17", session=ev.AM, code="ZZ")
        details = self.assert_rpc_error(grpc.StatusCode.INVALID_ARGUMENT, self.stub.RecordMarks,
                                        bad, metadata=TEACHER, timeout=10)
        self.assertIn("marks[1].code", details)
        self.assertIn("ZZ", details)
        # A code removed in 2024 (H) on a 2025 date.
        legacy = pb.RecordMarksRequest(school_id=SCHOOL, request_id="e2e-bad-legacy")
        legacy.marks.add(pupil_id="E001", date="2025-09-17", session=ev.AM, code="H")
        details = self.assert_rpc_error(grpc.StatusCode.INVALID_ARGUMENT, self.stub.RecordMarks,
                                        legacy, metadata=TEACHER, timeout=10)
        self.assertIn("marks[0].code", details)
        self.assertIn('"H"', details)
        # A Saturday, a date in half term, a malformed date.
        for i, (date, field) in enumerate((("2025-09-13", "date"), ("2025-10-28", "date"),
                                           ("2025-13-01", "date"))):
            req = pb.RecordMarksRequest(school_id=SCHOOL, request_id=f"e2e-bad-date-{i}")
            req.marks.add(pupil_id="E001", date=date, session=ev.AM, code="/")
            details = self.assert_rpc_error(grpc.StatusCode.INVALID_ARGUMENT,
                                            self.stub.RecordMarks, req, metadata=TEACHER,
                                            timeout=10)
            self.assertIn(f"marks[0].{field}", details)
            self.assertIn(date, details)
        # An empty batch.
        self.assert_rpc_error(grpc.StatusCode.INVALID_ARGUMENT, self.stub.RecordMarks,
                              pb.RecordMarksRequest(school_id=SCHOOL, request_id="e2e-empty"),
                              metadata=TEACHER, timeout=10)
        # Unknown pupil and unknown school: NOT_FOUND.
        req = pb.RecordMarksRequest(school_id=SCHOOL, request_id="e2e-bad-pupil")
        req.marks.add(pupil_id="NOPE", date="2025-09-17", session=ev.AM, code="/")
        details = self.assert_rpc_error(grpc.StatusCode.NOT_FOUND, self.stub.RecordMarks, req,
                                        metadata=TEACHER, timeout=10)
        self.assertIn("NOPE", details)
        req.school_id = "no-such-school"
        req.request_id = "e2e-bad-school"
        # Another school is not the teacher's to write to; for an admin it
        # is simply not there.
        self.assert_rpc_error(grpc.StatusCode.PERMISSION_DENIED, self.stub.RecordMarks, req,
                              metadata=TEACHER, timeout=10)
        self.assert_rpc_error(grpc.StatusCode.NOT_FOUND, self.stub.RecordMarks, req,
                              metadata=ADMIN, timeout=10)
        # Before the pupil is on roll.
        enrol = pb.EnrolPupilRequest(
            school_id=SCHOOL, request_id="e2e-enrol-late",
            pupil=ev.Pupil(pupil_id="E900", given_name="Late", family_name="Joiner",
                           year_group=3), on_roll_from="2025-10-01")
        self.stub.EnrolPupil(enrol, metadata=ADMIN, timeout=10)
        before = self.last_position()
        req = pb.RecordMarksRequest(school_id=SCHOOL, request_id="e2e-not-on-roll")
        req.marks.add(pupil_id="E900", date="2025-09-17", session=ev.AM, code="/")
        self.assert_rpc_error(grpc.StatusCode.FAILED_PRECONDITION, self.stub.RecordMarks, req,
                              metadata=TEACHER, timeout=10)
        # Nothing of any rejected request was written, and their ids are free.
        self.assertEqual(self.last_position(), before)
        ok = pb.RecordMarksRequest(school_id=SCHOOL, request_id="e2e-bad-code")
        ok.marks.add(pupil_id="E001", date="2025-09-17", session=ev.AM, code="/")
        r = self.stub.RecordMarks(ok, metadata=TEACHER, timeout=10)
        self.assertEqual(r.recorded, 1)
        self.assertFalse(r.replayed)

    def test_05_stream_marks(self):
        pb = STUBS.pb
        batches = []
        for i, day in enumerate(STREAM_DAYS):
            batches.append(pb.RecordMarksRequest(school_id=SCHOOL, request_id=f"e2e-stream-{i}",
                                                 marks=self.marks([day])))
        # A rejected batch in the middle: the stream goes on.
        bad = pb.RecordMarksRequest(school_id=SCHOOL, request_id="e2e-stream-bad",
                                    marks=self.marks(["2025-09-18"]))
        bad.marks[2].code = "??"
        batches.insert(1, bad)
        responses = list(self.stub.StreamMarks(iter(batches), metadata=TEACHER, timeout=30))
        self.assertEqual(len(responses), len(batches))
        for i, (batch, resp) in enumerate(zip(batches, responses)):
            self.assertEqual(resp.batch_index, i)
            self.assertEqual(resp.request_id, batch.request_id)
            if batch is bad:
                self.assertEqual(resp.error_code, grpc.StatusCode.INVALID_ARGUMENT.value[0])
                self.assertIn("marks[2].code", resp.error_message)
                self.assertIn("??", resp.error_message)
            else:
                self.assertEqual(resp.error_code, 0, resp.error_message)
                self.assertEqual(resp.result.recorded, len(batch.marks))
        # Streaming the same batches again replays them.
        again = list(self.stub.StreamMarks(iter(batches[:1]), metadata=TEACHER, timeout=30))
        self.assertTrue(again[0].result.replayed)
        self.assertEqual(again[0].result.first_position, responses[0].result.first_position)

    def test_06_amend_mark(self):
        pb, ev = STUBS.pb, STUBS.events
        req = pb.AmendMarkRequest(school_id=SCHOOL, request_id="e2e-amend-1", pupil_id="E002",
                                  date=MARK_DAYS[0], session=ev.AM, amended_code="I",
                                  reason="Parent phoned: illness", expected_code="N")
        r = self.stub.AmendMark(req, metadata=OFFICER, timeout=10)
        self.assertEqual(r.original_code, "N")
        self.assertFalse(r.replayed)
        self.assertTrue(self.stub.AmendMark(req, metadata=OFFICER, timeout=10).replayed)
        # A stale expectation is ABORTED; an empty reason INVALID_ARGUMENT;
        # no mark to amend NOT_FOUND.
        stale = pb.AmendMarkRequest(school_id=SCHOOL, request_id="e2e-amend-stale",
                                    pupil_id="E002", date=MARK_DAYS[0], session=ev.AM,
                                    amended_code="O", reason="x", expected_code="N")
        self.assert_rpc_error(grpc.StatusCode.ABORTED, self.stub.AmendMark, stale,
                              metadata=OFFICER, timeout=10)
        no_reason = pb.AmendMarkRequest(school_id=SCHOOL, request_id="e2e-amend-noreason",
                                        pupil_id="E001", date=MARK_DAYS[0], session=ev.AM,
                                        amended_code="L", minutes_late=5)
        self.assert_rpc_error(grpc.StatusCode.INVALID_ARGUMENT, self.stub.AmendMark, no_reason,
                              metadata=OFFICER, timeout=10)
        missing = pb.AmendMarkRequest(school_id=SCHOOL, request_id="e2e-amend-missing",
                                      pupil_id="E001", date="2025-09-22", session=ev.AM,
                                      amended_code="I", reason="x")
        self.assert_rpc_error(grpc.StatusCode.NOT_FOUND, self.stub.AmendMark, missing,
                              metadata=OFFICER, timeout=10)
        letter = pb.RecordLetterRequest(school_id=SCHOOL, request_id="e2e-letter-1",
                                        pupil_id="E002", letter_id="letter_1",
                                        channel=ev.POST, sent_on="2025-09-19", note="test")
        self.assertGreater(self.stub.RecordLetter(letter, metadata=OFFICER, timeout=10).position,
                           0)

    def test_07_read_events_back(self):
        ev, pb = STUBS.events, STUBS.pb
        events = self.read_events()
        kinds = [e.WhichOneof("payload") for e in events]
        self.assertEqual(kinds[0], "school_settings_set")
        self.assertEqual(kinds[1], "school_calendar_set")
        self.assertEqual(kinds[2:2 + len(PUPILS)], ["pupil_enrolled"] * len(PUPILS))
        # Positions strictly increase; the whole log is gapless and chained.
        everything = self.read_events(school_id="")
        self.assertEqual([e.position for e in everything], list(range(1, len(everything) + 1)))
        for prev, cur in zip(everything, everything[1:]):
            self.assertEqual(cur.prev_hash, prev.hash, f"chain broken at {cur.position}")
            self.assertEqual(len(cur.hash), 32)
        # Stream versions per pupil are gapless from 1.
        versions = {}
        for e in events:
            if e.pupil_id:
                versions.setdefault(e.pupil_id, []).append(e.stream_version)
        for pupil_id, vs in versions.items():
            self.assertEqual(vs, list(range(1, len(vs) + 1)), pupil_id)
        # Every mark recorded once, with the actor from the metadata.
        marks = {}
        for e in events:
            if e.HasField("mark_recorded"):
                m = e.mark_recorded
                key = (m.pupil_id, m.date, m.session)
                self.assertNotIn(key, marks)
                marks[key] = e
                self.assertEqual(e.actor.name, "Miss C. Patel")
                self.assertEqual(e.actor.role, "attendance_officer")
                self.assertEqual(m.taken_by.name, "Miss C. Patel")
                self.assertEqual(e.school_id, SCHOOL)
                self.assertEqual(e.pupil_id, m.pupil_id)
        expected = 2 * len(PUPILS) * (len(MARK_DAYS) + len(STREAM_DAYS)) + 2
        self.assertEqual(len(marks), expected)
        self.assertEqual(marks[("E002", MARK_DAYS[0], ev.AM)].mark_recorded.code, "N")
        self.assertEqual(marks[("E003", MARK_DAYS[1], ev.PM)].mark_recorded.code, "M")
        late = marks[("E004", "2025-09-16", ev.AM)]
        self.assertEqual((late.mark_recorded.code, late.mark_recorded.minutes_late), ("L", 12))
        self.assertEqual(late.mark_recorded.comment, "bus late")
        self.assertEqual(late.request_id, "e2e-marks-1")
        # The rejected stream batch wrote nothing.
        self.assertNotIn(("E001", "2025-09-18", ev.AM), marks)
        self.assertFalse([e for e in events if e.request_id == "e2e-stream-bad"])
        # The amendment keeps the original, the reason and the authenticated amender.
        amended = [e for e in events if e.HasField("mark_amended")]
        self.assertEqual(len(amended), 1)
        a = amended[0].mark_amended
        self.assertEqual((a.pupil_id, a.date, a.session), ("E002", MARK_DAYS[0], ev.AM))
        self.assertEqual((a.original_code, a.amended_code), ("N", "I"))
        self.assertEqual(a.reason, "Parent phoned: illness")
        self.assertEqual((a.amended_by.name, a.amended_by.role),
                         ("Mrs A. Office", "attendance_officer"))
        self.assertGreater(a.amended_at_us, 1_600_000_000 * 10**6)
        letters = [e for e in events if e.HasField("letter_sent")]
        self.assertEqual([e.letter_sent.letter_id for e in letters], ["letter_1"])
        # Filters: by type and max_events.
        only = self.read_events(types=[pb.MARK_AMENDED])
        self.assertEqual([e.position for e in only], [amended[0].position])
        limited = list(self.stub.ReadEvents(
            pb.ReadEventsRequest(school_id=SCHOOL, max_events=3), metadata=ADMIN, timeout=10))
        self.assertEqual([e.position for e in limited], [e.position for e in events[:3]])
        tail = self.read_events(from_position=events[-1].position)
        self.assertEqual([e.position for e in tail], [events[-1].position])
        # Recorded times are plausible (within a day of now).
        now_us = int(datetime.datetime.now(datetime.timezone.utc).timestamp() * 1e6)
        for e in events:
            self.assertLess(abs(e.recorded_at_us - now_us), 86400 * 10**6)

    def test_08_restart_keeps_everything(self):
        before = self.read_events(school_id="")
        self.channel.close()
        self.assertEqual(self.server.stop(), 0, self.server.log_tail())
        self.server.start()
        type(self).connect()
        after = self.read_events(school_id="")
        self.assertEqual([e.SerializeToString() for e in after],
                         [e.SerializeToString() for e in before])
        # Idempotency survives the restart: the first batch is answered as a
        # replay with its original positions, and nothing is written.
        req, first = type(self).first_batch
        r = self.stub.RecordMarks(req, metadata=TEACHER, timeout=10)
        self.assertTrue(r.replayed)
        self.assertEqual((r.first_position, r.last_position),
                         (first.first_position, first.last_position))
        self.assertEqual(self.last_position(), after[-1].position)

    def test_09_verify_chain_offline(self):
        self.channel.close()
        self.assertEqual(self.server.stop(), 0, self.server.log_tail())
        code, output = self.server.verify()
        self.assertEqual(code, 0, output)
        self.server.start()
        type(self).connect()


def main():
    harness.run_tests("e2e", globals(), __doc__)


if __name__ == "__main__":
    main()
