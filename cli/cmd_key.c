/*
 * cmd_key.c - `muster key split` and `muster key join`: the group key as
 * k-of-n shares (protocol/share.h), and back.
 *
 * Shares come back from paper and from files, so every refusal names the
 * share it is about, by its place on the command line and the start of its
 * text or its file.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

#include "../protocol/shamir.h"
#include "../protocol/share.h"
#include "cli.h"

static const char group_help[] =
    "Usage: muster key split --shares N --need K [--out DIR]\n"
    "       muster key join SHARE... [--out FILE]\n"
    "\n"
    "Backs the group key up as N shares of which any K give it back, so that\n"
    "no one place holds the key and losing a few shares loses nothing. Fewer\n"
    "than K shares tell nothing about the key.\n"
    "\n"
    "Run `muster key split --help` or `muster key join --help` for details.\n";

static const char split_help[] =
    "Usage: muster key split --shares N --need K [--out DIR]\n"
    "\n"
    "Splits this home's group key into N shares (2 to 255) of which any K\n"
    "(2 to N) give the key back. Each share is a line of text that starts\n"
    "mushare1 and names the group; keep each in another place (on paper, with\n"
    "another organizer). Every split is new: shares of two splits never mix.\n"
    "\n"
    "Options:\n"
    "  --shares N   how many shares to make\n"
    "  --need K     how many of them give the key back\n"
    "  --out DIR    write share-1.txt ... share-N.txt into DIR (made if\n"
    "               missing, mode 0600, never overwritten) and print their\n"
    "               names; without it the shares are printed, one a line\n"
    "\n"
    "Example:\n"
    "  muster key split --shares 3 --need 2 --out /media/stick/shares\n";

static const char join_help[] =
    "Usage: muster key join SHARE... [--out FILE]\n"
    "\n"
    "Gives the group key back from K shares of one split: each SHARE is the\n"
    "mushare1... text or a file holding it (as `muster key split --out`\n"
    "writes it). Checks that they give back the key of the group they name,\n"
    "and prints that group's key (mug1...). A mistyped share, one of another\n"
    "split or group, and one that does not fit the others are named.\n"
    "\n"
    "Options:\n"
    "  --out FILE   also write the key to FILE (mode 0600, never\n"
    "               overwritten), as a home's group.key: `muster init\n"
    "               --restore-key FILE` makes a home of it\n"
    "\n"
    "To rebuild a home from shares at once: `muster init --shares SHARE...`.\n"
    "\n"
    "Example:\n"
    "  muster key join share-1.txt share-3.txt --out group.key\n";

#define SHARE_FILE_MAX 65536

/* A share as given: where it came from, for messages. */
struct given {
	const char *file; /* NULL: given as text */
	char start[32];   /* its text's prefix and last characters */
};

static void
name_share(char *out, size_t size, const struct given *g, size_t i)
{
	if (g[i].file != NULL)
		snprintf(out, size, "share %zu (%s)", i + 1, g[i].file);
	else
		snprintf(out, size, "share %zu (%s)", i + 1, g[i].start);
}

static int
add_share(struct mu_share *v, struct given *g, size_t *n, const char *text,
          const char *file)
{
	struct mu_why why = {0};
	char name[512];
	const char *s = text;
	size_t len;

	if (*n == MU_SHAMIR_MAX)
		return mu_cli_fail(MU_EINVAL,
		                   "more than %d shares given: a split has "
		                   "at most %d",
		                   MU_SHAMIR_MAX, MU_SHAMIR_MAX);
	while (*s == ' ' || *s == '\t')
		s++;
	len = strcspn(s, " \t\r\n");
	g[*n].file = file;
	/* The end tells shares apart: their starts are alike. */
	if (len > 16)
		snprintf(g[*n].start, sizeof(g[*n].start), "%.8s…%.6s", s, s + len - 6);
	else
		snprintf(g[*n].start, sizeof(g[*n].start), "%.*s", (int)len, s);
	if (mu_share_from_text(&v[*n], text, &why) != 0) {
		name_share(name, sizeof(name), g, *n);
		return mu_cli_fail(MU_EINVAL,
		                   "%s %s; check it against the copy it "
		                   "came from, or give another share",
		                   name, why.text);
	}
	(*n)++;
	return 0;
}

/* Whether a word is a share's text rather than a file's name: no such
 * file, and it starts like a share or a key, or is long and has no '/' (a
 * share with a mistyped start, which its reader names better than open). */
static bool
looks_like_share(const char *arg)
{
	struct stat sb;

	if (stat(arg, &sb) == 0)
		return false;
	return strncasecmp(arg, MU_SHARE_HRP "1", sizeof(MU_SHARE_HRP)) == 0 ||
	       strncasecmp(arg, "mug1", 4) == 0 ||
	       (strlen(arg) > 64 && strchr(arg, '/') == NULL);
}

/* The share lines of a file: lines that are blank or start '#' are not. */
static int
read_share_file(struct mu_share *v, struct given *g, size_t *n, const char *path)
{
	char *buf = NULL, *line, *next;
	size_t got = 0, before = *n;
	ssize_t r;
	int fd, rc = 0;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return mu_cli_fail(MU_EINVAL,
		                   "cannot read the share %s: %s; give a share's "
		                   "text (mushare1...) or the file that holds it",
		                   path, strerror(errno));
	/* Shares are secret material: in secure memory, wiped. */
	buf = sodium_malloc(SHARE_FILE_MAX + 1);
	if (buf == NULL) {
		close(fd);
		return mu_cli_fail(MU_ENOMEM, "out of memory");
	}
	while (got < SHARE_FILE_MAX &&
	       (r = read(fd, buf + got, SHARE_FILE_MAX - got)) != 0) {
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			rc = mu_cli_fail(MU_EIO, "cannot read the share %s: %s", path,
			                 strerror(errno));
			goto out;
		}
		got += (size_t)r;
	}
	buf[got] = '\0';
	for (line = buf; rc == 0 && line != NULL && *line != '\0'; line = next) {
		const char *s = line;

		next = strchr(line, '\n');
		if (next != NULL)
			*next++ = '\0';
		while (*s == ' ' || *s == '\t' || *s == '\r')
			s++;
		if (*s == '\0' || *s == '#')
			continue;
		rc = add_share(v, g, n, line, path);
	}
	if (rc == 0 && *n == before)
		rc = mu_cli_fail(MU_EINVAL,
		                 "%s holds no share (no line that is not blank or a "
		                 "# comment)",
		                 path);
out:
	close(fd);
	sodium_free(buf);
	return rc;
}

/* Explains a refused join, naming the shares at fault. */
static int
join_failed(const struct mu_share *v, const struct given *g,
            const struct mu_share_fault *f)
{
	char a[512], b[512], ka[MU_KEY_TEXT_SIZE], kb[MU_KEY_TEXT_SIZE];

	name_share(a, sizeof(a), g, f->a);
	name_share(b, sizeof(b), g, f->b);
	switch (f->kind) {
	case MU_SHARE_OTHER_GROUP:
		mu_key_to_text(ka, v[f->a].group);
		mu_key_to_text(kb, v[f->b].group);
		return mu_cli_fail(MU_EINVAL,
		                   "%s belongs to another group (%s) than %s (%s): "
		                   "give shares of one group",
		                   a, ka, b, kb);
	case MU_SHARE_OTHER_SPLIT:
		return mu_cli_fail(MU_EINVAL,
		                   "%s belongs to another split than %s: shares of "
		                   "two splits never mix; give shares made by one "
		                   "`muster key split`",
		                   a, b);
	case MU_SHARE_REPEATED:
		return mu_cli_fail(MU_EINVAL,
		                   "%s is %s again (both are share number %u): give "
		                   "another share instead",
		                   a, b, v[f->a].x);
	case MU_SHARE_CLASH:
		return mu_cli_fail(MU_EINVAL,
		                   "%s and %s are both share number %u but differ: "
		                   "one of them is wrong",
		                   b, a, v[f->a].x);
	case MU_SHARE_TOO_FEW:
		return mu_cli_fail(MU_EINVAL,
		                   "%u share%s given, and this split needs %u: give "
		                   "%u more",
		                   f->have, f->have == 1 ? "" : "s", f->need,
		                   f->need - f->have);
	case MU_SHARE_NOT_FITTING:
		mu_key_to_text(ka, v[0].group);
		return mu_cli_fail(MU_EINVAL,
		                   "%s is wrong: it does not fit the other shares, "
		                   "which give back the key of group %s; leave it "
		                   "out",
		                   a, ka);
	case MU_SHARE_WRONG_KEY:
		break;
	}
	mu_key_to_text(ka, v[0].group);
	return mu_cli_fail(MU_EINVAL,
	                   "the shares give a key that is not group %s: one of "
	                   "them is wrong; try the others",
	                   ka);
}

int
mu_cli_join_shares(const char *const *args, size_t nargs, uint8_t *seed,
                   uint8_t group[MU_KEY_BYTES])
{
	struct mu_share *v;
	struct mu_share_fault f;
	struct given *g;
	size_t i, n = 0;
	int rc = 0;

	if (nargs == 0)
		return mu_cli_usage("no shares given: give K shares (mushare1... "
		                    "texts or the files that hold them)");
	v = sodium_malloc(MU_SHAMIR_MAX * sizeof(*v));
	g = calloc(MU_SHAMIR_MAX, sizeof(*g));
	if (v == NULL || g == NULL) {
		rc = mu_cli_fail(MU_ENOMEM, "out of memory");
		goto out;
	}
	for (i = 0; rc == 0 && i < nargs; i++)
		rc = looks_like_share(args[i]) ? add_share(v, g, &n, args[i], NULL)
		                               : read_share_file(v, g, &n, args[i]);
	if (rc != 0)
		goto out;
	rc = mu_share_join(seed, v, n, &f);
	if (rc == MU_EKEYTEXT)
		rc = join_failed(v, g, &f);
	else if (rc != 0)
		rc = mu_cli_fail(rc, "cannot join the shares: %s", mu_strerror(rc));
	else
		memcpy(group, v[0].group, MU_KEY_BYTES);
out:
	sodium_free(v);
	free(g);
	return rc;
}

static int
join(struct mu_cli *cli, int argc, char **argv)
{
	const char *out = NULL, *args[MU_SHAMIR_MAX + 1];
	const struct mu_cli_opt opts[] = {{"out", MU_OPT_VALUE, &out}, {NULL, 0, NULL}};
	const struct mu_cli_spec spec = {"key join", join_help, opts,
	                                 "SHARE...", 0,         MU_SHAMIR_MAX + 1};
	struct mu_why why = {0};
	uint8_t group[MU_KEY_BYTES], *seed;
	char key[MU_KEY_TEXT_SIZE];
	size_t nargs = 0;
	int rc;

	(void)cli;
	rc = mu_cli_parse(&spec, argc, argv, args, &nargs);
	if (rc != 0)
		return rc;
	seed = sodium_malloc(MU_HOME_SEED_BYTES);
	if (seed == NULL)
		return mu_cli_fail(MU_ENOMEM, "out of memory");
	rc = mu_cli_join_shares(args, nargs, seed, group);
	if (rc == 0 && out != NULL) {
		rc = mu_home_write_seed(out, seed, &why);
		if (rc != 0)
			rc = mu_cli_fail(rc, "cannot save the key: %s",
			                 mu_why_or(&why, rc));
	}
	sodium_free(seed);
	if (rc != 0)
		return rc;
	mu_key_to_text(key, group);
	printf("%s\n", key);
	return 0;
}

/* Writes DIR/share-I.txt, 0600, never over an existing file. */
static int
write_share_file(const char *dir, unsigned i, unsigned n, unsigned k, const char *text,
                 const char *key, char *path, size_t size)
{
	char head[512];
	int fd, rc = 0;

	snprintf(path, size, "%s/share-%u.txt", dir, i);
	snprintf(head, sizeof(head),
	         "# muster key share %u of %u of group %s\n"
	         "# any %u of the %u give the key back: `muster key join` or "
	         "`muster init --shares`\n",
	         i, n, key, k, n);
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0 && errno == EEXIST)
		return mu_cli_fail(MU_EEXIST,
		                   "%s exists already: shares are never overwritten; "
		                   "give another --out DIR",
		                   path);
	if (fd < 0)
		return mu_cli_fail(MU_EIO, "cannot create %s: %s", path,
		                   strerror(errno));
	if (dprintf(fd, "%s%s\n", head, text) < 0 || fsync(fd) != 0)
		rc = mu_cli_fail(errno == ENOSPC ? MU_EFULL : MU_EIO,
		                 "cannot write %s: %s", path, strerror(errno));
	if (close(fd) != 0 && rc == 0)
		rc = mu_cli_fail(MU_EIO, "cannot write %s: %s", path, strerror(errno));
	return rc;
}

static int
split(struct mu_cli *cli, int argc, char **argv)
{
	const char *shares = NULL, *need = NULL, *out = NULL;
	const struct mu_cli_opt opts[] = {{"shares", MU_OPT_VALUE, &shares},
	                                  {"need", MU_OPT_VALUE, &need},
	                                  {"out", MU_OPT_VALUE, &out},
	                                  {NULL, 0, NULL}};
	const struct mu_cli_spec spec = {"key split", split_help, opts, "", 0, 0};
	char text[MU_SHARE_TEXT_SIZE], key[MU_KEY_TEXT_SIZE], path[4096];
	uint8_t set[MU_SHARE_SET_BYTES], *coeffs = NULL;
	struct mu_share *v = NULL;
	unsigned long n, k;
	unsigned i;
	int rc;

	rc = mu_cli_parse(&spec, argc, argv, NULL, NULL);
	if (rc != 0)
		return rc;
	if (shares == NULL || need == NULL)
		return mu_cli_usage("key split needs --shares N and --need K, e.g. "
		                    "--shares 3 --need 2");
	if ((rc = mu_cli_uint_opt("shares", shares, 2, MU_SHAMIR_MAX, &n)) != 0 ||
	    (rc = mu_cli_uint_opt("need", need, 2, n, &k)) != 0)
		return rc;
	if (out != NULL && mkdir(out, 0700) != 0 && errno != EEXIST)
		return mu_cli_fail(MU_EIO, "cannot create the directory %s: %s", out,
		                   strerror(errno));
	rc = mu_cli_open_home(cli, MU_CLI_SECRET);
	if (rc != 0)
		return rc;
	coeffs = sodium_malloc((k - 1) * MU_SHARE_SEED_BYTES);
	v = sodium_malloc(n * sizeof(*v));
	if (coeffs == NULL || v == NULL) {
		rc = mu_cli_fail(MU_ENOMEM, "out of memory");
		goto out;
	}
	randombytes_buf(set, sizeof(set));
	randombytes_buf(coeffs, (k - 1) * MU_SHARE_SEED_BYTES);
	/* libsodium's secret key is the seed, then the public key. */
	rc = mu_share_split(v, (unsigned)n, (unsigned)k, cli->home->secret,
	                    cli->home->group, set, coeffs);
	if (rc != 0) {
		rc = mu_cli_fail(rc, "cannot split the key: %s", mu_strerror(rc));
		goto out;
	}
	mu_key_to_text(key, cli->home->group);
	for (i = 0; i < n && rc == 0; i++) {
		mu_share_to_text(text, &v[i]);
		if (out == NULL) {
			printf("%s\n", text);
			continue;
		}
		rc = write_share_file(out, i + 1, (unsigned)n, (unsigned)k, text, key,
		                      path, sizeof(path));
		if (rc == 0)
			printf("%s\n", path);
	}
	sodium_memzero(text, sizeof(text));
out:
	sodium_free(coeffs);
	sodium_free(v);
	mu_cli_close(cli);
	return rc;
}

int
mu_cli_cmd_key(struct mu_cli *cli, int argc, char **argv)
{
	static const struct mu_cli_sub subs[] = {
	    {"split", split}, {"join", join}, {NULL, NULL}};

	return mu_cli_dispatch(cli, "key", group_help, subs, argc, argv);
}
