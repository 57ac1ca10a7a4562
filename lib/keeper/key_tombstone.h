/*
 * key_tombstone.h - what a tombstone says about a key destroyed by court
 * order (crypto-shredding, keystore.h).  Its own small header so that a
 * command can report a shredded key (access_key.h) without seeing the
 * keystore's interface.  Owned by lib/keeper/keystore.c.
 */
#ifndef LACRE_KEY_TOMBSTONE_H
#define LACRE_KEY_TOMBSTONE_H

#include <stdint.h>

#define KEY_ORDER_MAX 128

/* What a tombstone says about a shredded key. */
struct key_tombstone {
	char order_id[KEY_ORDER_MAX];
	int64_t order_date;      /* Unix microseconds */
	int64_t shredded_at;     /* Unix microseconds */
};

#endif
