"""ledgerctl end to end against a real ledgerd (127.0.0.1:0, --port-file, a
temporary data directory, a tokens file): every subcommand once, its table
and its --json (parsed), the exit codes of bad input, and import-marks of
SIMS- and Wonde-shaped CSVs with bad rows (errors by line, a second run
writes nothing, --all-or-nothing writes nothing when one row is bad), and
the CSV exports read back; the Escalation (with a policy from policies/),
Audit and Feeds subcommands, each with its table, its --json and one bad
input.

  test_ledgerctl.py LEDGERD LEDGERCTL

The tests share one server and run in name order, each building on the
writes of those before it.
"""

import csv
import io
import json
import os
import re
import subprocess
import sys
import tempfile
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "e2e"))
import ledger_harness  # noqa: E402

DATA = os.path.join(HERE, "data")
POLICIES = os.path.join(HERE, "..", "..", "policies")
SCHOOL = "ctl-school"
ADMIN = "admin-token-for-ledgerctl-test"
AUDITOR = "auditor-token-for-ledgerctl-test"
OFFICER = "officer-token-for-ledgerctl-test"
LEDGERD = LEDGERCTL = None


class LedgerctlTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.TemporaryDirectory(prefix="ledgerctl-test-")
        tokens = os.path.join(cls.tmp.name, "tokens")
        ledger_harness.write_tokens(tokens, [(ADMIN, "admin", "*", "Test Admin"),
                                             (AUDITOR, "auditor", SCHOOL, "Test Auditor"),
                                             (OFFICER, "attendance_officer", SCHOOL,
                                              "Test Officer")])
        # The key that signs GetLedgerHead.
        head_key = os.path.join(cls.tmp.name, "head.pem")
        subprocess.run(["openssl", "genpkey", "-algorithm", "ed25519", "-out", head_key],
                       check=True, capture_output=True)
        # A fixed clock: 2025-26's autumn has happened, whatever the date.
        cls.server = ledger_harness.LedgerProcess(
            LEDGERD, os.path.join(cls.tmp.name, "data"), cls.tmp.name,
            ["--tokens", tokens, "--now", "2026-03-02T10:00", "--head-key", head_key]).start()
        cls.env = dict(os.environ, LEDGER_ADDRESS=cls.server.target, LEDGER_TOKEN=ADMIN)
        cls.setup_school()

    @classmethod
    def tearDownClass(cls):
        cls.server.stop()
        cls.tmp.cleanup()

    @classmethod
    def run_ctl(cls, *args, env=None):
        result = subprocess.run([LEDGERCTL] + [str(a) for a in args], capture_output=True,
                                text=True, env=env or cls.env, timeout=60)
        return result.returncode, result.stdout, result.stderr

    def ok(self, *args):
        code, out, err = self.run_ctl(*args)
        self.assertEqual(code, 0, f"ledgerctl {' '.join(map(str, args))}: {out}{err}")
        return out

    def json_lines(self, *args):
        return [json.loads(line) for line in self.ok(*args, "--json").splitlines() if line]

    def expect_exit(self, want, *args, env=None, message=None):
        code, out, err = self.run_ctl(*args, env=env)
        self.assertEqual(code, want, f"ledgerctl {' '.join(map(str, args))}: {out}{err}")
        if message:
            self.assertIn(message, out + err)
        return out, err

    def event_count(self):
        return len(self.json_lines("read-events", "--school", SCHOOL))

    @classmethod
    def setup_school(cls):
        def must(*args):
            code, out, err = cls.run_ctl(*args)
            if code != 0:
                raise AssertionError(f"ledgerctl {' '.join(args)}: {out}{err}")
            return out
        cls.settings_out = must("set-settings", "--school", SCHOOL, "--file",
                                os.path.join(DATA, "settings.txtpb"))
        cls.calendar_out = must("set-calendar", "--school", SCHOOL, "--file",
                                os.path.join(DATA, "calendar.json"), "--json")
        for pupil, name, sex in (("P1", "Ada", "FEMALE"), ("P2", "Ben", "MALE"),
                                 ("P3", "Cy", "MALE")):
            must("enrol-pupil", "--school", SCHOOL, "--pupil", pupil, "--given-name", name,
                 "--family-name", "Test", "--year-group", "3", "--class", "3A", "--sex", sex,
                 "--on-roll-from", "2025-09-01")
        pupil_file = os.path.join(cls.tmp.name, "p4.txtpb")
        with open(pupil_file, "w") as f:
            f.write('pupil_id: "P4" given_name: "Di" family_name: "File" year_group: 4 '
                    'class_name: "4B" sex: FEMALE pupil_premium: true\n')
        cls.enrol_file_out = must("enrol-pupil", "--school", SCHOOL, "--file", pupil_file,
                                  "--on-roll-from", "2025-09-01", "--json")

    def test_00_health(self):
        no_token = dict(self.env)
        del no_token["LEDGER_TOKEN"]
        out, _ = self.expect_exit(0, "health", env=no_token)
        self.assertEqual(out, "SERVING\n")
        out, _ = self.expect_exit(0, "health", "--json", env=no_token)
        self.assertEqual(json.loads(out)["status"], "SERVING")
        # ledgerd reports the server as a whole (service ""), no service by name.
        self.expect_exit(4, "health", "--service", "attendance.v1.Ledger", env=no_token)

    def test_01_school_writes(self):
        self.assertRegex(self.settings_out, r"^position 1, stream version 1, request id ledgerctl-")
        self.assertEqual(json.loads(self.calendar_out)["position"], "2")
        self.assertFalse(json.loads(self.enrol_file_out)["replayed"])
        events = self.json_lines("read-events", "--school", SCHOOL, "--type", "pupil-enrolled")
        self.assertEqual([e["pupil_id"] for e in events], ["P1", "P2", "P3", "P4"])
        self.assertTrue(events[3]["pupil_enrolled"]["pupil"]["pupil_premium"])
        self.assertEqual(events[0]["actor"]["name"], "Test Admin")

    def test_02_marks_amendments_letters_roll(self):
        out = self.ok("record-marks", "--school", SCHOOL, "--pupil", "P1", "--date", "2025-09-15",
                      "--session", "am", "--code", "/")
        self.assertRegex(out, r"^recorded 1 marks at positions \d+-\d+, request id ledgerctl-")
        # The same mark again: the derived request id is answered from the log.
        again = self.json_lines("record-marks", "--school", SCHOOL, "--pupil", "P1", "--date",
                                "2025-09-15", "--session", "AM", "--code", "/")[0]
        self.assertTrue(again["replayed"])
        batch = os.path.join(self.tmp.name, "batch.txtpb")
        with open(batch, "w") as f:
            f.write('marks { pupil_id: "P2" date: "2025-09-15" session: AM code: "L" '
                    'minutes_late: 7 }\nmarks { pupil_id: "P3" date: "2025-09-15" session: AM '
                    'code: "N" }\n')
        response = self.json_lines("record-marks", "--school", SCHOOL, "--file", batch)[0]
        self.assertEqual(response["recorded"], 2)

        amended = self.json_lines("amend-mark", "--school", SCHOOL, "--pupil", "P3", "--date",
                                  "2025-09-15", "--session", "AM", "--code", "I", "--reason",
                                  "mum phoned", "--expected-code", "N")[0]
        self.assertEqual(amended["original_code"], "N")
        self.expect_exit(7, "amend-mark", "--school", SCHOOL, "--pupil", "P3", "--date",
                         "2025-09-15", "--session", "AM", "--code", "O", "--reason", "late reply",
                         "--expected-code", "N", message="ABORTED")
        out = self.ok("record-letter", "--school", SCHOOL, "--pupil", "P3", "--letter", "letter_1",
                      "--channel", "email", "--sent-on", "2025-09-20", "--note", "first letter")
        self.assertIn("position", out)
        self.ok("update-pupil", "--school", SCHOOL, "--pupil", "P2", "--given-name", "Ben",
                "--family-name", "Test", "--year-group", "3", "--class", "3B", "--sex", "MALE",
                "--effective-from", "2025-10-01")
        self.ok("remove-from-roll", "--school", SCHOOL, "--pupil", "P4", "--last-day",
                "2025-12-19", "--reason", "moved away")

        table = self.ok("read-events", "--school", SCHOOL, "--from", "1")
        lines = table.splitlines()
        self.assertTrue(lines[0].startswith("position  recorded (UTC)"), lines[0])
        self.assertTrue(any("\"N\" -> \"I\": mum phoned" in line for line in lines), table)
        self.assertTrue(any("letter_1 by EMAIL on 2025-09-20" in line for line in lines), table)
        self.assertTrue(any("left roll" in line and "moved away" in line for line in lines))
        events = self.json_lines("read-events", "--school", SCHOOL, "--max", "3")
        self.assertEqual([e["position"] for e in events], ["1", "2", "3"])
        self.assertEqual(events[1]["prev_hash"], events[0]["hash"])

    def test_03_projections(self):
        # "As of" counts what was recorded by the end of that day, and the
        # server's clock says it is 2026-03-02: earlier dates show nothing yet.
        pupil = self.json_lines("pupil-attendance", "--school", SCHOOL, "--pupil", "P2")[0]
        self.assertEqual(pupil["as_of"], "2026-03-02")
        self.assertEqual(pupil["pupil"]["pupil_id"], "P2")
        ytd = pupil["windows"][0]
        self.assertEqual(ytd["window"]["kind"], "ACADEMIC_YEAR_TO_DATE")
        self.assertGreaterEqual(ytd["figures"]["possible_sessions"], 1)
        table = self.ok("pupil-attendance", "--school", SCHOOL, "--pupil", "P2")
        self.assertIn("possible", table.splitlines()[1])

        # P4 left the roll in December.
        listed = self.json_lines("list-pupils", "--school", SCHOOL, "--all", "--page-size", "2")[0]
        self.assertEqual(listed["total_size"], 3)
        self.assertEqual(sorted(p["pupil"]["pupil_id"] for p in listed["pupils"]),
                         ["P1", "P2", "P3"])
        table = self.ok("list-pupils", "--school", SCHOOL, "--page-size", "2", "--window",
                        "weeks", "--weeks", "6", "--filter", "year-group=3")
        self.assertIn("more: --page-token", table)
        self.assertIn("Last 6 school weeks", table.splitlines()[0])

        cohort = self.json_lines("cohort-attendance", "--school", SCHOOL, "--group-by",
                                 "year-group,sex")[0]
        self.assertEqual(cohort["whole_school"]["key"], ["all"])
        keys = {tuple(row["key"]) for row in cohort["rows"]}
        self.assertIn(("3", "MALE"), keys)
        table = self.ok("cohort-attendance", "--school", SCHOOL, "--window", "term")
        self.assertTrue(table.splitlines()[1].startswith("cohort"), table)

    def test_04_exit_codes(self):
        self.expect_exit(0, "--help", message="import-marks")
        commands = [line.split()[0] for line in self.ok("--help").splitlines()
                    if line.startswith("  ") and not line.startswith("  --")]
        self.assertIn("cohort-attendance", commands)
        self.assertGreaterEqual(len(commands), 14)
        for command in commands:
            out, _ = self.expect_exit(0, command, "--help")
            self.assertTrue(out.startswith(f"usage: ledgerctl {command}"), out)
            self.assertIn("--json", out)
        self.expect_exit(2, message="usage: ledgerctl")
        self.expect_exit(2, "frobnicate", message="unknown command frobnicate")
        self.expect_exit(2, "list-pupils", "--bogus", message="unknown flag --bogus")
        self.expect_exit(2, "list-pupils", message="--school is required")
        self.expect_exit(2, "list-pupils", "--school", SCHOOL, "--page-size", "x",
                         message="not a whole number")
        self.expect_exit(2, "record-marks", "--school", SCHOOL, "--pupil", "P1", "--date",
                         "2025-09-16", "--session", "noon", "--code", "/",
                         message="--session: \"noon\" is not one of AM, PM")
        self.expect_exit(2, "import-marks", "--school", SCHOOL, message="missing FILE")
        # Invalid argument: a code that does not exist; a file that does not parse.
        self.expect_exit(3, "record-marks", "--school", SCHOOL, "--pupil", "P1", "--date",
                         "2025-09-16", "--session", "AM", "--code", "H9",
                         message="INVALID_ARGUMENT: marks[0].code")
        bad = os.path.join(self.tmp.name, "bad.txtpb")
        with open(bad, "w") as f:
            f.write("school_name: 12 nonsense {\n")
        self.expect_exit(3, "set-settings", "--school", SCHOOL, "--file", bad,
                         message="not a attendance.v1.SchoolSettings")
        self.expect_exit(3, "set-settings", "--school", SCHOOL, "--file", "/nonexistent/x",
                         message="cannot read")
        # Not found: pupil, school.
        self.expect_exit(4, "pupil-attendance", "--school", SCHOOL, "--pupil", "P99",
                         message="NOT_FOUND")
        self.expect_exit(4, "list-pupils", "--school", "no-such-school", message="NOT_FOUND")
        # Denied: no token, a wrong one, a role that may not write.
        no_token = dict(self.env)
        del no_token["LEDGER_TOKEN"]
        self.expect_exit(5, "list-pupils", "--school", SCHOOL, env=no_token,
                         message="UNAUTHENTICATED")
        self.expect_exit(5, "list-pupils", "--school", SCHOOL, "--token", "wrong")
        self.expect_exit(5, "record-letter", "--school", SCHOOL, "--pupil", "P1", "--letter",
                         "letter_1", "--sent-on", "2025-09-20", "--token", AUDITOR,
                         message="PERMISSION_DENIED")
        self.ok("list-pupils", "--school", SCHOOL, "--token", AUDITOR)
        # Unavailable: nothing listens there.
        self.expect_exit(6, "list-pupils", "--school", SCHOOL, "--address", "127.0.0.1:1",
                         "--deadline", "5", message="ledgerctl: ListPupilAttendance:")
        # Conflict: a session that already has another mark; enrolling twice.
        self.ok("record-marks", "--school", SCHOOL, "--pupil", "P1", "--date", "2025-09-17",
                "--session", "PM", "--code", "\\")
        self.expect_exit(7, "record-marks", "--school", SCHOOL, "--pupil", "P1", "--date",
                         "2025-09-17", "--session", "PM", "--code", "N",
                         message="ALREADY_EXISTS")
        self.expect_exit(7, "enrol-pupil", "--school", SCHOOL, "--pupil", "P1", "--given-name",
                         "Ada", "--family-name", "Test", "--on-roll-from", "2025-09-01",
                         message="ALREADY_EXISTS")

    def import_marks(self, path, *flags, want):
        code, out, err = self.run_ctl("import-marks", path, "--school", SCHOOL, "--json", *flags)
        self.assertEqual(code, want, out + err)
        return json.loads(out), err

    def test_05_import_sims_twice(self):
        path = os.path.join(DATA, "sims_marks.csv")
        before = self.event_count()
        summary, err = self.import_marks(path, "--batch", "4", want=8)
        rejected = {e["line"]: e["message"] for e in summary["errors"]}
        self.assertEqual(sorted(rejected), [8, 9, 10, 11, 12, 13], err)
        self.assertIn("\"XX\" is not an attendance code", rejected[8])
        self.assertIn("\"31/09/2025\"", rejected[9])
        self.assertIn("only L and U carry minutes late", rejected[10])
        self.assertIn("P9", rejected[11])
        self.assertIn("repeats line 2", rejected[13])
        self.assertIn(f"{path}:12: ", err)
        self.assertEqual(summary["rows"], 19)
        self.assertEqual(summary["marks_recorded"], 13)
        self.assertEqual(summary["amendments_recorded"], 2)
        self.assertEqual(self.event_count(), before + 15)

        # The multi-line comment survived, and the amendment keeps the source's who and
        # when (2025-09-10T09:15:00 without a zone is school-local: 08:15 UTC), marked imported.
        events = self.json_lines("read-events", "--school", SCHOOL, "--from", before + 1)
        comments = [e["mark_recorded"]["comment"] for e in events if "mark_recorded" in e]
        self.assertIn('a "quoted" comment\nover two lines', comments)
        self.assertTrue(all(e["mark_recorded"]["imported_from"] == "sims_marks.csv"
                            for e in events if "mark_recorded" in e))
        amendments = [e["mark_amended"] for e in events if "mark_amended" in e]
        self.assertEqual(amendments[0]["original_code"], "N")
        self.assertEqual(amendments[0]["reason"], "Parent confirmed illness")
        self.assertEqual(amendments[0]["amended_by"]["name"], "Mrs Office")
        self.assertEqual(amendments[0]["amended_at_us"], "1757492100000000")
        self.assertEqual(amendments[0]["imported_from"], "sims_marks.csv")

        again, _ = self.import_marks(path, "--batch", "4", want=8)
        self.assertEqual(again["marks_recorded"], 0)
        self.assertEqual(again["marks_already_recorded"], 13)
        self.assertEqual(again["amendments_recorded"], 0)
        self.assertEqual(again["amendments_already_recorded"], 2)
        self.assertEqual(self.event_count(), before + 15)
        # Other batch sizes: the rows are found already there, still nothing written.
        third, _ = self.import_marks(path, want=8)
        self.assertEqual(third["marks_recorded"] + third["amendments_recorded"], 0)
        self.assertEqual(self.event_count(), before + 15)

        code, out, err = self.run_ctl("import-marks", path, "--school", SCHOOL)
        self.assertEqual(code, 8)
        self.assertIn("19 rows: 0 marks recorded, 13 already in the ledger", out)

    def test_06_import_all_or_nothing_and_wonde(self):
        before = self.event_count()
        summary, _ = self.import_marks(os.path.join(DATA, "sims_marks.csv"), "--all-or-nothing",
                                       want=3)
        self.assertTrue(summary["wrote_nothing"])
        rows = ["PersonID,AttendanceDate,SessionName,AttendanceMark",
                "P1,2025-09-22,AM,/", "P2,2025-09-22,AM,/", "P9,2025-09-22,AM,/",
                "P3,2025-09-22,AM,/"]
        server_bad = os.path.join(self.tmp.name, "server_bad.csv")
        with open(server_bad, "w") as f:
            f.write("\r\n".join(rows) + "\r\n")
        summary, _ = self.import_marks(server_bad, "--all-or-nothing", want=3)
        self.assertEqual([e["line"] for e in summary["errors"]], [4])
        self.assertEqual(self.event_count(), before)
        # Without the bad row it goes in whole.
        with open(server_bad, "w") as f:
            f.write("\n".join(rows[:3] + rows[4:]) + "\n")
        summary, _ = self.import_marks(server_bad, "--all-or-nothing", want=0)
        self.assertEqual(summary["marks_recorded"], 3)
        summary, _ = self.import_marks(os.path.join(DATA, "wonde_marks.csv"), want=0)
        self.assertEqual(summary["marks_recorded"], 3)
        self.assertEqual(self.event_count(), before + 6)
        self.expect_exit(3, "import-marks", os.path.join(DATA, "calendar.json"), "--school",
                         SCHOOL, message="the header has no pupil")

    def test_07_exports(self):
        out_path = os.path.join(self.tmp.name, "marks.csv")
        self.ok("export-marks", "--school", SCHOOL, "--out", out_path)
        with open(out_path, newline="") as f:
            rows = list(csv.DictReader(f))
        by_key = {(r["pupil_id"], r["date"], r["session"]): r for r in rows}
        row = by_key[("P3", "2025-09-08", "AM")]
        self.assertEqual((row["code"], row["original_code"], row["amended_code"]), ("I", "N", "I"))
        self.assertEqual(by_key[("P2", "2025-09-08", "AM")]["minutes_late"], "12")
        # Read back into the same school: everything is already there.
        before = self.event_count()
        summary, _ = self.import_marks(out_path, want=0)
        self.assertEqual(summary["marks_recorded"] + summary["amendments_recorded"], 0)
        self.assertEqual(summary["marks_already_recorded"], len(rows))
        self.assertEqual(self.event_count(), before)
        one = list(csv.DictReader(io.StringIO(
            self.ok("export-marks", "--school", SCHOOL, "--pupil", "P1"))))
        self.assertTrue(one and all(r["pupil_id"] == "P1" for r in one))

        figures = list(csv.DictReader(io.StringIO(
            self.ok("export-figures", "--school", SCHOOL))))
        self.assertEqual([r["pupil_id"] for r in figures], ["P1", "P2", "P3"])
        p2 = figures[1]
        self.assertEqual(int(p2["possible_sessions"]),
                         int(p2["attended_sessions"]) + int(p2["authorised_absence"]) +
                         int(p2["unauthorised_absence"]))

    def test_08_another_caller_reimports_and_follow(self):
        # The officer's requests get ids of its own (the admin's would be
        # ALREADY_EXISTS for it); its rows are found already there.
        before = self.event_count()
        summary, _ = self.import_marks(os.path.join(DATA, "sims_marks.csv"), "--token", OFFICER,
                                       want=8)
        self.assertEqual(summary["marks_recorded"] + summary["amendments_recorded"], 0)
        self.assertEqual(summary["marks_already_recorded"], 13)
        self.assertEqual(self.event_count(), before)
        # --follow prints what is there, then waits for more until its deadline.
        out = self.ok("read-events", "--school", SCHOOL, "--follow", "--deadline", "2")
        lines = out.splitlines()
        self.assertEqual(lines[0].split("\t")[0], "position")
        self.assertEqual(len(lines), before + 1)  # a comment's line break is written \\n
        self.assertIn('a "quoted" comment\\nover two lines', out)

    def test_09_tls(self):
        d = os.path.join(self.tmp.name, "tls")
        os.makedirs(d)
        ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]
        def openssl(*args):
            subprocess.run(["openssl", *args], cwd=d, check=True, capture_output=True)
        openssl("req", "-x509", *ec, "-keyout", "ca.key", "-out", "ca.pem", "-days", "2",
                "-subj", "/CN=ledgerctl test ca")
        openssl("req", *ec, "-keyout", "server.key", "-out", "server.csr", "-subj", "/CN=server")
        with open(os.path.join(d, "server.ext"), "w") as f:
            f.write("subjectAltName=IP:127.0.0.1,DNS:localhost\n")
        openssl("x509", "-req", "-in", "server.csr", "-CA", "ca.pem", "-CAkey", "ca.key",
                "-CAcreateserial", "-out", "server.pem", "-days", "2", "-extfile", "server.ext")
        tokens = os.path.join(self.tmp.name, "tokens")
        server = ledger_harness.LedgerProcess(
            LEDGERD, os.path.join(d, "data"), d,
            ["--tokens", tokens, "--tls-cert", os.path.join(d, "server.pem"), "--tls-key",
             os.path.join(d, "server.key"), "--now", "2026-03-02T10:00"]).start()
        try:
            env = dict(self.env, LEDGER_ADDRESS=server.target,
                       LEDGER_TLS_CA=os.path.join(d, "ca.pem"))
            code, out, err = self.run_ctl("set-settings", "--school", "tls-school", "--file",
                                          os.path.join(DATA, "settings.txtpb"), env=env)
            self.assertEqual(code, 0, out + err)
            code, out, err = self.run_ctl("list-pupils", "--school", "tls-school", "--json",
                                          env=env)
            self.assertEqual(code, 0, out + err)
            self.assertEqual(json.loads(out)["total_size"], 0)
            # Plaintext to a TLS server, and TLS without our CA, never get an answer.
            plain = dict(self.env, LEDGER_ADDRESS=server.target)
            self.expect_exit(6, "list-pupils", "--school", "tls-school", "--deadline", "3",
                             env=plain)
            self.expect_exit(6, "list-pupils", "--school", "tls-school", "--deadline", "3",
                             "--tls", env=plain)
        finally:
            server.stop()

    def test_10_escalation(self):
        national_file = os.path.join(POLICIES, "national_base_england_2024.textproto")
        national = self.json_lines("set-policy", "--school", SCHOOL, "--file", national_file)[0]
        self.assertFalse(national["replayed"])
        out = self.ok("set-policy", "--school", SCHOOL, "--file", os.path.join(
            POLICIES, "000_all_saints_ce_primary_attendance_strategy_2024_25.textproto"))
        self.assertRegex(out, r"^policy all-saints-000-strategy-2024-25 version 2024-25\.1: "
                              r"position \d+, stream version \d+, request id ")
        policy = self.json_lines("get-policy", "--school", SCHOOL)[0]
        self.assertEqual(policy["policy"]["policy_id"], "all-saints-000-strategy-2024-25")
        self.assertEqual([int(h["position"]) for h in policy["history"]],
                         [int(national["position"]), int(policy["position"])])
        table = self.ok("get-policy", "--school", SCHOOL)
        self.assertRegex(table, r"\n  step +letter_1 +LETTER ")
        self.assertIn("history: policy", table)
        self.assertRegex(table, r"cohort rule +vulnerable_visited_first +\+\d+ ")

        # P3 had letter_1 on 2025-09-20: the attendance ladder stands at it.
        pupil = self.json_lines("pupil-escalation", "--school", SCHOOL, "--pupil", "P3")[0]
        ladders = {l["ladder_id"]: l for l in pupil["ladders"]}
        self.assertEqual(ladders["attendance_letters"]["stage"], "letter_1")
        self.assertEqual(ladders["attendance_letters"]["history"][0]["sent_on"], "2025-09-20")
        table = self.ok("pupil-escalation", "--school", SCHOOL, "--pupil", "P3")
        self.assertRegex(table, r"attendance_letters +letter_1 +\S+ +letter_1 2025-09-20")
        for item in pupil["due"] + pupil["near_misses"] + pupil["bands"]:
            self.assertIn(item["explanation"]["sentence"], table)
        self.assertTrue(pupil["bands"])

        due = self.json_lines("due-actions", "--school", SCHOOL)[0]
        self.assertEqual(len(due["actions"]), due["total"])
        self.assertGreaterEqual(due["total"], 2, due)
        self.assertEqual(due["next_page_token"], "")
        one = self.json_lines("due-actions", "--school", SCHOOL, "--page-size", "1")[0]
        self.assertEqual(len(one["actions"]), 1)
        self.assertNotEqual(one["next_page_token"], "")
        second = self.json_lines("due-actions", "--school", SCHOOL, "--page-size", "1",
                                 "--page-token", one["next_page_token"])[0]
        self.assertEqual(second["actions"][0], due["actions"][1])
        kind = due["actions"][0]["action"]
        only = self.json_lines("due-actions", "--school", SCHOOL, "--kind",
                               kind.lower().replace("_", "-"))[0]
        self.assertTrue(only["actions"])
        self.assertTrue(all(a["action"] == kind for a in only["actions"]))
        letters = self.json_lines("due-actions", "--school", SCHOOL, "--ladder",
                                  "attendance_letters")[0]
        self.assertTrue(all(a["ladder_id"] == "attendance_letters" for a in letters["actions"]))
        table = self.ok("due-actions", "--school", SCHOOL)
        lines = table.splitlines()
        self.assertEqual(lines[0], f"{due['total']} actions due, policy version 2024-25.1")
        self.assertTrue(lines[1].startswith("pupil  rule"), lines[1])
        self.assertEqual(len(lines), 2 + due["total"])

        bad = os.path.join(self.tmp.name, "bad_policy.txtpb")
        with open(bad, "w") as f:
            f.write('policy_id: "bad" version: "1" ladders { ladder_id: "l" steps { '
                    'step_id: "s" action: LETTER after_step: "nowhere" trigger_id: "none" } }\n')
        self.expect_exit(3, "set-policy", "--school", SCHOOL, "--file", bad,
                         message="INVALID_ARGUMENT")
        still = self.json_lines("get-policy", "--school", SCHOOL)[0]
        self.assertEqual(still["policy"]["policy_id"], "all-saints-000-strategy-2024-25")
        self.expect_exit(2, "due-actions", "--school", SCHOOL, "--kind", "bogus",
                         message="--kind: \"bogus\" is not one of LETTER")
        self.expect_exit(4, "get-policy", "--school", "no-such-school", message="NOT_FOUND")

        # ListEscalations, SimulatePolicy, ListFirstResponse (esc-a).
        listed = self.json_lines("escalations", "--school", SCHOOL, "--ladder",
                                 "attendance_letters", "--stage", "letter_1")[0]
        self.assertIn("P3", [p["pupil_id"] for p in listed["pupils"]])
        self.assertTrue(all(p["stage"] == "letter_1" for p in listed["pupils"]))
        table = self.ok("escalations", "--school", SCHOOL, "--ladder", "attendance_letters")
        self.assertRegex(table, r"P3 +attendance_letters +letter_1 +2025-09-20")
        self.expect_exit(3, "escalations", "--school", SCHOOL, "--stage", "letter_9",
                         message='stage: "letter_9" is not a step of any ladder')
        seed_000 = os.path.join(
            POLICIES, "000_all_saints_ce_primary_attendance_strategy_2024_25.textproto")
        simulated = self.json_lines("simulate-policy", "--school", SCHOOL, "--file", seed_000,
                                    "--from", "2025-09-01", "--to", "2025-10-24")[0]
        self.assertEqual(simulated["half_terms"][0]["half_term"], "Autumn 1")
        table = self.ok("simulate-policy", "--school", SCHOOL, "--file", seed_000,
                        "--from", "2025-09-01", "--to", "2025-10-24")
        self.assertRegex(table, r"2025-26 Autumn 1 +attendance_letters +letter_1 ")
        # Seed 000 keeps no first-response list.
        self.expect_exit(7, "first-response", "--school", SCHOOL, message="FAILED_PRECONDITION")

    def test_11_audit(self):
        session = ["--school", SCHOOL, "--pupil", "P3", "--date", "2025-09-15", "--session", "AM"]
        history = self.json_lines("mark-history", *session)[0]
        self.assertEqual([(e["code"], e["original_code"]) for e in history["entries"]],
                         [("N", ""), ("I", "N")])
        table = self.ok("mark-history", *session)
        self.assertRegex(table, r"amendment +I +N +mum phoned +Test Admin \(admin\)")
        self.expect_exit(4, "mark-history", "--school", SCHOOL, "--pupil", "P3", "--date",
                         "2025-09-16", "--session", "PM", message="NOT_FOUND")

        amendments = self.json_lines("replay-amendments", "--school", SCHOOL)
        self.assertGreaterEqual(len(amendments), 3)
        self.assertIn("mum phoned", [a["reason"] for a in amendments])
        # One a call: every page still comes, resumed where each stopped.
        table = self.ok("replay-amendments", "--school", SCHOOL, "--max-results", "1")
        self.assertTrue(table.splitlines()[0].startswith("position  amended at (UTC)"))
        calls = re.search(rf"\n{len(amendments)} amendments \((\d+) calls\)\n$", table)
        self.assertTrue(calls, table)
        self.assertGreaterEqual(int(calls.group(1)), len(amendments))
        csv_path = os.path.join(self.tmp.name, "amendments.csv")
        self.ok("replay-amendments", "--school", SCHOOL, "--csv", "--out", csv_path)
        with open(csv_path, newline="") as f:
            rows = list(csv.DictReader(f))
        self.assertEqual([int(r["position"]) for r in rows],
                         [int(a["position"]) for a in amendments])
        mum = [r for r in rows if r["reason"] == "mum phoned"][0]
        self.assertEqual((mum["pupil_id"], mum["date"], mum["session"], mum["original_code"],
                          mum["amended_code"], mum["amended_by"], mum["amended_by_role"]),
                         ("P3", "2025-09-15", "AM", "N", "I", "Test Admin", "admin"))
        by_date = self.json_lines("replay-amendments", "--school", SCHOOL, "--from-date",
                                  "2025-09-15")
        self.assertTrue(by_date and all(a["date"] == "2025-09-15" for a in by_date))
        converted = self.json_lines("replay-amendments", "--school", SCHOOL,
                                    "--unauthorised-to-authorised", "--pupil", "P3")
        self.assertTrue(converted and all(a["original_code"] in "GUON" for a in converted))
        self.expect_exit(2, "replay-amendments", "--school", SCHOOL, "--out", csv_path,
                         message="--out goes with --csv")
        self.expect_exit(2, "replay-amendments", "--school", SCHOOL, "--amended-from", "noon",
                         message="is not a time")
        self.expect_exit(3, "replay-amendments", "--school", SCHOOL, "--max-results", "5",
                         "--from-date", "15/09/2025", message="INVALID_ARGUMENT")

        # The register just before the amendment, and now.
        before = str(int(history["entries"][1]["at_us"]) - 1)
        register = self.json_lines("register-as-of", "--school", SCHOOL, "--date",
                                   "2025-09-15", "--session", "AM", "--as-of", before)[0]
        lines = {l["pupil_id"]: l for l in register["lines"]}
        self.assertEqual(lines["P3"]["code"], "N")
        self.assertEqual(lines["P3"]["changed_since"][0]["code"], "I")
        table = self.ok("register-as-of", "--school", SCHOOL, "--date", "2025-09-15",
                        "--session", "AM")
        self.assertRegex(table.splitlines()[0],
                         r"^ctl-school 2025-09-15 AM as it stood at 2026-03-02T\d\d:\d\d:\d\dZ: ")
        self.assertRegex(table, r"\nP3 +3 +3A +I +N->I by Test Admin")

        timeline = self.json_lines("pupil-timeline", "--school", SCHOOL, "--pupil", "P3")
        kinds = {k for e in timeline for k in e.get("event", {}) if k in (
            "pupil_enrolled", "mark_recorded", "mark_amended", "letter_sent")}
        self.assertEqual(kinds, {"pupil_enrolled", "mark_recorded", "mark_amended",
                                 "letter_sent"})
        self.assertEqual([e["date"] for e in timeline], sorted(e["date"] for e in timeline))
        table = self.ok("pupil-timeline", "--school", SCHOOL, "--pupil", "P3")
        self.assertIn(f"{len(timeline)} entries", table.splitlines()[-1])
        self.assertIn("letter_1 by EMAIL on 2025-09-20", table)
        rows = list(csv.DictReader(io.StringIO(self.ok(
            "pupil-timeline", "--school", SCHOOL, "--pupil", "P3", "--csv"))))
        self.assertEqual([int(r["position"]) for r in rows],
                         [int(e["position"]) for e in timeline])
        self.assertIn("enrolled", [r["event"] for r in rows])
        # letter_1 (test_10's seed 000 policy) moved the attendance ladder: a
        # stage row right after the letter's, at its position.
        stages = [e for e in timeline if "stage_change" in e]
        self.assertEqual([(s["date"], s["stage_change"]["ladder_id"],
                           s["stage_change"].get("from_stage", ""),
                           s["stage_change"]["to_stage"]) for s in stages],
                         [("2025-09-20", "attendance_letters", "", "letter_1")])
        self.assertTrue(stages[0]["stage_change"]["sentence"])
        at = [i for i, r in enumerate(rows) if r["event"] == "stage"]
        self.assertEqual(len(at), 1)
        stage_row, letter_row = rows[at[0]], rows[at[0] - 1]
        self.assertEqual(letter_row["event"], "letter")
        self.assertEqual(stage_row["position"], letter_row["position"])
        self.assertEqual((stage_row["date"], stage_row["recorded_at"], stage_row["by"]),
                         ("2025-09-20", "", ""))
        self.assertEqual(stage_row["details"],
                         "attendance_letters: (none) -> letter_1 (letter): "
                         + stages[0]["stage_change"]["sentence"])
        self.assertIn("attendance_letters: (none) -> letter_1 (letter): ", table)

        head_path = os.path.join(self.tmp.name, "head.txt")
        out = self.ok("ledger-head", "--out", head_path)
        with open(head_path) as f:
            self.assertEqual(f.read(), out)
        head = self.json_lines("ledger-head")[0]
        self.assertRegex(out, rf"^position {head['position']}\nhash [0-9a-f]{{64}}\n")
        code, out, err = self.run_ctl("verify-ledger", "--head", head_path, "--progress-every",
                                      "1000")
        self.assertEqual(code, 0, out + err)
        self.assertIn("OK: hash chain verifies over positions 1..", out)
        self.assertIn(f"OK: head at position {head['position']}: signature valid", out)
        head_json = os.path.join(self.tmp.name, "head.json")
        with open(head_json, "w") as f:
            json.dump(head, f)
        result = self.json_lines("verify-ledger", "--head", head_json)[0]
        self.assertTrue(result["done"] and result["ok"])
        self.assertTrue(result["head_check"]["log_extends_head"])
        # A head the log does not hold: the chain verifies, the head does not: exit 1.
        forged = os.path.join(self.tmp.name, "forged.txt")
        with open(forged, "w") as f:
            f.write(self.forge(head_path))
        out, _ = self.expect_exit(1, "verify-ledger", "--head", forged, "--quiet")
        self.assertIn("FAILED: head at position", out)
        self.expect_exit(3, "verify-ledger", "--head", "/nonexistent/head", message="cannot read")
        self.expect_exit(5, "verify-ledger", "--token", OFFICER, message="PERMISSION_DENIED")

    @staticmethod
    def forge(head_path):
        """The head file with its hash's first hex digit changed."""
        with open(head_path) as f:
            lines = f.read().splitlines()
        for i, line in enumerate(lines):
            if line.startswith("hash "):
                digit = line[5]
                lines[i] = "hash " + ("1" if digit == "0" else "0") + line[6:]
        return "\n".join(lines) + "\n"

    def test_12_feeds(self):
        want = [e["position"] for e in self.json_lines("read-events", "--school", SCHOOL,
                                                       "--type", "mark-amended")]
        messages = self.json_lines("subscribe-events", "--school", SCHOOL, "--type",
                                   "mark-amended", "--until-caught-up")
        self.assertTrue(messages[-1]["caught_up"])
        got = [e["position"] for m in messages for e in m["events"]]
        self.assertEqual(got, want)
        code, out, err = self.run_ctl("subscribe-events", "--school", SCHOOL, "--type",
                                      "mark-amended", "--until-caught-up")
        self.assertEqual(code, 0, out + err)
        lines = out.splitlines()
        self.assertEqual(lines[0].split("\t")[0], "position")
        self.assertEqual([l.split("\t")[0] for l in lines[1:-1]], want)
        self.assertTrue(any("\"N\" -> \"I\": mum phoned" in l for l in lines))
        self.assertRegex(lines[-1], r"^-- caught up at position \d+ \(head \d+\)$")
        self.assertIn("resume with --after-position", err)
        # Resumed after the first amendment: exactly the rest.
        rest = self.json_lines("subscribe-events", "--school", SCHOOL, "--type", "mark-amended",
                               "--after-position", want[0], "--until-caught-up")
        self.assertEqual([e["position"] for m in rest for e in m["events"]], want[1:])
        p3 = self.json_lines("subscribe-events", "--school", SCHOOL, "--pupil", "P3",
                             "--until-caught-up")
        self.assertTrue(all(e["pupil_id"] == "P3" for m in p3 for e in m["events"]))
        # Without --until-caught-up a feed runs until its deadline, which ends it cleanly.
        out = self.ok("subscribe-events", "--school", SCHOOL, "--type", "letter-sent",
                      "--deadline", "2")
        self.assertIn("letter_1 by EMAIL", out)

        changes = self.json_lines("subscribe-changes", "--school", SCHOOL, "--until-caught-up")
        self.assertTrue(changes[-1]["caught_up"])
        pupils = {c["attendance"]["pupil"]["pupil_id"] for m in changes for c in m["changes"]}
        self.assertTrue({"P1", "P2", "P3"} <= pupils, pupils)
        out = self.ok("subscribe-changes", "--school", SCHOOL, "--window", "term",
                      "--until-caught-up")
        lines = out.splitlines()
        self.assertTrue(lines[0].startswith("position\tschool\tpupil"), lines[0])
        self.assertTrue(any(l.split("\t")[2] == "P3" for l in lines[1:-1]))
        self.assertRegex(lines[-1], r"^-- caught up at position")

        self.expect_exit(3, "subscribe-events", "--pupil", "P1", message="needs school_id")
        self.expect_exit(7, "subscribe-events", "--after-position", "1000000000",
                         message="FAILED_PRECONDITION")
        self.expect_exit(2, "subscribe-changes", message="--school is required")

    def test_13_import_history_twice(self):
        """A SIMS export with when and by whom each mark was taken and a session's
        amendments one a row, some rows bad (locally or by the server), run twice."""
        path = os.path.join(DATA, "sims_history.csv")
        before = self.event_count()
        summary, err = self.import_marks(path, want=8)
        rejected = {e["line"]: e["message"] for e in summary["errors"]}
        self.assertEqual(sorted(rejected), [9, 10, 11, 13, 14], err)
        self.assertIn("taken_at_us", rejected[9])
        self.assertIn("has not begun", rejected[9])
        self.assertIn("amendments[0].amended_at_us", rejected[10])
        self.assertIn("is before the mark was taken", rejected[10])
        self.assertIn("taken_at \"yesterday\" is not a time", rejected[11])
        self.assertIn("is in the future", rejected[13])
        self.assertIn("is not the session's code so far, \"I\"", rejected[14])
        self.assertEqual(summary["rows"], 15)
        self.assertEqual((summary["marks_recorded"], summary["amendments_recorded"]), (9, 3))
        self.assertEqual(self.event_count(), before + 12)

        # The source's history, marked imported: taken at 08:55, amended twice.
        session = ["--school", SCHOOL, "--pupil", "P2", "--date", "2025-10-06", "--session", "AM"]
        history = self.json_lines("mark-history", *session)[0]["entries"]
        self.assertEqual([(e["code"], e["original_code"]) for e in history],
                         [("N", ""), ("O", "N"), ("I", "O")])
        self.assertEqual([e["at_us"] for e in history],
                         ["1759737300000000", "1759935600000000", "1759997400000000"])
        self.assertEqual(history[0]["by"]["name"], "Miss C. Patel")
        self.assertEqual(history[2]["by"]["name"], "Mrs A. Office")
        self.assertEqual(history[2]["reason"], "Parent phoned: illness, note to follow")
        self.assertTrue(all(e["imported_from"] == "sims_history.csv" and
                            e["imported_by"]["name"] == "Test Admin" for e in history))
        table = self.ok("mark-history", *session)
        self.assertRegex(table, r"amendment +O +N +No contact from home +Mrs A\. Office +"
                                r"from sims_history\.csv at 2026-03-02T")
        # As it stood on the evening of the 8th: O, not yet I.
        register = self.json_lines("register-as-of", "--school", SCHOOL, "--date", "2025-10-06",
                                   "--session", "AM", "--as-of", "2025-10-08T20:00:00Z")[0]
        lines = {l["pupil_id"]: l for l in register["lines"]}
        self.assertEqual(lines["P2"]["code"], "O")
        self.assertEqual([c["code"] for c in lines["P2"]["changed_since"]], ["I"])
        register = self.json_lines("register-as-of", "--school", SCHOOL, "--date", "2025-10-06",
                                   "--session", "AM", "--as-of", "2025-10-07T20:00:00Z")[0]
        self.assertEqual({l["pupil_id"]: l["code"] for l in register["lines"]}["P2"], "N")
        # The figures count the history now; "as of" 2025 they cannot, since this school's
        # pupils were enrolled (recorded) in 2026 (README: How "as of" treats imported history).
        ytd = self.json_lines("pupil-attendance", "--school", SCHOOL, "--pupil",
                              "P2")[0]["windows"][0]["figures"]
        counts = {c["code"]: c["sessions"] for c in ytd.get("code_counts", [])
                  if c["code"] in ("N", "O", "I")}
        self.assertEqual(counts, {"N": 1, "I": 3})
        self.expect_exit(4, "pupil-attendance", "--school", SCHOOL, "--pupil", "P2", "--as-of",
                         "2025-10-07", message="NOT_FOUND")

        again, _ = self.import_marks(path, want=8)
        self.assertEqual(sorted(e["line"] for e in again["errors"]), [9, 10, 11, 13, 14])
        self.assertEqual((again["marks_recorded"], again["amendments_recorded"]), (0, 0))
        self.assertEqual((again["marks_already_recorded"],
                          again["amendments_already_recorded"]), (9, 3))
        self.assertEqual(self.event_count(), before + 12)
        # In other batches the rows are found already there: still nothing written.
        third, _ = self.import_marks(path, "--batch", "2", want=8)
        self.assertEqual(third["marks_recorded"] + third["amendments_recorded"], 0)
        self.assertEqual(third["marks_already_recorded"], 9)
        self.assertEqual(self.event_count(), before + 12)
        # All or nothing: the bad rows stop the whole file.
        summary, _ = self.import_marks(path, "--all-or-nothing", "--source", "again", want=3)
        self.assertTrue(summary["wrote_nothing"])
        self.assertEqual(self.event_count(), before + 12)

    def test_14_import_ctf(self):
        path = os.path.join(DATA, "ctf_attendance.xml")
        for upn, name in (("H801200001001", "Erin"), ("H801200001002", "Arjun")):
            self.ok("enrol-pupil", "--school", SCHOOL, "--pupil", upn, "--given-name", name,
                    "--family-name", "Ctf", "--year-group", "2", "--on-roll-from", "2025-09-01")
        before = self.event_count()
        code, out, err = self.run_ctl("import-ctf", path, "--school", SCHOOL)
        self.assertEqual(code, 8, out + err)
        self.assertIn("attendance of 3 pupils, 3 years, at 801-2000 Ledgerctl Test School", out)
        self.assertIn("42 rows: 39 marks recorded, 0 already in the ledger", out)
        self.assertIn(f"{path}:72: pupil H801200001002: session 19 (2025-09-10 AM): \"XX\" is "
                      "not an attendance code", err)
        self.assertIn(f"{path}:88: ", err)  # the pupil not on the school's roll
        self.assertEqual(self.event_count(), before + 39)
        # The CTF's own totals for Erin: 18 possible, 13 attended, 3 authorised, 2 not.
        ytd = self.json_lines("pupil-attendance", "--school", SCHOOL, "--pupil",
                              "H801200001001")[0]["windows"][0]["figures"]
        self.assertEqual((ytd["possible_sessions"], ytd["attended_sessions"],
                          ytd["authorised_absence"], ytd["unauthorised_absence"]), (18, 13, 3, 2))
        events = self.json_lines("read-events", "--school", SCHOOL, "--from", before + 1)
        self.assertTrue(all(e["mark_recorded"]["imported_from"] ==
                            "CTF 801-2000 Ledgerctl Test School" for e in events))
        # Again: nothing new.
        summary, _ = self.import_marks_ctf(path, want=8)
        self.assertEqual((summary["marks_recorded"], summary["marks_already_recorded"]), (0, 39))
        self.assertEqual(self.event_count(), before + 39)
        # The previous school's year only on request; not a CTF at all.
        self.expect_exit(3, "import-ctf", path, "--school", SCHOOL, "--estab", "1",
                         message="seven digits")
        self.expect_exit(3, "import-ctf", os.path.join(DATA, "calendar.json"), "--school",
                         SCHOOL, message="line 1:")
        self.expect_exit(0, "import-ctf", path, "--school", SCHOOL, "--dry-run", "--estab",
                         "999-9999")

    def import_marks_ctf(self, path, *flags, want):
        code, out, err = self.run_ctl("import-ctf", path, "--school", SCHOOL, "--json", *flags)
        self.assertEqual(code, want, out + err)
        return json.loads(out), err

    def test_15_record_action(self):
        out = self.ok("record-action", "--school", SCHOOL, "--pupil", "P3", "--action",
                      "meeting-1", "--kind", "meeting-held", "--happened-on", "2025-10-08",
                      "--outcome", "parent agreed a target", "--target-percent", "96",
                      "--review-on", "2025-11-14")
        self.assertRegex(out, r"^position \d+, stream version \d+, request id ledgerctl-")
        # The same command again: the derived request id is answered from the log.
        again = self.json_lines("record-action", "--school", SCHOOL, "--pupil", "P3", "--action",
                                "meeting-1", "--kind", "meeting-held", "--happened-on",
                                "2025-10-08", "--outcome", "parent agreed a target",
                                "--target-percent", "96", "--review-on", "2025-11-14")[0]
        self.assertTrue(again["replayed"])
        action = self.json_lines("read-events", "--school", SCHOOL, "--type",
                                 "action-recorded")[-1]["action_recorded"]
        self.assertEqual((action["kind"], action["target_basis_points"], action["review_on"]),
                         ("MEETING_HELD", 9600, "2025-11-14"))
        self.expect_exit(3, "record-action", "--school", SCHOOL, "--pupil", "P3", "--action",
                         "call-1", "--kind", "call-made", "--happened-on", "2027-01-01",
                         message="happened_on: 2027-01-01 is in the future")
        self.expect_exit(7, "record-action", "--school", SCHOOL, "--pupil", "P3", "--action",
                         "meeting-1", "--kind", "call-made", "--happened-on", "2025-10-08",
                         message="ALREADY_EXISTS")
        self.expect_exit(2, "record-action", "--school", SCHOOL, "--pupil", "P3", "--action",
                         "x", "--kind", "coffee", "--happened-on", "2025-10-08",
                         message="--kind")

    def test_16_get_policy_lists_every_rule(self):
        # Seed 001's rules beyond steps and triggers, on a school of its own (SCHOOL
        # keeps seed 000's policy; last, as the other tests count SCHOOL's events as
        # positions): the September letter, the review points, the positive letter.
        self.ok("set-settings", "--school", "ctl-policy-001", "--file",
                os.path.join(DATA, "settings.txtpb"))
        self.ok("set-policy", "--school", "ctl-policy-001", "--file", os.path.join(
            POLICIES, "001_all_saints_ce_primary_attendance_and_absence_policy_2024_27.textproto"))
        table = self.ok("get-policy", "--school", "ctl-policy-001")
        self.assertRegex(table, r"previous year +pa_baseline_letter +LETTER +0 +September: .*; "
                                r"AT_OR_BELOW 90\.00% last year, at least 20 sessions, due through "
                                r"09-30, does concern_letter on stages")
        self.assertRegex(table, r"review point +review_points +REVIEW +0 +The 5 review points")
        self.assertRegex(table, r"improvement +positive_letter +POSITIVE_LETTER +0 +Improvement")


if __name__ == "__main__":
    if len(sys.argv) < 3:
        sys.stderr.write(__doc__)
        sys.exit(2)
    LEDGERD, LEDGERCTL = os.path.abspath(sys.argv[1]), os.path.abspath(sys.argv[2])
    unittest.main(argv=[sys.argv[0]] + sys.argv[3:], verbosity=2)
