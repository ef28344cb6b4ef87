"""Measures what stalled ReadEvents followers cost ledgerd: the server's RSS
after a loadgen run with 0 and with N followers that never read (a benchmark,
not a test: nothing gates on it).

Usage: /usr/bin/python3 bench_stalled_followers.py BUILD_DIR PROTO_DIR [MARKS] [FOLLOWERS]
e.g.   /usr/bin/python3 tests/e2e/bench_stalled_followers.py build proto 1200000 25
"""

import os
import shutil
import subprocess
import sys
import tempfile
import time

import grpc

import ledger_harness as harness


def rss_mb(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) // 1024
    return 0


def run(build, stubs, followers, marks):
    work = tempfile.mkdtemp(prefix="ledger-stalled-")
    server = harness.LedgerProcess(os.path.join(build, "tools", "ledgerd"),
                                   os.path.join(work, "data"), work)
    try:
        server.start()
        channel = grpc.insecure_channel(server.target)
        stub = stubs.svc.LedgerStub(channel)
        calls = [stub.ReadEvents(stubs.pb.ReadEventsRequest(follow=True), timeout=3600)
                 for _ in range(followers)]
        time.sleep(0.5)
        before = rss_mb(server.proc.pid)
        started = time.monotonic()
        subprocess.run([os.path.join(build, "tools", "loadgen"), "--target", server.target,
                        "--setup", "--marks", str(marks), "--clients", "4"],
                       check=True, capture_output=True)
        print(f"{followers} stalled followers, {marks} marks: ledgerd RSS {before} -> "
              f"{rss_mb(server.proc.pid)} MB, load {time.monotonic() - started:.1f} s", flush=True)
        for call in calls:
            call.cancel()
        channel.close()
    finally:
        server.kill()
        shutil.rmtree(work, ignore_errors=True)


def main():
    if len(sys.argv) < 3:
        sys.stderr.write(__doc__)
        sys.exit(2)
    build, proto = os.path.abspath(sys.argv[1]), os.path.abspath(sys.argv[2])
    marks = int(sys.argv[3]) if len(sys.argv) > 3 else 400000
    followers = int(sys.argv[4]) if len(sys.argv) > 4 else 25
    stub_dir = tempfile.mkdtemp(prefix="ledger-stalled-stubs-")
    try:
        stubs = harness.generate_stubs(proto, stub_dir)
        for n in (0, followers):
            run(build, stubs, n, marks)
    finally:
        shutil.rmtree(stub_dir, ignore_errors=True)


if __name__ == "__main__":
    main()
