# console_site.bash - the setup the web console's browser tests share
# (tests/e2e/console.sh: Chromium; console_firefox.sh: Firefox), sourced
# after vault.bash (needs top, work, B, L, CONSOLE, die, ok, wait_file):
#   console_site           a site with one call of warrant W1 (unit UCO-1)
#                          and a user inv2 of unit UCO-2
#   console_keeper X       the keeper, as a system user of its own that owns
#                          the site, and a warrant W2 of UCO-2 added through it
#   console_start          lacre-console as ANOTHER uid of the site's group,
#                          which can read no key; its URL and certificate
#   console_cleanup        the EXIT trap: stops them, removes the users
# The system users and group are named X{k,c,g}$$ (X: one letter per test,
# so two tests never share a name).
IPID='' KPID='' CPID='' KUSER='' OUSER='' SGROUP=''

# console_cleanup: stops ingest, the console and the keeper, removes the
# users and the group made here, and $work unless LACRE_KEEP_TMP is set.
console_cleanup() {
	[ -n "$IPID" ] && kill "$IPID" 2>/dev/null
	[ -n "$CPID" ] && kill "$CPID" 2>/dev/null && wait "$CPID" 2>/dev/null
	[ -n "$KPID" ] && kill "$KPID" 2>/dev/null && wait "$KPID" 2>/dev/null
	[ -n "$KUSER" ] && userdel "$KUSER" 2>/dev/null
	[ -n "$OUSER" ] && userdel "$OUSER" 2>/dev/null
	[ -n "$SGROUP" ] && groupdel "$SGROUP" 2>/dev/null
	if [ -n "${LACRE_KEEP_TMP:-}" ]; then echo "kept $work"; else rm -rf "$work"; fi
}

# console_site: sets site (exported as LACRE_SITE), INV2_KEY, W1 and the
# keys of vault_users; the call is lacre-mediator's --seed 7 (the bootstrap
# of the first admin needs the passphrase, still set here).
console_site() {
	site=$work/site
	vault_init "$site"
	export LACRE_SITE=$site
	INV2_KEY=$work/keys-site/inv2.key
	"$L" user add inv2 --role investigator --unit UCO-2 -o "$INV2_KEY" --user "$ADMIN_KEY" >/dev/null ||
		die "user add inv2"
	W1=$(vault_warrant "$site" LIID0001 2026-11-01 2027-01-31 content,iri,location) || die "warrant 1"
	# --cell: the session's IPIRIs carry a TAI and an ECGI (location [24])
	"$B/lacre-mediator" --output "$work/s" --targets 1 --calls 1 --sessions 1 --seed 7 \
		--cell 214-01-1a2b-0a1b2c0 --start-time 2026-11-28T10:00:00Z >/dev/null 2>&1 || die "mediator --output"
	vault_ingest_start "$site" run1
	python3 "$top/tests/e2e/lib/send_streams.py" "$HI2" "$HI3" "$work/s.hi2" "$work/s.hi3" || die "sending"
	vault_ingest_stop run1
	IPID=
}

# console_keeper X: the keeper's user owns the site; the console's user is
# another uid of its group.  Sets KUSER OUSER SGROUP KPID, J (the
# justification) and W2; unsets LACRE_PASSPHRASE and LACRE_USER.
console_keeper() {
	KUSER=${1}k$$; OUSER=${1}c$$; SGROUP=${1}g$$
	groupadd --system "$SGROUP" || die "groupadd $SGROUP"
	useradd --system --no-create-home --shell /usr/sbin/nologin -g "$SGROUP" "$KUSER" || die "useradd $KUSER"
	useradd --system --no-create-home --shell /usr/sbin/nologin -g "$SGROUP" "$OUSER" || die "useradd $OUSER"
	chown -R "$KUSER:$SGROUP" "$site"
	chmod 755 "$site"
	mkdir -m 700 "$work/run" && chown "$KUSER" "$work/run"
	printf '%s\n' "$LACRE_PASSPHRASE" > "$work/run/pass"
	chown "$KUSER" "$work/run/pass"; chmod 600 "$work/run/pass"
	env -u LACRE_PASSPHRASE setpriv --reuid="$KUSER" --regid="$SGROUP" --clear-groups \
		"$L" keeper --site "$site" --passphrase-file "$work/run/pass" --ready-file "$work/run/ready" \
		2>"$work/keeper.err" &
	KPID=$!
	wait_file 20 "$work/run/ready" || { cat "$work/keeper.err"; die "the keeper did not start"; }
	unset LACRE_PASSPHRASE LACRE_USER
	J="Diligencias 12/2026: review of the intercepted calls"
	# a warrant of UCO-2, through the keeper: inv (UCO-1) must not see it
	W2=$("$L" warrant add --user "$ADMIN_KEY" --case CASE-2 --unit UCO-2 --court JI-5-Madrid \
		--order ORD-2 --order-date 2026-11-01 --to 2027-01-31 --categories iri --target t2 \
		--liid LIID0009 --json 2>"$work/wa.err" | python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])') ||
		die "warrant add through the keeper: $(cat "$work/wa.err")"
}

# asconsole CMD...: runs CMD as the console's user.
asconsole() { setpriv --reuid="$OUSER" --regid="$SGROUP" --clear-groups "$@"; }

# console_start: the console, as the other uid (which must not read
# master.age), on a free loopback port; it makes its self-signed P-256
# certificate.  Sets CPID, URL, FPR (the certificate's SHA-256, checked
# against $work/console/cert.pem) and SPKI (its public key's, base64).
console_start() {
	mkdir -m 700 "$work/console" && chown "$OUSER" "$work/console"
	asconsole cat "$site/master.age" >/dev/null 2>&1 && die "the console's user can read master.age"
	# setpriv directly, not asconsole: CPID must be the process that
	# becomes the console (it execs it), for SIGTERM and wait
	setpriv --reuid="$OUSER" --regid="$SGROUP" --clear-groups "$CONSOLE" --site "$site" --listen 127.0.0.1:0 --web "$top/web" \
		--cert "$work/console/cert.pem" --key "$work/console/key.pem" \
		--ready-file "$work/console/ready" 2>"$work/console.err" &
	CPID=$!
	wait_file 20 "$work/console/ready" || { cat "$work/console.err"; die "the console did not start"; }
	URL=$(sed -n 's/^url=//p' "$work/console/ready")
	case "$URL" in https://127.0.0.1:[0-9]*/) ;; *) die "console url: $URL" ;; esac
	FPR=$(sed -n 's/.*certificate SHA-256 fingerprint \([0-9a-f]\{64\}\)$/\1/p' "$work/console.err")
	SPKI=$(sed -n 's/.*public key SHA-256 (base64) \(.*\)$/\1/p' "$work/console.err")
	[ -n "$FPR" ] && [ -n "$SPKI" ] || { cat "$work/console.err"; die "no fingerprint printed"; }
	grep -q "made a self-signed certificate" "$work/console.err" || die "no certificate made"
	local want
	want=$(openssl x509 -in "$work/console/cert.pem" -outform DER | sha256sum | cut -d' ' -f1)
	[ "$want" = "$FPR" ] || die "printed fingerprint $FPR, certificate's $want"
	openssl x509 -in "$work/console/cert.pem" -noout -text | grep -q "ASN1 OID: prime256v1" ||
		die "the certificate is not P-256"
	[ "$(stat -c %a "$work/console/key.pem")" = 600 ] || die "key.pem mode $(stat -c %a "$work/console/key.pem")"
	ok "lacre-console (uid $(id -u "$OUSER")) on $URL, self-signed P-256, fingerprint $FPR"
}
