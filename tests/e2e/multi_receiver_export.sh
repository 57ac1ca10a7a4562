#!/usr/bin/env bash
# multi_receiver_export.sh - one site, two ingest logs, read as one site
# (issue 15, "Many machines"; docs/cmd-export.md, docs/cmd-lacre-verify.md,
# docs/FORMATS.md §9):
#   - receiver "a" runs on the keeper's site folder, receiver "b" on a copy
#     holding public keys only (another machine, known to the site by
#     receiver.b.vkey); each receives a part of ONE warrant's traffic (two
#     mediators, one LIID each, both LIIDs on the warrant);
#   - lacre records shows the records of both receivers (it shows only
#     records a signed log holds, and names the others on stderr);
#   - lacre export makes one package spanning both logs: two log lines,
#     logs/2.checkpoint, two ingest.vkey lines, a log number on every
#     record line (pkg_tool.py, an independent reader, checks each receipt
#     carries its own log's checkpoint and each segment proof reaches its
#     root); age -d opens it;
#   - lacre-verify: VERIFIED with both vkeys (exit 0); NOT VERIFIED (exit 3)
#     without b's, naming b's origin; NOT VERIFIED (exit 3) with a hash of a
#     receipt of b's log changed, naming the member;
#   - lacre audit --site --deep decrypts the segments of both logs (exit 0).
# The backend is the Ceph RGW of .ci/run when LACRE_TEST_S3 is set, else a
# dir: backend; the test says which.
set -u
top=${LACRE_TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
work=$(mktemp -d /tmp/lacre-e2e-multiexp-XXXXXX)
IPID=
trap '[ -n "$IPID" ] && kill $IPID 2>/dev/null; [ -n "${LACRE_KEEP_TMP:-}" ] && echo "kept $work" || rm -rf "$work"' EXIT
. "$top/tests/e2e/lib/vault.bash"
command -v python3 >/dev/null || { echo "python3 missing"; exit 77; }
command -v age >/dev/null && command -v age-keygen >/dev/null ||
	die "Debian's age is not installed (scripts/deps installs it)"
tool="python3 $top/tests/e2e/lib/pkg_tool.py"
V="$B/lacre-verify"
ok() { echo "ok   $*"; }

site=$work/site
siteb=$work/machine-b/site
init_args=()
if [ -n "${S3_ENDPOINT:-}" ]; then
	bucket="lacre-e2e-$(date +%s%N | tail -c 9)"
	backend="s3://$bucket/multiexp"
	printf 'access_key = %s\nsecret_key = %s\n' "${S3_ACCESS_KEY:-$AWS_ACCESS_KEY_ID}" \
		"${S3_SECRET_KEY:-$AWS_SECRET_ACCESS_KEY}" > "$work/s3.cred"
	chmod 600 "$work/s3.cred"
	init_args+=(--backend "$backend" --set "s3.endpoint=$S3_ENDPOINT"
		--set "s3.region=${S3_REGION:-us-east-1}" --set "s3.credentials=$work/s3.cred")
	unset S3_ENDPOINT AWS_ENDPOINT_URL S3_ACCESS_KEY S3_SECRET_KEY AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY S3_REGION
	echo "backend: one Ceph RGW bucket ($backend)"
else
	[ -n "${LACRE_TEST_S3:-}" ] && die "LACRE_TEST_S3 is set but S3_ENDPOINT is not: the S3 server did not start"
	mkdir -p "$work/backend"
	backend="dir:$work/backend"
	init_args+=(--backend "$backend")
	echo "backend: a shared dir: backend ($backend; LACRE_TEST_S3 unset)"
fi
vault_init "$site" --name mx "${init_args[@]}"
# one warrant, two LIIDs: MA0001 reaches receiver a, MB0001 receiver b
W=$("$B/lacre" warrant add --site "$site" --user "$ADMIN_KEY" --case CASE-MX --unit UCO-1 --court "JI-5-Madrid" \
	--order ORD-MX --order-date 2026-11-01 --from 2026-11-01 --to 2027-01-31 --categories content,iri \
	--target target-mx --liid MA0001 --liid MB0001 --json |
	python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])') || die "warrant add"
[ -n "$W" ] || die "no warrant id"
# machine b: the site folder's public part only
mkdir -p "$siteb"
cp "$site/lacre.conf" "$site/warrants.log" "$siteb/" || die "copy of the site for machine b"
sed -i "s|^spool.dir = .*|spool.dir = $siteb/spool|" "$siteb/lacre.conf"
[ ! -e "$siteb/master.age" ] && [ ! -e "$siteb/keystore" ] || die "machine b holds a secret"

for p in a b; do
	P=$(echo $p | tr a-z A-Z)
	"$B/lacre-mediator" --output "$work/m$p" --liid-prefix "M$P" --targets 1 --calls 2 --sessions 2 \
		--seed $([ $p = a ] && echo 31 || echo 32) --start-time 2026-11-28T10:00:00Z \
		--summary "$work/sum-$p.json" >/dev/null 2>&1 || die "mediator $p --output"
done
vault_ingest_start "$site" a --receiver a
python3 "$top/tests/e2e/lib/send_streams.py" "$HI2" "$HI3" "$work/ma.hi2" "$work/ma.hi3" || die "sending to a"
vault_ingest_stop a
vault_ingest_start "$siteb" b --receiver b
python3 "$top/tests/e2e/lib/send_streams.py" "$HI2" "$HI3" "$work/mb.hi2" "$work/mb.hi3" || die "sending to b"
vault_ingest_stop b
[ -s "$siteb/ledger/ingest-b/checkpoint" ] && [ "$(sed -n 2p "$siteb/ledger/ingest-b/checkpoint")" -gt 0 ] ||
	die "receiver b published no checkpoint"
# the keeper's site learns b by its vkey
printf 'receiver.b.vkey = %s\n' "$(cat "$siteb/ledger/ingest-b/vkey")" >> "$site/lacre.conf"
VA=$site/ledger/ingest-a/vkey
VB=$siteb/ledger/ingest-b/vkey

# 1. lacre records: both receivers' records, each in its signed log
export LACRE_USER=$CLERK_KEY
"$B/lacre" records --site "$site" --warrant "$W" --json --justification "multi-receiver check" \
	> "$work/rec.jsonl" 2>"$work/rec.err" || { cat "$work/rec.err"; die "lacre records"; }
python3 - "$work/rec.jsonl" > "$work/rec.count" <<'PY' || die "lacre records: $(cat "$work/rec.count")"
import json, sys
recs = [json.loads(l) for l in open(sys.argv[1])]
by = {}
for r in recs:
    by.setdefault(r["liid"], []).append(r)
assert set(by) == {"MA0001", "MB0001"}, sorted(by)
print(len(by["MA0001"]), len(by["MB0001"]), len(recs))
PY
read na nb nrec < "$work/rec.count"
# lacre records shows only records a signed log holds and names the others
! grep -q "in no signed checkpoint" "$work/rec.err" || die "records not in a signed log: $(cat "$work/rec.err")"
ok "lacre records: $na records of receiver a (MA0001) and $nb of receiver b (MB0001), all in a signed log"

# 2. one export spanning both logs
age-keygen -o "$work/court.key" 2>/dev/null || die "age-keygen"
R=$(grep -o 'age1[a-z0-9]*' "$work/court.key")
"$B/lacre" export --site "$site" --warrant "$W" --recipient "$R" -o "$work/p.age" \
	--justification "auto 7/2026" --json > "$work/exp.json" 2>"$work/exp.err" ||
	{ cat "$work/exp.err"; die "lacre export"; }
EXV=$site/ledger/export.vkey
age -d -i "$work/court.key" -o "$work/p.plain" "$work/p.age" || die "age -d of the package"
ok "age -d opens the package"
$tool logs "$work/p.plain" > "$work/logs.txt" || die "pkg_tool logs: $(cat "$work/logs.txt")"
grep -q "^log 1 lacre/mx/ingest/a size [0-9]* records $na checkpoint checkpoint vkey lacre/mx/ingest/a+" "$work/logs.txt" &&
	grep -q "^log 2 lacre/mx/ingest/b size [0-9]* records $nb checkpoint logs/2.checkpoint vkey lacre/mx/ingest/b+" "$work/logs.txt" ||
	die "the package's logs: $(cat "$work/logs.txt")"
ok "the package names both logs ($(tr '\n' ';' < "$work/logs.txt" | sed 's/ vkey [^;]*//g'))"
$tool segproofs "$work/p.plain" > "$work/sp.txt" || die "pkg_tool segproofs: $(tail -2 "$work/sp.txt")"
grep -q "^segment proofs: $nrec verified" "$work/sp.txt" || die "segment proofs: $(tail -1 "$work/sp.txt")"
ok "independent reader: $nrec segment proofs reach their roots, each receipt carries its own log's checkpoint"
$tool get "$work/p.plain" records.jsonl | cmp -s - "$work/rec.jsonl" || die "records.jsonl is not lacre records --json"

# 3. lacre-verify with both logs' keys
expect_exit 0 "" "$V" "$work/p.age" -i "$work/court.key" --log-vkey "$VA" --log-vkey "$VB" --export-vkey "$EXV" ||
	die "lacre-verify with both vkeys"
grep -q "^VERIFIED" "$EXPECT_DIR/expect.out" && grep -q "^log  *lacre/mx/ingest/b at size" "$EXPECT_DIR/expect.out" ||
	die "verify report: $(cat "$EXPECT_DIR/expect.out")"
ok "lacre-verify: VERIFIED with both logs' vkeys, $nrec records (exit 0)"
"$V" "$work/p.age" -i "$work/court.key" --log-vkey "$VA" --log-vkey "$VB" --json > "$work/v.json" ||
	die "lacre-verify --json"
python3 - "$work/v.json" "$nrec" <<'PY' || die "--json: $(cat "$work/v.json")"
import json, sys
r = json.load(open(sys.argv[1]))
assert r["verified"] and r["included"] == int(sys.argv[2]), r
assert [l["origin"] for l in r["logs"]] == ["lacre/mx/ingest/a", "lacre/mx/ingest/b"], r["logs"]
assert r["log"]["key_trusted"], r["log"]
PY
ok "lacre-verify --json lists both logs"

# 4. without b's key: NOT VERIFIED naming b's origin
expect_exit 3 "" "$V" "$work/p.age" -i "$work/court.key" --log-vkey "$VA" --export-vkey "$EXV" ||
	die "lacre-verify without b's vkey"
grep -q "^FAIL logs/2.checkpoint: not verified: no trusted log key for lacre/mx/ingest/b" "$EXPECT_DIR/expect.out" &&
	grep -q "^NOT VERIFIED" "$EXPECT_DIR/expect.out" ||
	die "without b's key: $(cat "$EXPECT_DIR/expect.out")"
ok "without b's vkey: NOT VERIFIED (exit 3), FAIL logs/2.checkpoint names lacre/mx/ingest/b"

# 5. a receipt of b's log with one hash changed: NOT VERIFIED naming it
nb1=$(sed -n 's/^record \([0-9]*\) .* 2$/\1/p' <($tool get "$work/p.plain" manifest.txt) | head -1)
[ -n "$nb1" ] || die "no record line of log 2 in the manifest"
mem=$(printf 'records/%08d.tlog-proof' "$nb1")
# the first proof hash line (after "index N") has its first base64 character
# replaced by another base64 character: still a receipt, another hash
[ -n "$($tool get "$work/p.plain" "$mem" | sed -n 3p)" ] || die "$mem has no proof hash line"
$tool edit "$work/p.plain" "$work/t.plain" "$mem" \
	'(lambda l: b"\n".join(l[:2] + [(b"B" if l[2][:1] == b"A" else b"A") + l[2][1:]] + l[3:]))(d.split(b"\n"))' ||
	die "pkg_tool edit $mem"
age -r "$R" -o "$work/t.age" "$work/t.plain" || die "age -r"
expect_exit 3 "" "$V" "$work/t.age" -i "$work/court.key" --log-vkey "$VA" --log-vkey "$VB" --export-vkey "$EXV" ||
	die "tampered receipt of log 2"
# (its manifest line no longer matches, and the proof no longer reaches
# log 2's checkpoint)
grep -q "^FAIL $mem: the inclusion proof does not take the entry of segment seg/[0-9a-f]* at leaf [0-9]* to the checkpoint's root" \
	"$EXPECT_DIR/expect.out" || die "tampered receipt: $(cat "$EXPECT_DIR/expect.out")"
ok "a changed hash in $mem (log 2): NOT VERIFIED (exit 3), $(grep "^FAIL $mem: the inclusion" "$EXPECT_DIR/expect.out")"

# 6. the deep audit decrypts both logs' segments
expect_exit 0 "" "$B/lacre" audit --site "$site" --deep || die "audit --site --deep: $(cat "$EXPECT_DIR/expect.out")"
nseg=$(sed -n 's/^audited 2 ingest logs, total size [0-9]*: [0-9]* entries, \([0-9]*\) segments .*/\1/p' "$EXPECT_DIR/expect.out")
# (records checked: the warrant's and the receivers' accounting events)
nchk=$(sed -n "s/^deep: $nseg segments decrypted (0 from the spool), \([0-9]*\) records checked; .* 0 problems$/\1/p" \
	"$EXPECT_DIR/expect.out")
[ -n "$nseg" ] && grep -q "^deep: 2 ingest logs" "$EXPECT_DIR/expect.out" && [ -n "$nchk" ] && [ "$nchk" -ge "$nrec" ] ||
	die "deep audit: $(cat "$EXPECT_DIR/expect.out")"
ok "lacre audit --site --deep: both ingest logs, $nseg segments and $nchk records decrypted, 0 problems (exit 0)"
echo "multi_receiver_export: all checks passed"
