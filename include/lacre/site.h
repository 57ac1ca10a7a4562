/*
 * site.h - a lacre site: one folder holding the configuration, the sealed
 * site master key, the keystore, the warrant log, the spool and (by
 * default) the object store.  docs/site.md describes the folder and every
 * configuration key; docs/FORMATS.md §4 gives the byte formats.
 *
 *   DIR/lacre.conf     key = value configuration (no secrets)       0640
 *   DIR/master.age     32-byte site master key, age scrypt-sealed   0600
 *   DIR/keystore/      warrant and oversight private keys, wrapped  0700
 *                      by the master key (access domain only)
 *   DIR/warrants.log   append-only hash-chained warrant events      0644
 *                      (ingest reads it: public keys only)
 *   DIR/spool/         local spool of sealed segments (ingest)
 *   DIR/objects/       the embedded dir: backend
 *
 * The configuration is one flat table of typed keys (site_config_*): the
 * parser is strict (unknown key, duplicate key, bad value or a line without
 * "=" fails with "FILE:LINE: ..."), and every key can be overridden by a
 * command with site_config_set(), e.g. from --set key=value.  The ingest
 * process opens the site with site_open() and needs no secret: creating a
 * site and unlocking its master key are the keeper's (lib/keeper/master.h,
 * private to the keeper domain).  Owned by lib/site/site.c and
 * lib/site/config.c.
 */
#ifndef LACRE_SITE_H
#define LACRE_SITE_H

#include <stddef.h>
#include <stdint.h>

#include "lacre/age.h"
#include "lacre/buf.h"

#define SITE_PATH_MAX 1024
#define SITE_MSG_MAX 512          /* suggested size of a msg buffer */
#define SITE_CONF "lacre.conf"
#define SITE_MASTER "master.age"
#define SITE_KEYSTORE "keystore"
#define SITE_WARRANTS "warrants.log"
#define SITE_SPOOL "spool"
#define SITE_OBJECTS "objects"
#define SITE_ENV "LACRE_SITE"
#define SITE_CONF_MAX (64 * 1024) /* cap on the configuration file size */
#define SITE_MASTER_KEY_LEN 32
#define SITE_LOG2N_DEFAULT 18     /* scrypt work factor of master.age */
#define SITE_LOG2N_MAX 22         /* highest work factor accepted when opening */
#define SITE_OVERSIGHT_KEY "oversight" /* keystore name of the oversight identity */
#define SITE_SIGNER_KEY "warrant-signer" /* keystore name of the warrant-log Ed25519 seed */

/* Handover decryption keys (TS 102 232-1 Annex G EncryptionContainer),
 * per operator, with validity windows for rotation: the configuration
 * names key FILES (hex, 24 or 32 octets, mode 0600, readable by the
 * receiver only); it never holds a key.  handover.keys lists entries
 * "OPERATOR FILE [FROM [TO]]" separated by commas (docs/site.md). */
#define SITE_HKEY_MAX 16
#define SITE_HKEY_FILE_MAX 256
struct site_hkey {
	char operator_id[17];                 /* operatorIdentifier, 1..16 octets */
	char file[SITE_HKEY_FILE_MAX];        /* absolute, or under handover.key_dir */
	int64_t valid_from_us, valid_to_us;   /* [from, to); INT64_MIN / INT64_MAX open */
};

/* Operators (lacre.conf operator.NAME.*, docs/site.md "Operators"): the
 * parties whose mediation devices deliver to this site.  The receiver
 * authenticates every connection to one of them by its TLS client
 * certificate (SHA-256 fingerprint, or a CA and the certificate's subject)
 * and/or its source address; a warrant names the operator(s) obliged to
 * deliver it, and a record of its LIID from any other connection is
 * quarantined (operator-not-bound). */
#define SITE_OPERATOR_MAX 16
#define SITE_OPERATOR_NAME_MAX 33         /* 1..32 of [A-Za-z0-9_-], with NUL */
#define SITE_OPERATOR_FPS 8               /* certificate fingerprints per operator */
#define SITE_OPERATOR_NETS 16             /* address ranges per operator */
#define SITE_OPERATOR_SUBJECT_MAX 256
#define SITE_OP_CERT 1u                   /* operator.NAME.cert_sha256 set */
#define SITE_OP_CA 2u                     /* operator.NAME.ca set */
#define SITE_OP_SUBJECT 4u                /* operator.NAME.subject set */
#define SITE_OP_ADDRESSES 8u              /* operator.NAME.addresses set */
struct site_net {
	uint8_t fam;                      /* 4 or 6 */
	uint8_t prefix;                   /* 0..32 or 0..128 */
	uint8_t addr[16];                 /* network address (host bits zero) */
};
struct site_operator {
	char name[SITE_OPERATOR_NAME_MAX];
	uint8_t fps[SITE_OPERATOR_FPS][32];   /* cert_sha256: SHA-256 of the DER certificate */
	size_t n_fps;
	char ca[SITE_PATH_MAX];               /* ca: PEM bundle its certificates chain to */
	char subject[SITE_OPERATOR_SUBJECT_MAX]; /* subject: RFC 2253 form, exact */
	struct site_net nets[SITE_OPERATOR_NETS]; /* addresses: allowed sources */
	size_t n_nets;
	unsigned set;                         /* SITE_OP_* keys given */
};

/* Receivers (lacre.conf receiver.NAME.*, docs/site.md "Receivers"): the
 * named receivers of a site, each with its own ingest log origin
 * lacre/<site>/ingest/<NAME>, ledger state DIR/ledger/ingest-NAME/ and
 * spool.  Every key is optional: vkey records the log key of a receiver on
 * another machine (the site's audit and readers trust its checkpoints with
 * it); hi2, hi3 and spool_dir are that receiver's listeners and spool when
 * it runs on this machine (lib/site/receiver.c; lacre/ingest_logs.h lists
 * the logs). */
#define SITE_RECEIVER_MAX 16
#define SITE_RECEIVER_NAME_MAX 33         /* 1..32 of [a-z0-9-], with NUL */
#define SITE_RECEIVER_VKEY_MAX 512
#define SITE_RCV_VKEY 1u                  /* receiver.NAME.vkey set */
#define SITE_RCV_HI2 2u                   /* receiver.NAME.hi2 set */
#define SITE_RCV_HI3 4u                   /* receiver.NAME.hi3 set */
#define SITE_RCV_SPOOL 8u                 /* receiver.NAME.spool_dir set */
struct site_receiver {
	char name[SITE_RECEIVER_NAME_MAX];
	char vkey[SITE_RECEIVER_VKEY_MAX];    /* vkey: its log's note verifier key */
	char hi2[256];                        /* hi2: host:port */
	char hi3[256];                        /* hi3: host:port */
	char spool_dir[SITE_PATH_MAX];        /* spool_dir: absolute path */
	unsigned set;                         /* SITE_RCV_* keys given */
};

/* The typed configuration.  Strings are NUL-terminated; sizes in bytes,
 * durations in milliseconds.  Field names follow the keys of docs/site.md. */
struct site_config {
	char name[256];                       /* site.name */
	char hi2[256];                        /* ingest.hi2  host:port */
	char hi3[256];                        /* ingest.hi3  host:port */
	char ingest_user[33];                 /* ingest.user  receiver's user when started as root */
	char ingest_receiver[SITE_RECEIVER_NAME_MAX]; /* ingest.receiver  this receiver's name ("": unnamed) */
	int tls_enable;                       /* tls.enable */
	char tls_cert[SITE_PATH_MAX];         /* tls.cert */
	char tls_key[SITE_PATH_MAX];          /* tls.key */
	char tls_client_ca[SITE_PATH_MAX];    /* tls.client_ca */
	int tls_require_client_cert;          /* tls.require_client_cert */
	char backend[SITE_PATH_MAX];          /* backend  dir:PATH | s3://BUCKET[/PREFIX] */
	char s3_endpoint[256];                /* s3.endpoint  http[s]://HOST[:PORT] */
	char s3_region[64];                   /* s3.region */
	char s3_credentials[SITE_PATH_MAX];   /* s3.credentials  file of access_key, secret_key */
	int s3_allow_remote;                  /* s3.allow_remote */
	uint64_t s3_uploads;                  /* s3.uploads  segment PUTs at once, 1..16 */
	char spool_dir[SITE_PATH_MAX];        /* spool.dir */
	int spool_direct_io;                  /* spool.direct_io */
	uint64_t spool_quota;                 /* spool.quota  bytes, 0 = the file system's size */
	uint64_t spool_reserve;               /* spool.reserve  bytes kept free */
	uint64_t segment_max_bytes;           /* segment.max_bytes */
	uint64_t segment_max_age_ms;          /* segment.max_age */
	char oversight_recipient[AGE_RECIPIENT_MAX]; /* oversight.recipient */
	char warrants_signer[68];             /* warrants.signer  Ed25519 public key, hex */
	char witness_policy[SITE_PATH_MAX];   /* witness.policy (tlog-policy file) */
	char ledger_signer[SITE_PATH_MAX];    /* ledger.signer (lacre-signer's socket) */
	uint64_t ingest_workers;              /* ingest.workers (0: online CPUs) */
	uint64_t max_connections;             /* limits.max_connections */
	uint64_t max_pdu_bytes;               /* limits.max_pdu_bytes */
	uint64_t memory_budget;               /* limits.memory_budget  bytes */
	uint64_t idle_timeout_ms;             /* limits.idle_timeout */
	uint64_t scrypt_log2n;                /* master.scrypt_log2n */
	char handover_key_dir[SITE_PATH_MAX]; /* handover.key_dir */
	char handover_keys[SITE_PATH_MAX];    /* handover.keys, as written */
	char pkcs11_module[SITE_PATH_MAX];    /* master.pkcs11_module (empty: passphrase) */
	char pkcs11_token[33];                /* master.pkcs11_token  token label (<= 32) */
	char pkcs11_key[65];                  /* master.pkcs11_key    key label (<= 64) */
	struct site_hkey hkeys[SITE_HKEY_MAX];/* handover.keys, parsed */
	size_t n_hkeys;
	char console_listen[256];             /* console.listen  host:port */
	char console_cert[SITE_PATH_MAX];     /* console.cert */
	char console_key[SITE_PATH_MAX];      /* console.key */
	char console_web[SITE_PATH_MAX];      /* console.web */
	struct site_operator operators[SITE_OPERATOR_MAX]; /* operator.NAME.* */
	size_t n_operators;
	struct site_receiver receivers[SITE_RECEIVER_MAX]; /* receiver.NAME.* */
	size_t n_receivers;
};

/* Whether name is a valid receiver name (1..32 of a-z 0-9 -). */
int site_receiver_name_ok(const char *name);

/* The receiver called name in cfg, or NULL. */
const struct site_receiver *site_receiver_find(const struct site_config *cfg, const char *name);

/* The "receiver.NAME.ATTR" keys (lib/site/receiver.c), handed on by
 * config.c as the operator keys are: set (an empty value unsets), get,
 * check (names, vkeys, addresses, absolute spools, and no two receivers
 * or the unnamed one with the same spool), write, key_bit. */
int site_receiver_set(struct site_config *cfg, const char *key, const char *value, char *msg,
		      size_t msglen);
int site_receiver_get(const struct site_config *cfg, const char *key, char *out, size_t outlen);
int site_receiver_check(const struct site_config *cfg, char *msg, size_t msglen);
int site_receiver_write(const struct site_config *cfg, struct lacre_dbuf *out);
int site_receiver_key_bit(const char *key, char name[SITE_RECEIVER_NAME_MAX], unsigned *bit);


/* The operator called name, or NULL. */
const struct site_operator *site_operator_find(const struct site_config *cfg, const char *name);

/* Whether name is a valid operator name (1..32 of A-Z a-z 0-9 _ -). */
int site_operator_name_ok(const char *name);

/* The "operator.NAME.ATTR" keys (lib/site/operator.c), which config.c's
 * site_config_set/get/check/write hand on: set (creating operator NAME on
 * its first key; an empty value unsets the attribute), get (LACRE_E_NOT_FOUND
 * for an unknown operator or attribute), check (every operator), write (the
 * documented lines of every operator).  key_bit gives a key's operator name
 * and SITE_OP_* bit (the parser refuses a key given twice). */
int site_operator_set(struct site_config *cfg, const char *key, const char *value, char *msg,
		      size_t msglen);
int site_operator_get(const struct site_config *cfg, const char *key, char *out, size_t outlen);
int site_operator_check(const struct site_config *cfg, char *msg, size_t msglen);
int site_operator_write(const struct site_config *cfg, struct lacre_dbuf *out);
int site_operator_key_bit(const char *key, char name[SITE_OPERATOR_NAME_MAX], unsigned *bit);

/* Whether the address addr (fam 4: 4 bytes, fam 6: 16 bytes) lies in one
 * of nets[0..n).  An IPv4-mapped IPv6 address (::ffff:a.b.c.d) is matched
 * as the IPv4 address. */
int site_net_match(const struct site_net *nets, size_t n, int fam, const uint8_t *addr);

/* The file of handover key k: k->file when absolute, else
 * handover.key_dir/k->file.  LACRE_E_CONFIG when relative without a
 * key_dir, LACRE_E_TOO_LARGE when out is too small. */
int site_hkey_path(const struct site_config *cfg, const struct site_hkey *k, char *out,
		   size_t outlen);

/* Fill cfg with the defaults for a site in dir (backend dir:DIR/objects,
 * spool DIR/spool, listeners 127.0.0.1:5001/5002, 64 MiB / 2 s segments,
 * scrypt 2^18, site name = last component of dir). */
void site_config_defaults(struct site_config *cfg, const char *dir);

/* Set one key from its text form (as in the file).  Errors:
 * LACRE_E_CONFIG (unknown key or bad value; msg says which and why). msg
 * (may be NULL) receives a one-line explanation. */
int site_config_set(struct site_config *cfg, const char *key, const char *value,
		    char *msg, size_t msglen);

/* Set from "key=value" (the --set argument form). */
int site_config_set_arg(struct site_config *cfg, const char *arg, char *msg, size_t msglen);

/* Write key's current value in text form into out. LACRE_E_NOT_FOUND for an
 * unknown key, LACRE_E_TOO_LARGE when outlen is too small. */
int site_config_get(const struct site_config *cfg, const char *key, char *out, size_t outlen);

/* Number of keys and the name of the i-th (for listings); NULL past the end. */
size_t site_config_nkeys(void);
const char *site_config_key(size_t i);

/* Parse configuration text (untrusted: read through the checked buffer)
 * over the values already in cfg.  fname names the file in messages
 * ("lacre.conf:12: unknown key 'foo'").  Comments are whole lines starting
 * with '#'; blank lines are ignored; a key may appear once. Errors:
 * LACRE_E_CONFIG, LACRE_E_TOO_LARGE. */
int site_config_parse(struct site_config *cfg, const char *fname,
		      const uint8_t *text, size_t n, char *msg, size_t msglen);

/* Read and parse a configuration file over cfg. LACRE_E_IO if unreadable. */
int site_config_load(struct site_config *cfg, const char *path, char *msg, size_t msglen);

/* Check the configuration as a whole (what `lacre ingest -n` reports):
 * listener addresses, distinct HI2/HI3, TLS files present when enabled,
 * backend scheme, spool set, limits in range, oversight recipient a valid
 * age recipient, witness quorum <= number of witnesses, every handover key
 * file a regular file readable by its owner only, every operator with a
 * credential (a fingerprint, a CA with a subject, or addresses), its CA file
 * readable, no fingerprint shared by two operators.  LACRE_E_CONFIG with msg
 * naming the key. */
int site_config_check(const struct site_config *cfg, char *msg, size_t msglen);

/* The master.pkcs11_* keys alone (part of site_config_check): all empty
 * (a passphrase site), or an absolute module path with a token label (1 to
 * 32 printable characters) and a key label (1 to 64), no space at either
 * end.  LACRE_E_CONFIG with msg naming the key. */
int site_config_check_master(const struct site_config *cfg, char *msg, size_t msglen);

/* Append the documented configuration file text (every key with its
 * comment and current value) to out. */
int site_config_write(const struct site_config *cfg, struct lacre_dbuf *out);

/* An open site. */
struct site {
	char dir[SITE_PATH_MAX];          /* absolute path of the site folder */
	struct site_config cfg;
};

/* Resolve the site folder: arg (from --site) if not NULL, else $LACRE_SITE.
 * Writes an absolute path.  LACRE_E_NOT_FOUND when neither is set. */
int site_dir_resolve(const char *arg, char out[SITE_PATH_MAX]);

/* Open the site in dir: defaults, then DIR/lacre.conf.  No secret is read.
 * Errors: LACRE_E_NOT_FOUND (no lacre.conf: not a site), LACRE_E_CONFIG,
 * LACRE_E_IO. */
int site_open(const char *dir, struct site *s, char *msg, size_t msglen);

struct lacre_store;

/* Open the site's backend (cfg.backend) with its lacre.conf S3 settings
 * (s3.endpoint, s3.region, s3.credentials, s3.allow_remote; the
 * environment fills what they leave empty, docs/storage.md).  The
 * credentials file (mode 0600 or 0400, lines `access_key = …` and
 * `secret_key = …`, '#' comments) is read here and wiped.  msg (may be
 * NULL) says what is wrong: a store error, a credentials file that is
 * missing, readable by others or malformed (LACRE_E_CONFIG). */
int site_store_open(const struct site *s, struct lacre_store **out, char *msg, size_t msglen);

/* Does the site's backend answer?  Opens it (site_store_open), creates an
 * s3 bucket that does not exist yet, and lists one name.  For `lacre init`
 * and `lacre ingest -n`.  msg says what failed (unavailable, denied...). */
int site_store_check(const struct site *s, char *msg, size_t msglen);

/* out = s->dir + "/" + name.  LACRE_E_TOO_LARGE when it does not fit. */
int site_path(const struct site *s, const char *name, char *out, size_t outlen);

/* Write data to path atomically: a temporary file in the same folder with
 * the given mode, fsync, rename, fsync of the folder.  LACRE_E_IO. */
int site_write_file(const char *path, const void *data, size_t n, unsigned mode);

/* Read a whole file of at most cap bytes into out (initialised here; the
 * caller frees it).  LACRE_E_NOT_FOUND (ENOENT), LACRE_E_TOO_LARGE, LACRE_E_IO. */
int site_read_file(const char *path, size_t cap, struct lacre_dbuf *out);

/* fsync the folder that holds path (after a create, rename or unlink). */
int site_fsync_parent(const char *path);

/* Load the signing key of one of the site's logs, DIR/<relpath> (e.g.
 * "ledger/ingest.key"), making it (0600, key name origin) when absent
 * (site_keys.c).  Caller frees with note_signer_free(). */
struct note_signer;
int site_log_key(const struct site *s, const char *relpath, const char *origin,
		 struct note_signer **out);

#endif
