/*
 * rm_tree.h - removing a test's temporary directory and all below it, for
 * the unit tests and the fuzz harness. A file that includes it defines
 * _XOPEN_SOURCE 700 (for nftw) before its first system header.
 */
#ifndef MU_TEST_RM_TREE_H
#define MU_TEST_RM_TREE_H

#include <ftw.h>
#include <stdio.h>

static inline int
rm_tree_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void)sb;
	(void)flag;
	(void)ftw;
	return remove(path);
}

/* Removes dir's tree, children first, without following links. */
static inline void
rm_tree(const char *dir)
{
	nftw(dir, rm_tree_entry, 16, FTW_DEPTH | FTW_PHYS);
}

#endif
