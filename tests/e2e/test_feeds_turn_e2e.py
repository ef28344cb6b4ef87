"""A register-close turn of SubscribeProjectionChanges on the real `ledgerd`,
in real time: the server's clock starts (`--now`, to the second) at
09:25:30 on a school day and runs from there, so the hub's clock (two
seconds behind) passes 09:26, the first minute after the AM register closes
(09:25), about 32 s later. Under the national base policy, P1's AM mark is
in before then and P2 has none: at the 09:26 turn the live feed sends P2's
REGISTER_NOT_TAKEN due action (time_driven, at the position of the last
event before the turn, `turned_to_time` "09:26") and nothing for P1; P2's
late mark then removes it. A subscriber resumed after the turn's message
(after_position, after_day, after_time) gets exactly the rest; one resumed
after the message before it gets the turn and the rest; one that omits
after_time gets the turn again (as documented); a replay from position 0
equals the live stream change for change. `ledgerctl subscribe-changes`'s
resume hint names --after-time 09:26.

Usage: /usr/bin/python3 test_feeds_turn_e2e.py LEDGERD PROTO_DIR [LEDGERCTL]
"""

import datetime
import os
import queue
import shutil
import subprocess
import sys
import threading
import time
import unittest

import grpc
from google.protobuf import text_format

import ledger_harness as harness

LEDGERD = PROTO_DIR = None
LEDGERCTL = None
STUBS = None

SCHOOL = "turn-school"
DAY = "2025-10-08"  # a Wednesday of Autumn 1 (harness.calendar_2025)
START = f"{DAY}T09:25:30"
TURN = "09:26"
ADMIN = harness.actor("Turn Admin", "admin")


def feeds_stubs():
    import attendance.v1.escalation_pb2 as epb  # noqa: E402
    import attendance.v1.feeds_service_pb2 as fpb  # noqa: E402
    import attendance.v1.feeds_service_pb2_grpc as fsvc  # noqa: E402
    return epb, fpb, fsvc


def register_not_taken(message, added):
    """The pupils of `message` whose REGISTER_NOT_TAKEN action fell due
    (added) or stopped being due."""
    epb, _, _ = feeds_stubs()
    out = []
    for change in message.changes:
        actions = change.escalation.due_added if added else change.escalation.due_removed
        if any(a.action == epb.REGISTER_NOT_TAKEN for a in actions):
            out.append(change.attendance.pupil.pupil_id)
    return out


def due_now(messages):
    """The pupils with a REGISTER_NOT_TAKEN action due after `messages`."""
    due = set()
    for message in messages:
        due |= set(register_not_taken(message, True))
        due -= set(register_not_taken(message, False))
    return due


class Feed:
    """One SubscribeProjectionChanges call read on its own thread."""

    def __init__(self, channel, after_position=0, after_day="", after_time=""):
        _, fpb, fsvc = feeds_stubs()
        self.messages = queue.Queue()
        self.call = fsvc.FeedsStub(channel).SubscribeProjectionChanges(
            fpb.SubscribeProjectionChangesRequest(school_ids=[SCHOOL], after_position=after_position,
                                                  after_day=after_day, after_time=after_time),
            timeout=120)
        self.thread = threading.Thread(target=self._read, daemon=True)
        self.thread.start()
        self.received = []

    def _read(self):
        try:
            for message in self.call:
                self.messages.put(message)
        except grpc.RpcError as e:
            if e.code() != grpc.StatusCode.CANCELLED:
                self.messages.put(e)

    def until(self, done, timeout=90):
        """Reads messages until `done(message)`; returns that message."""
        deadline = time.monotonic() + timeout
        while True:
            message = self.messages.get(timeout=max(0.1, deadline - time.monotonic()))
            if isinstance(message, grpc.RpcError):
                raise AssertionError(f"the feed ended: {message.code()} {message.details()}")
            self.received.append(message)
            if done(message):
                return message

    def changes(self):
        return [c.SerializeToString() for m in self.received for c in m.changes]

    def close(self):
        self.call.cancel()
        self.thread.join(timeout=10)


class RegisterCloseTurnTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.work = harness.make_temp_dir("ledger-feeds-turn-e2e-")
        cls.server = harness.LedgerProcess(LEDGERD, os.path.join(cls.work, "data"), cls.work,
                                           extra_args=["--now", START])
        cls.server.start()
        cls.channel = grpc.insecure_channel(cls.server.target)
        cls.ledger = STUBS.svc.LedgerStub(cls.channel)

    @classmethod
    def tearDownClass(cls):
        cls.channel.close()
        cls.server.kill()
        shutil.rmtree(cls.work, ignore_errors=True)

    def record(self, request_id, marks):
        return self.ledger.RecordMarks(STUBS.pb.RecordMarksRequest(
            school_id=SCHOOL, request_id=request_id, marks=marks), metadata=ADMIN,
            timeout=30).last_position

    def set_up_school(self):
        pb, ev = STUBS.pb, STUBS.events
        epb, _, _ = feeds_stubs()
        self.ledger.SetSchoolSettings(pb.SetSchoolSettingsRequest(
            school_id=SCHOOL, request_id="settings",
            settings=ev.SchoolSettings(school_name="Turn Primary", am_register_closes="09:25",
                                       pm_register_closes="13:10")), metadata=ADMIN, timeout=10)
        self.ledger.SetSchoolCalendar(pb.SetSchoolCalendarRequest(
            school_id=SCHOOL, request_id="calendar", calendar=harness.calendar_2025(ev)),
            metadata=ADMIN, timeout=10)
        for pupil in ("P1", "P2"):
            self.ledger.EnrolPupil(pb.EnrolPupilRequest(
                school_id=SCHOOL, request_id=f"enrol-{pupil}",
                pupil=ev.Pupil(pupil_id=pupil, given_name="Pupil", family_name=pupil,
                               year_group=4), on_roll_from="2025-09-01"),
                metadata=ADMIN, timeout=10)
        with open(os.path.join(PROTO_DIR, "..", "policies",
                               "national_base_england_2024.textproto")) as f:
            policy = text_format.Parse(f.read(), epb.EscalationPolicy())
        self.ledger.SetEscalationPolicy(pb.SetEscalationPolicyRequest(
            school_id=SCHOOL, request_id="policy", policy=policy), metadata=ADMIN, timeout=10)
        # Every register before today taken, so that only today's can be due.
        day = datetime.date(2025, 9, 1)
        for pupil in ("P1", "P2"):
            marks = []
            d = day
            while d.isoformat() < DAY:
                if d.weekday() < 5:
                    marks += [pb.Mark(pupil_id=pupil, date=d.isoformat(), session=s, code="/")
                              for s in ("AM", "PM")]
                d += datetime.timedelta(days=1)
            self.record(f"history-{pupil}", marks)

    def test_register_not_taken_at_the_close_turn(self):
        pb = STUBS.pb
        self.set_up_school()
        p1_mark = self.record("p1-am", [pb.Mark(pupil_id="P1", date=DAY, session="AM", code="/")])
        live = Feed(self.channel)
        caught_up = live.until(lambda m: m.caught_up)
        self.assertEqual(caught_up.position, p1_mark)
        # The test relies on the setup being done before the turn.
        self.assertEqual(caught_up.turned_to, DAY)
        self.assertEqual(caught_up.turned_to_time, "",
                         "the setup took until the AM register's turn; nothing to test")
        before_turn = live.received[-1]
        # The history's registers were untaken until their marks came.
        self.assertEqual(due_now(live.received), set())

        # About 32 s after the start: the turn, with P2's register not taken.
        turn = live.until(lambda m: m.turned_to_time == TURN)
        self.assertEqual(turn.turned_to, DAY)
        self.assertEqual(turn.position, p1_mark)
        self.assertEqual([c.attendance.pupil.pupil_id for c in turn.changes], ["P2"])
        self.assertTrue(turn.changes[0].time_driven)
        self.assertEqual(register_not_taken(turn, True), ["P2"])
        self.assertEqual(due_now(live.received), {"P2"})

        # P2 arrives late: the office's mark removes the action.
        late = self.record("p2-am", [pb.Mark(pupil_id="P2", date=DAY, session="AM", code="L",
                                             minutes_late=20)])
        removed = live.until(lambda m: m.position >= late and m.changes)
        self.assertEqual(removed.position, late)
        self.assertEqual(removed.turned_to_time, TURN)
        self.assertEqual(register_not_taken(removed, False), ["P2"])
        self.assertFalse(removed.changes[0].time_driven)
        self.assertEqual(due_now(live.received), set())
        live.close()
        upto_turn = sum(len(m.changes) for m in live.received[:live.received.index(turn) + 1])
        after_turn = live.changes()[upto_turn:]
        self.assertEqual(len(after_turn), 1)  # P2's late mark

        # Resumed after the turn's message: exactly the rest.
        resumed = Feed(self.channel, turn.position, turn.turned_to, turn.turned_to_time)
        resumed.until(lambda m: m.caught_up)
        resumed.close()
        self.assertEqual(resumed.changes(), after_turn)
        # Resumed after the message before the turn: the turn, then the rest.
        earlier = Feed(self.channel, before_turn.position, before_turn.turned_to,
                       before_turn.turned_to_time)
        earlier.until(lambda m: m.caught_up)
        earlier.close()
        self.assertEqual(earlier.changes(), [c.SerializeToString() for c in turn.changes] +
                         after_turn)
        self.assertEqual([m.turned_to_time for m in earlier.received if m.changes][0], TURN)
        # Without after_time, the turns of after_day at that position come again.
        no_time = Feed(self.channel, turn.position, turn.turned_to)
        no_time.until(lambda m: m.caught_up)
        no_time.close()
        self.assertEqual(no_time.changes(), [c.SerializeToString() for c in turn.changes] +
                         after_turn)
        # A replay from the start places the turn where live did.
        replay = Feed(self.channel)
        replay.until(lambda m: m.caught_up)
        replay.close()
        self.assertEqual(replay.changes(), live.changes())

        if LEDGERCTL:
            ctl = subprocess.run(
                [LEDGERCTL, "subscribe-changes", "--school", SCHOOL, "--after-position",
                 str(late), "--until-caught-up", "--deadline", "60"],
                env=dict(os.environ, LEDGER_ADDRESS=self.server.target), capture_output=True,
                text=True, timeout=90)
            self.assertEqual(ctl.returncode, 0, ctl.stderr)
            self.assertIn(f"resume with --after-position {late} --after-day {DAY} "
                          f"--after-time {TURN}", ctl.stderr)


if __name__ == "__main__":
    if len(sys.argv) > 3 and not sys.argv[3].startswith("-"):
        LEDGERCTL = os.path.abspath(sys.argv.pop(3))
    harness.run_tests("feeds-turn-e2e", globals(), __doc__)
