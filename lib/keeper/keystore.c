/*
 * keystore.c - warrant and oversight private keys wrapped by the site
 * master key, and their court-ordered destruction (see lacre/keystore.h).
 * Key files are untrusted on read: the size is checked exactly and the
 * AEAD tag is verified (CRYPTO-level, constant time) before any byte of the
 * secret is used.
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/kdf.h>
#include <openssl/rand.h>

#include "lacre/age.h"
#include "lacre/buf.h"
#include "lacre/err.h"
#include "keeper/keystore.h"
#include "lacre/site.h"
#include "lacre/warrant.h"

#define KS_MAGIC "LACREKS1"
#define KS_MAGIC_LEN 8
#define KS_NONCE 12
#define KS_TAG 16
#define KS_FILE_LEN (KS_MAGIC_LEN + KS_NONCE + 32 + KS_TAG)
#define KS_TOMB_MAX 4096

struct keystore {
	char dir[SITE_PATH_MAX];
	uint8_t key[32];
};

/* Name rule: [A-Za-z0-9._-], 1..63 characters, not starting with '.'. */
static int name_ok(const char *name)
{
	size_t n = name ? strlen(name) : 0;

	if (n == 0 || n >= KEYSTORE_NAME_MAX || name[0] == '.')
		return 0;
	for (size_t i = 0; i < n; i++)
		if (!isalnum((unsigned char)name[i]) && strchr("._-", name[i]) == NULL)
			return 0;
	return 1;
}

/* DIR/keystore/<name><ext>. */
static int ks_path(const struct keystore *ks, const char *name, const char *ext, char *out,
		   size_t outlen)
{
	int k = snprintf(out, outlen, "%s/%s%s", ks->dir, name, ext);

	return k < 0 || (size_t)k >= outlen ? LACRE_E_TOO_LARGE : LACRE_OK;
}

/* HKDF-SHA-256(ikm = master, salt = "lacre-keystore-v1", info = "wrap"). */
static int derive(const uint8_t master[SITE_MASTER_KEY_LEN], uint8_t out[32])
{
	EVP_PKEY_CTX *c = EVP_PKEY_CTX_new_id(EVP_PKEY_HKDF, NULL);
	size_t len = 32;
	int r = LACRE_E_CRYPTO;

	if (c == NULL)
		return LACRE_E_CRYPTO;
	if (EVP_PKEY_derive_init(c) == 1 && EVP_PKEY_CTX_set_hkdf_md(c, EVP_sha256()) == 1 &&
	    EVP_PKEY_CTX_set1_hkdf_salt(c, (const unsigned char *)"lacre-keystore-v1", 17) == 1 &&
	    EVP_PKEY_CTX_set1_hkdf_key(c, master, SITE_MASTER_KEY_LEN) == 1 &&
	    EVP_PKEY_CTX_add1_hkdf_info(c, (const unsigned char *)"wrap", 4) == 1 &&
	    EVP_PKEY_derive(c, out, &len) == 1 && len == 32)
		r = LACRE_OK;
	EVP_PKEY_CTX_free(c);
	return r;
}

/* ChaCha20-Poly1305 seal (enc = 1) or open (enc = 0) of 32 bytes with AAD
 * magic || name.  On open, LACRE_E_AUTH when the tag does not verify. */
static int aead(const uint8_t key[32], const uint8_t nonce[KS_NONCE], const char *name,
		const uint8_t in[32], uint8_t out[32], uint8_t tag[KS_TAG], int enc)
{
	EVP_CIPHER_CTX *c = EVP_CIPHER_CTX_new();
	int len = 0, r = LACRE_E_CRYPTO;
	uint8_t fin[16];

	if (c == NULL)
		return LACRE_E_CRYPTO;
	if (EVP_CipherInit_ex(c, EVP_chacha20_poly1305(), NULL, NULL, NULL, enc) != 1 ||
	    EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_AEAD_SET_IVLEN, KS_NONCE, NULL) != 1 ||
	    EVP_CipherInit_ex(c, NULL, NULL, key, nonce, enc) != 1)
		goto out;
	if (!enc && EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_AEAD_SET_TAG, KS_TAG, tag) != 1)
		goto out;
	if (EVP_CipherUpdate(c, NULL, &len, (const uint8_t *)KS_MAGIC, KS_MAGIC_LEN) != 1 ||
	    EVP_CipherUpdate(c, NULL, &len, (const uint8_t *)name, (int)strlen(name)) != 1 ||
	    EVP_CipherUpdate(c, out, &len, in, 32) != 1 || len != 32)
		goto out;
	if (EVP_CipherFinal_ex(c, fin, &len) != 1) {
		r = enc ? LACRE_E_CRYPTO : LACRE_E_AUTH;
		goto out;
	}
	if (enc && EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_AEAD_GET_TAG, KS_TAG, tag) != 1)
		goto out;
	r = LACRE_OK;
out:
	if (r != LACRE_OK)
		OPENSSL_cleanse(out, 32);
	EVP_CIPHER_CTX_free(c);
	return r;
}

int keystore_open(const struct site *s, const uint8_t master[SITE_MASTER_KEY_LEN],
		  struct keystore **out)
{
	struct keystore *ks;
	int r;

	if (s == NULL || master == NULL || out == NULL)
		return LACRE_E_INVALID;
	ks = calloc(1, sizeof(*ks));
	if (ks == NULL)
		return LACRE_E_NOMEM;
	r = site_path(s, SITE_KEYSTORE, ks->dir, sizeof(ks->dir));
	if (r != LACRE_OK)
		goto fail;
	if (mkdir(ks->dir, 0700) != 0 && errno != EEXIST) {
		r = LACRE_E_IO;
		goto fail;
	}
	r = derive(master, ks->key);
	if (r != LACRE_OK)
		goto fail;
	*out = ks;
	return LACRE_OK;
fail:
	keystore_close(ks);
	return r;
}

void keystore_close(struct keystore *ks)
{
	if (ks == NULL)
		return;
	OPENSSL_cleanse(ks->key, sizeof(ks->key));
	free(ks);
}

/* Whether path exists. */
static int exists(const char *path)
{
	struct stat st;

	return lstat(path, &st) == 0;
}

int keystore_put_secret(struct keystore *ks, const char *name, const uint8_t secret[32],
			int replace)
{
	uint8_t file[KS_FILE_LEN];
	char path[SITE_PATH_MAX], tomb[SITE_PATH_MAX];
	int r;

	if (ks == NULL || secret == NULL || !name_ok(name))
		return LACRE_E_INVALID;
	if ((r = ks_path(ks, name, ".key", path, sizeof(path))) != LACRE_OK ||
	    (r = ks_path(ks, name, ".shredded", tomb, sizeof(tomb))) != LACRE_OK)
		return r;
	if (exists(tomb))
		return LACRE_E_SHREDDED;
	if (!replace && exists(path))
		return LACRE_E_EXISTS;
	memcpy(file, KS_MAGIC, KS_MAGIC_LEN);
	if (RAND_bytes(file + KS_MAGIC_LEN, KS_NONCE) != 1)
		return LACRE_E_CRYPTO;
	r = aead(ks->key, file + KS_MAGIC_LEN, name, secret, file + KS_MAGIC_LEN + KS_NONCE,
		 file + KS_MAGIC_LEN + KS_NONCE + 32, 1);
	if (r == LACRE_OK)
		r = site_write_file(path, file, sizeof(file), 0600);
	OPENSSL_cleanse(file, sizeof(file));
	return r;
}

int keystore_put(struct keystore *ks, const char *name,
		 const struct age_x25519_identity *id, int replace)
{
	if (id == NULL)
		return LACRE_E_INVALID;
	return keystore_put_secret(ks, name, id->secret, replace);
}

/* Parse a tombstone file (untrusted text: "key value" lines). */
static int read_tomb(const char *path, struct key_tombstone *t)
{
	struct key_tombstone tmp;
	struct lacre_dbuf d;
	struct lacre_rbuf rb;
	int r, have = 0;

	memset(&tmp, 0, sizeof(tmp));
	r = site_read_file(path, KS_TOMB_MAX, &d);
	if (r != LACRE_OK)
		return r;
	lacre_rbuf_init(&rb, d.p, d.len);
	r = LACRE_OK;
	while (r == LACRE_OK && lacre_rbuf_left(&rb) > 0) {
		const uint8_t *nl = memchr(lacre_rbuf_ptr(&rb), '\n', lacre_rbuf_left(&rb));
		const uint8_t *line;
		char buf[KEYSTORE_ORDER_MAX + 32], *sp;
		size_t ln;

		if (nl == NULL) {
			r = LACRE_E_CORRUPT;
			break;
		}
		ln = (size_t)(nl - lacre_rbuf_ptr(&rb));
		if (ln >= sizeof(buf) || lacre_rbuf_take(&rb, ln, &line) != LACRE_OK ||
		    lacre_rbuf_skip(&rb, 1) != LACRE_OK) {
			r = LACRE_E_CORRUPT;
			break;
		}
		memcpy(buf, line, ln);
		buf[ln] = '\0';
		sp = strchr(buf, ' ');
		if (sp == NULL)
			continue; /* the header line */
		*sp++ = '\0';
		if (strcmp(buf, "order") == 0 && strlen(sp) < sizeof(tmp.order_id)) {
			memcpy(tmp.order_id, sp, strlen(sp) + 1);
			have |= 1;
		} else if (strcmp(buf, "order_date") == 0 && warrant_time_parse(sp, &tmp.order_date) == 0) {
			have |= 2;
		} else if (strcmp(buf, "shredded_at") == 0 &&
			   warrant_time_parse(sp, &tmp.shredded_at) == 0) {
			have |= 4;
		} else if (strcmp(buf, "name") != 0) {
			r = LACRE_E_CORRUPT;
		}
	}
	lacre_dbuf_free(&d);
	if (r == LACRE_OK && have != 7)
		r = LACRE_E_CORRUPT;
	if (r == LACRE_OK)
		*t = tmp;
	return r;
}

int keystore_tombstone(struct keystore *ks, const char *name, struct key_tombstone *tomb)
{
	char path[SITE_PATH_MAX];
	int r;

	if (ks == NULL || tomb == NULL || !name_ok(name))
		return LACRE_E_INVALID;
	r = ks_path(ks, name, ".shredded", path, sizeof(path));
	return r ? r : read_tomb(path, tomb);
}

int keystore_get_secret(struct keystore *ks, const char *name, uint8_t secret[32],
			struct key_tombstone *tomb)
{
	struct key_tombstone t;
	struct lacre_dbuf d;
	uint8_t tmp[32];
	char path[SITE_PATH_MAX];
	int r;

	if (ks == NULL || secret == NULL || !name_ok(name))
		return LACRE_E_INVALID;
	r = keystore_tombstone(ks, name, &t);
	if (r == LACRE_OK) {
		if (tomb)
			*tomb = t;
		return LACRE_E_SHREDDED;
	}
	if (r != LACRE_E_NOT_FOUND)
		return r == LACRE_E_CORRUPT ? LACRE_E_SHREDDED : r;
	if ((r = ks_path(ks, name, ".key", path, sizeof(path))) != LACRE_OK)
		return r;
	r = site_read_file(path, KS_FILE_LEN + 1, &d);
	if (r != LACRE_OK)
		return r == LACRE_E_TOO_LARGE ? LACRE_E_CORRUPT : r;
	lacre_dbuf_set_secret(&d);
	if (d.len != KS_FILE_LEN || memcmp(d.p, KS_MAGIC, KS_MAGIC_LEN) != 0) {
		r = LACRE_E_CORRUPT;
		goto out;
	}
	r = aead(ks->key, d.p + KS_MAGIC_LEN, name, d.p + KS_MAGIC_LEN + KS_NONCE, tmp,
		 d.p + KS_MAGIC_LEN + KS_NONCE + 32, 0);
	if (r == LACRE_OK)
		memcpy(secret, tmp, 32);
out:
	OPENSSL_cleanse(tmp, sizeof(tmp));
	lacre_dbuf_free(&d);
	return r;
}

int keystore_get(struct keystore *ks, const char *name, struct age_x25519_identity *id,
		 struct key_tombstone *tomb)
{
	struct age_x25519_identity tmp;
	int r;

	if (id == NULL)
		return LACRE_E_INVALID;
	memset(&tmp, 0, sizeof(tmp));
	r = keystore_get_secret(ks, name, tmp.secret, tomb);
	if (r == LACRE_OK)
		r = age_x25519_derive_public(&tmp);
	if (r == LACRE_OK)
		*id = tmp;
	age_identity_wipe(&tmp);
	return r;
}

/* Overwrite the file at path with random bytes and fsync it. */
static int overwrite(const char *path)
{
	uint8_t junk[KS_FILE_LEN];
	struct stat st;
	size_t off = 0, n;
	int fd, r = LACRE_OK;

	fd = open(path, O_WRONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return errno == ENOENT ? LACRE_E_NOT_FOUND : LACRE_E_IO;
	if (fstat(fd, &st) != 0) {
		close(fd);
		return LACRE_E_IO;
	}
	n = st.st_size > 0 ? (size_t)st.st_size : 0;
	while (r == LACRE_OK && off < n) {
		size_t k = n - off < sizeof(junk) ? n - off : sizeof(junk);
		ssize_t w;
		if (RAND_bytes(junk, (int)k) != 1) {
			r = LACRE_E_CRYPTO;
			break;
		}
		w = pwrite(fd, junk, k, (off_t)off);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			r = LACRE_E_IO;
		else
			off += (size_t)w;
	}
	if (r == LACRE_OK && fsync(fd) != 0)
		r = LACRE_E_IO;
	close(fd);
	OPENSSL_cleanse(junk, sizeof(junk));
	return r;
}

int keystore_shred(struct keystore *ks, const char *name, const char *order_id,
		   int64_t order_date)
{
	char path[SITE_PATH_MAX], tomb[SITE_PATH_MAX], a[WARRANT_TIME_MAX], b[WARRANT_TIME_MAX];
	struct lacre_dbuf d;
	int r;

	if (ks == NULL || !name_ok(name) || order_id == NULL || order_id[0] == '\0' ||
	    strlen(order_id) >= KEYSTORE_ORDER_MAX || strchr(order_id, '\n') != NULL)
		return LACRE_E_INVALID;
	if ((r = ks_path(ks, name, ".key", path, sizeof(path))) != LACRE_OK ||
	    (r = ks_path(ks, name, ".shredded", tomb, sizeof(tomb))) != LACRE_OK)
		return r;
	if (exists(tomb) && !exists(path))
		return LACRE_E_SHREDDED;
	if (!exists(path))
		return LACRE_E_NOT_FOUND;
	/* tombstone first: a crash after it leaves a key that keystore_get
	 * already refuses, and a retry finishes the destruction */
	if (!exists(tomb)) {
		warrant_time_format(order_date, a);
		warrant_time_format(warrant_time_now(), b);
		lacre_dbuf_init(&d, KS_TOMB_MAX);
		r = lacre_dbuf_printf(&d, "lacre-tombstone-v1\nname %s\norder %s\norder_date %s\n"
				      "shredded_at %s\n", name, order_id, a, b);
		if (r == LACRE_OK)
			r = site_write_file(tomb, d.p, d.len, 0600);
		lacre_dbuf_free(&d);
		if (r != LACRE_OK)
			return r;
	}
	r = overwrite(path);
	if (r != LACRE_OK && r != LACRE_E_NOT_FOUND)
		return r;
	if (unlink(path) != 0 && errno != ENOENT)
		return LACRE_E_IO;
	return site_fsync_parent(path);
}
