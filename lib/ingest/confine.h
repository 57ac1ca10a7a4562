/*
 * confine.h - the receiver cell confines itself (DESIGN.md §2, issue 11).
 *
 * lacre-ingest parses hostile network input.  Once its listeners are bound
 * and its secret files read (TLS key, handover keys), it calls
 * confine_apply(), which, in this order and in the main thread before any
 * other thread exists (Landlock binds the calling thread and the threads it
 * creates later):
 *   1. drops to its own user when started as root (run_as: setgroups,
 *      setresgid, setresuid, then checks that root cannot be regained);
 *      root without run_as keeps uid 0 but drops every capability;
 *   2. sets no-new-privileges;
 *   3. applies Landlock (raw syscalls, the ABI the kernel has): it may read
 *      only the files and folders of `read` and the system's public files
 *      (TLS trust store, name service, time zones, shared libraries), write
 *      only the folders of `write`, bind no TCP port, and connect only to
 *      the TCP ports of `ports` (s3: backend, witnesses);
 *   4. loads a seccomp allow-list (libseccomp) on every thread: a system
 *      call outside it kills the whole process (SIGSYS), except socket() of
 *      a family the receiver does not use (EAFNOSUPPORT), clone3 (ENOSYS, so
 *      that threads are made with clone, whose flags the filter checks) and
 *      unknown ioctl/prctl requests (ENOTTY/EPERM).
 * The state is kept in struct confine_state for the start line and the
 * "confinement" member of --stats (docs/cmd-ingest.md).
 */
#ifndef LACRE_INGEST_CONFINE_H
#define LACRE_INGEST_CONFINE_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "lacre/buf.h"

#define CONFINE_MAX_PATHS 16
#define CONFINE_MAX_PORTS 16
#define CONFINE_USER_MAX 64

/* What the receiver needs once confined. */
struct confine_opts {
	const char *run_as;                       /* user to become when root, or NULL */
	const char *read[CONFINE_MAX_PATHS];      /* files or folders it reads */
	size_t n_read;
	const char *write[CONFINE_MAX_PATHS];     /* folders it writes (and reads) */
	size_t n_write;
	uint16_t ports[CONFINE_MAX_PORTS];        /* TCP ports it connects to */
	size_t n_ports;
	int inet;                                 /* it opens AF_INET/AF_INET6 sockets */
};

/* What confine_apply() did (all zero: not confined). */
struct confine_state {
	int applied;                    /* 1 once confine_apply succeeded */
	char user[CONFINE_USER_MAX];    /* the user it runs as */
	uid_t uid;
	gid_t gid;
	int caps_dropped;               /* no capability left */
	int no_new_privs;               /* PR_GET_NO_NEW_PRIVS read back 1 */
	int landlock_abi;               /* the kernel's Landlock ABI; 0 unavailable */
	int landlock_net;               /* TCP bind/connect restricted (ABI >= 4) */
	int seccomp;                    /* 1: the allow-list is loaded */
	int seccomp_log;                /* 1: in log-only test mode (LACRE_TEST_SECCOMP_LOG) */
	const char *seccomp_off_why;    /* when seccomp is 0, why */
};

/* Add a path to the read or write list of o (ignored when NULL or empty or
 * the list is full: the caller sizes it).  Returns LACRE_OK or
 * LACRE_E_TOO_LARGE. */
int confine_add_read(struct confine_opts *o, const char *path);
int confine_add_write(struct confine_opts *o, const char *path);
/* Add the TCP port of an "http[s]://HOST[:PORT][/…]" URL to o->ports and set
 * o->inet; LACRE_E_CONFIG when url is not such a URL. */
int confine_add_url(struct confine_opts *o, const char *url);

/* Confine this process (see above).  Must be called before any thread is
 * created.  On failure msg says what went wrong and what to do; the process
 * must then exit (it may be half confined). */
int confine_apply(const struct confine_opts *o, struct confine_state *st,
		  char *msg, size_t msglen);

/* The state as one human line ("user lacre-ingest (uid 998), ..."). */
void confine_state_line(const struct confine_state *st, char *out, size_t cap);
/* The state as a JSON object (the "confinement" member of --stats). */
int confine_state_json(const struct confine_state *st, struct lacre_dbuf *d);

/* Test hook (tests/e2e/confine.sh): honoured only when LACRE_TEST_CONFINE=1
 * and LACRE_CONFINE_PROBE=PORT are both in the environment, after
 * confinement: try to read /etc/shadow, SITE/master.age and the keystore, to connect to
 * 127.0.0.1:PORT, and finally to exec /bin/true; print one line per attempt
 * on stderr ("confine-probe: WHAT: refused (ERRNO)" or "...: ALLOWED").
 * Returns 0 when the hook is off; otherwise does not return (exit status 0
 * when every attempt was refused, 1 otherwise; a seccomp kill ends it with
 * SIGSYS at the exec). */
int confine_probe(const char *site_dir);

#endif
