/*
 * civil.h - proleptic Gregorian calendar arithmetic in UTC.
 *
 * Dates and Unix times converted with integer arithmetic only (H. Hinnant's
 * algorithms), so results never depend on the machine's zone or on libc's
 * time_t range. Pure: no clock, no zone database.
 */
#ifndef MU_CIVIL_H
#define MU_CIVIL_H

#include <stdint.h>

/* A UTC date and time of day. */
struct mu_civil {
	int64_t y;
	unsigned mo, d;    /* 1-12, 1-31 */
	unsigned h, mi, s; /* 0-23, 0-59, 0-59 */
};

/* Days since 1970-01-01 of the date y-m-d (m 1-12, d 1-31). */
int64_t mu_civil_days(int64_t y, unsigned m, unsigned d);

/* The date of day z since 1970-01-01. */
void mu_civil_date(int64_t z, int64_t *y, unsigned *m, unsigned *d);

/* The UTC date and time of Unix time t (also before 1970). */
void mu_civil_from_time(struct mu_civil *c, int64_t t);

#endif
