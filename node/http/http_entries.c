/*
 * http_entries.c - taking part through the pages (http.h): the RSVP form of
 * an event page, its post, the receipt page at /r/SECRET with its change
 * and withdraw forms, and the personal feed /r/SECRET/calendar.ics.
 *
 * A post is taken only when (in this order, each refusal a page saying
 * what to do): it comes from a page of this node (its Origin, else its
 * Referer, names the host it was sent to; a client sending neither is no
 * browser and is left to the token), it carries the form token of the page
 * it posts to (protocol/formtoken.h), and, while posting needs the member
 * link (`muster link --require`), the member token. http.c has already
 * counted it against the client's rate and bounded its size.
 *
 * What people enter goes into the entries table only (storage/entries.h):
 * no log line, record or reply other than their own receipt page holds it.
 * The receipt secret is in the path of the receipt; http.c's log lines
 * show "/r/…" instead (mu_http_redact).
 */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "../../protocol/formtoken.h"
#include "../../protocol/textform.h"
#include "../../protocol/utf8.h"
#include "../../storage/entries.h"
#include "../calendar.h"
#include "../acts.h"
#include "../entries.h"
#include "http.h"

#define CAL_TYPE  "text/calendar; charset=utf-8"
#define TITLE_MAX 200 /* bytes of an event title kept for a receipt */

/* --- small pieces ------------------------------------------------------------ */

void
mu_http_redact(char *path)
{
	char *p = strstr(path, "/r/"), *end;

	if (p == NULL)
		return;
	p += 3;
	end = strchr(p, '/');
	if (end == NULL)
		end = p + strlen(p);
	if (end - p < 3) /* room for the 3 bytes of "…" */
		return;
	memcpy(p, "\xe2\x80\xa6", 3);
	memmove(p + 3, end, strlen(end) + 1);
}

int
mu_http_refuse(struct mu_http_reply *rp, unsigned status, const char *fmt, ...)
{
	static const char title[] = "Your form was not taken";
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	mu_buf_free(&rp->body);
	rp->status = status;
	rp->form = MU_HTTP_HTML;
	rp->type = NULL;
	if (mu_html_head(&rp->body, title, strlen(title)) != 0 ||
	    mu_html_fmt(&rp->body,
	                "<h1>%s</h1>\n<p class=\"refusal\" data-status=\"%u\">", title,
	                status) != 0 ||
	    mu_html_str(&rp->body, msg) != 0 ||
	    mu_html_raw(&rp->body, "</p>\n<p><a href=\"/\">The calendar</a></p>\n") !=
	        0 ||
	    mu_html_foot(&rp->body) != 0)
		return MU_ENOMEM;
	return 0;
}

/* Decodes one urlencoded value (n bytes at s) into out (max bytes and a
 * NUL): false when it does not fit or holds a NUL. */
static bool
url_decode(const char *s, size_t n, char *out, size_t max)
{
	size_t i, o = 0;
	unsigned v;

	for (i = 0; i < n; i++) {
		char c = s[i];

		if (c == '+') {
			c = ' ';
		} else if (c == '%') {
			if (i + 2 >= n)
				return false;
			if (sscanf(s + i + 1, "%2x", &v) != 1 || v == 0)
				return false;
			c = (char)v;
			i += 2;
		}
		if (o == max)
			return false;
		out[o++] = c;
	}
	out[o] = '\0';
	return true;
}

/*
 * The value of field name in the posted form, decoded into out: 1 when it
 * is there, 0 when not (out is ""), -1 when it is too long, not UTF-8 text
 * of its kind, or given twice.
 */
static int
field(const struct mu_http_req *rq, const char *name, char *out, size_t max,
      enum mu_utf8_mode mode)
{
	const char *p = rq->body, *end = rq->body + rq->body_len;
	size_t nlen = strlen(name);
	int found = 0;

	out[0] = '\0';
	while (p < end) {
		const char *amp = memchr(p, '&', (size_t)(end - p));
		const char *stop = amp != NULL ? amp : end;
		const char *eq = memchr(p, '=', (size_t)(stop - p));

		if (eq != NULL && (size_t)(eq - p) == nlen &&
		    memcmp(p, name, nlen) == 0) {
			if (found ||
			    !url_decode(eq + 1, (size_t)(stop - eq - 1), out, max))
				return -1;
			found = 1;
		}
		p = stop + 1;
	}
	if (found && mu_utf8_check(out, strlen(out), mode, NULL) != MU_UTF8_OK)
		return -1;
	return found;
}

/* Whether the host part of url (http:// or https://, up to '/') is host. */
static bool
names_host(const char *url, const char *host)
{
	size_t n;

	if (strncmp(url, "http://", 7) == 0)
		url += 7;
	else if (strncmp(url, "https://", 8) == 0)
		url += 8;
	else
		return false;
	n = strcspn(url, "/");
	return n == strlen(host) && strncasecmp(url, host, n) == 0;
}

static bool
same_origin(const struct mu_http_req *rq)
{
	const char *o = rq->origin != NULL ? rq->origin : rq->referer;
	const char *pub = rq->node->opts.public_url;
	char pub_host[MU_HTTP_HOST_SIZE] = "";

	if (o == NULL)
		return true;
	if (pub != NULL) {
		const char *h = strstr(pub, "://");

		if (h != NULL)
			snprintf(pub_host, sizeof(pub_host), "%.*s",
			         (int)strcspn(h + 3, "/"), h + 3);
	}
	return names_host(o, rq->host) ||
	       (pub_host[0] != '\0' && names_host(o, pub_host));
}

/* Whether the request may post (or see the form): posting is open, or it
 * carries the member token (m, from the query or the form). */
static int
member_ok(const struct mu_http_req *rq, const char *m, bool *ok)
{
	bool only;
	int err = mu_store_members_only(rq->node->store, &only);

	*ok = err == 0 && (!only || mu_member_token_ok(rq->form_key, m));
	return err;
}

/* Checks a post's origin, token (bound to page) and member token: 0 when it
 * may go on, 1 with a refusal page, or an error. */
static int
post_checks(const struct mu_http_req *rq, struct mu_http_reply *rp, const char *page)
{
	char token[MU_TOKEN_TEXT_SIZE], m[MU_TOKEN_TEXT_SIZE];
	bool member;
	int err;

	if (!same_origin(rq))
		return mu_http_refuse(rp, 403,
		                      "The form was sent from another web site. Open "
		                      "the page on this node and send the form from "
		                      "there.")
		           ?: 1;
	if (field(rq, "token", token, sizeof(token) - 1, MU_UTF8_LINE) != 1 ||
	    !mu_form_token_ok(rq->form_key, page, rq->now, token))
		return mu_http_refuse(rp, 403,
		                      "The form is out of date or did not come from "
		                      "this page. Reload the page and send the form "
		                      "again.")
		           ?: 1;
	if (field(rq, "m", m, sizeof(m) - 1, MU_UTF8_LINE) < 0)
		m[0] = '\0';
	if ((err = member_ok(rq, m, &member)) != 0)
		return err;
	if (!member)
		return mu_http_refuse(rp, 403,
		                      "Taking part here needs your group's member "
		                      "link. Ask your organizers for it, open the page "
		                      "through it, and send the form again.")
		           ?: 1;
	return 0;
}

/* --- the record an entry is about ------------------------------------------ */

struct event_info {
	bool found;
	enum mu_kind kind;
	char title[TITLE_MAX + 1];
	int64_t end;       /* replies taken until then */
	bool closed;       /* cancelled, or a closed petition */
	bool has_capacity; /* an event's */
	uint32_t capacity;
};

static int
copy_event(void *ctx, const struct mu_record *rec)
{
	struct event_info *ev = ctx;
	const struct mu_str *t;
	size_t n;

	ev->found = true;
	ev->kind = rec->kind;
	ev->end = mu_node_entry_end(rec);
	switch (rec->kind) {
	case MU_KIND_EVENT:
		t = &rec->c.event.title;
		ev->closed = rec->c.event.status == MU_EVENT_CANCELLED;
		ev->has_capacity = rec->c.event.has_capacity;
		ev->capacity = rec->c.event.capacity;
		break;
	case MU_KIND_PETITION:
		t = &rec->c.petition.title;
		ev->closed = rec->c.petition.status == MU_PETITION_CLOSED;
		break;
	case MU_KIND_PLEDGE:
		t = &rec->c.pledge.title;
		break;
	default:
		ev->found = false;
		return 0;
	}
	n = t->len < TITLE_MAX ? t->len : TITLE_MAX;
	memcpy(ev->title, t->ptr, n);
	ev->title[n] = '\0';
	return 0;
}

static int
load_event(const struct mu_http_req *rq, const struct mu_addr *a, struct event_info *ev)
{
	int err;

	memset(ev, 0, sizeof(*ev));
	err = mu_store_get_addr(rq->node->store, a, copy_event, ev);
	return err == MU_ENOTFOUND ? 0 : err;
}

/* The page of a target, for links: "/events/", "/petitions/", "/pledges/". */
static const char *
page_of(enum mu_kind kind)
{
	return kind == MU_KIND_PETITION ? "/petitions/"
	       : kind == MU_KIND_PLEDGE ? "/pledges/"
	                                : "/events/";
}

/* --- the RSVP form ------------------------------------------------------------ */

static int
hidden_tokens(const struct mu_http_req *rq, struct mu_buf *b, const char *page,
              const char *m)
{
	char token[MU_TOKEN_TEXT_SIZE];

	mu_form_token(rq->form_key, page, rq->now, token);
	if (mu_html_fmt(b, "<input type=\"hidden\" name=\"token\" value=\"%s\">\n",
	                token) != 0)
		return MU_ENOMEM;
	if (m != NULL && m[0] != '\0' &&
	    (mu_html_raw(b, "<input type=\"hidden\" name=\"m\" value=\"") != 0 ||
	     mu_html_str(b, m) != 0 || mu_html_raw(b, "\">\n") != 0))
		return MU_ENOMEM;
	return 0;
}

/* The fields of an RSVP, filled from e (NULL: a new one). */
static int
rsvp_fields(struct mu_buf *b, const struct mu_entry *e)
{
	bool going = e == NULL || e->going;

	if (mu_html_fmt(b,
	                "<fieldset><legend>Will you come?</legend>"
	                "<label><input type=\"radio\" name=\"going\" value=\"yes\"%s> "
	                "Going</label> <label><input type=\"radio\" name=\"going\" "
	                "value=\"no\"%s> Not going</label></fieldset>\n"
	                "<label>People (you included) <input type=\"number\" "
	                "name=\"party\" min=\"1\" max=\"%d\" value=\"%u\"></label>\n"
	                "<label>Name (optional) <input name=\"name\" "
	                "maxlength=\"%d\" value=\"",
	                going ? " checked" : "", going ? "" : " checked",
	                MU_ENTRY_PARTY_MAX, e != NULL ? (unsigned)e->party : 1u,
	                MU_ENTRY_NAME_MAX) != 0 ||
	    mu_html_str(b, e != NULL ? e->name : "") != 0 ||
	    mu_html_fmt(b,
	                "\"></label>\n<label>Contact, for the organizers (optional) "
	                "<input name=\"contact\" maxlength=\"%d\" value=\"",
	                MU_ENTRY_CONTACT_MAX) != 0 ||
	    mu_html_str(b, e != NULL ? e->contact : "") != 0 ||
	    mu_html_raw(b, "\"></label>\n") != 0)
		return MU_ENOMEM;
	return 0;
}

static int
privacy_note(const struct mu_http_req *rq, struct mu_buf *b)
{
	return mu_html_fmt(b,
	                   "<p class=\"note\">Only this group's node keeps what you "
	                   "enter, for its organizers; other groups see counts "
	                   "only. It is deleted %u days after the event.</p>\n",
	                   rq->node->opts.keep_entries_days);
}

int
mu_http_rsvp_form(const struct mu_http_req *rq, struct mu_buf *b,
                  const struct mu_record *rec)
{
	const struct mu_event *e = &rec->c.event;
	const char *m = mu_http_arg(rq, "m");
	bool member;
	int err;

	if (e->status == MU_EVENT_CANCELLED || mu_node_entry_end(rec) <= rq->now)
		return 0;
	if ((err = member_ok(rq, m, &member)) != 0)
		return err;
	if (!member)
		return mu_html_raw(b,
		                   "<p class=\"note members-only\">Replies go "
		                   "through the member link your group shared.</p>\n");
	if (mu_html_raw(b, "<section class=\"take-part\">\n<h2>Take part</h2>\n"
	                   "<form method=\"post\" action=\"") != 0 ||
	    mu_html_str(b, rq->path) != 0 || mu_html_raw(b, "\">\n") != 0 ||
	    hidden_tokens(rq, b, rq->path, member && m != NULL ? m : NULL) != 0 ||
	    rsvp_fields(b, NULL) != 0 ||
	    mu_html_raw(b, "<button type=\"submit\">Send</button>\n</form>\n") != 0 ||
	    privacy_note(rq, b) != 0 || mu_html_raw(b, "</section>\n") != 0)
		return MU_ENOMEM;
	return 0;
}

/* The fields of a signature or a pledge, filled from e (NULL: new). */
static int
act_fields(struct mu_buf *b, enum mu_entry_type type, const struct mu_entry *e)
{
	if (mu_html_fmt(b,
	                "<label>Name (optional) <input name=\"name\" maxlength=\"%d\" "
	                "value=\"",
	                MU_ENTRY_NAME_MAX) != 0 ||
	    mu_html_str(b, e != NULL ? e->name : "") != 0 ||
	    mu_html_raw(b, "\"></label>\n") != 0)
		return MU_ENOMEM;
	if (type == MU_ENTRY_SIGNATURE &&
	    mu_html_fmt(
	        b,
	        "<label><input type=\"checkbox\" name=\"show\" value=\"yes\"%s> "
	        "Show my name publicly, to every group of the coalition "
	        "(at most %d bytes of it)</label>\n",
	        e != NULL && e->show_name ? " checked" : "", MU_NAME_MAX) != 0)
		return MU_ENOMEM;
	if (mu_html_fmt(b,
	                "<label>Contact, for the organizers (optional) <input "
	                "name=\"contact\" maxlength=\"%d\" value=\"",
	                MU_ENTRY_CONTACT_MAX) != 0 ||
	    mu_html_str(b, e != NULL ? e->contact : "") != 0 ||
	    mu_html_raw(b, "\"></label>\n") != 0)
		return MU_ENOMEM;
	if (type == MU_ENTRY_SIGNATURE &&
	    (mu_html_fmt(b,
	                 "<label>Comment, for the organizers (optional) <textarea "
	                 "name=\"comment\" maxlength=\"%d\">",
	                 MU_ENTRY_COMMENT_MAX) != 0 ||
	     mu_html_str(b, e != NULL ? e->comment : "") != 0 ||
	     mu_html_raw(b, "</textarea></label>\n") != 0))
		return MU_ENOMEM;
	return 0;
}

static enum mu_entry_type
type_of(enum mu_kind kind)
{
	return kind == MU_KIND_PETITION ? MU_ENTRY_SIGNATURE
	       : kind == MU_KIND_PLEDGE ? MU_ENTRY_PLEDGE
	                                : MU_ENTRY_RSVP;
}

int
mu_http_act_form(const struct mu_http_req *rq, struct mu_buf *b,
                 const struct mu_record *rec)
{
	enum mu_entry_type type = type_of(rec->kind);
	const char *m = mu_http_arg(rq, "m");
	struct event_info ev = {0};
	char addr[MU_ADDR_TEXT_SIZE], path[MU_ADDR_TEXT_SIZE + 16];
	struct mu_addr a;
	bool member;
	int err;

	copy_event(&ev, rec);
	if (type == MU_ENTRY_RSVP || ev.closed || ev.end <= rq->now)
		return 0;
	if ((err = member_ok(rq, m, &member)) != 0)
		return err;
	if (!member)
		return mu_html_raw(b,
		                   "<p class=\"note members-only\">Taking part goes "
		                   "through the member link your group shared.</p>\n");
	mu_rec_addr(rec, &a);
	mu_addr_to_text(addr, &a);
	snprintf(path, sizeof(path), "%s%s", page_of(rec->kind), addr);
	if (mu_html_fmt(b,
	                "<section class=\"take-part\">\n<h2>%s</h2>\n<form "
	                "method=\"post\" action=\"",
	                type == MU_ENTRY_SIGNATURE
	                    ? "Sign"
	                    : "Count me in if enough others are") != 0 ||
	    mu_html_str(b, path) != 0 || mu_html_raw(b, "\">\n") != 0 ||
	    hidden_tokens(rq, b, path, m != NULL && m[0] != '\0' ? m : NULL) != 0 ||
	    act_fields(b, type, NULL) != 0 ||
	    mu_html_fmt(b, "<button type=\"submit\">%s</button>\n</form>\n",
	                type == MU_ENTRY_SIGNATURE ? "Sign" : "Pledge") != 0 ||
	    mu_html_fmt(b,
	                "<p class=\"note\">Only this group's node keeps what you "
	                "enter, for its organizers; other groups see counts%s "
	                "only. It is deleted %u days after the deadline.</p>\n",
	                type == MU_ENTRY_SIGNATURE ? " and the names shown" : "",
	                rq->node->opts.keep_entries_days) != 0 ||
	    mu_html_raw(b, "</section>\n") != 0)
		return MU_ENOMEM;
	return 0;
}

/* Reads the fields of a signature or pledge; 1 with a refusal page. */
static int
read_act(const struct mu_http_req *rq, struct mu_http_reply *rp, struct mu_entry *e)
{
	char show[8];

	e->party = 1;
	e->going = true;
	if (field(rq, "name", e->name, MU_ENTRY_NAME_MAX, MU_UTF8_LINE) < 0 ||
	    field(rq, "contact", e->contact, MU_ENTRY_CONTACT_MAX, MU_UTF8_LINE) < 0 ||
	    field(rq, "comment", e->comment, MU_ENTRY_COMMENT_MAX, MU_UTF8_TEXT) < 0)
		return mu_http_refuse(rp, 400,
		                      "A name may have at most %d bytes, a contact %d "
		                      "(both on one line) and a comment %d. Shorten it "
		                      "and send the form again.",
		                      MU_ENTRY_NAME_MAX, MU_ENTRY_CONTACT_MAX,
		                      MU_ENTRY_COMMENT_MAX)
		           ?: 1;
	e->show_name = e->type == MU_ENTRY_SIGNATURE &&
	               field(rq, "show", show, sizeof(show) - 1, MU_UTF8_LINE) == 1 &&
	               strcmp(show, "yes") == 0;
	if (e->show_name && e->name[0] == '\0')
		return mu_http_refuse(rp, 400,
		                      "To show your name, give it; or leave \"show my "
		                      "name\" unticked.")
		           ?: 1;
	return 0;
}

/* Reads the RSVP fields of a post into e: 1 with a refusal page when one is
 * wrong, else 0. */
static int
read_rsvp(const struct mu_http_req *rq, struct mu_http_reply *rp, struct mu_entry *e)
{
	char going[8], party[8];
	char *end;
	unsigned long n = 1;

	if (field(rq, "going", going, sizeof(going) - 1, MU_UTF8_LINE) != 1 ||
	    (strcmp(going, "yes") != 0 && strcmp(going, "no") != 0))
		return mu_http_refuse(rp, 400,
		                      "Say whether you are going or not (going=yes or "
		                      "going=no), then send the form again.")
		           ?: 1;
	e->going = strcmp(going, "yes") == 0;
	if (field(rq, "party", party, sizeof(party) - 1, MU_UTF8_LINE) == 1 &&
	    party[0] != '\0') {
		n = strtoul(party, &end, 10);
		if (*end != '\0' || n < 1 || n > MU_ENTRY_PARTY_MAX)
			return mu_http_refuse(rp, 400,
			                      "The number of people must be 1 to %d. "
			                      "Correct it and send the form again.",
			                      MU_ENTRY_PARTY_MAX)
			           ?: 1;
	}
	e->party = (uint32_t)n;
	if (field(rq, "name", e->name, MU_ENTRY_NAME_MAX, MU_UTF8_LINE) < 0 ||
	    field(rq, "contact", e->contact, MU_ENTRY_CONTACT_MAX, MU_UTF8_LINE) < 0)
		return mu_http_refuse(rp, 400,
		                      "A name may have at most %d bytes and a contact "
		                      "%d, on one line. Shorten it and send the form "
		                      "again.",
		                      MU_ENTRY_NAME_MAX, MU_ENTRY_CONTACT_MAX)
		           ?: 1;
	return 0;
}

/* --- the receipt page --------------------------------------------------------- */

static const char *
place_text(const struct mu_node_place *pl)
{
	switch (pl->state) {
	case MU_PLACE_NOT_GOING:
		return "Not going.";
	case MU_PLACE_CONFIRMED:
		return "Going: you have a place.";
	case MU_PLACE_WAITLISTED:
		return "Going: on the waiting list. If a place frees up, it is "
		       "yours in turn, and your calendar feed below turns "
		       "confirmed.";
	case MU_PLACE_PENDING:
		break;
	}
	return "Going: waiting for the host's count of places.";
}

static const char *
place_class(const struct mu_node_place *pl)
{
	static const char *const names[] = {"not-going", "confirmed", "waitlisted",
	                                    "pending"};

	return names[pl->state];
}

/* The status line of a signature or a pledge: its text and class. */
static int
act_status(const struct mu_http_req *rq, const struct mu_entry *e, const char **text,
           const char **cls, bool *triggered)
{
	struct mu_pledge_state ps;
	int err;

	*triggered = false;
	if (e->type == MU_ENTRY_SIGNATURE) {
		*cls = "signed";
		*text = e->show_name ? "Signed. Your name is shown publicly."
		                     : "Signed. Your name is not shown.";
		return 0;
	}
	err = mu_node_acts_pledge(rq->node->store, &e->target, &ps);
	if (err != 0 && err != MU_ENOTFOUND)
		return err;
	*triggered = err == 0 && ps.triggered;
	*cls = *triggered ? "triggered" : "below";
	*text = *triggered ? "Pledged: the threshold is reached, it is on."
	                   : "Pledged: waiting for the threshold to be reached by "
	                     "the deadline.";
	return 0;
}

/* The receipt page of entry e with receipt text r; lead is a first line
 * ("Thank you", NULL: none). */
static int
receipt_page(const struct mu_http_req *rq, struct mu_http_reply *rp,
             const struct mu_entry *e, const char *r, const char *lead)
{
	char page[8 + MU_RECEIPT_TEXT_SIZE], addr[MU_ADDR_TEXT_SIZE];
	struct mu_buf *b = &rp->body;
	struct mu_node_place pl;
	struct event_info ev;
	const char *text, *cls;
	bool triggered;
	int err;

	snprintf(page, sizeof(page), "/r/%s", r);
	if ((err = load_event(rq, &e->target, &ev)) != 0)
		return err;
	if (e->type == MU_ENTRY_RSVP) {
		if ((err = mu_node_place_of(rq->node, e, ev.has_capacity, &pl)) != 0)
			return err;
		text = place_text(&pl);
		cls = place_class(&pl);
	} else if ((err = act_status(rq, e, &text, &cls, &triggered)) != 0) {
		return err;
	}
	mu_addr_to_text(addr, &e->target);
	rp->status = 200;
	rp->form = MU_HTTP_HTML;
	if (mu_html_head(b, "Your reply", strlen("Your reply")) != 0 ||
	    (lead != NULL &&
	     (mu_html_raw(b, "<p class=\"lead\">") != 0 || mu_html_str(b, lead) != 0 ||
	      mu_html_raw(b, "</p>\n") != 0)) ||
	    mu_html_fmt(b, "<h1>Your reply: <a href=\"%s", page_of(e->target.kind)) !=
	        0 ||
	    mu_html_str(b, addr) != 0 || mu_html_raw(b, "\">") != 0 ||
	    mu_html_str(b, ev.found ? ev.title : "no longer stored here") != 0 ||
	    mu_html_fmt(b, "</a></h1>\n<p class=\"status %s\">", cls) != 0 ||
	    mu_html_str(b, text) != 0)
		return MU_ENOMEM;
	if (e->type == MU_ENTRY_RSVP &&
	    mu_html_fmt(b, " (%u %s)", (unsigned)e->party,
	                e->party == 1 ? "person" : "people") != 0)
		return MU_ENOMEM;
	if (mu_html_raw(b, "</p>\n<p class=\"keep\">Keep this page's address private: "
	                   "whoever has it can see and change your reply.") != 0 ||
	    (e->type != MU_ENTRY_SIGNATURE &&
	     mu_html_fmt(b,
	                 " <a class=\"ics\" href=\"%s/calendar.ics\">Your calendar "
	                 "feed</a> shows it as tentative %s, confirmed once %s.",
	                 page,
	                 e->type == MU_ENTRY_RSVP ? "while you wait for a place"
	                                          : "until the threshold is reached",
	                 e->type == MU_ENTRY_RSVP ? "you have one" : "it is") != 0) ||
	    mu_html_raw(b, "</p>\n") != 0 ||
	    mu_html_fmt(b, "<form method=\"post\" action=\"%s\">\n<h2>Change</h2>\n",
	                page) != 0 ||
	    hidden_tokens(rq, b, page, NULL) != 0 ||
	    (e->type == MU_ENTRY_RSVP ? rsvp_fields(b, e)
	                              : act_fields(b, e->type, e)) != 0 ||
	    mu_html_raw(b, "<button type=\"submit\">Save</button>\n</form>\n") != 0 ||
	    mu_html_fmt(b, "<form method=\"post\" action=\"%s/withdraw\">\n", page) !=
	        0 ||
	    hidden_tokens(rq, b, page, NULL) != 0 ||
	    mu_html_raw(b, "<button type=\"submit\" name=\"withdraw\" "
	                   "value=\"yes\">Withdraw</button>\n</form>\n") != 0 ||
	    mu_html_fmt(b,
	                "<p class=\"note\">Only this group's node keeps what you "
	                "entered. It is deleted %u days after the %s.</p>\n",
	                rq->node->opts.keep_entries_days,
	                e->type == MU_ENTRY_RSVP ? "event" : "deadline") != 0 ||
	    mu_html_foot(b) != 0)
		return MU_ENOMEM;
	return 0;
}

/* The personal feed: the event's own VEVENT with the person's status; a
 * pledge's entry, TENTATIVE until it triggers. */
static int
receipt_feed(const struct mu_http_req *rq, struct mu_http_reply *rp,
             const struct mu_entry *e)
{
	struct mu_node_place pl;
	struct event_info ev;
	struct mu_why why = {0};
	const char *status;
	char *p, *eol;
	int err;

	if (e->type == MU_ENTRY_SIGNATURE)
		return mu_http_refuse(rp, 404, "A signature has no calendar feed.");
	if (e->type == MU_ENTRY_PLEDGE) {
		err = mu_cal_pledges_ics(rq->node->store, &e->target, "Pledge",
		                         rq->node->opts.public_url, rq->now, &rp->body);
		if (err == MU_ENOTFOUND)
			return mu_http_refuse(rp, 404,
			                      "The pledge is no longer stored here.");
		if (err != 0)
			return err;
		rp->status = 200;
		rp->form = MU_HTTP_ICS;
		rp->type = CAL_TYPE;
		return 0;
	}
	if ((err = load_event(rq, &e->target, &ev)) != 0 ||
	    (err = mu_node_place_of(rq->node, e, ev.has_capacity, &pl)) != 0)
		return err;
	err = mu_cal_event_ics(rq->node->store, &e->target, rq->node->opts.public_url,
	                       &rp->body, &why);
	if (err == MU_ENOTFOUND)
		return mu_http_fail(rp, 404,
		                    "the event of this reply is no longer stored here");
	if (err != 0)
		return err;
	status = pl.state == MU_PLACE_CONFIRMED   ? "CONFIRMED"
	         : pl.state == MU_PLACE_NOT_GOING ? "CANCELLED"
	                                          : "TENTATIVE";
	/* The feed holds one event: its STATUS line says the event's own
	 * state, which a cancelled event keeps. */
	if (mu_buf_push(&rp->body, '\0') != 0)
		return MU_ENOMEM;
	rp->body.len--;
	p = strstr((char *)rp->body.data, "\r\nSTATUS:");
	if (p != NULL && !ev.closed) {
		p += 9;
		eol = strstr(p, "\r\n");
		if (eol != NULL) {
			size_t tail =
			    rp->body.len - (size_t)(eol - (char *)rp->body.data);
			size_t at = (size_t)(p - (char *)rp->body.data);
			struct mu_buf nb = MU_BUF_INIT;

			if (mu_buf_append(&nb, rp->body.data, at) != 0 ||
			    mu_buf_append(&nb, status, strlen(status)) != 0 ||
			    mu_buf_append(&nb, eol, tail) != 0) {
				mu_buf_free(&nb);
				return MU_ENOMEM;
			}
			mu_buf_free(&rp->body);
			rp->body = nb;
		}
	}
	rp->status = 200;
	rp->form = MU_HTTP_ICS;
	rp->type = CAL_TYPE;
	return 0;
}

/* --- the routes ---------------------------------------------------------------- */

static int
post_new(const struct mu_http_req *rq, struct mu_http_reply *rp, enum mu_kind kind)
{
	uint8_t secret[MU_RECEIPT_BYTES];
	char r[MU_RECEIPT_TEXT_SIZE];
	struct event_info ev;
	struct mu_entry e;
	struct mu_addr a;
	char d[MU_D_MAX + 1];
	const char *what = mu_kind_name(kind);
	int err;

	if (mu_http_addr(rq->path + strlen(page_of(kind)), what, kind, &a, d, rp))
		return 0;
	if ((err = post_checks(rq, rp, rq->path)) != 0)
		return err < 0 ? err : 0;
	if ((err = load_event(rq, &a, &ev)) != 0)
		return err;
	if (!ev.found)
		return mu_http_refuse(rp, 404, "This %s is not stored on this node.",
		                      what);
	if (ev.closed || ev.end <= rq->now)
		return mu_http_refuse(rp, 409,
		                      "This %s is %s: it takes no more replies.", what,
		                      ev.closed && kind == MU_KIND_EVENT ? "cancelled"
		                      : ev.closed                        ? "closed"
		                                                         : "over");
	memset(&e, 0, sizeof(e));
	e.type = type_of(kind);
	if ((kind == MU_KIND_EVENT ? read_rsvp(rq, rp, &e) : read_act(rq, rp, &e)) != 0)
		return 0;
	e.target = a;
	snprintf(e.d, sizeof(e.d), "%.*s", (int)a.d.len, a.d.ptr);
	mu_entry_fix(&e);
	e.created_at = rq->now;
	e.ends_at = ev.end;
	err = mu_entry_add(rq->node->store, &e, secret);
	if (err == MU_EFULL)
		return mu_http_refuse(rp, 503,
		                      "This node takes no more replies for this %s. "
		                      "Ask the organizers.",
		                      what);
	if (err != 0)
		return err;
	mu_node_entries_changed(rq->node, &e.target);
	mu_receipt_to_text(r, secret);
	sodium_memzero(secret, sizeof(secret));
	err = receipt_page(rq, rp, &e, r,
	                   "Thank you. This page is your receipt: bookmark it to "
	                   "see your place, change your reply or withdraw it.");
	sodium_memzero(r, sizeof(r));
	return err;
}

/* /r/SECRET[/withdraw|/calendar.ics]: the secret's text into r, the rest in
 * *rest. 1 with a refusal page when there is no such receipt. */
static int
receipt_of(const struct mu_http_req *rq, struct mu_http_reply *rp,
           uint8_t secret[MU_RECEIPT_BYTES], char r[MU_RECEIPT_TEXT_SIZE],
           struct mu_entry *e, const char **rest)
{
	const char *p = rq->path + 3;
	size_t n = strcspn(p, "/");
	int err;

	*rest = p + n;
	if (n != MU_RECEIPT_TEXT_SIZE - 1)
		goto none;
	memcpy(r, p, n);
	r[n] = '\0';
	if (mu_receipt_from_text(secret, r) != 0)
		goto none;
	err = mu_entry_get(rq->node->store, secret, e);
	if (err == MU_ENOTFOUND)
		goto none;
	return err;
none:
	if (mu_http_refuse(rp, 404,
	                   "No reply has this receipt: it was withdrawn, removed by "
	                   "the organizers, or deleted %u days after its event. "
	                   "Open the event's page to reply again.",
	                   rq->node->opts.keep_entries_days) != 0)
		return MU_ENOMEM;
	return 1;
}

static int
post_receipt(const struct mu_http_req *rq, struct mu_http_reply *rp)
{
	uint8_t secret[MU_RECEIPT_BYTES];
	char r[MU_RECEIPT_TEXT_SIZE], page[8 + MU_RECEIPT_TEXT_SIZE];
	struct mu_entry e, now;
	const char *rest;
	int err;

	if ((err = receipt_of(rq, rp, secret, r, &e, &rest)) != 0)
		return err < 0 ? err : 0;
	snprintf(page, sizeof(page), "/r/%s", r);
	if ((err = post_checks(rq, rp, page)) != 0)
		return err < 0 ? err : 0;
	if (strcmp(rest, "/withdraw") == 0) {
		if ((err = mu_entry_withdraw(rq->node->store, secret)) != 0 &&
		    err != MU_ENOTFOUND)
			return err;
		mu_node_entries_changed(rq->node, &e.target);
		rp->status = 200;
		rp->form = MU_HTTP_HTML;
		if (mu_html_head(&rp->body, "Withdrawn", 9) != 0 ||
		    mu_html_raw(&rp->body,
		                "<h1>Your reply is withdrawn</h1>\n<p class=\"status "
		                "withdrawn\">It is deleted from this node, and this "
		                "receipt no longer works. Your place, if you had one, "
		                "goes to the next on the waiting list.</p>\n") != 0 ||
		    mu_html_foot(&rp->body) != 0)
			return MU_ENOMEM;
		return 0;
	}
	if (rest[0] != '\0')
		return mu_http_refuse(rp, 404, "There is no form at this address.");
	now = e;
	mu_entry_fix(&now);
	if ((e.type == MU_ENTRY_RSVP ? read_rsvp(rq, rp, &now)
	                             : read_act(rq, rp, &now)) != 0)
		return 0;
	if ((err = mu_entry_change(rq->node->store, secret, &now)) != 0)
		return err;
	mu_node_entries_changed(rq->node, &now.target);
	return receipt_page(rq, rp, &now, r, "Saved.");
}

static int
get_receipt(const struct mu_http_req *rq, struct mu_http_reply *rp)
{
	uint8_t secret[MU_RECEIPT_BYTES];
	char r[MU_RECEIPT_TEXT_SIZE];
	struct mu_entry e;
	const char *rest;
	int err;

	rp->form = MU_HTTP_HTML;
	if ((err = receipt_of(rq, rp, secret, r, &e, &rest)) != 0)
		return err < 0 ? err : 0;
	if (strcmp(rest, "/calendar.ics") == 0)
		return receipt_feed(rq, rp, &e);
	if (rest[0] != '\0')
		return mu_http_refuse(rp, 404, "There is no page at this address.");
	return receipt_page(rq, rp, &e, r, NULL);
}

int
mu_http_entries(const struct mu_http_req *rq, struct mu_http_reply *rp)
{
	rp->form = MU_HTTP_HTML;
	if (!rq->post)
		return get_receipt(rq, rp);
	if (strncmp(rq->path, "/r/", 3) == 0)
		return post_receipt(rq, rp);
	if (strncmp(rq->path, "/events/", 8) == 0)
		return post_new(rq, rp, MU_KIND_EVENT);
	if (strncmp(rq->path, "/petitions/", 11) == 0)
		return post_new(rq, rp, MU_KIND_PETITION);
	if (strncmp(rq->path, "/pledges/", 9) == 0)
		return post_new(rq, rp, MU_KIND_PLEDGE);
	return mu_http_refuse(rp, 404, "There is no form at this address.");
}
