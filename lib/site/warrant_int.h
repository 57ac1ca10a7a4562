/*
 * warrant_int.h - private definitions shared by lib/site/warrant.c (the
 * registry: replay of the log, lookup, reload, routing) and
 * lib/keeper/warrant_log.c (the writers, keeper domain: add, extend, confirm, cease).
 * Not a public API.
 *
 * A writer appends to the same log the registry reads: it loads the
 * registry under its exclusive lock, chains its line to the registry's
 * head hash and numbers it after the registry's event count, so both files
 * need the registry's layout, the line format's constants and the helpers
 * that open, lock, load and hash the log.
 */
#ifndef LACRE_VAULT_WARRANT_INT_H
#define LACRE_VAULT_WARRANT_INT_H

#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>
#include <time.h>

#include <openssl/evp.h>

#include "lacre/site.h"
#include "lacre/warrant.h"

#define LOG_MAGIC "lacre-warrant-v1"
#define LOG_LINE_MAX 16384

struct liid_ent {
	const char *liid;
	size_t len;
	size_t widx;
};

struct warrant_registry {
	char path[SITE_PATH_MAX];
	struct warrant *w;
	size_t n, cap;
	struct liid_ent *idx;
	size_t nidx;
	uint64_t events;
	uint8_t head[32];
	int have_pub;               /* verify signatures with pub */
	uint8_t pub[32];
	EVP_PKEY *pkey;             /* pub, while a load verifies */
	size_t skip_until;          /* while loading: signatures of lines ending
				     * at or before this offset were verified
				     * by the previous load (same bytes) */
	size_t verified_len;        /* bytes loaded and verified, and their */
	uint8_t verified_digest[32];/* SHA-256, for the next reload */
	int have_stat;
	dev_t dev;
	ino_t ino;
	off_t size;
	struct timespec mtim;
};

/* LIID: 1..WARRANT_LIID_MAX printable ASCII bytes, no space or comma. */
int warrant_liid_ok(const char *s);
/* Lower-case hex of 32 bytes. */
void warrant_hex32(const uint8_t h[32], char out[65]);
/* SHA-256 of p[0..n). */
int warrant_sha256(const void *p, size_t n, uint8_t out[32]);
/* Load the registry from the open, locked log fd (fd < 0: an empty log).
 * pub (may be NULL) is the signer's key; prev (may be NULL) a registry
 * loaded earlier from the same path with the same key, whose verified
 * prefix is not verified again. */
int warrant_load_fd(int fd, const char *path, const uint8_t *pub,
		    const struct warrant_registry *prev, struct warrant_registry **out);
/* Open the log at path and take a lock (LOCK_SH or LOCK_EX); *fd = -1 when
 * it does not exist and create is 0. */
int warrant_open_locked(const char *path, int op, int create, int *fd);
/* The site's warrant-log signer public key (warrants.signer). */
int warrant_site_signer(const struct site *s, uint8_t pub[32]);

#endif
