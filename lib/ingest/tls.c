/*
 * tls.c - TLS for the handover listeners (spec §2.3): TLS 1.2 minimum,
 * 1.3 preferred, optional mandatory client certificates mapped by their
 * SHA-256 fingerprint (DER) to an allow-list, and/or verified against a CA.
 * With operators configured (lacre.conf operator.NAME.*), the handshake
 * only asks for a certificate; op_auth.c decides which operator, if any,
 * it belongs to, against each operator's own fingerprints and CA.
 *
 * The byte stream inside TLS is the same unframed PS-PDU stream as on
 * plain TCP; the event loop (server.c) drives the non-blocking SSL object.
 * The private key file is read into a secret buffer, parsed, handed to
 * OpenSSL and the buffer wiped (OpenSSL clears its own copy on free).
 * Renegotiation, compression and session tickets are off: a handover
 * connection lives long and needs none of them.
 */
#include <stdio.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "lacre/err.h"
#include "lacre/site.h"
#include "ingest/ingest_int.h"

/* Accept any chain at the TLS layer when no CA is configured: the
 * fingerprint allow-list decides after the handshake. */
static int verify_any(int ok, X509_STORE_CTX *x)
{
	(void)ok;
	(void)x;
	return 1;
}

/* Read a file into a secret buffer (wiped on free). */
static int read_secret(const char *path, struct lacre_dbuf *d)
{
	FILE *fp;
	uint8_t buf[4096];
	size_t n;
	int r = LACRE_OK;

	if (!(fp = fopen(path, "rb")))
		return LACRE_E_CONFIG;
	while ((n = fread(buf, 1, sizeof(buf), fp)) > 0)
		if ((r = lacre_dbuf_add(d, buf, n)) != LACRE_OK)
			break;
	if (ferror(fp))
		r = LACRE_E_CONFIG;
	fclose(fp);
	OPENSSL_cleanse(buf, sizeof(buf));
	return r;
}

/* Build the server TLS context.  See ingest_int.h. */
int ingest_tls_ctx_new(const struct ingest_config *cfg, SSL_CTX **out,
                       char *why, size_t why_len)
{
	SSL_CTX *ctx = NULL;
	struct lacre_dbuf key;
	BIO *bio = NULL;
	EVP_PKEY *pk = NULL;
	int r = LACRE_E_CONFIG, mode, op_certs = 0;

	lacre_dbuf_init(&key, 1u << 20);
	lacre_dbuf_set_secret(&key);
	if (!cfg->tls_cert || !cfg->tls_key) {
		snprintf(why, why_len, "a TLS listener needs --tls-cert and --tls-key");
		goto done;
	}
	for (size_t i = 0; i < cfg->n_operators && cfg->operators; i++)
		if (cfg->operators[i].set & (SITE_OP_CERT | SITE_OP_CA))
			op_certs = 1;
	if (cfg->n_operators && (cfg->tls_client_ca || cfg->n_client_fps)) {
		snprintf(why, why_len, "--tls-client-ca and --tls-client-fp are not used once operators "
			 "are configured: put them in lacre.conf as operator.NAME.ca or .cert_sha256");
		goto done;
	}
	if (cfg->tls_require_client_cert && !cfg->tls_client_ca && cfg->n_client_fps == 0 &&
	    !op_certs) {
		snprintf(why, why_len, "--tls-require-client-cert needs --tls-client-ca, --tls-client-fp "
			 "or an operator with a certificate (operator.NAME.cert_sha256 or .ca)");
		goto done;
	}
	if (!(ctx = SSL_CTX_new(TLS_server_method()))) {
		snprintf(why, why_len, "OpenSSL could not create a TLS context");
		goto done;
	}
	SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
	SSL_CTX_set_options(ctx, SSL_OP_NO_RENEGOTIATION | SSL_OP_NO_COMPRESSION |
	                         SSL_OP_NO_TICKET | SSL_OP_CIPHER_SERVER_PREFERENCE);
	SSL_CTX_set_mode(ctx, SSL_MODE_RELEASE_BUFFERS | SSL_MODE_ENABLE_PARTIAL_WRITE |
	                      SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
	SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
	SSL_CTX_set_num_tickets(ctx, 0);      /* TLS 1.3: send no session tickets either */
	if (SSL_CTX_use_certificate_chain_file(ctx, cfg->tls_cert) != 1) {
		snprintf(why, why_len, "cannot load the TLS certificate %s: check it is a PEM chain",
		         cfg->tls_cert);
		goto done;
	}
	if (read_secret(cfg->tls_key, &key) != LACRE_OK ||
	    !(bio = BIO_new_mem_buf(key.p, (int)key.len)) ||
	    !(pk = PEM_read_bio_PrivateKey(bio, NULL, NULL, NULL)) ||
	    SSL_CTX_use_PrivateKey(ctx, pk) != 1 || SSL_CTX_check_private_key(ctx) != 1) {
		snprintf(why, why_len, "cannot load the TLS key %s: check it is an unencrypted PEM key matching the certificate",
		         cfg->tls_key);
		goto done;
	}
	mode = SSL_VERIFY_NONE;
	if (cfg->tls_require_client_cert || cfg->n_client_fps || cfg->tls_client_ca || op_certs)
		mode = SSL_VERIFY_PEER;
	if (cfg->tls_require_client_cert)
		mode |= SSL_VERIFY_FAIL_IF_NO_PEER_CERT;
	if (cfg->n_operators) {
		/* ask for a certificate, accept any chain: each operator's
		 * own CA and fingerprints decide after the handshake */
		SSL_CTX_set_verify(ctx, mode, mode == SSL_VERIFY_NONE ? NULL : verify_any);
	} else if (cfg->tls_client_ca) {
		if (SSL_CTX_load_verify_locations(ctx, cfg->tls_client_ca, NULL) != 1) {
			snprintf(why, why_len, "cannot load the client CA file %s", cfg->tls_client_ca);
			goto done;
		}
		SSL_CTX_set_verify(ctx, mode, NULL);
	} else {
		SSL_CTX_set_verify(ctx, mode, mode == SSL_VERIFY_NONE ? NULL : verify_any);
	}
	*out = ctx;
	ctx = NULL;
	r = LACRE_OK;
done:
	ERR_clear_error();
	EVP_PKEY_free(pk);
	BIO_free(bio);
	lacre_dbuf_free(&key);
	SSL_CTX_free(ctx);
	return r;
}

/* Check the client certificate after the handshake.  See ingest_int.h. */
int ingest_tls_check_peer(SSL *ssl, const struct ingest_config *cfg, char fp_hex[65])
{
	static const char hx[] = "0123456789abcdef";
	X509 *cert = SSL_get1_peer_certificate(ssl);
	uint8_t md[EVP_MAX_MD_SIZE];
	unsigned mdlen = 0, i;
	int r = LACRE_E_AUTH;

	fp_hex[0] = 0;
	if (!cert) {
		if (!cfg->tls_require_client_cert && cfg->n_client_fps == 0)
			r = LACRE_OK;
		goto done;
	}
	if (X509_digest(cert, EVP_sha256(), md, &mdlen) != 1 || mdlen != 32)
		goto done;
	for (i = 0; i < 32; i++) {
		fp_hex[2 * i] = hx[md[i] >> 4];
		fp_hex[2 * i + 1] = hx[md[i] & 15];
	}
	fp_hex[64] = 0;
	if (cfg->tls_client_ca && SSL_get_verify_result(ssl) != X509_V_OK)
		goto done;
	if (cfg->n_client_fps == 0) {
		r = LACRE_OK;
		goto done;
	}
	for (i = 0; i < cfg->n_client_fps && i < INGEST_MAX_FPS; i++)
		if (CRYPTO_memcmp(md, cfg->client_fps[i], 32) == 0) {
			r = LACRE_OK;
			break;
		}
done:
	X509_free(cert);
	return r;
}
