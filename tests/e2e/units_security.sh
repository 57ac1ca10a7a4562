#!/usr/bin/env bash
# units_security.sh - the deployment units of deploy/ (docs/deploy.md):
#   1. `systemd-analyze security --offline=yes` scores each service unit;
#      the scores are printed, and a unit whose overall exposure is above
#      2.0 or whose level is worse than OK fails; the hardening directives
#      the design names are present in each unit (so a later edit cannot
#      drop one while the score still passes);
#   2. `systemd-analyze verify` (offline: the unit files themselves, with
#      ExecStart pointed at this build's binary) prints nothing and exits 0;
#      a deliberately broken unit makes it print (the check can fail);
#   3. the install in a scratch root: systemd-sysusers and systemd-tmpfiles
#      (--root) make the users, groups and folders; `lacre init` as the
#      keeper's user fills the site; tmpfiles again adjusts the receiver's
#      folders; owners and modes are those of docs/deploy.md;
#   4. the keeper, as its user in that site, unlocks with the passphrase
#      from a systemd credential ($CREDENTIALS_DIRECTORY/lacre-passphrase)
#      and no LACRE_PASSPHRASE; a wrong credential is exit 1 "wrong master
#      passphrase"; a symbolic link as the credential is exit 1;
#   5. the console (lacre-console.service): its user is in group lacre,
#      reads lacre.conf (users.log, made by the first user add, has the
#      same mode) but not master.age or the keystore;
#      run as that user with its certificate in its own state folder it
#      makes the certificate (key 0600) and answers GET / over HTTPS
#      (curl --cacert that certificate).
set -u
top=${LACRE_TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
work=$(mktemp -d /tmp/lacre-e2e-units-XXXXXX)
KPID= CPID=
trap '[ -n "$KPID" ] && kill $KPID 2>/dev/null; [ -n "$CPID" ] && kill $CPID 2>/dev/null; [ -n "${LACRE_KEEP_TMP:-}" ] && echo "kept $work" || rm -rf "$work"' EXIT
. "$top/tests/e2e/lib/vault.bash"
D=$top/deploy
for t in systemd-analyze systemd-sysusers systemd-tmpfiles setpriv; do
	command -v "$t" >/dev/null || die "$t is missing: install Debian's systemd (scripts/deps)"
done
fails=0
ok() { echo "ok   $*"; }
bad() { echo "FAIL $*"; fails=$((fails + 1)); }
units=(lacre-keeper lacre-ingest lacre-witness lacre-signer lacre-console)

# 1. exposure scores
for u in "${units[@]}"; do
	f=$D/systemd/$u.service
	[ -f "$f" ] || { bad "$f is missing"; continue; }
	systemd-analyze security --offline=yes --no-pager "$f" > "$work/$u.sec" 2>&1
	line=$(grep 'Overall exposure level' "$work/$u.sec")
	score=$(sed -n 's/.*: \([0-9][0-9.]*\) \([A-Z]*\).*/\1/p' <<< "$line")
	level=$(sed -n 's/.*: \([0-9][0-9.]*\) \([A-Z]*\).*/\2/p' <<< "$line")
	echo "score $u.service: ${score:-?} ${level:-?}"
	if [ -z "$score" ]; then
		cat "$work/$u.sec"; bad "$u: no overall exposure line"
	elif ! awk -v s="$score" 'BEGIN { exit !(s <= 2.0) }'; then
		grep '✗' "$work/$u.sec"; bad "$u: exposure $score is above 2.0"
	else
		case "$level" in
		OK|SAFE|PERFECT) ok "$u.service: exposure $score ($level)" ;;
		*) bad "$u: level $level is worse than OK" ;;
		esac
	fi
	miss=
	for d in '^ProtectSystem=strict$' '^PrivateTmp=yes$' '^PrivateDevices=yes$' '^NoNewPrivileges=yes$' \
		'^RestrictAddressFamilies=' '^SystemCallFilter=@system-service$' '^CapabilityBoundingSet=$' \
		'^MemoryDenyWriteExecute=yes$' '^LockPersonality=yes$' '^RestrictNamespaces=yes$' \
		'^ProtectKernelTunables=yes$' '^ProtectKernelModules=yes$' '^ProtectKernelLogs=yes$' \
		'^ProtectHome=yes$' '^UMask=00[27]7$' '^LimitCORE=0$' '^SystemCallArchitectures=native$'; do
		grep -Eq "$d" "$f" || miss="$miss $d"
	done
	[ -z "$miss" ] && ok "$u.service has every named hardening directive" || bad "$u.service lacks:$miss"
done
# what each may write and which user it is
grep -q '^ReadWritePaths=/var/lib/lacre$' "$D/systemd/lacre-keeper.service" &&
	grep -q '^LoadCredential=lacre-passphrase:' "$D/systemd/lacre-keeper.service" &&
	grep -q '^User=lacre-keeper$' "$D/systemd/lacre-keeper.service" &&
	ok "keeper: user lacre-keeper, writes the site, passphrase as a credential" || bad "keeper unit's user, paths or credential"
# the receiver alone keeps the group-read bit (the keeper reads its files:
# tests/e2e/deploy_uids.sh); every other unit 0077
for u in keeper witness signer console; do
	grep -q '^UMask=0077$' "$D/systemd/lacre-$u.service" || bad "lacre-$u.service: UMask is not 0077"
done
grep -q '^UMask=0027$' "$D/systemd/lacre-ingest.service" && ok "umask: the receiver 0027, every other unit 0077" ||
	bad "lacre-ingest.service: UMask is not 0027 (the keeper could not read its files)"
grep -q '^ReadWritePaths=/var/lib/lacre/spool /var/lib/lacre/ledger /var/lib/lacre/objects$' \
	"$D/systemd/lacre-ingest.service" &&
	grep -q '^InaccessiblePaths=.*keystore.*master.age' "$D/systemd/lacre-ingest.service" &&
	grep -q '^User=lacre-ingest$' "$D/systemd/lacre-ingest.service" &&
	ok "receiver: user lacre-ingest, writes spool, ledger, objects; keystore and master.age hidden" ||
	bad "receiver unit's user or paths"
grep -q '^StateDirectory=lacre-witness$' "$D/systemd/lacre-witness.service" &&
	! grep -q '^ReadWritePaths=' "$D/systemd/lacre-witness.service" &&
	grep -q '^User=lacre-witness$' "$D/systemd/lacre-witness.service" &&
	ok "witness: user lacre-witness, writes its state folder only" || bad "witness unit's user or paths"
grep -q '^StateDirectory=lacre-signer$' "$D/systemd/lacre-signer.service" &&
	! grep -q '^ReadWritePaths=' "$D/systemd/lacre-signer.service" &&
	grep -q '^PrivateNetwork=yes$' "$D/systemd/lacre-signer.service" &&
	grep -q '^User=lacre-signer$' "$D/systemd/lacre-signer.service" &&
	grep -q '^m lacre-ingest  *lacre-signer$' "$D/sysusers.d/lacre.conf" &&
	ok "signer: user lacre-signer, writes its state folder only, no network; the receiver is in its group" ||
	bad "signer unit's user, paths or group"
grep -q '^User=lacre-console$' "$D/systemd/lacre-console.service" &&
	grep -q '^Group=lacre$' "$D/systemd/lacre-console.service" &&
	grep -q '^StateDirectory=lacre-console$' "$D/systemd/lacre-console.service" &&
	! grep -q '^ReadWritePaths=' "$D/systemd/lacre-console.service" &&
	grep -q '^InaccessiblePaths=.*keystore.*master.age.*index.sqlite' "$D/systemd/lacre-console.service" &&
	grep -q '^IPAddressDeny=any$' "$D/systemd/lacre-console.service" &&
	ok "console: user lacre-console (group lacre), writes its state folder only, keys and index hidden, loopback peers only" ||
	bad "console unit's user, paths or address list"

# 2. systemd-analyze verify, offline
mkdir -p "$work/verify"
for u in "${units[@]}"; do
	sed "s#/usr/bin/lacre\([- ]\)#$B/lacre\1#" "$D/systemd/$u.service" > "$work/verify/$u.service"
	systemd-analyze verify --man=no "$work/verify/$u.service" > "$work/$u.ver" 2>&1; rc=$?
	[ "$rc" = 0 ] && [ ! -s "$work/$u.ver" ] && ok "systemd-analyze verify $u.service: exit 0, nothing to say" ||
		{ cat "$work/$u.ver"; bad "systemd-analyze verify $u.service: exit $rc"; }
done
printf '[Unit]\nDescription=broken\n[Service]\nExecStart=%s/lacre witness\nProtectSystem=sstrict\nNoSuchKey=1\n' \
	"$B" > "$work/verify/broken.service"
systemd-analyze verify --man=no "$work/verify/broken.service" > "$work/broken.ver" 2>&1
grep -q "NoSuchKey" "$work/broken.ver" && grep -q "sstrict" "$work/broken.ver" &&
	ok "verify reports a broken unit (the check can fail)" || { cat "$work/broken.ver"; bad "verify said nothing of a broken unit"; }

# 3. install into a scratch root
R=$work/root
mkdir -p "$R/etc"
systemd-sysusers --root="$R" "$D/sysusers.d/lacre.conf" > "$work/sysusers.out" 2>&1 ||
	{ cat "$work/sysusers.out"; die "systemd-sysusers"; }
uid() { awk -F: -v n="$1" '$1 == n { print $3 }' "$R/etc/passwd"; }
gid() { awk -F: -v n="$1" '$1 == n { print $3 }' "$R/etc/group"; }
pgid() { awk -F: -v n="$1" '$1 == n { print $4 }' "$R/etc/passwd"; }
KU=$(uid lacre-keeper) IU=$(uid lacre-ingest) WU=$(uid lacre-witness) G=$(gid lacre) WG=$(gid lacre-witness)
CU=$(uid lacre-console)
if [ -n "$CU" ] && [ "$(pgid lacre-console)" = "$G" ] && [ "$CU" != "$KU" ] && [ "$CU" != "$IU" ]; then
	ok "sysusers: console $CU, in group lacre, its own uid"
else
	bad "sysusers: the console's user (uid '${CU}', group $(pgid lacre-console))"
fi
if [ -n "$KU" ] && [ -n "$IU" ] && [ -n "$WU" ] && [ -n "$G" ] && [ -n "$WG" ] &&
	[ "$(pgid lacre-keeper)" = "$G" ] && [ "$(pgid lacre-ingest)" = "$G" ] && [ "$(pgid lacre-witness)" = "$WG" ] &&
	[ "$KU" != "$IU" ] && [ "$KU" != "$WU" ] && [ "$IU" != "$WU" ] && [ "$G" != "$WG" ]; then
	ok "sysusers: keeper $KU, receiver $IU (group lacre $G), witness $WU (its own group $WG)"
else
	cat "$R/etc/passwd" "$R/etc/group"; bad "sysusers users and groups"
fi
systemd-tmpfiles --create --root="$R" "$D/tmpfiles.d/lacre.conf" > "$work/tmpfiles.out" 2>&1 ||
	{ cat "$work/tmpfiles.out"; bad "systemd-tmpfiles (before init)"; }
site=$R/var/lib/lacre
own() { stat -c '%a %u %g' "$1"; }
[ "$(own "$site")" = "750 $KU $G" ] && [ -z "$(ls -A "$site")" ] &&
	[ "$(own "$R/etc/lacre/credentials")" = "700 0 0" ] &&
	ok "tmpfiles: the site folder (750 keeper:lacre, empty) and /etc/lacre/credentials (700 root)" ||
	bad "tmpfiles before init: site $(own "$site"), credentials $(own "$R/etc/lacre/credentials" 2>&1)"
askeeper() { setpriv --reuid="$KU" --regid="$G" --clear-groups "$@"; }
chmod 711 "$work" "$R" "$R/var" "$R/var/lib"
askeeper "$B/lacre" init "$site" --hi2 127.0.0.1:7 --hi3 127.0.0.1:9 > "$work/init.out" 2>&1 ||
	{ cat "$work/init.out"; die "lacre init as the keeper's user"; }
askeeper install -d -m 1770 "$site/ledger" || die "the ledger folder"
systemd-tmpfiles --create --root="$R" "$D/tmpfiles.d/lacre.conf" > "$work/tmpfiles2.out" 2>&1 ||
	{ cat "$work/tmpfiles2.out"; bad "systemd-tmpfiles (after init)"; }
[ "$(own "$site/spool")" = "750 $IU $G" ] && [ "$(own "$site/ledger")" = "1770 $KU $G" ] &&
	[ "$(own "$site/objects")" = "1770 $KU $G" ] && [ "$(own "$site/master.age")" = "600 $KU $G" ] &&
	[ "$(own "$site/keystore")" = "700 $KU $G" ] &&
	ok "after init and tmpfiles: spool 750 receiver's; ledger, objects 1770 keeper's (sticky); master.age 600 and keystore 700 keeper's" ||
	bad "modes after init: spool $(own "$site/spool"), ledger $(own "$site/ledger"), objects $(own "$site/objects")"
# the receiver's user reads the public configuration, not the keys
asingest() { setpriv --reuid="$IU" --regid="$G" --clear-groups "$@"; }
asingest cat "$site/lacre.conf" > /dev/null 2>&1 && asingest cat "$site/warrants.log" > /dev/null 2>&1 &&
	! asingest cat "$site/master.age" > /dev/null 2>&1 && ! asingest ls "$site/keystore" > /dev/null 2>&1 &&
	asingest touch "$site/spool/probe" && ! asingest touch "$site/probe" 2>/dev/null &&
	ok "the receiver's user reads lacre.conf and warrants.log, writes its spool, not master.age, the keystore or the site folder" ||
	bad "the receiver's user's access"

# the console's user reads the public site data, not the keys
asconsole() { setpriv --reuid="$CU" --regid="$G" --clear-groups "$@"; }
asconsole cat "$site/lacre.conf" > /dev/null 2>&1 &&
	! asconsole cat "$site/master.age" > /dev/null 2>&1 && ! asconsole ls "$site/keystore" > /dev/null 2>&1 &&
	! asconsole touch "$site/probe" 2>/dev/null &&
	ok "the console's user reads lacre.conf, not master.age or the keystore, writes nothing of the site" ||
	bad "the console's user's access"

# 4. the keeper unlocks from a systemd credential, as its user
C=$work/cred
mkdir -m 700 "$C"
printf '%s\n' "$LACRE_PASSPHRASE" > "$C/lacre-passphrase"
chmod 400 "$C/lacre-passphrase"
chown -R "$KU" "$C"
mkdir -m 700 "$work/krun" && chown "$KU" "$work/krun"
# setpriv and env exec: $! is the keeper itself
setpriv --reuid="$KU" --regid="$G" --clear-groups env -u LACRE_PASSPHRASE CREDENTIALS_DIRECTORY="$C" \
	"$B/lacre" keeper --site "$site" --ready-file "$work/krun/ready" 2> "$work/keeper.err" &
KPID=$!
if wait_file 30 "$work/krun/ready"; then
	ok "the keeper ($KU) unlocked with the passphrase from \$CREDENTIALS_DIRECTORY/lacre-passphrase"
else
	cat "$work/keeper.err"; bad "the keeper did not start from the credential"
fi
# the console as its user, its certificate in its own state folder (the
# unit's CONSOLE_ARGS): it starts, makes the certificate and answers HTTPS
if [ -x "$B/lacre-console" ] && command -v curl >/dev/null; then
	CS=$R/var/lib/lacre-console
	mkdir -p -m 700 "$CS" && chown "$CU:$G" "$CS"
	# setpriv execs the console: $! is the console itself (through the shell
	# function it would be a subshell, and the console would outlive the test)
	setpriv --reuid="$CU" --regid="$G" --clear-groups "$B/lacre-console" --site "$site" \
		--cert "$CS/cert.pem" --key "$CS/key.pem" --web "$top/web" \
		--listen 127.0.0.1:0 --ready-file "$CS/ready" --quiet 2> "$work/console.err" &
	CPID=$!
	if wait_file 30 "$CS/ready"; then
		CURL=$(sed -n 's/^url=//p' "$CS/ready")
		code=$(curl -s -o "$work/index.html" -w '%{http_code}' --cacert "$CS/cert.pem" "$CURL" 2>&1)
		[ "$code" = 200 ] && grep -qi '<html' "$work/index.html" &&
			[ "$(stat -c '%a %u' "$CS/key.pem")" = "600 $CU" ] &&
			ok "the console ($CU) made its certificate in its state folder (key 600) and answers $CURL (200)" ||
			{ cat "$work/console.err"; bad "the console as its user: GET / gave '$code'"; }
	else
		cat "$work/console.err"; bad "the console did not start as its user"
	fi
	kill -TERM "$CPID" 2>/dev/null; wait "$CPID"; CPID=
else
	bad "build/bin/lacre-console or curl missing: cannot run the console as its user"
fi
kill -TERM "$KPID" 2>/dev/null
wait "$KPID"; rc=$?
KPID=
[ "$rc" = 0 ] || bad "the keeper exited $rc after SIGTERM"
chmod 600 "$C/lacre-passphrase"
printf 'not the passphrase\n' > "$C/lacre-passphrase"
expect_exit 1 "wrong master passphrase for site $site" askeeper env -u LACRE_PASSPHRASE CREDENTIALS_DIRECTORY="$C" \
	"$B/lacre" keeper --site "$site" --ready-file "$work/krun/ready2" &&
	ok "a wrong passphrase in the credential: exit 1" || bad "a wrong credential"
rm -f "$C/lacre-passphrase"
printf '%s\n' "$LACRE_PASSPHRASE" > "$work/elsewhere"
ln -s "$work/elsewhere" "$C/lacre-passphrase"
expect_exit 1 "cannot read the master passphrase" askeeper env -u LACRE_PASSPHRASE CREDENTIALS_DIRECTORY="$C" \
	"$B/lacre" keeper --site "$site" --ready-file "$work/krun/ready3" &&
	ok "a symbolic link as the credential: exit 1, not followed" || bad "a symlinked credential"

[ "$fails" -eq 0 ] || { echo "FAIL: $fails check(s) failed"; exit 1; }
echo "PASS: units_security"
