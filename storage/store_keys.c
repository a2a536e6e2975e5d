/*
 * store_keys.c - the byte layout of the store's keys. All multi-byte
 * integers are big-endian so that LMDB's bytewise key order is their
 * numeric order.
 */
#include "store_keys.h"

#include <string.h>

void
mu_store__put_be64(uint8_t out[8], uint64_t v)
{
	for (int i = 7; i >= 0; i--) {
		out[i] = (uint8_t)v;
		v >>= 8;
	}
}

uint64_t
mu_store__get_be64(const uint8_t in[8])
{
	uint64_t v = 0;

	for (int i = 0; i < 8; i++)
		v = v << 8 | in[i];
	return v;
}

size_t
mu_store__addr_key(uint8_t out[MU_STORE__ADDR_KEY_MAX], const struct mu_addr *addr)
{
	size_t dlen = addr->d.len <= MU_D_MAX ? addr->d.len : MU_D_MAX;

	out[0] = (uint8_t)addr->kind;
	memcpy(out + 1, addr->group, MU_KEY_BYTES);
	if (dlen > 0)
		memcpy(out + 1 + MU_KEY_BYTES, addr->d.ptr, dlen);
	return 1 + MU_KEY_BYTES + dlen;
}

size_t
mu_store__addr_prefix(uint8_t out[1 + MU_KEY_BYTES], enum mu_kind kind,
                      const uint8_t *group)
{
	out[0] = (uint8_t)kind;
	if (group == NULL)
		return 1;
	memcpy(out + 1, group, MU_KEY_BYTES);
	return 1 + MU_KEY_BYTES;
}

void
mu_store__time_key(uint8_t out[MU_STORE__TIME_KEY_BYTES], int64_t created_at,
                   const uint8_t id[MU_ID_BYTES])
{
	mu_store__put_be64(out, (uint64_t)created_at);
	memcpy(out + 8, id, MU_ID_BYTES);
}

void
mu_store__group_key(uint8_t out[MU_STORE__GROUP_KEY_BYTES],
                    const uint8_t group[MU_KEY_BYTES], int64_t created_at,
                    const uint8_t id[MU_ID_BYTES])
{
	memcpy(out, group, MU_KEY_BYTES);
	mu_store__time_key(out + MU_KEY_BYTES, created_at, id);
}

void
mu_store__time_val(uint8_t out[MU_STORE__TIME_VAL_BYTES],
                   const uint8_t group[MU_KEY_BYTES], uint64_t seq)
{
	memcpy(out, group, MU_KEY_BYTES);
	mu_store__put_be64(out + MU_KEY_BYTES, seq);
}

void
mu_store__start_key(uint8_t out[MU_STORE__TIME_KEY_BYTES], int64_t start,
                    const uint8_t id[MU_ID_BYTES])
{
	mu_store__put_be64(out, (uint64_t)start ^ (UINT64_C(1) << 63));
	memcpy(out + 8, id, MU_ID_BYTES);
}

int64_t
mu_store__start_of(const uint8_t key[MU_STORE__TIME_KEY_BYTES])
{
	uint64_t u = mu_store__get_be64(key) ^ (UINT64_C(1) << 63);
	int64_t v;

	/* Converting an out-of-range unsigned value to int64_t is
	 * implementation-defined; memcpy says what we mean. */
	memcpy(&v, &u, sizeof(v));
	return v;
}

size_t
mu_store__tomb_addr_key(uint8_t out[MU_STORE__TOMB_KEY_MAX], const struct mu_addr *addr)
{
	out[0] = MU_STORE__TOMB_ADDR;
	return 1 + mu_store__addr_key(out + 1, addr);
}

size_t
mu_store__tomb_id_key(uint8_t out[MU_STORE__TOMB_KEY_MAX],
                      const uint8_t id[MU_ID_BYTES], const uint8_t group[MU_KEY_BYTES])
{
	out[0] = MU_STORE__TOMB_ID;
	memcpy(out + 1, id, MU_ID_BYTES);
	memcpy(out + 1 + MU_ID_BYTES, group, MU_KEY_BYTES);
	return 1 + MU_ID_BYTES + MU_KEY_BYTES;
}

void
mu_store__alliance_d(char out[2 * MU_KEY_BYTES], const uint8_t key[MU_KEY_BYTES])
{
	static const char digits[] = "0123456789abcdef";

	for (size_t i = 0; i < MU_KEY_BYTES; i++) {
		out[2 * i] = digits[key[i] >> 4];
		out[2 * i + 1] = digits[key[i] & 15];
	}
}
