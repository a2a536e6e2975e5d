/*
 * store_map.c - giving back the pages of the store's memory map after bulk
 * reads (store.h, mu_store_release_map).
 *
 * LMDB reads through a shared, read-only mapping of data.mdb. Every page a
 * read touches stays mapped, and counted in the process's resident size,
 * until the map goes; on each fault the kernel's fault-around maps up to 16
 * neighbouring pages of the page cache too. A node that reconciles and sends
 * records all day would so end up with the whole file resident, although it
 * holds none of it. Dropping the mappings costs one minor fault per page
 * read again.
 *
 * LMDB does not say where its map is (mdb_env_info's me_mapaddr is only set
 * for MDB_FIXEDMAP), so it is looked up in /proc/self/maps: the mapping of
 * data.mdb's inode from offset 0, exactly as long as the map. Without a
 * match (no /proc, a file system that shows other inode numbers) nothing is
 * given back, which costs memory, never data.
 */
#include "store.h"

#include <stdio.h>
#include <sys/mman.h>
#include <sys/stat.h>

#include "store_keys.h"

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

int
mu_store__release_map_in(struct mu_store *st)
{
	MDB_envinfo info;
	unsigned flags = 0;
	int err = 0;

	/* With MDB_WRITEMAP the map would hold a write's pages before they
	 * reach the file: never drop those. The store does not use it. */
	if (mdb_env_get_flags(st->env, &flags) != 0 || (flags & MDB_WRITEMAP) != 0)
		return MU_EINVAL;
	if (mdb_env_info(st->env, &info) != 0)
		err = MU_EIO;
	else if (st->map_base == NULL || st->map_len != info.me_mapsize)
		err = find_map(st, info.me_mapsize, &st->map_base);
	if (err == 0) {
		st->map_len = info.me_mapsize;
		if (madvise(st->map_base, st->map_len, MADV_DONTNEED) != 0)
			err = MU_EIO;
	} else {
		st->map_base = NULL;
	}
	return err;
}

int
mu_store_release_map(struct mu_store *st)
{
	MDB_txn *txn;
	int err;

	/* Inside a read transaction, like any reader: LMDB moves the map only
	 * when no transaction of this process is open (mu_store__begin, which
	 * forgets map_base then). */
	if ((err = mu_store__begin(st, false, &txn, NULL)) != 0)
		return err;
	err = mu_store__release_map_in(st);
	mdb_txn_abort(txn);
	return err;
}
