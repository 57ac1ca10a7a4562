#!/usr/bin/env bash
# confine_s3.sh - the confined receiver with an s3:// backend (docs/cmd-ingest.md,
# Confinement): IPv4 sockets are allowed (it needs them), so Landlock's TCP
# rule alone stops the probe's connect to a live loopback listener on
# another port (refused with EACCES, "Permission denied"), while a confined
# run as its own user still delivers to S3: every record reads back.
# Needs the S3 server of ../shared/services/s3-up (S3_ENDPOINT etc.); skips
# without it unless LACRE_TEST_S3 says it is required.
set -u
top=${LACRE_TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
work=$(mktemp -d /tmp/lacre-e2e-confs3-XXXXXX)
IPID= LPID=
trap '[ -n "$IPID" ] && kill $IPID 2>/dev/null; [ -n "$LPID" ] && kill $LPID 2>/dev/null; [ -n "${LACRE_KEEP_TMP:-}" ] && echo "kept $work" || rm -rf "$work"' EXIT
. "$top/tests/e2e/lib/vault.bash"
if [ -z "${S3_ENDPOINT:-}" ]; then
	[ -n "${LACRE_TEST_S3:-}" ] && die "LACRE_TEST_S3 is set but S3_ENDPOINT is not: the S3 server did not start"
	echo "no S3 server (S3_ENDPOINT unset)"; exit 77
fi
[ "$(id -u)" -eq 0 ] || { echo "not root: cannot test --run-as"; exit 77; }
command -v python3 >/dev/null || { echo "python3 missing"; exit 77; }
U=lacre-ingest-test
id "$U" >/dev/null 2>&1 || useradd --system --no-create-home --shell /usr/sbin/nologin "$U" || die "useradd $U"
S3PORT=${S3_ENDPOINT##*:}; S3PORT=${S3PORT%%/*}

site=$work/site
vault_init "$site" --backend "s3://lacre-confine-$(date +%s%N | tail -c 9)/vault"
W1=$(vault_warrant "$site" LIID0001 2026-11-01 2027-01-31 content,iri) || die "warrant"
"$B/lacre-mediator" --output "$work/s" --targets 1 --calls 3 --sessions 2 --seed 9 \
	--start-time 2026-11-28T10:00:00Z >/dev/null 2>&1 || die "lacre-mediator --output"

python3 -c '
import socket, sys, time, os
s = socket.socket(); s.bind(("127.0.0.1", 0)); s.listen(8)
open(sys.argv[1] + ".tmp", "w").write(str(s.getsockname()[1])); os.rename(sys.argv[1] + ".tmp", sys.argv[1])
time.sleep(600)' "$work/lport" &
LPID=$!
wait_file 10 "$work/lport" || die "the probe's target listener did not start"
LPORT=$(cat "$work/lport")

LACRE_TEST_CONFINE=1 LACRE_CONFINE_PROBE=$LPORT timeout 60 "$B/lacre" ingest --site "$site" \
	--hi2 127.0.0.1:0 --hi3 127.0.0.1:0 --quiet </dev/null >/dev/null 2>"$work/probe.err"
rc=$?
grep -qF "confine-probe: connect 127.0.0.1:$LPORT: refused (Permission denied)" "$work/probe.err" ||
	{ cat "$work/probe.err"; die "with s3: the connect to 127.0.0.1:$LPORT was not refused by Landlock (EACCES)"; }
grep -q "ALLOWED" "$work/probe.err" && { cat "$work/probe.err"; die "the probe was allowed something"; }
[ "$rc" -eq 159 ] || { cat "$work/probe.err"; die "wanted death by SIGSYS at the exec (exit 159), got exit $rc"; }
echo "ok   s3: backend: IPv4 allowed, yet connect to 127.0.0.1:$LPORT refused (Landlock TCP: only port $S3PORT); exec killed (SIGSYS)"

chgrp "$(id -g "$U")" "$work" "$site" "$site/ledger" && chmod 0750 "$work" "$site" && chmod 1770 "$site/ledger" ||
	die "cannot give the site's group to $U"
chown -R "$U" "$site/spool" "$site/state" "$site/ledger/ingest" "$site/ledger/ingest.key" ||
	die "cannot give the receiver's folders to $U"
vault_ingest_start "$site" run1 --run-as "$U" --stats "$work/stats.json"
python3 "$top/tests/e2e/lib/send_streams.py" "$HI2" "$HI3" "$work/s.hi2" "$work/s.hi3" || die "sending"
vault_ingest_stop run1
"$B/lacre" records --site "$site" --warrant "$W1" --justification "e2e: confined, s3" --json \
	> "$work/rec.jsonl" 2>"$work/rec.err" || { cat "$work/rec.err"; die "records $W1"; }
"$B/lacre" decode "$work/s.hi2" > "$work/d.hi2.jsonl" || die "decode hi2"
"$B/lacre" decode "$work/s.hi3" > "$work/d.hi3.jsonl" || die "decode hi3"
python3 - "$work" "$W1" "$U" "$S3PORT" <<'PY' || die "the confined s3: run did not deliver what was sent"
import json, os, sys
sys.path.insert(0, os.environ['LACRE_E2E_LIB'])
from sent import sent_pdus, load, pdus
work, w1, user = sys.argv[1], sys.argv[2], sys.argv[3]
sent = sorted(b for _, _, b in sent_pdus(work).get('LIID0001', []))
r1 = load(f'{work}/rec.jsonl')
ok = len(sent) > 0 and pdus(r1) == sent
print(('ok   ' if ok else 'FAIL ') + f'{len(r1)} records of {w1} read back from S3, byte-identical to the {len(sent)} sent')
c = json.load(open(f'{work}/stats.json')).get('confinement', {})
good = c.get('user') == user and c.get('seccomp') == 'kill-process' and c.get('landlock_net') is True
print(('ok   ' if good else 'FAIL ') + f'--stats confinement: {c}')
sys.exit(0 if ok and good else 1)
PY
echo "confine_s3: all checks passed"
