"""The escalation engine through the real `ledgerd` (issue 7).

Sets seed 000's policy from its file in policies/ (protobuf text format,
parsed by protobuf's own text_format), pushes marks over the autumn term,
reads the worklist, records Letter 1, and sees the ladder move to its
monitoring period and then to Letter 2. A contradictory policy is refused
with INVALID_ARGUMENT naming the rule and the previous one stays in force.
With seed 001's policy, the teacher meeting is recorded with RecordAction:
its step is done, its review falls due, and the EWO referral is next.
With seed 001's leave rules, EvaluateLeaveRequest refuses a request that
would take attendance below 96%; a refused and an approved request are
recorded, the approved one pre-recording its sessions as C.

The server's clock (--now) starts on 2025-09-16 and, after a restart that
the read model resumes from its checkpoint, on 2025-10-01: marks are known
from the day they are recorded, as in every "as of" answer.

Usage: /usr/bin/python3 test_escalation_e2e.py LEDGERD PROTO_DIR
(or set LEDGERD and PROTO_DIR).
"""

import datetime
import os
import shutil
import unittest

import grpc
from google.protobuf import text_format

import ledger_harness as harness

LEDGERD = PROTO_DIR = None
STUBS = None

SCHOOL = "esc-school"
ADMIN = harness.actor("Esc Admin", "admin")
SEED_000 = "000_all_saints_ce_primary_attendance_strategy_2024_25.textproto"
SEED_001 = "001_all_saints_ce_primary_attendance_and_absence_policy_2024_27.textproto"


def escalation_stubs():
    import attendance.v1.escalation_pb2 as epb  # noqa: E402
    import attendance.v1.escalation_service_pb2 as espb  # noqa: E402
    import attendance.v1.escalation_service_pb2_grpc as esvc  # noqa: E402
    return epb, espb, esvc


def load_policy(epb, name):
    path = os.path.join(PROTO_DIR, "..", "policies", name)
    with open(path) as f:
        return text_format.Parse(f.read(), epb.EscalationPolicy())


def weekdays(first, last):
    day = datetime.date.fromisoformat(first)
    end = datetime.date.fromisoformat(last)
    while day <= end:
        if day.weekday() < 5:
            yield day.isoformat()
        day += datetime.timedelta(days=1)


class EscalationTest(unittest.TestCase):
    def setUp(self):
        self.work = harness.make_temp_dir("ledger-escalation-")
        self.server = harness.LedgerProcess(LEDGERD, os.path.join(self.work, "data"), self.work,
                                            extra_args=["--now", "2025-09-16T18:00"])
        self.server.start()
        self.channel = grpc.insecure_channel(self.server.target)
        self.ledger = STUBS.svc.LedgerStub(self.channel)
        self.epb, self.espb, esvc = escalation_stubs()
        self.escalation = esvc.EscalationStub(self.channel)
        ev, pb = STUBS.events, STUBS.pb
        self.ledger.SetSchoolSettings(pb.SetSchoolSettingsRequest(
            school_id=SCHOOL, request_id="settings",
            settings=ev.SchoolSettings(school_name="Escalation Primary")), metadata=ADMIN,
            timeout=10)
        self.ledger.SetSchoolCalendar(pb.SetSchoolCalendarRequest(
            school_id=SCHOOL, request_id="calendar", calendar=harness.calendar_2025(ev)),
            metadata=ADMIN, timeout=10)
        self.ledger.EnrolPupil(pb.EnrolPupilRequest(
            school_id=SCHOOL, request_id="enrol-P1",
            pupil=ev.Pupil(pupil_id="P1", given_name="E", family_name="P1", year_group=4),
            on_roll_from="2025-09-01"), metadata=ADMIN, timeout=10)

    def tearDown(self):
        self.channel.close()
        self.server.stop()
        shutil.rmtree(self.work, ignore_errors=True)

    def mark(self, first, last, absences=None, tag="m"):
        pb = STUBS.pb
        absences = absences or {}
        marks = []
        for day in weekdays(first, last):
            for session, present in (("AM", "/"), ("PM", "\\")):
                code = absences.get((day, session), present)
                marks.append(pb.Mark(pupil_id="P1", date=day, session=session, code=code))
        return self.ledger.RecordMarks(pb.RecordMarksRequest(
            school_id=SCHOOL, request_id=f"{tag}-{first}", marks=marks), metadata=ADMIN,
            timeout=10).last_position

    def due(self, as_of, position):  # as_of "" = the server's today
        return self.escalation.ListDueActions(self.espb.ListDueActionsRequest(
            school_id=SCHOOL, as_of=as_of, min_position=position), timeout=30)

    def pupil(self, as_of, position):
        return self.escalation.GetPupilEscalation(self.espb.GetPupilEscalationRequest(
            school_id=SCHOOL, pupil_id="P1", as_of=as_of, min_position=position), timeout=30)

    def test_policy_file_worklist_letter_next_step(self):
        pb = STUBS.pb
        policy = load_policy(self.epb, SEED_000)
        written = self.ledger.SetEscalationPolicy(pb.SetEscalationPolicyRequest(
            school_id=SCHOOL, request_id="policy-1", policy=policy), metadata=ADMIN, timeout=10)

        # A policy whose bands overlap is refused, naming the rule.
        bad = load_policy(self.epb, SEED_000)
        bad.version = "broken"
        bad.band_sets[0].bands[1].upper_inclusive = True
        with self.assertRaises(grpc.RpcError) as refused:
            self.ledger.SetEscalationPolicy(pb.SetEscalationPolicyRequest(
                school_id=SCHOOL, request_id="policy-2", policy=bad), metadata=ADMIN, timeout=10)
        self.assertEqual(refused.exception.code(), grpc.StatusCode.INVALID_ARGUMENT)
        self.assertEqual(refused.exception.details(),
                         'policy.band_sets[0] ("tiers").bands[1] ("tier_3"): overlaps band '
                         '"expect_monitor"')
        in_force = self.escalation.GetEscalationPolicy(self.espb.GetEscalationPolicyRequest(
            school_id=SCHOOL, min_position=written.position), timeout=30)
        self.assertEqual(in_force.policy, policy)
        self.assertEqual(in_force.position, written.position)
        self.assertEqual(len(in_force.history), 1)

        # Two weeks present, then illness: 21/24 sessions on 2025-09-16, the
        # server's today.
        self.mark("2025-09-01", "2025-09-12")
        position = self.mark("2025-09-15", "2025-09-16",
                             {("2025-09-15", "AM"): "I", ("2025-09-15", "PM"): "I",
                              ("2025-09-16", "AM"): "I"})
        worklist = self.due("", position)
        self.assertEqual([a.rule_id for a in worklist.actions], ["letter_1"])
        self.assertEqual(worklist.policy_version, "2024-25.1")
        letter_1 = worklist.actions[0]
        self.assertEqual(letter_1.pupil_id, "P1")
        self.assertEqual(letter_1.action, self.epb.LETTER)
        self.assertEqual(letter_1.due_on, "2025-09-16")
        self.assertEqual(letter_1.explanation.sentence,
                         "attendance 87.5% (21/24 sessions, 2025-26 to date) on 2025-09-16 "
                         "< 95.0% -> letter_1 due")

        # The office sends it today; monitoring starts and nothing more is due.
        sent = self.ledger.RecordLetter(pb.RecordLetterRequest(
            school_id=SCHOOL, request_id="letter-1", pupil_id="P1", letter_id="letter_1",
            channel=STUBS.events.POST, sent_on="2025-09-16"), metadata=ADMIN, timeout=10)
        state = self.pupil("", sent.position)
        ladder = [l for l in state.ladders if l.ladder_id == "attendance_letters"][0]
        self.assertEqual(ladder.stage, "letter_1")
        self.assertEqual(ladder.since, "2025-09-16")
        self.assertTrue(ladder.monitoring.running)
        self.assertEqual(ladder.monitoring.ends_on, "2025-09-30")  # 10 school days on
        self.assertEqual(len(self.due("", sent.position).actions), 0)

        # A fortnight later (the server restarts with its clock on 2025-10-01;
        # the read model resumes from its checkpoint): two days unauthorised
        # in the monitoring period, no improvement, Letter 2 is the next step.
        self.restart("2025-10-01T18:00")
        position = self.mark("2025-09-17", "2025-10-01",
                             {("2025-09-22", "AM"): "O", ("2025-09-22", "PM"): "O",
                              ("2025-09-23", "AM"): "O", ("2025-09-23", "PM"): "O"})
        worklist = self.due("", position)
        self.assertEqual([a.rule_id for a in worklist.actions], ["letter_2"])
        self.assertEqual(worklist.actions[0].due_on, "2025-09-30")
        self.assertEqual(worklist.actions[0].explanation.sentence,
                         "year to date 84.1% (37/44) on 2025-09-30 not > 87.5% (21/24) on "
                         "2025-09-16 -> no improvement after letter_1 -> letter_2 due")
        # As of a past date the worklist is what it was then: on 2025-09-29
        # Letter 1's monitoring still ran, and the registers since 09-17,
        # recorded only on 10-01, were not taken as then known.
        then = self.due("2025-09-29", position)
        self.assertEqual([a.action for a in then.actions], [self.epb.REGISTER_NOT_TAKEN])
        self.assertEqual(then.actions[0].explanation.count, 18)  # 09-17..09-29, 9 days

        # Filters and refusals.
        self.assertEqual(self.escalation.ListDueActions(self.espb.ListDueActionsRequest(
            school_id=SCHOOL, ladder_id="fast_track"), timeout=30).total, 0)
        with self.assertRaises(grpc.RpcError) as unknown:
            self.escalation.GetPupilEscalation(self.espb.GetPupilEscalationRequest(
                school_id=SCHOOL, pupil_id="nobody"), timeout=30)
        self.assertEqual(unknown.exception.code(), grpc.StatusCode.NOT_FOUND)
        with self.assertRaises(grpc.RpcError) as too_big:
            self.escalation.ListDueActions(self.espb.ListDueActionsRequest(
                school_id=SCHOOL, page_size=5000), timeout=30)
        self.assertEqual(too_big.exception.code(), grpc.StatusCode.INVALID_ARGUMENT)

    def test_meeting_recorded_as_an_action_moves_the_ladder(self):
        pb, ev = STUBS.pb, STUBS.events
        self.restart("2025-11-12T18:00")
        self.ledger.SetEscalationPolicy(pb.SetEscalationPolicyRequest(
            school_id=SCHOOL, request_id="policy-001", policy=load_policy(self.epb, SEED_001)),
            metadata=ADMIN, timeout=10)
        absent = {("2025-09-12", "PM"): "I", ("2025-09-17", "AM"): "O",
                  ("2025-09-30", "AM"): "O", ("2025-10-15", "AM"): "O",
                  ("2025-10-16", "AM"): "O"}
        self.mark("2025-09-01", "2025-10-24", absent)
        self.mark("2025-11-03", "2025-11-11", absent)
        for letter_id, sent_on in (("concern_letter", "2025-09-15"),
                                   ("monitoring_letter", "2025-09-22")):
            position = self.ledger.RecordLetter(pb.RecordLetterRequest(
                school_id=SCHOOL, request_id=letter_id, pupil_id="P1", letter_id=letter_id,
                channel=ev.POST, sent_on=sent_on), metadata=ADMIN, timeout=10).position
        # 19/20 over the monitoring letter's fortnight: the teacher meeting is due.
        rules = {a.rule_id: a for a in self.due("", position).actions}
        self.assertIn("teacher_meeting", rules)
        self.assertEqual(rules["teacher_meeting"].due_on, "2025-10-06")

        meeting = pb.RecordActionRequest(
            school_id=SCHOOL, request_id="meeting-1", pupil_id="P1", action_id="meet-1",
            kind=ev.MEETING_HELD, step_id="teacher_meeting", happened_on="2025-10-07",
            outcome="Parent and teacher agreed a 96% target", target_basis_points=9600,
            review_on="2025-11-07")
        written = self.ledger.RecordAction(meeting, metadata=ADMIN, timeout=10)
        self.assertTrue(self.ledger.RecordAction(meeting, metadata=ADMIN, timeout=10).replayed)
        state = self.pupil("", written.position)
        ladder = [l for l in state.ladders if l.ladder_id == "stages"][0]
        self.assertEqual(ladder.stage, "teacher_meeting")
        self.assertEqual(ladder.since, "2025-10-07")
        self.assertEqual(ladder.history[-1].action_id, "meet-1")
        rules = {a.rule_id: a for a in self.due("", written.position).actions}
        self.assertNotIn("teacher_meeting", rules)
        # Its review is due, and says the target was missed (34/36)...
        review = rules["meet-1"]
        self.assertEqual(review.action, self.epb.REVIEW)
        self.assertEqual(review.due_on, "2025-11-07")
        self.assertEqual(review.explanation.sentence,
                         "attendance 94.4% (34/36 sessions, 2025-10-08..2025-11-07) not >= "
                         "96.0% target set at meeting meet-1 held 2025-10-07 -> target not "
                         "met; review due on 2025-11-07")
        # ...and the meeting's 20 school days of monitoring ended without
        # 96%: the EWO referral is the next step.
        self.assertEqual(rules["ewo_referral"].due_on, "2025-11-11")
        self.assertEqual(rules["ewo_referral"].action, self.epb.REFERRAL)

        referral = self.ledger.RecordAction(pb.RecordActionRequest(
            school_id=SCHOOL, request_id="referral-1", pupil_id="P1", action_id="ewo-1",
            kind=ev.REFERRAL_MADE, referred_to=ev.EDUCATION_WELFARE_OFFICER,
            step_id="ewo_referral", happened_on="2025-11-12", reviews_action_id="meet-1"),
            metadata=ADMIN, timeout=10)
        rules = {a.rule_id for a in self.due("", referral.position).actions}
        self.assertNotIn("ewo_referral", rules)
        self.assertNotIn("meet-1", rules)
        # Seed 001's October review point (2025-10-15) is due for the pupil
        # on the ladder; the worklist lists it by the pupil's stage.
        by_stage = self.escalation.ListDueActions(self.espb.ListDueActionsRequest(
            school_id=SCHOOL, ladder_id="stages", stage="ewo_referral",
            min_position=referral.position), timeout=30)
        points = [a for a in by_stage.actions if a.rule_id == "review_points"]
        self.assertEqual([(a.action, a.due_on) for a in points],
                         [(self.epb.REVIEW, "2025-10-15")])
        self.assertEqual(self.escalation.ListDueActions(self.espb.ListDueActionsRequest(
            school_id=SCHOOL, ladder_id="stages", stage="none",
            min_position=referral.position), timeout=30).total, 0)
        # A letter recorded against the meeting step is refused, naming both.
        with self.assertRaises(grpc.RpcError) as wrong_kind:
            self.ledger.RecordLetter(pb.RecordLetterRequest(
                school_id=SCHOOL, request_id="letter-as-meeting", pupil_id="P1",
                letter_id="teacher_meeting", channel=ev.POST, sent_on="2025-11-12"),
                metadata=ADMIN, timeout=10)
        self.assertEqual(wrong_kind.exception.code(), grpc.StatusCode.INVALID_ARGUMENT)
        self.assertIn('letter_id: "teacher_meeting" is a MEETING step',
                      wrong_kind.exception.details())
        # ReadEvents carries the action, filtered by its type.
        actions = list(self.ledger.ReadEvents(pb.ReadEventsRequest(
            school_id=SCHOOL, event_types=[pb.ACTION_RECORDED]), metadata=ADMIN, timeout=10))
        self.assertEqual([e.action_recorded.action_id for e in actions], ["meet-1", "ewo-1"])
        # The authenticated actor (without --tokens, every caller is the local admin).
        self.assertEqual(actions[0].action_recorded.recorded_by.name, "local admin")

        # Refusals name the field and write nothing.
        future = pb.RecordActionRequest(
            school_id=SCHOOL, request_id="future", pupil_id="P1", action_id="visit-1",
            kind=ev.HOME_VISIT_MADE, happened_on="2025-11-13")
        with self.assertRaises(grpc.RpcError) as refused:
            self.ledger.RecordAction(future, metadata=ADMIN, timeout=10)
        self.assertEqual(refused.exception.code(), grpc.StatusCode.INVALID_ARGUMENT)
        self.assertEqual(refused.exception.details(), "happened_on: 2025-11-13 is in the future")
        again = pb.RecordActionRequest(
            school_id=SCHOOL, request_id="again", pupil_id="P1", action_id="meet-1",
            kind=ev.CALL_MADE, happened_on="2025-11-12")
        with self.assertRaises(grpc.RpcError) as refused:
            self.ledger.RecordAction(again, metadata=ADMIN, timeout=10)
        self.assertEqual(refused.exception.code(), grpc.StatusCode.ALREADY_EXISTS)
        self.assertEqual(len(list(self.ledger.ReadEvents(pb.ReadEventsRequest(
            school_id=SCHOOL, event_types=[pb.ACTION_RECORDED]), metadata=ADMIN,
            timeout=10))), 2)

    def test_first_response_register_not_taken_listing_and_simulation(self):
        pb, ev = STUBS.pb, STUBS.events
        self.ledger.SetSchoolSettings(pb.SetSchoolSettingsRequest(
            school_id=SCHOOL, request_id="settings-closes",
            settings=ev.SchoolSettings(school_name="Escalation Primary",
                                       am_register_closes="09:00",
                                       pm_register_closes="13:30")), metadata=ADMIN, timeout=10)
        self.ledger.SetEscalationPolicy(pb.SetEscalationPolicyRequest(
            school_id=SCHOOL, request_id="policy-001", policy=load_policy(self.epb, SEED_001)),
            metadata=ADMIN, timeout=10)
        self.mark("2025-09-01", "2025-09-15")
        position = self.ledger.RecordMarks(pb.RecordMarksRequest(
            school_id=SCHOOL, request_id="today-am",
            marks=[pb.Mark(pupil_id="P1", date="2025-09-16", session="AM", code="N")]),
            metadata=ADMIN, timeout=10).last_position

        # Seed 001: no reason by the close of the morning register, a call by 9:30.
        first = self.escalation.ListFirstResponse(self.espb.ListFirstResponseRequest(
            school_id=SCHOOL, as_of="2025-09-16", as_of_time="09:10", min_position=position),
            timeout=30)
        self.assertFalse(first.register_open)
        self.assertEqual([e.pupil_id for e in first.entries], ["P1"])
        self.assertEqual(first.entries[0].contact_by, "2025-09-16 09:30")
        self.assertEqual(first.entries[0].action, self.epb.CALL)

        # The PM register is not taken once it closes at 13:30.
        def not_taken(time):
            return self.escalation.ListDueActions(self.espb.ListDueActionsRequest(
                school_id=SCHOOL, as_of="2025-09-16", as_of_time=time,
                action=self.epb.REGISTER_NOT_TAKEN, min_position=position), timeout=30)
        self.assertEqual(not_taken("13:30").total, 0)
        late = not_taken("13:31")
        self.assertEqual(late.total, 1)
        self.assertEqual(late.actions[0].explanation.sessions[0].session, ev.PM)

        # Pupils by ladder and stage.
        listed = self.escalation.ListEscalations(self.espb.ListEscalationsRequest(
            school_id=SCHOOL, as_of="2025-09-16", ladder_id="stages", min_position=position),
            timeout=30)
        self.assertEqual([(p.pupil_id, p.stage) for p in listed.pupils], [("P1", "")])
        self.assertEqual([(c.stage, c.pupils) for c in listed.counts], [("", 1)])
        with self.assertRaises(grpc.RpcError) as refused:
            self.escalation.ListEscalations(self.espb.ListEscalationsRequest(
                school_id=SCHOOL, ladder_id="stages", stage="letter_9"), timeout=30)
        self.assertEqual(refused.exception.code(), grpc.StatusCode.INVALID_ARGUMENT)

        # What if the concern letter came below 90% instead of 96%? P1's N
        # today (22/23 = 95.7%) brings the school's own letter, not this one.
        what_if = load_policy(self.epb, SEED_001)
        what_if.version = "what-if"
        what_if.ladders[0].steps[0].attendance.basis_points = 9000
        simulated = self.escalation.SimulatePolicy(self.espb.SimulatePolicyRequest(
            school_id=SCHOOL, policy=what_if, to="2025-09-16", min_position=position,
            **{"from": "2025-09-01"}), timeout=60)
        self.assertEqual(simulated.pupils, 1)
        self.assertEqual(simulated.baseline_policy_version, "2024-27.1")
        autumn_1 = simulated.half_terms[0]
        self.assertEqual(autumn_1.half_term, "Autumn 1")

        def tally(tallies, rule):
            return [t.due for t in tallies if t.rule_id == rule][0]
        self.assertEqual(tally(autumn_1.simulated, "concern_letter"), 0)
        self.assertEqual(tally(autumn_1.baseline, "concern_letter"), 1)
        self.assertEqual([t.due for t in autumn_1.actual], [])
        what_if.band_sets[0].bands[1].upper_basis_points = 9700
        with self.assertRaises(grpc.RpcError) as bad_policy:
            self.escalation.SimulatePolicy(self.espb.SimulatePolicyRequest(
                school_id=SCHOOL, policy=what_if), timeout=30)
        self.assertEqual(bad_policy.exception.code(), grpc.StatusCode.INVALID_ARGUMENT)
        self.assertIn("policy.band_sets[0]", bad_policy.exception.details())

    def test_leave_request_evaluated_refused_and_approved(self):
        """Seed 001's leave rules through EvaluateLeaveRequest, then a refused
        and an approved request: the approved one's sessions are marked C and
        count as authorised absence."""
        pb, ev = STUBS.pb, STUBS.events
        self.ledger.SetSchoolSettings(pb.SetSchoolSettingsRequest(
            school_id=SCHOOL, request_id="settings-horizon",
            settings=ev.SchoolSettings(school_name="Escalation Primary",
                                       planned_codes_horizon_days=60)),
            metadata=ADMIN, timeout=10)
        self.ledger.SetEscalationPolicy(pb.SetEscalationPolicyRequest(
            school_id=SCHOOL, request_id="policy-001", policy=load_policy(self.epb, SEED_001)),
            metadata=ADMIN, timeout=10)
        pupil = ev.Pupil(pupil_id="P1", given_name="E", family_name="P1", year_group=4)
        pupil.carers.add(carer_id="c-mum", given_name="Mum", family_name="P1",
                         relationship=ev.MOTHER, has_parental_responsibility=True)
        self.ledger.UpdatePupil(pb.UpdatePupilRequest(
            school_id=SCHOOL, request_id="carers", pupil=pupil, effective_from="2025-09-01"),
            metadata=ADMIN, timeout=10)
        position = self.mark("2025-09-01", "2025-09-16")  # 24 sessions, all present

        def evaluate(first, last, as_of=""):
            return self.escalation.EvaluateLeaveRequest(self.espb.EvaluateLeaveRequestRequest(
                school_id=SCHOOL, pupil_id="P1", first_date=first, first_session="AM",
                last_date=last, last_session="PM", as_of=as_of, min_position=position),
                timeout=30)

        # 24 / (24 + 2) = 92.3% < 96%: refused, whatever else passes.
        answer = evaluate("2025-10-20", "2025-10-20")
        self.assertEqual(answer.recommendation, self.epb.LEAVE_REFUSE)
        self.assertEqual(answer.sessions, 2)
        checks = {c.rule: c for c in answer.checks}
        self.assertFalse(checks["attendance_after_leave"].passed)
        self.assertIn("92.3% (24/26 sessions", checks["attendance_after_leave"].explanation.sentence)
        self.assertTrue(checks["notice"].passed)
        self.assertTrue(checks["unauthorised_absence"].passed)
        self.assertTrue(checks["authorised_absence"].passed)
        self.assertTrue(answer.sentence.startswith(
            "refuse leave 2025-10-20 AM..2025-10-20 PM (2 sessions): attendance with the 2"))
        # Four weeks' notice: 2025-10-13 is 27 days after the server's today.
        self.assertFalse({c.rule: c for c in evaluate("2025-10-13", "2025-10-13").checks}[
            "notice"].passed)
        with self.assertRaises(grpc.RpcError) as bad:
            evaluate("2025-10-27", "2025-10-31")  # half-term
        self.assertEqual(bad.exception.code(), grpc.StatusCode.INVALID_ARGUMENT)
        self.assertIn("holds no school session", bad.exception.details())

        def request(leave_id, day, requested_by="c-mum"):
            return self.ledger.RequestLeave(pb.RequestLeaveRequest(
                school_id=SCHOOL, request_id="req-" + leave_id, pupil_id="P1",
                leave_id=leave_id, first_date=day, first_session="AM", last_date=day,
                last_session="PM", reason="family event", requested_by=requested_by),
                metadata=ADMIN, timeout=10)

        with self.assertRaises(grpc.RpcError) as stranger:
            request("leave-0", "2025-10-20", requested_by="c-nobody")
        self.assertEqual(stranger.exception.code(), grpc.StatusCode.FAILED_PRECONDITION)
        request("leave-1", "2025-10-20")
        refused = self.ledger.DecideLeave(pb.DecideLeaveRequest(
            school_id=SCHOOL, request_id="dec-1", pupil_id="P1", leave_id="leave-1",
            approved=False, reason="not exceptional"), metadata=ADMIN, timeout=10)
        self.assertEqual(refused.sessions_recorded, 0)
        request("leave-2", "2025-10-21")
        approved = self.ledger.DecideLeave(pb.DecideLeaveRequest(
            school_id=SCHOOL, request_id="dec-2", pupil_id="P1", leave_id="leave-2",
            approved=True, reason="bereavement"), metadata=ADMIN, timeout=10)
        self.assertEqual(approved.sessions_recorded, 2)
        self.assertEqual(approved.last_position, approved.position + 2)
        marks = [e.mark_recorded for e in self.ledger.ReadEvents(pb.ReadEventsRequest(
            from_position=approved.position, school_id=SCHOOL,
            event_types=[pb.MARK_RECORDED]), metadata=ADMIN, timeout=10)]
        self.assertEqual([(m.date, m.code) for m in marks],
                         [("2025-10-21", "C"), ("2025-10-21", "C")])
        decided = list(self.ledger.ReadEvents(pb.ReadEventsRequest(
            school_id=SCHOOL, event_types=[pb.LEAVE_REQUESTED, pb.LEAVE_DECIDED]),
            metadata=ADMIN, timeout=10))
        self.assertEqual(len(decided), 4)
        # The C sessions count as authorised absence (possible, not attended).
        projections = STUBS.proj_svc.ProjectionsStub(self.channel)
        figures = projections.GetPupilAttendance(STUBS.proj.GetPupilAttendanceRequest(
            school_id=SCHOOL, pupil_id="P1", as_of="2025-10-21",
            min_position=approved.last_position), metadata=ADMIN, timeout=30)
        ytd = [w.figures for w in figures.windows
               if w.window.kind == STUBS.proj.ACADEMIC_YEAR_TO_DATE][0]
        self.assertEqual(ytd.authorised_absence, 2)
        self.assertEqual(ytd.possible_sessions, 26)
        self.assertEqual(ytd.attended_sessions, 24)

    def restart(self, now):
        self.channel.close()
        self.server.stop()
        self.server.extra_args = ["--now", now]
        self.server.start()
        self.channel = grpc.insecure_channel(self.server.target)
        self.ledger = STUBS.svc.LedgerStub(self.channel)
        self.escalation = escalation_stubs()[2].EscalationStub(self.channel)


def main():
    harness.run_tests("escalation", globals(), __doc__)


if __name__ == "__main__":
    main()
