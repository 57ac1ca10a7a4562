/*
 * signer_client.c - the receiver's side of the log signer (signer.h): one
 * request per connection to the signer's Unix socket, and a tlog_signer
 * callback so that the ingest log asks lacre-signer instead of holding
 * its key.  Answers are parsed strictly (the signer is another process;
 * the log checks every note it is given against the vkey anyway).
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "lacre/err.h"
#include "lacre/signer.h"

/* One request, one answer body. */
int signer_call(const char *path, const struct signer_request *rq, struct lacre_dbuf *out)
{
	struct sockaddr_un a;
	struct lacre_dbuf req;
	int fd, rc;

	memset(&a, 0, sizeof(a));
	a.sun_family = AF_UNIX;
	if (strlen(path) >= sizeof(a.sun_path))
		return LACRE_E_CONFIG;
	memcpy(a.sun_path, path, strlen(path) + 1);
	lacre_dbuf_init(&req, SIGNER_MSG_MAX + 1);
	if ((rc = signer_request_encode(rq, &req)) != LACRE_OK)
		goto out;
	rc = LACRE_E_UNAVAILABLE;
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0)
		goto out;
	if (connect(fd, (struct sockaddr *)&a, sizeof(a)) != 0) {
		close(fd);
		goto out;
	}
	if ((rc = signer_frame_write(fd, req.p, req.len)) == LACRE_OK)
		rc = signer_frame_read(fd, SIGNER_MSG_MAX, out);
	close(fd);
	if (rc != LACRE_OK && rc != LACRE_E_TOO_LARGE)
		rc = LACRE_E_UNAVAILABLE;
out:
	lacre_dbuf_free(&req);
	return rc;
}

/* The log's vkey, asked of the signer. */
int signer_fetch_key(const char *path, struct note_verifier *out)
{
	struct signer_request rq;
	struct signer_answer an;
	struct lacre_dbuf d;
	int rc;

	memset(&rq, 0, sizeof(rq));
	rq.type = SIGNER_REQ_KEY;
	lacre_dbuf_init(&d, SIGNER_MSG_MAX + 1);
	if ((rc = signer_call(path, &rq, &d)) == LACRE_OK &&
	    (rc = signer_answer_parse(d.p, d.len, &an)) == LACRE_OK)
		rc = an.ok ? note_verifier_parse((const char *)an.text, an.text_len, out)
			   : signer_reason_err(an.reason);
	lacre_dbuf_free(&d);
	return rc;
}

/* tlog_signer.sign: send the checkpoint with its proof; a refusal is kept
 * in the client (last_reason) and returned as its lacre_err. */
static int client_sign(void *arg, const struct tlog_sign_request *t, struct lacre_dbuf *note)
{
	struct signer_client *c = arg;
	struct signer_request rq;
	struct signer_answer an;
	struct lacre_dbuf d;
	int rc;

	memset(&rq, 0, sizeof(rq));
	rq.type = SIGNER_REQ_SIGN;
	if (strlen(t->origin) >= sizeof(rq.origin))
		return LACRE_E_INVALID;
	memcpy(rq.origin, t->origin, strlen(t->origin) + 1);
	rq.old_size = t->old_size;
	rq.size = t->size;
	memcpy(rq.root, t->root, MERKLE_HASH_LEN);
	rq.proof = *t->proof;
	lacre_dbuf_init(&d, SIGNER_MSG_MAX + 1);
	c->refused = 0;
	rc = signer_call(c->path, &rq, &d);
	if (rc != LACRE_OK) {
		snprintf(c->last_reason, sizeof(c->last_reason), "the signer at %s does not answer "
			 "(%s)", c->path, lacre_strerror(rc));
		goto out;
	}
	if ((rc = signer_answer_parse(d.p, d.len, &an)) != LACRE_OK) {
		snprintf(c->last_reason, sizeof(c->last_reason), "the signer's answer does not parse");
		goto out;
	}
	if (!an.ok) {
		rc = signer_reason_err(an.reason);
		if (an.reason == SIGNER_R_STALE && t->stale_size)
			*t->stale_size = an.signed_size;
		c->refused = 1;
		snprintf(c->last_reason, sizeof(c->last_reason), "refused checkpoint %llu (%s): %.*s",
			 (unsigned long long)t->size, signer_reason_name(an.reason),
			 (int)an.text_len, (const char *)an.text);
		goto out;
	}
	if ((rc = lacre_dbuf_add(note, an.text, an.text_len)) != LACRE_OK)
		goto out;
	c->signed_count++;
	c->last_reason[0] = '\0';
out:
	c->last_rc = rc;
	lacre_dbuf_free(&d);
	return rc;
}

/* A tlog_signer over the client. */
void signer_client_tlog(struct signer_client *c, const struct note_verifier *key,
			struct tlog_signer *sg)
{
	memset(sg, 0, sizeof(*sg));
	sg->key = *key;
	sg->sign = client_sign;
	sg->arg = c;
}
