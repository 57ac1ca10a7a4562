/*
 * op_auth.c - which operator a handover connection belongs to (issue 11,
 * docs/cmd-ingest.md "Operators").  lacre.conf names each operator with
 * its credentials (site.h struct site_operator); the receiver calls
 * ingest_op_auth_conn() once per connection, after the TLS handshake or
 * at accept on a plain-TCP listener, and stamps the operator's name on
 * every record of the connection.  The routing (seal_sink.c) then seals a
 * record to a warrant only when the warrant names that operator.
 *
 * The rule: operator X matches a connection when
 *   - X has certificate credentials (cert_sha256 and/or ca + subject) and
 *     the connection's client certificate has one of X's fingerprints, or
 *     chains to X's CA and carries exactly X's subject (RFC 2253 form);
 *     or X has none (address-only operator), and
 *   - X has no addresses, or the peer address is inside one of them.
 * A certificate match outranks an address-only match (a device proves
 * more with its key than with its address); exactly one operator must
 * match at the highest rank, else the connection is refused: matching
 * none, or two equally, is an alert, never a guess.
 *
 * Each operator's CA file is loaded into its own X509_STORE when the
 * server is created (before any confinement), so a certificate of one
 * operator's CA is never taken for another's.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/bio.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>
#include <openssl/x509v3.h>

#include "lacre/err.h"
#include "lacre/site.h"
#include "ingest/ingest_int.h"

struct ingest_op_auth {
	size_t n;
	X509_STORE *ca[SITE_OPERATOR_MAX];   /* NULL: the operator has no CA */
};

/* See ingest_int.h. */
int ingest_op_auth_new(const struct ingest_config *cfg, struct ingest_op_auth **out, char *why,
		       size_t why_len)
{
	struct ingest_op_auth *a;

	*out = NULL;
	if (cfg->n_operators > SITE_OPERATOR_MAX || (cfg->n_operators && !cfg->operators)) {
		snprintf(why, why_len, "more than %d operators", SITE_OPERATOR_MAX);
		return LACRE_E_CONFIG;
	}
	if (!(a = calloc(1, sizeof(*a))))
		return LACRE_E_NOMEM;
	a->n = cfg->n_operators;
	for (size_t i = 0; i < a->n; i++) {
		const struct site_operator *op = &cfg->operators[i];

		if (!(op->set & SITE_OP_CA))
			continue;
		if (!(a->ca[i] = X509_STORE_new()) || X509_STORE_load_file(a->ca[i], op->ca) != 1) {
			snprintf(why, why_len, "cannot load the CA file %s of operator %s "
				 "(operator.%s.ca): check it is a PEM bundle", op->ca, op->name, op->name);
			ERR_clear_error();
			ingest_op_auth_free(a);
			return LACRE_E_CONFIG;
		}
	}
	*out = a;
	return LACRE_OK;
}

void ingest_op_auth_free(struct ingest_op_auth *a)
{
	if (!a)
		return;
	for (size_t i = 0; i < a->n; i++)
		X509_STORE_free(a->ca[i]);
	free(a);
}

/* The RFC 2253 text of cert's subject (as openssl x509 -nameopt RFC2253
 * prints it) into out; "" when it cannot be printed. */
static void subject_text(X509 *cert, char *out, size_t outlen)
{
	BIO *b = BIO_new(BIO_s_mem());
	int n;

	out[0] = '\0';
	if (!b)
		return;
	if (X509_NAME_print_ex(b, X509_get_subject_name(cert), 0, XN_FLAG_RFC2253) >= 0 &&
	    (n = BIO_read(b, out, (int)outlen - 1)) > 0)
		out[n] = '\0';
	BIO_free(b);
}

/* Whether cert (with the untrusted chain the peer sent) chains to store,
 * for a TLS client. */
static int chains_to(X509_STORE *store, X509 *cert, STACK_OF(X509) *chain)
{
	X509_STORE_CTX *x = X509_STORE_CTX_new();
	int ok = 0;

	if (x && X509_STORE_CTX_init(x, store, cert, chain) == 1 &&
	    X509_STORE_CTX_set_purpose(x, X509_PURPOSE_SSL_CLIENT) == 1)
		ok = X509_verify_cert(x) == 1;
	X509_STORE_CTX_free(x);
	ERR_clear_error();
	return ok;
}

/* See ingest_int.h. */
int ingest_op_auth_conn(const struct ingest_op_auth *a, const struct ingest_config *cfg, SSL *ssl,
			int fam, const uint8_t *addr, size_t *idx, char fp_hex[65], char *subject,
			size_t subject_len, char *why, size_t why_len)
{
	static const char hx[] = "0123456789abcdef";
	X509 *cert = ssl ? SSL_get1_peer_certificate(ssl) : NULL;
	STACK_OF(X509) *chain = ssl ? SSL_get_peer_cert_chain(ssl) : NULL;
	uint8_t md[EVP_MAX_MD_SIZE];
	unsigned mdlen = 0;
	int have_fp = 0, best_rank = 0, r = LACRE_E_AUTH;
	size_t best = 0, n_best = 0;

	fp_hex[0] = '\0';
	if (subject_len)
		subject[0] = '\0';
	if (!a || a->n == 0 || a->n != cfg->n_operators) {
		snprintf(why, why_len, "no operators configured");
		goto done;
	}
	if (cert && X509_digest(cert, EVP_sha256(), md, &mdlen) == 1 && mdlen == 32) {
		have_fp = 1;
		for (unsigned i = 0; i < 32; i++) {
			fp_hex[2 * i] = hx[md[i] >> 4];
			fp_hex[2 * i + 1] = hx[md[i] & 15];
		}
		fp_hex[64] = '\0';
	}
	if (cert && subject_len)
		subject_text(cert, subject, subject_len);
	for (size_t i = 0; i < a->n; i++) {
		const struct site_operator *op = &cfg->operators[i];
		int has_cert = (op->set & (SITE_OP_CERT | SITE_OP_CA)) != 0, rank = 0;

		if (has_cert) {
			int ok = 0;
			for (size_t k = 0; have_fp && !ok && k < op->n_fps; k++)
				ok = CRYPTO_memcmp(md, op->fps[k], 32) == 0;
			if (!ok && cert && a->ca[i] && subject_len && subject[0] &&
			    strcmp(subject, op->subject) == 0)
				ok = chains_to(a->ca[i], cert, chain);
			if (!ok)
				continue;
			rank = 2;
		} else if (op->set & SITE_OP_ADDRESSES) {
			rank = 1;
		} else {
			continue;                 /* no credential: never matches */
		}
		if ((op->set & SITE_OP_ADDRESSES) && !site_net_match(op->nets, op->n_nets, fam, addr))
			continue;
		if (rank > best_rank) {
			best_rank = rank;
			best = i;
			n_best = 1;
		} else if (rank == best_rank) {
			n_best++;
		}
	}
	if (n_best == 1) {
		*idx = best;
		r = LACRE_OK;
	} else if (n_best > 1) {
		snprintf(why, why_len, "matches operator %s and another as well: give each operator "
			 "its own certificate or addresses", cfg->operators[best].name);
	} else if (ssl && !cert) {
		snprintf(why, why_len, "no client certificate and no operator's addresses match");
	} else if (cert) {
		snprintf(why, why_len, "the client certificate (sha256 %.16s..., subject '%s') and "
			 "address match no operator in lacre.conf", fp_hex, subject_len ? subject : "");
	} else {
		snprintf(why, why_len, "the source address matches no operator in lacre.conf");
	}
done:
	X509_free(cert);
	return r;
}
