/*
 * warrant_log.h - the warrant log's writers (lib/keeper/warrant_log.c):
 * each generates or uses a key of the keystore (the warrant's identity,
 * the site's warrant-log signing key), so they live with the keystore in
 * lib/keeper.  Commands reach them only through the gate's session
 * (access_warrant_add, _extend, _confirm, _cease: lib/keeper/access_key.h),
 * which checks the change was allowed; the reading side of the log is
 * include/lacre/warrant.h.  Owned by lib/keeper/warrant_log.c.
 */
#ifndef LACRE_WARRANT_LOG_H
#define LACRE_WARRANT_LOG_H

#include <stddef.h>
#include <stdint.h>

#include "lacre/site.h"
#include "lacre/warrant.h"

struct keystore;

/* Add a warrant described by spec (every field but id, recipient,
 * confirmation and cessation; periods[0] is the original order).  Under
 * an exclusive lock of the log: checks L1-L5 and the LIID overlap rule
 * (legal.c), generates the warrant's X25519 identity, stores the private
 * key in ks and appends an "add" event with the recipient.  id receives
 * the new id.  msg (may be NULL) explains a refusal.  Errors:
 * LACRE_E_LEGAL (a rule refused it: msg names the rule), LACRE_E_INVALID
 * (malformed field), LACRE_E_CORRUPT, LACRE_E_IO. */
int warrant_add(const struct site *s, struct keystore *ks, const struct warrant *spec,
		char id[WARRANT_ID_MAX], char *msg, size_t msglen);
/* Extend warrant id with a new period (a new order).  LACRE_E_NOT_FOUND,
 * LACRE_E_LEGAL.  Every writer needs ks for the log's signing key. */
int warrant_extend(const struct site *s, struct keystore *ks, const char *id,
		   const struct warrant_period *p, char *msg, size_t msglen);
/* Record the judicial confirmation of an emergency order (L5). */
int warrant_confirm(const struct site *s, struct keystore *ks, const char *id,
		    const char *order_id, int64_t order_date, char *msg, size_t msglen);
/* Record a cessation order effective at 'at' (L4). */
int warrant_cease(const struct site *s, struct keystore *ks, const char *id,
		  const char *order_id, int64_t order_date, int64_t at, char *msg, size_t msglen);

#endif
