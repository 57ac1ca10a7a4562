/*
 * test_note.c - signed notes, keys, checkpoints and cosignatures against the
 * byte-exact vectors of spec/tlog-formats.md §2.6, §3.1 and §4.2, plus the
 * parser rejections the spec lists.
 */
#include <stdint.h>
#include <stdlib.h>

#include "harness.h"
#include "lacre/err.h"
#include "lacre/note.h"

#define SOFA_BODY "example.com/behind-the-sofa\n20852163\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n"
#define SOFA_SIG "\xe2\x80\x94 example.com/behind-the-sofa PqiO0pyhic0rR20FXN6Sl6ITkjdAndbu8X9ZjbsQei8qOe4oqC1tLsh0SsPrpUcWWuHrNfI77MQPCp88Y2sKzqkgHAo=\n"
#define SOFA_VKEY "example.com/behind-the-sofa+3ea88ed2+ASFS+NGbeR0kRTJC4V8uq2y3z/p7al7TAJeWDgaYgdsS"
#define W1_VKEY "witness.example/w1+e75f6532+BAOhB7/zzhC+HXDdGOdLwJln5NYwm6UNXx3chmQSVTG4"
#define W1_LINE "\xe2\x80\x94 witness.example/w1 519lMgAAAABkGFDLBuRDazBLVac2NE+Y+IjbjQOcXLfF9CSDZVUIoS83rE1nFZsVE8YiWV6Ngr7lV8H6bdoBQGP/l73euDMQ9k+bBQ==\n"

static const char foo_note[] =
	"This is an example message.\n\n"
	"\xe2\x80\x94 example.com/foo Uw2QOkn8srV1yJGh2VYRlL1Tnagv1YEq6TfXppzi2ONncAlTgK7Ztg1ERYNZXsYjOBH3mFXmRKuwHjG1Yu72IneyaQM=\n";

/* Parse and verify a note held in a C string. */
static int verify_str(const char *s, const struct note_verifier *v, size_t nv, uint64_t *ok)
{
	struct note *n = NULL;
	int rc;

	if ((rc = note_parse(s, strlen(s), &n)) != LACRE_OK)
		return rc;
	rc = note_verify(n, v, nv, ok, NULL);
	note_free(n);
	return rc;
}

static void test_signed_note_vector(void)
{
	static const char vk[] = "example.com/foo+530d903a+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k";
	struct note_verifier v, other;
	struct note *n = NULL;
	uint64_t ok = 0;
	char *bad;

	CHECK_OK(note_verifier_parse(vk, strlen(vk), &v));
	CHECK_EQ_INT(v.keyid, 0x530d903a);
	CHECK_EQ_INT(v.type, NOTE_TYPE_ED25519);
	CHECK_OK(note_parse(foo_note, strlen(foo_note), &n));
	CHECK_EQ_INT(n->text_len, strlen("This is an example message.\n"));
	CHECK_EQ_INT(n->nsigs, 1);
	CHECK_EQ_INT(n->sigs[0].keyid, 0x530d903a);
	CHECK_EQ_INT(n->sigs[0].len, 64);
	note_free(n);
	CHECK_OK(verify_str(foo_note, &v, 1, &ok));
	CHECK_EQ_INT(ok, 1);
	/* a flipped signature byte: known key fails → whole note rejected */
	bad = strdup(foo_note);
	bad[strlen(bad) - 10] = bad[strlen(bad) - 10] == 'A' ? 'B' : 'A';
	CHECK_EQ_INT(verify_str(bad, &v, 1, &ok), LACRE_E_AUTH);
	free(bad);
	/* changed text */
	bad = strdup(foo_note);
	bad[0] = 't';
	CHECK_EQ_INT(verify_str(bad, &v, 1, &ok), LACRE_E_AUTH);
	free(bad);
	/* same name, other key ID: ignored, so nothing verifies */
	other = v;
	other.keyid ^= 1;
	CHECK_EQ_INT(verify_str(foo_note, &other, 1, &ok), LACRE_E_AUTH);
	/* an unknown signature next to a known one is ignored */
	{
		char buf[600];
		snprintf(buf, sizeof(buf), "%s%s", foo_note,
			 "\xe2\x80\x94 example.com/bar AAAAAAAA\n");
		CHECK_OK(verify_str(buf, &v, 1, &ok));
		/* text may contain empty lines: the last one separates */
		snprintf(buf, sizeof(buf), "a\n\nb\n\n%s", strchr(foo_note, '\n') + 2);
		{
			struct note *m = NULL;
			CHECK_OK(note_parse(buf, strlen(buf), &m));
			CHECK_EQ_INT(m->text_len, 5);
			note_free(m);
		}
	}
}

static void test_note_rejects(void)
{
	static const char *const bad[] = {
		"no signature\n",
		"text\n\n",
		"text\n\n\xe2\x80\x94 example.com/foo Uw2Q\n\nmore\n",
		"text\r\n\n\xe2\x80\x94 a AAAAAAAA\n",
		"te\txt\n\n\xe2\x80\x94 a AAAAAAAA\n",
		"text\n\n\xe2\x80\x94 a+b AAAAAAAA\n",
		"text\n\n\xe2\x80\x94 a AAAAAAA\n",
		"text\n\n\xe2\x80\x94 a AAAAAAAA",
		"text\n\n- a AAAAAAAA\n",
		"text\n\n\xe2\x80\x94 a AAAA\n",
		"text\n\n\xe2\x80\x94 a AAAAAA==\n",
		"text\n\n\xe2\x80\x94 a AAAAAAB=\n",
		"t\xc0\xafxt\n\n\xe2\x80\x94 a AAAAAAAA\n",
		"\n\n\xe2\x80\x94 a AAAAAAAA\n",
	};
	struct lacre_dbuf big;
	struct note *n = NULL;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		int rc = note_parse(bad[i], strlen(bad[i]), &n);
		if (rc == LACRE_OK) {
			note_free(n);
			t_fail(__FILE__, __LINE__, "bad note %zu parsed", i);
			return;
		}
	}
	/* 65 signature lines: over the cap */
	lacre_dbuf_init(&big, 1 << 20);
	CHECK_OK(lacre_dbuf_add_str(&big, "text\n\n"));
	for (int i = 0; i < 65; i++)
		CHECK_OK(lacre_dbuf_add_str(&big, "\xe2\x80\x94 a AAAAAAAA\n"));
	CHECK_EQ_INT(note_parse(big.p, big.len, &n), LACRE_E_TOO_LARGE);
	lacre_dbuf_reset(&big);
	CHECK_OK(lacre_dbuf_add_str(&big, "text\n\n"));
	for (int i = 0; i < 64; i++)
		CHECK_OK(lacre_dbuf_add_str(&big, "\xe2\x80\x94 a AAAAAAAA\n"));
	CHECK_OK(note_parse(big.p, big.len, &n));
	CHECK_EQ_INT(n->nsigs, 64);
	note_free(n);
	lacre_dbuf_free(&big);
}

static void test_checkpoint_vector(void)
{
	uint8_t seed[32];
	struct note_signer *s = NULL;
	struct note_verifier v, pv;
	struct lacre_dbuf d;
	struct checkpoint cp;
	uint64_t cos = 99;
	const char *str;

	memset(seed, 0x42, sizeof(seed));
	lacre_dbuf_init(&d, 1 << 16);
	CHECK_OK(note_signer_from_seed("example.com/behind-the-sofa", NOTE_TYPE_ED25519, seed, &s));
	note_signer_public(s, &v);
	CHECK_EQ_INT(v.keyid, 0x3ea88ed2);
	CHECK_OK(note_verifier_format(&v, &d));
	CHECK_OK(lacre_dbuf_cstr(&d, &str));
	CHECK_STR(str, SOFA_VKEY);
	CHECK_OK(note_verifier_parse(str, d.len, &pv));
	CHECK_MEM(&pv, &v, sizeof(v));
	lacre_dbuf_reset(&d);
	CHECK_OK(note_sign(s, SOFA_BODY, strlen(SOFA_BODY), &d));
	CHECK_OK(lacre_dbuf_cstr(&d, &str));
	CHECK_STR(str, SOFA_BODY "\n" SOFA_SIG);
	CHECK_OK(checkpoint_open(d.p, d.len, &v, NULL, 0, &cp, &cos));
	CHECK_STR(cp.origin, "example.com/behind-the-sofa");
	CHECK_EQ_INT(cp.size, 20852163);
	CHECK_EQ_INT(cos, 0);
	CHECK_EQ_INT(cp.root[0], 0x0a);
	/* checkpoint_format reproduces the body */
	lacre_dbuf_reset(&d);
	CHECK_OK(checkpoint_format(cp.origin, cp.size, cp.root, &d));
	CHECK_OK(lacre_dbuf_cstr(&d, &str));
	CHECK_STR(str, SOFA_BODY);
	/* private key text round trip */
	lacre_dbuf_reset(&d);
	CHECK_OK(note_signer_format(s, &d));
	CHECK_OK(lacre_dbuf_cstr(&d, &str));
	CHECK(strncmp(str, "PRIVATE+KEY+example.com/behind-the-sofa+3ea88ed2+AUJC", 53) == 0);
	{
		struct note_signer *s2 = NULL;
		struct note_verifier v2;
		CHECK_OK(note_signer_parse(str, d.len, &s2));
		note_signer_public(s2, &v2);
		CHECK_MEM(&v2, &v, sizeof(v));
		note_signer_free(s2);
		/* a wrong key ID in the private key text is refused */
		char *t = strdup(str);
		t[strlen("PRIVATE+KEY+example.com/behind-the-sofa+")] = '4';
		CHECK_EQ_INT(note_signer_parse(t, strlen(t), &s2), LACRE_E_MALFORMED);
		free(t);
	}
	note_signer_free(s);
	lacre_dbuf_free(&d);
}

static void test_cosignature_vector(void)
{
	uint8_t seed[32];
	struct note_signer *w = NULL, *log = NULL;
	struct note_verifier wv, lv, both[2];
	struct lacre_dbuf d, full;
	struct checkpoint cp;
	uint64_t cos = 0, ts[2] = { 0, 0 };
	struct note *n = NULL;
	const char *str;

	for (int i = 0; i < 32; i++)
		seed[i] = (uint8_t)i;
	lacre_dbuf_init(&d, 1 << 16);
	lacre_dbuf_init(&full, 1 << 16);
	CHECK_OK(note_signer_from_seed("witness.example/w1", NOTE_TYPE_COSIG, seed, &w));
	note_signer_public(w, &wv);
	CHECK_EQ_INT(wv.keyid, 0xe75f6532);
	CHECK_OK(note_verifier_format(&wv, &d));
	CHECK_OK(lacre_dbuf_cstr(&d, &str));
	CHECK_STR(str, W1_VKEY);
	lacre_dbuf_reset(&d);
	CHECK_OK(cosig_sign(w, SOFA_BODY, strlen(SOFA_BODY), 1679315147, &d));
	CHECK_OK(lacre_dbuf_cstr(&d, &str));
	CHECK_STR(str, W1_LINE);
	/* attach to the log-signed checkpoint and verify both */
	memset(seed, 0x42, sizeof(seed));
	CHECK_OK(note_signer_from_seed("example.com/behind-the-sofa", NOTE_TYPE_ED25519, seed, &log));
	note_signer_public(log, &lv);
	CHECK_OK(cosig_attach(SOFA_BODY "\n" SOFA_SIG, strlen(SOFA_BODY "\n" SOFA_SIG),
			      W1_LINE, strlen(W1_LINE), &full));
	CHECK_OK(checkpoint_open(full.p, full.len, &lv, &wv, 1, &cp, &cos));
	CHECK_EQ_INT(cos, 1);
	both[0] = lv;
	both[1] = wv;
	CHECK_OK(note_parse(full.p, full.len, &n));
	CHECK_OK(note_verify(n, both, 2, &cos, ts));
	CHECK_EQ_INT(cos, 3);
	CHECK_EQ_INT(ts[1], 1679315147);
	note_free(n);
	/* a cosignature over another time does not verify */
	lacre_dbuf_reset(&full);
	{
		char line[256];
		snprintf(line, sizeof(line), "%s", W1_LINE);
		char *p = strstr(line, "519lMg");
		CHECK(p != NULL);
		p[10] = p[10] == 'D' ? 'E' : 'D';
		CHECK_OK(cosig_attach(SOFA_BODY "\n" SOFA_SIG, strlen(SOFA_BODY "\n" SOFA_SIG),
				      line, strlen(line), &full));
		CHECK_EQ_INT(checkpoint_open(full.p, full.len, &lv, &wv, 1, &cp, &cos), LACRE_E_AUTH);
	}
	/* attach refuses lines that would change the text */
	lacre_dbuf_reset(&full);
	CHECK(cosig_attach(SOFA_BODY "\n" SOFA_SIG, strlen(SOFA_BODY "\n" SOFA_SIG),
			   "\nx\n\n" W1_LINE, strlen("\nx\n\n" W1_LINE), &full) != LACRE_OK);
	/* a log key is not a cosigner key */
	lacre_dbuf_reset(&d);
	CHECK_EQ_INT(cosig_sign(log, SOFA_BODY, strlen(SOFA_BODY), 1, &d), LACRE_E_INVALID);
	/* a witness signature alone does not make a checkpoint valid */
	lacre_dbuf_reset(&full);
	CHECK_OK(lacre_dbuf_add_str(&full, SOFA_BODY "\n" W1_LINE));
	CHECK_EQ_INT(checkpoint_open(full.p, full.len, &lv, &wv, 1, &cp, &cos), LACRE_E_AUTH);
	note_signer_free(w);
	note_signer_free(log);
	lacre_dbuf_free(&d);
	lacre_dbuf_free(&full);
}

static void test_checkpoint_rejects(void)
{
	static const char *const bad[] = {
		"origin\n5\n",
		"\n5\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n",
		"origin\n05\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n",
		"origin\n5a\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n",
		"origin\n-5\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n",
		"origin\n9223372036854775808\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n",
		"origin\n18446744073709551616\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n",
		"origin\n5\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2=\n",
		"origin\n5\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I\n",
		"origin\n5\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2IAAAA\n",
		"origin\n5\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n\next\n",
		"origin\n5\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=",
		"ori gin\n5\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n",
	};
	struct checkpoint cp;
	const char *good = "origin\n9223372036854775807\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\next 1\n";

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (checkpoint_parse(bad[i], strlen(bad[i]), &cp) == LACRE_OK) {
			t_fail(__FILE__, __LINE__, "bad checkpoint %zu parsed", i);
			return;
		}
	}
	CHECK_OK(checkpoint_parse(good, strlen(good), &cp));
	CHECK_EQ_INT(cp.size, INT64_MAX);
	CHECK_EQ_INT(cp.next, 1);
	good = "o\n0\n47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=\n";
	CHECK_OK(checkpoint_parse(good, strlen(good), &cp));
	CHECK_EQ_INT(cp.size, 0);
}

static void test_keys(void)
{
	struct note_signer *s = NULL;
	struct note_verifier v;
	struct lacre_dbuf d;
	const char *str;

	CHECK_EQ_INT(note_signer_generate("bad name", NOTE_TYPE_ED25519, &s), LACRE_E_INVALID);
	CHECK_EQ_INT(note_signer_generate("bad+name", NOTE_TYPE_ED25519, &s), LACRE_E_INVALID);
	CHECK_EQ_INT(note_signer_generate("", NOTE_TYPE_ED25519, &s), LACRE_E_INVALID);
	CHECK_EQ_INT(note_signer_generate("n\xc2\xa0m", NOTE_TYPE_ED25519, &s), LACRE_E_INVALID);
	CHECK_EQ_INT(note_signer_generate("ok", 0x02, &s), LACRE_E_INVALID);
	CHECK_OK(note_signer_generate("lacre.example/ingest", NOTE_TYPE_ED25519, &s));
	lacre_dbuf_init(&d, 4096);
	note_signer_public(s, &v);
	CHECK_OK(note_verifier_format(&v, &d));
	CHECK_OK(lacre_dbuf_cstr(&d, &str));
	CHECK(strncmp(str, "lacre.example/ingest+", 21) == 0);
	/* vkey with a wrong key ID, type, or bad base64 */
	CHECK_EQ_INT(note_verifier_parse("a+00000000+ASFS+NGbeR0kRTJC4V8uq2y3z/p7al7TAJeWDgaYgdsS", 55, &v), LACRE_E_MALFORMED);
	CHECK_EQ_INT(note_verifier_parse("a+0000000+ASFS+NGbeR0kRTJC4V8uq2y3z/p7al7TAJeWDgaYgdsS", 54, &v), LACRE_E_MALFORMED);
	CHECK_EQ_INT(note_verifier_parse("a+00000000", 10, &v), LACRE_E_MALFORMED);
	note_signer_free(s);
	lacre_dbuf_free(&d);
}

static void test_b64(void)
{
	struct lacre_dbuf d;
	uint8_t out[8];
	size_t n;

	lacre_dbuf_init(&d, 64);
	CHECK_OK(note_b64_encode("f", 1, &d));
	CHECK_OK(note_b64_encode("fo", 2, &d));
	CHECK_OK(note_b64_encode("foo", 3, &d));
	CHECK_OK(lacre_dbuf_add_u8(&d, 0));
	CHECK_STR((const char *)d.p, "Zg==Zm8=Zm9v");
	CHECK_OK(note_b64_decode("Zm8=", 4, out, sizeof(out), &n));
	CHECK_EQ_INT(n, 2);
	CHECK_EQ_INT(note_b64_decode("Zm9=", 4, out, sizeof(out), &n), LACRE_E_MALFORMED);
	CHECK_EQ_INT(note_b64_decode("Zh==", 4, out, sizeof(out), &n), LACRE_E_MALFORMED);
	CHECK_EQ_INT(note_b64_decode("Z===", 4, out, sizeof(out), &n), LACRE_E_MALFORMED);
	CHECK_EQ_INT(note_b64_decode("Zm9vZm9vZm9v", 12, out, sizeof(out), &n), LACRE_E_TOO_LARGE);
	CHECK_EQ_INT(note_b64_decode("Zm=v", 4, out, sizeof(out), &n), LACRE_E_MALFORMED);
	lacre_dbuf_free(&d);
}

static void test_policy(void)
{
	struct note_signer *log = NULL, *w[3] = { NULL, NULL, NULL };
	struct note_verifier v;
	struct lacre_dbuf lv, wv[3], text, note, lines;
	struct policy *p = calloc(1, sizeof(*p));
	struct checkpoint cp;
	uint64_t cos = 0;
	size_t bad = 0;
	uint8_t seed[32], root[32] = { 0 };
	static const char *const names[3] = { "w.example/a", "w.example/b", "w.example/c" };

	CHECK(p != NULL);
	memset(seed, 0x42, 32);
	CHECK_OK(note_signer_from_seed("example.com/behind-the-sofa", NOTE_TYPE_ED25519, seed, &log));
	note_signer_public(log, &v);
	lacre_dbuf_init(&lv, 1024);
	CHECK_OK(note_verifier_format(&v, &lv));
	CHECK_OK(lacre_dbuf_add_u8(&lv, 0));
	for (int i = 0; i < 3; i++) {
		seed[0] = (uint8_t)i;
		CHECK_OK(note_signer_from_seed(names[i], NOTE_TYPE_COSIG, seed, &w[i]));
		note_signer_public(w[i], &v);
		lacre_dbuf_init(&wv[i], 1024);
		CHECK_OK(note_verifier_format(&v, &wv[i]));
		CHECK_OK(lacre_dbuf_add_u8(&wv[i], 0));
	}
	lacre_dbuf_init(&text, 1 << 16);
	CHECK_OK(lacre_dbuf_printf(&text,
		"# lacre test policy\n"
		"log %s https://log.example\n\n"
		"witness A %s http://127.0.0.1:1\n"
		"witness\tB %s   # trailing comment\n"
		"witness C %s\n"
		"group ab any A B\n"
		"group top 2 ab C\n"
		"quorum top\n", (char *)lv.p, (char *)wv[0].p, (char *)wv[1].p, (char *)wv[2].p));
	CHECK_OK(policy_parse(text.p, text.len, p, &bad));
	CHECK_EQ_INT(p->nlogs, 1);
	CHECK_EQ_INT(p->nw, 3);
	CHECK_EQ_INT(p->ng, 2);
	CHECK_STR(p->w[0].url, "http://127.0.0.1:1");
	CHECK_STR(p->w[1].url, "");
	CHECK(!policy_satisfied(p, 0));
	CHECK(!policy_satisfied(p, 1 | 2));  /* ab only */
	CHECK(!policy_satisfied(p, 4));      /* C only */
	CHECK(policy_satisfied(p, 1 | 4));
	CHECK(policy_satisfied(p, 2 | 4));
	/* a checkpoint cosigned by A and C meets it; by A alone it does not */
	lacre_dbuf_init(&note, 1 << 16);
	lacre_dbuf_init(&lines, 1 << 16);
	lacre_dbuf_reset(&text);
	CHECK_OK(checkpoint_format("example.com/behind-the-sofa", 7, root, &text));
	CHECK_OK(note_sign(log, text.p, text.len, &note));
	CHECK_OK(cosig_sign(w[0], text.p, text.len, 100, &lines));
	{
		struct lacre_dbuf one;
		lacre_dbuf_init(&one, 1 << 16);
		CHECK_OK(cosig_attach(note.p, note.len, lines.p, lines.len, &one));
		CHECK_EQ_INT(policy_open_checkpoint(p, one.p, one.len, &cp, &cos), LACRE_E_AUTH);
		lacre_dbuf_free(&one);
	}
	CHECK_OK(cosig_sign(w[2], text.p, text.len, 101, &lines));
	{
		struct lacre_dbuf two;
		lacre_dbuf_init(&two, 1 << 16);
		CHECK_OK(cosig_attach(note.p, note.len, lines.p, lines.len, &two));
		CHECK_OK(policy_open_checkpoint(p, two.p, two.len, &cp, &cos));
		CHECK_EQ_INT(cos, 5);
		CHECK_EQ_INT(cp.size, 7);
		lacre_dbuf_free(&two);
	}
	/* errors, with the line number */
	{
		static const char *const badp[] = {
			"quorum none\n",                          /* no log */
			"log %s\nquorum x\n",                     /* unknown name */
			"log %s\nquorum none\nquorum none\n",    /* two quorums */
			"log %s\n",                               /* no quorum */
			"log %s\nlog %s\nquorum none\n",         /* duplicate key */
			"log %s\nfrob\nquorum none\n",           /* unknown line */
		};
		for (size_t i = 0; i < sizeof(badp) / sizeof(badp[0]); i++) {
			lacre_dbuf_reset(&text);
			for (const char *c = badp[i]; *c; c++) {
				if (c[0] == '%' && c[1] == 's') {
					CHECK_OK(lacre_dbuf_add_str(&text, (char *)lv.p));
					c++;
				} else {
					CHECK_OK(lacre_dbuf_add_u8(&text, (uint8_t)*c));
				}
			}
			if (policy_parse(text.p, text.len, p, &bad) == LACRE_OK) {
				t_fail(__FILE__, __LINE__, "bad policy %zu parsed", i);
				return;
			}
		}
		lacre_dbuf_reset(&text);
		CHECK_OK(lacre_dbuf_printf(&text, "log %s\nwitness A %s\ngroup g 2 A\nquorum g\n",
					   (char *)lv.p, (char *)wv[0].p));
		CHECK_EQ_INT(policy_parse(text.p, text.len, p, &bad), LACRE_E_CONFIG);
		CHECK_EQ_INT(bad, 3);
		lacre_dbuf_reset(&text);
		CHECK_OK(lacre_dbuf_printf(&text, "log %s\nquorum none\n", (char *)lv.p));
		CHECK_OK(policy_parse(text.p, text.len, p, &bad));
		CHECK(policy_satisfied(p, 0));
	}
	note_signer_free(log);
	for (int i = 0; i < 3; i++) {
		note_signer_free(w[i]);
		lacre_dbuf_free(&wv[i]);
	}
	lacre_dbuf_free(&lv);
	lacre_dbuf_free(&text);
	lacre_dbuf_free(&note);
	lacre_dbuf_free(&lines);
	free(p);
}

int main(void)
{
	RUN(test_b64);
	RUN(test_signed_note_vector);
	RUN(test_note_rejects);
	RUN(test_checkpoint_vector);
	RUN(test_cosignature_vector);
	RUN(test_checkpoint_rejects);
	RUN(test_keys);
	RUN(test_policy);
	return t_done();
}
