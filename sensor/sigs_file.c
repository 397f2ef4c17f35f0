// SPDX-License-Identifier: BSD-3-Clause
#include "sensor/sigs_file.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "sensor/alert.h"
#include "sensor/event.h"

#define SIGS_FILE_MAX_DIR_FILES 256

static const char *const scope_names[EV_SCOPE_COUNT] = {
	[EV_SCOPE_COMMAND] = "command", [EV_SCOPE_REPLY] = "reply", [EV_SCOPE_HEADER] = "header",
	[EV_SCOPE_BODY] = "body",	[EV_SCOPE_URL] = "url",
};

static const char *const class_names[EV_SIGCLASS_COUNT] = {
	[EV_SIGCLASS_OTHER] = "other",
	[EV_SIGCLASS_BLOCKLIST] = "blocklist",
	[EV_SIGCLASS_RELAY_DENIED] = "relay_denied",
	[EV_SIGCLASS_SPAM] = "spam",
	[EV_SIGCLASS_PHISH] = "phish",
	[EV_SIGCLASS_MAILER] = "mailer",
	[EV_SIGCLASS_USER_UNKNOWN] = "user_unknown",
};

/* One line being parsed: a cursor and where to say it went wrong. */
struct sf_line {
	const char *p, *end;
	const char *file;
	uint32_t no;
};

const char *sigs_file_scope_name(unsigned int scope)
{
	return scope < EV_SCOPE_COUNT ? scope_names[scope] : "unknown";
}

const char *sigs_file_class_name(unsigned int sig_class)
{
	return sig_class < EV_SIGCLASS_COUNT ? class_names[sig_class] : "unknown";
}

void sigs_file_init(struct sigs_file *sf)
{
	memset(sf, 0, sizeof(*sf));
}

void sigs_file_fini(struct sigs_file *sf)
{
	for (uint32_t i = 0; i < sf->n_strs; i++)
		free(sf->strs[i]);
	free(sf->strs);
	free(sf->rules);
	free(sf->examples);
	free(sf->id_slots);
	memset(sf, 0, sizeof(*sf));
}

/* Grow *arr to hold one more element of `size` bytes. */
static int sf_grow(void **arr, uint32_t *cap, uint32_t n, size_t size)
{
	uint32_t ncap;
	void *na;

	if (n < *cap)
		return 0;
	ncap = *cap ? *cap * 2 : 64;
	na = realloc(*arr, (size_t)ncap * size);
	if (!na)
		return -ENOMEM;
	*arr = na;
	*cap = ncap;
	return 0;
}

/* A NUL-terminated copy of n bytes that sf frees at fini. */
static char *sf_strdup(struct sigs_file *sf, const char *s, size_t n)
{
	char *d;

	if (sf_grow((void **)&sf->strs, &sf->cap_strs, sf->n_strs, sizeof(*sf->strs)))
		return NULL;
	d = malloc(n + 1);
	if (!d)
		return NULL;
	memcpy(d, s, n);
	d[n] = '\0';
	sf->strs[sf->n_strs++] = d;
	return d;
}

static int sf_err(const struct sf_line *l, struct errbuf *eb, int err, const char *what,
		  const char *arg, size_t arg_len)
{
	if (arg)
		return errbuf_set(eb, err, "%s:%u: %s '%.*s'", l->file, l->no, what,
				  (int)(arg_len > 80 ? 80 : arg_len), arg);
	return errbuf_set(eb, err, "%s:%u: %s", l->file, l->no, what);
}

static bool sf_blank(char c)
{
	return c == ' ' || c == '\t';
}

static void sf_skip_blanks(struct sf_line *l)
{
	while (l->p < l->end && sf_blank(*l->p))
		l->p++;
}

/* Next blank-separated word; false at the end of the line. */
static bool sf_word(struct sf_line *l, const char **w, size_t *n)
{
	sf_skip_blanks(l);
	*w = l->p;
	while (l->p < l->end && !sf_blank(*l->p))
		l->p++;
	*n = (size_t)(l->p - *w);
	return *n > 0;
}

/* Index of the word in names[0..count), or -1. */
static int sf_lookup(const char *const *names, int count, const char *w, size_t n)
{
	for (int i = 0; i < count; i++)
		if (names[i] && strlen(names[i]) == n && memcmp(names[i], w, n) == 0)
			return i;
	return -1;
}

static int sf_parse_id(struct sf_line *l, struct sigs_file_rule *r, struct errbuf *eb)
{
	const char *w;
	uint64_t v = 0;
	size_t n;

	if (!sf_word(l, &w, &n))
		return sf_err(l, eb, -EINVAL, "expected a rule id", NULL, 0);
	for (size_t i = 0; i < n; i++) {
		if (w[i] < '0' || w[i] > '9' || n > 10)
			return sf_err(l, eb, -EINVAL, "bad id (1..4294967295)", w, n);
		v = v * 10 + (uint64_t)(w[i] - '0');
	}
	if (v == 0 || v > UINT32_MAX)
		return sf_err(l, eb, -EINVAL, "bad id (1..4294967295)", w, n);
	r->id = (uint32_t)v;
	return 0;
}

/* RFC 5322 field-name: printable US-ASCII except colon. */
static bool sf_header_name_ok(const char *s, size_t n)
{
	if (n == 0 || n > SIGS_FILE_HEADER_MAX)
		return false;
	for (size_t i = 0; i < n; i++)
		if (s[i] < 33 || s[i] > 126 || s[i] == ':')
			return false;
	return true;
}

static int sf_parse_scope(struct sigs_file *sf, struct sf_line *l, struct sigs_file_rule *r,
			  struct errbuf *eb)
{
	const char *w, *colon;
	size_t n, sn;
	char *h;
	int s;

	if (!sf_word(l, &w, &n))
		return sf_err(l, eb, -EINVAL, "missing scope (command|reply|header|body|url)", NULL,
			      0);
	colon = memchr(w, ':', n);
	sn = colon ? (size_t)(colon - w) : n;
	s = sf_lookup(scope_names, EV_SCOPE_COUNT, w, sn);
	if (s < 0)
		return sf_err(l, eb, -EINVAL, "unknown scope (command|reply|header|body|url)", w,
			      sn);
	r->scope = (uint8_t)s;
	r->header = NULL;
	if (!colon)
		return 0;
	if (s != EV_SCOPE_HEADER)
		return sf_err(l, eb, -EINVAL, "only the header scope takes a field name", w, n);
	if (!sf_header_name_ok(colon + 1, n - sn - 1))
		return sf_err(l, eb, -EINVAL, "bad header field name", colon + 1, n - sn - 1);
	h = sf_strdup(sf, colon + 1, n - sn - 1);
	if (!h)
		return -ENOMEM;
	for (char *c = h; *c; c++)
		if (*c >= 'A' && *c <= 'Z')
			*c = (char)(*c - 'A' + 'a');
	r->header = h;
	return 0;
}

static int sf_parse_class_sev(struct sf_line *l, struct sigs_file_rule *r, struct errbuf *eb)
{
	char buf[16];
	const char *w;
	size_t n;
	int v;

	if (!sf_word(l, &w, &n))
		return sf_err(l, eb, -EINVAL, "missing class", NULL, 0);
	v = sf_lookup(class_names, EV_SIGCLASS_COUNT, w, n);
	if (v < 0)
		return sf_err(
			l, eb, -EINVAL,
			"unknown class (blocklist|relay_denied|user_unknown|spam|phish|mailer|"
			"other)",
			w, n);
	r->sig_class = (uint8_t)v;

	if (!sf_word(l, &w, &n))
		return sf_err(l, eb, -EINVAL, "missing severity", NULL, 0);
	v = -1;
	if (n < sizeof(buf)) {
		memcpy(buf, w, n);
		buf[n] = '\0';
		v = alert_severity_from_name(buf);
	}
	if (v < 0)
		return sf_err(l, eb, -EINVAL, "unknown severity (info|low|medium|high|critical)", w,
			      n);
	r->severity = (uint8_t)v;
	return 0;
}

static int sf_parse_flags(struct sf_line *l, struct sigs_file_rule *r, struct errbuf *eb)
{
	static const char letters[] = "ismu";
	const char *w, *hit;
	size_t n;

	if (!sf_word(l, &w, &n))
		return sf_err(l, eb, -EINVAL, "missing flags (letters of 'ismu', or - for none)",
			      NULL, 0);
	r->flags = 0;
	if (n == 1 && w[0] == '-')
		return 0;
	for (size_t i = 0; i < n; i++) {
		hit = w[i] ? strchr(letters, w[i]) : NULL;
		if (!hit)
			return sf_err(l, eb, -EINVAL,
				      "unknown flag (i caseless, s dotall, m multiline, u utf8; "
				      "- for none) in",
				      w, n);
		if (r->flags & (1u << (hit - letters)))
			return sf_err(l, eb, -EINVAL, "flag given twice in", w, n);
		r->flags |= (uint8_t)(1u << (hit - letters));
	}
	return 0;
}

/* /pattern/: a slash inside the pattern is written \/ (PCRE reads it as a slash). */
static int sf_parse_pattern(struct sigs_file *sf, struct sf_line *l, struct sigs_file_rule *r,
			    struct errbuf *eb)
{
	const char *start;

	sf_skip_blanks(l);
	if (l->p >= l->end || *l->p != '/')
		return sf_err(l, eb, -EINVAL, "expected a pattern in slashes: /.../", NULL, 0);
	start = ++l->p;
	while (l->p < l->end && *l->p != '/') {
		if (*l->p != '\\')
			l->p++;
		else if (l->end - l->p >= 2)
			l->p += 2;
		else
			l->p = l->end;
	}
	if (l->p >= l->end)
		return sf_err(l, eb, -EINVAL, "pattern not closed with /", NULL, 0);
	if (l->p == start)
		return sf_err(l, eb, -EINVAL, "empty pattern", NULL, 0);
	r->pattern = sf_strdup(sf, start, (size_t)(l->p - start));
	l->p++;
	return r->pattern ? 0 : -ENOMEM;
}

/* "message": only \" and \\ are escapes. */
static int sf_parse_msg(struct sigs_file *sf, struct sf_line *l, struct sigs_file_rule *r,
			struct errbuf *eb)
{
	char buf[SIGS_FILE_LINE_MAX];
	size_t n = 0;

	/* Perl habit: /x/i. Say where flags go instead of "expected a message". */
	if (l->p < l->end && ((*l->p >= 'a' && *l->p <= 'z') || (*l->p >= 'A' && *l->p <= 'Z')))
		return sf_err(l, eb, -EINVAL,
			      "letters after the pattern: flags go in the field before it", NULL,
			      0);
	sf_skip_blanks(l);
	if (l->p >= l->end || *l->p != '"')
		return sf_err(l, eb, -EINVAL, "expected a message in double quotes", NULL, 0);
	for (l->p++; l->p < l->end && *l->p != '"'; l->p++) {
		if (*l->p == '\\') {
			if (l->p + 1 >= l->end || (l->p[1] != '"' && l->p[1] != '\\'))
				return sf_err(l, eb, -EINVAL,
					      "bad escape in message (only \\\" and \\\\)", l->p,
					      l->p + 1 < l->end ? 2 : 1);
			l->p++;
		}
		buf[n++] = *l->p;
	}
	if (l->p >= l->end)
		return sf_err(l, eb, -EINVAL, "message not closed with \"", NULL, 0);
	if (n == 0)
		return sf_err(l, eb, -EINVAL, "empty message", NULL, 0);
	l->p++;
	sf_skip_blanks(l);
	if (l->p < l->end)
		return sf_err(l, eb, -EINVAL, "text after the message", l->p,
			      (size_t)(l->end - l->p));
	r->msg = sf_strdup(sf, buf, n);
	return r->msg ? 0 : -ENOMEM;
}

static uint32_t sf_id_hash(uint32_t id)
{
	return id * 2654435761u;
}

static void sf_id_insert(uint32_t *slots, uint32_t cap, uint32_t id, uint32_t idx)
{
	uint32_t h = sf_id_hash(id) & (cap - 1);

	while (slots[h])
		h = (h + 1) & (cap - 1);
	slots[h] = idx + 1;
}

/* Open addressing over rule indexes + 1; grown at half load. */
static int sf_id_rehash(struct sigs_file *sf)
{
	uint32_t cap = sf->id_cap ? sf->id_cap * 2 : 256;
	uint32_t *slots = calloc(cap, sizeof(*slots));

	if (!slots)
		return -ENOMEM;
	for (uint32_t i = 0; i < sf->n_rules; i++)
		sf_id_insert(slots, cap, sf->rules[i].id, i);
	free(sf->id_slots);
	sf->id_slots = slots;
	sf->id_cap = cap;
	return 0;
}

/* The rule already using id, or NULL. */
static const struct sigs_file_rule *sf_find_id(const struct sigs_file *sf, uint32_t id)
{
	uint32_t h;

	if (!sf->id_cap)
		return NULL;
	for (h = sf_id_hash(id) & (sf->id_cap - 1); sf->id_slots[h]; h = (h + 1) & (sf->id_cap - 1))
		if (sf->rules[sf->id_slots[h] - 1].id == id)
			return &sf->rules[sf->id_slots[h] - 1];
	return NULL;
}

static int sf_add_rule(struct sigs_file *sf, struct sf_line *l, const struct sigs_file_rule *r,
		       struct errbuf *eb)
{
	const struct sigs_file_rule *dup = sf_find_id(sf, r->id);
	int err;

	if (dup)
		return errbuf_set(eb, -EINVAL, "%s:%u: duplicate id %u (first at %s:%u)", l->file,
				  l->no, r->id, dup->file, dup->line);
	if (sf->n_rules >= SIGS_FILE_MAX_RULES)
		return errbuf_set(eb, -E2BIG, "%s:%u: too many rules (max %u)", l->file, l->no,
				  SIGS_FILE_MAX_RULES);
	err = sf_grow((void **)&sf->rules, &sf->cap_rules, sf->n_rules, sizeof(*sf->rules));
	if (err)
		return err;
	sf->rules[sf->n_rules++] = *r;
	if (sf->n_rules * 2 > sf->id_cap)
		return sf_id_rehash(sf);
	sf_id_insert(sf->id_slots, sf->id_cap, r->id, sf->n_rules - 1);
	return 0;
}

static int sf_parse_rule(struct sigs_file *sf, struct sf_line *l, struct errbuf *eb)
{
	struct sigs_file_rule r = {.file = l->file, .line = l->no};
	int err;

	err = sf_parse_id(l, &r, eb);
	if (!err)
		err = sf_parse_scope(sf, l, &r, eb);
	if (!err)
		err = sf_parse_class_sev(l, &r, eb);
	if (!err)
		err = sf_parse_flags(l, &r, eb);
	if (!err)
		err = sf_parse_pattern(sf, l, &r, eb);
	if (!err)
		err = sf_parse_msg(sf, l, &r, eb);
	if (!err)
		err = sf_add_rule(sf, l, &r, eb);
	if (err == -ENOMEM)
		return errbuf_set(eb, err, "%s:%u: out of memory", l->file, l->no);
	return err;
}

/* "#+ text" or "#- text" after a rule of the same file. */
static int sf_parse_example(struct sigs_file *sf, struct sf_line *l, uint32_t first_rule,
			    struct errbuf *eb)
{
	struct sigs_file_example *ex;
	struct sigs_file_rule *r;
	bool positive = l->p[1] == '+';

	if (sf->n_rules == first_rule)
		return sf_err(l, eb, -EINVAL, "example before any rule", NULL, 0);
	l->p += 3;
	if (l->p >= l->end)
		return sf_err(l, eb, -EINVAL, "empty example", NULL, 0);
	if (sf_grow((void **)&sf->examples, &sf->cap_examples, sf->n_examples,
		    sizeof(*sf->examples)))
		return -ENOMEM;
	ex = &sf->examples[sf->n_examples];
	ex->text = sf_strdup(sf, l->p, (size_t)(l->end - l->p));
	if (!ex->text)
		return -ENOMEM;
	ex->len = (uint32_t)(l->end - l->p);
	ex->line = l->no;
	ex->positive = positive;
	r = &sf->rules[sf->n_rules - 1];
	if (r->n_examples == 0)
		r->first_example = sf->n_examples;
	r->n_examples++;
	sf->n_examples++;
	return 0;
}

static int sf_parse_line(struct sigs_file *sf, struct sf_line *l, uint32_t first_rule,
			 struct errbuf *eb)
{
	if (l->end - l->p > SIGS_FILE_LINE_MAX)
		return sf_err(l, eb, -EINVAL, "line too long (max 4096 bytes)", NULL, 0);
	if (memchr(l->p, '\0', (size_t)(l->end - l->p)))
		return sf_err(l, eb, -EINVAL, "NUL byte in line", NULL, 0);
	sf_skip_blanks(l);
	if (l->p >= l->end)
		return 0;
	if (*l->p != '#')
		return sf_parse_rule(sf, l, eb);
	/* "#+ " / "#- " with the blank: "#-----" rulers stay comments. */
	if (l->end - l->p >= 3 && (l->p[1] == '+' || l->p[1] == '-') && sf_blank(l->p[2]))
		return sf_parse_example(sf, l, first_rule, eb);
	return 0;
}

int sigs_file_parse(struct sigs_file *sf, const char *name, const char *text, size_t len,
		    struct errbuf *eb)
{
	const char *end = text + len, *p = text, *nl;
	struct sf_line l = {.no = 0};
	uint32_t first_rule = sf->n_rules;
	int err;

	l.file = sf_strdup(sf, name, strlen(name));
	if (!l.file)
		return errbuf_set(eb, -ENOMEM, "%s: out of memory", name);
	while (p < end) {
		nl = memchr(p, '\n', (size_t)(end - p));
		l.p = p;
		l.end = nl ? nl : end;
		if (l.end > l.p && l.end[-1] == '\r')
			l.end--;
		l.no++;
		err = sf_parse_line(sf, &l, first_rule, eb);
		if (err)
			return err == -ENOMEM
				       ? errbuf_set(eb, err, "%s:%u: out of memory", name, l.no)
				       : err;
		p = nl ? nl + 1 : end;
	}
	return 0;
}

/* *got < len with 0 returned: the file ended before its size (it shrank, or is a
 * kernel file whose size is a guess). */
static int sf_read_fd(int fd, char *buf, size_t len, size_t *got)
{
	*got = 0;
	while (*got < len) {
		ssize_t r = read(fd, buf + *got, len - *got);

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return r < 0 ? -errno : 0;
		*got += (size_t)r;
	}
	return 0;
}

int sigs_file_read(struct sigs_file *sf, const char *path, struct errbuf *eb)
{
	struct stat st;
	size_t got;
	char *buf;
	int fd, err;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return errbuf_set(eb, -errno, "%s: cannot open: %s", path, strerror(errno));
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		return errbuf_set(eb, -EINVAL, "%s: not a regular file", path);
	}
	if ((uint64_t)st.st_size > SIGS_FILE_MAX_BYTES) {
		close(fd);
		return errbuf_set(eb, -E2BIG, "%s: file too large (max %u bytes)", path,
				  SIGS_FILE_MAX_BYTES);
	}
	buf = malloc((size_t)st.st_size + 1);
	if (!buf) {
		close(fd);
		return errbuf_set(eb, -ENOMEM, "%s: out of memory", path);
	}
	err = sf_read_fd(fd, buf, (size_t)st.st_size, &got);
	close(fd);
	if (err)
		err = errbuf_set(eb, err, "%s: read failed: %s", path, strerror(-err));
	else if (got < (size_t)st.st_size)
		err = errbuf_set(eb, -EIO,
				 "%s: read %zu of its %lld bytes: the file changed while being "
				 "read, or is not an ordinary file",
				 path, got, (long long)st.st_size);
	else
		err = sigs_file_parse(sf, path, buf, (size_t)st.st_size, eb);
	free(buf);
	return err;
}

static int sf_cmp_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static bool sf_is_rules_name(const char *n)
{
	size_t len = strlen(n);

	return n[0] != '.' && len > 6 && strcmp(n + len - 6, ".rules") == 0;
}

/* Names of the *.rules files in dir, sorted; *names is freed by the caller. */
static int sf_list_dir(const char *dir, char ***names, unsigned int *n, struct errbuf *eb)
{
	char **v = calloc(SIGS_FILE_MAX_DIR_FILES, sizeof(*v));
	struct dirent *de;
	DIR *d;

	*n = 0;
	if (!v)
		return errbuf_set(eb, -ENOMEM, "%s: out of memory", dir);
	*names = v;
	d = opendir(dir);
	if (!d)
		return errbuf_set(eb, -errno, "%s: cannot open: %s", dir, strerror(errno));
	while ((de = readdir(d)) != NULL) {
		if (!sf_is_rules_name(de->d_name))
			continue;
		if (*n >= SIGS_FILE_MAX_DIR_FILES) {
			closedir(d);
			return errbuf_set(eb, -E2BIG, "%s: more than %u .rules files", dir,
					  SIGS_FILE_MAX_DIR_FILES);
		}
		v[*n] = strdup(de->d_name);
		if (!v[(*n)++]) {
			closedir(d);
			return errbuf_set(eb, -ENOMEM, "%s: out of memory", dir);
		}
	}
	closedir(d);
	qsort(v, *n, sizeof(*v), sf_cmp_names);
	return *n ? 0 : errbuf_set(eb, -ENOENT, "%s: no *.rules files", dir);
}

int sigs_file_read_path(struct sigs_file *sf, const char *path, struct errbuf *eb)
{
	char full[4096];
	char **names = NULL;
	unsigned int n = 0;
	struct stat st;
	int err;

	if (stat(path, &st) < 0)
		return errbuf_set(eb, -errno, "%s: %s", path, strerror(errno));
	if (!S_ISDIR(st.st_mode))
		return sigs_file_read(sf, path, eb);
	err = sf_list_dir(path, &names, &n, eb);
	for (unsigned int i = 0; !err && i < n; i++) {
		if ((size_t)snprintf(full, sizeof(full), "%s/%s", path, names[i]) >= sizeof(full))
			/* The reason first: a path this long overflows the message. */
			err = errbuf_set(eb, -ENAMETOOLONG,
					 "path too long (%zu bytes, at most %zu): %s/%s",
					 strlen(path) + 1 + strlen(names[i]), sizeof(full) - 1,
					 path, names[i]);
		else
			err = sigs_file_read(sf, full, eb);
	}
	for (unsigned int i = 0; names && i < n; i++)
		free(names[i]);
	free(names);
	return err;
}
