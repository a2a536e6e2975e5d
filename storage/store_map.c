/*
 * store_map.c - giving back the pages of the store's memory map (store.h:
 * mu_store_set_map_budget, mu_store_release_map).
 *
 * LMDB reads through a shared, read-only mapping of data.mdb. Every page a
 * read touches stays mapped, and counted in the process's resident size,
 * until the map goes. And a fault maps more than its page: the kernel's
 * fault-around maps up to 16 neighbouring pages of the page cache, and a
 * kernel that keeps files in large folios (Linux 6.18 on ext4 here) maps
 * the whole folio the page is in, up to what one page table maps (2 MiB with
 * 4 KiB pages), whatever madvise() says. How large the folios are depends on
 * how the file came into the page cache: LMDB's own writes leave folios of
 * up to 256 KiB (it writes 64 pages at a time), reads through a map small
 * ones, and a sequential read() of the file (a copy, a backup, cat) 2 MiB
 * ones. So one record read can add 2 MiB to the resident size, and a few
 * dozen can add a hundred: whoever bounds it must look often enough.
 *
 * A node that reconciles and sends records all day would otherwise end up
 * with the whole file resident, although it holds none of it. Dropping the
 * mappings costs one minor fault per page read again.
 *
 * A write transaction's pages are another matter. LMDB copies every page
 * a write changes into a page of its own heap before changing it (the
 * store never uses MDB_WRITEMAP), and the commit writes the copy to a new
 * place in the file: the mapped original is never read again by the
 * writer. So a commit of thousands of records, whose random keys land on
 * thousands of leaves (about 4.6 pages a record at a million), holds each
 * page twice, once in the map and once in the heap, and keeping the map's
 * copies up to the budget only adds them to the heap's. Reads of a write
 * transaction therefore give the map back past MAP_WRITE_ROOM over what
 * was resident after the last give-back (mostly the program's own files),
 * not the whole budget; and beside a large heap (MAP_WITH_HEAP) all reads
 * do, down to the same: a catching-up node's peak is its heap and a few
 * MiB of the map, rather than its heap and the budget.
 *
 * LMDB does not say where its map is (mdb_env_info's me_mapaddr is only set
 * for MDB_FIXEDMAP), so it is looked up in /proc/self/maps: the mapping of
 * data.mdb's inode from offset 0, exactly as long as the map. Without a
 * match (no /proc, a file system that shows other inode numbers) nothing is
 * given back, which costs memory, never data.
 */
#include "store.h"

#include <fcntl.h>
#include <stdio.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "store_keys.h"

/* The budget's arithmetic: after a look at the resident size, the next one
 * comes when the reads since could have filled the room left under the
 * budget, each read faulting in MAP_READ_FAULTS pages of the largest folio
 * (a cold B-tree leaf and a branch above it), but at least MAP_EVERY_MIN
 * and at most MAP_EVERY_MAX reads later. A look costs a pread() of
 * /proc/self/statm, about 2 us; with the budget's room after a give-back
 * that is one look every 6 reads or so. */
#define MAP_READ_FAULTS 2
#define MAP_EVERY_MIN   4
#define MAP_EVERY_MAX   64
/* The map's pages a write transaction may add before they are given back
 * (mu_store__map_write): two looks' worth of the largest folios. */
#define MAP_WRITE_ROOM ((size_t)8 << 20)
/* A process whose heap has grown keeps less of the map: past this much of
 * heap and map together, the map is given back, down to MAP_WRITE_ROOM
 * over the floor.
 * A node catching up a million records holds 65-70 MiB of heap (LMDB's
 * dirty pages of its largest commit, kept for the next, and the records
 * waiting for a commit): with the whole budget on top it peaked at
 * 96-104 MiB. A serving node's heap stays far below, and its budget
 * whole. */
#define MAP_WITH_HEAP ((size_t)80 << 20)

/* Bytes of file-backed memory resident in this process (the "shared" field
 * of /proc/self/statm: the map and the program's own files), or 0 when
 * unknown; *anon (may be NULL) the rest of the resident size: the heap and
 * the stacks. */
static size_t
resident(const struct mu_store *st, size_t *anon)
{
	unsigned long size, res, shared;
	size_t page = (size_t)sysconf(_SC_PAGESIZE);
	char buf[128];
	ssize_t n = pread(st->statm_fd, buf, sizeof(buf) - 1, 0);

	if (anon != NULL)
		*anon = 0;
	if (n <= 0)
		return 0;
	buf[n] = '\0';
	if (sscanf(buf, "%lu %lu %lu", &size, &res, &shared) != 3)
		return 0;
	if (anon != NULL && res > shared)
		*anon = (size_t)(res - shared) * page;
	return (size_t)shared * page;
}

void
mu_store__map_init(struct mu_store *st)
{
	pthread_mutex_init(&st->map_mu, NULL);
	st->statm_fd = -1;
}

int
mu_store_set_map_budget(struct mu_store *st, size_t bytes)
{
	int err = 0;

	pthread_mutex_lock(&st->map_mu);
	st->map_budget = 0;
	st->map_left = 0;
	if (bytes > 0 && st->statm_fd < 0)
		st->statm_fd = open("/proc/self/statm", O_RDONLY | O_CLOEXEC);
	if (bytes > 0 && st->statm_fd >= 0) {
		st->map_budget = bytes;
		st->map_floor = resident(st, NULL);
	} else if (bytes > 0)
		err = MU_EIO;
	pthread_mutex_unlock(&st->map_mu);
	return err;
}

void
mu_store__map_fini(struct mu_store *st)
{
	if (st->statm_fd >= 0)
		close(st->statm_fd);
	pthread_mutex_destroy(&st->map_mu);
}

/* The most one fault maps: a folio as large as one page table maps. */
static size_t
fault_max(void)
{
	size_t page = (size_t)sysconf(_SC_PAGESIZE);

	return page * (page / sizeof(void *));
}

/* Where the map of len bytes starts: 0, or MU_ENOTFOUND/MU_EIO. */
static int
find_map(struct mu_store *st, size_t len, void **base)
{
	unsigned long long lo, hi, off, ino;
	mdb_filehandle_t fd;
	struct stat sb;
	char line[4352];
	FILE *f;
	int err = MU_ENOTFOUND;

	if (mdb_env_get_fd(st->env, &fd) != 0 || fstat(fd, &sb) != 0 ||
	    (f = fopen("/proc/self/maps", "re")) == NULL)
		return MU_EIO;
	/* start-end perms offset dev inode [path] */
	while (err != 0 && fgets(line, sizeof(line), f) != NULL)
		if (sscanf(line, "%llx-%llx %*s %llx %*s %llu", &lo, &hi, &off, &ino) ==
		        4 &&
		    ino == (unsigned long long)sb.st_ino && off == 0 &&
		    hi - lo == len) {
			*base = (void *)(uintptr_t)lo;
			err = 0;
		}
	fclose(f);
	return err;
}

/* Gives the map's pages back. Called with map_mu held and a transaction of
 * this process open: LMDB moves the map only when none is (mu_store__begin,
 * which forgets map_base then). */
static int
give_back(struct mu_store *st)
{
	MDB_envinfo info;
	unsigned flags = 0;
	int err = 0;

	/* With MDB_WRITEMAP the map would hold a write's pages before they
	 * reach the file: never drop those. The store does not use it. */
	if (mdb_env_get_flags(st->env, &flags) != 0 || (flags & MDB_WRITEMAP) != 0)
		return MU_EINVAL;
	if (mdb_env_info(st->env, &info) != 0)
		return MU_EIO;
	if (st->map_base == NULL || st->map_len != info.me_mapsize)
		err = find_map(st, info.me_mapsize, &st->map_base);
	if (err != 0) {
		st->map_base = NULL;
		return err;
	}
	st->map_len = info.me_mapsize;
	return madvise(st->map_base, st->map_len, MADV_DONTNEED) != 0 ? MU_EIO : 0;
}

/* n reads of the map; past the limit (the budget, or less for a write or
 * beside a large heap) the map is given back. */
static void
count_reads(struct mu_store *st, size_t n, bool write)
{
	size_t rss, anon, lo, limit, room, every;

	if (st->map_budget == 0)
		return;
	pthread_mutex_lock(&st->map_mu);
	if (st->map_left > n) {
		st->map_left -= n;
		goto out;
	}
	rss = resident(st, &anon);
	/* Never below MAP_WRITE_ROOM over the floor: the program's own files
	 * alone would have the map given back at every look. */
	lo = st->map_floor + MAP_WRITE_ROOM < st->map_budget
	         ? st->map_floor + MAP_WRITE_ROOM
	         : st->map_budget;
	limit = write ? lo : st->map_budget;
	if (anon + limit > MAP_WITH_HEAP)
		limit = anon + lo < MAP_WITH_HEAP ? MAP_WITH_HEAP - anon : lo;
	/* A failure leaves the pages mapped: memory, never data. */
	if (rss > limit && give_back(st) == 0)
		st->map_floor = rss = resident(st, NULL);
	room = rss < limit ? limit - rss : 0;
	every = room / (MAP_READ_FAULTS * fault_max());
	if (every < MAP_EVERY_MIN)
		every = MAP_EVERY_MIN;
	st->map_left = every < MAP_EVERY_MAX ? every : MAP_EVERY_MAX;
out:
	pthread_mutex_unlock(&st->map_mu);
}

void
mu_store__map_read(struct mu_store *st, size_t n)
{
	count_reads(st, n, false);
}

void
mu_store__map_write(struct mu_store *st, size_t n)
{
	count_reads(st, n, true);
}

int
mu_store__release_map_in(struct mu_store *st)
{
	int err;

	pthread_mutex_lock(&st->map_mu);
	err = give_back(st);
	pthread_mutex_unlock(&st->map_mu);
	return err;
}

int
mu_store_release_map(struct mu_store *st)
{
	MDB_txn *txn;
	int err;

	if ((err = mu_store__begin(st, false, &txn, NULL)) != 0)
		return err;
	err = mu_store__release_map_in(st);
	mdb_txn_abort(txn);
	return err;
}
