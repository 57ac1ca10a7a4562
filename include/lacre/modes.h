/*
 * modes.h - the permission bits of the files and folders lacre's
 * receiver and logs write that another process of the site's group must
 * read (docs/deploy.md: the receiver runs as lacre-ingest, the keeper and
 * `lacre audit` as lacre-keeper, both in the group lacre).
 *
 * Everything written with these modes is either ciphertext (sealed
 * segments), public by design (ledger entries, tiles, checkpoints, vkeys,
 * the keyless ledger batches of the spool, the status counters) or a lock;
 * secrets (ingest.key, the stream state, the keystore, master.age) keep
 * 0600.  The process's umask still applies: the receiver's unit sets
 * UMask=0027 so that these group bits survive.
 */
#ifndef LACRE_MODES_H
#define LACRE_MODES_H

#define LACRE_MODE_GROUP_FILE 0640 /* owner writes, the site's group reads */
#define LACRE_MODE_GROUP_DIR 0750  /* owner writes, the site's group lists and reads */

#endif
