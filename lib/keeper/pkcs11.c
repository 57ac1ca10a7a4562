/*
 * pkcs11.c - the site master key wrapped by a PKCS#11 token (keeper/pkcs11.h,
 * docs/keeper.md "Master key in a token", docs/FORMATS.md §4.6).
 *
 * Why a token: with a passphrase, whoever reads master.age and learns the
 * passphrase (a shoulder, a leaked deployment file) holds every warrant
 * key for good.  Here the key that wraps the master key is an AES-256
 * object generated inside the token with CKA_SENSITIVE and not
 * CKA_EXTRACTABLE: no copy of it exists anywhere else, so master.p11 and
 * the keystore are useless without the token itself and its PIN, and a
 * token can be locked, removed or destroyed to end a site.
 *
 * Why CKM_AES_GCM with C_Encrypt/C_Decrypt: it is what SoftHSM2 (tests, the
 * demo) and common HSMs offer on a secret key for arbitrary data, it
 * authenticates (a changed byte or another key fails the tag), and it binds
 * the file's header (token and key labels) as additional data.  The key
 * wrap mechanisms (CKM_AES_KEY_WRAP_PAD, RFC 5649) would need the master key
 * as an object in the token and an extractable copy to get it back out;
 * decrypting 48 bytes needs neither.
 *
 * The module (an absolute .so path from lacre.conf) is loaded with dlopen
 * for one operation and finalised and unloaded after it: no session stays
 * open in the keeper, whose handlers and workers are forked later.
 */
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/rand.h>

#include <p11-kit/pkcs11.h>

#include "lacre/buf.h"
#include "lacre/err.h"
#include "lacre/hex.h"
#include "keeper/keystore.h"
#include "keeper/master.h"
#include "keeper/passphrase.h"
#include "lacre/pct.h"
#include "keeper/pkcs11.h"
#include "lacre/site.h"

#define MAX_SLOTS 256

/* ---- master.p11: the text format ---- */

/* Whether l is a label lacre accepts: 1..max printable ASCII bytes, no
 * space at either end (the same rule as config.c's). */
static int label_ok(const char *l, size_t max)
{
	size_t n = strlen(l);

	if (n == 0 || n > max || l[0] == ' ' || l[n - 1] == ' ')
		return 0;
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)l[i] < 0x20 || (unsigned char)l[i] > 0x7e)
			return 0;
	return 1;
}

int p11_master_encode(struct p11_master *m, struct lacre_dbuf *out)
{
	char iv[2 * P11_IV_LEN + 1], w[2 * P11_WRAPPED_LEN + 1];
	size_t start = out->len;
	int r;

	if (!label_ok(m->token, P11_TOKEN_LABEL_MAX) || !label_ok(m->key, P11_KEY_LABEL_MAX))
		return LACRE_E_INVALID;
	r = lacre_dbuf_add_str(out, P11_MAGIC "\ntoken ");
	if (r == LACRE_OK)
		r = pct_encode(out, m->token);
	if (r == LACRE_OK)
		r = lacre_dbuf_add_str(out, "\nkey ");
	if (r == LACRE_OK)
		r = pct_encode(out, m->key);
	if (r == LACRE_OK)
		r = lacre_dbuf_add_str(out, "\nmechanism " P11_MECH_GCM "\n");
	if (r != LACRE_OK)
		return r;
	m->aad_len = out->len - start;
	lacre_hex(m->iv, sizeof(m->iv), iv);
	lacre_hex(m->wrapped, sizeof(m->wrapped), w);
	return lacre_dbuf_printf(out, "iv %s\nwrapped %s\n", iv, w);
}

/* Take one LF-terminated line that starts with word and a space; its value
 * (without the LF) in *v, *vn. */
static int take_line(struct lacre_rbuf *rb, const char *word, const char **v, size_t *vn)
{
	size_t left = lacre_rbuf_left(rb), wn = strlen(word);
	const uint8_t *nl = memchr(lacre_rbuf_ptr(rb), '\n', left), *line;
	size_t ln;

	if (nl == NULL)
		return LACRE_E_CORRUPT;
	ln = (size_t)(nl - lacre_rbuf_ptr(rb));
	if (lacre_rbuf_take(rb, ln, &line) != LACRE_OK || lacre_rbuf_skip(rb, 1) != LACRE_OK)
		return LACRE_E_CORRUPT;
	if (word[0] == '\0') {          /* the magic line: the whole line */
		*v = (const char *)line;
		*vn = ln;
		return LACRE_OK;
	}
	if (ln < wn + 1 || memcmp(line, word, wn) != 0 || line[wn] != ' ')
		return LACRE_E_CORRUPT;
	*v = (const char *)line + wn + 1;
	*vn = ln - wn - 1;
	return LACRE_OK;
}

int p11_master_parse(const uint8_t *p, size_t n, struct p11_master *out)
{
	struct lacre_rbuf rb;
	struct p11_master m;
	const char *v;
	size_t vn;
	int r;

	if (p == NULL || out == NULL)
		return LACRE_E_INVALID;
	if (n > P11_FILE_MAX)
		return LACRE_E_CORRUPT;
	memset(&m, 0, sizeof(m));
	lacre_rbuf_init(&rb, p, n);
	r = take_line(&rb, "", &v, &vn);
	if (r != LACRE_OK || vn != strlen(P11_MAGIC) || memcmp(v, P11_MAGIC, vn) != 0)
		return LACRE_E_CORRUPT;
	if (take_line(&rb, "token", &v, &vn) != LACRE_OK ||
	    pct_decode(v, vn, m.token, sizeof(m.token)) != LACRE_OK ||
	    !label_ok(m.token, P11_TOKEN_LABEL_MAX))
		return LACRE_E_CORRUPT;
	if (take_line(&rb, "key", &v, &vn) != LACRE_OK ||
	    pct_decode(v, vn, m.key, sizeof(m.key)) != LACRE_OK ||
	    !label_ok(m.key, P11_KEY_LABEL_MAX))
		return LACRE_E_CORRUPT;
	if (take_line(&rb, "mechanism", &v, &vn) != LACRE_OK || vn != strlen(P11_MECH_GCM) ||
	    memcmp(v, P11_MECH_GCM, vn) != 0)
		return LACRE_E_CORRUPT;
	m.aad_len = n - lacre_rbuf_left(&rb);
	if (take_line(&rb, "iv", &v, &vn) != LACRE_OK ||
	    lacre_unhex(v, vn, m.iv, sizeof(m.iv)) != LACRE_OK)
		return LACRE_E_CORRUPT;
	if (take_line(&rb, "wrapped", &v, &vn) != LACRE_OK ||
	    lacre_unhex(v, vn, m.wrapped, sizeof(m.wrapped)) != LACRE_OK)
		return LACRE_E_CORRUPT;
	if (lacre_rbuf_expect_end(&rb) != LACRE_OK)
		return LACRE_E_CORRUPT;
	*out = m;
	return LACRE_OK;
}

/* ---- the PIN ---- */

int p11_pin_get(const struct passphrase_src *src, char **pin)
{
	struct passphrase_src s;
	const char *dir;
	char path[4096], *env;
	int fd = -1, r, n;

	if (src == NULL || pin == NULL)
		return LACRE_E_INVALID;
	/* a file or descriptor named on the command line comes first */
	if (src->file != NULL || src->fd >= 0) {
		s = *src;
		s.no_cred = s.no_env = s.no_prompt = 1;
		return passphrase_get(&s, "token PIN: ", 0, pin);
	}
	passphrase_src_init(&s);
	s.no_cred = s.no_env = 1;
	s.no_prompt = src->no_prompt;
	/* the systemd credential lacre-pin (a link there is refused, as for
	 * the passphrase's: a deployment error to report, not to skip) */
	dir = getenv(PASSPHRASE_CRED_DIR_ENV);
	if (!src->no_cred && dir != NULL && dir[0] == '/') {
		n = snprintf(path, sizeof(path), "%s/%s", dir, P11_PIN_CREDENTIAL);
		if (n < 0 || (size_t)n >= sizeof(path))
			return LACRE_E_IO;
		fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY);
		if (fd < 0 && errno != ENOENT && errno != ENOTDIR)
			return LACRE_E_IO;
	}
	if (fd >= 0) {
		s.fd = fd;
		r = passphrase_get(&s, "token PIN: ", 0, pin);
		close(fd);
		return r;
	}
	if (!src->no_env && (env = getenv(P11_PIN_ENV)) != NULL) {
		size_t len = strlen(env);
		char *p = NULL;

		r = LACRE_OK;
		if (len == 0)
			r = LACRE_E_PASSPHRASE;
		else if (len > PASSPHRASE_MAX)
			r = LACRE_E_TOO_LARGE;
		else if ((p = malloc(len + 1)) == NULL)
			r = LACRE_E_NOMEM;
		else
			memcpy(p, env, len + 1);
		/* wipe the value where it lies, then drop it: no child inherits it */
		OPENSSL_cleanse(env, len);
		unsetenv(P11_PIN_ENV);
		if (r == LACRE_OK)
			*pin = p;
		return r;
	}
	return passphrase_get(&s, "token PIN: ", 0, pin);
}

/* ---- the token ---- */

/* One loaded, initialised module with an open, logged-in session. */
struct tok {
	void *dl;
	CK_FUNCTION_LIST_PTR f;
	int initialised;          /* we called C_Initialize (so C_Finalize) */
	CK_SESSION_HANDLE sess;
	int open, logged_in;
};

/* The name of a return value a user may meet, for messages. */
static const char *rv_name(CK_RV rv, char *buf, size_t n)
{
	static const struct {
		CK_RV rv;
		const char *name;
	} t[] = {
		{ CKR_GENERAL_ERROR, "CKR_GENERAL_ERROR" },
		{ CKR_FUNCTION_FAILED, "CKR_FUNCTION_FAILED" },
		{ CKR_ARGUMENTS_BAD, "CKR_ARGUMENTS_BAD" },
		{ CKR_DEVICE_ERROR, "CKR_DEVICE_ERROR" },
		{ CKR_DEVICE_REMOVED, "CKR_DEVICE_REMOVED" },
		{ CKR_TOKEN_NOT_PRESENT, "CKR_TOKEN_NOT_PRESENT" },
		{ CKR_TOKEN_NOT_RECOGNIZED, "CKR_TOKEN_NOT_RECOGNIZED" },
		{ CKR_PIN_INCORRECT, "CKR_PIN_INCORRECT" },
		{ CKR_PIN_LOCKED, "CKR_PIN_LOCKED" },
		{ CKR_PIN_LEN_RANGE, "CKR_PIN_LEN_RANGE" },
		{ CKR_PIN_EXPIRED, "CKR_PIN_EXPIRED" },
		{ CKR_USER_PIN_NOT_INITIALIZED, "CKR_USER_PIN_NOT_INITIALIZED" },
		{ CKR_MECHANISM_INVALID, "CKR_MECHANISM_INVALID" },
		{ CKR_MECHANISM_PARAM_INVALID, "CKR_MECHANISM_PARAM_INVALID" },
		{ CKR_KEY_TYPE_INCONSISTENT, "CKR_KEY_TYPE_INCONSISTENT" },
		{ CKR_KEY_FUNCTION_NOT_PERMITTED, "CKR_KEY_FUNCTION_NOT_PERMITTED" },
		{ CKR_ENCRYPTED_DATA_INVALID, "CKR_ENCRYPTED_DATA_INVALID" },
		{ CKR_ENCRYPTED_DATA_LEN_RANGE, "CKR_ENCRYPTED_DATA_LEN_RANGE" },
		{ CKR_TEMPLATE_INCONSISTENT, "CKR_TEMPLATE_INCONSISTENT" },
		{ CKR_ATTRIBUTE_VALUE_INVALID, "CKR_ATTRIBUTE_VALUE_INVALID" },
		{ CKR_SESSION_READ_ONLY, "CKR_SESSION_READ_ONLY" },
		{ CKR_HOST_MEMORY, "CKR_HOST_MEMORY" },
	};

	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++)
		if (t[i].rv == rv)
			return t[i].name;
	snprintf(buf, n, "CKR 0x%lx", (unsigned long)rv);
	return buf;
}

/* Log out, close, finalise and unload (each only if it was done). */
static void tok_close(struct tok *t)
{
	if (t->f != NULL) {
		if (t->logged_in)
			(void)t->f->C_Logout(t->sess);
		if (t->open)
			(void)t->f->C_CloseSession(t->sess);
		if (t->initialised)
			(void)t->f->C_Finalize(NULL);
	}
	if (t->dl != NULL)
		dlclose(t->dl);
	memset(t, 0, sizeof(*t));
}

/* Load the site's module, find its token by label, open a session (rw for
 * init) and log in as the user with pin.  msg names what failed. */
static int tok_open(const struct site_config *cfg, const char *pin, int rw, struct tok *t,
		    char *msg, size_t msglen)
{
	CK_RV (*get_list)(CK_FUNCTION_LIST_PTR_PTR);
	CK_C_INITIALIZE_ARGS ia;
	CK_SLOT_ID *slots = NULL, slot = 0;
	CK_ULONG nslots = 0;
	char nb[32];
	size_t tl = strlen(cfg->pkcs11_token);
	int found = 0, r = LACRE_OK;
	CK_RV rv;

	memset(t, 0, sizeof(*t));
	t->dl = dlopen(cfg->pkcs11_module, RTLD_NOW | RTLD_LOCAL);
	if (t->dl == NULL) {
		const char *e = dlerror();
		lacre_msg(msg, msglen, "cannot load the PKCS#11 module %s: %s; check "
			  "master.pkcs11_module", cfg->pkcs11_module, e ? e : "dlopen failed");
		return LACRE_E_UNAVAILABLE;
	}
	*(void **)(&get_list) = dlsym(t->dl, "C_GetFunctionList");
	if (get_list == NULL || get_list(&t->f) != CKR_OK || t->f == NULL) {
		lacre_msg(msg, msglen, "%s is not a PKCS#11 module (no C_GetFunctionList); check "
			  "master.pkcs11_module", cfg->pkcs11_module);
		t->f = NULL;
		r = LACRE_E_UNAVAILABLE;
		goto fail;
	}
	memset(&ia, 0, sizeof(ia));
	ia.flags = CKF_OS_LOCKING_OK;
	rv = t->f->C_Initialize(&ia);
	if (rv != CKR_OK && rv != CKR_CRYPTOKI_ALREADY_INITIALIZED) {
		lacre_msg(msg, msglen, "cannot initialise the PKCS#11 module %s: %s (is the token's "
			  "configuration or storage missing?)", cfg->pkcs11_module,
			  rv_name(rv, nb, sizeof(nb)));
		r = LACRE_E_UNAVAILABLE;
		goto fail;
	}
	t->initialised = rv == CKR_OK;
	rv = t->f->C_GetSlotList(CK_TRUE, NULL, &nslots);
	if (rv == CKR_OK && nslots > MAX_SLOTS)
		nslots = MAX_SLOTS;
	if (rv == CKR_OK && nslots > 0) {
		if ((slots = calloc(nslots, sizeof(*slots))) == NULL) {
			r = LACRE_E_NOMEM;
			goto fail;
		}
		rv = t->f->C_GetSlotList(CK_TRUE, slots, &nslots);
	}
	if (rv != CKR_OK && rv != CKR_BUFFER_TOO_SMALL) {
		lacre_msg(msg, msglen, "cannot list the slots of PKCS#11 module %s: %s",
			  cfg->pkcs11_module, rv_name(rv, nb, sizeof(nb)));
		r = LACRE_E_UNAVAILABLE;
		goto fail;
	}
	for (CK_ULONG i = 0; i < nslots && i < MAX_SLOTS; i++) {
		CK_TOKEN_INFO ti;
		size_t k;

		if (t->f->C_GetTokenInfo(slots[i], &ti) != CKR_OK)
			continue;
		/* the label is 32 bytes padded with spaces */
		for (k = sizeof(ti.label); k > 0 && ti.label[k - 1] == ' '; k--)
			;
		if (k != tl || memcmp(ti.label, cfg->pkcs11_token, tl) != 0)
			continue;
		if (found++ == 0)
			slot = slots[i];
	}
	if (found != 1) {
		lacre_msg(msg, msglen, found == 0 ? "no token labelled '%s' in PKCS#11 module %s: "
			  "insert the token, or check master.pkcs11_token" : "several tokens are "
			  "labelled '%s' in PKCS#11 module %s: relabel all but one", cfg->pkcs11_token,
			  cfg->pkcs11_module);
		r = found == 0 ? LACRE_E_NOT_FOUND : LACRE_E_CONFIG;
		goto fail;
	}
	rv = t->f->C_OpenSession(slot, CKF_SERIAL_SESSION | (rw ? CKF_RW_SESSION : 0), NULL, NULL,
				 &t->sess);
	if (rv != CKR_OK) {
		lacre_msg(msg, msglen, "cannot open a session with token '%s': %s", cfg->pkcs11_token,
			  rv_name(rv, nb, sizeof(nb)));
		r = LACRE_E_UNAVAILABLE;
		goto fail;
	}
	t->open = 1;
	rv = t->f->C_Login(t->sess, CKU_USER, (CK_UTF8CHAR_PTR)(uintptr_t)pin, (CK_ULONG)strlen(pin));
	if (rv == CKR_PIN_INCORRECT || rv == CKR_PIN_LEN_RANGE) {
		lacre_msg(msg, msglen, "wrong PIN for token '%s'", cfg->pkcs11_token);
		r = LACRE_E_PASSPHRASE;
		goto fail;
	}
	if (rv == CKR_PIN_LOCKED || rv == CKR_PIN_EXPIRED) {
		lacre_msg(msg, msglen, "the user PIN of token '%s' is %s: its security officer must "
			  "reset it", cfg->pkcs11_token, rv == CKR_PIN_LOCKED ? "locked" : "expired");
		r = LACRE_E_DENIED;
		goto fail;
	}
	if (rv != CKR_OK && rv != CKR_USER_ALREADY_LOGGED_IN) {
		lacre_msg(msg, msglen, "cannot log in to token '%s': %s", cfg->pkcs11_token,
			  rv_name(rv, nb, sizeof(nb)));
		r = LACRE_E_DENIED;
		goto fail;
	}
	t->logged_in = rv == CKR_OK;
	free(slots);
	return LACRE_OK;
fail:
	free(slots);
	tok_close(t);
	return r;
}

/* Find the one AES secret key of label in the token: *h, or 0 when there
 * is none.  LACRE_E_CONFIG when several carry the label. */
static int find_key(struct tok *t, const char *label, CK_OBJECT_HANDLE *h, char *msg,
		    size_t msglen)
{
	CK_OBJECT_CLASS cls = CKO_SECRET_KEY;
	CK_KEY_TYPE kt = CKK_AES;
	CK_ATTRIBUTE tpl[] = {
		{ CKA_CLASS, &cls, sizeof(cls) },
		{ CKA_KEY_TYPE, &kt, sizeof(kt) },
		{ CKA_LABEL, (void *)(uintptr_t)label, (CK_ULONG)strlen(label) },
	};
	CK_OBJECT_HANDLE got[2];
	CK_ULONG n = 0;
	char nb[32];
	CK_RV rv;

	*h = CK_INVALID_HANDLE;
	rv = t->f->C_FindObjectsInit(t->sess, tpl, 3);
	if (rv == CKR_OK) {
		rv = t->f->C_FindObjects(t->sess, got, 2, &n);
		(void)t->f->C_FindObjectsFinal(t->sess);
	}
	if (rv != CKR_OK) {
		lacre_msg(msg, msglen, "cannot search the token for key '%s': %s", label,
			  rv_name(rv, nb, sizeof(nb)));
		return LACRE_E_UNAVAILABLE;
	}
	if (n > 1) {
		lacre_msg(msg, msglen, "several AES keys are labelled '%s' in the token: name one "
			  "(master.pkcs11_key) that no other key carries", label);
		return LACRE_E_CONFIG;
	}
	if (n == 1)
		*h = got[0];
	return LACRE_OK;
}

/* The key must be what lacre generates: AES-256, sensitive, never
 * extractable, allowed to encrypt and decrypt. */
static int check_key(struct tok *t, CK_OBJECT_HANDLE h, const char *label, char *msg,
		     size_t msglen)
{
	CK_BBOOL sens = CK_FALSE, extr = CK_TRUE, enc = CK_FALSE, dec = CK_FALSE;
	CK_ULONG len = 0;
	CK_ATTRIBUTE a[] = {
		{ CKA_SENSITIVE, &sens, sizeof(sens) },
		{ CKA_EXTRACTABLE, &extr, sizeof(extr) },
		{ CKA_ENCRYPT, &enc, sizeof(enc) },
		{ CKA_DECRYPT, &dec, sizeof(dec) },
		{ CKA_VALUE_LEN, &len, sizeof(len) },
	};
	char nb[32];
	CK_RV rv = t->f->C_GetAttributeValue(t->sess, h, a, 5);

	if (rv != CKR_OK) {
		lacre_msg(msg, msglen, "cannot read the attributes of key '%s': %s", label,
			  rv_name(rv, nb, sizeof(nb)));
		return LACRE_E_UNAVAILABLE;
	}
	if (len != 32 || sens != CK_TRUE || extr != CK_FALSE || enc != CK_TRUE || dec != CK_TRUE) {
		lacre_msg(msg, msglen, "key '%s' in the token is not a sensitive, non-extractable "
			  "AES-256 key that may encrypt and decrypt (%lu bytes, sensitive %s, "
			  "extractable %s): name another with master.pkcs11_key, or let lacre init "
			  "generate one", label, (unsigned long)len, sens ? "yes" : "no",
			  extr ? "yes" : "no");
		return LACRE_E_CONFIG;
	}
	return LACRE_OK;
}

/* Generate the wrapping key in the token: a token object, private,
 * sensitive, never extractable, for encrypt and decrypt only. */
static int gen_key(struct tok *t, const char *label, CK_OBJECT_HANDLE *h, char *msg,
		   size_t msglen)
{
	CK_MECHANISM mech = { CKM_AES_KEY_GEN, NULL, 0 };
	CK_OBJECT_CLASS cls = CKO_SECRET_KEY;
	CK_KEY_TYPE kt = CKK_AES;
	CK_BBOOL yes = CK_TRUE, no = CK_FALSE;
	CK_ULONG len = 32;
	CK_ATTRIBUTE tpl[] = {
		{ CKA_CLASS, &cls, sizeof(cls) },
		{ CKA_KEY_TYPE, &kt, sizeof(kt) },
		{ CKA_LABEL, (void *)(uintptr_t)label, (CK_ULONG)strlen(label) },
		{ CKA_VALUE_LEN, &len, sizeof(len) },
		{ CKA_TOKEN, &yes, sizeof(yes) },
		{ CKA_PRIVATE, &yes, sizeof(yes) },
		{ CKA_SENSITIVE, &yes, sizeof(yes) },
		{ CKA_EXTRACTABLE, &no, sizeof(no) },
		{ CKA_ENCRYPT, &yes, sizeof(yes) },
		{ CKA_DECRYPT, &yes, sizeof(yes) },
		{ CKA_WRAP, &no, sizeof(no) },
		{ CKA_UNWRAP, &no, sizeof(no) },
		{ CKA_SIGN, &no, sizeof(no) },
		{ CKA_VERIFY, &no, sizeof(no) },
		{ CKA_DERIVE, &no, sizeof(no) },
	};
	char nb[32];
	CK_RV rv = t->f->C_GenerateKey(t->sess, &mech, tpl, sizeof(tpl) / sizeof(tpl[0]), h);

	if (rv != CKR_OK) {
		lacre_msg(msg, msglen, "the token cannot generate the AES-256 key '%s': %s", label,
			  rv_name(rv, nb, sizeof(nb)));
		return LACRE_E_UNAVAILABLE;
	}
	return LACRE_OK;
}

/* AES-GCM in the token over in[0..n) into out (*outn: its capacity in,
 * bytes written out), with m's IV and header as additional data.  The
 * token's answer (CKR_OK on success). */
static CK_RV gcm(struct tok *t, CK_OBJECT_HANDLE h, int enc, const struct p11_master *m,
	       const uint8_t *aad, const uint8_t *in, size_t n, uint8_t *out, CK_ULONG *outn)
{
	CK_GCM_PARAMS gp;
	CK_MECHANISM mech;
	CK_RV rv;

	memset(&gp, 0, sizeof(gp));
	gp.pIv = (CK_BYTE_PTR)(uintptr_t)m->iv;
	gp.ulIvLen = P11_IV_LEN;
	gp.ulIvBits = P11_IV_LEN * 8;
	gp.pAAD = (CK_BYTE_PTR)(uintptr_t)aad;
	gp.ulAADLen = (CK_ULONG)m->aad_len;
	gp.ulTagBits = 128;
	mech.mechanism = CKM_AES_GCM;
	mech.pParameter = &gp;
	mech.ulParameterLen = sizeof(gp);
	if (enc) {
		rv = t->f->C_EncryptInit(t->sess, &mech, h);
		if (rv == CKR_OK)
			rv = t->f->C_Encrypt(t->sess, (CK_BYTE_PTR)(uintptr_t)in, (CK_ULONG)n, out, outn);
	} else {
		rv = t->f->C_DecryptInit(t->sess, &mech, h);
		if (rv == CKR_OK)
			rv = t->f->C_Decrypt(t->sess, (CK_BYTE_PTR)(uintptr_t)in, (CK_ULONG)n, out, outn);
	}
	return rv;
}

/* site_master_seal_fn: the token path (arg: the PIN). */
static int seal_token(void *arg, const struct site *s, const uint8_t key[SITE_MASTER_KEY_LEN],
		      char *msg, size_t msglen)
{
	const struct site_config *cfg = &s->cfg;
	struct p11_master m;
	struct lacre_dbuf hdr, file;
	struct tok t;
	CK_OBJECT_HANDLE h;
	CK_ULONG outn = P11_WRAPPED_LEN;
	char path[SITE_PATH_MAX], nb[32];
	CK_RV rv;
	int r;

	memset(&m, 0, sizeof(m));
	lacre_dbuf_init(&hdr, P11_FILE_MAX);
	lacre_dbuf_init(&file, P11_FILE_MAX);
	snprintf(m.token, sizeof(m.token), "%s", cfg->pkcs11_token);
	snprintf(m.key, sizeof(m.key), "%s", cfg->pkcs11_key);
	if ((r = tok_open(cfg, arg, 1, &t, msg, msglen)) != LACRE_OK)
		goto out0;
	if ((r = find_key(&t, cfg->pkcs11_key, &h, msg, msglen)) != LACRE_OK)
		goto out;
	if (h == CK_INVALID_HANDLE && (r = gen_key(&t, cfg->pkcs11_key, &h, msg, msglen)) != LACRE_OK)
		goto out;
	if ((r = check_key(&t, h, cfg->pkcs11_key, msg, msglen)) != LACRE_OK)
		goto out;
	if (RAND_bytes(m.iv, sizeof(m.iv)) != 1) {
		r = LACRE_E_CRYPTO;
		lacre_msg(msg, msglen, "cannot make the GCM nonce: the random generator failed");
		goto out;
	}
	/* the header first: it is the additional data */
	if ((r = p11_master_encode(&m, &hdr)) != LACRE_OK) {
		lacre_msg(msg, msglen, "cannot encode %s: %s", P11_MASTER, lacre_strerror(r));
		goto out;
	}
	rv = gcm(&t, h, 1, &m, hdr.p, key, SITE_MASTER_KEY_LEN, m.wrapped, &outn);
	if (rv != CKR_OK || outn != P11_WRAPPED_LEN) {
		lacre_msg(msg, msglen, "the token cannot encrypt with key '%s' (CKM_AES_GCM): %s",
			  cfg->pkcs11_key, rv != CKR_OK ? rv_name(rv, nb, sizeof(nb)) : "wrong length");
		r = LACRE_E_UNAVAILABLE;
		goto out;
	}
	if ((r = p11_master_encode(&m, &file)) == LACRE_OK)
		r = site_path(s, P11_MASTER, path, sizeof(path));
	if (r == LACRE_OK)
		r = site_write_file(path, file.p, file.len, 0600);
	if (r != LACRE_OK)
		lacre_msg(msg, msglen, "cannot write %s: %s", P11_MASTER, lacre_strerror(r));
out:
	tok_close(&t);
out0:
	lacre_dbuf_free(&hdr);
	lacre_dbuf_free(&file);
	return r;
}

int p11_site_create(const char *dir, const struct site_config *cfg, const char *pin,
		    struct site *s, char *msg, size_t msglen)
{
	struct tok t;
	int r;

	if (cfg == NULL || pin == NULL || pin[0] == '\0')
		return LACRE_E_INVALID;
	if (cfg->pkcs11_module[0] == '\0') {
		lacre_msg(msg, msglen, "master.pkcs11_module is not set: name the token's module");
		return LACRE_E_CONFIG;
	}
	if (site_config_check_master(cfg, msg, msglen) != LACRE_OK)
		return LACRE_E_CONFIG;
	/* a missing token or a wrong PIN must not leave a half-made folder */
	if ((r = tok_open(cfg, pin, 0, &t, msg, msglen)) != LACRE_OK)
		return r;
	tok_close(&t);
	return site_create_sealed(dir, cfg, seal_token, (void *)(uintptr_t)pin, s, msg, msglen);
}

int p11_master_unseal(const struct site *s, const char *pin, uint8_t key[SITE_MASTER_KEY_LEN],
		      char *msg, size_t msglen)
{
	const struct site_config *cfg;
	struct p11_master m;
	struct lacre_dbuf file;
	struct tok t;
	CK_OBJECT_HANDLE h;
	uint8_t plain[P11_WRAPPED_LEN];
	CK_ULONG outn = sizeof(plain);
	char path[SITE_PATH_MAX], nb[32];
	CK_RV rv;
	int r;

	if (s == NULL || pin == NULL || key == NULL)
		return LACRE_E_INVALID;
	cfg = &s->cfg;
	if ((r = site_path(s, P11_MASTER, path, sizeof(path))) != LACRE_OK)
		return r;
	r = site_read_file(path, P11_FILE_MAX + 1, &file);
	if (r != LACRE_OK) {
		lacre_msg(msg, msglen, r == LACRE_E_NOT_FOUND ? "%s is missing: this site's master key "
			  "was not sealed by a token" : r == LACRE_E_TOO_LARGE ? "%s is corrupt (too "
			  "large)" : "cannot read %s", path);
		return r == LACRE_E_TOO_LARGE ? LACRE_E_CORRUPT : r;
	}
	r = p11_master_parse(file.p, file.len, &m);
	if (r != LACRE_OK) {
		lacre_msg(msg, msglen, "%s is corrupt (not a %s file)", path, P11_MAGIC);
		goto out0;
	}
	if (strcmp(m.token, cfg->pkcs11_token) != 0 || strcmp(m.key, cfg->pkcs11_key) != 0) {
		lacre_msg(msg, msglen, "%s was sealed by key '%s' of token '%s', but lacre.conf names "
			  "key '%s' of token '%s': correct master.pkcs11_token and master.pkcs11_key",
			  P11_MASTER, m.key, m.token, cfg->pkcs11_key, cfg->pkcs11_token);
		r = LACRE_E_CONFIG;
		goto out0;
	}
	if ((r = tok_open(cfg, pin, 0, &t, msg, msglen)) != LACRE_OK)
		goto out0;
	if ((r = find_key(&t, m.key, &h, msg, msglen)) != LACRE_OK)
		goto out;
	if (h == CK_INVALID_HANDLE) {
		lacre_msg(msg, msglen, "token '%s' holds no AES key labelled '%s': without it the "
			  "master key cannot be unwrapped", m.token, m.key);
		r = LACRE_E_NOT_FOUND;
		goto out;
	}
	if ((r = check_key(&t, h, m.key, msg, msglen)) != LACRE_OK)
		goto out;
	rv = gcm(&t, h, 0, &m, file.p, m.wrapped, sizeof(m.wrapped), plain, &outn);
	if (rv != CKR_OK || outn != SITE_MASTER_KEY_LEN) {
		lacre_msg(msg, msglen, "key '%s' of token '%s' does not open %s (%s): the file was "
			  "altered, or the key is another one of the same label", m.key, m.token, path,
			  rv != CKR_OK ? rv_name(rv, nb, sizeof(nb)) : "wrong length");
		r = LACRE_E_AUTH;
		goto out;
	}
	memcpy(key, plain, SITE_MASTER_KEY_LEN);
	r = LACRE_OK;
out:
	tok_close(&t);
out0:
	OPENSSL_cleanse(plain, sizeof(plain));
	lacre_dbuf_free(&file);
	return r;
}

int p11_keystore_open(const struct site *s, const struct passphrase_src *src,
		      struct keystore **ks, char *msg, size_t msglen)
{
	uint8_t master[SITE_MASTER_KEY_LEN];
	char *pin = NULL;
	int r;

	/* no child may inherit either secret, whichever the site uses */
	r = p11_pin_get(src, &pin);
	unsetenv(P11_PIN_ENV);
	unsetenv(PASSPHRASE_ENV);
	if (r != LACRE_OK) {
		lacre_msg(msg, msglen, "cannot read the PIN of token '%s': %s%s", s->cfg.pkcs11_token,
			  lacre_strerror(r), r == LACRE_E_NOT_FOUND ? " (use --pin-file, --pin-fd, "
			  "the credential " P11_PIN_CREDENTIAL ", " P11_PIN_ENV " or a terminal)" : "");
		return r;
	}
	r = p11_master_unseal(s, pin, master, msg, msglen);
	passphrase_free(pin);
	if (r != LACRE_OK)
		return r;
	r = keystore_open(s, master, ks);
	OPENSSL_cleanse(master, sizeof(master));
	if (r != LACRE_OK)
		lacre_msg(msg, msglen, "cannot open the keystore: %s", lacre_strerror(r));
	return r;
}
