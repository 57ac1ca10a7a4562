/*
 * policy.c - witness policies in the C2SP tlog-policy draft format (spec
 * §5): which logs are trusted, which witnesses exist, and which
 * combination of their cosignatures (groups of k-of-n, a quorum) makes a
 * checkpoint valid.  lacre pins its policy in lacre-verify's configuration
 * and in evidence packages; the log uses the same file to decide when a
 * checkpoint may be published.  Depends on libcrypto only.
 */
#include <stdlib.h>
#include <string.h>

#include "lacre/err.h"
#include "lacre/note.h"

#define MAX_TOKENS (3 + POLICY_MAX_MEMBERS)

/* Split one line into tokens at spaces and tabs; '#' starts a comment.
 * Returns the token count or -1 when there are too many. */
static int tokenize(char *line, char **tok)
{
	int n = 0;
	char *p = line;

	for (;;) {
		while (*p == ' ' || *p == '\t')
			p++;
		if (*p == '\0' || *p == '#')
			return n;
		if (n == MAX_TOKENS)
			return -1;
		tok[n++] = p;
		while (*p && *p != ' ' && *p != '\t')
			p++;
		if (*p)
			*p++ = '\0';
	}
}

/* Member code of a witness or group name, or -1. */
static int member_code(const struct policy *p, const char *name)
{
	size_t i;

	for (i = 0; i < p->nw; i++)
		if (strcmp(p->w[i].name, name) == 0)
			return (int)i;
	for (i = 0; i < p->ng; i++)
		if (strcmp(p->g[i].name, name) == 0)
			return (int)(POLICY_MAX_WITNESSES + i);
	return -1;
}

/* Whether a key is already listed (logs or witnesses). */
static int key_used(const struct policy *p, const struct note_verifier *v)
{
	size_t i;

	for (i = 0; i < p->nlogs; i++)
		if (memcmp(p->log[i].pub, v->pub, 32) == 0)
			return 1;
	for (i = 0; i < p->nw; i++)
		if (memcmp(p->w[i].key.pub, v->pub, 32) == 0)
			return 1;
	return 0;
}

/* Copy a URL token (or "" when absent). */
static int set_url(char *dst, const char *tok)
{
	size_t n = tok ? strlen(tok) : 0;

	if (n > POLICY_URL_MAX)
		return 0;
	memcpy(dst, tok ? tok : "", n + 1);
	return 1;
}

/* Parse one tokenized line into p. */
static int parse_line(struct policy *p, char **t, int n, int *seen_quorum)
{
	struct note_verifier v;
	long k;
	char *end;
	int i, code;

	if (strcmp(t[0], "log") == 0) {
		if (n < 2 || n > 3 || p->nlogs == POLICY_MAX_LOGS ||
		    note_verifier_parse(t[1], strlen(t[1]), &v) != LACRE_OK ||
		    v.type != NOTE_TYPE_ED25519 || key_used(p, &v) ||
		    !set_url(p->log_url[p->nlogs], n == 3 ? t[2] : NULL))
			return LACRE_E_CONFIG;
		p->log[p->nlogs++] = v;
		return LACRE_OK;
	}
	if (strcmp(t[0], "witness") == 0) {
		if (n < 3 || n > 4 || p->nw == POLICY_MAX_WITNESSES ||
		    strlen(t[1]) > POLICY_NAME_MAX || member_code(p, t[1]) >= 0 ||
		    strcmp(t[1], "none") == 0 ||
		    note_verifier_parse(t[2], strlen(t[2]), &v) != LACRE_OK ||
		    v.type != NOTE_TYPE_COSIG || key_used(p, &v) ||
		    !set_url(p->w[p->nw].url, n == 4 ? t[3] : NULL))
			return LACRE_E_CONFIG;
		memcpy(p->w[p->nw].name, t[1], strlen(t[1]) + 1);
		p->w[p->nw].key = v;
		p->nw++;
		return LACRE_OK;
	}
	if (strcmp(t[0], "group") == 0) {
		struct policy_group *g;
		if (n < 4 || p->ng == POLICY_MAX_GROUPS || strlen(t[1]) > POLICY_NAME_MAX ||
		    member_code(p, t[1]) >= 0 || strcmp(t[1], "none") == 0)
			return LACRE_E_CONFIG;
		g = &p->g[p->ng];
		memset(g, 0, sizeof(*g));
		for (i = 3; i < n; i++) {
			if ((code = member_code(p, t[i])) < 0 || g->n == POLICY_MAX_MEMBERS)
				return LACRE_E_CONFIG;
			for (size_t j = 0; j < g->n; j++)
				if (g->member[j] == code)
					return LACRE_E_CONFIG;
			g->member[g->n++] = (uint16_t)code;
		}
		if (strcmp(t[2], "all") == 0) {
			k = (long)g->n;
		} else if (strcmp(t[2], "any") == 0) {
			k = 1;
		} else {
			if (t[2][0] < '1' || t[2][0] > '9')
				return LACRE_E_CONFIG;
			k = strtol(t[2], &end, 10);
			if (*end != '\0' || k < 1 || (size_t)k > g->n)
				return LACRE_E_CONFIG;
		}
		memcpy(g->name, t[1], strlen(t[1]) + 1);
		g->k = (unsigned)k;
		p->ng++;
		return LACRE_OK;
	}
	if (strcmp(t[0], "quorum") == 0) {
		if (n != 2 || *seen_quorum)
			return LACRE_E_CONFIG;
		*seen_quorum = 1;
		if (strcmp(t[1], "none") == 0) {
			p->quorum = -1;
			return LACRE_OK;
		}
		if ((code = member_code(p, t[1])) < 0)
			return LACRE_E_CONFIG;
		p->quorum = code;
		return LACRE_OK;
	}
	return LACRE_E_CONFIG;
}

/* Parse a whole policy (see note.h). */
int policy_parse(const void *text, size_t len, struct policy *out, size_t *bad_line)
{
	const char *s = text;
	struct policy *p;
	char line[4096], *tok[MAX_TOKENS];
	size_t start = 0, i, lineno = 0;
	int n, seen_quorum = 0, rc = LACRE_OK;

	if ((p = calloc(1, sizeof(*p))) == NULL)
		return LACRE_E_NOMEM;
	for (i = 0; i <= len && rc == LACRE_OK; i++) {
		if (i < len && s[i] != '\n')
			continue;
		lineno++;
		if (i - start >= sizeof(line) || memchr(s + start, '\0', i - start)) {
			rc = LACRE_E_CONFIG;
			break;
		}
		memcpy(line, s + start, i - start);
		line[i - start] = '\0';
		if (i - start > 0 && line[i - start - 1] == '\r')
			line[i - start - 1] = '\0';
		start = i + 1;
		if ((n = tokenize(line, tok)) < 0)
			rc = LACRE_E_CONFIG;
		else if (n > 0)
			rc = parse_line(p, tok, n, &seen_quorum);
	}
	if (rc == LACRE_OK && (!seen_quorum || p->nlogs == 0)) {
		rc = LACRE_E_CONFIG;
		lineno = 0;
	}
	if (rc == LACRE_OK)
		*out = *p;
	else if (bad_line)
		*bad_line = lineno;
	free(p);
	return rc;
}

/* Whether member code is satisfied (groups refer only to earlier names,
 * so the recursion ends). */
static int member_ok(const struct policy *p, int code, uint64_t cosigned)
{
	const struct policy_group *g;
	unsigned have = 0;
	size_t i;

	if (code < POLICY_MAX_WITNESSES)
		return (cosigned >> code) & 1;
	g = &p->g[code - POLICY_MAX_WITNESSES];
	for (i = 0; i < g->n; i++)
		have += (unsigned)member_ok(p, g->member[i], cosigned);
	return have >= g->k;
}

/* The quorum for a set of cosigning witnesses. */
int policy_satisfied(const struct policy *p, uint64_t cosigned)
{
	if (p->quorum < 0)
		return 1;
	return member_ok(p, p->quorum, cosigned);
}

/* Open a checkpoint under the policy. */
int policy_open_checkpoint(const struct policy *p, const void *note, size_t len,
			   struct checkpoint *out, uint64_t *cosigned)
{
	struct note_verifier w[POLICY_MAX_WITNESSES];
	struct checkpoint cp;
	struct note *n = NULL;
	uint64_t cos = 0;
	size_t i;
	int rc;

	for (i = 0; i < p->nw; i++)
		w[i] = p->w[i].key;
	/* find the listed log for this origin */
	if ((rc = note_parse(note, len, &n)) != LACRE_OK)
		return rc;
	rc = checkpoint_parse(n->buf, n->text_len, &cp);
	note_free(n);
	if (rc != LACRE_OK)
		return rc;
	/* try each listed log key for this origin (key rotation) */
	rc = LACRE_E_AUTH;
	for (i = 0; i < p->nlogs && rc != LACRE_OK; i++)
		if (strcmp(p->log[i].name, cp.origin) == 0)
			rc = checkpoint_open(note, len, &p->log[i], w, p->nw, &cp, &cos);
	if (rc != LACRE_OK)
		return rc;
	if (!policy_satisfied(p, cos))
		return LACRE_E_AUTH;
	*out = cp;
	if (cosigned)
		*cosigned = cos;
	return LACRE_OK;
}

int policy_load_file(const char *path, struct policy **out, size_t *bad_line)
{
	struct lacre_dbuf d;
	struct policy *p = calloc(1, sizeof(*p));
	size_t bad = 0;
	int rc;

	if (p == NULL)
		return LACRE_E_NOMEM;
	lacre_dbuf_init(&d, 1 << 20);
	if ((rc = note_read_file(path, 1 << 20, &d)) == LACRE_OK)
		rc = policy_parse(d.p, d.len, p, &bad);
	lacre_dbuf_free(&d);
	if (bad_line)
		*bad_line = bad;
	if (rc != LACRE_OK) {
		free(p);
		return rc;
	}
	*out = p;
	return LACRE_OK;
}
