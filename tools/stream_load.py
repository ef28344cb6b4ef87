#!/usr/bin/python3
"""Short StreamMarks streams against a real ledgerd, with its resident memory
and threads before and after: the load of issue 10's finding 6 (memory
under fuzzing while almost nothing is written).

Starts LEDGERD on a fresh data dir, runs STREAMS streams (CONCURRENCY at a
time on one connection), each writing one batch that is rejected (an
unknown school) and reading its answer, and prints VmRSS and the thread
count of ledgerd before, at the peak and after.

Usage: /usr/bin/python3 tools/stream_load.py LEDGERD PROTO_DIR
         [--streams 2000] [--concurrency 100] [ledgerd flags...]
Environment passes through to ledgerd (e.g. MALLOC_ARENA_MAX=2).
"""

import argparse
import asyncio
import os
import shutil
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "e2e"))
import grpc  # noqa: E402

import ledger_harness as harness  # noqa: E402


def status_field(pid, name):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(name + ":"):
                return int(line.split()[1])
    return 0


def sample(pid):
    return status_field(pid, "VmRSS") // 1024, len(os.listdir(f"/proc/{pid}/task"))


async def open_stream(stub, stubs, i):
    """A stream with one rejected batch written and answered."""
    call = stub.StreamMarks(metadata=harness.actor("Load", "teacher"))
    await call.write(stubs.pb.RecordMarksRequest(
        school_id="no-such-school", request_id=f"load-{i}",
        marks=[stubs.pb.Mark(pupil_id="P1", date="2025-09-08", session=stubs.events.AM,
                             code="/")]))
    await call.read()
    return call


async def close_stream(call):
    await call.done_writing()
    while await call.read() != grpc.aio.EOF:
        pass
    return await call.code()


async def load(target, stubs, streams, concurrency, pid):
    peak = sample(pid)
    codes = {}
    async with grpc.aio.insecure_channel(target) as channel:
        stub = stubs.svc.LedgerStub(channel)
        for start in range(0, streams, concurrency):
            wave = [open_stream(stub, stubs, i)
                    for i in range(start, min(streams, start + concurrency))]
            calls = await asyncio.gather(*wave)
            now = sample(pid)  # the whole wave open
            peak = (max(peak[0], now[0]), max(peak[1], now[1]))
            for code in await asyncio.gather(*[close_stream(call) for call in calls]):
                codes[code] = codes.get(code, 0) + 1
    return codes, peak


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("ledgerd")
    parser.add_argument("proto_dir")
    parser.add_argument("--streams", type=int, default=2000)
    parser.add_argument("--concurrency", type=int, default=100)
    args, ledgerd_flags = parser.parse_known_args()
    work = harness.make_temp_dir("ledger-stream-load-")
    try:
        stubs = harness.generate_stubs(os.path.abspath(args.proto_dir), os.path.join(work, "stubs"))
        server = harness.LedgerProcess(os.path.abspath(args.ledgerd), os.path.join(work, "data"),
                                       work, extra_args=ledgerd_flags)
        server.start()
        try:
            pid = server.proc.pid
            asyncio.run(load(server.target, stubs, 20, 20, pid))  # warm up
            before = sample(pid)
            codes, peak = asyncio.run(load(server.target, stubs, args.streams, args.concurrency, pid))
            after = sample(pid)
        finally:
            server.stop()
        print(f"{args.streams} streams, {args.concurrency} at a time: statuses "
              f"{ {str(k): v for k, v in codes.items()} }")
        print(f"ledgerd RSS MB: {before[0]} before, {peak[0]} peak, {after[0]} after; "
              f"threads: {before[1]} before, {peak[1]} peak, {after[1]} after")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
