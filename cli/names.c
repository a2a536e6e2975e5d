/*
 * names.c - groups and records named the short way on the command line: a
 * group by its name or a start of its key, one of our own records by a
 * start of its d. The matching is pure (mu_cli_match_*); context.c reads
 * the candidates from the store.
 */
#include <string.h>

#include "cli.h"

/* ASCII letters fold; other bytes (UTF-8 names) compare as they are. */
static bool
same_name(const char *a, const char *b)
{
	unsigned char x, y;

	for (;; a++, b++) {
		x = (unsigned char)*a;
		y = (unsigned char)*b;
		if (x >= 'A' && x <= 'Z')
			x = (unsigned char)(x - 'A' + 'a');
		if (y >= 'A' && y <= 'Z')
			y = (unsigned char)(y - 'A' + 'a');
		if (x != y)
			return false;
		if (x == '\0')
			return true;
	}
}

size_t
mu_cli_match_groups(const struct mu_cli_known *v, size_t n, const char *text,
                    size_t *hits, size_t max)
{
	char key[MU_KEY_TEXT_SIZE];
	size_t i, found = 0, len = strlen(text);

	for (i = 0; i < n; i++) {
		if (v[i].name[0] != '\0' && same_name(v[i].name, text)) {
			if (found < max)
				hits[found] = i;
			found++;
		}
	}
	if (found > 0 || len < MU_CLI_KEY_PREFIX_MIN || strncmp(text, "mug1", 4) != 0)
		return found;
	for (i = 0; i < n; i++) {
		mu_key_to_text(key, v[i].key);
		if (strncmp(key, text, len) == 0) {
			if (found < max)
				hits[found] = i;
			found++;
		}
	}
	return found;
}

bool
mu_cli_d_prefix(const char *text)
{
	size_t len = strlen(text);

	return len >= MU_CLI_D_PREFIX_MIN && len <= MU_D_MAX &&
	       strchr(text, '/') == NULL;
}
