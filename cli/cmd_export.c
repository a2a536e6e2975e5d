/*
 * cmd_export.c - `muster export` and `muster import`: the export stream of
 * docs/PROTOCOL.md section 7, for groups that meet by USB stick.
 *
 * Export writes every stored record byte for byte as signed. Import treats
 * the file like a peer: every record is verified before it is stored.
 */
#include <errno.h>
#include <fcntl.h>
#include <malloc.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../protocol/buf.h"
#include "../protocol/export.h"
#include "../storage/ingest.h"
#include "../storage/local.h"
#include "../storage/place.h"
#include "cli.h"

#define IMPORT_MAX (1024ULL * 1024 * 1024) /* 1 GiB */

static const char export_help[] =
    "Usage: muster export [--force] [FILE]\n"
    "\n"
    "Writes every record this node stores (yours and those of other groups,\n"
    "tombstones included) to FILE, or to stdout when FILE is missing or -,\n"
    "but those of groups that left this node's scope, which are no longer\n"
    "updated (stderr says how many were left out).\n"
    "The records are byte for byte as their groups signed them, so whoever\n"
    "imports the file can check every one. The format is the export stream\n"
    "of docs/PROTOCOL.md. FILE is written in full or not at all; an existing\n"
    "FILE is replaced only with --force.\n"
    "\n"
    "Example:\n"
    "  muster export /media/usb/riverside.muster\n";

static const char import_help[] =
    "Usage: muster import [--threads N] [FILE]\n"
    "\n"
    "Reads an export stream (made by `muster export` on any node) from FILE,\n"
    "or from stdin when FILE is missing or -, verifies every record (its\n"
    "signature and every rule of the protocol) and stores the valid ones.\n"
    "Verification runs on every core; --threads N uses N threads instead.\n"
    "Prints one line: how many records were new, already here (duplicate),\n"
    "older than the version held (superseded), covered by a delete (deleted)\n"
    "or rejected. Each rejected record also gets a line on stderr saying\n"
    "why. Exits with status 1 when any record was rejected or the file is\n"
    "cut short; the valid records are stored anyway.\n"
    "\n"
    "Example:\n"
    "  muster import /media/usb/their-group.muster\n";

/* ---- export ------------------------------------------------------------ */

/* The file, and the groups outside the scope, whose records stay out: they
 * are no longer updated, and whoever imports the file would take them for
 * current (storage/local.h). */
struct export_out {
	FILE *f;
	struct mu_outside outside;
	size_t left_out;
};

static int
write_one(void *ctx, const struct mu_record *rec)
{
	struct export_out *x = ctx;

	if (mu_outside_has(&x->outside, rec->group, NULL)) {
		x->left_out++;
		return 0;
	}
	return fwrite(rec->raw, 1, rec->raw_len, x->f) == rec->raw_len ? 0 : MU_EIO;
}

/* The records after the organizer records, which go first: a reader holds
 * a record signed by an organizer key until its organizer record is read,
 * and holds only so many (docs/PROTOCOL.md 7, 10.6). */
static int
write_other(void *ctx, const struct mu_record *rec)
{
	return rec->kind == MU_KIND_ORGANIZER ? 0 : write_one(ctx, rec);
}

int
mu_cli_cmd_export(struct mu_cli *cli, int argc, char **argv)
{
	bool force = false;
	const struct mu_cli_opt opts[] = {{"force", MU_OPT_FLAG, &force},
	                                  {NULL, 0, NULL}};
	const struct mu_cli_spec spec = {"export", export_help, opts, "FILE", 0, 1};
	struct mu_why why = {0};
	struct export_out x = {NULL, {0}, 0};
	FILE *f = NULL;
	const char *args[1], *file = NULL;
	char *tmp = NULL;
	size_t nargs, n;
	int fd, rc;

	rc = mu_cli_parse(&spec, argc, argv, args, &nargs);
	if (rc != 0)
		return rc;
	if (nargs == 1 && strcmp(args[0], "-") != 0)
		file = args[0];
	if (file == NULL && isatty(STDOUT_FILENO))
		return mu_cli_usage("export: stdout is a terminal; give a FILE or "
		                    "redirect: muster export > FILE");
	if (file != NULL && mu_store_place_free(file, force, &why) != 0)
		return mu_cli_fail(MU_EEXIST, "%s", why.text);
	rc = mu_cli_open(cli, MU_CLI_READONLY);
	if (rc != 0)
		return rc;

	if (file != NULL) {
		/* Written beside FILE and renamed over it, so that FILE is
		 * never half written. */
		n = strlen(file) + sizeof(".tmp");
		if ((tmp = malloc(n)) == NULL)
			return mu_cli_fail(MU_ENOMEM, "out of memory");
		snprintf(tmp, n, "%s.tmp", file);
		fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
		if (fd < 0 || (f = fdopen(fd, "wb")) == NULL) {
			rc = mu_cli_fail(MU_EIO, "cannot create %s: %s", tmp,
			                 strerror(errno));
			if (fd >= 0)
				close(fd);
			free(tmp);
			return rc;
		}
	} else {
		f = stdout;
	}

	x.f = f;
	if (fwrite(mu_export_magic, 1, MU_EXPORT_MAGIC_LEN, f) != MU_EXPORT_MAGIC_LEN)
		rc = MU_EIO;
	else if ((rc = mu_store_outside(cli->store, &x.outside)) == 0) {
		rc = mu_store_list(cli->store, MU_KIND_ORGANIZER, NULL, write_one, &x);
		if (rc == 0)
			rc = mu_store_each(cli->store, write_other, &x);
	}
	mu_outside_free(&x.outside);
	if (rc == 0 && fflush(f) != 0)
		rc = MU_EIO;
	if (rc == 0 && file != NULL && fsync(fileno(f)) != 0)
		rc = MU_EIO;
	if (file != NULL && fclose(f) != 0 && rc == 0)
		rc = MU_EIO;
	if (rc == MU_EIO) {
		rc = mu_cli_fail(MU_EIO, "cannot write %s: %s",
		                 file != NULL ? tmp : "stdout", strerror(errno));
	} else if (rc != 0) {
		rc = mu_cli_fail(rc, "cannot read the store: %s", mu_strerror(rc));
	} else if (file != NULL && (rc = mu_store_place(tmp, file, force, &why)) != 0) {
		rc = mu_cli_fail(rc, "%s", why.text);
	}
	if (file != NULL && rc != 0)
		unlink(tmp);
	free(tmp);
	if (rc == 0 && x.left_out > 0)
		fprintf(stderr,
		        "%zu record%s of groups outside this node's scope left out: "
		        "they are no longer updated (`muster event list --all` "
		        "shows them)\n",
		        x.left_out, x.left_out == 1 ? "" : "s");
	return rc;
}

/* ---- import ------------------------------------------------------------ */

static int
too_big(const char *name)
{
	return mu_cli_fail(MU_EINVAL,
	                   "%s is larger than 1 GiB, the most import reads at once; "
	                   "split it into smaller export streams, each starting "
	                   "with the magic",
	                   name);
}

/* The input, mapped when it is a regular file (no copy), else read whole
 * into a malloc()ed buffer, refusing more than IMPORT_MAX either way. The
 * map is populated at once: cutting reads all of it in the import's first
 * moments, and one populate costs less than a page fault per 64 KiB does
 * on a virtual machine. */
struct input {
	uint8_t *buf;
	size_t len;
	bool mapped;
};

static int
read_all(int fd, const char *name, struct input *in)
{
	struct stat sb;
	uint8_t *nb;
	size_t cap = 0;
	ssize_t r;
	void *map;

	if (fstat(fd, &sb) == 0 && S_ISREG(sb.st_mode)) {
		if ((unsigned long long)sb.st_size > IMPORT_MAX)
			return too_big(name);
		map = sb.st_size > 0 ? mmap(NULL, (size_t)sb.st_size, PROT_READ,
		                            MAP_PRIVATE | MAP_POPULATE, fd, 0)
		                     : MAP_FAILED;
		if (map != MAP_FAILED) {
			in->buf = map;
			in->len = (size_t)sb.st_size;
			in->mapped = true;
			return 0;
		}
	}
	for (;;) {
		if (in->len == cap) {
			/* One byte past the limit tells a stream that is too
			 * big from one that is exactly 1 GiB. */
			cap = cap != 0 ? 2 * cap : 1 << 16;
			if (cap > IMPORT_MAX + 1)
				cap = IMPORT_MAX + 1;
			if ((nb = realloc(in->buf, cap)) == NULL)
				return mu_cli_fail(MU_ENOMEM,
				                   "out of memory reading %s", name);
			in->buf = nb;
		}
		r = read(fd, in->buf + in->len, cap - in->len);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return mu_cli_fail(MU_EIO, "cannot read %s: %s", name,
			                   strerror(errno));
		if (r == 0)
			break;
		in->len += (size_t)r;
		if (in->len > IMPORT_MAX)
			return too_big(name);
	}
	return 0;
}

static void
input_free(struct input *in)
{
	if (in->mapped)
		munmap(in->buf, in->len);
	else
		free(in->buf);
}

struct tally {
	size_t n[MU_PUT_DELETED + 1];
	size_t rejected;
	struct mu_scope *blocked; /* `muster block`: never stored */
	size_t refused;           /* of those */
};

/*
 * The import's source (mu_ingest_next_fn): the stream's records one by one,
 * counting what cannot be cut as rejected: a truncated last record, or bytes
 * that do not start a record, after which the rest cannot be read.
 */
struct cutter {
	struct mu_export_reader *stream;
	const char *name;
	struct tally *t;
	bool broken;
};

static int
cut_next(void *src, struct mu_ingest_span *span, struct mu_why *unused)
{
	struct cutter *cu = src;
	struct mu_export_reader *stream = cu->stream;
	const uint8_t *rec;
	size_t rec_len;
	struct mu_why why;
	int next;

	(void)unused;
	why.text[0] = '\0';
	if ((next = mu_export_next(stream, &rec, &rec_len, &why)) == 0)
		return 0;
	if (next == MU_ETRUNC) {
		mu_cli_fail(MU_EINVAL,
		            "record %zu rejected: truncated: it is cut short at the "
		            "end of %s (an interrupted copy?); the records before "
		            "it were read",
		            stream->index, cu->name);
		cu->t->rejected++;
		cu->broken = true;
		return 0;
	}
	if (next < 0) {
		/* Without a length there is no telling where the next record
		 * starts: the rest of the stream is lost. */
		mu_cli_fail(
		    MU_EINVAL, "record %zu rejected: %s; the rest of %s cannot be read",
		    stream->index, why.text[0] != '\0' ? why.text : "shape", cu->name);
		cu->t->rejected++;
		cu->broken = true;
		return 0;
	}
	*span = (struct mu_ingest_span){rec, rec_len};
	return 1;
}

/* Rejected records get their line on stderr, in the order of the file. */
static bool
check_one(void *ctx, size_t index, int rc, const struct mu_record *rec,
          const struct mu_why *why)
{
	struct tally *t = ctx;

	if (rc == 0 && mu_scope_has(t->blocked, rec->group)) {
		t->refused++;
		return false;
	}
	if (rc == 0)
		return true;
	mu_cli_fail(rc, "record %zu rejected: %s", index + 1, mu_why_or(why, rc));
	t->rejected++;
	return false;
}

static void
count_one(void *ctx, size_t index, enum mu_put_result r)
{
	struct tally *t = ctx;

	(void)index;
	if (r >= MU_PUT_NEW && r <= MU_PUT_DELETED)
		t->n[r]++;
}

int
mu_cli_cmd_import(struct mu_cli *cli, int argc, char **argv)
{
	const char *threads_text = NULL;
	const struct mu_cli_opt opts[] = {{"threads", MU_OPT_VALUE, &threads_text},
	                                  {NULL, 0, NULL}};
	const struct mu_cli_spec spec = {"import", import_help, opts, "FILE", 0, 1};
	struct mu_ingest_opts io = {0, 0, 0, 0, check_one, count_one, NULL};
	struct input in = {NULL, 0, false};
	struct mu_export_reader stream;
	struct tally t = {{0}, 0, NULL, 0};
	struct mu_why why;
	const char *args[1], *name = "stdin";
	struct cutter cu = {&stream, NULL, &t, false};
	unsigned long threads = 0;
	size_t nargs;
	int fd = STDIN_FILENO, rc;

	rc = mu_cli_parse(&spec, argc, argv, args, &nargs);
	if (rc != 0)
		return rc;
	if (threads_text != NULL &&
	    (rc = mu_cli_uint_opt("threads", threads_text, 1, 64, &threads)) != 0)
		return rc;
	if (nargs == 0 && isatty(STDIN_FILENO))
		return mu_cli_usage("import: stdin is a terminal; give a FILE or "
		                    "redirect: muster import < FILE");
	if (nargs == 1 && strcmp(args[0], "-") != 0) {
		name = args[0];
		fd = open(name, O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			return mu_cli_fail(MU_EIO, "cannot open %s: %s", name,
			                   strerror(errno));
	}
	rc = read_all(fd, name, &in);
	if (fd != STDIN_FILENO)
		close(fd);
	if (rc != 0)
		goto out;
	if (mu_export_open(&stream, in.buf, in.len, &why) != 0) {
		rc = mu_cli_fail(
		    MU_EINVAL,
		    "%s is not a muster export stream (missing magic): it "
		    "must start with the msgpack string \"muster-export/1\"; "
		    "make one with `muster export FILE`",
		    name);
		goto out;
	}
	if ((rc = mu_cli_open(cli, 0)) != 0)
		goto out;
	memset(&t, 0, sizeof(t));
	if ((t.blocked = mu_scope_new()) == NULL) {
		rc = mu_cli_fail(MU_ENOMEM, "out of memory");
		goto out;
	}
	if ((rc = mu_store_blocked(cli->store, t.blocked)) != 0) {
		rc = mu_cli_fail(rc, "cannot read the blocked groups: %s",
		                 mu_strerror(rc));
		goto out;
	}
	cu.name = name;
	io.threads = (unsigned)threads;
	io.now = cli->now;
	io.ctx = &t;
	mallopt(M_MMAP_THRESHOLD, MU_INGEST_MMAP_THRESHOLD);
	mallopt(M_TRIM_THRESHOLD, MU_INGEST_TRIM_THRESHOLD);
	rc = mu_ingest_source(cli->store, cut_next, &cu, &io, &why);
	if (rc != 0)
		rc = mu_cli_fail(rc, "cannot store the records: %s",
		                 mu_why_or(&why, rc));
	printf("new %zu, duplicate %zu, superseded %zu, deleted %zu, rejected %zu\n",
	       t.n[MU_PUT_NEW], t.n[MU_PUT_DUPLICATE], t.n[MU_PUT_SUPERSEDED],
	       t.n[MU_PUT_DELETED], t.rejected);
	if (t.refused > 0)
		fprintf(stderr,
		        "%zu record%s of blocked groups not stored (`muster block "
		        "list` shows them)\n",
		        t.refused, t.refused == 1 ? "" : "s");
	if (rc == 0 && (t.rejected > 0 || cu.broken))
		rc = MU_ERECORD; /* each said why on its line */
out:
	mu_scope_free(t.blocked);
	input_free(&in);
	return rc;
}
