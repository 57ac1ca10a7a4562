/*
 * operator.c - the operators of a site (lacre.conf operator.NAME.*): the
 * parties whose mediation devices deliver to it, each with the credentials
 * the receiver authenticates a connection by (issue 11, docs/site.md
 * "Operators").
 *
 *   operator.NAME.cert_sha256 = HEX[, HEX...]   SHA-256 of the client certificate (DER)
 *   operator.NAME.ca          = /path/ca.pem    CA bundle its certificates chain to
 *   operator.NAME.subject     = CN=...,O=...    the certificate's subject (RFC 2253)
 *   operator.NAME.addresses   = CIDR[, CIDR...] allowed source addresses
 *
 * The keys are not in config.c's fixed table (the names are the site's):
 * config.c hands every "operator." key to site_operator_set/get here, and
 * calls site_operator_check and site_operator_write for the whole set.
 * Values are parsed into binary form once (fingerprints, networks), so the
 * receiver compares bytes, never text.  No secret is held here.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "lacre/buf.h"
#include "lacre/err.h"
#include "lacre/site.h"

#define OP_PREFIX "operator."
#define OP_PREFIX_LEN 9

/* The attributes of an operator, their key suffix and SITE_OP_* bit. */
static const struct {
	const char *attr;
	unsigned bit;
	const char *doc;
} attrs[] = {
	{ "cert_sha256", SITE_OP_CERT,
	  "SHA-256 fingerprints of its TLS client certificates (openssl x509 -noout -fingerprint -sha256), comma-separated" },
	{ "ca", SITE_OP_CA, "PEM bundle of the CA that issues its client certificates (with subject)" },
	{ "subject", SITE_OP_SUBJECT,
	  "subject of its client certificate as openssl x509 -noout -subject -nameopt RFC2253 prints it (with ca)" },
	{ "addresses", SITE_OP_ADDRESSES,
	  "source addresses its connections may come from: IPs or CIDRs, comma-separated" },
};
#define NATTRS (sizeof(attrs) / sizeof(attrs[0]))

int site_operator_name_ok(const char *name)
{
	size_t n = name ? strlen(name) : 0;

	if (n == 0 || n >= SITE_OPERATOR_NAME_MAX)
		return 0;
	for (size_t i = 0; i < n; i++)
		if (!isalnum((unsigned char)name[i]) && name[i] != '_' && name[i] != '-')
			return 0;
	return 1;
}

const struct site_operator *site_operator_find(const struct site_config *cfg, const char *name)
{
	if (cfg == NULL || name == NULL)
		return NULL;
	for (size_t i = 0; i < cfg->n_operators; i++)
		if (strcmp(cfg->operators[i].name, name) == 0)
			return &cfg->operators[i];
	return NULL;
}

/* Split "operator.NAME.ATTR" into name (capacity SITE_OPERATOR_NAME_MAX)
 * and the attribute's index in attrs[].  LACRE_E_CONFIG with msg. */
static int key_split(const char *key, char name[SITE_OPERATOR_NAME_MAX], size_t *ai, char *msg,
		     size_t msglen)
{
	const char *n0 = key + OP_PREFIX_LEN, *dot = strrchr(key, '.');
	size_t nn;

	if (strncmp(key, OP_PREFIX, OP_PREFIX_LEN) != 0 || dot == NULL || dot < n0) {
		lacre_msg(msg, msglen, "%s: operator keys are operator.NAME.ATTRIBUTE", key);
		return LACRE_E_CONFIG;
	}
	nn = (size_t)(dot - n0);
	if (nn == 0 || nn >= SITE_OPERATOR_NAME_MAX) {
		lacre_msg(msg, msglen, "%s: an operator name is 1 to %d characters", key,
			  SITE_OPERATOR_NAME_MAX - 1);
		return LACRE_E_CONFIG;
	}
	memcpy(name, n0, nn);
	name[nn] = '\0';
	if (!site_operator_name_ok(name)) {
		lacre_msg(msg, msglen, "%s: operator name '%s' may hold only A-Z a-z 0-9 _ -", key, name);
		return LACRE_E_CONFIG;
	}
	for (size_t i = 0; i < NATTRS; i++)
		if (strcmp(dot + 1, attrs[i].attr) == 0) {
			*ai = i;
			return LACRE_OK;
		}
	lacre_msg(msg, msglen, "%s: unknown operator attribute '%s' (cert_sha256, ca, subject, addresses)",
		  key, dot + 1);
	return LACRE_E_CONFIG;
}

int site_operator_key_bit(const char *key, char name[SITE_OPERATOR_NAME_MAX], unsigned *bit)
{
	size_t ai;

	if (key == NULL || key_split(key, name, &ai, NULL, 0) != LACRE_OK)
		return LACRE_E_CONFIG;
	*bit = attrs[ai].bit;
	return LACRE_OK;
}

/* Value of a hex digit, or -1. */
static int hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c = tolower(c);
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

/* Parse one fingerprint token: 64 hex digits, optionally in colon-separated
 * pairs (as openssl prints it), either case. */
static int fp_parse(const char *t, size_t n, uint8_t out[32])
{
	size_t i = 0, k = 0;

	while (i < n && k < 32) {
		int hi, lo;
		if (i + 1 >= n || (hi = hexval(t[i])) < 0 || (lo = hexval(t[i + 1])) < 0)
			return LACRE_E_MALFORMED;
		out[k++] = (uint8_t)(hi << 4 | lo);
		i += 2;
		if (i < n && t[i] == ':' && k < 32)
			i++;
	}
	return k == 32 && i == n ? LACRE_OK : LACRE_E_MALFORMED;
}

/* Parse one address token: an IPv4 or IPv6 address with an optional
 * "/prefix"; host bits past the prefix must be zero. */
static int net_parse(const char *t, size_t n, struct site_net *net)
{
	char a[INET6_ADDRSTRLEN + 8];
	const char *slash;
	size_t an;
	unsigned long pfx, max;

	if (n >= sizeof(a))
		return LACRE_E_MALFORMED;
	memcpy(a, t, n);
	a[n] = '\0';
	slash = strchr(a, '/');
	an = slash ? (size_t)(slash - a) : n;
	a[an] = '\0';
	memset(net, 0, sizeof(*net));
	if (inet_pton(AF_INET, a, net->addr) == 1) {
		net->fam = 4;
		max = 32;
	} else if (inet_pton(AF_INET6, a, net->addr) == 1) {
		net->fam = 6;
		max = 128;
	} else {
		return LACRE_E_MALFORMED;
	}
	pfx = max;
	if (slash) {
		const char *p = slash + 1;
		if (*p == '\0' || strlen(p) > 3)
			return LACRE_E_MALFORMED;
		pfx = 0;
		for (; *p; p++) {
			if (!isdigit((unsigned char)*p))
				return LACRE_E_MALFORMED;
			pfx = pfx * 10 + (unsigned long)(*p - '0');
		}
		if (pfx > max)
			return LACRE_E_MALFORMED;
	}
	net->prefix = (uint8_t)pfx;
	for (unsigned long bit = pfx; bit < max; bit++)
		if (net->addr[bit / 8] & (0x80u >> (bit % 8)))
			return LACRE_E_RANGE;     /* host bits set: a typo, not a network */
	return LACRE_OK;
}

/* Call fn on each token of a list separated by commas and/or blanks;
 * stops at the first error. */
static int each_token(const char *v, int (*fn)(void *, const char *, size_t), void *ctx)
{
	const char *p = v;
	int r;

	for (;;) {
		size_t n;
		p += strspn(p, ", \t");
		if (*p == '\0')
			return LACRE_OK;
		n = strcspn(p, ", \t");
		if ((r = fn(ctx, p, n)) != LACRE_OK)
			return r;
		p += n;
	}
}

struct list_ctx {
	struct site_operator *op;
	const char *key;
	char *msg;
	size_t msglen;
};

/* each_token callback: one fingerprint of cert_sha256. */
static int add_fp(void *vc, const char *t, size_t n)
{
	struct list_ctx *c = vc;
	uint8_t fp[32];

	if (fp_parse(t, n, fp) != LACRE_OK) {
		lacre_msg(c->msg, c->msglen, "%s: '%.*s' is not a SHA-256 fingerprint (64 hex digits, "
			  "colons allowed: openssl x509 -noout -fingerprint -sha256)", c->key, (int)n, t);
		return LACRE_E_CONFIG;
	}
	for (size_t i = 0; i < c->op->n_fps; i++)
		if (memcmp(c->op->fps[i], fp, 32) == 0) {
			lacre_msg(c->msg, c->msglen, "%s: fingerprint '%.*s' is listed twice", c->key,
				  (int)n, t);
			return LACRE_E_CONFIG;
		}
	if (c->op->n_fps == SITE_OPERATOR_FPS) {
		lacre_msg(c->msg, c->msglen, "%s: more than %d fingerprints", c->key, SITE_OPERATOR_FPS);
		return LACRE_E_CONFIG;
	}
	memcpy(c->op->fps[c->op->n_fps++], fp, 32);
	return LACRE_OK;
}

/* each_token callback: one network of addresses. */
static int add_net(void *vc, const char *t, size_t n)
{
	struct list_ctx *c = vc;
	struct site_net net;
	int r = net_parse(t, n, &net);

	if (r == LACRE_E_RANGE) {
		lacre_msg(c->msg, c->msglen, "%s: '%.*s' has bits set past its prefix; write the network "
			  "address (e.g. 192.0.2.0/24)", c->key, (int)n, t);
		return LACRE_E_CONFIG;
	}
	if (r != LACRE_OK) {
		lacre_msg(c->msg, c->msglen, "%s: '%.*s' is not an IP address or CIDR (192.0.2.0/24, "
			  "2001:db8::/32)", c->key, (int)n, t);
		return LACRE_E_CONFIG;
	}
	if (c->op->n_nets == SITE_OPERATOR_NETS) {
		lacre_msg(c->msg, c->msglen, "%s: more than %d addresses", c->key, SITE_OPERATOR_NETS);
		return LACRE_E_CONFIG;
	}
	c->op->nets[c->op->n_nets++] = net;
	return LACRE_OK;
}

int site_operator_set(struct site_config *cfg, const char *key, const char *value, char *msg,
		      size_t msglen)
{
	char name[SITE_OPERATOR_NAME_MAX];
	struct site_operator tmp, *op = NULL;
	struct list_ctx lc;
	size_t ai, i;
	int r;

	if (cfg == NULL || key == NULL || value == NULL)
		return LACRE_E_INVALID;
	if ((r = key_split(key, name, &ai, msg, msglen)) != LACRE_OK)
		return r;
	for (i = 0; i < cfg->n_operators; i++)
		if (strcmp(cfg->operators[i].name, name) == 0)
			op = &cfg->operators[i];
	if (op == NULL && cfg->n_operators == SITE_OPERATOR_MAX) {
		lacre_msg(msg, msglen, "%s: more than %d operators", key, SITE_OPERATOR_MAX);
		return LACRE_E_CONFIG;
	}
	/* parse into a copy: a bad value leaves the configuration as it was */
	if (op)
		tmp = *op;
	else {
		memset(&tmp, 0, sizeof(tmp));
		memcpy(tmp.name, name, sizeof(name));
	}
	lc.op = &tmp;
	lc.key = key;
	lc.msg = msg;
	lc.msglen = msglen;
	switch (attrs[ai].bit) {
	case SITE_OP_CERT:
		tmp.n_fps = 0;
		if ((r = each_token(value, add_fp, &lc)) != LACRE_OK)
			return r;
		break;
	case SITE_OP_ADDRESSES:
		tmp.n_nets = 0;
		if ((r = each_token(value, add_net, &lc)) != LACRE_OK)
			return r;
		break;
	case SITE_OP_CA:
		if (strlen(value) >= sizeof(tmp.ca)) {
			lacre_msg(msg, msglen, "%s: value longer than %zu bytes", key, sizeof(tmp.ca) - 1);
			return LACRE_E_CONFIG;
		}
		memcpy(tmp.ca, value, strlen(value) + 1);
		break;
	case SITE_OP_SUBJECT:
		if (strlen(value) >= sizeof(tmp.subject)) {
			lacre_msg(msg, msglen, "%s: value longer than %zu bytes", key,
				  sizeof(tmp.subject) - 1);
			return LACRE_E_CONFIG;
		}
		memcpy(tmp.subject, value, strlen(value) + 1);
		break;
	}
	if (value[0] != '\0')
		tmp.set |= attrs[ai].bit;
	else
		tmp.set &= ~attrs[ai].bit;
	if (op == NULL)
		op = &cfg->operators[cfg->n_operators++];
	*op = tmp;
	return LACRE_OK;
}

/* Append text to out[*o..cap); LACRE_E_TOO_LARGE when it does not fit. */
static int put(char *out, size_t cap, size_t *o, const char *s)
{
	size_t n = strlen(s);

	if (n >= cap - *o)
		return LACRE_E_TOO_LARGE;
	memcpy(out + *o, s, n + 1);
	*o += n;
	return LACRE_OK;
}

/* Text form of one attribute of op into out. */
static int attr_format(const struct site_operator *op, unsigned bit, char *out, size_t outlen)
{
	static const char hx[] = "0123456789abcdef";
	char t[INET6_ADDRSTRLEN + 8];
	size_t o = 0;
	int r = LACRE_OK;

	if (outlen == 0)
		return LACRE_E_TOO_LARGE;
	out[0] = '\0';
	switch (bit) {
	case SITE_OP_CERT:
		for (size_t i = 0; r == LACRE_OK && i < op->n_fps; i++) {
			char h[66];
			for (int k = 0; k < 32; k++) {
				h[2 * k] = hx[op->fps[i][k] >> 4];
				h[2 * k + 1] = hx[op->fps[i][k] & 15];
			}
			h[64] = '\0';
			if (i)
				r = put(out, outlen, &o, ", ");
			if (r == LACRE_OK)
				r = put(out, outlen, &o, h);
		}
		return r;
	case SITE_OP_ADDRESSES:
		for (size_t i = 0; r == LACRE_OK && i < op->n_nets; i++) {
			const struct site_net *n = &op->nets[i];
			char a[INET6_ADDRSTRLEN];
			if (!inet_ntop(n->fam == 4 ? AF_INET : AF_INET6, n->addr, a, sizeof(a)))
				return LACRE_E_INTERNAL;
			if (n->prefix == (n->fam == 4 ? 32 : 128))
				snprintf(t, sizeof(t), "%s", a);
			else
				snprintf(t, sizeof(t), "%s/%u", a, (unsigned)n->prefix);
			if (i)
				r = put(out, outlen, &o, ", ");
			if (r == LACRE_OK)
				r = put(out, outlen, &o, t);
		}
		return r;
	case SITE_OP_CA:
		return put(out, outlen, &o, op->ca);
	default:
		return put(out, outlen, &o, op->subject);
	}
}

int site_operator_get(const struct site_config *cfg, const char *key, char *out, size_t outlen)
{
	char name[SITE_OPERATOR_NAME_MAX];
	const struct site_operator *op;
	size_t ai;

	if (cfg == NULL || key == NULL || out == NULL || key_split(key, name, &ai, NULL, 0) != LACRE_OK)
		return LACRE_E_NOT_FOUND;
	if ((op = site_operator_find(cfg, name)) == NULL)
		return LACRE_E_NOT_FOUND;
	return attr_format(op, attrs[ai].bit, out, outlen);
}

int site_operator_check(const struct site_config *cfg, char *msg, size_t msglen)
{
	struct stat st;

	if (cfg == NULL)
		return LACRE_E_INVALID;
	for (size_t i = 0; i < cfg->n_operators; i++) {
		const struct site_operator *op = &cfg->operators[i];
		const char *n = op->name;

		if ((op->set & SITE_OP_CA) && !(op->set & SITE_OP_SUBJECT)) {
			lacre_msg(msg, msglen, "operator.%s.subject: needed with operator.%s.ca (else any "
				  "certificate of that CA would be this operator)", n, n);
			return LACRE_E_CONFIG;
		}
		if ((op->set & SITE_OP_SUBJECT) && !(op->set & SITE_OP_CA)) {
			lacre_msg(msg, msglen, "operator.%s.ca: needed with operator.%s.subject (a subject "
				  "is only trusted from its CA)", n, n);
			return LACRE_E_CONFIG;
		}
		if (!(op->set & (SITE_OP_CERT | SITE_OP_CA | SITE_OP_ADDRESSES))) {
			lacre_msg(msg, msglen, "operator.%s: no credential: set operator.%s.cert_sha256, "
				  "operator.%s.ca with .subject, or operator.%s.addresses", n, n, n, n);
			return LACRE_E_CONFIG;
		}
		if ((op->set & SITE_OP_CA) &&
		    (op->ca[0] != '/' || stat(op->ca, &st) != 0 || !S_ISREG(st.st_mode))) {
			lacre_msg(msg, msglen, "operator.%s.ca: '%s' is not a readable file (give an "
				  "absolute path)", n, op->ca);
			return LACRE_E_CONFIG;
		}
		for (size_t j = 0; j < i; j++)
			if ((op->set & SITE_OP_CA) && (cfg->operators[j].set & SITE_OP_CA) &&
			    !strcmp(op->ca, cfg->operators[j].ca) &&
			    !strcmp(op->subject, cfg->operators[j].subject)) {
				lacre_msg(msg, msglen, "operator.%s.subject: the same CA and subject as "
					  "operator %s; one certificate cannot be two operators", n,
					  cfg->operators[j].name);
				return LACRE_E_CONFIG;
			}
		for (size_t j = 0; j < i; j++)
			for (size_t a = 0; a < op->n_fps; a++)
				for (size_t b = 0; b < cfg->operators[j].n_fps; b++)
					if (!memcmp(op->fps[a], cfg->operators[j].fps[b], 32)) {
						lacre_msg(msg, msglen, "operator.%s.cert_sha256: a fingerprint "
							  "also belongs to operator %s; give each operator its "
							  "own certificate", n, cfg->operators[j].name);
						return LACRE_E_CONFIG;
					}
	}
	return LACRE_OK;
}

int site_operator_write(const struct site_config *cfg, struct lacre_dbuf *out)
{
	char v[SITE_PATH_MAX];
	int r = LACRE_OK;

	if (cfg->n_operators)
		r = lacre_dbuf_add_str(out, "\n# Operators (docs/site.md): each connection is authenticated "
				       "to one of them;\n# a warrant names the operators obliged to deliver it.\n");
	for (size_t i = 0; r == LACRE_OK && i < cfg->n_operators; i++)
		for (size_t a = 0; r == LACRE_OK && a < NATTRS; a++) {
			if (!(cfg->operators[i].set & attrs[a].bit))
				continue;
			r = attr_format(&cfg->operators[i], attrs[a].bit, v, sizeof(v));
			if (r == LACRE_OK)
				r = lacre_dbuf_printf(out, "\n# %s\noperator.%s.%s = %s\n", attrs[a].doc,
						      cfg->operators[i].name, attrs[a].attr, v);
		}
	return r;
}

int site_net_match(const struct site_net *nets, size_t n, int fam, const uint8_t *addr)
{
	static const uint8_t mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };

	if (addr == NULL)
		return 0;
	if (fam == 6 && memcmp(addr, mapped, 12) == 0) {
		fam = 4;                  /* ::ffff:a.b.c.d on a dual-stack socket */
		addr += 12;
	}
	for (size_t i = 0; i < n; i++) {
		const struct site_net *t = &nets[i];
		unsigned full = t->prefix / 8u, rest = t->prefix % 8u;

		if (t->fam != fam)
			continue;
		if (memcmp(t->addr, addr, full) != 0)
			continue;
		if (rest && ((t->addr[full] ^ addr[full]) & (uint8_t)(0xff00u >> rest)))
			continue;
		return 1;
	}
	return 0;
}
