#!/usr/bin/env bash
# multi_receiver.sh - two receivers of one site, each with its own ingest
# log origin, writing to ONE backend (issue 15, "Many machines";
# docs/site.md "Receivers", docs/cmd-audit.md):
#   - receiver "a" runs on the keeper's site folder; receiver "b" on a copy
#     of it holding public keys only (another machine), known to the site
#     by receiver.b.vkey in lacre.conf; both on loopback, each fed by its
#     own lacre-mediator;
#   - a second receiver of the same log, or one sharing a spool or stream
#     state, is refused (exit 1, the lock named);
#   - receiver b is killed with SIGKILL while receiver a is still under
#     load (after b's mediator got its final keep-alive answer and b's
#     segments are sealed, signed and uploaded), restarted, and fed again;
#   - at the end every data PDU the mediators sent is sealed exactly once:
#     the test decrypts every segment on the backend itself (age, with the
#     oversight identity; the LIIDs have no warrant, so all is quarantined)
#     and compares each stream's count with the mediators' summaries;
#   - lacre status shows every receiver of a machine (a and an idle c);
#   - lacre audit --site audits every origin (a line each, exit 0), keeps a
#     seen copy of b's checkpoint, refuses a rolled-back checkpoint of b
#     (exit 3, "rollback", naming b's origin), and a tampered tile of a's
#     log is found (exit 3) naming a's origin.
# The backend is the Ceph RGW of .ci/run when LACRE_TEST_S3 is set (as
# vault_s3.sh), else a shared dir: backend; the test says which.
set -u
top=${LACRE_TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
work=$(mktemp -d /tmp/lacre-e2e-multirecv-XXXXXX)
APID= BPID= CPID= MAPID= MBPID= METPID=
cleanup() {
	for p in $APID $BPID $CPID; do kill -9 "$p" 2>/dev/null; done
	for p in $MAPID $MBPID $METPID; do kill "$p" 2>/dev/null; done
	[ -n "${LACRE_KEEP_TMP:-}" ] && echo "kept $work" || rm -rf "$work"
}
trap cleanup EXIT
. "$top/tests/e2e/lib/vault.bash"
OBJ="python3 $top/tests/e2e/lib/objects.py"

site=$work/site
siteb=$work/machine-b/site
age-keygen -o "$work/oversight.key" 2>/dev/null || die "age-keygen"
R=$(age-keygen -y "$work/oversight.key")
init_args=(--hi2 127.0.0.1:7 --hi3 127.0.0.1:9 --oversight-recipient "$R" --name multi)
if [ -n "${S3_ENDPOINT:-}" ]; then
	bucket="lacre-e2e-$(date +%s%N | tail -c 9)"
	backend="s3://$bucket/multi"
	printf 'access_key = %s\nsecret_key = %s\n' "${S3_ACCESS_KEY:-$AWS_ACCESS_KEY_ID}" \
		"${S3_SECRET_KEY:-$AWS_SECRET_ACCESS_KEY}" > "$work/s3.cred"
	chmod 600 "$work/s3.cred"
	init_args+=(--backend "$backend" --set "s3.endpoint=$S3_ENDPOINT"
		--set "s3.region=${S3_REGION:-us-east-1}" --set "s3.credentials=$work/s3.cred")
	# the helper plays the storage operator with these; lacre reads lacre.conf
	S3ENV=(S3_ENDPOINT="$S3_ENDPOINT" S3_ACCESS_KEY="${S3_ACCESS_KEY:-$AWS_ACCESS_KEY_ID}"
		S3_SECRET_KEY="${S3_SECRET_KEY:-$AWS_SECRET_ACCESS_KEY}" S3_REGION="${S3_REGION:-us-east-1}")
	unset S3_ENDPOINT AWS_ENDPOINT_URL S3_ACCESS_KEY S3_SECRET_KEY AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY S3_REGION
	echo "backend: one Ceph RGW bucket ($backend)"
	dur_a=40   # b's segments take longer to reach the RGW: a's load outlasts b's kill
else
	[ -n "${LACRE_TEST_S3:-}" ] && die "LACRE_TEST_S3 is set but S3_ENDPOINT is not: the S3 server did not start"
	mkdir -p "$work/backend"
	backend="dir:$work/backend"
	init_args+=(--backend "$backend")
	S3ENV=()
	dur_a=14
	echo "backend: a shared dir: backend ($backend; LACRE_TEST_S3 unset)"
fi
obj() { env "${S3ENV[@]}" $OBJ "$backend" "$@"; }

"$B/lacre" init "$site" "${init_args[@]}" >/dev/null || die "lacre init"
# machine b: the site folder's public part only (no master key, no keystore)
mkdir -p "$siteb"
cp "$site/lacre.conf" "$site/warrants.log" "$siteb/" || die "copy of the site for machine b"
sed -i "s|^spool.dir = .*|spool.dir = $siteb/spool|" "$siteb/lacre.conf"
grep -qx "spool.dir = $siteb/spool" "$siteb/lacre.conf" || die "machine b's spool.dir"
[ ! -e "$siteb/master.age" ] && [ ! -e "$siteb/keystore" ] || die "machine b holds a secret"

# start_rcv VAR SITE NAME TAG: a receiver on free ports; sets VAR (pid) and
# VAR_HI2, VAR_HI3
start_rcv() {
	local var=$1 s=$2 name=$3 tag=$4
	rm -f "$work/ready-$tag"
	"$B/lacre" ingest --site "$s" --receiver "$name" --hi2 127.0.0.1:0 --hi3 127.0.0.1:0 --quiet \
		--ready-file "$work/ready-$tag" 2>"$work/ingest-$tag.err" &
	eval "$var=\$!"
	wait_file 60 "$work/ready-$tag" || { cat "$work/ingest-$tag.err"; die "receiver $tag did not start"; }
	eval "${var}_HI2=\$(sed -n 's/^hi2=//p' \"\$work/ready-\$tag\")"
	eval "${var}_HI3=\$(sed -n 's/^hi3=//p' \"\$work/ready-\$tag\")"
}
start_rcv APID "$site" a a1
start_rcv BPID "$siteb" b b1
[ "$APID_HI2" != "$BPID_HI2" ] || die "the two receivers share a port"

# one receiver per log, spool and stream state
expect_exit 1 "ingest-a is locked by a running receiver" \
	"$B/lacre" ingest --site "$site" --receiver a --hi2 127.0.0.1:0 --hi3 127.0.0.1:0 ||
	die "a second receiver a started"
expect_exit 1 "the spool $site/spool-a is locked by another receiver of this site" \
	"$B/lacre" ingest --site "$site" --receiver c --set "receiver.c.spool_dir=$site/spool-a" \
	--hi2 127.0.0.1:0 --hi3 127.0.0.1:0 || die "a receiver shared a's spool"
expect_exit 1 "streams-a.state.lock is locked by another receiver of this site" \
	"$B/lacre" ingest --site "$site" --receiver c --state "$site/state/streams-a.state" \
	--hi2 127.0.0.1:0 --hi3 127.0.0.1:0 || die "a receiver shared a's stream state"
expect_exit 2 "not a receiver name" "$B/lacre" ingest --site "$site" --receiver B_2 -n ||
	die "a bad receiver name was taken"
expect_exit 0 "" "$B/lacre" ingest --site "$site" --receiver d -n || die "ingest -n of receiver d"
grep -qx "receiver d: ingest log lacre/multi/ingest/d, spool $site/spool-d" "$EXPECT_DIR/expect.out" ||
	die "ingest -n does not name receiver d's log and spool: $(cat "$EXPECT_DIR/expect.out")"

# the load: a for the whole run, b in two parts around its kill
"$B/lacre-mediator" --hi2 127.0.0.1:$APID_HI2 --hi3 127.0.0.1:$APID_HI3 --liid-prefix RA --targets 3 \
	--sessions 60 --calls 30 --rate 1500 --duration $dur_a --seed 11 --summary "$work/sum-a.json" \
	>/dev/null 2>"$work/med-a.err" &
MAPID=$!
"$B/lacre-mediator" --hi2 127.0.0.1:$BPID_HI2 --hi3 127.0.0.1:$BPID_HI3 --liid-prefix RB --targets 2 \
	--sessions 30 --calls 15 --rate 1500 --duration 3 --seed 12 --summary "$work/sum-b1.json" \
	>/dev/null 2>"$work/med-b1.err" || { cat "$work/med-b1.err"; die "mediator b1"; }
wait_file 10 "$site/state/status-a.prom" || die "receiver a writes no status-a.prom"
expect_exit 0 "" "$B/lacre" status --site "$site" --receiver a || die "lacre status of receiver a"
grep -q "lacre/multi/ingest/a" "$EXPECT_DIR/expect.out" || die "status of a names no log a: $(cat "$EXPECT_DIR/expect.out")"
expect_exit 0 "" "$B/lacre" status --site "$siteb" || die "lacre status on machine b"
grep -q "lacre/multi/ingest/b" "$EXPECT_DIR/expect.out" || die "status on b names no log b"
# a second receiver on the keeper's machine (idle): status shows both
start_rcv CPID "$site" c c1
wait_file 10 "$site/state/status-c.prom" || die "receiver c writes no status-c.prom"
expect_exit 0 "" "$B/lacre" status --site "$site" || die "lacre status of receivers a and c"
grep -qx "== receiver a ==" "$EXPECT_DIR/expect.out" && grep -qx "== receiver c ==" "$EXPECT_DIR/expect.out" &&
	grep -q "lacre/multi/ingest/c" "$EXPECT_DIR/expect.out" ||
	die "status does not show both receivers: $(cat "$EXPECT_DIR/expect.out")"
expect_exit 2 "give --receiver NAME with --json" "$B/lacre" status --site "$site" --json ||
	die "status --json of two receivers"
# Prometheus: one lacre metrics per receiver
"$B/lacre" metrics --site "$site" --receiver a --listen 127.0.0.1:0 --ready-file "$work/metrics.ready" \
	2>"$work/metrics.err" &
METPID=$!
wait_file 10 "$work/metrics.ready" || { cat "$work/metrics.err"; die "lacre metrics did not start"; }
curl -sf "http://127.0.0.1:$(sed -n 's/^port=//p' "$work/metrics.ready")/metrics" > "$work/metrics.txt" ||
	die "GET /metrics"
kill "$METPID"; wait "$METPID"; METPID=
grep -qx "lacre_up 1" "$work/metrics.txt" || die "metrics of receiver a: not up"
kill -TERM "$CPID"; wait "$CPID" || die "receiver c exited with $? at SIGTERM"
CPID=
expect_exit 1 "" "$B/lacre" status --site "$site" || die "status with receiver c stopped"
grep -q "NOT RUNNING" "$EXPECT_DIR/expect.out" || die "status does not say c stopped"
# b's records sealed, signed and uploaded: nothing of b's left in its spool
b_settled() {
	[ -z "$(find "$siteb/spool-b" -maxdepth 1 \( -name 'TMP.*' -o -name '*.leaves' -o -name '*.streams' \))" ] &&
	[ -z "$(ls "$siteb/spool-b/ready")" ] &&
	[ "$(sed -n 2p "$siteb/ledger/ingest-b/checkpoint")" -gt 0 ]
}
wait_for 30 "receiver b's segments signed and uploaded" b_settled || die "b did not settle"
cp "$siteb/ledger/ingest-b/checkpoint" "$work/b-old-checkpoint"
kill -0 "$MAPID" 2>/dev/null || die "mediator a finished before the kill: the kill is not mid-run"
kill -9 "$BPID"; wait "$BPID" 2>/dev/null; BPID=
echo "receiver b killed (SIGKILL) while a is under load"
start_rcv BPID "$siteb" b b2
"$B/lacre-mediator" --hi2 127.0.0.1:$BPID_HI2 --hi3 127.0.0.1:$BPID_HI3 --liid-prefix RC --targets 2 \
	--sessions 30 --calls 15 --rate 1500 --duration 3 --seed 13 --summary "$work/sum-b2.json" \
	>/dev/null 2>"$work/med-b2.err" || { cat "$work/med-b2.err"; die "mediator b2"; }
wait "$MAPID" || { cat "$work/med-a.err"; die "mediator a failed"; }
MAPID=
for p in APID BPID; do
	kill -TERM "${!p}"
	wait "${!p}" || die "receiver $p exited with $? at SIGTERM"
	eval "$p="
done

# every PDU sent is sealed exactly once, on the one backend
obj count-records "$work/oversight.key" "$work/sum-a.json" "$work/sum-b1.json" "$work/sum-b2.json" ||
	die "the sealed records do not match what the mediators sent"

# the keeper's site learns b by its vkey; the audit covers both origins
printf 'receiver.b.vkey = %s\n' "$(cat "$siteb/ledger/ingest-b/vkey")" >> "$site/lacre.conf"
expect_exit 0 "" "$B/lacre" audit --site "$site" || die "audit of both logs"
cat "$EXPECT_DIR/expect.out"
grep -q "^ingest log lacre/multi/ingest/a: .* 0 problems$" "$EXPECT_DIR/expect.out" || die "no line for log a"
grep -q "^ingest log lacre/multi/ingest/b (another machine's): .* 0 problems$" "$EXPECT_DIR/expect.out" ||
	die "no line for log b"
grep -q "^ingest log lacre/multi/ingest/c: size 0, 0 entries, .* 0 problems$" "$EXPECT_DIR/expect.out" ||
	die "no line for the idle log c"
grep -q "^audited 3 ingest logs, total size" "$EXPECT_DIR/expect.out" || die "no total line"
[ -s "$site/ledger/seen/ingest-b" ] || die "no seen copy of b's checkpoint"
cmp -s "$site/ledger/seen/ingest-b" "$siteb/ledger/ingest-b/checkpoint" ||
	die "the seen copy is not b's newest checkpoint"

# the backend serves b's older checkpoint: a rollback naming b
bprefix=$(obj list tlog/ | grep '/checkpoint$' | while read -r n; do
	obj get "$n" "$work/cp.tmp"; head -1 "$work/cp.tmp" | grep -qx "lacre/multi/ingest/b" && echo "${n%checkpoint}"; done)
[ -n "$bprefix" ] || die "no checkpoint of log b on the backend"
obj get "${bprefix}checkpoint" "$work/b-new-checkpoint" || die "get b's checkpoint"
cmp -s "$work/b-new-checkpoint" "$work/b-old-checkpoint" && die "b's log did not grow after the restart"
obj put "${bprefix}checkpoint" "$work/b-old-checkpoint" || die "put b's old checkpoint"
expect_exit 3 "" "$B/lacre" audit --site "$site" || die "a rolled-back log b passed the audit"
grep -q "^rollback *lacre/multi/ingest/b: rollback: the backend serves a checkpoint of size" "$EXPECT_DIR/expect.out" ||
	die "the rollback does not name log b: $(cat "$EXPECT_DIR/expect.out")"
grep -q "^ingest log lacre/multi/ingest/a: .* 0 problems$" "$EXPECT_DIR/expect.out" || die "log a is blamed for b's rollback"
cmp -s "$site/ledger/seen/ingest-b" "$work/b-new-checkpoint" || die "the seen copy went back"
obj put "${bprefix}checkpoint" "$work/b-new-checkpoint" || die "restore b's checkpoint"
expect_exit 0 "" "$B/lacre" audit --site "$site" || die "audit after restoring b's checkpoint"

# a tampered tile of a's log: found, naming a
aprefix=$(obj list tlog/ | grep '/checkpoint$' | while read -r n; do
	obj get "$n" "$work/cp.tmp"; head -1 "$work/cp.tmp" | grep -qx "lacre/multi/ingest/a" && echo "${n%checkpoint}"; done)
tile=$(obj list "${aprefix}tile/0/" | head -1)
[ -n "$tile" ] || die "no level-0 tile of log a"
obj get "$tile" "$work/tile" || die "get a tile"
printf '\xff' | dd of="$work/tile" bs=1 seek=100 conv=notrunc 2>/dev/null
obj put "$tile" "$work/tile" || die "put the tampered tile"
expect_exit 3 "" "$B/lacre" audit --site "$site" || die "a tampered tile of log a passed the audit"
grep -q "lacre/multi/ingest/a: " "$EXPECT_DIR/expect.out" || die "the finding does not name log a: $(cat "$EXPECT_DIR/expect.out")"
grep -q "^ingest log lacre/multi/ingest/a: .* [1-9][0-9]* problems" "$EXPECT_DIR/expect.out" ||
	die "log a's line counts no problem"
grep -q "^ingest log lacre/multi/ingest/b (another machine's): .* 0 problems$" "$EXPECT_DIR/expect.out" ||
	die "log b is blamed for a's tile"
grep "lacre/multi/ingest/a: " "$EXPECT_DIR/expect.out" | head -2
echo "ok   two receivers, one backend: counts match, both origins audited, rollback and tampering named"
