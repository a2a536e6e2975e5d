/*
 * Pledges in calendars (calendar.h, mu_cal_pledges_ics): one VEVENT per
 * pledge, TENTATIVE until it triggers and CONFIRMED after (docs/API.md,
 * "iCalendar feeds"), so that a person's calendar shows whether the action
 * is on. A pledge whose deadline passed without triggering is CANCELLED.
 */
#include <stdio.h>
#include <string.h>

#include "../protocol/ical.h"
#include "../protocol/textform.h"
#include "acts.h"
#include "acts_json.h"
#include "calendar.h"

#define PLEDGE_LENGTH (2 * 3600) /* an action with a start and no end */

static int
write_pledge(struct mu_store *st, struct mu_ical *w, const struct mu_record *rec,
             const char *page_base, int64_t now)
{
	const struct mu_pledge *p = &rec->c.pledge;
	char key[MU_KEY_TEXT_SIZE], addr[MU_ADDR_TEXT_SIZE], num[64];
	struct mu_pledge_state s;
	const char *word;
	struct mu_addr a;
	int64_t start;
	int rc;

	mu_rec_addr(rec, &a);
	if ((rc = mu_node_acts_pledge(st, &a, &s)) != 0)
		return rc;
	word = mu_node_pledge_word(s.triggered, p->deadline, now);
	mu_key_to_text(key, rec->group);
	mu_addr_to_text(addr, &a);
	mu_ical_prop_raw(w, "BEGIN", "VEVENT");
	mu_ical_begin(w, "UID");
	mu_ical_raw(w, rec->d.ptr, rec->d.len);
	mu_ical_raw(w, ".pledge@", 8);
	mu_ical_raw(w, key, strlen(key));
	mu_ical_end(w);
	mu_ical_prop_utc(w, "DTSTAMP", rec->created_at);
	/* The trigger changes what the entry says without a new revision:
	 * it counts as one, once, so that calendars take the new status. */
	snprintf(num, sizeof(num), "%llu",
	         (unsigned long long)rec->rev + (strcmp(word, "open") != 0));
	mu_ical_prop_raw(w, "SEQUENCE", num);
	start = p->has_start ? p->start : p->deadline;
	mu_ical_prop_utc(w, "DTSTART", start);
	mu_ical_prop_utc(w, "DTEND",
	                 p->has_end     ? p->end
	                 : p->has_start ? start + PLEDGE_LENGTH
	                                : start);
	mu_ical_prop_text(w, "SUMMARY", p->title.ptr, p->title.len);
	snprintf(num, sizeof(num), "%llu of %u %s pledged (%s)",
	         (unsigned long long)s.total, p->threshold,
	         mu_pledge_unit_name(p->unit), word);
	mu_ical_begin(w, "DESCRIPTION");
	mu_ical_text(w, num, strlen(num));
	if (p->text.len > 0) {
		mu_ical_text(w, "\n\n", 2);
		mu_ical_text(w, p->text.ptr, p->text.len);
	}
	mu_ical_end(w);
	if (page_base != NULL) {
		mu_ical_begin(w, "URL");
		mu_ical_raw(w, page_base, strlen(page_base));
		mu_ical_raw(w, "/pledges/", 9);
		mu_ical_raw(w, addr, strlen(addr));
		mu_ical_end(w);
	}
	mu_ical_prop_raw(w, "STATUS",
	                 s.triggered                   ? "CONFIRMED"
	                 : strcmp(word, "failed") == 0 ? "CANCELLED"
	                                               : "TENTATIVE");
	return mu_ical_prop_raw(w, "END", "VEVENT");
}

static bool
pledge_passes(const struct mu_cal_filter *f, const struct mu_record *rec)
{
	const struct mu_pledge *p = &rec->c.pledge;
	const struct mu_addr *c = f->cause;
	int64_t start = p->has_start ? p->start : p->deadline;
	int64_t end = p->has_end     ? p->end
	              : p->has_start ? start + PLEDGE_LENGTH
	                             : start;

	if (c != NULL && !(p->has_cause && p->cause.kind == c->kind &&
	                   memcmp(p->cause.group, c->group, MU_KEY_BYTES) == 0 &&
	                   p->cause.d.len == c->d.len &&
	                   memcmp(p->cause.d.ptr, c->d.ptr, c->d.len) == 0))
		return false;
	if (mu_outside_has(f->outside, rec->group, NULL))
		return false;
	/* An entry without length is at its start. */
	if (end < f->from || start >= f->to || (end > start && end == f->from))
		return false;
	return f->group == NULL || memcmp(rec->group, f->group, MU_KEY_BYTES) == 0;
}

int
mu_cal_write_pledge(struct mu_store *st, struct mu_ical *w,
                    const struct mu_cal_filter *f, const struct mu_record *rec,
                    bool *written)
{
	*written = pledge_passes(f, rec);
	return *written ? write_pledge(st, w, rec, f->page_base, f->now) : 0;
}

int
mu_cal_pledges_passed(struct mu_store *st, int64_t now, uint64_t *n)
{
	struct mu_node_recs v;
	size_t i;
	int rc;

	*n = 0;
	if ((rc = mu_node_recs_list(st, MU_KIND_PLEDGE, NULL, &v)) == 0)
		for (i = 0; i < v.n; i++)
			*n += v.recs[i].c.pledge.deadline < now;
	mu_node_recs_free(&v);
	return rc;
}

int
mu_cal_pledges_ics(struct mu_store *st, const struct mu_addr *one, const char *name,
                   const char *page_base, int64_t now, struct mu_buf *out)
{
	struct mu_node_recs v;
	struct mu_ical w;
	size_t i;
	int rc;

	if (one != NULL) {
		memset(&v, 0, sizeof(v));
		rc = mu_store_get_addr(st, one, mu_node_recs_add, &v);
		if (rc == 0)
			rc = v.err;
	} else {
		rc = mu_node_recs_list(st, MU_KIND_PLEDGE, NULL, &v);
	}
	if (rc != 0)
		goto out;
	mu_ical_init(&w, out);
	mu_cal_write_header(&w, name);
	for (i = 0; rc == 0 && i < v.n; i++)
		rc = write_pledge(st, &w, &v.recs[i], page_base, now);
	if (rc == 0)
		rc = mu_ical_prop_raw(&w, "END", "VCALENDAR");
	if (mu_ical_finish(&w) != 0 && rc == 0)
		rc = MU_ENOMEM;
out:
	mu_node_recs_free(&v);
	return rc;
}
