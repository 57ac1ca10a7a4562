/*
 * confine.c - the receiver cell confines itself: own user, no new
 * privileges, Landlock, seccomp allow-list (see confine.h for the order and
 * the rules, docs/cmd-ingest.md "Confinement" for the operator's view).
 *
 * Why each layer: the receiver parses BER from any peer that can reach its
 * ports.  A parser bug must not turn into reading master.age or the
 * keystore (the user and Landlock stop the open), writing outside the spool
 * and ingest-log state (Landlock), reaching other hosts or local services
 * (Landlock's TCP rules, seccomp's socket families) or running a program
 * (seccomp kills at execve).  Landlock is called through raw syscalls with
 * this file's own copy of the ABI structures, so that an old
 * <linux/landlock.h> does not limit what a newer kernel can enforce.
 */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <netinet/in.h>
#include <pwd.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <termios.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <linux/capability.h>

#include <seccomp.h>

#include "lacre/err.h"
#include "ingest/confine.h"

/* ------------------------------------------------------------------ */
/* prctl options refused one by one up to this value, all above it in one
 * rule (apply_seccomp) */
#define PR_CONFINE_OPT_MAX 80UL

/* Landlock ABI (include/uapi/linux/landlock.h, kept here: see above)  */

#define LL_CREATE_RULESET_VERSION (1U << 0)
#define LL_RULE_PATH_BENEATH 1
#define LL_RULE_NET_PORT 2

#define LL_FS_EXECUTE     (1ULL << 0)
#define LL_FS_WRITE_FILE  (1ULL << 1)
#define LL_FS_READ_FILE   (1ULL << 2)
#define LL_FS_READ_DIR    (1ULL << 3)
#define LL_FS_REMOVE_DIR  (1ULL << 4)
#define LL_FS_REMOVE_FILE (1ULL << 5)
#define LL_FS_MAKE_CHAR   (1ULL << 6)
#define LL_FS_MAKE_DIR    (1ULL << 7)
#define LL_FS_MAKE_REG    (1ULL << 8)
#define LL_FS_MAKE_SOCK   (1ULL << 9)
#define LL_FS_MAKE_FIFO   (1ULL << 10)
#define LL_FS_MAKE_BLOCK  (1ULL << 11)
#define LL_FS_MAKE_SYM    (1ULL << 12)
#define LL_FS_REFER       (1ULL << 13)   /* ABI 2 */
#define LL_FS_TRUNCATE    (1ULL << 14)   /* ABI 3 */
#define LL_FS_IOCTL_DEV   (1ULL << 15)   /* ABI 5 */
#define LL_NET_BIND_TCP    (1ULL << 0)   /* ABI 4 */
#define LL_NET_CONNECT_TCP (1ULL << 1)   /* ABI 4 */
#define LL_SCOPE_ABSTRACT_UNIX (1ULL << 0) /* ABI 6 */
#define LL_SCOPE_SIGNAL        (1ULL << 1) /* ABI 6 */

struct ll_ruleset_attr {
	uint64_t handled_access_fs;
	uint64_t handled_access_net;
	uint64_t scoped;
};

struct ll_path_beneath_attr {
	uint64_t allowed_access;
	int32_t parent_fd;
} __attribute__((packed));

struct ll_net_port_attr {
	uint64_t allowed_access;
	uint64_t port;
};

/* What a read-only path may be: read files, list folders. */
#define LL_READ (LL_FS_READ_FILE | LL_FS_READ_DIR)
/* What a writable folder may be: create, write, rename, remove regular
 * files and folders (no device, socket, FIFO, symlink, no execution). */
#define LL_WRITE (LL_READ | LL_FS_WRITE_FILE | LL_FS_REMOVE_DIR | LL_FS_REMOVE_FILE | \
		  LL_FS_MAKE_DIR | LL_FS_MAKE_REG | LL_FS_REFER | LL_FS_TRUNCATE)

/* The system's public files the libraries read once confined: the TLS
 * trust store (https:// to s3: and witnesses; /etc/ssl/certs, not /etc/ssl,
 * whose private/ holds other services' keys), the name service, time
 * zones, and shared libraries the C library loads on demand (NSS). */
static const char *const sys_read[] = {
	"/etc/ssl/certs", "/etc/ssl/openssl.cnf", "/usr/lib/ssl", "/usr/share/ca-certificates",
	"/etc/pki/tls/certs", "/etc/pki/ca-trust",
	"/etc/hosts", "/etc/resolv.conf", "/etc/nsswitch.conf", "/etc/host.conf",
	"/etc/gai.conf", "/etc/localtime", "/usr/share/zoneinfo",
	"/usr/lib", "/lib", "/lib64", "/usr/lib64",
	"/dev/urandom", "/dev/null",
	"/proc/self",  /* its own status, limits, comm of its threads */
};

/* Test-only environment (confine_probe, the unavailable-Landlock path). */
#define ENV_TEST "LACRE_TEST_CONFINE"
#define ENV_PROBE "LACRE_CONFINE_PROBE"
#define ENV_NO_LANDLOCK "LACRE_TEST_NO_LANDLOCK"
#define ENV_SECCOMP_LOG "LACRE_TEST_SECCOMP_LOG"  /* log, not kill (finding syscalls) */

/* 1 when the test switch is on (LACRE_TEST_CONFINE=1). */
static int test_mode(void)
{
	const char *e = getenv(ENV_TEST);
	return e && !strcmp(e, "1");
}

/* Append path to a list of at most CONFINE_MAX_PATHS (empty: ignored). */
static int add_path(const char **list, size_t *n, const char *path)
{
	if (!path || !path[0])
		return LACRE_OK;
	if (*n >= CONFINE_MAX_PATHS)
		return LACRE_E_TOO_LARGE;
	list[(*n)++] = path;
	return LACRE_OK;
}

/* See confine.h. */
int confine_add_read(struct confine_opts *o, const char *path)
{
	return add_path(o->read, &o->n_read, path);
}

/* See confine.h. */
int confine_add_write(struct confine_opts *o, const char *path)
{
	return add_path(o->write, &o->n_write, path);
}

/* See confine.h: the port is the URL's, else 80 (http) or 443 (https). */
int confine_add_url(struct confine_opts *o, const char *url)
{
	const char *h, *end, *colon;
	unsigned long port;
	char *e;

	if (!strncmp(url, "http://", 7)) {
		h = url + 7;
		port = 80;
	} else if (!strncmp(url, "https://", 8)) {
		h = url + 8;
		port = 443;
	} else {
		return LACRE_E_CONFIG;
	}
	end = h + strcspn(h, "/?#");
	if (*h == '[') {
		const char *rb = memchr(h, ']', (size_t)(end - h));
		if (!rb)
			return LACRE_E_CONFIG;
		colon = rb + 1 < end && rb[1] == ':' ? rb + 1 : NULL;
	} else {
		colon = memchr(h, ':', (size_t)(end - h));
	}
	if (colon) {
		errno = 0;
		port = strtoul(colon + 1, &e, 10);
		if (errno || e != end || e == colon + 1 || port == 0 || port > 65535)
			return LACRE_E_CONFIG;
	}
	o->inet = 1;
	for (size_t i = 0; i < o->n_ports; i++)
		if (o->ports[i] == port)
			return LACRE_OK;
	if (o->n_ports >= CONFINE_MAX_PORTS)
		return LACRE_E_TOO_LARGE;
	o->ports[o->n_ports++] = (uint16_t)port;
	return LACRE_OK;
}

/* ------------------------------------------------------------------ */
/* 1. user and capabilities                                              */

/* Drop every capability (effective, permitted, inheritable) and, when it
 * may (CAP_SETPCAP), the bounding set; then read them back.  A receiver
 * left as uid 0 keeps only what the owner bits of root's files give; one
 * started by a user with file or ambient capabilities loses them too.
 * Returns 0 when none is left. */
static int drop_caps(void)
{
	struct __user_cap_header_struct h = { _LINUX_CAPABILITY_VERSION_3, 0 };
	struct __user_cap_data_struct d[2];

	/* EPERM: not allowed to shrink the bounding set; it only matters at
	 * execve, which the filter kills and no-new-privileges neuters */
	for (int c = 0; c <= 63; c++)
		if (prctl(PR_CAPBSET_DROP, c, 0, 0, 0) != 0 && errno != EINVAL && errno != EPERM)
			return -1;
	prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0);
	memset(d, 0, sizeof(d));
	if (syscall(SYS_capset, &h, d) != 0)
		return -1;
	memset(d, 0, sizeof(d));
	if (syscall(SYS_capget, &h, d) != 0 || d[0].effective || d[0].permitted ||
	    d[0].inheritable || d[1].effective || d[1].permitted || d[1].inheritable)
		return -1;
	return 0;
}

/* Become run_as (when root; when not root, run_as must be who we are), or
 * stay who we are; then drop every capability.  Fills st's user fields. */
static int drop_user(const char *run_as, struct confine_state *st, char *msg, size_t msglen)
{
	struct passwd pw, *p = NULL;
	char buf[4096];
	uid_t ru, eu, su;
	gid_t rg, eg, sg;
	int e;

	if (run_as && run_as[0]) {
		e = getpwnam_r(run_as, &pw, buf, sizeof(buf), &p);
		if (e != 0 || !p) {
			snprintf(msg, msglen, "no user '%s': create it (useradd --system %s) or fix --run-as or ingest.user",
			         run_as, run_as);
			return LACRE_E_CONFIG;
		}
		if (p->pw_uid == 0) {
			snprintf(msg, msglen, "--run-as %s is root: name the receiver's own user", run_as);
			return LACRE_E_CONFIG;
		}
		if (geteuid() != 0 && geteuid() != p->pw_uid) {
			snprintf(msg, msglen, "--run-as %s needs root to change user (running as uid %lu)",
			         run_as, (unsigned long)geteuid());
			return LACRE_E_CONFIG;
		}
		if (geteuid() == 0) {
			if (setgroups(0, NULL) != 0 || setresgid(p->pw_gid, p->pw_gid, p->pw_gid) != 0 ||
			    setresuid(p->pw_uid, p->pw_uid, p->pw_uid) != 0) {
				snprintf(msg, msglen, "cannot become user %s: %s", run_as, strerror(errno));
				return LACRE_E_IO;
			}
			/* it must not be able to come back */
			if (getresuid(&ru, &eu, &su) != 0 || getresgid(&rg, &eg, &sg) != 0 ||
			    ru != p->pw_uid || eu != p->pw_uid || su != p->pw_uid ||
			    rg != p->pw_gid || eg != p->pw_gid || sg != p->pw_gid ||
			    setuid(0) == 0 || seteuid(0) == 0 || setgid(0) == 0 ||
			    getgroups(0, NULL) != 0) {
				snprintf(msg, msglen, "user %s could regain root or keep a group: refusing to run",
				         run_as);
				return LACRE_E_AUTH;
			}
		}
	}
	if (drop_caps() != 0) {
		snprintf(msg, msglen, "cannot drop the receiver's capabilities: %s", strerror(errno));
		return LACRE_E_IO;
	}
	st->caps_dropped = 1;
	st->uid = geteuid();
	st->gid = getegid();
	p = NULL;
	if (getpwuid_r(st->uid, &pw, buf, sizeof(buf), &p) == 0 && p)
		snprintf(st->user, sizeof(st->user), "%s", p->pw_name);
	else
		snprintf(st->user, sizeof(st->user), "%lu", (unsigned long)st->uid);
	return LACRE_OK;
}

/* ------------------------------------------------------------------ */
/* 3. Landlock                                                           */

/* The filesystem rights ABI abi knows. */
static uint64_t ll_fs_rights(int abi)
{
	uint64_t r = LL_FS_EXECUTE | LL_FS_WRITE_FILE | LL_FS_READ_FILE | LL_FS_READ_DIR |
		     LL_FS_REMOVE_DIR | LL_FS_REMOVE_FILE | LL_FS_MAKE_CHAR | LL_FS_MAKE_DIR |
		     LL_FS_MAKE_REG | LL_FS_MAKE_SOCK | LL_FS_MAKE_FIFO | LL_FS_MAKE_BLOCK |
		     LL_FS_MAKE_SYM;
	if (abi >= 2)
		r |= LL_FS_REFER;
	if (abi >= 3)
		r |= LL_FS_TRUNCATE;
	if (abi >= 5)
		r |= LL_FS_IOCTL_DEV;
	return r;
}

/* Allow rights (masked to what the ruleset handles, and to file rights
 * when path is not a folder) beneath path.  A path that does not exist is
 * skipped when optional (a system file this host lacks), else an error. */
static int ll_allow_path(int rs, const char *path, uint64_t rights, uint64_t handled, int optional)
{
	struct ll_path_beneath_attr pb;
	struct stat sb;
	int fd, r;

	fd = open(path, O_PATH | O_CLOEXEC);
	if (fd < 0)
		return optional && (errno == ENOENT || errno == ENOTDIR) ? 0 : -1;
	if (fstat(fd, &sb) != 0) {
		close(fd);
		return -1;
	}
	rights &= handled;
	if (!S_ISDIR(sb.st_mode))
		rights &= LL_FS_EXECUTE | LL_FS_WRITE_FILE | LL_FS_READ_FILE | LL_FS_TRUNCATE | LL_FS_IOCTL_DEV;
	memset(&pb, 0, sizeof(pb));
	pb.allowed_access = rights;
	pb.parent_fd = fd;
	r = (int)syscall(SYS_landlock_add_rule, rs, LL_RULE_PATH_BENEATH, &pb, 0);
	close(fd);
	return r;
}

/* The kernel's Landlock ABI, 0 when it has none (or the test says so). */
static int ll_abi(void)
{
	long v;

	if (test_mode() && getenv(ENV_NO_LANDLOCK))
		return 0;
	v = syscall(SYS_landlock_create_ruleset, NULL, 0, LL_CREATE_RULESET_VERSION);
	return v > 0 ? (int)v : 0;
}

/* Build the ruleset the kernel's ABI allows (confine.h, step 3) and bind
 * this thread, and the threads it creates later, to it.  No ABI: nothing
 * done, st->landlock_abi stays 0 (the caller says so). */
static int apply_landlock(const struct confine_opts *o, struct confine_state *st,
			  char *msg, size_t msglen)
{
	struct ll_ruleset_attr ra;
	size_t ra_size, i;
	int abi = ll_abi(), rs;

	st->landlock_abi = abi;
	if (abi == 0)
		return LACRE_OK;
	memset(&ra, 0, sizeof(ra));
	ra.handled_access_fs = ll_fs_rights(abi);
	ra_size = sizeof(uint64_t);
	if (abi >= 4) {
		ra.handled_access_net = LL_NET_BIND_TCP | LL_NET_CONNECT_TCP;
		ra_size = 2 * sizeof(uint64_t);
	}
	if (abi >= 6) {
		ra.scoped = LL_SCOPE_ABSTRACT_UNIX | LL_SCOPE_SIGNAL;
		ra_size = sizeof(ra);
	}
	rs = (int)syscall(SYS_landlock_create_ruleset, &ra, ra_size, 0);
	if (rs < 0) {
		snprintf(msg, msglen, "landlock: cannot create a ruleset (ABI %d): %s", abi, strerror(errno));
		return LACRE_E_IO;
	}
	for (i = 0; i < sizeof(sys_read) / sizeof(sys_read[0]); i++)
		if (ll_allow_path(rs, sys_read[i], LL_READ, ra.handled_access_fs, 1) != 0)
			goto path_fail_sys;
	for (i = 0; i < o->n_read; i++)
		if (ll_allow_path(rs, o->read[i], LL_READ, ra.handled_access_fs, 0) != 0) {
			snprintf(msg, msglen, "landlock: cannot allow reading %s: %s", o->read[i], strerror(errno));
			goto fail;
		}
	/* /dev/null is also written (the spare descriptor, stdio redirection) */
	if (ll_allow_path(rs, "/dev/null", LL_FS_READ_FILE | LL_FS_WRITE_FILE, ra.handled_access_fs, 1) != 0)
		goto path_fail_sys;
	for (i = 0; i < o->n_write; i++)
		if (ll_allow_path(rs, o->write[i], LL_WRITE, ra.handled_access_fs, 0) != 0) {
			snprintf(msg, msglen, "landlock: cannot allow writing %s: %s", o->write[i], strerror(errno));
			goto fail;
		}
	if (abi >= 4) {
		for (i = 0; i < o->n_ports; i++) {
			struct ll_net_port_attr np = { LL_NET_CONNECT_TCP, o->ports[i] };
			if (syscall(SYS_landlock_add_rule, rs, LL_RULE_NET_PORT, &np, 0) != 0) {
				snprintf(msg, msglen, "landlock: cannot allow TCP port %u: %s", o->ports[i], strerror(errno));
				goto fail;
			}
		}
		st->landlock_net = 1;
	}
	if (syscall(SYS_landlock_restrict_self, rs, 0) != 0) {
		snprintf(msg, msglen, "landlock: cannot restrict the receiver: %s", strerror(errno));
		goto fail;
	}
	close(rs);
	return LACRE_OK;
path_fail_sys:
	snprintf(msg, msglen, "landlock: cannot allow reading the system's public files: %s", strerror(errno));
fail:
	close(rs);
	return LACRE_E_IO;
}

/* ------------------------------------------------------------------ */
/* 4. seccomp                                                            */

/* System calls the receiver makes once confined (checked by running the
 * ingest, fault, TLS, witness and s3: end-to-end tests with the filter in
 * log mode, LACRE_TEST_SECCOMP_LOG, and reading the kernel's log):
 * event loop and sockets, files of the spool and ledger, threads and their
 * locks, memory, time, signals to itself, randomness. */
static const int allowed[] = {
	/* I/O */
	SCMP_SYS(read), SCMP_SYS(write), SCMP_SYS(readv), SCMP_SYS(writev),
	SCMP_SYS(pread64), SCMP_SYS(pwrite64), SCMP_SYS(preadv), SCMP_SYS(pwritev),
	SCMP_SYS(lseek), SCMP_SYS(close), SCMP_SYS(dup), SCMP_SYS(dup2), SCMP_SYS(dup3),
	SCMP_SYS(fcntl), SCMP_SYS(fsync), SCMP_SYS(fdatasync), SCMP_SYS(sync_file_range),
	SCMP_SYS(ftruncate), SCMP_SYS(fallocate), SCMP_SYS(fadvise64), SCMP_SYS(flock),
	/* files and folders (Landlock says which) */
	SCMP_SYS(open), SCMP_SYS(openat), SCMP_SYS(openat2), SCMP_SYS(stat), SCMP_SYS(fstat), SCMP_SYS(lstat),
	SCMP_SYS(newfstatat), SCMP_SYS(statx), SCMP_SYS(statfs), SCMP_SYS(fstatfs),
	SCMP_SYS(access), SCMP_SYS(faccessat), SCMP_SYS(faccessat2), SCMP_SYS(readlink),
	SCMP_SYS(readlinkat), SCMP_SYS(getdents64), SCMP_SYS(mkdir), SCMP_SYS(mkdirat),
	SCMP_SYS(rename), SCMP_SYS(renameat), SCMP_SYS(renameat2), SCMP_SYS(unlink),
	SCMP_SYS(unlinkat), SCMP_SYS(rmdir), SCMP_SYS(link), SCMP_SYS(linkat),
	SCMP_SYS(fchmod), SCMP_SYS(umask), SCMP_SYS(getcwd), SCMP_SYS(utimensat),
	/* event loop and sockets (socket() and socketpair() are filtered below) */
	SCMP_SYS(epoll_create1), SCMP_SYS(epoll_ctl), SCMP_SYS(epoll_wait),
	SCMP_SYS(epoll_pwait), SCMP_SYS(epoll_pwait2), SCMP_SYS(eventfd2),
	SCMP_SYS(poll), SCMP_SYS(ppoll), SCMP_SYS(select), SCMP_SYS(pselect6),
	SCMP_SYS(pipe), SCMP_SYS(pipe2), SCMP_SYS(accept), SCMP_SYS(accept4),
	SCMP_SYS(connect), SCMP_SYS(shutdown), SCMP_SYS(getsockopt), SCMP_SYS(setsockopt),
	SCMP_SYS(getsockname), SCMP_SYS(getpeername), SCMP_SYS(sendto), SCMP_SYS(recvfrom),
	SCMP_SYS(sendmsg), SCMP_SYS(recvmsg), SCMP_SYS(sendmmsg), SCMP_SYS(recvmmsg),
	/* threads, locks, memory */
	SCMP_SYS(futex), SCMP_SYS(set_robust_list), SCMP_SYS(get_robust_list),
	SCMP_SYS(rseq), SCMP_SYS(set_tid_address), SCMP_SYS(sched_yield),
	SCMP_SYS(sched_getparam), SCMP_SYS(sched_getscheduler),
	SCMP_SYS(sched_getaffinity), SCMP_SYS(getcpu), SCMP_SYS(membarrier),
	SCMP_SYS(mmap), SCMP_SYS(munmap), SCMP_SYS(mremap), SCMP_SYS(mprotect),
	SCMP_SYS(madvise), SCMP_SYS(brk),
	/* time and signals */
	SCMP_SYS(clock_gettime), SCMP_SYS(clock_getres), SCMP_SYS(gettimeofday),
	SCMP_SYS(time), SCMP_SYS(nanosleep), SCMP_SYS(clock_nanosleep),
	SCMP_SYS(alarm), SCMP_SYS(setitimer), SCMP_SYS(getitimer),
	SCMP_SYS(rt_sigaction), SCMP_SYS(rt_sigprocmask), SCMP_SYS(rt_sigreturn),
	SCMP_SYS(sigaltstack), SCMP_SYS(restart_syscall),
	/* identity, limits, randomness, exit */
	SCMP_SYS(getpid), SCMP_SYS(gettid), SCMP_SYS(getppid), SCMP_SYS(getuid),
	SCMP_SYS(geteuid), SCMP_SYS(getgid), SCMP_SYS(getegid), SCMP_SYS(getresuid),
	SCMP_SYS(getresgid), SCMP_SYS(getgroups), SCMP_SYS(getrlimit), SCMP_SYS(getrusage),
	SCMP_SYS(sysinfo), SCMP_SYS(uname), SCMP_SYS(getrandom),
	SCMP_SYS(exit), SCMP_SYS(exit_group),
};

#if defined(__SANITIZE_ADDRESS__)
#define CONFINE_SANITIZER 1
#else
#define CONFINE_SANITIZER 0
#endif

/* Build and load the allow-list (see confine.h for the actions). */
static int apply_seccomp(const struct confine_opts *o, struct confine_state *st,
			 char *msg, size_t msglen)
{
	scmp_filter_ctx ctx;
	pid_t me = getpid();
	int r = 0;
	size_t i;

	if (CONFINE_SANITIZER) {
		/* the sanitizer runtime stops the world with ptrace at exit (leak
		 * check): a sanitizer build is a test build, run without the filter */
		st->seccomp_off_why = "off (sanitizer build)";
		return LACRE_OK;
	}
	if (test_mode() && getenv(ENV_SECCOMP_LOG))
		st->seccomp_log = 1;
	if (!(ctx = seccomp_init(st->seccomp_log ? SCMP_ACT_LOG : SCMP_ACT_KILL_PROCESS))) {
		snprintf(msg, msglen, "seccomp: cannot create a filter (out of memory)");
		return LACRE_E_NOMEM;
	}
	for (i = 0; i < sizeof(allowed) / sizeof(allowed[0]) && r == 0; i++)
		r = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, allowed[i], 0);
	/* threads only: clone with CLONE_THREAD; clone3 (whose flags a filter
	 * cannot read) answers ENOSYS, and the C library falls back to clone */
	if (r == 0)
		r = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(clone), 1,
				     SCMP_A0(SCMP_CMP_MASKED_EQ, CLONE_THREAD, CLONE_THREAD));
	if (r == 0)
		r = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(ENOSYS), SCMP_SYS(clone3), 0);
	/* signals only to itself (raise, abort, a thread's own) */
	if (r == 0)
		r = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(kill), 1,
				     SCMP_A0(SCMP_CMP_EQ, (scmp_datum_t)me));
	if (r == 0)
		r = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(tgkill), 1,
				     SCMP_A0(SCMP_CMP_EQ, (scmp_datum_t)me));
	/* reading limits (prlimit64 with no new limit) */
	if (r == 0)
		r = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(prlimit64), 1,
				     SCMP_A2(SCMP_CMP_EQ, 0));
	/* sockets: Unix always (the log signer), IPv4/IPv6 only when an s3:
	 * backend or a witness needs them; others refused with EAFNOSUPPORT
	 * (the C library probes netlink and copes) */
	if (r == 0)
		r = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(socket), 1,
				     SCMP_A0(SCMP_CMP_EQ, AF_UNIX));
	if (r == 0)
		r = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(socketpair), 1,
				     SCMP_A0(SCMP_CMP_EQ, AF_UNIX));
	if (r == 0 && o->inet)
		r = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(socket), 1,
				     SCMP_A0(SCMP_CMP_EQ, AF_INET));
	if (r == 0 && o->inet)
		r = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(socket), 1,
				     SCMP_A0(SCMP_CMP_EQ, AF_INET6));
	if (r == 0)
		r = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EAFNOSUPPORT), SCMP_SYS(socket), 1,
				     SCMP_A0(SCMP_CMP_NE, AF_UNIX));
	/* ioctl: non-blocking mode, bytes waiting, is-a-terminal; else ENOTTY */
	if (r == 0)
		r = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(ioctl), 1,
				     SCMP_A1(SCMP_CMP_EQ, FIONBIO));
	if (r == 0)
		r = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(ioctl), 1,
				     SCMP_A1(SCMP_CMP_EQ, FIONREAD));
	if (r == 0)
		r = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(ioctl), 1,
				     SCMP_A1(SCMP_CMP_EQ, TCGETS));
	if (r == 0)
		r = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(ioctl), 1,
				     SCMP_A1(SCMP_CMP_EQ, TIOCGWINSZ));
	if (r == 0)
		r = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(ENOTTY), SCMP_SYS(ioctl), 0);
	/* prctl: thread names and reading its own flags; else EPERM */
	if (r == 0)
		r = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(prctl), 1,
				     SCMP_A0(SCMP_CMP_EQ, PR_SET_NAME));
	if (r == 0)
		r = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(prctl), 1,
				     SCMP_A0(SCMP_CMP_EQ, PR_GET_NAME));
	if (r == 0)
		r = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(prctl), 1,
				     SCMP_A0(SCMP_CMP_EQ, PR_GET_NO_NEW_PRIVS));
	if (r == 0)
		r = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(prctl), 1,
				     SCMP_A0(SCMP_CMP_EQ, PR_GET_DUMPABLE));
	/* every other option EPERM, one rule a value: an unconditional rule
	 * would override the allow rules above (libseccomp keeps only it),
	 * which refused even PR_SET_NAME */
	for (unsigned long v = 0; v <= PR_CONFINE_OPT_MAX && r == 0; v++)
		if (v != PR_SET_NAME && v != PR_GET_NAME && v != PR_GET_NO_NEW_PRIVS &&
		    v != PR_GET_DUMPABLE)
			r = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EPERM), SCMP_SYS(prctl), 1,
					     SCMP_A0(SCMP_CMP_EQ, v));
	if (r == 0)
		r = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EPERM), SCMP_SYS(prctl), 1,
				     SCMP_A0(SCMP_CMP_GT, PR_CONFINE_OPT_MAX));
	/* every thread, and no thread left out */
	if (r == 0)
		r = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_TSYNC, 1);
	if (r != 0) {
		snprintf(msg, msglen, "seccomp: cannot build the filter: %s", strerror(-r));
		seccomp_release(ctx);
		return LACRE_E_IO;
	}
	if ((r = seccomp_load(ctx)) != 0) {
		snprintf(msg, msglen, "seccomp: cannot load the filter: %s", strerror(-r));
		seccomp_release(ctx);
		return LACRE_E_IO;
	}
	seccomp_release(ctx);
	st->seccomp = 1;
	return LACRE_OK;
}

/* ------------------------------------------------------------------ */

/* See confine.h: user, no-new-privs, Landlock, seccomp, in that order
 * (seccomp last: the calls before it are not on its list). */
int confine_apply(const struct confine_opts *o, struct confine_state *st,
		  char *msg, size_t msglen)
{
	int r;

	memset(st, 0, sizeof(*st));
	if (msglen)
		msg[0] = '\0';
	if ((r = drop_user(o->run_as, st, msg, msglen)) != LACRE_OK)
		return r;
	/* the new user must reach what it needs: say which path, not fail later */
	if (o->run_as && o->run_as[0]) {
		for (size_t i = 0; i < o->n_write; i++)
			if (access(o->write[i], R_OK | W_OK | X_OK) != 0) {
				snprintf(msg, msglen, "user %s cannot write %s (%s): give it that folder "
				         "(chown -R %s; docs/cmd-ingest.md)", st->user, o->write[i],
				         strerror(errno), st->user);
				return LACRE_E_CONFIG;
			}
		for (size_t i = 0; i < o->n_read; i++)
			if (access(o->read[i], R_OK) != 0 && errno != ENOENT) {
				snprintf(msg, msglen, "user %s cannot read %s (%s): give it that file "
				         "(docs/cmd-ingest.md)", st->user, o->read[i], strerror(errno));
				return LACRE_E_CONFIG;
			}
	}
	/* not dumpable: another process of the same user cannot ptrace it */
	prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0 ||
	    prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0) != 1) {
		snprintf(msg, msglen, "cannot set no-new-privileges: %s", strerror(errno));
		return LACRE_E_IO;
	}
	st->no_new_privs = 1;
	if ((r = apply_landlock(o, st, msg, msglen)) != LACRE_OK)
		return r;
	if ((r = apply_seccomp(o, st, msg, msglen)) != LACRE_OK)
		return r;
	st->applied = 1;
	return LACRE_OK;
}

/* See confine.h. */
void confine_state_line(const struct confine_state *st, char *out, size_t cap)
{
	char ll[48];

	if (!st->applied) {
		snprintf(out, cap, "not confined (--no-confine)");
		return;
	}
	if (st->landlock_abi)
		snprintf(ll, sizeof(ll), "landlock ABI %d%s", st->landlock_abi,
		         st->landlock_net ? " (files, TCP)" : " (files)");
	else
		snprintf(ll, sizeof(ll), "landlock unavailable");
	snprintf(out, cap, "user %s (uid %lu, gid %lu), %s, no_new_privs %d, seccomp %s, %s",
	         st->user, (unsigned long)st->uid, (unsigned long)st->gid,
	         st->caps_dropped ? "no capabilities" : "capabilities kept",
	         st->no_new_privs, st->seccomp ? (st->seccomp_log ? "filter (log only: test)" : "filter (kill-process)") :
	         st->seccomp_off_why ? st->seccomp_off_why : "off", ll);
}

/* See confine.h. */
int confine_state_json(const struct confine_state *st, struct lacre_dbuf *d)
{
	char ll[32];
	struct lacre_dbuf u;
	int r;

	if (!st->applied)
		return lacre_dbuf_printf(d, "{\"enabled\":false}");
	if (st->landlock_abi)
		snprintf(ll, sizeof(ll), "%d", st->landlock_abi);
	else
		snprintf(ll, sizeof(ll), "\"unavailable\"");
	/* a user name is letters, digits, '-', '_' (getpwnam): no escaping */
	lacre_dbuf_init(&u, sizeof(st->user));
	for (const char *p = st->user; *p; p++)
		if ((r = lacre_dbuf_printf(&u, "%c", (*p == '"' || *p == '\\' || (unsigned char)*p < 0x20) ? '?' : *p)) != LACRE_OK)
			goto done;
	r = lacre_dbuf_printf(d, "{\"enabled\":true,\"user\":\"%.*s\",\"uid\":%lu,\"gid\":%lu,"
			      "\"capabilities\":%s,\"no_new_privs\":%s,\"seccomp\":\"%s\","
			      "\"landlock\":%s,\"landlock_net\":%s}",
			      (int)u.len, u.p ? (const char *)u.p : "",
			      (unsigned long)st->uid, (unsigned long)st->gid,
			      st->caps_dropped ? "\"none\"" : "\"kept\"",
			      st->no_new_privs ? "true" : "false",
			      st->seccomp ? (st->seccomp_log ? "log" : "kill-process") : "off", ll,
			      st->landlock_net ? "true" : "false");
done:
	lacre_dbuf_free(&u);
	return r;
}

/* ------------------------------------------------------------------ */
/* Test hook                                                             */

/* Print one probe result; count what was allowed. */
static void probe_say(const char *what, int ok, int err, int *allowed_n)
{
	if (ok) {
		fprintf(stderr, "confine-probe: %s: ALLOWED\n", what);
		(*allowed_n)++;
	} else {
		fprintf(stderr, "confine-probe: %s: refused (%s)\n", what, strerror(err));
	}
	fflush(stderr);
}

/* See confine.h. */
int confine_probe(const char *site_dir)
{
	const char *port_s = getenv(ENV_PROBE);
	char path[4096], what[4200];
	struct sockaddr_in sin;
	int fd, e, allowed_n = 0;
	unsigned long port;
	char *end;

	if (!test_mode() || !port_s)
		return 0;
	errno = 0;
	port = strtoul(port_s, &end, 10);
	if (errno || *end || port == 0 || port > 65535) {
		fprintf(stderr, "confine-probe: %s=%s is not a TCP port\n", ENV_PROBE, port_s);
		exit(2);
	}
	/* a root-owned secret outside the site: for a receiver left as uid 0,
	 * only Landlock refuses it */
	fd = open("/etc/shadow", O_RDONLY | O_CLOEXEC);
	e = errno;
	probe_say("open /etc/shadow", fd >= 0, e, &allowed_n);
	if (fd >= 0)
		close(fd);
	if (site_dir) {
		snprintf(path, sizeof(path), "%s/master.age", site_dir);
		fd = open(path, O_RDONLY | O_CLOEXEC);
		e = errno;
		snprintf(what, sizeof(what), "open %s", path);
		probe_say(what, fd >= 0, e, &allowed_n);
		if (fd >= 0)
			close(fd);
		snprintf(path, sizeof(path), "%s/keystore", site_dir);
		fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		e = errno;
		snprintf(what, sizeof(what), "list %s", path);
		probe_say(what, fd >= 0, e, &allowed_n);
		if (fd >= 0)
			close(fd);
		snprintf(path, sizeof(path), "%s/keystore/%s", site_dir, "oversight.key");
		fd = open(path, O_RDONLY | O_CLOEXEC);
		e = errno;
		snprintf(what, sizeof(what), "open %s", path);
		probe_say(what, fd >= 0, e, &allowed_n);
		if (fd >= 0)
			close(fd);
	}
	fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		e = errno;
	} else {
		memset(&sin, 0, sizeof(sin));
		sin.sin_family = AF_INET;
		sin.sin_port = htons((uint16_t)port);
		sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		e = connect(fd, (struct sockaddr *)&sin, sizeof(sin)) == 0 ? 0 : errno;
		close(fd);
	}
	snprintf(what, sizeof(what), "connect 127.0.0.1:%lu", port);
	probe_say(what, e == 0, e, &allowed_n);
	fprintf(stderr, "confine-probe: exec /bin/true: trying\n");
	fflush(stderr);
	{
		char *av[] = { "/bin/true", NULL };
		char *ev[] = { NULL };
		execve("/bin/true", av, ev);
		e = errno;
	}
	probe_say("exec /bin/true", 0, e, &allowed_n);
	exit(allowed_n ? 1 : 4);
}
