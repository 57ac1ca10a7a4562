#!/usr/bin/env bash
# logged_latency.sh - the receiver's logged-latency metrics (issue 15,
# docs/cmd-status.md): SITE/state/status.prom carries
# lacre_ingest_logged_latency_seconds{stat="max_1m"|"last"},
# lacre_ingest_logged_segments_total and
# lacre_ingest_unlogged_oldest_age_seconds.  Checked: all zero before any
# record; while records sit in an open segment (segment.max_age=4s here, so
# that they wait) the oldest-record age is above zero and nothing is
# logged yet; once a published checkpoint covers their segment the count
# moves, last and max are above zero (max >= last) and the age goes back
# to 0; a second batch moves the count again.  No timing is asserted.
set -u
top=${LACRE_TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
work=$(mktemp -d /tmp/lacre-e2e-loglat-XXXXXX)
IPID=
trap '[ -n "$IPID" ] && kill $IPID 2>/dev/null; rm -rf "$work"' EXIT
. "$top/tests/e2e/lib/vault.bash"
. "$top/tests/e2e/lib/check.bash"
EXPECT_DIR=$work
ok() { echo "ok   $*"; }
command -v python3 >/dev/null || die "python3 missing"

site=$work/site
vault_init "$site" --set "segment.max_age=4s"
vault_warrant "$site" LIID0001 2026-11-01 2027-01-31 content,iri >/dev/null || die "warrant"
"$B/lacre-mediator" --output "$work/a" --targets 1 --calls 2 --sessions 1 --seed 5 \
	--start-time 2026-11-28T10:00:00Z >/dev/null 2>&1 || die "mediator --output a"
"$B/lacre-mediator" --output "$work/b" --targets 1 --calls 1 --sessions 1 --seed 6 \
	--start-time 2026-11-28T11:00:00Z >/dev/null 2>&1 || die "mediator --output b"

prom=$site/state/status.prom
# metric NAME: its value in the status file now ("" when absent)
metric() { sed -n "s/^$1 //p" "$prom" 2>/dev/null; }
# is_pos X / is_zero X: a decimal above zero / exactly zero
is_pos() { python3 -c 'import sys; sys.exit(0 if float(sys.argv[1]) > 0 else 1)' "${1:-0}"; }
is_zero() { [ -n "$1" ] && python3 -c 'import sys; sys.exit(0 if float(sys.argv[1]) == 0 else 1)' "$1"; }

vault_ingest_start "$site" run1
wait_for 30 "the status file" test -s "$prom" || die "no status.prom"
for m in 'lacre_ingest_logged_latency_seconds{stat="max_1m"}' 'lacre_ingest_logged_latency_seconds{stat="last"}' \
	lacre_ingest_logged_segments_total lacre_ingest_unlogged_oldest_age_seconds; do
	v=$(metric "$m")
	[ -n "$v" ] || { cat "$prom"; die "status.prom has no $m"; }
	is_zero "$v" || die "$m is $v before any record (want 0)"
done
ok "the four logged-latency figures exist and are 0 before any record"

python3 "$top/tests/e2e/lib/send_streams.py" "$HI2" "$HI3" "$work/a.hi2" "$work/a.hi3" || die "sending a"
# the records wait in open segments for 4 s: the age shows them
wait_for 20 "an unlogged record's age above 0" \
	bash -c "v=\$(sed -n 's/^lacre_ingest_unlogged_oldest_age_seconds //p' '$prom'); python3 -c 'import sys; sys.exit(0 if float(sys.argv[1] or 0) > 0 else 1)' \"\$v\"" ||
	die "the oldest unlogged record's age never rose above 0"
ok "records in an open segment: oldest unlogged age $(metric lacre_ingest_unlogged_oldest_age_seconds) s"

wait_for 60 "a logged segment" bash -c "[ \"\$(sed -n 's/^lacre_ingest_logged_segments_total //p' '$prom')\" -gt 0 ] 2>/dev/null" ||
	die "no segment was counted under a published checkpoint"
n1=$(metric lacre_ingest_logged_segments_total)
last=$(metric 'lacre_ingest_logged_latency_seconds{stat="last"}')
max=$(metric 'lacre_ingest_logged_latency_seconds{stat="max_1m"}')
is_pos "$last" || die "logged latency last is $last after a logged segment (want > 0)"
python3 -c 'import sys; sys.exit(0 if float(sys.argv[1]) >= float(sys.argv[2]) else 1)' "$max" "$last" ||
	die "logged latency max_1m $max is below last $last"
ok "segments logged: $n1; latency last $last s, max over a minute $max s"

wait_for 60 "every record under a published checkpoint" bash -c \
	"[ \"\$(sed -n 's/^lacre_ingest_unlogged_oldest_age_seconds //p' '$prom')\" = 0.000 ]" ||
	die "the oldest unlogged age stays $(metric lacre_ingest_unlogged_oldest_age_seconds), not 0"
ok "everything published: oldest unlogged age back to 0"

python3 "$top/tests/e2e/lib/send_streams.py" "$HI2" "$HI3" "$work/b.hi2" "$work/b.hi3" || die "sending b"
wait_for 60 "the logged count moving" bash -c \
	"[ \"\$(sed -n 's/^lacre_ingest_logged_segments_total //p' '$prom')\" -gt $n1 ] 2>/dev/null" ||
	die "the logged segment count stayed at $n1 after a second batch"
ok "a second batch moves the count: $(metric lacre_ingest_logged_segments_total) segments logged"
vault_ingest_stop run1
IPID=
echo "logged_latency.sh: all checks passed"
