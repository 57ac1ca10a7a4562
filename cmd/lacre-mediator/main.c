/*
 * main.c - lacre-mediator: a sending-side simulator of an operator's
 * mediation device (docs/cmd-lacre-mediator.md).
 *
 * It connects to a LEMF's HI2 and HI3 listeners (TCP or TLS) and delivers
 * ETSI TS 102 232 PS-PDUs for N targets: VoIP calls (SIP as IPMMIRI, G.711
 * RTP as IPMMCC) and broadband sessions (IPIRI events, IPCC packets), with
 * keep-alives, integrity checks and injectable faults; or it writes the two
 * streams to files (--output), which --replay sends later at the kernel's
 * cost (replay.c).  --summary writes what was sent, for the
 * receiver's acceptance tests to compare.
 *
 * This file: options, the clocks and PRNG, and the run loop that paces the
 * generator (--rate, --realtime) and bounds everything by --duration.
 * Exit status: 0 everything sent and every keep-alive answered, 1 failure,
 * 2 usage error.
 */
#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "lacre/ber_enc.h"
#include "lacre/err.h"
#include "lacre/etsi_enc.h"
#include "mediator.h"

static int g_verbose;

/* splitmix64 step, used to seed xoshiro. */
static uint64_t splitmix(uint64_t *x)
{
	uint64_t z = (*x += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

/* Seed the PRNG. */
void med_rng_seed(struct med_rng *r, uint64_t seed)
{
	int i;

	for (i = 0; i < 4; i++)
		r->s[i] = splitmix(&seed);
}

/* Rotate left. */
static uint64_t rotl(uint64_t x, int k)
{
	return (x << k) | (x >> (64 - k));
}

/* xoshiro256** next value. */
uint64_t med_rng_next(struct med_rng *r)
{
	uint64_t *s = r->s, res = rotl(s[1] * 5, 7) * 9, t = s[1] << 17;

	s[2] ^= s[0];
	s[3] ^= s[1];
	s[1] ^= s[2];
	s[0] ^= s[3];
	s[2] ^= t;
	s[3] = rotl(s[3], 45);
	return res;
}

/* Uniform integer in [0, n), unbiased. */
uint32_t med_rng_below(struct med_rng *r, uint32_t n)
{
	uint64_t x, lim;

	if (n <= 1)
		return 0;
	lim = UINT64_MAX - UINT64_MAX % n;
	do {
		x = med_rng_next(r);
	} while (x >= lim);
	return (uint32_t)(x % n);
}

/* Uniform double in [0, 1). */
double med_rng_unit(struct med_rng *r)
{
	return (double)(med_rng_next(r) >> 11) * (1.0 / 9007199254740992.0);
}

/* Monotonic clock in seconds. */
double med_mono(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* Wall clock in Unix microseconds. */
int64_t med_wall_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/* One line to stderr. */
void med_log(const char *fmt, ...)
{
	va_list ap;

	fputs("lacre-mediator: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

/* One line to stderr with -v. */
void med_debug(struct med_ctx *m, const char *fmt, ...)
{
	va_list ap;

	if (!g_verbose)
		return;
	fputs("lacre-mediator: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

/* Usage text. */
static void usage(FILE *f)
{
	fputs("usage: lacre-mediator --hi2 HOST:PORT --hi3 HOST:PORT [options]\n"
	    "       lacre-mediator --output FILE [options]     (writes FILE.hi2 and FILE.hi3)\n"
	    "       lacre-mediator --replay FILE --hi2 HOST:PORT --hi3 HOST:PORT [--tls...] [--connections N]\n"
	    "\n"
	    "connection:  --tls --tls-ca PEM --tls-cert PEM --tls-key PEM --connections N\n"
	    "             --allow-remote --reconnect-wait S --connect-timeout S --stall-timeout S\n"
	    "traffic:     --targets N --calls N --sessions N --pdus N --duration S --rate PDUS_PER_S\n"
	    "             --realtime --call-seconds S --session-packets N --bulk --seed N\n"
	    "             --start-time ISO8601 (alias --base-time) --timestamp generalized|microsecond\n"
	    "encoding:    --liid-prefix P --binary-liid --operator ID --network-element ID --country CC\n"
	    "             --interception-point ID --domain-id OID --lengths openli|minimal|long|indefinite\n"
	    "             --location TEXT (targetLocation of the sessions' IPIRI)\n"
	    "             --cell MCC-MNC-TAC-ECI (hex TAC, ECI: the sessions' IPIRI carry this\n"
	    "             TAI and ECGI in location [24]; the ECI moves by one per IRI)\n"
	    "             --seq-start N --unknown-ext --hi1 --mediator-id N\n"
	    "keep-alive:  --keepalive S --keepalive-wait S --keepalive-liid TEXT --no-final-keepalive\n"
	    "integrity:   --integrity-hash sha1|sha256|sha384|sha512 --integrity-every N\n"
	    "             --sign-key PEM --sign-every N --sign-digest sha256 --sign-style spec|contents\n"
	    "faults:      --split-writes --garbage --disconnect-every N --resend-after-reconnect K\n"
	    "             --inject-gaps N --inject-resets N --inject-restarts N\n"
	    "output:      --summary FILE --sent-log FILE -v --help --version\n"
	    "See docs/cmd-lacre-mediator.md.\n", f);
}

/* Parse an unsigned decimal with an upper bound. */
static int parse_u(const char *s, unsigned long long max, unsigned long long *v)
{
	char *end;
	unsigned long long x;

	if (!s || !*s || *s == '-')
		return -1;
	errno = 0;
	x = strtoull(s, &end, 10);
	if (errno || *end || x > max)
		return -1;
	*v = x;
	return 0;
}

/* The length of the field at s (characters satisfying ok up to a '-' or
 * the end; 0 when another character stops it), *next past its '-'. */
static size_t cell_field(const char *s, int (*ok)(int), const char **next)
{
	size_t n = 0;

	while (s[n] && s[n] != '-' && ok((unsigned char)s[n]))
		n++;
	*next = s[n] == '-' ? s + n + 1 : s + n;
	return s[n] == '-' || !s[n] ? n : 0;
}

/* Parse --cell MCC-MNC-TAC-ECI into a GTPv2 ULI value (TS 29.274 §8.21:
 * flags 0x18, TAI = PLMN + TAC, ECGI = PLMN + ECI), PLMN per TS 24.008
 * §10.5.1.3 (an MNC of two digits has F as its third). */
static int parse_cell(const char *a, uint8_t uli[13])
{
	const char *p = a, *q;
	unsigned d[6] = { 0 };
	unsigned long tac, eci;
	size_t nm, nn, nt, ne;
	char *end;

	if ((nm = cell_field(p, isdigit, &q)) != 3 || q[-1] != '-')
		return -1;
	for (int i = 0; i < 3; i++)
		d[i] = (unsigned)(p[i] - '0');
	p = q;
	if (((nn = cell_field(p, isdigit, &q)) != 2 && nn != 3) || q[-1] != '-')
		return -1;
	d[3] = (unsigned)(p[0] - '0');
	d[4] = (unsigned)(p[1] - '0');
	d[5] = nn == 3 ? (unsigned)(p[2] - '0') : 15u;
	p = q;
	if ((nt = cell_field(p, isxdigit, &q)) < 1 || nt > 4 || q[-1] != '-')
		return -1;
	tac = strtoul(p, &end, 16);
	p = q;
	if ((ne = cell_field(p, isxdigit, &q)) < 1 || ne > 7 || *q || q[-1] == '-')
		return -1;
	eci = strtoul(p, &end, 16);
	if (*end || eci > 0xfffffffUL)
		return -1;
	uli[0] = 0x18;
	uli[1] = (uint8_t)(d[1] << 4 | d[0]);
	uli[2] = (uint8_t)(d[5] << 4 | d[2]);
	uli[3] = (uint8_t)(d[4] << 4 | d[3]);
	uli[4] = (uint8_t)(tac >> 8);
	uli[5] = (uint8_t)tac;
	memcpy(uli + 6, uli + 1, 3);
	uli[9] = (uint8_t)(eci >> 24);
	uli[10] = (uint8_t)(eci >> 16);
	uli[11] = (uint8_t)(eci >> 8);
	uli[12] = (uint8_t)eci;
	return 0;
}

/* Parse a non-negative number of seconds. */
static int parse_secs(const char *s, double *v)
{
	char *end;
	double x;

	if (!s || !*s)
		return -1;
	errno = 0;
	x = strtod(s, &end);
	if (errno || *end || !(x >= 0) || x > 1e9)
		return -1;
	*v = x;
	return 0;
}

/* Parse "YYYY-MM-DDThh:mm:ss[.ffffff]Z" (UTC) to Unix microseconds. */
static int parse_iso(const char *s, int64_t *us)
{
	struct tm tm;
	int y, mo, d, h, mi, se, n = 0;
	int64_t frac = 0, scale = 100000;
	const char *p;
	time_t t;

	memset(&tm, 0, sizeof(tm));
	if (sscanf(s, "%4d-%2d-%2dT%2d:%2d:%2d%n", &y, &mo, &d, &h, &mi, &se, &n) != 6 || n != 19)
		return -1;
	p = s + n;
	if (*p == '.') {
		p++;
		if (*p < '0' || *p > '9')
			return -1;
		while (*p >= '0' && *p <= '9') {
			if (scale > 0)
				frac += (*p - '0') * scale;
			scale /= 10;
			p++;
		}
	}
	if (strcmp(p, "Z") != 0 && strcmp(p, "+00:00") != 0)
		return -1;
	if (y < 1970 || mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || se > 60)
		return -1;
	tm.tm_year = y - 1900;
	tm.tm_mon = mo - 1;
	tm.tm_mday = d;
	tm.tm_hour = h;
	tm.tm_min = mi;
	tm.tm_sec = se;
	t = timegm(&tm);
	if (t == (time_t)-1)
		return -1;
	*us = (int64_t)t * 1000000 + frac;
	return 0;
}

enum {
	O_HI2 = 256, O_HI3, O_TLS, O_TLS_CA, O_TLS_CERT, O_TLS_KEY, O_ALLOW_REMOTE, O_LIID_PREFIX,
	O_BINARY_LIID, O_TARGETS, O_CONNECTIONS, O_RATE, O_DURATION, O_CALLS, O_SESSIONS, O_PDUS,
	O_CALL_SECONDS, O_SESSION_PACKETS, O_SEED, O_START_TIME, O_TIMESTAMP, O_LENGTHS, O_DOMAIN,
	O_OPERATOR, O_NE, O_COUNTRY, O_IPID, O_LOCATION, O_CELL, O_MEDIATOR_ID, O_SEQ_START, O_UNKNOWN_EXT, O_KEEPALIVE,
	O_KA_WAIT, O_NO_FINAL_KA, O_RECONNECT_WAIT, O_CONNECT_TIMEOUT, O_STALL_TIMEOUT, O_IHASH,
	O_IEVERY, O_SIGN_KEY, O_SIGN_EVERY, O_SIGN_DIGEST, O_SIGN_STYLE, O_HI1, O_SPLIT, O_GARBAGE,
	O_DISCONNECT, O_RESEND, O_GAPS, O_RESETS, O_RESTARTS, O_KA_LIID, O_REALTIME, O_OUTPUT, O_REPLAY, O_BULK, O_SUMMARY, O_SENT_LOG, O_VERSION
};

static const struct option long_opts[] = {
	{ "hi2", required_argument, NULL, O_HI2 },
	{ "hi3", required_argument, NULL, O_HI3 },
	{ "tls", no_argument, NULL, O_TLS },
	{ "tls-ca", required_argument, NULL, O_TLS_CA },
	{ "tls-cert", required_argument, NULL, O_TLS_CERT },
	{ "tls-key", required_argument, NULL, O_TLS_KEY },
	{ "allow-remote", no_argument, NULL, O_ALLOW_REMOTE },
	{ "liid-prefix", required_argument, NULL, O_LIID_PREFIX },
	{ "binary-liid", no_argument, NULL, O_BINARY_LIID },
	{ "targets", required_argument, NULL, O_TARGETS },
	{ "connections", required_argument, NULL, O_CONNECTIONS },
	{ "rate", required_argument, NULL, O_RATE },
	{ "duration", required_argument, NULL, O_DURATION },
	{ "calls", required_argument, NULL, O_CALLS },
	{ "sessions", required_argument, NULL, O_SESSIONS },
	{ "pdus", required_argument, NULL, O_PDUS },
	{ "call-seconds", required_argument, NULL, O_CALL_SECONDS },
	{ "session-packets", required_argument, NULL, O_SESSION_PACKETS },
	{ "bulk", no_argument, NULL, O_BULK },
	{ "seed", required_argument, NULL, O_SEED },
	{ "start-time", required_argument, NULL, O_START_TIME },
	{ "base-time", required_argument, NULL, O_START_TIME },
	{ "timestamp", required_argument, NULL, O_TIMESTAMP },
	{ "lengths", required_argument, NULL, O_LENGTHS },
	{ "domain-id", required_argument, NULL, O_DOMAIN },
	{ "operator", required_argument, NULL, O_OPERATOR },
	{ "network-element", required_argument, NULL, O_NE },
	{ "country", required_argument, NULL, O_COUNTRY },
	{ "interception-point", required_argument, NULL, O_IPID },
	{ "location", required_argument, NULL, O_LOCATION },
	{ "cell", required_argument, NULL, O_CELL },
	{ "mediator-id", required_argument, NULL, O_MEDIATOR_ID },
	{ "seq-start", required_argument, NULL, O_SEQ_START },
	{ "unknown-ext", no_argument, NULL, O_UNKNOWN_EXT },
	{ "keepalive", required_argument, NULL, O_KEEPALIVE },
	{ "keepalive-wait", required_argument, NULL, O_KA_WAIT },
	{ "keepalive-liid", required_argument, NULL, O_KA_LIID },
	{ "no-final-keepalive", no_argument, NULL, O_NO_FINAL_KA },
	{ "reconnect-wait", required_argument, NULL, O_RECONNECT_WAIT },
	{ "connect-timeout", required_argument, NULL, O_CONNECT_TIMEOUT },
	{ "stall-timeout", required_argument, NULL, O_STALL_TIMEOUT },
	{ "integrity-hash", required_argument, NULL, O_IHASH },
	{ "integrity-every", required_argument, NULL, O_IEVERY },
	{ "sign-key", required_argument, NULL, O_SIGN_KEY },
	{ "sign-every", required_argument, NULL, O_SIGN_EVERY },
	{ "sign-digest", required_argument, NULL, O_SIGN_DIGEST },
	{ "sign-style", required_argument, NULL, O_SIGN_STYLE },
	{ "hi1", no_argument, NULL, O_HI1 },
	{ "split-writes", no_argument, NULL, O_SPLIT },
	{ "garbage", no_argument, NULL, O_GARBAGE },
	{ "disconnect-every", required_argument, NULL, O_DISCONNECT },
	{ "resend-after-reconnect", required_argument, NULL, O_RESEND },
	{ "inject-gaps", required_argument, NULL, O_GAPS },
	{ "inject-resets", required_argument, NULL, O_RESETS },
	{ "inject-restarts", required_argument, NULL, O_RESTARTS },
	{ "realtime", no_argument, NULL, O_REALTIME },
	{ "output", required_argument, NULL, O_OUTPUT },
	{ "replay", required_argument, NULL, O_REPLAY },
	{ "summary", required_argument, NULL, O_SUMMARY },
	{ "sent-log", required_argument, NULL, O_SENT_LOG },
	{ "verbose", no_argument, NULL, 'v' },
	{ "help", no_argument, NULL, 'h' },
	{ "version", no_argument, NULL, O_VERSION },
	{ NULL, 0, NULL, 0 }
};

/* Defaults, then argv.  Returns 0, 1 to exit 0 (help), or 2 on a usage error. */
static int parse_args(struct med_opts *o, int argc, char **argv)
{
	unsigned long long u;
	int c, bad = 0;

	memset(o, 0, sizeof(*o));
	o->liid_prefix = "LIID";
	o->targets = 2;
	o->connections = 1;
	o->calls = o->sessions = -1;
	o->call_seconds = 2.0;
	o->session_packets = 20;
	o->seed = 1;
	o->time_style = MED_TS_MICRO;
	o->len_style = BER_ENC_LEN_OPENLI;
	o->domain_id = ETSI_ENC_DOMAIN_OPENLI;
	o->operator_id = "lacreop";
	o->network_element = "lacre-sim";
	o->country = "ES";
	o->mediator_id = 1;
	o->keepalive_liid = "lacre-mediator-" MED_VERSION;
	o->keepalive = 30;
	o->keepalive_wait = 10;
	o->final_keepalive = 1;
	o->reconnect_wait = 0.2;
	o->connect_timeout = 10;
	o->stall_timeout = 30;
	o->integrity_every = 1000;
	o->sign_every = 15;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "vh", long_opts, NULL)) != -1) {
		const char *a = optarg;
		switch (c) {
		case O_HI2: o->hi2 = a; break;
		case O_HI3: o->hi3 = a; break;
		case O_TLS: o->tls = 1; break;
		case O_TLS_CA: o->tls_ca = a; o->tls = 1; break;
		case O_TLS_CERT: o->tls_cert = a; o->tls = 1; break;
		case O_TLS_KEY: o->tls_key = a; o->tls = 1; break;
		case O_ALLOW_REMOTE: o->allow_remote = 1; break;
		case O_LIID_PREFIX:
			if (strlen(a) > 21) { med_log("--liid-prefix is at most 21 characters"); bad = 1; }
			o->liid_prefix = a;
			break;
		case O_BINARY_LIID: o->binary_liid = 1; break;
		case O_TARGETS:
			if (parse_u(a, 1000000, &u) || u == 0) { med_log("--targets wants 1..1000000"); bad = 1; }
			else o->targets = (unsigned)u;
			break;
		case O_CONNECTIONS:
			if (parse_u(a, 5000, &u) || u == 0) { med_log("--connections wants 1..5000"); bad = 1; }
			else o->connections = (unsigned)u;
			break;
		case O_RATE:
			if (parse_secs(a, &o->rate)) { med_log("--rate wants a number of PDUs per second"); bad = 1; }
			break;
		case O_DURATION:
			if (parse_secs(a, &o->duration)) { med_log("--duration wants seconds"); bad = 1; }
			break;
		case O_CALLS:
			if (parse_u(a, 1ull << 40, &u)) { med_log("--calls wants a count"); bad = 1; }
			else o->calls = (long long)u;
			break;
		case O_SESSIONS:
			if (parse_u(a, 1ull << 40, &u)) { med_log("--sessions wants a count"); bad = 1; }
			else o->sessions = (long long)u;
			break;
		case O_PDUS:
			if (parse_u(a, 1ull << 50, &u)) { med_log("--pdus wants a count"); bad = 1; }
			else o->pdus = (long long)u;
			break;
		case O_CALL_SECONDS:
			if (parse_secs(a, &o->call_seconds) || o->call_seconds > 86400) {
				med_log("--call-seconds wants 0..86400"); bad = 1;
			}
			break;
		case O_SESSION_PACKETS:
			if (parse_u(a, 10000000, &u)) { med_log("--session-packets wants a count"); bad = 1; }
			else o->session_packets = (unsigned)u;
			break;
		case O_SEED:
			if (parse_u(a, UINT64_MAX, &u)) { med_log("--seed wants an unsigned number"); bad = 1; }
			else o->seed = u;
			break;
		case O_START_TIME:
			if (parse_iso(a, &o->start_us)) {
				med_log("--start-time wants YYYY-MM-DDThh:mm:ss[.ffffff]Z"); bad = 1;
			}
			o->have_start = 1;
			break;
		case O_TIMESTAMP:
			if (!strcmp(a, "generalized")) o->time_style = MED_TS_GENERALIZED;
			else if (!strcmp(a, "microsecond")) o->time_style = MED_TS_MICRO;
			else { med_log("--timestamp wants generalized or microsecond"); bad = 1; }
			break;
		case O_LENGTHS:
			if (!strcmp(a, "openli")) o->len_style = BER_ENC_LEN_OPENLI;
			else if (!strcmp(a, "minimal")) o->len_style = BER_ENC_LEN_MINIMAL;
			else if (!strcmp(a, "long")) o->len_style = BER_ENC_LEN_LONG;
			else if (!strcmp(a, "indefinite")) o->len_style = BER_ENC_LEN_INDEFINITE;
			else { med_log("--lengths wants openli, minimal, long or indefinite"); bad = 1; }
			break;
		case O_DOMAIN: o->domain_id = a; break;
		case O_OPERATOR: o->operator_id = a; break;
		case O_NE: o->network_element = a; break;
		case O_COUNTRY:
			if (strlen(a) != 2) { med_log("--country wants 2 letters"); bad = 1; }
			o->country = a;
			break;
		case O_IPID: o->interception_point = a; break;
		case O_LOCATION:
			if (!*a || strlen(a) > 64) { med_log("--location wants 1..64 characters"); bad = 1; }
			else o->location = a;
			break;
		case O_CELL:
			if (parse_cell(a, o->cell_uli)) {
				med_log("--cell wants MCC-MNC-TAC-ECI: 3 digits, 2 or 3 digits, 1-4 and 1-7 hex digits (ECI < 2^28)");
				bad = 1;
			} else {
				o->has_cell = 1;
			}
			break;
		case O_MEDIATOR_ID:
			if (parse_u(a, 99999999, &u)) { med_log("--mediator-id wants a number"); bad = 1; }
			else o->mediator_id = (unsigned)u;
			break;
		case O_SEQ_START:
			if (parse_u(a, 0xffffffffull, &u)) { med_log("--seq-start wants 0..4294967295"); bad = 1; }
			else o->seq_start = u;
			break;
		case O_UNKNOWN_EXT: o->unknown_ext = 1; break;
		case O_KEEPALIVE:
			if (parse_secs(a, &o->keepalive)) { med_log("--keepalive wants seconds"); bad = 1; }
			break;
		case O_KA_WAIT:
			if (parse_secs(a, &o->keepalive_wait)) { med_log("--keepalive-wait wants seconds"); bad = 1; }
			break;
		case O_NO_FINAL_KA: o->final_keepalive = 0; break;
		case O_KA_LIID:
			if (strlen(a) < 1 || strlen(a) > 25) { med_log("--keepalive-liid wants 1..25 characters"); bad = 1; }
			o->keepalive_liid = a;
			break;
		case O_RECONNECT_WAIT:
			if (parse_secs(a, &o->reconnect_wait)) { med_log("--reconnect-wait wants seconds"); bad = 1; }
			break;
		case O_CONNECT_TIMEOUT:
			if (parse_secs(a, &o->connect_timeout)) { med_log("--connect-timeout wants seconds"); bad = 1; }
			break;
		case O_STALL_TIMEOUT:
			if (parse_secs(a, &o->stall_timeout)) { med_log("--stall-timeout wants seconds"); bad = 1; }
			break;
		case O_IHASH: o->integrity_hash = a; break;
		case O_IEVERY:
			if (parse_u(a, 10000000, &u) || u == 0) { med_log("--integrity-every wants 1..10000000"); bad = 1; }
			else o->integrity_every = (unsigned)u;
			break;
		case O_SIGN_KEY: o->sign_key = a; break;
		case O_SIGN_EVERY:
			if (parse_u(a, 1000000, &u) || u == 0) { med_log("--sign-every wants 1..1000000"); bad = 1; }
			else o->sign_every = (unsigned)u;
			break;
		case O_SIGN_DIGEST: o->sign_digest = a; break;
		case O_SIGN_STYLE:
			if (!strcmp(a, "spec")) o->sign_style = 0;
			else if (!strcmp(a, "contents")) o->sign_style = 1;
			else { med_log("--sign-style wants spec or contents"); bad = 1; }
			break;
		case O_HI1: o->hi1 = 1; break;
		case O_SPLIT: o->split_writes = 1; break;
		case O_GARBAGE: o->garbage = 1; break;
		case O_DISCONNECT:
			if (parse_u(a, 1ull << 40, &u)) { med_log("--disconnect-every wants a count"); bad = 1; }
			else o->disconnect_every = (unsigned long)u;
			break;
		case O_RESEND:
			if (parse_u(a, 100000, &u)) { med_log("--resend-after-reconnect wants 0..100000"); bad = 1; }
			else o->resend_after_reconnect = (unsigned)u;
			break;
		case O_GAPS:
			if (parse_u(a, 1ull << 40, &u)) { med_log("--inject-gaps wants a count"); bad = 1; }
			else o->inject_gaps = (unsigned long)u;
			break;
		case O_RESETS:
			if (parse_u(a, 1ull << 40, &u)) { med_log("--inject-resets wants a count"); bad = 1; }
			else o->inject_resets = (unsigned long)u;
			break;
		case O_RESTARTS:
			if (parse_u(a, 1ull << 40, &u)) { med_log("--inject-restarts wants a count"); bad = 1; }
			else o->inject_restarts = (unsigned long)u;
			break;
		case O_REALTIME: o->realtime = 1; break;
		case O_OUTPUT: o->output = a; break;
		case O_REPLAY: o->replay = a; break;
		case O_BULK: o->bulk = 1; break;
		case O_SUMMARY: o->summary = a; break;
		case O_SENT_LOG: o->sent_log = a; break;
		case 'v': o->verbose = 1; break;
		case 'h': usage(stdout); return 1;
		case O_VERSION: printf("lacre-mediator " MED_VERSION "\n"); return 1;
		default:
			med_log("unknown option %s: see lacre-mediator --help", argv[optind - 1]);
			return 2;
		}
	}
	if (optind < argc) {
		med_log("unexpected argument %s: see lacre-mediator --help", argv[optind]);
		return 2;
	}
	if (!bad && !o->output && (!o->hi2 || !o->hi3)) {
		med_log("give --hi2 HOST:PORT and --hi3 HOST:PORT, or --output FILE");
		bad = 1;
	}
	if (!bad && o->replay && (o->output || o->summary || o->sent_log)) {
		med_log("--replay sends files written before: --output, --summary and --sent-log belong "
		    "to a run that generates PDUs");
		bad = 1;
	}
	if (!bad && o->output && (o->split_writes || o->garbage || o->disconnect_every ||
	    o->resend_after_reconnect || o->tls))
		med_log("network fault and TLS options have no effect with --output");
	if (!bad && o->output && o->sent_log) {
		med_log("--sent-log logs what was written to connections: drop it with --output");
		bad = 1;
	}
	return bad ? 2 : 0;
}

/* Generate and deliver; returns 0 on success or a lacre_err. */
static int run(struct med_ctx *m)
{
	double next_release, now, end = 0;
	int r = 0, gen_done = 0;
	uint64_t before;

	m->wall0 = med_mono();
	m->t0_us = m->o.have_start ? m->o.start_us : med_wall_us();
	m->vnow = m->t0_us;
	if ((r = med_integrity_init(m)) != 0 || (r = med_net_init(m)) != 0 ||
	    (r = med_gen_init(m)) != 0)
		return r;
	if (m->o.duration > 0)
		end = m->wall0 + m->o.duration;
	next_release = m->wall0;
	for (;;) {
		int budget = 512;
		double wait = 0.05;

		now = med_mono();
		if (m->failed)
			return LACRE_E_NETWORK;
		if (end > 0 && now >= end)
			break;
		while (budget-- > 0 && med_net_has_room(m)) {
			int64_t vt = med_gen_next_time(m);
			if (vt < 0) {
				gen_done = 1;
				break;
			}
			if (m->o.rate > 0 && next_release > now) {
				wait = next_release - now;
				break;
			}
			if (m->o.realtime) {
				double due = m->wall0 + (double)(vt - m->t0_us) / 1e6;
				if (due > now) {
					wait = due - now;
					break;
				}
			}
			m->vnow = vt;
			before = m->st.generated;
			if ((r = med_gen_step(m)) < 0) {
				med_log("generating traffic failed: %s", lacre_strerror(r));
				return r;
			}
			if (m->o.rate > 0) {
				if (next_release < now - 1.0)
					next_release = now - 1.0;   /* catch up at most 1 s of backlog */
				next_release += (double)(m->st.generated - before) / m->o.rate;
			}
			wait = 0;
		}
		if (gen_done && med_net_idle(m))
			break;
		if (gen_done)
			wait = 0.05;
		if (end > 0 && now + wait > end)
			wait = end - now;
		if (m->net && !m->o.output) {
			if ((r = med_net_service(m, wait)) != 0)
				return r;
		}
	}
	if ((r = med_gen_finish(m)) != 0)
		return r;
	now = med_mono();
	{
		double grace = m->o.keepalive_wait > 2 ? m->o.keepalive_wait + 1 : 3;
		double deadline = end > 0 ? now + grace : now + (m->o.stall_timeout > 0 ? m->o.stall_timeout : 60) + grace;
		r = med_net_finish(m, deadline);
	}
	if (r == 0 && m->failed)
		r = LACRE_E_NETWORK;
	return r;
}

/* Entry point. */
int main(int argc, char **argv)
{
	struct med_ctx m;
	int r, rc;

	memset(&m, 0, sizeof(m));
	rc = parse_args(&m.o, argc, argv);
	if (rc == 1)
		return 0;
	if (rc == 2)
		return 2;
	g_verbose = m.o.verbose;
	if (m.o.replay) {
		r = med_replay(&m);
		return r == 0 ? 0 : 1;
	}
	r = run(&m);
	if (r == 0 && m.st.keepalive_failures > 0) {
		med_log("%llu keep-alive failure(s): the receiver did not answer as a LEMF must",
		    (unsigned long long)m.st.keepalive_failures);
		r = LACRE_E_VERIFY;
	}
	if (r != 0)
		m.st.errors++;
	if (m.o.summary && m.liids && med_summary_write(&m, m.o.summary) != 0)
		r = r ? r : LACRE_E_IO;
	if (m.o.verbose || r != 0)
		med_log("%llu PDUs (%llu data) and %llu bytes sent, %llu keep-alives, %llu answered%s",
		    (unsigned long long)m.st.pdus_sent, (unsigned long long)m.st.data_pdus_sent,
		    (unsigned long long)m.st.bytes_sent, (unsigned long long)m.st.keepalives_sent,
		    (unsigned long long)m.st.keepalive_ok, r ? "; FAILED" : "");
	med_gen_free(&m);
	med_net_free(&m);
	med_integrity_free(&m);
	free(m.streams);
	free(m.liids);
	(void)rint;
	return r == 0 ? 0 : 1;
}
