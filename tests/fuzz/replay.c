/*
 * replay - runs a fuzz target's code on the files given (or on every file
 * of the directories given), without libFuzzer: the seed corpus, and any
 * crashing input kept in it, become a regression test of the ordinary build
 * (ctest fuzz_replay_<target>, under the sanitizers in `make asan`).
 */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "fuzz_common.h"

static int
run_file(const char *path)
{
	uint8_t *buf;
	long n;
	FILE *f = fopen(path, "rb");

	if (f == NULL || fseek(f, 0, SEEK_END) != 0 || (n = ftell(f)) < 0 ||
	    fseek(f, 0, SEEK_SET) != 0) {
		fprintf(stderr, "replay: cannot read %s\n", path);
		if (f != NULL)
			fclose(f);
		return 1;
	}
	buf = malloc(n > 0 ? (size_t)n : 1);
	if (buf == NULL || fread(buf, 1, (size_t)n, f) != (size_t)n) {
		fprintf(stderr, "replay: cannot read %s\n", path);
		free(buf);
		fclose(f);
		return 1;
	}
	fclose(f);
	LLVMFuzzerTestOneInput(buf, (size_t)n);
	free(buf);
	return 0;
}

int
main(int argc, char **argv)
{
	char path[4096];
	struct dirent *e;
	struct stat st;
	int files = 0, bad = 0;
	DIR *d;

	LLVMFuzzerInitialize(&argc, &argv);
	for (int i = 1; i < argc; i++) {
		if (stat(argv[i], &st) != 0) {
			fprintf(stderr, "replay: no such file %s\n", argv[i]);
			return 1;
		}
		if (!S_ISDIR(st.st_mode)) {
			bad |= run_file(argv[i]);
			files++;
			continue;
		}
		if ((d = opendir(argv[i])) == NULL)
			return 1;
		while ((e = readdir(d)) != NULL) {
			if (e->d_name[0] == '.')
				continue;
			snprintf(path, sizeof(path), "%s/%s", argv[i], e->d_name);
			bad |= run_file(path);
			files++;
		}
		closedir(d);
	}
	printf("replay: %d inputs\n", files);
	/* A corpus that lost its files would test nothing. */
	return bad || files == 0;
}
