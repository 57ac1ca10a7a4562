#!/usr/bin/env bash
# confine.sh - the receiver cell is confined (issue 11, lib/ingest/confine.c,
# docs/cmd-ingest.md "Confinement"):
#   1. the probe hook (LACRE_TEST_CONFINE=1 LACRE_CONFINE_PROBE=PORT), run
#      after confinement, is refused each of: reading /etc/shadow and SITE/master.age,
#      listing the keystore, reading a keystore file, connecting to a live
#      TCP listener on 127.0.0.1; and is killed by SIGSYS (exit 159) when it
#      tries to exec /bin/true.  Once as root (only Landlock stands between
#      uid 0 and root's own 0600 files) and once as its own user (--run-as);
#   2. the same probe with --no-confine reads master.age and runs /bin/true
#      (exit 0): the probe itself can see a missing confinement;
#   3. a normal run as its own user, confined, seals and uploads (dir:
#      backend): every record of the warrant reads back byte-identical;
#      /proc shows the user, NoNewPrivs 1, Seccomp 2 and no capability; the
#      start line and --stats report the confinement;
#   4. a kernel without Landlock (simulated: LACRE_TEST_NO_LANDLOCK=1) is
#      said once on stderr and in --stats ("landlock":"unavailable");
#   5. lacre.conf ingest.user: started as root without --run-as the
#      receiver becomes that user; --run-as wins; a missing user or a
#      malformed name is exit 2; --no-confine keeps root.
# Run as root (CI is): it creates the system user lacre-ingest-test.
set -u
top=${LACRE_TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
work=$(mktemp -d /tmp/lacre-e2e-confine-XXXXXX)
IPID= LPID=
trap '[ -n "$IPID" ] && kill $IPID 2>/dev/null; [ -n "$LPID" ] && kill $LPID 2>/dev/null; [ -n "${LACRE_KEEP_TMP:-}" ] && echo "kept $work" || rm -rf "$work"' EXIT
. "$top/tests/e2e/lib/vault.bash"
command -v python3 >/dev/null || { echo "python3 missing"; exit 77; }
[ "$(id -u)" -eq 0 ] || { echo "not root: cannot create the receiver's user nor test --run-as"; exit 77; }
command -v useradd >/dev/null || die "useradd missing (Debian: passwd)"

U=lacre-ingest-test
id "$U" >/dev/null 2>&1 || useradd --system --no-create-home --shell /usr/sbin/nologin "$U" ||
	die "useradd $U"
UID_U=$(id -u "$U") GID_U=$(id -g "$U")

site=$work/site
vault_init "$site"
W1=$(vault_warrant "$site" LIID0001 2026-11-01 2027-01-31 content,iri) || die "warrant"
"$B/lacre-mediator" --output "$work/s" --targets 1 --calls 4 --sessions 2 --seed 7 \
	--start-time 2026-11-28T10:00:00Z >/dev/null 2>&1 || die "lacre-mediator --output"
[ -f "$site/master.age" ] && [ -d "$site/keystore" ] || die "the site has no master.age or keystore to probe"
ks_file=oversight.key   # the probe reads this one (lib/ingest/confine.c)
[ -f "$site/keystore/$ks_file" ] || die "the keystore has no $ks_file to probe"

# a live listener the probe must not reach (a refusal is not ECONNREFUSED)
python3 -c '
import socket, sys, time
s = socket.socket(); s.bind(("127.0.0.1", 0)); s.listen(8)
open(sys.argv[1] + ".tmp", "w").write(str(s.getsockname()[1])); __import__("os").rename(sys.argv[1] + ".tmp", sys.argv[1])
time.sleep(600)' "$work/lport" &
LPID=$!
wait_file 10 "$work/lport" || die "the probe's target listener did not start"
LPORT=$(cat "$work/lport")

# probe NAME [ingest options...]: run the probe; status in $rc, stderr in $work/probe-NAME.err
probe() {
	local name=$1; shift
	LACRE_TEST_CONFINE=1 LACRE_CONFINE_PROBE=$LPORT timeout 60 "$B/lacre" ingest --site "$site" \
		--hi2 127.0.0.1:0 --hi3 127.0.0.1:0 --quiet "$@" </dev/null >/dev/null 2>"$work/probe-$name.err"
	rc=$?
}
# refused NAME WHAT REASON: the probe NAME printed "WHAT: refused (REASON)"
refused() {
	grep -qF "confine-probe: $2: refused ($3)" "$work/probe-$1.err" && return 0
	echo "FAIL: probe $1: '$2' was not refused with '$3'; stderr:"; cat "$work/probe-$1.err"
	return 1
}
# probe_confined NAME: every attempt refused, killed by SIGSYS at the exec
probe_confined() {
	local n=$1 fail=0
	refused "$n" "open /etc/shadow" "Permission denied" || fail=1
	refused "$n" "open $site/master.age" "Permission denied" || fail=1
	refused "$n" "list $site/keystore" "Permission denied" || fail=1
	refused "$n" "open $site/keystore/$ks_file" "Permission denied" || fail=1
	refused "$n" "connect 127.0.0.1:$LPORT" "Address family not supported by protocol" || fail=1
	grep -qF "confine-probe: exec /bin/true: trying" "$work/probe-$n.err" || { echo "FAIL: probe $n never tried the exec"; fail=1; }
	grep -q "ALLOWED" "$work/probe-$n.err" && { echo "FAIL: probe $n: something was allowed"; fail=1; }
	[ "$rc" -eq 159 ] || { echo "FAIL: probe $n: wanted death by SIGSYS (exit 159: the exec killed by seccomp), got exit $rc"; cat "$work/probe-$n.err"; fail=1; }
	[ $fail -eq 0 ] && echo "ok   probe $n: /etc/shadow, master.age, keystore, keystore/$ks_file, connect 127.0.0.1:$LPORT refused; exec killed (SIGSYS, exit 159)"
	return $fail
}

# 1a. as root: Landlock alone keeps root out of its own 0600 files
probe root
probe_confined root || die "the confined receiver (root) reached something it must not"

# the receiver's own user: its folders (docs/cmd-ingest.md), the site's
# group for reaching them (as deploy/tmpfiles.d does with group lacre)
chgrp "$GID_U" "$work" "$site" "$site/ledger" && chmod 0750 "$work" "$site" && chmod 1770 "$site/ledger" ||
	die "cannot give the site's group to $U"
chown -R "$U" "$site/spool" "$site/objects" "$site/state" "$site/ledger/ingest" "$site/ledger/ingest.key" ||
	die "cannot give the receiver's folders to $U"

# 1b. as its own user
probe user --run-as "$U"
probe_confined user || die "the confined receiver ($U) reached something it must not"

# 1c. started by the user itself (no root, no --run-as; a raw spool): the
# same refusals, the filter kills the exec
if command -v setpriv >/dev/null; then
	mkdir -m 0777 "$work/userspool"
	LACRE_TEST_CONFINE=1 LACRE_CONFINE_PROBE=$LPORT timeout 60 setpriv --reuid="$UID_U" --regid="$GID_U" \
		--clear-groups "$B/lacre" ingest --spool "$work/userspool/s" --hi2 127.0.0.1:0 --quiet \
		</dev/null >/dev/null 2>"$work/probe-self.err"
	rc=$?
	refused self "open /etc/shadow" "Permission denied" &&
		refused self "connect 127.0.0.1:$LPORT" "Address family not supported by protocol" &&
		! grep -q ALLOWED "$work/probe-self.err" && [ "$rc" -eq 159 ] ||
		{ cat "$work/probe-self.err"; die "started as $U: wanted every probe refused and SIGSYS (exit 159), got exit $rc"; }
	echo "ok   started as $U itself: /etc/shadow, connect refused; exec killed (SIGSYS, exit 159)"
else
	die "setpriv missing (Debian: util-linux): cannot start the receiver as $U"
fi

# 2. the probe sees an unconfined receiver: it reads master.age, runs /bin/true
probe open --no-confine
grep -qF "confine-probe: open $site/master.age: ALLOWED" "$work/probe-open.err" && [ "$rc" -eq 0 ] ||
	{ cat "$work/probe-open.err"; die "probe --no-confine: wanted master.age ALLOWED and exit 0 (/bin/true ran), got exit $rc"; }
grep -qF "ingest: WARNING: --no-confine" "$work/probe-open.err" || die "--no-confine did not say so"
echo "ok   probe --no-confine: master.age ALLOWED, /bin/true ran (exit 0): the probe detects no confinement"

# 3. a confined run as its own user seals and uploads
vault_ingest_start "$site" run1 --run-as "$U" --stats "$work/stats-run1.json"
st=/proc/$IPID/status
grep -q "^Uid:[[:space:]]*$UID_U[[:space:]]*$UID_U[[:space:]]*$UID_U[[:space:]]*$UID_U" "$st" || { cat "$st"; die "the receiver does not run as $U ($UID_U)"; }
grep -q "^NoNewPrivs:[[:space:]]*1" "$st" || die "NoNewPrivs is not 1"
grep -q "^Seccomp:[[:space:]]*2" "$st" || die "Seccomp is not 2 (filter)"
grep -q "^CapEff:[[:space:]]*0000000000000000" "$st" && grep -q "^CapPrm:[[:space:]]*0000000000000000" "$st" ||
	die "the receiver kept capabilities"
echo "ok   /proc/$IPID/status: uid $UID_U, NoNewPrivs 1, Seccomp 2, no capability"
python3 "$top/tests/e2e/lib/send_streams.py" "$HI2" "$HI3" "$work/s.hi2" "$work/s.hi3" || die "sending"
vault_ingest_stop run1
"$B/lacre" records --site "$site" --warrant "$W1" --justification "e2e: confined receiver" --json \
	> "$work/rec.jsonl" 2>"$work/rec.err" || { cat "$work/rec.err"; die "records $W1"; }
"$B/lacre" decode "$work/s.hi2" > "$work/d.hi2.jsonl" || die "decode hi2"
"$B/lacre" decode "$work/s.hi3" > "$work/d.hi3.jsonl" || die "decode hi3"
python3 - "$work" "$W1" "$UID_U" "$U" <<'PY' || die "the confined run did not seal what was sent"
import json, os, sys
sys.path.insert(0, os.environ['LACRE_E2E_LIB'])
from sent import sent_pdus, load, pdus
work, w1, uid, user = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
sent = sorted(b for _, _, b in sent_pdus(work).get('LIID0001', []))
r1 = load(f'{work}/rec.jsonl')
ok = len(sent) > 0 and pdus(r1) == sent
print(('ok   ' if ok else 'FAIL ') + f'{len(r1)} records of {w1} byte-identical to the {len(sent)} sent')
st = json.load(open(f'{work}/stats-run1.json'))
c = st.get('confinement', {})
want = {'enabled': True, 'user': user, 'uid': uid, 'no_new_privs': True, 'seccomp': 'kill-process',
        'capabilities': 'none'}
good = all(c.get(k) == x for k, x in want.items()) and (isinstance(c.get('landlock'), int) and c['landlock'] >= 1)
print(('ok   ' if good else 'FAIL ') + f'--stats confinement: {c}')
sys.exit(0 if ok and good else 1)
PY
# the sealed segments reached the dir: backend, written by the confined user
segs=$(find "$site/objects" -type f -user "$U" | wc -l)
[ "$segs" -gt 0 ] || die "nothing uploaded to the dir: backend by $U"
echo "ok   $segs objects uploaded to the dir: backend by $U"
grep -q "\"landlock\":" "$work/stats-run1.json" || die "no landlock in --stats"

# the start line names the confinement (not --quiet)
timeout 30 "$B/lacre" ingest --site "$site" --hi2 127.0.0.1:0 --hi3 127.0.0.1:0 --run-as "$U" --duration 1 \
	</dev/null >/dev/null 2>"$work/start.err" || { cat "$work/start.err"; die "a 1 s run failed"; }
grep -qE "^lacre: ingest: confinement: user $U \(uid $UID_U, gid $GID_U\), no capabilities, no_new_privs 1, seccomp filter \(kill-process\), landlock ABI [0-9]+" "$work/start.err" ||
	{ cat "$work/start.err"; die "the start line does not report the confinement"; }
echo "ok   start line: $(grep confinement: "$work/start.err")"

# 4. no Landlock in the kernel: said once, and in --stats
LACRE_TEST_CONFINE=1 LACRE_TEST_NO_LANDLOCK=1 timeout 30 "$B/lacre" ingest --site "$site" --run-as "$U" \
	--hi2 127.0.0.1:0 --hi3 127.0.0.1:0 --quiet --duration 1 --stats "$work/stats-noll.json" \
	</dev/null >/dev/null 2>"$work/noll.err" || { cat "$work/noll.err"; die "the run without Landlock failed"; }
[ "$(grep -c "landlock is unavailable" "$work/noll.err")" -eq 1 ] || { cat "$work/noll.err"; die "wanted one 'landlock is unavailable' line"; }
grep -qF '"landlock":"unavailable"' "$work/stats-noll.json" || die "--stats lacks \"landlock\":\"unavailable\""
echo "ok   no Landlock: one stderr line, \"landlock\":\"unavailable\" in --stats"

# 5. ingest.user in lacre.conf: the user a receiver started as root becomes
# when no --run-as is given; --run-as wins; a missing or malformed name is
# a usage error (exit 2); --no-confine keeps root (and says so)
conf=$site/lacre.conf
cp -p "$conf" "$work/lacre.conf.orig"
set_user() { sed -i "s/^ingest\.user =.*/ingest.user = $1/" "$conf" && grep -qx "ingest.user = $1" "$conf" ||
	die "cannot set ingest.user in $conf"; }
grep -qx 'ingest.user =' "$conf" || die "lacre init did not write an empty ingest.user key"
set_user "$U"
timeout 30 "$B/lacre" ingest --site "$site" --hi2 127.0.0.1:0 --hi3 127.0.0.1:0 --duration 1 \
	</dev/null >/dev/null 2>"$work/iu.err" || { cat "$work/iu.err"; die "a 1 s run with ingest.user = $U failed"; }
grep -qE "^lacre: ingest: confinement: user $U \(uid $UID_U, gid $GID_U\)" "$work/iu.err" ||
	{ cat "$work/iu.err"; die "ingest.user = $U: the receiver did not become $U"; }
echo "ok   ingest.user = $U, no --run-as: $(grep -o "confinement: user [^,]*" "$work/iu.err")"
set_user lacre-no-such-user
timeout 30 "$B/lacre" ingest --site "$site" --hi2 127.0.0.1:0 --hi3 127.0.0.1:0 --duration 1 --run-as "$U" \
	</dev/null >/dev/null 2>"$work/iu2.err" || { cat "$work/iu2.err"; die "--run-as $U beside ingest.user failed"; }
grep -qE "^lacre: ingest: confinement: user $U \(uid $UID_U," "$work/iu2.err" ||
	{ cat "$work/iu2.err"; die "--run-as did not win over ingest.user"; }
echo "ok   --run-as $U wins over ingest.user = lacre-no-such-user"
expect_exit 2 "no user 'lacre-no-such-user': create it (useradd --system lacre-no-such-user) or fix --run-as or ingest.user" \
	"$B/lacre" ingest --site "$site" --hi2 127.0.0.1:0 --hi3 127.0.0.1:0 --quiet --duration 1 ||
	die "ingest.user of a missing user"
timeout 30 "$B/lacre" ingest --site "$site" --hi2 127.0.0.1:0 --hi3 127.0.0.1:0 --duration 1 --no-confine \
	</dev/null >/dev/null 2>"$work/iu3.err" || { cat "$work/iu3.err"; die "--no-confine beside ingest.user failed"; }
grep -qF "ingest: WARNING: --no-confine" "$work/iu3.err" && ! grep -q "confinement: user" "$work/iu3.err" ||
	{ cat "$work/iu3.err"; die "--no-confine with ingest.user: wanted the warning and no user change"; }
set_user -x
expect_exit 2 "ingest.user: '-x' is not a user name" "$B/lacre" ingest --site "$site" --hi2 127.0.0.1:0 \
	--hi3 127.0.0.1:0 --quiet --duration 1 || die "a malformed ingest.user"
cp -p "$work/lacre.conf.orig" "$conf"
echo "ok   ingest.user: a missing user (exit 2, names ingest.user), --no-confine keeps root, '-x' refused (exit 2)"

# a wrong --run-as is a usage error that says what to do
expect_exit 2 "no user 'lacre-no-such-user'" "$B/lacre" ingest --site "$site" --hi2 127.0.0.1:0 \
	--hi3 127.0.0.1:0 --quiet --duration 1 --run-as lacre-no-such-user || die "--run-as of a missing user"
expect_exit 2 "is root" "$B/lacre" ingest --site "$site" --hi2 127.0.0.1:0 \
	--hi3 127.0.0.1:0 --quiet --duration 1 --run-as root || die "--run-as root"
expect_exit 2 "--run-as and --no-confine together" "$B/lacre" ingest --site "$site" --hi2 127.0.0.1:0 \
	--hi3 127.0.0.1:0 --quiet --duration 1 --run-as "$U" --no-confine || die "--run-as with --no-confine"
echo "ok   --run-as: a missing user, root, and with --no-confine refused (exit 2)"
echo "confine: all checks passed"
