#!/usr/bin/env bash
# fuzz/mkseeds_status.sh - seeds for fuzz_status: the status file of a real
# receiver (a site on dir:, the mediator simulator delivering), read while it
# runs and after it stopped, plus hand-made damaged and edge-case texts.
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d /tmp/lacre-seeds-status-XXXXXX)
IPID=
trap '[ -n "$IPID" ] && kill $IPID 2>/dev/null; rm -rf "$work"' EXIT
. "$top/tests/e2e/lib/vault.bash"
out=$top/fuzz/corpus/status
mkdir -p "$out"
vault_init "$work/site"
vault_warrant "$work/site" LIID0001 2026-11-01 2027-01-31 content,iri >/dev/null
"$B/lacre-mediator" --output "$work/s" --targets 2 --calls 2 --sessions 1 --seed 3 \
	--start-time 2026-11-28T10:00:00Z >/dev/null 2>&1
vault_ingest_start "$work/site" seeds
python3 "$top/tests/e2e/lib/send_streams.py" "$HI2" "$HI3" "$work/s.hi2" "$work/s.hi3"
sleep 1.5
cp "$work/site/state/status.prom" "$out/running.prom"
vault_ingest_stop seeds
IPID=
cp "$work/site/state/status.prom" "$out/stopped.prom"
printf 'a 1\nb{x="y"} 2.5\nc{x="y",z="w"} -3e+2\n' > "$out/small.prom"
printf '# only a comment\n\n' > "$out/comment.prom"
printf 'lacre_ingest_pdus_total 12' > "$out/no-newline.prom"
printf 'lacre_up{x="a\\"b"} 1\n' > "$out/escaped-label.prom"
printf 'lacre_up nan\nlacre_x inf\n' > "$out/not-finite.prom"
printf '9bad 1\n' > "$out/digit-name.prom"
echo "seeds in $out: $(ls "$out" | wc -l)"
