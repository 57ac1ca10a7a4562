/*
 * main.c - lacre-verify: the standalone, offline verifier of evidence
 * packages (docs/cmd-lacre-verify.md).  Linked against libcrypto alone: it
 * needs no lacre site, no network and no database.  The work is
 * lib/verify/verify.c; this file reads the files, the keys the court trusts
 * and prints the report.  It fails closed: without --log-vkey (the ingest
 * log's key as the court received it from the site) nothing is VERIFIED.
 *
 *   lacre-verify PACKAGE -i COURT-IDENTITY [--json] [--log-vkey VKEY]...
 *                [--export-vkey VKEY] [--witness-vkey VKEY]... [--quorum K]
 *                [--policy FILE] [--extract DIR]
 *
 * --extract DIR: only when the package VERIFIED, re-derive its content
 * from the records (decoded JSON, per call a WAV of each direction, a pcap
 * per communication; lib/verify/extract.c) into DIR, which must not exist.
 *
 * Exit: 0 verified, 3 verification failed (nothing extracted), 2 usage,
 * 1 other errors (an extraction that failed leaves nothing).
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "lacre/age.h"
#include "lacre/buf.h"
#include "lacre/err.h"
#include "lacre/extract.h"
#include "lacre/json.h"
#include "lacre/note.h"
#include "lacre/package.h"
#include "lacre/verify.h"

#define V_OK 0
#define V_FAIL 1
#define V_USAGE 2
#define V_VERIFY 3

/* One error line on stderr. */
static void verr(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void verr(const char *fmt, ...)
{
	va_list ap;
	fputs("lacre-verify: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

/* Usage text. */
static void usage(FILE *f)
{
	fprintf(f,
		"usage: lacre-verify PACKAGE -i COURT-IDENTITY [--json] [--log-vkey VKEY]...\n"
		"                    [--export-vkey VKEY] [--witness-vkey VKEY]... [--quorum K]\n"
		"                    [--policy FILE] [--extract DIR]\n"
		"Checks an evidence package made by 'lacre export', offline: every record's\n"
		"commitment, PDU, decoded fields and JSON; every receipt against the checkpoint;\n"
		"the ingest log's signature (--log-vkey: the key the court trusts; once per log\n"
		"when the package spans several ingest logs of the site), witness\n"
		"cosignatures (--witness-vkey, --quorum), the completeness report, the exclusions\n"
		"of a party copy and the signed manifest (--export-vkey).  A VKEY is the key text\n"
		"or a file holding it.  --policy FILE (a C2SP tlog-policy) replaces --log-vkey,\n"
		"--witness-vkey and --quorum: its log keys and quorum are the trust.\n"
		"Without --log-vkey or --policy nothing is verified (exit 3): the\n"
		"package's own keys prove consistency, not origin.\n"
		"--extract DIR: after a package VERIFIED (never otherwise), write into DIR (which\n"
		"must not exist) the content re-derived from its records: records.jsonl (decoded,\n"
		"decrypted payloads included), per communication a pcap and per call a WAV of each\n"
		"direction, and extract.txt tying every file and record to the signed ingest log.\n"
		"Exit 0 verified, 3 verification failed, 1 error, 2 usage.\n");
}

/* Read a whole file (capped) into a malloc'ed buffer. */
static int read_all(const char *path, size_t cap, uint8_t **out, size_t *len)
{
	struct stat st;
	uint8_t *p;
	size_t off = 0;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return errno == ENOENT ? LACRE_E_NOT_FOUND : LACRE_E_IO;
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		return LACRE_E_IO;
	}
	if ((uint64_t)st.st_size > cap) {
		close(fd);
		return LACRE_E_TOO_LARGE;
	}
	if ((p = malloc((size_t)st.st_size + 1)) == NULL) {
		close(fd);
		return LACRE_E_NOMEM;
	}
	while (off < (size_t)st.st_size) {
		ssize_t k = read(fd, p + off, (size_t)st.st_size - off);
		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0)
			break;
		off += (size_t)k;
	}
	close(fd);
	*out = p;
	*len = off;
	return LACRE_OK;
}

/* A vkey given as text, or as a file holding it. */
static int load_vkey(const char *arg, struct note_verifier *v)
{
	uint8_t *p = NULL;
	size_t n = 0;
	int r;

	if (note_verifier_parse(arg, strlen(arg), v) == LACRE_OK)
		return LACRE_OK;
	if ((r = read_all(arg, NOTE_KEY_TEXT_MAX + 16, &p, &n)) != LACRE_OK)
		return r;
	while (n && (p[n - 1] == '\n' || p[n - 1] == '\r' || p[n - 1] == ' '))
		n--;
	r = note_verifier_parse((const char *)p, n, v);
	free(p);
	return r;
}

/* --policy FILE: a C2SP tlog-policy the court pins (log keys, witnesses,
 * quorum).  One error line and non-OK when it does not read or parse. */
static int load_policy(const char *path, struct policy **out)
{
	uint8_t *p = NULL;
	size_t n = 0, bad = 0;
	int r;

	if ((r = read_all(path, (size_t)1 << 20, &p, &n)) != LACRE_OK) {
		verr("--policy: cannot read %s: %s", path, lacre_strerror(r));
		return r;
	}
	if ((*out = malloc(sizeof(**out))) == NULL) {
		free(p);
		return LACRE_E_NOMEM;
	}
	if ((r = policy_parse(p, n, *out, &bad)) != LACRE_OK) {
		verr("--policy: %s:%zu: not a valid tlog-policy line (log, witness, group, quorum)",
		     path, bad);
		free(*out);
		*out = NULL;
	}
	free(p);
	return r;
}

/* The court's identity: an age-keygen file (comments and one
 * AGE-SECRET-KEY-1... line). */
static int load_identity(const char *path, struct age_x25519_identity *id)
{
	uint8_t *p = NULL;
	size_t n = 0, i = 0;
	int r = LACRE_E_NOT_FOUND;

	if ((r = read_all(path, 65536, &p, &n)) != LACRE_OK)
		return r;
	r = LACRE_E_NOT_FOUND;
	p[n] = 0;
	while (i < n) {
		char *line = (char *)p + i, *nl = strchr(line, '\n');
		size_t ll = nl ? (size_t)(nl - line) : strlen(line);
		if (ll && line[ll - 1] == '\r')
			line[ll - 1] = 0;
		if (nl)
			*nl = 0;
		if (!strncmp(line, "AGE-SECRET-KEY-1", 16)) {
			r = age_identity_parse(line, id);
			break;
		}
		i += ll + 1;
	}
	OPENSSL_cleanse(p, n);
	free(p);
	return r;
}

/* The readable report (verify_result_text, shared with lacre export's
 * self-check), on stdout. */
static void print_text(const struct verify_result *res, const char *path, int by_policy)
{
	struct lacre_dbuf t;

	lacre_dbuf_init(&t, (size_t)64 << 20);
	if (verify_result_text(res, path, by_policy ? "trusted (--policy)" : "trusted (--log-vkey)",
			       "given with --export-vkey", &t) != LACRE_OK)
		verr("the report could not be written in full: out of memory");
	fwrite(t.p, 1, t.len, stdout);
	lacre_dbuf_free(&t);
}

/* lacre-verify. */
int main(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "identity", required_argument, 0, 'i' },
		{ "json", no_argument, 0, 'j' },
		{ "log-vkey", required_argument, 0, 'L' },
		{ "export-vkey", required_argument, 0, 'E' },
		{ "witness-vkey", required_argument, 0, 'W' },
		{ "quorum", required_argument, 0, 'q' },
		{ "policy", required_argument, 0, 'P' },
		{ "extract", required_argument, 0, 'X' },
		{ "help", no_argument, 0, 'h' },
		{ 0, 0, 0, 0 }
	};
	struct rlimit no_core = { 0, 0 };
	struct note_verifier logk[VERIFY_MAX_LOGS], expk, wit[VERIFY_MAX_WITNESSES];
	struct verify_opts vo;
	struct verify_result res;
	struct age_x25519_identity id;
	struct package *pk = NULL;
	struct policy *pol = NULL;
	struct lacre_dbuf out;
	struct json_w w;
	const char *idpath = NULL, *path, *xdir = NULL;
	uint8_t *file = NULL;
	size_t flen = 0;
	char msg[512], *end;
	int c, r, json = 0, status = V_FAIL, quorum_given = 0;
	long q;

	setrlimit(RLIMIT_CORE, &no_core);
	memset(&vo, 0, sizeof(vo));
	memset(&res, 0, sizeof(res));
	memset(&id, 0, sizeof(id));
	lacre_dbuf_init(&out, (size_t)1 << 30);
	while ((c = getopt_long(argc, argv, "i:h", lo, NULL)) != -1) {
		switch (c) {
		case 'i': idpath = optarg; break;
		case 'j': json = 1; break;
		case 'L':
			if (vo.nlog_keys == VERIFY_MAX_LOGS) {
				verr("--log-vkey: at most %d, one per ingest log", VERIFY_MAX_LOGS);
				return V_USAGE;
			}
			/* fall through */
		case 'E':
			if (load_vkey(optarg, c == 'L' ? &logk[vo.nlog_keys] : &expk) != LACRE_OK) {
				verr("--%s: '%s' is neither a vkey nor a file holding one",
				     c == 'L' ? "log-vkey" : "export-vkey", optarg);
				return V_USAGE;
			}
			if (c == 'L') {
				for (size_t k = 0; k < vo.nlog_keys; k++)
					if (!strcmp(logk[k].name, logk[vo.nlog_keys].name)) {
						verr("--log-vkey: two keys for %s: give one per ingest log",
						     logk[k].name);
						return V_USAGE;
					}
				vo.log_keys = logk;
				vo.nlog_keys++;
			} else {
				vo.export_key = &expk;
			}
			break;
		case 'W':
			if (vo.nw == VERIFY_MAX_WITNESSES || load_vkey(optarg, &wit[vo.nw]) != LACRE_OK) {
				verr("--witness-vkey: '%s' is neither a vkey nor a file holding one (at most %d)",
				     optarg, VERIFY_MAX_WITNESSES);
				return V_USAGE;
			}
			vo.nw++;
			break;
		case 'q':
			q = strtol(optarg, &end, 10);
			if (*end || q < 0) {
				verr("--quorum needs a number");
				return V_USAGE;
			}
			vo.quorum = (size_t)q;
			quorum_given = 1;
			break;
		case 'P':
			if (pol != NULL || load_policy(optarg, &pol) != LACRE_OK)
				return V_USAGE;
			vo.policy = pol;
			break;
		case 'X':
			xdir = optarg;
			break;
		case 'h':
			usage(stdout);
			return V_OK;
		default:
			usage(stderr);
			return V_USAGE;
		}
	}
	if (optind + 1 != argc || !idpath) {
		usage(stderr);
		return V_USAGE;
	}
	if (pol && (vo.nlog_keys || vo.nw || quorum_given)) {
		verr("--policy names the log keys, the witnesses and the quorum: give it without "
		     "--log-vkey, --witness-vkey and --quorum");
		free(pol);
		return V_USAGE;
	}
	if (vo.quorum > vo.nw) {
		verr("--quorum %zu is more than the %zu --witness-vkey given", vo.quorum, vo.nw);
		return V_USAGE;
	}
	vo.witnesses = wit;
	path = argv[optind];
	if ((r = load_identity(idpath, &id)) != LACRE_OK) {
		verr("cannot read the court identity %s: %s (an age-keygen file with an "
		     "AGE-SECRET-KEY-1... line)", idpath, lacre_strerror(r));
		goto out;
	}
	if ((r = read_all(path, (size_t)1 << 40, &file, &flen)) != LACRE_OK) {
		verr("cannot read %s: %s", path, lacre_strerror(r));
		goto out;
	}
	r = package_open(file, flen, &id, &pk, msg, sizeof(msg));
	age_identity_wipe(&id);
	if (r == LACRE_E_AUTH || r == LACRE_E_NOMEM || r == LACRE_E_IO) {
		verr("%s: %s", path, msg[0] ? msg : lacre_strerror(r));
		goto out;
	}
	if (r != LACRE_OK) {
		/* the file opened with the court key but its bytes are not a sound package */
		res.verified = 0;
		verify_add_problem(&res, "package", "%s", msg[0] ? msg : lacre_strerror(r));
	} else if ((r = verify_package(pk, &vo, &res)) != LACRE_OK) {
		verr("verification could not run: %s", lacre_strerror(r));
		goto out;
	}
	if (json) {
		json_init(&w, &out);
		verify_result_json(&w, &res);
		if (json_finish(&w) == LACRE_OK) {
			fwrite(out.p, 1, out.len, stdout);
			fputc('\n', stdout);
		}
	} else {
		print_text(&res, path, vo.policy != NULL);
	}
	status = res.verified ? V_OK : V_VERIFY;
	if (!vo.nlog_keys && !vo.policy)
		verr("%s", VERIFY_NO_TRUSTED_KEY);
	if (xdir && !res.verified) {
		verr("nothing extracted into %s: the package did not verify", xdir);
	} else if (xdir) {
		struct extract_report xr;

		if ((r = extract_package(pk, xdir, &xr, msg, sizeof(msg))) != LACRE_OK) {
			verr("extraction failed, nothing written: %s", msg[0] ? msg : lacre_strerror(r));
			status = V_FAIL;
			goto out;
		}
		/* the report: on stderr with --json (stdout holds the JSON) */
		fprintf(json ? stderr : stdout,
			"extracted %s: %llu records (%llu decrypted: each plaintext is its record's pre-encryption\n"
			"          form, covered by the record commitment in the signed ingest log), %llu pcap (%llu packets),\n"
			"          %llu WAV (%llu RTP packets, %llu missing as silence); per file and record: %s/extract.txt\n",
			xdir, (unsigned long long)xr.records, (unsigned long long)xr.decrypted,
			(unsigned long long)xr.pcaps, (unsigned long long)xr.packets,
			(unsigned long long)xr.wavs, (unsigned long long)xr.rtp,
			(unsigned long long)xr.missing, xdir);
	}
out:
	if (file) {
		OPENSSL_cleanse(file, flen);
		free(file);
	}
	package_free(pk);
	free(pol);
	verify_result_free(&res);
	lacre_dbuf_free(&out);
	return status;
}
