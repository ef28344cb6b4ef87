#!/usr/bin/python3
"""Status messages stay valid UTF-8 whatever a client sends (issue 10,
finding 5), and oversized repeated fields are refused (finding 1), through
the real `ledgerd` from Python.

Python's grpc decodes a status message with errors="replace", so a message
that was not UTF-8 shows up as U+FFFD; a StreamMarks answer carries its
message in a proto3 string, which Python refuses to parse at all unless it
is UTF-8 (the finding: the whole stream failed with INTERNAL and the answer
to the next, valid batch was lost). The inputs below never contain U+FFFD,
so any in a message means the server split or passed on a bad character.

Invalid UTF-8 cannot be put in a string field by Python's protobuf, so those
requests are sent as raw bytes: a valid request is serialized with a
placeholder and the placeholder's bytes are replaced by bytes of the same
length that are not UTF-8.

Usage: /usr/bin/python3 test_safe_messages.py LEDGERD PROTO_DIR [unittest args]
"""

import os
import shutil
import unittest

import grpc

import ledger_harness as harness

LEDGERD = PROTO_DIR = None
STUBS = None

ADMIN = harness.actor("Safe Admin", "admin")
TEACHER = harness.actor("Safe Teacher", "teacher")
SCHOOL = "utf8-school"
EURO = "\u20ac"           # three bytes in UTF-8
EMOJI = "\U0001f600"      # four bytes
PLACEHOLDER = "QQQQQQQQ"  # replaced by INVALID in raw requests
INVALID = b"\xff\xfe\xe2\x82\xc3\x28\xed\xa0"  # not UTF-8, same length


class SafeMessagesTest(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        cls.work = harness.make_temp_dir("ledger-utf8-")
        cls.server = harness.LedgerProcess(LEDGERD, os.path.join(cls.work, "data"), cls.work)
        cls.server.start()
        cls.channel = grpc.insecure_channel(cls.server.target)
        grpc.channel_ready_future(cls.channel).result(timeout=10)
        cls.stub = STUBS.svc.LedgerStub(cls.channel)
        import attendance.v1.projections_service_pb2 as projections_pb2
        import attendance.v1.projections_service_pb2_grpc as projections_grpc
        cls.ppb = projections_pb2
        cls.projections = projections_grpc.ProjectionsStub(cls.channel)
        cls.set_up_school()

    @classmethod
    def tearDownClass(cls):
        cls.channel.close()
        try:
            code = cls.server.stop()
            if code != 0:
                print(f"ledgerd exited with {code} on SIGTERM\n{cls.server.log_tail()}")
        finally:
            shutil.rmtree(cls.work, ignore_errors=True)

    @classmethod
    def set_up_school(cls):
        ev, pb = STUBS.events, STUBS.pb
        cls.stub.SetSchoolSettings(pb.SetSchoolSettingsRequest(
            school_id=SCHOOL, settings=ev.SchoolSettings(school_name="UTF-8 Primary")),
            metadata=ADMIN, timeout=10)
        cal = ev.SchoolCalendarSet(academic_year=2025)
        term = cal.terms.add(name="Autumn")
        term.half_terms.add(name="Autumn 1", first_day="2025-09-01", last_day="2025-10-24")
        cls.stub.SetSchoolCalendar(pb.SetSchoolCalendarRequest(school_id=SCHOOL, calendar=cal),
                                   metadata=ADMIN, timeout=10)
        cls.stub.EnrolPupil(pb.EnrolPupilRequest(
            school_id=SCHOOL, on_roll_from="2025-09-01",
            pupil=ev.Pupil(pupil_id="U001", given_name="Zo\u00eb", family_name="Test",
                           year_group=3)), metadata=ADMIN, timeout=10)

    # ---- helpers

    def last_position(self):
        events = list(self.stub.ReadEvents(STUBS.pb.ReadEventsRequest(), timeout=30))
        return events[-1].position if events else 0

    def refused(self, call, request, metadata=TEACHER):
        """Calls and expects an error; checks its message; returns (code, message)."""
        with self.assertRaises(grpc.RpcError) as ctx:
            result = call(request, metadata=metadata, timeout=10)
            if hasattr(result, "__iter__") and not hasattr(result, "ByteSize"):
                list(result)
        details = ctx.exception.details() or ""
        self.assertNotIn("\ufffd", details, f"{call}: message was not UTF-8")
        return ctx.exception.code(), details

    def raw(self, method, request, response_type):
        """Sends `request` with PLACEHOLDER's bytes replaced by INVALID."""
        data = request.SerializeToString()
        self.assertIn(PLACEHOLDER.encode(), data)
        data = data.replace(PLACEHOLDER.encode(), INVALID)
        call = self.channel.unary_unary(method, request_serializer=None,
                                        response_deserializer=response_type.FromString)
        with self.assertRaises(grpc.RpcError) as ctx:
            call(data, metadata=TEACHER, timeout=10)
        details = ctx.exception.details() or ""
        self.assertNotIn("\ufffd", details, f"{method}: message was not UTF-8")
        return ctx.exception.code(), details

    # ---- tests

    def test_multi_byte_input_to_every_method(self):
        ev, pb, ppb = STUBS.events, STUBS.pb, self.ppb
        long_euro = EURO * 100
        before = self.last_position()
        mark = pb.Mark(pupil_id="U001", date="2025-09-08", session=ev.AM, code="/")
        cases = [
            (self.stub.RecordMarks, pb.RecordMarksRequest(school_id=long_euro, request_id="r1",
                                                          marks=[mark])),
            (self.stub.RecordMarks, pb.RecordMarksRequest(
                school_id=SCHOOL, marks=[pb.Mark(pupil_id=long_euro, date="2025-09-08",
                                                 session=ev.AM, code="/")])),
            (self.stub.RecordMarks, pb.RecordMarksRequest(
                school_id=SCHOOL, marks=[pb.Mark(pupil_id="U001", date=EMOJI * 50,
                                                 session=ev.AM, code=long_euro)])),
            (self.stub.RecordMarks, pb.RecordMarksRequest(
                school_id=SCHOOL, marks=[pb.Mark(pupil_id="U001", date="2025-09-08",
                                                 session=ev.AM, code="/",
                                                 comment=EURO * 2001)])),
            (self.stub.AmendMark, pb.AmendMarkRequest(
                school_id=SCHOOL, pupil_id="U001", date="2025-09-08", session=ev.AM,
                amended_code=long_euro, reason=EURO)),
            (self.stub.AmendMark, pb.AmendMarkRequest(
                school_id=SCHOOL, pupil_id=long_euro, date=long_euro, session=ev.AM,
                amended_code="I", reason=EURO * 2001)),
            (self.stub.RecordLetter, pb.RecordLetterRequest(
                school_id=SCHOOL, pupil_id="U001", letter_id=long_euro, channel=ev.POST,
                sent_on="2025-09-08")),
            (self.stub.RecordLetter, pb.RecordLetterRequest(
                school_id=SCHOOL, pupil_id="U001", letter_id="letter_1", channel=ev.POST,
                sent_on=long_euro)),
            (self.stub.EnrolPupil, pb.EnrolPupilRequest(
                school_id=SCHOOL, on_roll_from="2025-09-01",
                pupil=ev.Pupil(pupil_id=long_euro, given_name="A", family_name="B"))),
            (self.stub.EnrolPupil, pb.EnrolPupilRequest(
                school_id=SCHOOL, on_roll_from="2025-09-01",
                pupil=ev.Pupil(pupil_id="U002", given_name=EURO * 101, family_name="B"))),
            (self.stub.UpdatePupil, pb.UpdatePupilRequest(
                school_id=SCHOOL, effective_from=long_euro,
                pupil=ev.Pupil(pupil_id="U001", given_name="A", family_name="B"))),
            (self.stub.RemoveFromRoll, pb.RemoveFromRollRequest(
                school_id=SCHOOL, pupil_id="U001", last_day_on_roll=long_euro, reason="x")),
            (self.stub.SetSchoolCalendar, pb.SetSchoolCalendarRequest(
                school_id=SCHOOL, calendar=ev.SchoolCalendarSet(
                    academic_year=2025, terms=[ev.Term(name=EURO * 101, half_terms=[
                        ev.HalfTerm(first_day="2025-09-01", last_day="2025-10-24")])]))),
            (self.stub.SetSchoolCalendar, pb.SetSchoolCalendarRequest(
                school_id=SCHOOL, calendar=ev.SchoolCalendarSet(
                    academic_year=2025, terms=[ev.Term(name="Autumn", half_terms=[
                        ev.HalfTerm(first_day=long_euro, last_day="2025-10-24")])]))),
            (self.stub.SetSchoolSettings, pb.SetSchoolSettingsRequest(
                school_id=SCHOOL, settings=ev.SchoolSettings(school_name="x",
                                                             am_register_closes=long_euro))),
            (self.stub.SetSchoolSettings, pb.SetSchoolSettingsRequest(
                school_id=long_euro, request_id="s1",
                settings=ev.SchoolSettings(school_name="x"))),
            (self.projections.GetPupilAttendance, ppb.GetPupilAttendanceRequest(
                school_id=long_euro, pupil_id="U001")),
            (self.projections.GetPupilAttendance, ppb.GetPupilAttendanceRequest(
                school_id=SCHOOL, pupil_id=long_euro)),
            (self.projections.GetPupilAttendance, ppb.GetPupilAttendanceRequest(
                school_id=SCHOOL, pupil_id="U001", as_of=long_euro)),
            (self.projections.ListPupilAttendance, ppb.ListPupilAttendanceRequest(
                school_id=SCHOOL, page_token=long_euro)),
            (self.projections.ListPupilAttendance, ppb.ListPupilAttendanceRequest(
                school_id=SCHOOL, cohort=[ppb.CohortFilter(attribute=ppb.SEX, value=long_euro)])),
            (self.projections.GetCohortAttendance, ppb.GetCohortAttendanceRequest(
                school_id=long_euro)),
            (self.projections.GetCohortAttendance, ppb.GetCohortAttendanceRequest(
                school_id=SCHOOL, as_of=EMOJI * 90)),
        ]
        for call, request in cases:
            code, details = self.refused(call, request)
            self.assertIn(code, (grpc.StatusCode.INVALID_ARGUMENT, grpc.StatusCode.NOT_FOUND),
                          details)
        # Quoted values are cut at 80 characters, not bytes.
        code, details = self.refused(self.stub.RecordMarks, cases[0][1])
        self.assertEqual(details, f'school_id: "{EURO * 80}..." must be 1 to 64 characters')
        # Limits count characters: 2,000 euro signs (6,000 bytes) are a valid comment.
        ok = pb.RecordMarksRequest(school_id=SCHOOL, marks=[pb.Mark(
            pupil_id="U001", date="2025-09-08", session=ev.AM, code="/", comment=EURO * 2000)])
        self.assertEqual(self.stub.RecordMarks(ok, metadata=TEACHER, timeout=10).recorded, 1)
        self.assertEqual(self.last_position(), before + 1)

    def test_stream_marks_thirty_euro_signs_then_a_valid_batch(self):
        pb, ev = STUBS.pb, STUBS.events
        bad = pb.RecordMarksRequest(school_id=EURO * 30, request_id="euro-batch", marks=[
            pb.Mark(pupil_id="U001", date="2025-09-09", session=ev.AM, code="/")])
        good = pb.RecordMarksRequest(school_id=SCHOOL, request_id="after-euro", marks=[
            pb.Mark(pupil_id="U001", date="2025-09-09", session=ev.AM, code="/")])
        answers = list(self.stub.StreamMarks(iter([bad, good]), metadata=TEACHER, timeout=30))
        self.assertEqual(len(answers), 2)
        self.assertEqual(answers[0].error_code, grpc.StatusCode.INVALID_ARGUMENT.value[0])
        self.assertEqual(answers[0].error_message,
                         f'school_id: "{EURO * 30}" may only contain letters, digits and - _ . :')
        self.assertEqual(answers[1].error_code, 0, answers[1].error_message)
        self.assertEqual(answers[1].result.recorded, 1)

    def test_invalid_utf8_is_refused_with_a_valid_message(self):
        ev, pb, ppb = STUBS.events, STUBS.pb, self.ppb
        before = self.last_position()
        cases = [
            ("/attendance.v1.Ledger/RecordMarks", pb.RecordMarksResponse,
             pb.RecordMarksRequest(school_id=SCHOOL, marks=[pb.Mark(
                 pupil_id="U001", date="2025-09-10", session=ev.AM, code="/",
                 comment=PLACEHOLDER)])),
            ("/attendance.v1.Ledger/RecordMarks", pb.RecordMarksResponse,
             pb.RecordMarksRequest(school_id=PLACEHOLDER, request_id="raw-1", marks=[pb.Mark(
                 pupil_id="U001", date="2025-09-10", session=ev.AM, code="/")])),
            ("/attendance.v1.Ledger/AmendMark", pb.AmendMarkResponse,
             pb.AmendMarkRequest(school_id=SCHOOL, pupil_id="U001", date="2025-09-08",
                                 session=ev.AM, amended_code="I", reason=PLACEHOLDER)),
            ("/attendance.v1.Ledger/RecordLetter", pb.WriteResponse,
             pb.RecordLetterRequest(school_id=SCHOOL, pupil_id="U001", letter_id="l1",
                                    channel=ev.POST, sent_on="2025-09-08", note=PLACEHOLDER)),
            ("/attendance.v1.Ledger/EnrolPupil", pb.WriteResponse,
             pb.EnrolPupilRequest(school_id=SCHOOL, on_roll_from="2025-09-01", pupil=ev.Pupil(
                 pupil_id="U003", given_name=PLACEHOLDER, family_name="B"))),
            ("/attendance.v1.Ledger/UpdatePupil", pb.WriteResponse,
             pb.UpdatePupilRequest(school_id=SCHOOL, effective_from="2025-09-01", pupil=ev.Pupil(
                 pupil_id="U001", given_name="A", family_name=PLACEHOLDER))),
            ("/attendance.v1.Ledger/RemoveFromRoll", pb.WriteResponse,
             pb.RemoveFromRollRequest(school_id=SCHOOL, pupil_id="U001",
                                      last_day_on_roll="2025-10-01", reason=PLACEHOLDER)),
            ("/attendance.v1.Ledger/SetSchoolCalendar", pb.WriteResponse,
             pb.SetSchoolCalendarRequest(school_id=SCHOOL, calendar=ev.SchoolCalendarSet(
                 academic_year=2025, terms=[ev.Term(name=PLACEHOLDER, half_terms=[
                     ev.HalfTerm(first_day="2025-09-01", last_day="2025-10-24")])]))),
            ("/attendance.v1.Ledger/SetSchoolSettings", pb.WriteResponse,
             pb.SetSchoolSettingsRequest(school_id=SCHOOL,
                                         settings=ev.SchoolSettings(school_name=PLACEHOLDER))),
            ("/attendance.v1.Projections/GetPupilAttendance", ppb.PupilAttendance,
             ppb.GetPupilAttendanceRequest(school_id=PLACEHOLDER, pupil_id="U001")),
            ("/attendance.v1.Projections/ListPupilAttendance", ppb.ListPupilAttendanceResponse,
             ppb.ListPupilAttendanceRequest(school_id=SCHOOL, page_token=PLACEHOLDER)),
            ("/attendance.v1.Projections/GetCohortAttendance", ppb.CohortAttendanceResponse,
             ppb.GetCohortAttendanceRequest(school_id=SCHOOL, as_of=PLACEHOLDER)),
        ]
        for method, response_type, request in cases:
            code, details = self.raw(method, request, response_type)
            # gRPC's C++ parser refuses a proto3 string that is not UTF-8
            # before any handler runs, answering INTERNAL with an empty
            # message (gRPC's behaviour: the handlers never see the bytes).
            self.assertEqual(code, grpc.StatusCode.INTERNAL, method)
        # ReadEvents is a server stream.
        data = STUBS.pb.ReadEventsRequest(school_id=PLACEHOLDER).SerializeToString()
        call = self.channel.unary_stream("/attendance.v1.Ledger/ReadEvents",
                                         request_serializer=None,
                                         response_deserializer=STUBS.events.EventEnvelope.FromString)
        with self.assertRaises(grpc.RpcError) as ctx:
            list(call(data.replace(PLACEHOLDER.encode(), INVALID), timeout=10))
        self.assertNotIn("\ufffd", ctx.exception.details() or "")
        self.assertEqual(self.last_position(), before)

    def test_oversized_repeated_fields_are_refused(self):
        ppb, pb = self.ppb, STUBS.pb
        code, details = self.refused(self.projections.GetCohortAttendance,
                                     ppb.GetCohortAttendanceRequest(
                                         school_id=SCHOOL, group_by=[ppb.YEAR_GROUP] * 1_000_000))
        self.assertEqual(code, grpc.StatusCode.INVALID_ARGUMENT)
        self.assertEqual(details, "group_by: 1000000 attributes is more than the limit of 4")
        filters = [ppb.CohortFilter(attribute=ppb.YEAR_GROUP, value="3")] * 200_000
        code, details = self.refused(self.projections.ListPupilAttendance,
                                     ppb.ListPupilAttendanceRequest(school_id=SCHOOL,
                                                                    cohort=filters))
        self.assertEqual(code, grpc.StatusCode.INVALID_ARGUMENT)
        self.assertEqual(details, "cohort: 200000 filters is more than the limit of 10")
        code, details = self.refused(self.stub.ReadEvents, pb.ReadEventsRequest(
            event_types=[pb.MARK_RECORDED] * 100_000))
        self.assertEqual(code, grpc.StatusCode.INVALID_ARGUMENT)
        limit = max(pb.EventType.values())  # one entry per event type
        self.assertEqual(details,
                         f"event_types: 100000 types is more than the limit of {limit}")


def main():
    harness.run_tests("e2e.safe_messages", globals(), __doc__)


if __name__ == "__main__":
    main()
