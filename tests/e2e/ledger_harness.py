"""Shared helpers for the end-to-end tests: Python stubs generated from
proto/ at run time, and a real `ledgerd` process on a free port.

Runs under Debian's /usr/bin/python3 (python3-grpcio, python3-protobuf).
grpc_health is not packaged there, so the health stubs are generated from a
copy of proto/grpc/health/v1/health.proto placed by this module as the module
`ledger_health/health.proto` (the proto package, and so the service name
grpc.health.v1.Health, is unchanged; only the Python module path differs, so
that it does not collide with the installed `grpc` package).
"""

import glob
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import unittest

GRPC_PYTHON_PLUGIN = "/usr/bin/grpc_python_plugin"


class Stubs:
    """The generated modules: events, pb (ledger_service messages), svc
    (ledger_service_pb2_grpc), proj and proj_svc (projections_service),
    health_pb and health_svc."""


def generate_stubs(proto_dir, out_dir):
    """Runs protoc over proto_dir/attendance/v1/*.proto into out_dir and
    imports the result. Raises RuntimeError with protoc's output on failure."""
    protos = sorted(glob.glob(os.path.join(proto_dir, "attendance", "v1", "*.proto")))
    if not protos:
        raise RuntimeError(f"no .proto files under {proto_dir}/attendance/v1")
    health_dir = os.path.join(out_dir, "_health_src")
    os.makedirs(os.path.join(health_dir, "ledger_health"), exist_ok=True)
    health_proto = os.path.join(health_dir, "ledger_health", "health.proto")
    # The project's copy of the standard proto, under another Python module
    # path: a generated `grpc/` folder would clash with grpcio's package.
    shutil.copyfile(os.path.join(proto_dir, "grpc", "health", "v1", "health.proto"), health_proto)
    for include, files in ((proto_dir, protos), (health_dir, [health_proto])):
        cmd = ["protoc", f"-I{include}", f"--python_out={out_dir}", f"--grpc_python_out={out_dir}",
               f"--plugin=protoc-gen-grpc_python={GRPC_PYTHON_PLUGIN}"] + files
        result = subprocess.run(cmd, capture_output=True, text=True)
        if result.returncode != 0:
            raise RuntimeError(f"protoc failed: {' '.join(cmd)}\n{result.stderr}")
    sys.path.insert(0, out_dir)
    import attendance.v1.events_pb2 as events_pb2  # noqa: E402
    import attendance.v1.ledger_service_pb2 as ledger_pb2  # noqa: E402
    import attendance.v1.ledger_service_pb2_grpc as ledger_grpc  # noqa: E402
    import attendance.v1.projections_service_pb2 as projections_pb2  # noqa: E402
    import attendance.v1.projections_service_pb2_grpc as projections_grpc  # noqa: E402
    from ledger_health import health_pb2, health_pb2_grpc  # noqa: E402

    stubs = Stubs()
    stubs.events = events_pb2
    stubs.pb = ledger_pb2
    stubs.svc = ledger_grpc
    stubs.proj = projections_pb2
    stubs.proj_svc = projections_grpc
    stubs.health_pb = health_pb2
    stubs.health_svc = health_pb2_grpc
    return stubs


class LedgerProcess:
    """A `ledgerd` child process serving on 127.0.0.1 on a port it chose.

    start() waits for the port file; stop() sends SIGTERM (SIGKILL after
    `grace` s); kill() sends SIGKILL. The server's output goes to log_path.
    """

    def __init__(self, binary, data_dir, work_dir, extra_args=()):
        self.binary = binary
        self.data_dir = data_dir
        self.work_dir = work_dir
        self.extra_args = list(extra_args)
        self.proc = None
        self.port = None
        self.starts = 0
        self.log_path = os.path.join(work_dir, "ledgerd.log")

    @property
    def target(self):
        return f"127.0.0.1:{self.port}"

    def start(self, timeout=30.0):
        self.starts += 1
        port_file = os.path.join(self.work_dir, f"port.{self.starts}")
        log = open(self.log_path, "ab")
        log.write(f"==== start {self.starts}\n".encode())
        log.flush()
        self.proc = subprocess.Popen(
            [self.binary, "--listen", "127.0.0.1:0", "--data", self.data_dir, "--port-file",
             port_file] + self.extra_args,
            stdout=log, stderr=subprocess.STDOUT)
        log.close()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"ledgerd exited with {self.proc.returncode} before serving\n"
                                   f"{self.log_tail()}")
            try:
                with open(port_file) as f:
                    text = f.read().strip()
                if text:
                    self.port = int(text)
                    return self
            except (FileNotFoundError, ValueError):
                pass
            time.sleep(0.02)
        self.kill()
        raise RuntimeError(f"ledgerd did not write {port_file} within {timeout} s\n"
                           f"{self.log_tail()}")

    def kill(self):
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait()
        return self.proc.returncode if self.proc else None

    def stop(self, grace=10.0):
        if self.proc is None or self.proc.poll() is not None:
            return self.proc.returncode if self.proc else None
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(timeout=grace)
        except subprocess.TimeoutExpired:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait()
            raise RuntimeError(f"ledgerd ignored SIGTERM for {grace} s")
        return self.proc.returncode

    def verify(self, timeout=60.0):
        """Runs `ledgerd --data DIR --verify`; returns (exit code, output)."""
        result = subprocess.run([self.binary, "--data", self.data_dir, "--verify"],
                                capture_output=True, text=True, timeout=timeout)
        return result.returncode, result.stdout + result.stderr

    def log_tail(self, lines=40):
        try:
            with open(self.log_path, errors="replace") as f:
                return "".join(f.readlines()[-lines:])
        except FileNotFoundError:
            return "(no log)"


def parse_args(argv, usage):
    """Takes `LEDGERD PROTO_DIR` from the front of argv (or the environment
    variables LEDGERD / PROTO_DIR) and returns (ledgerd, proto_dir, rest)."""
    args = argv[1:]
    ledgerd = os.environ.get("LEDGERD")
    proto_dir = os.environ.get("PROTO_DIR")
    if len(args) >= 2 and not args[0].startswith("-"):
        ledgerd, proto_dir, args = args[0], args[1], args[2:]
    if not ledgerd or not proto_dir:
        sys.stderr.write(usage)
        sys.exit(2)
    return os.path.abspath(ledgerd), os.path.abspath(proto_dir), [argv[0]] + args


def actor(name, role):
    """Metadata a local-mode server ignores (it names every caller "local
    admin"); kept so that old clients' calls still go through."""
    return (("x-actor-name", name), ("x-actor-role", role))


def bearer(token):
    return (("authorization", f"Bearer {token}"),)


def write_tokens(path, entries):
    """A tokens file for `ledgerd --tokens`: entries of (token, role,
    schools, name); the file holds only the tokens' SHA-256 hashes."""
    import hashlib
    with open(path, "w") as f:
        for token, role, schools, name in entries:
            f.write(f"{hashlib.sha256(token.encode()).hexdigest()} {role} {schools} {name}\n")


def calendar_2025(ev, inset_days=()):
    """The academic year 2025/26 (three terms of two half-terms), with
    whole-school INSET closures on `inset_days`."""
    cal = ev.SchoolCalendarSet(academic_year=2025)
    for term, halves in (("Autumn", [("Autumn 1", "2025-09-01", "2025-10-24"),
                                     ("Autumn 2", "2025-11-03", "2025-12-19")]),
                         ("Spring", [("Spring 1", "2026-01-05", "2026-02-13"),
                                     ("Spring 2", "2026-02-23", "2026-03-27")]),
                         ("Summer", [("Summer 1", "2026-04-13", "2026-05-22"),
                                     ("Summer 2", "2026-06-01", "2026-07-21")])):
        t = cal.terms.add(name=term)
        for name, first, last in halves:
            t.half_terms.add(name=name, first_day=first, last_day=last)
    for day in inset_days:
        cal.closures.add(date=day, reason="INSET day")
    return cal


def make_temp_dir(prefix):
    return tempfile.mkdtemp(prefix=prefix)


def run_tests(label, module_globals, usage):
    """The body of a test script's main(): parses the arguments, generates
    the stubs into a temporary folder, sets LEDGERD, PROTO_DIR and STUBS in
    the test module's globals, runs its unittest cases and exits with their
    result."""
    ledgerd, proto_dir, argv = parse_args(sys.argv, usage)
    module_globals["LEDGERD"] = ledgerd
    module_globals["PROTO_DIR"] = proto_dir
    stub_dir = make_temp_dir(f"ledger-{label}-stubs-")
    try:
        module_globals["STUBS"] = generate_stubs(proto_dir, stub_dir)
        program = unittest.main(argv=argv, exit=False, verbosity=2)
    finally:
        shutil.rmtree(stub_dir, ignore_errors=True)
    result = program.result
    ok = result.wasSuccessful()
    print(f"{label}: {'PASSED' if ok else 'FAILED'}: {result.testsRun} tests, "
          f"{len(result.failures)} failures, {len(result.errors)} errors, "
          f"{len(result.skipped)} skipped")
    sys.exit(0 if ok else 1)
