#!/usr/bin/python3
"""End-to-end test of the audit trail (attendance.v1.Audit) on the real ledgerd.

Sets up a school, records marks, amends some of them (a reason with a comma
and quotes among them), then: GetMarkHistory; ReplayAmendments, written as
CSV with the csv module, parsed back and checked against what was amended;
the unauthorised->authorised filter; GetRegisterAsOf before the amendments;
a pupil's timeline;
a signed head from GetLedgerHead checked by VerifyLedger, and, after the
server stops, by the offline `ledger-verify` (beside ledgerd) on the data
directory. An auditor may call it all, a register-taker nothing.

Usage: /usr/bin/python3 test_audit_e2e.py LEDGERD PROTO_DIR [unittest args]
"""

import csv
import io
import os
import shutil
import subprocess
import unittest

import grpc

import ledger_harness as harness

LEDGERD = PROTO_DIR = None
STUBS = None

SCHOOL = "audit-school"
TOKENS = [("t-officer", "attendance_officer", SCHOOL, "Mrs A. Office"),
          ("t-auditor", "auditor", SCHOOL, "Mr I. Inspector"),
          ("t-register", "register", SCHOOL, "Register Tablet"),
          ("t-admin", "admin", "*", "Ms H. Head")]
OFFICER = harness.bearer("t-officer")
AUDITOR = harness.bearer("t-auditor")
REGISTER = harness.bearer("t-register")
ADMIN = harness.bearer("t-admin")
PUPILS = ["A001", "A002", "A003"]
DAYS = ["2025-09-08", "2025-09-09"]
CSV_FIELDS = ["position", "pupil_id", "date", "session", "original_code", "amended_code",
              "reason", "amender_name", "amender_role", "amended_at_us"]


class AuditE2ETest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        import attendance.v1.audit_service_pb2 as audit_pb2
        import attendance.v1.audit_service_pb2_grpc as audit_grpc
        cls.audit_pb = audit_pb2
        cls.work = harness.make_temp_dir("ledger-audit-e2e-")
        tokens = os.path.join(cls.work, "tokens")
        harness.write_tokens(tokens, TOKENS)
        cls.key = os.path.join(cls.work, "head.pem")
        subprocess.run(["openssl", "genpkey", "-algorithm", "ed25519", "-out", cls.key],
                       check=True, capture_output=True)
        cls.server = harness.LedgerProcess(LEDGERD, os.path.join(cls.work, "data"), cls.work,
                                           ["--tokens", tokens, "--head-key", cls.key])
        cls.server.start()
        cls.channel = grpc.insecure_channel(cls.server.target)
        grpc.channel_ready_future(cls.channel).result(timeout=10)
        cls.ledger = STUBS.svc.LedgerStub(cls.channel)
        cls.audit = audit_grpc.AuditStub(cls.channel)
        cls.amended = []  # (pupil, date, session, from, to, reason, name, role)
        cls.set_up_and_amend()

    @classmethod
    def tearDownClass(cls):
        cls.channel.close()
        cls.server.stop()
        if not os.environ.get("KEEP_E2E_DIR"):
            shutil.rmtree(cls.work, ignore_errors=True)

    @classmethod
    def set_up_and_amend(cls):
        ev, pb = STUBS.events, STUBS.pb
        cls.ledger.SetSchoolSettings(pb.SetSchoolSettingsRequest(
            school_id=SCHOOL, request_id="settings",
            settings=ev.SchoolSettings(school_name="Audit Primary")), metadata=ADMIN, timeout=10)
        cls.ledger.SetSchoolCalendar(pb.SetSchoolCalendarRequest(
            school_id=SCHOOL, request_id="calendar", calendar=harness.calendar_2025(ev)),
            metadata=ADMIN, timeout=10)
        for i, pupil in enumerate(PUPILS):
            cls.ledger.EnrolPupil(pb.EnrolPupilRequest(
                school_id=SCHOOL, request_id=f"enrol-{pupil}", on_roll_from="2025-09-01",
                pupil=ev.Pupil(pupil_id=pupil, given_name=f"P{i}", family_name="Audit",
                               year_group=4 if i < 2 else 5, class_name="4A" if i < 2 else "5B")),
                metadata=ADMIN, timeout=10)
        marks = [pb.Mark(pupil_id=p, date=d, session=s, code="N")
                 for d in DAYS for s in (ev.AM, ev.PM) for p in PUPILS]
        cls.ledger.RecordMarks(pb.RecordMarksRequest(school_id=SCHOOL, request_id="marks",
                                                     marks=marks), metadata=OFFICER, timeout=10)
        amendments = [
            ("A001", DAYS[0], ev.AM, "I", 'parent phoned, said "flu"', OFFICER, "Mrs A. Office",
             "attendance_officer"),
            ("A002", DAYS[0], ev.AM, "U", "no reason given", OFFICER, "Mrs A. Office",
             "attendance_officer"),
            ("A003", DAYS[1], ev.PM, "M", "dentist\nletter seen", OFFICER, "Mrs A. Office",
             "attendance_officer"),
            ("A001", DAYS[0], ev.AM, "M", "it was the dentist after all", ADMIN, "Ms H. Head",
             "admin"),
        ]
        codes = {(p, d, s): "N" for d in DAYS for s in (ev.AM, ev.PM) for p in PUPILS}
        for pupil, date, session, code, reason, md, name, role in amendments:
            r = cls.ledger.AmendMark(pb.AmendMarkRequest(
                school_id=SCHOOL, request_id=f"amend-{len(cls.amended)}", pupil_id=pupil,
                date=date, session=session, amended_code=code, reason=reason),
                metadata=md, timeout=10)
            cls.amended.append((pupil, date, session, codes[(pupil, date, session)], code, reason,
                                name, role, r.position))
            codes[(pupil, date, session)] = code
        cls.last_position = cls.amended[-1][-1]

    def replay(self, md=AUDITOR, **kwargs):
        req = self.audit_pb.ReplayAmendmentsRequest(school_id=SCHOOL,
                                                    min_position=self.last_position, **kwargs)
        items = list(self.audit.ReplayAmendments(req, metadata=md, timeout=30))
        self.assertTrue(items[-1].HasField("end"))
        self.assertFalse(any(i.HasField("end") for i in items[:-1]))
        return [a for i in items for a in i.amendments], items[-1].end

    def test_mark_history(self):
        ev = STUBS.events
        h = self.audit.GetMarkHistory(self.audit_pb.GetMarkHistoryRequest(
            school_id=SCHOOL, pupil_id="A001", date=DAYS[0], session=ev.AM,
            min_position=self.last_position), metadata=AUDITOR, timeout=10)
        self.assertEqual([(e.original_code, e.code) for e in h.entries],
                         [("", "N"), ("N", "I"), ("I", "M")])
        self.assertEqual([e.by.name for e in h.entries],
                         ["Mrs A. Office", "Mrs A. Office", "Ms H. Head"])
        self.assertEqual(h.entries[1].reason, 'parent phoned, said "flu"')

    def test_replay_as_csv(self):
        amendments, end = self.replay(range=self.audit_pb.BY_SESSION_DATE, from_date=DAYS[0],
                                      to_date=DAYS[-1])
        self.assertEqual(end.amendments, len(self.amended))
        self.assertFalse(end.truncated)
        out = io.StringIO(newline="")
        writer = csv.DictWriter(out, fieldnames=CSV_FIELDS)
        writer.writeheader()
        for a in amendments:
            writer.writerow({
                "position": a.position, "pupil_id": a.pupil_id, "date": a.date,
                "session": STUBS.events.Session.Name(a.session),
                "original_code": a.original_code, "amended_code": a.amended_code,
                "reason": a.reason, "amender_name": a.amended_by.name,
                "amender_role": a.amended_by.role, "amended_at_us": a.amended_at_us})
        rows = list(csv.DictReader(io.StringIO(out.getvalue(), newline="")))
        self.assertEqual(len(rows), len(self.amended))
        got = sorted((r["pupil_id"], r["date"], STUBS.events.Session.Value(r["session"]),
                      r["original_code"], r["amended_code"], r["reason"], r["amender_name"],
                      r["amender_role"], int(r["position"])) for r in rows)
        self.assertEqual(got, sorted(self.amended))
        # The index's order: session date, then session, then position.
        keys = [(r["date"], STUBS.events.Session.Value(r["session"]), int(r["position"]))
                for r in rows]
        self.assertEqual(keys, sorted(keys))
        self.assertTrue(all(int(r["amended_at_us"]) > 0 for r in rows))

    def test_replay_filters_and_time_range(self):
        pb = self.audit_pb
        n_to_auth, _ = self.replay(range=pb.BY_SESSION_DATE, from_date=DAYS[0],
                                   to_date=DAYS[-1], unauthorised_to_authorised=True)
        self.assertEqual(sorted((a.pupil_id, a.amended_code) for a in n_to_auth),
                         [("A001", "I"), ("A003", "M")])
        by_admin, _ = self.replay(range=pb.BY_AMENDED_AT, from_us=1, amender_role="admin")
        self.assertEqual([a.position for a in by_admin], [self.amended[-1][-1]])
        all_by_time, _ = self.replay(range=pb.BY_AMENDED_AT, from_us=1)
        self.assertEqual([a.position for a in all_by_time], [a[-1] for a in self.amended])
        page, end = self.replay(range=pb.BY_AMENDED_AT, from_us=1, max_results=2)
        self.assertTrue(end.truncated)
        rest, end = self.replay(range=pb.BY_AMENDED_AT, from_us=1, resume_after=end.resume_after)
        self.assertEqual([a.position for a in page + rest], [a[-1] for a in self.amended])

    def test_register_as_of_before_the_amendments(self):
        ev, pb = STUBS.events, self.audit_pb
        first, _ = self.replay(range=pb.BY_AMENDED_AT, from_us=1, max_results=1)
        reg = self.audit.GetRegisterAsOf(pb.GetRegisterAsOfRequest(
            school_id=SCHOOL, date=DAYS[0], session=ev.AM, as_of_us=first[0].amended_at_us - 1,
            min_position=self.last_position), metadata=AUDITOR, timeout=10)
        self.assertEqual([(l.pupil_id, l.code) for l in reg.lines],
                         [("A001", "N"), ("A002", "N"), ("A003", "N")])
        self.assertEqual([c.code for c in reg.lines[0].changed_since], ["I", "M"])
        self.assertEqual(reg.lines[0].changed_since[1].by.name, "Ms H. Head")
        year5 = self.audit.GetRegisterAsOf(pb.GetRegisterAsOfRequest(
            school_id=SCHOOL, date=DAYS[0], session=ev.AM, year_group=5), metadata=AUDITOR,
            timeout=10)
        self.assertEqual([(l.pupil_id, l.code) for l in year5.lines], [("A003", "N")])

    def test_pupil_timeline(self):
        pages = list(self.audit.GetPupilTimeline(self.audit_pb.GetPupilTimelineRequest(
            school_id=SCHOOL, pupil_id="A001", min_position=self.last_position),
            metadata=AUDITOR, timeout=10))
        entries = [e for p in pages for e in p.entries]
        self.assertEqual(pages[-1].end.entries, len(entries))
        # Enrolment, four marks (two days, AM and PM), two amendments.
        self.assertEqual(len(entries), 7)
        self.assertTrue(entries[0].event.HasField("pupil_enrolled"))
        self.assertEqual([(e.date, e.position) for e in entries],
                         sorted((e.date, e.position) for e in entries))
        self.assertEqual(sum(e.event.HasField("mark_amended") for e in entries), 2)

    def test_register_taker_may_not(self):
        with self.assertRaises(grpc.RpcError) as ctx:
            self.replay(md=REGISTER, range=self.audit_pb.BY_AMENDED_AT, from_us=1)
        self.assertEqual(ctx.exception.code(), grpc.StatusCode.PERMISSION_DENIED)

    def test_zz_signed_head_online_then_offline(self):
        pb = self.audit_pb
        head = self.audit.GetLedgerHead(pb.GetLedgerHeadRequest(), metadata=AUDITOR, timeout=10)
        self.assertGreaterEqual(head.position, self.last_position)
        progress = list(self.audit.VerifyLedger(pb.VerifyLedgerRequest(head=head),
                                                metadata=AUDITOR, timeout=60))
        final = progress[-1]
        self.assertTrue(final.done and final.ok, final)
        self.assertTrue(final.head_check.signature_valid, final.head_check.detail)
        self.assertTrue(final.head_check.log_extends_head, final.head_check.detail)
        head_file = os.path.join(self.work, "head.txt")
        with open(head_file, "w") as f:
            f.write(f"position {head.position}\nhash {head.hash.hex()}\n"
                    f"signature {head.signature.hex()}\n")
        public_key = os.path.join(self.work, "head.pub")
        subprocess.run(["openssl", "pkey", "-in", self.key, "-pubout", "-out", public_key],
                       check=True, capture_output=True)
        self.channel.close()
        self.assertEqual(self.server.stop(), 0, self.server.log_tail())
        tool = os.path.join(os.path.dirname(LEDGERD), "ledger-verify")
        data = self.server.data_dir
        run = subprocess.run([tool, "--data", data, "--head", head_file, "--public-key",
                              public_key], capture_output=True, text=True, timeout=60)
        self.assertEqual(run.returncode, 0, run.stdout + run.stderr)
        self.assertIn("log extends it", run.stdout)
        # A head the log does not hold: reported, exit 1.
        with open(head_file, "w") as f:
            f.write(f"position {head.position}\nhash {'00' * 32}\n"
                    f"signature {head.signature.hex()}\n")
        run = subprocess.run([tool, "--data", data, "--head", head_file, "--public-key",
                              public_key], capture_output=True, text=True, timeout=60)
        self.assertEqual(run.returncode, 1, run.stdout + run.stderr)
        self.assertIn("DOES NOT extend it", run.stdout)


def main():
    harness.run_tests("e2e.audit", globals(), __doc__)


if __name__ == "__main__":
    main()
