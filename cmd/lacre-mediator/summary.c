/*
 * summary.c - stream registry and the --summary JSON (docs/FORMATS.md §7).
 *
 * Each (LIID, CIN, IRI|CC) stream gets an index when its first data PDU is
 * generated; net.c adds to its "sent" count when the PDU has been written
 * completely (socket or file), resent duplicates excluded.  The JSON is
 * written to FILE.tmp and renamed, so a reader never sees half a summary.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lacre/err.h"
#include "mediator.h"

/* Register a stream; returns its index or -1 when out of memory. */
int32_t med_stream_add(struct med_ctx *m, uint32_t target, uint32_t cin, int cc)
{
	struct med_stream *s;

	if (m->n_streams == m->cap_streams) {
		size_t nc = m->cap_streams ? m->cap_streams * 2 : 256;
		if (nc > INT32_MAX)
			return -1;
		s = realloc(m->streams, nc * sizeof(*s));
		if (!s)
			return -1;
		m->streams = s;
		m->cap_streams = nc;
	}
	s = &m->streams[m->n_streams];
	s->target = target;
	s->cin = cin;
	s->cc = (uint8_t)(cc != 0);
	s->sent = 0;
	return (int32_t)m->n_streams++;
}

/* Write s as a JSON string (LIIDs are printable or 0x-hex already). */
static void json_str(FILE *f, const char *s)
{
	fputc('"', f);
	for (; *s; s++) {
		if (*s == '"' || *s == '\\')
			fprintf(f, "\\%c", *s);
		else if ((unsigned char)*s < 0x20)
			fprintf(f, "\\u%04x", (unsigned char)*s);
		else
			fputc(*s, f);
	}
	fputc('"', f);
}

/* Write the summary JSON atomically to path. */
int med_summary_write(struct med_ctx *m, const char *path)
{
	char tmp[4096];
	FILE *f;
	size_t i;
	int first = 1, n;
	char key[96];
	double el = med_mono() - m->wall0;

	n = snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	if (n < 0 || (size_t)n >= sizeof(tmp))
		return LACRE_E_INVALID;
	if (!(f = fopen(tmp, "w"))) {
		med_log("cannot write summary %s: check the directory", tmp);
		return LACRE_E_IO;
	}
	fprintf(f, "{\"sent\": {");
	for (i = 0; i < m->n_streams; i++) {
		const struct med_stream *s = &m->streams[i];
		if (s->sent == 0)
			continue;
		snprintf(key, sizeof(key), "%s/%u/%s", m->liids[s->target], s->cin, s->cc ? "cc" : "iri");
		fprintf(f, "%s\n  ", first ? "" : ",");
		json_str(f, key);
		fprintf(f, ": %llu", (unsigned long long)s->sent);
		first = 0;
	}
	fprintf(f, "%s},\n", first ? "" : "\n");
	fprintf(f, " \"pdus_sent\": %llu,\n \"bytes_sent\": %llu,\n",
	    (unsigned long long)m->st.pdus_sent, (unsigned long long)m->st.bytes_sent);
	fprintf(f, " \"data_pdus_sent\": %llu,\n \"integrity_pdus_sent\": %llu,\n"
	    " \"cin_resets_sent\": %llu,\n \"hi1_pdus_sent\": %llu,\n",
	    (unsigned long long)m->st.data_pdus_sent, (unsigned long long)m->st.integrity_sent,
	    (unsigned long long)m->st.resets_sent, (unsigned long long)m->st.hi1_sent);
	fprintf(f, " \"keepalives_sent\": %llu,\n \"keepalive_responses_ok\": %llu,\n"
	    " \"keepalive_failures\": %llu,\n",
	    (unsigned long long)m->st.keepalives_sent, (unsigned long long)m->st.keepalive_ok,
	    (unsigned long long)m->st.keepalive_failures);
	fprintf(f, " \"reconnects\": %llu,\n \"truncated_pdus\": %llu,\n \"garbage_bytes\": %llu,\n",
	    (unsigned long long)m->st.reconnects, (unsigned long long)m->st.truncated,
	    (unsigned long long)m->st.garbage_bytes);
	fprintf(f, " \"injected\": {\"gaps\": %llu, \"duplicates\": %llu, \"resets\": %llu, "
	    "\"restarts\": %llu},\n",
	    (unsigned long long)m->st.inj_gaps, (unsigned long long)m->st.inj_duplicates,
	    (unsigned long long)m->st.inj_resets, (unsigned long long)m->st.inj_restarts);
	fprintf(f, " \"seed\": %llu,\n \"elapsed_s\": %.3f,\n \"errors\": %llu\n}\n",
	    (unsigned long long)m->o.seed, el, (unsigned long long)m->st.errors);
	if (fflush(f) != 0 || ferror(f) || fsync(fileno(f)) != 0) {
		fclose(f);
		unlink(tmp);
		med_log("cannot write summary %s: disk full?", tmp);
		return LACRE_E_IO;
	}
	fclose(f);
	if (rename(tmp, path) != 0) {
		unlink(tmp);
		med_log("cannot rename summary to %s", path);
		return LACRE_E_IO;
	}
	return 0;
}
