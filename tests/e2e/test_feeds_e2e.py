"""Stalled feed subscribers on the real `ledgerd`: twenty SubscribeEvents
calls that stop reading once caught up, each on its own connection with a
small fixed receive window, while `loadgen` writes 150,000 marks. Every
write is acknowledged (loadgen fails otherwise); the server's resident
memory grows by no more than it does for the same load without feeds plus
6 MB a feed (a feed that kept the log it had not sent would take ~30 MB);
and each stalled feed, once it reads again, gets what was in flight then
RESOURCE_EXHAUSTED naming the position to resume from (--max-feed-lag-events
20000), and resuming there brings it to the head. Meanwhile an active
subscriber (its own connection, a filter that matches nothing, so that the
server scans every event for it and sends a checkpoint every 1,000 while
Python's decoding costs nothing) keeps up: it is never ended, reaches the
head, and no message it gets is more than 20,000 events behind the head
that message names: its lag is bounded in events (wall-clock latency is
the benchmark's, tests/e2e/bench_feeds.py).

Usage: /usr/bin/python3 test_feeds_e2e.py LEDGERD PROTO_DIR
"""

import os
import shutil
import subprocess
import threading
import time
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
            active = {"max_lag": 0, "error": None, "position": 0}
            active_channel = grpc.insecure_channel(server.target,
                                                   options=[("grpc.use_local_subchannel_pool", 1)])
            channels.append(active_channel)
            active_call = fsvc.FeedsStub(active_channel).SubscribeEvents(
                fpb.SubscribeEventsRequest(from_now=True, event_types=[STUBS.pb.LETTER_SENT]),
                timeout=300)

            def follow():
                try:
                    for message in active_call:
                        active["max_lag"] = max(active["max_lag"], message.head - message.position)
                        active["position"] = message.position
                except grpc.RpcError as e:
                    if e.code() != grpc.StatusCode.CANCELLED:
                        active["error"] = e

            follower = threading.Thread(target=follow, daemon=True)
            follower.start()
            before = rss_kb(server.proc.pid)
            subprocess.run([os.path.join(os.path.dirname(LEDGERD), "loadgen"), "--target",
                            server.target, "--setup", "--marks", str(MARKS), "--clients", "4"],
                           check=True, capture_output=True, timeout=240)
            growth = rss_kb(server.proc.pid) - before
            head = None
            deadline = time.monotonic() + 120
            while time.monotonic() < deadline and active["error"] is None:
                # The head: the last position a fresh subscriber catches up to.
                if head is None:
                    for message in fsvc.FeedsStub(active_channel).SubscribeEvents(
                            fpb.SubscribeEventsRequest(from_now=True), timeout=30):
                        head = message.position
                        break
                if active["position"] >= head:
                    break
                time.sleep(0.1)
            active_call.cancel()
            follower.join(timeout=30)
            self.assertIsNone(active["error"])
            self.assertGreaterEqual(active["position"], head)
            self.assertLess(active["max_lag"], 20000)
            print(f"active subscriber with {feeds} stalled feeds: at most {active['max_lag']} "
                  f"events behind the head", flush=True)
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
