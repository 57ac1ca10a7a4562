#!/usr/bin/env bash
# deploy_uids.sh - the receiver and the keeper under two uids of the site's
# group, as deploy/ installs them (docs/deploy.md; lacre/modes.h):
#   1. the receiver runs as its own user (--run-as, confined) with the
#      unit's umask 0027; the site is laid out as deploy/tmpfiles.d does
#      (site 0750 and everything else the keeper's; spool, state and the
#      ingest log the receiver's; ledger/ and objects/ 1770);
#   2. every file it wrote that the keeper reads (sealed segments, the
#      spool's ledger batches, the ingest log's state and tiles, the
#      status file) is group-readable, and its secrets are not (ingest.key,
#      the stream state);
#   3. as the keeper's user, `lacre records` shows every record of the
#      warrant (exit 0) and `lacre audit --site` passes (exit 0);
#   4. control: the same receiver under umask 0077 (the unit's old UMask)
#      leaves files the keeper cannot read: `lacre records` as the keeper's
#      user refuses (exit 3, "cannot read …/vkey: Permission denied"), never
#      "0 records": the check in 3 can fail.
# Run as root (CI is): it creates two system users and a group.
set -u
top=${LACRE_TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
work=$(mktemp -d /tmp/lacre-e2e-uids-XXXXXX)
IPID=
G=lug$$ KU=luk$$ IU=lui$$
cleanup() {
	[ -n "$IPID" ] && kill "$IPID" 2>/dev/null
	userdel "$KU" 2>/dev/null; userdel "$IU" 2>/dev/null; groupdel "$G" 2>/dev/null
	[ -n "${LACRE_KEEP_TMP:-}" ] && echo "kept $work" || rm -rf "$work"
}
trap cleanup EXIT
. "$top/tests/e2e/lib/vault.bash"
[ "$(id -u)" -eq 0 ] || { echo "not root: cannot create the keeper's and the receiver's users"; exit 77; }
for t in useradd groupadd setpriv python3; do
	command -v $t >/dev/null || die "$t missing (scripts/deps installs passwd, util-linux, python3)"
done
groupadd --system "$G" || die "groupadd $G"
useradd --system --no-create-home --shell /usr/sbin/nologin -g "$G" "$KU" || die "useradd $KU"
useradd --system --no-create-home --shell /usr/sbin/nologin -g "$G" "$IU" || die "useradd $IU"
chmod 0755 "$work"

"$B/lacre-mediator" --output "$work/s" --targets 1 --calls 2 --sessions 1 --seed 11 \
	--start-time 2026-11-28T10:00:00Z >/dev/null 2>&1 || die "lacre-mediator --output"
# what the warrant must show: every PDU but the keep-alives (answered, not records)
sent=$(for f in "$work/s.hi2" "$work/s.hi3"; do "$B/lacre" decode "$f" || exit 1; done | python3 -c '
import json, sys
n = sum(1 for l in sys.stdin if json.loads(l).get("kind") != "keepalive")
assert n > 0
print(n)') || die "counting the mediator's PDUs"

# run UMASK: a fresh site laid out as deploy/ does, a receiver run as $IU
# under UMASK, then the keeper's user reads; sets W, rec_rc, aud_rc
run() {
	local umask_=$1 site=$work/site-$1
	vault_init "$site"
	W=$(vault_warrant "$site" LIID0001 2026-11-01 2027-01-31 content,iri) || die "warrant"
	cp "$INV_KEY" "$work/inv-$umask_.key"
	chown -R "$KU:$G" "$site" "$work/inv-$umask_.key"
	chmod 0750 "$site"; chmod 1770 "$site/ledger" "$site/objects"
	# tmpfiles.d's z line for objects/tlog (made by init's first access
	# event before objects/ was shared); seg/ the receiver makes itself
	[ -d "$site/objects/tlog" ] && chmod 1770 "$site/objects/tlog"
	# the spool: the receiver's (tmpfiles.d); state/: its StateDirectory;
	# ledger/ingest/ and ingest.key it makes itself in ledger/ (1770)
	mkdir -p "$site/state"
	chown -R "$IU:$G" "$site/spool" "$site/state"
	chmod 0750 "$site/spool" "$site/state"
	rm -f "$work/ready"
	( umask "$umask_"; exec ${LACRE_STRACE:+strace -f -e trace=%file -o $work/strace-$umask_} "$B/lacre" ingest --site "$site" --run-as "$IU" --hi2 127.0.0.1:0 \
		--hi3 127.0.0.1:0 --quiet --ready-file "$work/ready" ) 2>"$work/ingest-$umask_.err" &
	IPID=$!
	wait_file 60 "$work/ready" || { cat "$work/ingest-$umask_.err"; die "the receiver did not start"; }
	python3 "$top/tests/e2e/lib/send_streams.py" 2>"$work/send.err" "$(sed -n 's/^hi2=//p' "$work/ready")" \
		"$(sed -n 's/^hi3=//p' "$work/ready")" "$work/s.hi2" "$work/s.hi3" || { cat "$work/send.err" "$work/ingest-$umask_.err"; die "sending"; }
	kill -TERM "$IPID"; wait "$IPID" || { cat "$work/ingest-$umask_.err"; die "the receiver exited with $?"; }
	IPID=
	[ "$(stat -c %U "$site/ledger/ingest/state")" = "$IU" ] ||
		die "the ingest log's state is not the receiver's ($IU): $(ls -l "$site/ledger/ingest/state")"
	asku() { setpriv --reuid="$KU" --regid="$G" --clear-groups env LACRE_PASSPHRASE="$LACRE_PASSPHRASE" "$@"; }
	asku "$B/lacre" records --site "$site" --warrant "$W" --user "$work/inv-$umask_.key" \
		--justification "deploy_uids: the keeper reads the receiver's files" --json \
		>"$work/records-$umask_.out" 2>"$work/records-$umask_.err"
	rec_rc=$?
	asku "$B/lacre" audit --site "$site" >"$work/audit-$umask_.out" 2>&1
	aud_rc=$?
	SITE=$site
}

# 1-3. the unit's umask
run 0027
# 2. modes: what the keeper reads is group-readable, the secrets are not
bad=$(find "$SITE/objects" "$SITE/ledger/ingest" "$SITE/state" -newer "$work/s.hi2" \
	\( -type f ! -perm -g=r -print \) -o \( -type d ! -perm -g=rx -print \) |
	grep -v -e '/streams[^/]*\.state$' -e '/streams[^/]*\.state\.lock$' -e '/ledger/ingest/lock$' || true)
[ -z "$bad" ] || die "files the keeper must read are not group-readable: $bad"
nseg=$(find "$SITE/objects/seg" -type f | wc -l)
[ "$nseg" -ge 1 ] || die "no segment reached the dir: backend"
ls -l "$SITE/ledger/ingest.key" | grep -q '^-rw-------' || die "ingest.key is not 0600: $(ls -l "$SITE/ledger/ingest.key")"
for f in "$SITE"/state/streams*.state; do
	[ -f "$f" ] || continue
	[ "$(stat -c %a "$f")" = 600 ] || die "the stream state $f is not 0600"
done
echo "ok   the receiver ($IU, umask 0027) left $nseg segments and its ledger group-readable; ingest.key and the stream state 0600"
[ "$rec_rc" -eq 0 ] || { cat "$work/records-0027.err"; die "lacre records as the keeper's user: wanted exit 0, got $rec_rc"; }
n=$(python3 -c '
import json, sys
print(sum(1 for l in open(sys.argv[1]) if l.strip() and json.loads(l).get("kind") != "event"))' "$work/records-0027.out")
[ "$n" -eq "$sent" ] || die "lacre records as the keeper's user shows $n records, the mediator sent $sent PDUs (keep-alives aside)"
echo "ok   as the keeper's user ($KU): lacre records shows all $n records the mediator sent"
[ "$aud_rc" -eq 0 ] || { cat "$work/audit-0027.out"; die "lacre audit as the keeper's user: wanted exit 0, got $aud_rc"; }
echo "ok   as the keeper's user: lacre audit --site passes"

# 4. control: umask 0077 leaves the keeper out
run 0077
[ "$rec_rc" -eq 3 ] && grep -q "cannot read .*ledger/ingest/vkey: Permission denied" "$work/records-0077.err" || {
	cat "$work/records-0077.err"; die "control (umask 0077): wanted lacre records to refuse with exit 3 naming ledger/ingest/vkey: Permission denied, got $rec_rc"; }
echo "ok   control: under umask 0077 the keeper's user cannot read the receiver's files: lacre records refuses, exit 3, naming ledger/ingest/vkey (Permission denied), and shows nothing"
echo PASS
