# check.bash - precise negative checks and event waits for the end-to-end
# scripts (sourced; bash).  Why: `cmd && die` passes when cmd crashes, and a
# fixed sleep passes or fails with the machine's load; these helpers assert
# the exact exit status and message, and wait on the event itself.
#
# Needs: EXPECT_DIR, a scratch folder of the calling script (expect_exit keeps
# the last command's stdout in $EXPECT_DIR/expect.out and its stderr in
# $EXPECT_DIR/expect.err, for further checks).
#
#   expect_exit STATUS TEXT CMD [ARGS...]
#       runs CMD (stdin from /dev/null) and succeeds only if it exited with
#       exactly STATUS and its stderr contains TEXT (a fixed string; several
#       alternatives are not allowed: one command, one message).  A death by a
#       signal is always a failure.  On failure prints the command, the status
#       wanted and got, and the stderr and stdout, then returns 1: the caller
#       adds its own words (`expect_exit 1 "no warrant" lacre ... || die "..."`).
#       Exit statuses of the lacre programs (DESIGN.md §8): 1 refused or
#       failed, 2 usage, 3 verification failed.
#   expect_no_output
#       succeeds if the last expect_exit command wrote nothing to stdout.
#   wait_for SECONDS WHAT CMD [ARGS...]
#       runs CMD every 50 ms until it succeeds; fails (prints "WHAT did not
#       happen within SECONDS s", returns 1) at the deadline.  Deadlines are
#       generous: they bound a hang, they do not pace the test.
#   wait_file SECONDS FILE          wait_for FILE to exist and be non-empty
#   wait_port SECONDS PORT          wait_for a TCP listener on 127.0.0.1:PORT
#   wait_log SECONDS FILE REGEX     wait_for a line of FILE matching REGEX (grep -E)

# expect_exit STATUS TEXT CMD [ARGS...]: see above.
expect_exit() {
	local want=$1 text=$2 rc out err
	shift 2
	: "${EXPECT_DIR:?check.bash: set EXPECT_DIR to a scratch folder}"
	out=$EXPECT_DIR/expect.out err=$EXPECT_DIR/expect.err
	"$@" < /dev/null > "$out" 2> "$err"
	rc=$?
	if [ "$rc" -eq "$want" ] && [ "$rc" -le 128 ] &&
		{ [ -z "$text" ] || grep -qF -- "$text" "$err"; }; then
		return 0
	fi
	echo "FAIL expect_exit: $*"
	if [ "$rc" -gt 128 ]; then
		echo "  wanted exit $want, got death by signal $((rc - 128)) (exit $rc)"
	elif [ "$rc" -ne "$want" ]; then
		echo "  wanted exit $want, got exit $rc"
	fi
	[ -n "$text" ] && ! grep -qF -- "$text" "$err" && echo "  wanted on stderr: $text"
	echo "  stderr: $(head -c 2000 "$err")"
	echo "  stdout: $(head -c 500 "$out")"
	return 1
}

# expect_no_output: the last expect_exit command printed nothing on stdout.
expect_no_output() {
	[ ! -s "$EXPECT_DIR/expect.out" ] && return 0
	echo "FAIL: output from a refused command: $(head -c 500 "$EXPECT_DIR/expect.out")"
	return 1
}

# wait_for SECONDS WHAT CMD [ARGS...]: see above.
wait_for() {
	local secs=$1 what=$2 end
	shift 2
	end=$((SECONDS + secs))
	while :; do
		"$@" > /dev/null 2>&1 && return 0
		[ "$SECONDS" -ge "$end" ] && break
		sleep 0.05
	done
	echo "FAIL: $what did not happen within $secs s"
	return 1
}

# wait_file SECONDS FILE: FILE exists and is not empty.
wait_file() {
	wait_for "$1" "file $2" test -s "$2"
}

# _port_open PORT: something accepts TCP connections on 127.0.0.1:PORT.
_port_open() {
	(exec 3<>"/dev/tcp/127.0.0.1/$1") 2> /dev/null
}

# wait_port SECONDS PORT: a listener on 127.0.0.1:PORT.
wait_port() {
	wait_for "$1" "a listener on 127.0.0.1:$2" _port_open "$2"
}

# wait_log SECONDS FILE REGEX: a line of FILE matches REGEX.
wait_log() {
	wait_for "$1" "a line matching '$3' in $2" grep -qE -- "$3" "$2"
}
