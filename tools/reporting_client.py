#!/usr/bin/python3
"""A downstream reporting service: follows one school's projection feed
(attendance.v1.Feeds/SubscribeProjectionChanges) and keeps, in SQLite, each
pupil's current figures for one window and their band, with the feed's
checkpoint in the same transaction: killed at any moment, it resumes
exactly after the last change it stored, nothing missed, nothing twice.

Usage:
  /usr/bin/python3 tools/reporting_client.py --proto-dir proto --school demo-school \
      --db report.sqlite [--target 127.0.0.1:50051 | --target-file FILE] \
      [--window previous-year|year-to-date] [--token TOKEN]

Needs Debian's python3-grpcio and python3-protobuf, and protoc with
grpc_python_plugin (stubs are generated from --proto-dir at start).
--target-file is re-read before every reconnection (a server that moved).
"""

import argparse
import glob
import os
import sqlite3
import subprocess
import sys
import tempfile
import time

import grpc

SCHEMA = """
CREATE TABLE IF NOT EXISTS pupil_figures (
  pupil_id TEXT PRIMARY KEY,
  possible INTEGER NOT NULL,
  attended INTEGER NOT NULL,
  authorised INTEGER NOT NULL,
  unauthorised INTEGER NOT NULL,
  attendance_percent REAL NOT NULL,
  persistent_absence INTEGER NOT NULL,
  severe_absence INTEGER NOT NULL,
  band TEXT NOT NULL,
  position INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS checkpoint (
  school_id TEXT PRIMARY KEY,
  position INTEGER NOT NULL,
  day TEXT NOT NULL DEFAULT '');
"""


def generate_stubs(proto_dir):
    out = tempfile.mkdtemp(prefix="reporting-client-stubs-")
    protos = sorted(glob.glob(os.path.join(proto_dir, "attendance", "v1", "*.proto")))
    subprocess.run(["protoc", f"-I{proto_dir}", f"--python_out={out}", f"--grpc_python_out={out}",
                    "--plugin=protoc-gen-grpc_python=/usr/bin/grpc_python_plugin"] + protos,
                   check=True)
    sys.path.insert(0, out)
    import attendance.v1.feeds_service_pb2 as feeds_pb2  # noqa: E402
    import attendance.v1.feeds_service_pb2_grpc as feeds_grpc  # noqa: E402
    import attendance.v1.projections_service_pb2 as projections_pb2  # noqa: E402
    return feeds_pb2, feeds_grpc, projections_pb2


def band(figures):
    if figures.severe_absence:
        return "severe"
    if figures.persistent_absence:
        return "persistent"
    return "none"


def store(db, school, message):
    """One message: its changes and its position, in one transaction."""
    with db:
        for change in message.changes:
            f = change.attendance.windows[0].figures
            db.execute(
                "INSERT OR REPLACE INTO pupil_figures VALUES (?,?,?,?,?,?,?,?,?,?)",
                (change.attendance.pupil.pupil_id, f.possible_sessions, f.attended_sessions,
                 f.authorised_absence, f.unauthorised_absence, f.attendance_percent,
                 int(f.persistent_absence), int(f.severe_absence), band(f),
                 change.attendance.position))
        # The day the feed had turned to goes with the position: the day's
        # turns at that position are then not sent again on resume.
        db.execute("INSERT OR REPLACE INTO checkpoint VALUES (?, ?, ?)",
                   (school, message.position, message.turned_to))


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--proto-dir", required=True)
    parser.add_argument("--school", required=True)
    parser.add_argument("--db", required=True)
    parser.add_argument("--target", default="127.0.0.1:50051")
    parser.add_argument("--target-file", default="")
    parser.add_argument("--window", choices=["year-to-date", "previous-year"],
                        default="year-to-date")
    parser.add_argument("--token", default="")
    args = parser.parse_args()

    feeds_pb2, feeds_grpc, projections_pb2 = generate_stubs(args.proto_dir)
    if args.window == "previous-year":
        window = projections_pb2.Window(kind=projections_pb2.PREVIOUS_ACADEMIC_YEAR, years_back=1)
    else:
        window = projections_pb2.Window(kind=projections_pb2.ACADEMIC_YEAR_TO_DATE)
    metadata = (("authorization", f"Bearer {args.token}"),) if args.token else ()

    db = sqlite3.connect(args.db)
    db.executescript(SCHEMA)
    if "day" not in [column[1] for column in db.execute("PRAGMA table_info(checkpoint)")]:
        db.execute("ALTER TABLE checkpoint ADD COLUMN day TEXT NOT NULL DEFAULT ''")  # older file
    backoff = 0.05
    while True:
        row = db.execute("SELECT position, day FROM checkpoint WHERE school_id = ?",
                         (args.school,)).fetchone()
        after, after_day = row if row else (0, "")
        target = args.target
        if args.target_file:
            try:
                with open(args.target_file) as f:
                    target = f.read().strip() or target
            except FileNotFoundError:
                pass
        channel = grpc.insecure_channel(target)
        stub = feeds_grpc.FeedsStub(channel)
        request = feeds_pb2.SubscribeProjectionChangesRequest(
            school_ids=[args.school], after_position=after, after_day=after_day, windows=[window],
            omit_escalation=True)
        try:
            for message in stub.SubscribeProjectionChanges(request, metadata=metadata):
                store(db, args.school, message)
                backoff = 0.05
        except grpc.RpcError as e:
            # UNAVAILABLE (server restarting), RESOURCE_EXHAUSTED (too far
            # behind, or too many feeds): resume from the stored checkpoint.
            if e.code() not in (grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.RESOURCE_EXHAUSTED,
                                grpc.StatusCode.CANCELLED, grpc.StatusCode.UNKNOWN):
                sys.stderr.write(f"reporting_client: {e.code()}: {e.details()}\n")
                return 1
        finally:
            channel.close()
        time.sleep(backoff)
        backoff = min(backoff * 2, 2.0)


if __name__ == "__main__":
    sys.exit(main())
