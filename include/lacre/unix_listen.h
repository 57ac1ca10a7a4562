/*
 * unix_listen.h - a listening Unix stream socket for a key-holding
 * service (the keeper, the log signer): the socket's folder must not be
 * writable by others nor owned by another user (who could swap the
 * socket), a stale socket of a service that died is replaced, a live one
 * is refused, and the socket is made mode 0660 (its user and group may
 * connect; every request is authenticated by the service itself).  Owned
 * by lib/util/unix_listen.c.
 */
#ifndef LACRE_UNIX_LISTEN_H
#define LACRE_UNIX_LISTEN_H

#include <stddef.h>

/* Listen on path with backlog; *out gets the descriptor (close-on-exec).
 * who names the service in the messages ("keeper", "signer").  Errors:
 * LACRE_E_CONFIG (path too long, folder missing or unsafe),
 * LACRE_E_EXISTS (not a socket, or a service already answers there),
 * LACRE_E_IO; msg says which and what to do. */
int lacre_unix_listen(const char *path, const char *who, int backlog, int *out, char *msg,
		      size_t msglen);

#endif
