#!/usr/bin/env bash
# ledger_share.sh - what the ledger costs in stored bytes (issue 15): a
# mediator run into a fresh site, then the ingest log's objects on the
# backend (tiles, bundles, checkpoint: tlog/<hex SHA-256(origin)>/) against
# the sealed segments (seg/).  Prints the share, the log's size against the
# segments and records it covers, and what a leaf per record (the layout
# before issue 15) would have added.  Fails when the ledger is not one leaf
# per segment or its share is above the issue's target of 1 %.
set -u
top=${LACRE_TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
work=$(mktemp -d /tmp/lacre-e2e-ledger-share-XXXXXX)
IPID=
trap '[ -n "$IPID" ] && kill $IPID 2>/dev/null; [ -n "${LACRE_KEEP_TMP:-}" ] && echo "kept $work" || rm -rf "$work"' EXIT
. "$top/tests/e2e/lib/vault.bash"

site=$work/site
vault_init "$site"
for l in LIID0001 LIID0002 LIID0003; do
	vault_warrant "$site" "$l" 2026-11-01 2027-01-31 content,iri >/dev/null || die "warrant $l"
done
"$B/lacre-mediator" --output "$work/m" --targets 4 --calls 12 --sessions 4 --seed 15 \
	--start-time 2026-11-28T10:00:00Z >/dev/null 2>&1 || die "mediator"
vault_ingest_start "$site" run
python3 "$top/tests/e2e/lib/send_streams.py" "$HI2" "$HI3" "$work/m.hi2" "$work/m.hi3" || die "send"
vault_ingest_stop run
IPID=
python3 - "$site" <<'PY' || exit 1
import glob, hashlib, os, struct, sys
site = sys.argv[1]
origin = open(site + "/ledger/ingest/checkpoint").read().split("\n")[0]
size = int(open(site + "/ledger/ingest/checkpoint").read().split("\n")[1])
pfx = site + "/objects/tlog/" + hashlib.sha256(origin.encode()).hexdigest() + "/"
def tree(p):
    return sum(os.path.getsize(f) for f in glob.glob(p + "**", recursive=True) if os.path.isfile(f))
seg = tree(site + "/objects/seg/")
nseg = len(os.listdir(site + "/objects/seg"))
led = tree(pfx)
# the entries of the log, from its bundles (full ones, then the last partial)
entries = {}
for f in glob.glob(pfx + "tile/entries/**", recursive=True):
    if not os.path.isfile(f):
        continue
    rel = f[len(pfx + "tile/entries/"):]
    part = rel.split(".p/")
    n = int(part[0].replace("x", "").replace("/", ""))
    d, off, k = open(f, "rb").read(), 0, 0
    while off < len(d):
        (ln,) = struct.unpack(">H", d[off:off + 2])
        entries.setdefault(n * 256 + k, d[off + 2:off + 2 + ln])
        off, k = off + 2 + ln, k + 1
leaves = [entries[i] for i in range(size)]
v2 = [e for e in leaves if e[:16] == b"lacre-segment/v2"]
records = sum(struct.unpack(">Q", e[-40:-32])[0] for e in v2)
share = 100.0 * led / (seg + led)
per_record = records * (34 + 32)   # bundle entry + level-0 hash of a leaf per record
old = 100.0 * (led + per_record) / (seg + led + per_record)
print(f"segments: {nseg} objects, {seg} bytes; ingest log: size {size}, {len(v2)} v2 segment entries "
      f"for {records} records, {led} bytes of objects")
print(f"ledger share of stored bytes: {share:.3f} % (issue 15 target: <= 1 %); "
      f"a leaf per record would have added at least {per_record} bytes ({old:.2f} %)")
ok = True
if len(v2) != size or size != nseg:
    print(f"FAIL: the log has {size} leaves, {len(v2)} of them v2 segment entries, for {nseg} segments: "
          "not one leaf per segment")
    ok = False
if records == 0:
    print("FAIL: no records logged")
    ok = False
if share > 1.0:
    print(f"FAIL: the ledger is {share:.3f} % of the stored bytes (target: <= 1 %)")
    ok = False
sys.exit(0 if ok else 1)
PY
echo "ledger share ok"
