#!/usr/bin/python3
"""End-to-end test of the server's limits on the real `ledgerd`.

Opens 400 StreamMarks streams on one connection (grpc.aio: one channel, no
client thread per stream) and counts the server's threads in
/proc/<pid>/task; opens one stream more than --max-mark-streams and checks
it is refused with RESOURCE_EXHAUSTED naming the flag while the others go
on; and checks that the threads and streams are let go once the streams end.

Usage: /usr/bin/python3 test_stream_limits.py LEDGERD PROTO_DIR [unittest args]
(or set LEDGERD and PROTO_DIR). Needs Debian's python3-grpcio.
"""

import asyncio
import os
import shutil
import unittest

import grpc

import ledger_harness as harness

LEDGERD = PROTO_DIR = None
STUBS = None

TEACHER = harness.actor("Miss C. Patel", "teacher")
# No school of that name: every batch is rejected, so nothing is written and
# what is measured is the streams themselves.
NO_SCHOOL = "no-such-school"


def thread_count(pid):
    return len(os.listdir(f"/proc/{pid}/task"))


def rejected_batch(request_id):
    pb = STUBS.pb
    return pb.RecordMarksRequest(
        school_id=NO_SCHOOL, request_id=request_id,
        marks=[pb.Mark(pupil_id="P1", date="2025-09-08", session=STUBS.events.AM,
                                 code="/")])


async def open_streams(stub, count, prefix):
    """Opens `count` streams, each with one batch written and answered."""
    calls = []
    for i in range(count):
        call = stub.StreamMarks(metadata=TEACHER)
        await call.write(rejected_batch(f"{prefix}-{i}"))
        calls.append(call)
    answers = [await call.read() for call in calls]
    return calls, answers


async def close_streams(calls):
    codes = []
    for call in calls:
        await call.done_writing()
        while await call.read() != grpc.aio.EOF:
            pass
        codes.append(await call.code())
    return codes


class StreamLimitsTest(unittest.TestCase):
    def start(self, *flags):
        work = harness.make_temp_dir("ledger-limits-")
        self.addCleanup(shutil.rmtree, work, True)
        server = harness.LedgerProcess(LEDGERD, os.path.join(work, "data"), work,
                                       extra_args=flags)
        server.start()
        self.addCleanup(server.stop)
        return server

    def test_400_streams_on_one_connection_do_not_cost_a_thread_each(self):
        server = self.start("--max-mark-streams", "1000", "--max-streams-per-connection", "1000",
                            "--max-calls", "1000")
        pid = server.proc.pid

        async def run():
            async with grpc.aio.insecure_channel(server.target) as channel:
                stub = STUBS.svc.LedgerStub(channel)
                warm, _ = await open_streams(stub, 1, "warm")
                await close_streams(warm)
                before = thread_count(pid)
                calls, answers = await open_streams(stub, 400, "s")
                during = thread_count(pid)
                codes = await close_streams(calls)
                return before, during, answers, codes

        before, during, answers, codes = asyncio.run(run())
        after = thread_count(pid)
        print(f"ledgerd threads: {before} before, {during} with 400 streams open, {after} after")
        self.assertEqual(len(answers), 400)
        for answer in answers:
            self.assertEqual(answer.batch_index, 0)
            self.assertEqual(answer.error_code, grpc.StatusCode.NOT_FOUND.value[0], answer)
        self.assertEqual(set(codes), {grpc.StatusCode.OK})
        # A thread per stream (the old handler took two) would add 400 or more.
        self.assertLess(during - before, 40, server.log_tail())
        self.assertLess(after - before, 40)

    def test_a_stream_over_the_limit_is_refused_and_the_others_go_on(self):
        server = self.start("--max-mark-streams", "3")

        async def run():
            async with grpc.aio.insecure_channel(server.target) as channel:
                stub = STUBS.svc.LedgerStub(channel)
                calls, _ = await open_streams(stub, 3, "admitted")
                extra = stub.StreamMarks(metadata=TEACHER)
                refused_code = await extra.code()
                refused_details = await extra.details()
                # The admitted streams still answer.
                for i, call in enumerate(calls):
                    await call.write(rejected_batch(f"more-{i}"))
                    answer = await call.read()
                    self.assertEqual(answer.batch_index, 1)
                codes = await close_streams(calls)
                # Their places are free again.
                again, _ = await open_streams(stub, 3, "again")
                codes += await close_streams(again)
                return refused_code, refused_details, codes

        refused_code, refused_details, codes = asyncio.run(run())
        self.assertEqual(refused_code, grpc.StatusCode.RESOURCE_EXHAUSTED)
        self.assertIn("--max-mark-streams", refused_details)
        self.assertEqual(set(codes), {grpc.StatusCode.OK})


def main():
    harness.run_tests("stream_limits", globals(), __doc__)


if __name__ == "__main__":
    main()
