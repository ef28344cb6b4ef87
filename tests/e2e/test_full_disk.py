#!/usr/bin/python3
"""ledgerd on a full disk (issue 10, finding 3): a 96 MB tmpfs mounted by the
test. Writes are refused with RESOURCE_EXHAUSTED and write nothing, reads keep
working, SIGTERM, restart and --verify do not abort while the disk is full, and
writes are accepted again, without a restart, once space is freed.

Needs root to mount the tmpfs; skipped otherwise.

Usage: test_full_disk.py LEDGERD PROTO_DIR
"""

import os
import shutil
import signal
import subprocess
import time
import unittest

import grpc

import ledger_harness as harness

SCHOOL = "FD1"
ADMIN = harness.actor("Full Disk Admin", "admin")
OFFICER = harness.actor("Full Disk Officer", "attendance_officer")


def can_mount():
    return os.geteuid() == 0 and shutil.which("mount") is not None


@unittest.skipUnless(can_mount(), "needs root to mount a tmpfs")
class FullDiskTest(unittest.TestCase):
    def setUp(self):
        self.work = harness.make_temp_dir("ledger-full-disk-")
        self.mnt = os.path.join(self.work, "mnt")
        os.mkdir(self.mnt)
        subprocess.run(["mount", "-t", "tmpfs", "-o", "size=96m", "tmpfs", self.mnt], check=True)
        self.server = harness.LedgerProcess(LEDGERD, os.path.join(self.mnt, "data"), self.work)
        self.filler = os.path.join(self.mnt, "filler")

    def tearDown(self):
        self.server.kill()
        subprocess.run(["umount", "-l", self.mnt], check=False)
        shutil.rmtree(self.work, ignore_errors=True)

    def fill(self):
        fd = os.open(self.filler, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
        try:
            size = 1 << 20
            while size > 0:
                try:
                    while os.write(fd, b"x" * size) == size:
                        pass
                except OSError:
                    pass
                size //= 2
        finally:
            os.close(fd)

    def letter(self, i):
        return STUBS.pb.RecordLetterRequest(
            school_id=SCHOOL, request_id=f"fd-letter-{i}", pupil_id="P1",
            letter_id=f"letter_{i}", channel=STUBS.events.POST, sent_on="2025-09-19",
            note="n" * 200)

    def request_ids(self, stub):
        events = stub.ReadEvents(STUBS.pb.ReadEventsRequest(from_position=1), metadata=ADMIN,
                                 timeout=30)
        return [e.request_id for e in events if e.request_id.startswith("fd-letter-")]

    def test_full_disk(self):
        ev, pb = STUBS.events, STUBS.pb
        self.server.start()
        channel = grpc.insecure_channel(self.server.target)
        stub = STUBS.svc.LedgerStub(channel)
        stub.SetSchoolSettings(pb.SetSchoolSettingsRequest(
            school_id=SCHOOL, settings=ev.SchoolSettings(school_name="Full Disk School")),
            metadata=ADMIN, timeout=10)
        stub.EnrolPupil(pb.EnrolPupilRequest(
            school_id=SCHOOL, pupil=ev.Pupil(pupil_id="P1", given_name="P", family_name="One",
                                             year_group=7),
            on_roll_from="2025-09-01"), metadata=ADMIN, timeout=10)
        acknowledged = []
        for i in range(20):
            stub.RecordLetter(self.letter(i), metadata=OFFICER, timeout=10)
            acknowledged.append(f"fd-letter-{i}")
        self.assertFalse(os.path.exists(os.path.join(self.server.data_dir, "LOG")))

        self.fill()
        refused = None
        i = 20
        while refused is None and i < 2000:
            try:
                stub.RecordLetter(self.letter(i), metadata=OFFICER, timeout=10)
                acknowledged.append(f"fd-letter-{i}")
                i += 1
            except grpc.RpcError as e:
                refused = e
        self.assertIsNotNone(refused)
        self.assertEqual(refused.code(), grpc.StatusCode.RESOURCE_EXHAUSTED, refused.details())
        for _ in range(3):
            with self.assertRaises(grpc.RpcError) as again:
                stub.RecordLetter(self.letter(i), metadata=OFFICER, timeout=10)
            self.assertEqual(again.exception.code(), grpc.StatusCode.RESOURCE_EXHAUSTED)
        self.assertEqual(self.request_ids(stub), acknowledged)  # reads work, nothing extra

        # Space returns: the refused request goes through, in the same process.
        os.remove(self.filler)
        deadline = time.monotonic() + 60
        while True:
            try:
                stub.RecordLetter(self.letter(i), metadata=OFFICER, timeout=10)
                acknowledged.append(f"fd-letter-{i}")
                break
            except grpc.RpcError as e:
                self.assertEqual(e.code(), grpc.StatusCode.RESOURCE_EXHAUSTED, e.details())
                self.assertLess(time.monotonic(), deadline, "writes did not resume")
                time.sleep(0.1)
        self.assertEqual(self.request_ids(stub), acknowledged)

        # Full again: SIGTERM, restart and --verify must not abort.
        self.fill()
        channel.close()
        self.assertEqual(self.server.stop(), 0, self.server.log_tail())
        code, output = self.server.verify()
        self.assertGreaterEqual(code, 0, f"--verify died of signal {-code}\n{output}")
        try:
            self.server.start(timeout=10)
            self.server.stop()
        except RuntimeError as e:  # refusing to start on a full disk is fine; aborting is not
            self.assertGreaterEqual(self.server.proc.returncode, 0, str(e))
        os.remove(self.filler)
        code, output = self.server.verify()
        self.assertEqual(code, 0, output)
        self.server.start()
        channel = grpc.insecure_channel(self.server.target)
        stub = STUBS.svc.LedgerStub(channel)
        self.assertEqual(self.request_ids(stub), acknowledged)
        channel.close()


def main():
    harness.run_tests("e2e.full_disk", globals(), __doc__)


if __name__ == "__main__":
    main()
