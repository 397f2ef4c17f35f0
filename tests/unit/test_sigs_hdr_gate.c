// SPDX-License-Identifier: BSD-3-Clause
/*
 * The header scope's gates (sigs_field_gates(), sigs_gate.h): a field whose
 * rules (those naming it and those of every field) all need something its
 * value lacks is not scanned. A gated scan must give the matches, in their
 * order, of an ungated one: the shipped header rules' examples, every
 * literal of every header rule at every place, in both cases, cut short,
 * under other names and in long values, each compared with the same rules
 * plus an any-field rule no gate can look for (which leaves every field
 * ungated). And a name with a rule the gate cannot look for has no gate.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>
#include <hs.h>

#include "sensor/sigs.h"
#include "sensor/sigs_file.h"
#include "sensor/sigs_gate.h"
#include "sensor/sigs_lit.h"

#include "sigs_fx.h"

#define RULES_DIR TEST_DATA_DIR "/../../rules"
#define VAL_MAX	  512
#define N_OF(a)	  (sizeof(a) / sizeof((a)[0]))

/* Any field, no literal, no anchor, never in a test value: every field is scanned. */
static const char ungated_rule[] = "9999999 header other info - /\\x01\\d\\x02/ \"ungated\"\n";

static uint64_t scans(struct sigs_worker *w)
{
	struct sigs_worker_stats st;

	sigs_worker_stats(w, &st);
	return st.scans;
}

static void assert_same_matches(const char *name, const char *val, const struct rec *a,
				const struct rec *b)
{
	if (a->n != b->n)
		fail_msg("%s: %s: %u matches gated, %u ungated", name, val, a->n, b->n);
	for (unsigned int i = 0; i < a->n; i++) {
		if (a->m[i].id != b->m[i].id || a->m[i].end != b->m[i].end ||
		    a->m[i].severity != b->m[i].severity || strcmp(a->ctx[i], b->ctx[i]) != 0)
			fail_msg("%s: %s: match %u: rule %u end %llu gated, rule %u end %llu", name,
				 val, i, a->m[i].id, (unsigned long long)a->m[i].end, b->m[i].id,
				 (unsigned long long)b->m[i].end);
	}
}

/* A set compiled twice: as given (gated), and with the ungated any-field rule. */
struct pair {
	struct sigs *fast, *slow;
	struct sigs_worker *wf, *ws;
	unsigned int compared, matched;
};

static void pair_of_paths(struct pair *p, const char *rules_path)
{
	char tmp[] = "/tmp/test_sigs_hdr_gate.XXXXXX";
	const char *paths[2] = {rules_path, tmp};
	struct errbuf eb = {""};
	int fd = mkstemp(tmp);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, ungated_rule, strlen(ungated_rule)),
			 (ssize_t)strlen(ungated_rule));
	close(fd);
	memset(p, 0, sizeof(*p));
	assert_int_equal(sigs_create(&p->fast), 0);
	assert_int_equal(sigs_create(&p->slow), 0);
	if (sigs_load(p->fast, paths, 1, &eb) != 0 || sigs_load(p->slow, paths, 2, &eb) != 0)
		fail_msg("load: %s", eb.msg);
	unlink(tmp);
	p->wf = worker(p->fast, 2);
	p->ws = worker(p->slow, 2);
}

static void pair_of_text(struct pair *p, const char *rules)
{
	char text[4096];

	snprintf(text, sizeof(text), "%s%s", rules, ungated_rule);
	memset(p, 0, sizeof(*p));
	p->fast = load(rules);
	p->slow = load(text);
	p->wf = worker(p->fast, 2);
	p->ws = worker(p->slow, 2);
}

static void pair_free(struct pair *p)
{
	sigs_worker_destroy(p->wf);
	sigs_worker_destroy(p->ws);
	sigs_destroy(p->fast);
	sigs_destroy(p->slow);
}

/*
 * A field sigs_header_may_scan() rules out (its caller then skips the scan)
 * is one the scan gives nothing for, and does not scan.
 */
static void check_wanted(struct sigs_worker *w, const char *name, const char *val)
{
	uint64_t before = scans(w);
	struct rec r;

	if (sigs_header_may_scan(w, strlen(name), strlen(val)))
		return;
	if (header(w, name, val, &r) != 0 || scans(w) != before)
		fail_msg("%s: %s: not wanted, but scanned (%u matches)", name, val, r.n);
}

/* One field through both sets, twice (the second time the verdict cache may answer). */
static void pair_field(struct pair *p, const char *name, const char *val)
{
	struct rec a, b;

	check_wanted(p->wf, name, val);
	check_wanted(p->ws, name, val);
	for (int round = 0; round < 2; round++) {
		header(p->wf, name, val, &a);
		header(p->ws, name, val, &b);
		assert_same_matches(name, val, &a, &b);
	}
	p->compared++;
	p->matched += a.n != 0;
}

/* rules as a pair, and every name with every value through it. */
static void pair_grid(struct pair *p, const char *rules, const char *const *names, size_t n_names,
		      const char *const *values, size_t n_values)
{
	pair_of_text(p, rules);
	for (size_t i = 0; i < n_names; i++)
		for (size_t k = 0; k < n_values; k++)
			pair_field(p, names[i], values[k]);
}

static const char *const other_names[] = {"Received", "X-Mailex", "Subjec", "From", "To"};

/* val under name in three cases, and under names no rule names. */
static void pair_names(struct pair *p, const char *name, const char *val)
{
	char up[SIGS_FILE_HEADER_MAX + 1], low[SIGS_FILE_HEADER_MAX + 1];
	size_t n = strlen(name) < SIGS_FILE_HEADER_MAX ? strlen(name) : SIGS_FILE_HEADER_MAX;

	for (size_t i = 0; i < n; i++) {
		up[i] = (char)(name[i] >= 'a' && name[i] <= 'z' ? name[i] - 32 : name[i]);
		low[i] = (char)(name[i] >= 'A' && name[i] <= 'Z' ? name[i] + 32 : name[i]);
	}
	up[n] = low[n] = '\0';
	pair_field(p, name, val);
	pair_field(p, up, val);
	pair_field(p, low, val);
	for (size_t i = 0; i < N_OF(other_names); i++)
		pair_field(p, other_names[i], val);
}

static void case_fold(char *s, bool upper)
{
	for (; *s; s++) {
		if (upper && *s >= 'a' && *s <= 'z')
			*s = (char)(*s - 32);
		else if (!upper && *s >= 'A' && *s <= 'Z')
			*s = (char)(*s + 32);
	}
}

/* val as it is, upper and lower case, every prefix and suffix, and inside long text. */
static void pair_value_forms(struct pair *p, const char *name, const char *val)
{
	static const char pad[] = "Re: a plain value, nothing to see here; ";
	char buf[VAL_MAX + 1];
	size_t n = strlen(val);

	for (int f = 0; f < 3; f++) {
		snprintf(buf, sizeof(buf), "%s", val);
		if (f)
			case_fold(buf, f == 1);
		pair_names(p, name, buf);
	}
	for (size_t k = 1; k < n; k++) {
		snprintf(buf, sizeof(buf), "%.*s", (int)k, val);
		pair_field(p, name, buf);
		pair_field(p, name, val + k);
	}
	/* Past the verdict cache's key (100 bytes) and at either end of it. */
	for (int reps = 1; reps <= 8; reps *= 2) {
		size_t at = 0;

		for (int r = 0; r < reps && at + sizeof(pad) < sizeof(buf); r++)
			at += (size_t)snprintf(buf + at, sizeof(buf) - at, "%s", pad);
		snprintf(buf + at, sizeof(buf) - at, "%s", val);
		pair_names(p, name, buf);
		snprintf(buf, sizeof(buf), "%s", val);
		at = strlen(buf);
		for (int r = 0; r < reps && at + sizeof(pad) < sizeof(buf); r++)
			at += (size_t)snprintf(buf + at, sizeof(buf) - at, "%s", pad);
		pair_names(p, name, buf);
	}
}

/* lit at every place of a short filler, in both cases, and cut short at each length. */
static void pair_literal(struct pair *p, const char *name, const struct sigs_lit *lit)
{
	static const char filler[] = "ab (x) 1.0 ";
	char buf[VAL_MAX + 1], l[SIGS_LIT_MAX + 1];
	size_t fl = strlen(filler);

	memcpy(l, lit->s, lit->len);
	l[lit->len] = '\0';
	for (int f = 0; f < 2; f++) {
		if (f)
			case_fold(l, true);
		for (size_t at = 0; at <= fl; at++) {
			snprintf(buf, sizeof(buf), "%.*s%s%s", (int)at, filler, l, filler + at);
			pair_names(p, name, buf);
		}
		for (size_t k = 1; k < lit->len; k++) {
			snprintf(buf, sizeof(buf), "%.*s", (int)k, l);
			pair_field(p, name, buf);
			snprintf(buf, sizeof(buf), "%s%.*s", filler, (int)k, l);
			pair_field(p, name, buf);
		}
	}
}

static unsigned int hs_flags_of(uint8_t f)
{
	return HS_FLAG_SINGLEMATCH | (f & SIGS_F_CASELESS ? HS_FLAG_CASELESS : 0) |
	       (f & SIGS_F_DOTALL ? HS_FLAG_DOTALL : 0) |
	       (f & SIGS_F_MULTILINE ? HS_FLAG_MULTILINE : 0) |
	       (f & SIGS_F_UTF8 ? HS_FLAG_UTF8 : 0);
}

/* Every literal the gate may have been built from: each alternative's and a group's. */
static void pair_rule_literals(struct pair *p, const struct sigs_file_rule *r)
{
	struct sigs_lit_alt alt[SIGS_LIT_ALTS_MAX];
	struct sigs_lit any[SIGS_LIT_ANY_MAX];
	unsigned int fl = hs_flags_of(r->flags);
	unsigned int n = sigs_lit_alts(r->pattern, fl, alt, SIGS_LIT_ALTS_MAX);
	const char *name = r->header ? r->header : "X-Any";

	for (unsigned int i = 0; i < n; i++)
		for (unsigned int k = 0; k < alt[i].n_lit; k++)
			pair_literal(p, name, &alt[i].lit[k]);
	n = sigs_lit_any(r->pattern, fl, any, SIGS_LIT_ANY_MAX);
	for (unsigned int i = 0; i < n; i++)
		pair_literal(p, name, &any[i]);
}

/* A value for each alternative of the shipped rules' groups, which the examples leave out. */
static const char *const shipped_values[][2] = {
	{"X-Mailer", "Atomic Mail Sender 9"},
	{"X-Mailer", "AtomicMailSender"},
	{"X-Mailer", "Gammadyne Mass Mailer"},
	{"X-Mailer", "Gammadyne Mailer 60"},
	{"X-Mailer", "SendBlaster 4"},
	{"X-Mailer", "MaxBulk Mailer 12"},
	{"X-Mailer", "MaxBulkMailer"},
	{"X-Mailer", "ePochta Mailer 6"},
	{"X-Mailer", "MailKing"},
	{"X-Mailer", "Advanced Mass Sender 4.2"},
	{"X-Mailer", "PHPMailer 2.1"},
	{"X-Mailer", "PHPMailer 5.0"},
	{"X-Mailer", "PHPMailer [version 1.73]"},
	{"X-Mailer", "The Bat! (v2.12)"},
	{"X-Mailer", "Microsoft Outlook Express 5.50.4133.2400"},
	{"X-Mailer", "Microsoft Outlook Express 6.00.2600.0000"},
	{"X-PHP-Originating-Script", "0:x.php(1) : eval()'d code"},
	{"Subject",
	 "\xe3\x80\x90\xe6\x9c\xaa\xe6\x89\xbf\xe8\xab\xbe\xe5\xba\x83\xe5\x91\x8a\xe3\x80\x91"},
};

/*
 * The shipped header rules: their examples and literals in every form give,
 * gated, what they give ungated; and the gate is there (a Subject and an
 * X-Mailer that hold nothing the rules need are not scanned).
 */
static void test_sigs_hdr_gate_shipped_rules_match_as_ungated(void **state)
{
	struct sigs_file sf;
	struct errbuf eb = {""};
	struct pair p;
	struct rec r;
	unsigned int rules = 0;

	(void)state;
	sigs_file_init(&sf);
	if (sigs_file_read_path(&sf, RULES_DIR, &eb) != 0)
		fail_msg("%s", eb.msg);
	pair_of_paths(&p, RULES_DIR);
	for (uint32_t i = 0; i < sf.n_rules; i++) {
		const struct sigs_file_rule *rule = &sf.rules[i];

		if (rule->scope != EV_SCOPE_HEADER)
			continue;
		rules++;
		for (uint32_t k = 0; k < rule->n_examples; k++) {
			const struct sigs_file_example *ex = &sf.examples[rule->first_example + k];
			const char *colon = strstr(ex->text, ": ");
			char name[SIGS_FILE_HEADER_MAX + 1];

			assert_non_null(colon);
			snprintf(name, sizeof(name), "%.*s", (int)(colon - ex->text), ex->text);
			pair_value_forms(&p, name, colon + 2);
		}
		pair_rule_literals(&p, rule);
	}
	for (size_t i = 0; i < N_OF(shipped_values); i++) {
		unsigned int matched = p.matched;

		pair_value_forms(&p, shipped_values[i][0], shipped_values[i][1]);
		if (p.matched == matched)
			fail_msg("%s: %s matches no rule", shipped_values[i][0],
				 shipped_values[i][1]);
	}
	print_message("%u header rules, %u fields compared, %u matched\n", rules, p.compared,
		      p.matched);
	assert_true(rules >= 9);
	assert_true(p.matched > 100);
	/* Not vacuous: the fields the bench sends that no rule wants are not scanned. */
	uint64_t before = scans(p.wf);

	assert_int_equal(header(p.wf, "Subject", "Congratulations! You have won", &r), 0);
	assert_int_equal(header(p.wf, "X-Mailer", "Microsoft Outlook 16.0", &r), 0);
	assert_int_equal(header(p.wf, "X-PHP-Originating-Script", "33:mailer.php", &r), 0);
	assert_int_equal(scans(p.wf), before);
	before = scans(p.ws);
	assert_int_equal(header(p.ws, "Subject", "Congratulations! You have won", &r), 0);
	assert_int_equal(scans(p.ws), before + 1);
	pair_free(&p);
	sigs_file_fini(&sf);
}

/*
 * Rules of one field and of every field: a named field's gate holds both,
 * another name's only the latter; each answers as the ungated scan does.
 */
static void test_sigs_hdr_gate_named_and_any_field_rules(void **state)
{
	static const char rules[] =
		"30 header:x-mailer mailer medium - /^The Bat! \\(v3\\.99\\.3\\) Professional$/ "
		"\"bat\"\n"
		"31 header spam low i /\\bviagra\\b/ \"viagra in any field\"\n"
		"32 header:subject spam low - /\xe6\x9c\xaa\xe6\x89\xbf\xe8\xab\xbe/ \"jp\"\n"
		"33 header:subject spam low i /\\b(cheap ?pills|free ?money|lottery)\\b/ "
		"\"words\"\n"
		"34 header:x-mailer mailer low - /Foxmail$/ \"fox\"\n";
	static const char *const names[] = {"Subject",	"X-Mailer", "Received",
					    "x-mailer", "SUBJECT",  "Subjecx"};
	static const char *const values[] = {
		"The Bat! (v3.99.3) Professional",
		"The Bat! (v3.99.3) Professional ",
		"the bat! (v3.99.3) professional",
		"Buy VIAGRA now",
		"viagras",
		"\xe6\x9c\xaa\xe6\x89\xbf\xe8\xab\xbe\xe5\xba\x83\xe5\x91\x8a",
		"\xe6\x9c\xaa\xe6\x89\xbf",
		"CHEAP PILLS",
		"cheappills and free money",
		"lotteryx",
		"Foxmail",
		"Foxmail 7.2",
		"hello",
		"x",
	};
	struct pair p;
	struct rec r;
	uint64_t before;

	(void)state;
	pair_grid(&p, rules, names, N_OF(names), values, N_OF(values));
	assert_true(p.matched >= 10);
	before = scans(p.wf);
	assert_int_equal(header(p.wf, "Received", "from a.example by b.example", &r), 0);
	assert_int_equal(header(p.wf, "Subject", "Weekly report", &r), 0);
	assert_int_equal(header(p.wf, "X-Mailer", "Apple Mail (2.3731)", &r), 0);
	assert_int_equal(scans(p.wf), before);
	assert_int_equal(header(p.wf, "Received", "from viagra.example", &r), 1);
	assert_int_equal(r.m[0].id, 31);
	pair_free(&p);
}

/*
 * A name one of whose rules the gate cannot look for (no literal of 3 bytes,
 * no anchor; a group with a short member) has no gate: its fields are all
 * scanned, while another name's gate still works.
 */
static void test_sigs_hdr_gate_absent_when_a_rule_cannot_be_gated(void **state)
{
	static const char rules[] = "30 header:x-mailer mailer medium - /^The Bat!/ \"bat\"\n"
				    "32 header:subject spam low - /cheap/ \"cheap\"\n"
				    "33 header:subject spam low - /\\d{5}/ \"digits\"\n"
				    "34 header:to spam low i /\\b(sendblaster|ab)\\b/ \"short\"\n";
	static const char *const names[] = {"Subject", "X-Mailer", "To"};
	static const char *const values[] = {"cheap", "12345",	     "The Bat!",
					     "AB",    "sendblaster", "hello"};
	struct pair p;
	struct rec r;
	uint64_t before;

	(void)state;
	pair_grid(&p, rules, names, N_OF(names), values, N_OF(values));
	before = scans(p.wf);
	assert_int_equal(header(p.wf, "Subject", "hello there", &r), 0);
	assert_int_equal(scans(p.wf), before + 1);
	assert_int_equal(header(p.wf, "To", "hello there", &r), 0);
	assert_int_equal(scans(p.wf), before + 2);
	assert_int_equal(header(p.wf, "X-Mailer", "hello there", &r), 0);
	assert_int_equal(scans(p.wf), before + 2);
	pair_free(&p);
}

/* The gates themselves: built only when every alternative of every pattern can be gated. */
static void test_sigs_hdr_gate_build_refuses_what_it_cannot_gate(void **state)
{
	static const struct {
		const char *expr;
		unsigned int flags;
		bool gated;
	} cases[] = {
		{"^The Bat! \\(v3", 0, true},
		{"eval\\(\\)'d code", 0, true},
		{"\xe6\x9c\xaa\xe6\x89\xbf", 0, true},
		{"\\b(Atomic ?Mail ?Sender|SendBlaster|MailKing)\\b", HS_FLAG_CASELESS, true},
		{"Foxmail$", 0, true},
		/* a 2-byte member of the group */
		{"\\b(SendBlaster|ab)\\b", HS_FLAG_CASELESS, false},
		/* the group may be skipped */
		{"\\b(SendBlaster|MailKing)?\\b", HS_FLAG_CASELESS, false},
		/* two top-level alternatives, one without a literal */
		{"SendBlaster|\\d{5}", 0, false},
		{"\\d{5}", 0, false},
		/* caseless 8-bit bytes are no literal */
		{"\xe6\x9c\xaa", HS_FLAG_CASELESS, false},
	};
	const char *expr[2];
	unsigned int fl[2];
	struct sigs_gate *g;

	(void)state;
	for (size_t i = 0; i < N_OF(cases); i++) {
		expr[0] = cases[i].expr;
		fl[0] = cases[i].flags;
		expr[1] = "^PHPMailer";
		fl[1] = 0;
		g = sigs_gate_build(expr, fl, 2);
		if ((g != NULL) != cases[i].gated)
			fail_msg("/%s/: gate %s", cases[i].expr, g ? "built" : "missing");
		sigs_gate_free(g);
	}
}

/* Does p hold one of the literals, any case? The answer the gate must not deny. */
static bool holds_any(const struct sigs_lit *lit, unsigned int n, const uint8_t *p, size_t len)
{
	for (unsigned int i = 0; i < n; i++)
		if (sigs_lit_in(&lit[i], p, len))
			return true;
	return false;
}

/*
 * Up to two literals that start with a byte without case are looked for one
 * by one (memchr), more through the bitmap of 3-byte pieces: the first must
 * answer exactly whether a literal is there, the second never deny one that
 * is, on inputs with each literal at every place, cut short and in both cases.
 */
static void test_sigs_hdr_gate_few_literals_agree_with_the_bitmap(void **state)
{
	static const struct sigs_lit lit[] = {
		{9, "\xe6\x9c\xaa\xe6\x89\xbf\xe8\xab\xbe"},
		{7, "(v3.99."},
		{5, "#tag1"},
	};
	static const char filler[] = "Re: (v3 99 \xe6\x9c\xaa 1.0 #tag";
	struct sigs_gate *few = sigs_gate_of_lits(lit, 2), *many = sigs_gate_of_lits(lit, 3);
	uint8_t buf[128];
	size_t fl = strlen(filler);
	unsigned int seen = 0;

	(void)state;
	assert_non_null(few);
	assert_non_null(many);
	for (unsigned int l = 0; l < 3; l++) {
		for (size_t at = 0; at <= fl; at++) {
			for (size_t cut = 1; cut <= lit[l].len; cut++) {
				for (int up = 0; up < 2; up++) {
					size_t n = 0;

					memcpy(buf, filler, at);
					n = at;
					for (size_t k = 0; k < cut; k++) {
						uint8_t c = (uint8_t)lit[l].s[k];

						buf[n++] = up && c >= 'a' && c <= 'z' ? c - 32 : c;
					}
					memcpy(buf + n, filler + at, fl - at);
					n += fl - at;
					bool want2 = holds_any(lit, 2, buf, n);

					assert_int_equal(sigs_gate_may_match(few, buf, n), want2);
					if (holds_any(lit, 3, buf, n))
						assert_true(sigs_gate_may_match(many, buf, n));
					seen += want2;
				}
			}
		}
	}
	assert_true(seen > 0);
	sigs_gate_free(few);
	sigs_gate_free(many);
}

/*
 * sigs_header_may_scan() against the scan, over every prefix of the named
 * fields' names (lengths 0 to 10, a byte longer, any case) and values of
 * every length up to 8: a field it rules out gives nothing and is not
 * scanned (check_wanted); a named length is asked, another is not, and once
 * a rule of every field is there, every length is.
 */
static void test_sigs_hdr_gate_wanted_agrees_with_the_scan(void **state)
{
	static const char named[] = "30 header:x-mailer mailer low - /Foxmail/ \"fox\"\n"
				    "31 header:subject spam low i /lottery/ \"lottery\"\n";
	static const char *const names[] = {"x-mailer",	 "X-MAILER", "Subject", "subject",
					    "X-Mailers", "Subjects", "To",	"Received"};
	static const char val[] = "lottery!";
	struct sigs *sets[2];
	struct sigs_worker *w[2];
	char text[512];

	(void)state;
	snprintf(text, sizeof(text), "%s%s", named, ungated_rule);
	sets[0] = load(named);
	sets[1] = load(text);
	for (int k = 0; k < 2; k++)
		w[k] = worker(sets[k], 2);
	for (size_t i = 0; i < N_OF(names); i++) {
		for (size_t nl = 0; nl <= strlen(names[i]); nl++) {
			char name[16];

			snprintf(name, sizeof(name), "%.*s", (int)nl, names[i]);
			for (size_t vl = 0; vl < sizeof(val); vl++) {
				char v[sizeof(val)];

				snprintf(v, sizeof(v), "%.*s", (int)vl, val);
				for (int k = 0; k < 2; k++)
					check_wanted(w[k], name, v);
			}
		}
	}
	assert_true(sigs_header_may_scan(w[0], 7, 8));	/* Subject */
	assert_true(sigs_header_may_scan(w[0], 8, 7));	/* X-Mailer, Received */
	assert_false(sigs_header_may_scan(w[0], 7, 0)); /* empty */
	assert_false(sigs_header_may_scan(w[0], 6, 8)); /* Subjec */
	assert_false(sigs_header_may_scan(w[0], 9, 8)); /* X-Mailers */
	assert_false(sigs_header_may_scan(w[0], 2, 8)); /* To */
	assert_true(sigs_header_may_scan(w[1], 2, 8));	/* and a rule of every field */
	assert_true(sigs_header_may_scan(w[1], 30, 8));
	for (int k = 0; k < 2; k++) {
		sigs_worker_destroy(w[k]);
		sigs_destroy(sets[k]);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sigs_hdr_gate_shipped_rules_match_as_ungated),
		cmocka_unit_test(test_sigs_hdr_gate_named_and_any_field_rules),
		cmocka_unit_test(test_sigs_hdr_gate_absent_when_a_rule_cannot_be_gated),
		cmocka_unit_test(test_sigs_hdr_gate_build_refuses_what_it_cannot_gate),
		cmocka_unit_test(test_sigs_hdr_gate_few_literals_agree_with_the_bitmap),
		cmocka_unit_test(test_sigs_hdr_gate_wanted_agrees_with_the_scan),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
