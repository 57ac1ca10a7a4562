#!/usr/bin/env bash
# fuzz/mkseeds_state.sh - seeds for fuzz_state: the stream state files a real
# receiver wrote at a clean stop after set C of ../shared/vectors/openli-c
# (encrypted, each PDU with its byteCounter: streams and chains of three
# LIIDs on both handovers), and files written
# field by field after docs/FORMATS.md §12 (a file of before the BCTR
# section, held intervals, a crash's kept < frontier, empty trackers).
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
vec=$top/../shared/vectors/openli-c
work=$(mktemp -d /tmp/lacre-seeds-state-XXXXXX)
IPID=
trap '[ -n "$IPID" ] && kill $IPID 2>/dev/null; rm -rf "$work"' EXIT
. "$top/tests/e2e/lib/vault.bash"
out=$top/fuzz/corpus/state
mkdir -p "$out"
mkdir -m 700 "$work/hkeys"
cp "$vec/config/payload-encryption-key.hex" "$work/hkeys/opc.hex"
chmod 600 "$work/hkeys/opc.hex"
vault_init "$work/site"
run() {
	vault_ingest_start "$work/site" "$1" --set "handover.key_dir=$work/hkeys" \
		--set "handover.keys=opC-telco opc.hex"
	python3 "$top/tests/e2e/lib/send_streams.py" "$HI2" "$HI3" "$2" "$3"
	vault_ingest_stop "$1"
	IPID=
}
run s1 "$vec/raw/hi2.bin" "$vec/raw/hi3.bin"
cp "$work/site/state/streams.state" "$out/setc-clean-stop.state"
python3 "$top/fuzz/mkseeds_state.py" "$out"
echo "seeds in $out: $(ls "$out" | wc -l)"
