#!/usr/bin/env bash
# The operator's path, with the real binaries: ledgerd takes an online
# backup while it serves; ledger-backup lists, verifies and restores it;
# ledgerd --verify checks the restored copy read-only; a restore into a
# non-empty directory and a damaged backup are refused.
#   backup_tools_test.sh LEDGERD LEDGER_BACKUP
set -euo pipefail
ledgerd=$1
backup=$2
work=$(mktemp -d)
pid=
cleanup() {
  [[ -n $pid ]] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
  rm -rf "$work"
}
trap cleanup EXIT
fail() { echo "FAIL: $*"; exit 1; }

"$ledgerd" --listen 127.0.0.1:0 --port-file "$work/port" --data "$work/data" --demo \
  --backup-dir "$work/backups" --log-level warn &
pid=$!
# The first backup is taken once the server serves; wait for it (bounded).
for _ in $(seq 600); do
  "$backup" list --backup-dir "$work/backups" >"$work/list" 2>/dev/null && break
  kill -0 "$pid" || fail "ledgerd exited"
  sleep 0.1
done
grep -q '^backup 1 ' "$work/list" || fail "no backup listed: $(cat "$work/list")"
# A second server process cannot open the live directory for a backup.
"$backup" create --data "$work/data" --backup-dir "$work/other" >"$work/out" && fail "create on a live dir"
grep -q 'ledgerd --backup-dir\|backup-dir takes' "$work/out" || fail "no hint: $(cat "$work/out")"
# --verify beside the running server, on a copy of its directory.
cp -r "$work/data" "$work/copy"
"$ledgerd" --verify --data "$work/copy" >"$work/out" || fail "verify copy: $(cat "$work/out")"
kill "$pid"; wait "$pid" || true; pid=

"$backup" verify --backup-dir "$work/backups" --deep >"$work/out" || fail "verify: $(cat "$work/out")"
grep -q 'restored and verified' "$work/out" || fail "deep verify: $(cat "$work/out")"
"$backup" restore --backup-dir "$work/backups" --to "$work/restored" >"$work/out" \
  || fail "restore: $(cat "$work/out")"
"$ledgerd" --verify --data "$work/restored" >"$work/out" || fail "verify restored: $(cat "$work/out")"
grep -q '^OK: hash chain verifies over positions 1\.\.[1-9]' "$work/out" || fail "$(cat "$work/out")"
grep -q '^OK: marks index: [1-9][0-9]* sessions' "$work/out" || fail "$(cat "$work/out")"
grep -q '^OK: requests index: ' "$work/out" || fail "$(cat "$work/out")"

# Never over a ledger.
if "$backup" restore --backup-dir "$work/backups" --to "$work/data" >"$work/out"; then
  fail "restored over a non-empty directory"
fi
grep -q 'FAILED_PRECONDITION' "$work/out" || fail "$(cat "$work/out")"

# A stopped server's directory backs up with the tool; then damage it.
"$backup" create --data "$work/data" --backup-dir "$work/cold" >"$work/out" || fail "$(cat "$work/out")"
largest=$(find "$work/cold" -type f -not -path '*/meta/*' -printf '%s %p\n' | sort -n | tail -1 | cut -d' ' -f2)
size=$(stat -c %s "$largest")
# Flip every bit of one byte (writing a fixed byte may leave it unchanged).
offset=$((size / 2))
old=$(od -An -tu1 -j "$offset" -N1 "$largest" | tr -d ' ')
printf "\\$(printf '%03o' $((255 - old)))" | dd of="$largest" bs=1 seek="$offset" conv=notrunc status=none
if "$backup" restore --backup-dir "$work/cold" --to "$work/bad" >"$work/out"; then
  fail "restored a damaged backup"
fi
grep -q 'DATA_LOSS' "$work/out" || fail "$(cat "$work/out")"
[[ ! -e $work/bad ]] || fail "a damaged restore left $work/bad"
echo "PASS"
