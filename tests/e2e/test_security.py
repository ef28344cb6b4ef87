#!/usr/bin/python3
"""Who may do what, from outside: a real `ledgerd` over TLS with a tokens file.

Makes a throwaway CA and certificates with Debian's openssl, a tokens file of
hashes (one token per role), starts `ledgerd --tls-cert --tls-key --tokens`
with its clock set to a school morning, then checks:
- the full matrix: every method x every role x own school / other school / no
  token / bad token, each answered as the README's table says, and nothing
  written by a refused call;
- the attacks the outside review replayed, now refused;
- a reporter sees pupil ids only, unless granted personal data;
- certificate problems (expired, wrong host, untrusted CA) refused clearly;
- a revoked token stops working after SIGHUP, without a restart;
- without TLS and tokens, ledgerd refuses a non-loopback address.

Usage: /usr/bin/python3 test_security.py LEDGERD PROTO_DIR [unittest args]
"""

import hashlib
import os
import shutil
import signal
import subprocess
import time
import unittest

import grpc

import ledger_harness as harness

LEDGERD = PROTO_DIR = None
STUBS = None

OWN, OTHER = "sec-own", "sec-other"
# A Monday morning in Autumn 1 2025, inside the AM register window.
NOW = "2025-09-15T09:05"
TODAY = "2025-09-15"
PAST_DAYS = ["2025-09-08", "2025-09-09", "2025-09-10", "2025-09-11", "2025-09-12"]
ROLES = ["register", "attendance_officer", "auditor", "reporter", "admin"]


def minimal_policy():
    """An escalation policy with one rule: the N-code deadline."""
    import attendance.v1.escalation_pb2 as epb  # noqa: E402
    policy = epb.EscalationPolicy(policy_id="security", version="1")
    policy.triggers.add(trigger_id="n_code", kind=epb.N_CODE_UNRESOLVED,
                        action=epb.RESOLVE_N_CODE)
    return policy


def openssl(*args, cwd):
    subprocess.run(["openssl", *args], cwd=cwd, check=True, capture_output=True)


def make_certs(d):
    """ca.pem, a second untrusted ca2.pem, and server certificates: good
    (127.0.0.1), expired, and for the wrong host."""
    ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]
    for ca in ("ca", "ca2"):
        openssl("req", "-x509", *ec, "-keyout", f"{ca}.key", "-out", f"{ca}.pem", "-days", "2",
                "-subj", f"/CN=attendance test {ca}", cwd=d)
    for name, san, days, ca in (("server", "IP:127.0.0.1,DNS:localhost", "2", "ca"),
                                ("expired", "IP:127.0.0.1,DNS:localhost", "-1", "ca"),
                                ("wronghost", "DNS:wrong.example", "2", "ca"),
                                ("client", "DNS:reporting-service", "2", "ca")):
        openssl("req", *ec, "-keyout", f"{name}.key", "-out", f"{name}.csr", "-subj",
                f"/CN={name}", cwd=d)
        with open(os.path.join(d, f"{name}.ext"), "w") as f:
            f.write(f"subjectAltName={san}\n")
        openssl("x509", "-req", "-in", f"{name}.csr", "-CA", f"{ca}.pem", "-CAkey", f"{ca}.key",
                "-CAcreateserial", "-out", f"{name}.pem", "-days", days, "-extfile",
                f"{name}.ext", cwd=d)


def read(d, name):
    with open(os.path.join(d, name), "rb") as f:
        return f.read()


def token_line(token, role, schools, name):
    return f"{hashlib.sha256(token.encode()).hexdigest()} {role} {schools} {name}\n"


class SecurityTest(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        cls.work = harness.make_temp_dir("ledger-security-")
        make_certs(cls.work)
        cls.tokens_path = os.path.join(cls.work, "tokens")
        cls.tokens = {}
        lines = []
        for role in ROLES:
            schools = "*" if role == "admin" else OWN
            cls.tokens[(role, OWN)] = f"tok-{role}-own"
            lines.append(token_line(f"tok-{role}-own", role, schools, f"{role} of own"))
            cls.tokens[(role, OTHER)] = f"tok-{role}-other"
            lines.append(token_line(f"tok-{role}-other", role, "*" if role == "admin" else OTHER,
                                    f"{role} of other"))
        lines.append(token_line("tok-officer-2", "attendance_officer", OWN, "second officer"))
        lines.append(token_line("tok-reporter-personal", "reporter+personal", OWN,
                                "trusted reporter"))
        lines.append(token_line("tok-revocable", "auditor", OWN, "leaving auditor"))
        cls.token_lines = lines
        with open(cls.tokens_path, "w") as f:
            f.writelines(lines)
        cls.server = cls.start_server("server")
        cls.channel = cls.secure_channel(cls.server.target, read(cls.work, "ca.pem"))
        grpc.channel_ready_future(cls.channel).result(timeout=10)
        cls.ledger = STUBS.svc.LedgerStub(cls.channel)
        cls.projections = STUBS.proj_svc.ProjectionsStub(cls.channel)
        cls.set_up_schools()

    @classmethod
    def start_server(cls, cert, label="main", extra=()):
        work = os.path.join(cls.work, label)
        os.makedirs(work, exist_ok=True)
        server = harness.LedgerProcess(
            LEDGERD, os.path.join(work, "data"), work,
            ["--tls-cert", os.path.join(cls.work, f"{cert}.pem"),
             "--tls-key", os.path.join(cls.work, f"{cert}.key"),
             "--tokens", cls.tokens_path, "--now", NOW, *extra])
        return server.start()

    @staticmethod
    def secure_channel(target, root, key=None, chain=None):
        creds = grpc.ssl_channel_credentials(root_certificates=root, private_key=key,
                                             certificate_chain=chain)
        return grpc.secure_channel(target, creds)

    @classmethod
    def tearDownClass(cls):
        cls.channel.close()
        cls.server.stop()
        if os.environ.get("KEEP_E2E_DIR"):
            print(f"kept {cls.work}")
        else:
            shutil.rmtree(cls.work, ignore_errors=True)

    @classmethod
    def md(cls, role, school=OWN):
        return (("authorization", f"Bearer {cls.tokens[(role, school)]}"),)

    @classmethod
    def set_up_schools(cls):
        ev, pb = STUBS.events, STUBS.pb
        admin = cls.md("admin")
        for school in (OWN, OTHER):
            settings = ev.SchoolSettings(school_name=school, am_register_closes="09:30",
                                         pm_register_closes="13:30")
            cls.ledger.SetSchoolSettings(pb.SetSchoolSettingsRequest(
                school_id=school, request_id=f"set-{school}", settings=settings),
                metadata=admin, timeout=10)
            cls.ledger.SetSchoolCalendar(pb.SetSchoolCalendarRequest(
                school_id=school, request_id=f"cal-{school}", calendar=harness.calendar_2025(ev)),
                metadata=admin, timeout=10)
            # Per role, a pupil of its own to mark, amend, update and remove.
            for role in ROLES + ["none", "bad", "other"]:
                for kind in ("m", "x"):
                    pid = f"{role}-{kind}"
                    cls.ledger.EnrolPupil(pb.EnrolPupilRequest(
                        school_id=school, request_id=f"enrol-{school}-{pid}",
                        pupil=ev.Pupil(pupil_id=pid, given_name="Given", family_name="Family",
                                       date_of_birth="2016-05-04", year_group=4,
                                       child_protection_plan=True),
                        on_roll_from="2025-09-01"), metadata=admin, timeout=10)
                cls.ledger.RecordMarks(pb.RecordMarksRequest(
                    school_id=school, request_id=f"marks-{school}-{role}",
                    marks=[pb.Mark(pupil_id=f"{role}-m", date=PAST_DAYS[0], session=ev.AM,
                                   code="N")]), metadata=admin, timeout=10)

    def last_position(self):
        events = list(self.ledger.ReadEvents(STUBS.pb.ReadEventsRequest(school_id=""),
                                             metadata=self.md("admin"), timeout=30))
        return events[-1].position if events else 0

    # ---- one call per method, for a caller of `role` on `school`; `tag`
    # makes every request (and so every allowed write) distinct.

    def calls(self, tag, school, pupil_role):
        ev, pb, ppb = STUBS.events, STUBS.pb, STUBS.proj
        pm = f"{pupil_role}-m"
        px = f"{pupil_role}-x"
        rid = lambda m: f"{tag}-{m}"  # noqa: E731
        settings = ev.SchoolSettings(school_name=school, am_register_closes="09:30",
                                     pm_register_closes="13:30")
        today_mark = pb.Mark(pupil_id=pm, date=TODAY, session=ev.AM, code="/")

        def stream_marks(metadata):
            req = pb.RecordMarksRequest(school_id=school, request_id=rid("stream"),
                                        marks=[pb.Mark(pupil_id=px, date=TODAY, session=ev.AM,
                                                       code="/")])
            answers = list(self.ledger.StreamMarks(iter([req]), metadata=metadata, timeout=10))
            for a in answers:
                if a.error_code:
                    raise StreamError(a.error_code, a.error_message)
            return answers

        return {
            "RecordMarks": lambda m: self.ledger.RecordMarks(pb.RecordMarksRequest(
                school_id=school, request_id=rid("marks"), marks=[today_mark]),
                metadata=m, timeout=10),
            "StreamMarks": stream_marks,
            "AmendMark": lambda m: self.ledger.AmendMark(pb.AmendMarkRequest(
                school_id=school, request_id=rid("amend"), pupil_id=pm, date=PAST_DAYS[0],
                session=ev.AM, amended_code="I", reason="parent phoned"),
                metadata=m, timeout=10),
            "RecordLetter": lambda m: self.ledger.RecordLetter(pb.RecordLetterRequest(
                school_id=school, request_id=rid("letter"), pupil_id=pm,
                letter_id="letter_1", channel=ev.POST, sent_on=PAST_DAYS[1]),
                metadata=m, timeout=10),
            "EnrolPupil": lambda m: self.ledger.EnrolPupil(pb.EnrolPupilRequest(
                school_id=school, request_id=rid("enrol"),
                pupil=ev.Pupil(pupil_id=f"{tag}-new", given_name="N", family_name="P",
                               year_group=2), on_roll_from="2025-09-01"),
                metadata=m, timeout=10),
            "UpdatePupil": lambda m: self.ledger.UpdatePupil(pb.UpdatePupilRequest(
                school_id=school, request_id=rid("update"),
                pupil=ev.Pupil(pupil_id=pm, given_name="Given", family_name="Changed",
                               year_group=4), effective_from=PAST_DAYS[2]),
                metadata=m, timeout=10),
            # Today: StreamMarks marks px today, and a last day before a
            # recorded mark is refused (README "Audit").
            "RemoveFromRoll": lambda m: self.ledger.RemoveFromRoll(pb.RemoveFromRollRequest(
                school_id=school, request_id=rid("remove"), pupil_id=px,
                last_day_on_roll=TODAY, reason="moved away"),
                metadata=m, timeout=10),
            "SetSchoolCalendar": lambda m: self.ledger.SetSchoolCalendar(
                pb.SetSchoolCalendarRequest(school_id=school, request_id=rid("cal"),
                                            calendar=harness.calendar_2025(ev)),
                metadata=m, timeout=10),
            "SetSchoolSettings": lambda m: self.ledger.SetSchoolSettings(
                pb.SetSchoolSettingsRequest(school_id=school, request_id=rid("settings"),
                                            settings=settings),
                metadata=m, timeout=10),
            "SetEscalationPolicy": lambda m: self.ledger.SetEscalationPolicy(
                pb.SetEscalationPolicyRequest(school_id=school, request_id=rid("policy"),
                                              policy=minimal_policy()),
                metadata=m, timeout=10),
            "RecordAction": lambda m: self.ledger.RecordAction(pb.RecordActionRequest(
                school_id=school, request_id=rid("action"), pupil_id=pm,
                action_id=rid("call"), kind=ev.CALL_MADE, happened_on=PAST_DAYS[1]),
                metadata=m, timeout=10),
            "ImportHistory": lambda m: self.ledger.ImportHistory(pb.ImportHistoryRequest(
                school_id=school, request_id=rid("import"), source="SIMS",
                marks=[pb.ImportedMark(pupil_id=pm, date=PAST_DAYS[3], session=ev.PM,
                                       code="\\")]),
                metadata=m, timeout=10),
            "CreateSchool": lambda m: self.ledger.SetSchoolSettings(
                pb.SetSchoolSettingsRequest(school_id=f"{tag}-school", request_id=rid("create"),
                                            settings=settings),
                metadata=m, timeout=10),
            "ReadEvents": lambda m: list(self.ledger.ReadEvents(
                pb.ReadEventsRequest(school_id=school, max_events=5), metadata=m, timeout=10)),
            "GetPupilAttendance": lambda m: self.projections.GetPupilAttendance(
                ppb.GetPupilAttendanceRequest(school_id=school, pupil_id=pm),
                metadata=m, timeout=10),
            "ListPupilAttendance": lambda m: self.projections.ListPupilAttendance(
                ppb.ListPupilAttendanceRequest(school_id=school, page_size=5),
                metadata=m, timeout=10),
            "GetCohortAttendance": lambda m: self.projections.GetCohortAttendance(
                ppb.GetCohortAttendanceRequest(school_id=school), metadata=m, timeout=10),
        }

    WRITES = {"register": {"RecordMarks", "StreamMarks"},
              "attendance_officer": {"RecordMarks", "StreamMarks", "AmendMark", "RecordLetter",
                                     "EnrolPupil", "UpdatePupil", "RemoveFromRoll",
                                     "SetSchoolCalendar", "SetSchoolSettings",
                                     "SetEscalationPolicy", "RecordAction", "ImportHistory"},
              "auditor": set(), "reporter": set()}
    READS = {"ReadEvents", "GetPupilAttendance", "ListPupilAttendance", "GetCohortAttendance"}

    def allowed(self, role, method):
        if role == "admin":
            return True
        if method in self.READS:
            return role != "register"
        return method in self.WRITES[role]

    def outcome(self, call, metadata):
        before = self.last_position()
        try:
            call(metadata)
            code, details = grpc.StatusCode.OK, ""
        except grpc.RpcError as e:
            code, details = e.code(), e.details()
        except StreamError as e:
            code, details = e.code, e.details
        return code, details, self.last_position() - before

    def test_matrix(self):
        refused = {grpc.StatusCode.PERMISSION_DENIED, grpc.StatusCode.UNAUTHENTICATED}
        rows = 0
        for role in ROLES:
            for target, label in ((OWN, "own"), (OTHER, "other")):
                tag = f"{role}-{label}"
                # The caller's pupils are those named after its role: in the
                # other school they exist too, so only permission can refuse.
                for method, call in self.calls(tag, target, role).items():
                    with self.subTest(role=role, school=label, method=method):
                        code, details, written = self.outcome(call, self.md(role, OWN))
                        rows += 1
                        expect_ok = (self.allowed(role, method) and
                                     (label == "own" or role == "admin"))
                        if method == "CreateSchool":
                            expect_ok = role == "admin"
                        if expect_ok:
                            self.assertEqual(code, grpc.StatusCode.OK, details)
                        else:
                            self.assertEqual(code, grpc.StatusCode.PERMISSION_DENIED, details)
                            self.assertEqual(written, 0, "a refused call wrote events")
        for who, metadata in (("none", ()), ("bad", (("authorization", "Bearer forged"),)),
                              ("bad", (("authorization", "tok-admin-own"),))):
            for method, call in self.calls(f"{who}-{len(metadata)}", OWN, who).items():
                with self.subTest(caller=who, method=method):
                    code, details, written = self.outcome(call, metadata)
                    rows += 1
                    self.assertEqual(code, grpc.StatusCode.UNAUTHENTICATED, details)
                    self.assertEqual(written, 0)
        self.assertGreaterEqual(rows, 5 * 2 * 14 + 3 * 14)
        self.assertTrue(refused)

    def test_register_role_only_today_open_registers(self):
        pb, ev = STUBS.pb, STUBS.events
        before = self.last_position()
        with self.assertRaises(grpc.RpcError) as ctx:
            self.ledger.RecordMarks(pb.RecordMarksRequest(
                school_id=OWN, request_id="reg-past",
                marks=[pb.Mark(pupil_id="register-x", date=PAST_DAYS[3], session=ev.AM,
                               code="/")]), metadata=self.md("register"), timeout=10)
        self.assertEqual(ctx.exception.code(), grpc.StatusCode.PERMISSION_DENIED)
        self.assertIn(PAST_DAYS[3], ctx.exception.details())
        self.assertEqual(self.last_position(), before)

    def test_attacks_replayed_are_refused(self):
        pb, ev = STUBS.pb, STUBS.events
        before = self.last_position()
        forged_actor = (("x-actor-name", "Head Teacher"), ("x-actor-role", "admin"))
        attacks = [
            # Role "nobody" replacing a school's settings, with no token.
            lambda: self.ledger.SetSchoolSettings(pb.SetSchoolSettingsRequest(
                school_id=OWN, request_id="atk-1", settings=ev.SchoolSettings(school_name="x")),
                metadata=(("x-actor-name", "x"), ("x-actor-role", "nobody")), timeout=10),
            # "hacker" amending a mark under a forged name.
            lambda: self.ledger.AmendMark(pb.AmendMarkRequest(
                school_id=OWN, request_id="atk-2", pupil_id="admin-m", date=PAST_DAYS[0],
                session=ev.AM, amended_code="I", reason="x"), metadata=forged_actor, timeout=10),
            # Another school's officer sending a letter and taking a pupil off roll.
            lambda: self.ledger.RecordLetter(pb.RecordLetterRequest(
                school_id=OWN, request_id="atk-3", pupil_id="admin-m",
                letter_id="letter_1", channel=ev.POST, sent_on=PAST_DAYS[1]),
                metadata=self.md("attendance_officer", OTHER) + forged_actor, timeout=10),
            lambda: self.ledger.RemoveFromRoll(pb.RemoveFromRollRequest(
                school_id=OWN, request_id="atk-4", pupil_id="admin-x",
                last_day_on_roll=PAST_DAYS[4], reason="x"),
                metadata=self.md("attendance_officer", OTHER), timeout=10),
            # A reporter creating a school.
            lambda: self.ledger.SetSchoolSettings(pb.SetSchoolSettingsRequest(
                school_id="atk-school", request_id="atk-5",
                settings=ev.SchoolSettings(school_name="y")),
                metadata=self.md("reporter"), timeout=10),
        ]
        for i, attack in enumerate(attacks):
            with self.subTest(attack=i):
                with self.assertRaises(grpc.RpcError) as ctx:
                    attack()
                self.assertIn(ctx.exception.code(), (grpc.StatusCode.UNAUTHENTICATED,
                                                      grpc.StatusCode.PERMISSION_DENIED))
        self.assertEqual(self.last_position(), before)
        # The name recorded is the token's, never the metadata's.
        officer = self.md("attendance_officer") + forged_actor
        r = self.ledger.RecordLetter(pb.RecordLetterRequest(
            school_id=OWN, request_id="named-letter", pupil_id="admin-m",
            letter_id="praise", channel=ev.POST, sent_on=PAST_DAYS[2]),
            metadata=officer, timeout=10)
        event = list(self.ledger.ReadEvents(pb.ReadEventsRequest(
            from_position=r.position, max_events=1), metadata=self.md("admin"), timeout=10))[0]
        self.assertEqual(event.actor.name, "attendance_officer of own")
        self.assertEqual(event.actor.role, "attendance_officer")
        # Another caller replaying that request id does not get its response.
        with self.assertRaises(grpc.RpcError) as ctx:
            self.ledger.RecordLetter(pb.RecordLetterRequest(
                school_id=OWN, request_id="named-letter", pupil_id="admin-m",
                letter_id="praise", channel=ev.POST, sent_on=PAST_DAYS[2]),
                metadata=(("authorization", "Bearer tok-officer-2"),), timeout=10)
        self.assertEqual(ctx.exception.code(), grpc.StatusCode.ALREADY_EXISTS)

    def test_reporter_sees_pupil_ids_only_unless_granted(self):
        pb, ppb = STUBS.pb, STUBS.proj
        req = ppb.GetPupilAttendanceRequest(school_id=OWN, pupil_id="auditor-m")
        plain = self.projections.GetPupilAttendance(req, metadata=self.md("reporter"), timeout=10)
        self.assertEqual(plain.pupil.pupil_id, "auditor-m")
        self.assertEqual(plain.pupil.family_name, "")
        self.assertFalse(plain.pupil.child_protection_plan)
        granted = self.projections.GetPupilAttendance(
            req, metadata=(("authorization", "Bearer tok-reporter-personal"),), timeout=10)
        self.assertEqual(granted.pupil.family_name, "Family")
        self.assertTrue(granted.pupil.child_protection_plan)
        events = list(self.ledger.ReadEvents(
            pb.ReadEventsRequest(school_id=OWN, event_types=[STUBS.pb.PUPIL_ENROLLED]),
            metadata=self.md("reporter"), timeout=10))
        self.assertTrue(events)
        for e in events:
            self.assertEqual(e.pupil_enrolled.pupil.given_name, "")
            self.assertFalse(e.pupil_enrolled.pupil.child_protection_plan)
        # Filtering pupils by a safeguarding flag would reveal it: refused.
        flt = ppb.CohortFilter(attribute=ppb.CHILD_PROTECTION_PLAN, value="true")
        with self.assertRaises(grpc.RpcError) as ctx:
            self.projections.ListPupilAttendance(
                ppb.ListPupilAttendanceRequest(school_id=OWN, cohort=[flt]),
                metadata=self.md("reporter"), timeout=10)
        self.assertEqual(ctx.exception.code(), grpc.StatusCode.PERMISSION_DENIED)

    def test_escalation_reads_follow_the_figures_and_pupils_need_the_grant(self):
        import attendance.v1.escalation_service_pb2 as espb  # noqa: E402
        import attendance.v1.escalation_service_pb2_grpc as esvc  # noqa: E402
        escalation = esvc.EscalationStub(self.channel)

        def code(call, role=None, token=None):
            metadata = self.md(role) if role else (("authorization", f"Bearer {token}"),)
            try:
                call(metadata)
                return grpc.StatusCode.OK
            except grpc.RpcError as e:
                return e.code()

        policy = lambda m: escalation.GetEscalationPolicy(  # noqa: E731
            espb.GetEscalationPolicyRequest(school_id=OWN), metadata=m, timeout=10)
        pupil = lambda m: escalation.GetPupilEscalation(  # noqa: E731
            espb.GetPupilEscalationRequest(school_id=OWN, pupil_id="auditor-m"), metadata=m,
            timeout=10)
        worklist = lambda m: escalation.ListDueActions(  # noqa: E731
            espb.ListDueActionsRequest(school_id=OWN), metadata=m, timeout=10)
        # Allowed: OK, or NOT_FOUND when no policy is set yet (test order).
        allowed = {grpc.StatusCode.OK, grpc.StatusCode.NOT_FOUND}
        for role in ("attendance_officer", "auditor", "admin"):
            for call in (policy, pupil, worklist):
                self.assertIn(code(call, role), allowed, role)
        self.assertIn(code(policy, "reporter"), allowed)
        self.assertEqual(code(pupil, "reporter"), grpc.StatusCode.PERMISSION_DENIED)
        self.assertEqual(code(worklist, "reporter"), grpc.StatusCode.PERMISSION_DENIED)
        self.assertIn(code(pupil, token="tok-reporter-personal"), allowed)
        self.assertEqual(code(policy, "register"), grpc.StatusCode.PERMISSION_DENIED)
        other_school = lambda m: escalation.GetEscalationPolicy(  # noqa: E731
            espb.GetEscalationPolicyRequest(school_id=OTHER), metadata=m, timeout=10)
        self.assertEqual(code(other_school, "auditor"), grpc.StatusCode.PERMISSION_DENIED)

    def test_certificate_problems_are_refused(self):
        ca, ca2 = read(self.work, "ca.pem"), read(self.work, "ca2.pem")
        cases = [("untrusted CA", self.server, ca2)]
        expired = self.start_server("expired", "expired")
        wrong = self.start_server("wronghost", "wronghost")
        try:
            cases += [("expired", expired, ca), ("wrong host", wrong, ca)]
            for label, server, root in cases:
                with self.subTest(case=label):
                    channel = self.secure_channel(server.target, root)
                    stub = STUBS.svc.LedgerStub(channel)
                    with self.assertRaises(grpc.RpcError) as ctx:
                        list(stub.ReadEvents(STUBS.pb.ReadEventsRequest(school_id=OWN),
                                             metadata=self.md("admin"), timeout=5))
                    self.assertEqual(ctx.exception.code(), grpc.StatusCode.UNAVAILABLE)
                    channel.close()
            # Plaintext to a TLS port gets nowhere either.
            channel = grpc.insecure_channel(self.server.target)
            with self.assertRaises(grpc.RpcError) as ctx:
                list(STUBS.svc.LedgerStub(channel).ReadEvents(
                    STUBS.pb.ReadEventsRequest(school_id=OWN), metadata=self.md("admin"),
                    timeout=5))
            self.assertEqual(ctx.exception.code(), grpc.StatusCode.UNAVAILABLE)
            channel.close()
        finally:
            expired.stop()
            wrong.stop()

    def test_mutual_tls_needs_a_client_certificate(self):
        server = self.start_server("server", "mtls",
                                   ["--tls-client-ca", os.path.join(self.work, "ca.pem")])
        try:
            ca = read(self.work, "ca.pem")
            without = self.secure_channel(server.target, ca)
            with self.assertRaises(grpc.RpcError) as ctx:
                list(STUBS.svc.LedgerStub(without).ReadEvents(
                    STUBS.pb.ReadEventsRequest(school_id=OWN), metadata=self.md("admin"),
                    timeout=5))
            self.assertEqual(ctx.exception.code(), grpc.StatusCode.UNAVAILABLE)
            with_cert = self.secure_channel(server.target, ca, read(self.work, "client.key"),
                                            read(self.work, "client.pem"))
            list(STUBS.svc.LedgerStub(with_cert).ReadEvents(
                STUBS.pb.ReadEventsRequest(school_id=OWN), metadata=self.md("admin"), timeout=5))
            without.close()
            with_cert.close()
        finally:
            server.stop()

    def test_revoked_token_stops_working_after_sighup(self):
        md = (("authorization", "Bearer tok-revocable"),)
        req = STUBS.pb.ReadEventsRequest(school_id=OWN, max_events=1)
        list(self.ledger.ReadEvents(req, metadata=md, timeout=10))
        with open(self.tokens_path, "w") as f:
            f.writelines(line for line in self.token_lines if "leaving auditor" not in line)
        self.server.proc.send_signal(signal.SIGHUP)
        deadline = time.monotonic() + 10
        code = None
        while time.monotonic() < deadline:
            try:
                list(self.ledger.ReadEvents(req, metadata=md, timeout=10))
            except grpc.RpcError as e:
                code = e.code()
                break
            time.sleep(0.05)
        self.assertEqual(code, grpc.StatusCode.UNAUTHENTICATED)
        # Everyone else still gets in; the server was not restarted.
        list(self.ledger.ReadEvents(req, metadata=self.md("auditor"), timeout=10))
        self.assertIsNone(self.server.proc.poll())

    def test_non_loopback_needs_tls_and_tokens(self):
        data = os.path.join(self.work, "refuse-data")
        result = subprocess.run([LEDGERD, "--listen", "0.0.0.0:0", "--data", data],
                                capture_output=True, text=True, timeout=30)
        self.assertNotEqual(result.returncode, 0)
        self.assertIn("--tls-cert", result.stdout + result.stderr)
        self.assertIn("--tokens", result.stdout + result.stderr)


class StreamError(Exception):
    def __init__(self, code, details):
        super().__init__(details)
        self.code = grpc.StatusCode.UNKNOWN
        for c in grpc.StatusCode:
            if c.value[0] == code:
                self.code = c
        self.details = details


if __name__ == "__main__":
    harness.run_tests("security", globals(),
                      "usage: test_security.py LEDGERD PROTO_DIR [unittest args]\n")
