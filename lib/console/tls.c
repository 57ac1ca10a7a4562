/*
 * tls.c - the console's TLS (OpenSSL 3): the server context and, at first
 * start, a self-signed P-256 certificate (console.h).
 *
 * The console is reached on loopback by default, where no public CA can
 * issue a certificate; so when console.cert and console.key are both
 * absent, it makes its own (ECDSA P-256, SHA-256, 825 days, SAN 127.0.0.1,
 * ::1, localhost and the configured host) and prints its SHA-256
 * fingerprint so that a user can check it in the browser's certificate
 * viewer, and the base64 SHA-256 of its public key, which Chromium's
 * --ignore-certificate-errors-spki-list accepts (tests/e2e/console.sh).
 * A site can configure its own certificate instead.  The private key is
 * written with mode 0600 and O_EXCL (never over a file).  TLS 1.2 is the
 * floor; session tickets are off (no long-lived ticket key in memory).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "lacre/err.h"
#include "lacre/hex.h"
#include "console/console.h"

/* Add the extension nid=value to x (self-issued). */
static int add_ext(X509 *x, int nid, const char *value)
{
	X509V3_CTX c;
	X509_EXTENSION *e;
	int ok;

	X509V3_set_ctx_nodb(&c);
	X509V3_set_ctx(&c, x, x, NULL, NULL, 0);
	if ((e = X509V3_EXT_conf_nid(NULL, &c, nid, value)) == NULL)
		return 0;
	ok = X509_add_ext(x, e, -1);
	X509_EXTENSION_free(e);
	return ok;
}

/* Whether host is an IP address literal (v4 or v6). */
static int is_ip(const char *host)
{
	ASN1_OCTET_STRING *a = a2i_IPADDRESS(host);

	if (a == NULL)
		return 0;
	ASN1_OCTET_STRING_free(a);
	return 1;
}

/* Write the PEM of key (0600, O_EXCL) and of x to key_path / cert_path. */
static int write_pair(EVP_PKEY *key, X509 *x, const char *cert_path, const char *key_path,
		      char *msg, size_t msglen)
{
	FILE *f;
	int fd;

	fd = open(key_path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0 || (f = fdopen(fd, "w")) == NULL) {
		snprintf(msg, msglen, "cannot create %s: %s (check the folder's owner)", key_path,
			 strerror(errno));
		if (fd >= 0)
			close(fd);
		return LACRE_E_IO;
	}
	if (!PEM_write_PrivateKey(f, key, NULL, NULL, 0, NULL, NULL) || fflush(f) != 0 ||
	    fsync(fileno(f)) != 0) {
		fclose(f);
		unlink(key_path);
		snprintf(msg, msglen, "cannot write %s", key_path);
		return LACRE_E_IO;
	}
	fclose(f);
	fd = open(cert_path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0644);
	if (fd < 0 || (f = fdopen(fd, "w")) == NULL) {
		snprintf(msg, msglen, "cannot create %s: %s", cert_path, strerror(errno));
		if (fd >= 0)
			close(fd);
		unlink(key_path);
		return LACRE_E_IO;
	}
	if (!PEM_write_X509(f, x) || fflush(f) != 0 || fsync(fileno(f)) != 0) {
		fclose(f);
		unlink(cert_path);
		unlink(key_path);
		snprintf(msg, msglen, "cannot write %s", cert_path);
		return LACRE_E_IO;
	}
	fclose(f);
	return LACRE_OK;
}

/* Make a P-256 key and a self-signed certificate for host; write both. */
static int make_self_signed(const char *cert_path, const char *key_path, const char *host,
			    char *msg, size_t msglen)
{
	EVP_PKEY *key = NULL;
	X509 *x = NULL;
	X509_NAME *nm;
	char san[600];
	unsigned char serial[16];
	BIGNUM *bn = NULL;
	int r = LACRE_E_CRYPTO;

	snprintf(san, sizeof(san), "IP:127.0.0.1,IP:::1,DNS:localhost");
	if (host && host[0] && strcmp(host, "127.0.0.1") && strcmp(host, "localhost") &&
	    strcmp(host, "::1") && strlen(host) < 256)
		snprintf(san + strlen(san), sizeof(san) - strlen(san), ",%s:%s",
			 is_ip(host) ? "IP" : "DNS", host);
	if ((key = EVP_EC_gen("P-256")) == NULL || (x = X509_new()) == NULL)
		goto out;
	if (RAND_bytes(serial, sizeof(serial)) != 1)
		goto out;
	serial[0] &= 0x7f;
	if ((bn = BN_bin2bn(serial, sizeof(serial), NULL)) == NULL ||
	    !BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(x)))
		goto out;
	if (!X509_set_version(x, 2) || !X509_gmtime_adj(X509_getm_notBefore(x), -300) ||
	    !X509_gmtime_adj(X509_getm_notAfter(x), 825L * 86400) || !X509_set_pubkey(x, key))
		goto out;
	nm = X509_get_subject_name(x);
	if (!X509_NAME_add_entry_by_txt(nm, "CN", MBSTRING_ASC,
					(const unsigned char *)"lacre-console", -1, -1, 0) ||
	    !X509_set_issuer_name(x, nm))
		goto out;
	if (!add_ext(x, NID_subject_alt_name, san) ||
	    !add_ext(x, NID_basic_constraints, "critical,CA:FALSE") ||
	    !add_ext(x, NID_key_usage, "critical,digitalSignature") ||
	    !add_ext(x, NID_ext_key_usage, "serverAuth") ||
	    !add_ext(x, NID_subject_key_identifier, "hash"))
		goto out;
	if (!X509_sign(x, key, EVP_sha256()))
		goto out;
	r = write_pair(key, x, cert_path, key_path, msg, msglen);
out:
	if (r == LACRE_E_CRYPTO)
		snprintf(msg, msglen, "cannot make the console's certificate (OpenSSL failed)");
	BN_free(bn);
	X509_free(x);
	EVP_PKEY_free(key);
	return r;
}

int console_tls_setup(const char *cert_path, const char *key_path, const char *host,
		      void **ctxp, char fpr[65], char spki[45], int *made, char *msg,
		      size_t msglen)
{
	struct stat st;
	SSL_CTX *ctx = NULL;
	X509 *x;
	unsigned char md[EVP_MAX_MD_SIZE], *der = NULL;
	unsigned int mdlen = 0;
	int have_c = stat(cert_path, &st) == 0, have_k = stat(key_path, &st) == 0, derlen;

	*made = 0;
	if (have_c != have_k) {
		snprintf(msg, msglen, "%s exists but %s does not: give both (console.cert, "
			 "console.key) or neither (one is made)", have_c ? cert_path : key_path,
			 have_c ? key_path : cert_path);
		return LACRE_E_CONFIG;
	}
	if (!have_c) {
		int r = make_self_signed(cert_path, key_path, host, msg, msglen);
		if (r != LACRE_OK)
			return r;
		*made = 1;
	} else if ((st.st_mode & 077) != 0) {
		snprintf(msg, msglen, "%s is readable by others: chmod 600 it", key_path);
		return LACRE_E_DENIED;
	}
	if ((ctx = SSL_CTX_new(TLS_server_method())) == NULL)
		goto crypto;
	SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
	SSL_CTX_set_options(ctx, SSL_OP_NO_TICKET | SSL_OP_NO_RENEGOTIATION |
			    SSL_OP_CIPHER_SERVER_PREFERENCE | SSL_OP_NO_COMPRESSION);
	if (!SSL_CTX_set_cipher_list(ctx, "ECDHE+AESGCM:ECDHE+CHACHA20"))
		goto crypto;
	if (SSL_CTX_use_certificate_chain_file(ctx, cert_path) != 1) {
		snprintf(msg, msglen, "cannot use the certificate %s (PEM expected)", cert_path);
		SSL_CTX_free(ctx);
		return LACRE_E_CONFIG;
	}
	if (SSL_CTX_use_PrivateKey_file(ctx, key_path, SSL_FILETYPE_PEM) != 1 ||
	    SSL_CTX_check_private_key(ctx) != 1) {
		snprintf(msg, msglen, "cannot use the key %s with the certificate %s", key_path,
			 cert_path);
		SSL_CTX_free(ctx);
		return LACRE_E_CONFIG;
	}
	x = SSL_CTX_get0_certificate(ctx);
	if (x == NULL || !X509_digest(x, EVP_sha256(), md, &mdlen) || mdlen != 32)
		goto crypto;
	lacre_hex(md, 32, fpr);
	if ((derlen = i2d_PUBKEY(X509_get0_pubkey(x), &der)) <= 0)
		goto crypto;
	if (!EVP_Digest(der, (size_t)derlen, md, &mdlen, EVP_sha256(), NULL)) {
		OPENSSL_free(der);
		goto crypto;
	}
	OPENSSL_free(der);
	EVP_EncodeBlock((unsigned char *)spki, md, 32);
	*ctxp = ctx;
	return LACRE_OK;
crypto:
	snprintf(msg, msglen, "cannot set up TLS (OpenSSL failed)");
	SSL_CTX_free(ctx);
	return LACRE_E_CRYPTO;
}

void console_tls_free(void *ctx)
{
	SSL_CTX_free(ctx);
}
