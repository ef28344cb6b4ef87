"""Stalled feed subscribers on the real `ledgerd`: twenty SubscribeEvents
calls that stop reading once caught up, each on its own connection with a
small fixed receive window, while `loadgen` writes 150,000 marks. Every
write is acknowledged (loadgen fails otherwise); the server's resident
memory grows by no more than it does for the same load without feeds plus
6 MB a feed (a feed that kept the log it had not sent would take ~30 MB);
and each stalled feed, once it reads again, gets what was in flight then
RESOURCE_EXHAUSTED naming the position to resume from (--max-feed-lag-events
20000), and resuming there brings it to the head.

Usage: /usr/bin/python3 test_feeds_e2e.py LEDGERD PROTO_DIR
"""

import os
import shutil
import subprocess
import unittest

import grpc

import ledger_harness as harness

LEDGERD = PROTO_DIR = None
STUBS = None
FEEDS = 20
MARKS = 150000
SMALL_WINDOW = [("grpc.http2.bdp_probe", 0), ("grpc.http2.lookahead_bytes", 65536),
                ("grpc.use_local_subchannel_pool", 1)]


def rss_kb(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


class StalledFeedsTest(unittest.TestCase):
    def load(self, feeds):
        """RSS growth (kB) of a fresh ledgerd under the load, with `feeds`
        stalled subscribers; checks what the stalled ones get afterwards."""
        import attendance.v1.feeds_service_pb2 as fpb  # noqa: E402
        import attendance.v1.feeds_service_pb2_grpc as fsvc  # noqa: E402
        work = harness.make_temp_dir("ledger-feeds-e2e-")
        server = harness.LedgerProcess(LEDGERD, os.path.join(work, "data"), work,
                                       ["--max-feed-lag-events", "20000"])
        channels = []
        try:
            server.start()
            calls = []
            for _ in range(feeds):
                channel = grpc.insecure_channel(server.target, options=SMALL_WINDOW)
                channels.append(channel)
                call = fsvc.FeedsStub(channel).SubscribeEvents(fpb.SubscribeEventsRequest(),
                                                               timeout=300)
                for message in call:  # read up to the head, then stop reading
                    if message.caught_up:
                        break
                calls.append(call)
            before = rss_kb(server.proc.pid)
            subprocess.run([os.path.join(os.path.dirname(LEDGERD), "loadgen"), "--target",
                            server.target, "--setup", "--marks", str(MARKS), "--clients", "4"],
                           check=True, capture_output=True, timeout=240)
            growth = rss_kb(server.proc.pid) - before
            feeds_stub = fsvc.FeedsStub(channels[0]) if channels else None
            for call in calls:
                last = 0
                with self.assertRaises(grpc.RpcError) as ended:
                    for message in call:
                        last = message.position
                self.assertEqual(ended.exception.code(), grpc.StatusCode.RESOURCE_EXHAUSTED)
                self.assertIn("after_position=", ended.exception.details())
                for message in feeds_stub.SubscribeEvents(
                        fpb.SubscribeEventsRequest(after_position=last), timeout=120):
                    if message.caught_up:
                        self.assertGreaterEqual(message.position, message.head)
                        break
            return growth
        finally:
            for channel in channels:
                channel.close()
            server.kill()
            shutil.rmtree(work, ignore_errors=True)

    def test_stalled_feeds_hold_up_nobody_and_memory_stays_bounded(self):
        without = self.load(0)
        with_feeds = self.load(FEEDS)
        print(f"ledgerd RSS growth under {MARKS} marks: {without // 1024} MB without feeds, "
              f"{with_feeds // 1024} MB with {FEEDS} stalled feeds")
        self.assertLess(with_feeds, without + FEEDS * 6 * 1024)


def main():
    harness.run_tests("feeds", globals(), __doc__)


if __name__ == "__main__":
    main()
