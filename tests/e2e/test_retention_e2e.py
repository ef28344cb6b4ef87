"""Retention end to end (ADR 0003): a real ledgerd erases a leaver's
personal data after its retention period, is SIGKILLed right after the
answer, and on restart the names are still gone from ReadEvents, the marks
are still there and `ledgerd --verify` passes; an erasure before the
period's end is FAILED_PRECONDITION and writes nothing.

Usage: test_retention_e2e.py LEDGERD PROTO_DIR
"""

import os
import shutil
import sys
import unittest

import grpc

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import ledger_harness as harness  # noqa: E402

SCHOOL = "ret-school"
NAMES = ("Zebedee", "Quixote", "mum phoned")


class RetentionTest(unittest.TestCase):
    def setUp(self):
        self.work = harness.make_temp_dir("ledger-retention-")
        self.server = harness.LedgerProcess(LEDGERD, os.path.join(self.work, "data"), self.work,
                                            extra_args=["--now", "2025-10-09T10:00"])

    def tearDown(self):
        self.server.kill()
        shutil.rmtree(self.work, ignore_errors=True)

    def stub(self):
        return STUBS.svc.LedgerStub(grpc.insecure_channel(self.server.target))

    def events(self, stub):
        return list(stub.ReadEvents(STUBS.pb.ReadEventsRequest(school_id=SCHOOL), timeout=10))

    def test_erasure_survives_sigkill(self):
        ev, pb = STUBS.events, STUBS.pb
        self.server.start()
        stub = self.stub()
        stub.SetSchoolSettings(pb.SetSchoolSettingsRequest(
            school_id=SCHOOL, settings=ev.SchoolSettings(school_name="Retention School",
                                                         retention_years=3)), timeout=10)
        stub.SetSchoolCalendar(pb.SetSchoolCalendarRequest(
            school_id=SCHOOL, calendar=harness.calendar_2025(ev)), timeout=10)
        stub.EnrolPupil(pb.EnrolPupilRequest(
            school_id=SCHOOL, on_roll_from="2025-09-01",
            pupil=ev.Pupil(pupil_id="R1", given_name="Zebedee", family_name="Quixote",
                           year_group=5)), timeout=10)
        stub.RecordMarks(pb.RecordMarksRequest(school_id=SCHOOL, marks=[
            pb.Mark(pupil_id="R1", date="2025-10-08", session=ev.AM, code="I",
                    comment="mum phoned at 08:40")]), timeout=10)
        stub.RemoveFromRoll(pb.RemoveFromRollRequest(
            school_id=SCHOOL, pupil_id="R1", last_day_on_roll="2025-10-09",
            reason="moved away"), timeout=10)
        erase = pb.ErasePersonalDataRequest(school_id=SCHOOL, pupil_id="R1",
                                            reason="retention period ended",
                                            authorised_by="Data Protection Officer")
        with self.assertRaises(grpc.RpcError) as early:
            stub.ErasePersonalData(erase, timeout=10)
        self.assertEqual(early.exception.code(), grpc.StatusCode.FAILED_PRECONDITION)
        self.assertIn("2028-10-09", early.exception.details())
        before = self.events(stub)
        self.assertTrue(any(e.pupil_enrolled.pupil.given_name == "Zebedee" for e in before))
        self.server.stop()

        # Three years on: erase, then SIGKILL at once.
        self.server.extra_args = ["--now", "2028-10-11T10:00"]
        self.server.start()
        stub = self.stub()
        erased = stub.ErasePersonalData(erase, timeout=10)
        self.assertEqual(erased.position, before[-1].position + 1)
        self.server.kill()

        self.server.start()
        stub = self.stub()
        after = self.events(stub)
        self.assertEqual(len(after), len(before) + 1)
        self.assertTrue(after[-1].HasField("personal_data_erased"))
        for event in after:
            text = event.SerializeToString()
            for name in NAMES:
                self.assertNotIn(name.encode(), text)
        self.assertEqual([e.hash for e in after[:-1]], [e.hash for e in before])
        marks = [e.mark_recorded for e in after if e.HasField("mark_recorded")]
        self.assertEqual([(m.date, m.code) for m in marks], [("2025-10-08", "I")])
        self.assertTrue(all(e.personal_erased for e in after
                            if e.HasField("pupil_enrolled") or e.HasField("mark_recorded")))
        # Again: idempotent, nothing written.
        self.assertEqual(stub.ErasePersonalData(erase, timeout=10).position, erased.position)
        self.assertEqual(len(self.events(stub)), len(after))
        self.server.stop()
        code, output = self.server.verify()
        self.assertEqual(code, 0, output)


if __name__ == "__main__":
    harness.run_tests("e2e.retention", globals(), __doc__)
