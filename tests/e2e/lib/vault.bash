# vault.bash - helpers for the sealed-vault end-to-end tests (sourced).
# Needs: top, work (a scratch folder).  Sets B (binaries folder) and
# EXPECT_DIR=$work for the checks of check.bash (sourced here).
B="$top/build/bin"
. "$top/tests/e2e/lib/check.bash"
EXPECT_DIR=$work
export LACRE_PASSPHRASE=e2e-master-passphrase LACRE_SCRYPT_LOG2N=10
export LACRE_E2E_LIB="$top/tests/e2e/lib"   # python helpers (sent.py)
die() { echo "FAIL: $*"; exit 1; }

# vault_init SITE [init options...]: a new site with listeners on port 0 and
# its users (vault_users).
vault_init() {
	local site=$1; shift
	"$B/lacre" init "$site" --hi2 127.0.0.1:7 --hi3 127.0.0.1:9 "$@" >/dev/null ||
		die "lacre init failed"
	vault_users "$site"
}

# vault_warrant SITE LIID FROM TO CATEGORIES -> prints the warrant id
vault_warrant() {
	local site=$1 liid=$2 from=$3 to=$4 cats=$5
	"$B/lacre" warrant add --site "$site" --user "$ADMIN_KEY" --case "CASE-$liid" --unit UCO-1 --court "JI-5-Madrid" \
		--order "ORD-$liid" --order-date "$from" --from "$from" --to "$to" \
		--categories "$cats" --target "target-$liid" --liid "$liid" --json |
		python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])'
}

# vault_ingest_start SITE NAME [ingest options...]: starts ingest on free
# ports; sets IPID, HI2, HI3.
vault_ingest_start() {
	local site=$1 name=$2; shift 2
	rm -f "$work/ready-$name"
	"$B/lacre" ingest --site "$site" --hi2 127.0.0.1:0 --hi3 127.0.0.1:0 --quiet \
		--ready-file "$work/ready-$name" "$@" 2>"$work/ingest-$name.err" &
	IPID=$!
	wait_file 60 "$work/ready-$name" || { cat "$work/ingest-$name.err"; die "ingest $name did not start"; }
	HI2=$(sed -n 's/^hi2=//p' "$work/ready-$name")
	HI3=$(sed -n 's/^hi3=//p' "$work/ready-$name")
}

# vault_ingest_stop NAME: SIGTERM and wait; fails on a non-zero exit.
vault_ingest_stop() {
	kill -TERM "$IPID"
	wait "$IPID" || { cat "$work/ingest-$1.err"; die "ingest $1 exited with $?"; }
}

# vault_users SITE: the site's users (docs/access.md), keys in $work/keys-<site name>:
# admin (bootstrap, with the master passphrase), inv and sup (investigator and
# supervisor of unit UCO-1, the unit of vault_warrant), clerk, auditor.  Sets
# ADMIN_KEY INV_KEY SUP_KEY CLERK_KEY AUDITOR_KEY and exports LACRE_USER=$INV_KEY.
vault_users() {
	local site=$1 k
	k="$work/keys-$(basename "$site")"
	mkdir -p "$k"
	ADMIN_KEY=$k/admin.key INV_KEY=$k/inv.key SUP_KEY=$k/sup.key CLERK_KEY=$k/clerk.key
	AUDITOR_KEY=$k/auditor.key
	"$B/lacre" user add admin --site "$site" --role admin -o "$ADMIN_KEY" >/dev/null ||
		die "lacre user add admin (bootstrap) failed"
	"$B/lacre" user add inv --site "$site" --role investigator --unit UCO-1 -o "$INV_KEY" \
		--user "$ADMIN_KEY" >/dev/null || die "user add inv"
	"$B/lacre" user add sup --site "$site" --role supervisor --unit UCO-1 -o "$SUP_KEY" \
		--user "$ADMIN_KEY" >/dev/null || die "user add sup"
	"$B/lacre" user add clerk --site "$site" --role clerk -o "$CLERK_KEY" \
		--user "$ADMIN_KEY" >/dev/null || die "user add clerk"
	"$B/lacre" user add auditor --site "$site" --role auditor -o "$AUDITOR_KEY" \
		--user "$ADMIN_KEY" >/dev/null || die "user add auditor"
	export LACRE_USER=$INV_KEY
}

# slow_fsync_shim OUT: builds the LD_PRELOAD shim that makes every fsync
# slow (tests/e2e/slow_fsync.c, SLOW_FSYNC_MS) into OUT; exits 77 (skip)
# with no C compiler, dies when it does not build.
slow_fsync_shim() {
	command -v cc >/dev/null || { echo "no C compiler for the fsync shim"; exit 77; }
	cc -shared -fPIC -O1 -o "$1" "$top/tests/e2e/slow_fsync.c" || die "cannot build the fsync shim"
}
