/*
 * home_conns.c - what the daemon tells `muster status` and the other
 * commands through small files in the home: its list of connections
 * (serve.conns), when it was last connected to each group (serve.seen), and
 * what its peers say of its clock (home_clock.c).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../protocol/buf.h"
#include "../protocol/textform.h"
#include "home.h"

#define CONNS_FILE "serve.conns"
#define SEEN_FILE  "serve.seen"
#define STATE_MAX  (1 << 20) /* far above 64 connections' worth of lines */

static char *
state_path(const struct mu_home *home, const char *name, const char *suffix)
{
	size_t n = strlen(home->dir) + strlen(name) + strlen(suffix) + 2;
	char *p = malloc(n);

	if (p != NULL)
		snprintf(p, n, "%s/%s%s", home->dir, name, suffix);
	return p;
}

int
mu_home_write_state(const struct mu_home *home, const char *name, const char *text,
                    struct mu_why *why)
{
	char *tmp = state_path(home, name, ".tmp"), *path = state_path(home, name, "");
	size_t len = strlen(text);
	int fd = -1, rc = 0;

	if (tmp == NULL || path == NULL) {
		rc = MU_ENOMEM;
		goto out;
	}
	/* Readers see the old text or the new one, never half of one. */
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0 || write(fd, text, len) != (ssize_t)len || close(fd) != 0 ||
	    rename(tmp, path) != 0) {
		rc = mu_fail(why, MU_EIO, "cannot write %s: %s", path, strerror(errno));
		if (fd >= 0)
			unlink(tmp);
	}
out:
	free(tmp);
	free(path);
	return rc;
}

char *
mu_home_read_state(const struct mu_home *home, const char *name)
{
	char *path = state_path(home, name, ""), *text = NULL;
	struct stat st;
	int fd = -1;

	if (path == NULL)
		return NULL;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0 || fstat(fd, &st) != 0 || st.st_size < 0 || st.st_size > STATE_MAX)
		goto out;
	text = malloc((size_t)st.st_size + 1);
	if (text == NULL)
		goto out;
	if (read(fd, text, (size_t)st.st_size) != st.st_size) {
		free(text);
		text = NULL;
		goto out;
	}
	text[st.st_size] = '\0';
out:
	if (fd >= 0)
		close(fd);
	free(path);
	return text;
}

int
mu_home_write_conns(const struct mu_home *home, const char *text, struct mu_why *why)
{
	return mu_home_write_state(home, CONNS_FILE, text, why);
}

char *
mu_home_read_conns(const struct mu_home *home)
{
	return mu_home_read_state(home, CONNS_FILE);
}

int
mu_home_conns_each(const struct mu_home *home, mu_home_conn_fn fn, void *ctx)
{
	char *text = mu_home_read_conns(home), *line, *save = NULL, *key, *how;
	uint8_t group[MU_KEY_BYTES];
	int rc = 0;

	for (line = text ? strtok_r(text, "\n", &save) : NULL; line != NULL && rc == 0;
	     line = strtok_r(NULL, "\n", &save)) {
		if ((key = strchr(line, '\t')) == NULL ||
		    (how = strchr(key + 1, '\t')) == NULL)
			continue;
		*key++ = '\0';
		*how++ = '\0';
		if (mu_key_from_text(group, key, NULL) != 0)
			continue;
		rc = fn(ctx, line, group, strcmp(how, "dialed") == 0);
	}
	free(text);
	return rc;
}

int
mu_home_read_seen(const struct mu_home *home, struct mu_home_seen **v, size_t *n)
{
	char *text = mu_home_read_state(home, SEEN_FILE), *line, *save = NULL, *at;
	size_t cap = 0;
	int rc = 0;

	*v = NULL;
	*n = 0;
	for (line = text ? strtok_r(text, "\n", &save) : NULL; line != NULL && rc == 0;
	     line = strtok_r(NULL, "\n", &save)) {
		struct mu_home_seen e;
		char *end;

		if ((at = strchr(line, '\t')) == NULL)
			continue;
		*at++ = '\0';
		e.at = strtoll(at, &end, 10);
		if (*end != '\0' || e.at <= 0 ||
		    mu_key_from_text(e.key, line, NULL) != 0)
			continue;
		if ((rc = mu_buf_grow_array(v, &cap, *n + 1, sizeof(e), 16)) == 0)
			(*v)[(*n)++] = e;
	}
	free(text);
	if (rc != 0) {
		free(*v);
		*v = NULL;
		*n = 0;
	}
	return rc;
}

static int
newest_first(const void *a, const void *b)
{
	const struct mu_home_seen *x = a, *y = b;

	return x->at < y->at ? 1 : x->at > y->at ? -1 : 0;
}

int
mu_home_write_seen(const struct mu_home *home, struct mu_home_seen *v, size_t n,
                   struct mu_why *why)
{
	struct mu_buf text = MU_BUF_INIT;
	char key[MU_KEY_TEXT_SIZE], line[MU_KEY_TEXT_SIZE + 32];
	size_t i;
	int rc = 0, len;

	if (n > MU_HOME_SEEN_MAX) {
		qsort(v, n, sizeof(*v), newest_first);
		n = MU_HOME_SEEN_MAX;
	}
	for (i = 0; i < n && rc == 0; i++) {
		mu_key_to_text(key, v[i].key);
		len =
		    snprintf(line, sizeof(line), "%s\t%lld\n", key, (long long)v[i].at);
		rc = mu_buf_append(&text, line, (size_t)len);
	}
	if (rc == 0)
		rc = mu_buf_push(&text, '\0');
	if (rc == 0)
		rc = mu_home_write_state(home, SEEN_FILE, (const char *)text.data, why);
	else
		rc = mu_fail(why, rc, "out of memory");
	mu_buf_free(&text);
	return rc;
}
