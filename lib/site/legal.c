/*
 * legal.c - the legal rules checked when a warrant is added, extended,
 * confirmed or ceased (spec/legal-rules.md L1-L5, see lacre/warrant.h).
 * Each refusal is LACRE_E_LEGAL with a distinct enum legal_rule and a
 * one-line message that starts with the rule ("L3: ...") and says what to
 * do.  Times are compared as Unix microseconds; windows are [from, to).
 *
 *  L1  every field of the order is present (case, unit, court, order id
 *      and date, window, categories, targets, LIIDs).
 *  L3  the window starts at or after the order date; one order authorises
 *      at most 3 calendar months, counted from the order date for the
 *      original order and from the start of the new period for an
 *      extension (successive periods); an extension is a new order (new
 *      id, not older than the last) whose period starts no earlier than the
 *      end of the current window; per investigated person (target) in one
 *      case, the union of all authorised periods is at most 18 calendar
 *      months counted from the earliest start.
 *  L4  a ceased warrant is never extended or ceased again.
 *  L5  an emergency order names its issuing authority, is confirmed by a
 *      judicial order dated within 72 h of it, and is not extended
 *      before that confirmation.
 *  LIID a LIID is never active in two warrants whose windows overlap.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lacre/err.h"
#include "lacre/warrant.h"

/* Record a refusal: set *rule and return LACRE_E_LEGAL. */
static int refuse(enum legal_rule r, enum legal_rule *rule)
{
	if (rule)
		*rule = r;
	return LACRE_E_LEGAL;
}

const char *legal_rule_name(enum legal_rule r)
{
	switch (r) {
	case LEGAL_OK:
		return "ok";
	case LEGAL_L1_FIELD:
		return "L1";
	case LEGAL_L3_BEFORE_ORDER:
	case LEGAL_L3_EMPTY:
	case LEGAL_L3_3MONTHS:
	case LEGAL_L3_18MONTHS:
	case LEGAL_L3_NEW_ORDER:
	case LEGAL_L3_SUCCESSIVE:
		return "L3";
	case LEGAL_L4_CEASED:
		return "L4";
	case LEGAL_L5_AUTHORITY:
	case LEGAL_L5_EXPIRED:
	case LEGAL_L5_NOT_EMERGENCY:
	case LEGAL_L5_UNCONFIRMED:
		return "L5";
	case LEGAL_LIID_OVERLAP:
		return "LIID";
	}
	return "?";
}

/* End of w's authority: the end of its last period, cut by a cessation
 * and, for an unconfirmed emergency order, by the 72 h deadline. */
static int64_t effective_end(const struct warrant *w)
{
	int64_t end = w->periods[w->n_periods - 1].to;

	for (size_t i = 0; i < w->n_periods; i++)
		if (w->periods[i].to > end)
			end = w->periods[i].to;
	if (w->ceased && w->ceased_at < end)
		end = w->ceased_at;
	if (w->emergency && !w->confirmed &&
	    w->periods[0].order_date + WARRANT_EMERGENCY_US < end)
		end = w->periods[0].order_date + WARRANT_EMERGENCY_US;
	return end;
}

/* Whether [from, to) overlaps any active part of w. */
static int overlaps(const struct warrant *w, int64_t from, int64_t to)
{
	int64_t end = effective_end(w);

	for (size_t i = 0; i < w->n_periods; i++) {
		int64_t a = w->periods[i].from, b = w->periods[i].to < end ? w->periods[i].to : end;
		if (a < b && a < to && from < b)
			return 1;
	}
	return 0;
}

/* LIID rule: no LIID of w (other than warrant 'self') active in another
 * warrant overlapping [from, to). */
static int check_liids(const struct warrant_registry *reg, const struct warrant *w,
		       int64_t from, int64_t to, enum legal_rule *rule, char *msg, size_t msglen)
{
	char a[WARRANT_TIME_MAX], b[WARRANT_TIME_MAX];

	for (size_t i = 0; i < warrant_registry_count(reg); i++) {
		const struct warrant *o = warrant_registry_at(reg, i);
		if (strcmp(o->id, w->id) == 0)
			continue;
		for (size_t j = 0; j < w->n_liids; j++)
			for (size_t k = 0; k < o->n_liids; k++)
				if (strcmp(w->liids[j], o->liids[k]) == 0 && overlaps(o, from, to)) {
					warrant_time_format(from, a);
					warrant_time_format(to, b);
					lacre_msg(msg, msglen,
					    "LIID: '%s' is already active in warrant %s during %s..%s; "
					    "cease that warrant or choose a window that does not overlap",
					    w->liids[j], o->id, a, b);
					return refuse(LEGAL_LIID_OVERLAP, rule);
				}
	}
	return LACRE_OK;
}

/* Interval for the 18-month sum. */
struct span {
	int64_t a, b;
};

/* Sort spans by start. */
static int span_cmp(const void *x, const void *y)
{
	const struct span *p = x, *q = y;

	return p->a < q->a ? -1 : p->a > q->a;
}

/* Add w's active periods to spans (capacity cap, count *n). */
static void add_spans(const struct warrant *w, struct span *spans, size_t cap, size_t *n)
{
	int64_t end = effective_end(w);

	for (size_t i = 0; i < w->n_periods && *n < cap; i++) {
		int64_t b = w->periods[i].to < end ? w->periods[i].to : end;
		if (w->periods[i].from < b) {
			spans[*n].a = w->periods[i].from;
			spans[*n].b = b;
			(*n)++;
		}
	}
}

/* L3 cap: for every target of w, the union of the periods of all warrants
 * of the same case naming it, plus [from, to), spans at most 18 months
 * counted from the earliest start. */
static int check_18(const struct warrant_registry *reg, const struct warrant *w,
		    int64_t from, int64_t to, enum legal_rule *rule, char *msg, size_t msglen)
{
	size_t cap = (warrant_registry_count(reg) + 1) * WARRANT_MAX_PERIODS + 1;
	struct span *sp = calloc(cap, sizeof(*sp));
	int r = LACRE_OK;

	if (sp == NULL)
		return LACRE_E_NOMEM;
	for (size_t t = 0; t < w->n_targets && r == LACRE_OK; t++) {
		size_t n = 0;
		int64_t total = 0, cur_a, cur_b, limit;
		char s[WARRANT_TIME_MAX];

		for (size_t i = 0; i < warrant_registry_count(reg); i++) {
			const struct warrant *o = warrant_registry_at(reg, i);
			int named = 0;
			if (strcmp(o->case_id, w->case_id) != 0)
				continue;
			for (size_t k = 0; k < o->n_targets; k++)
				if (strcmp(o->targets[k], w->targets[t]) == 0)
					named = 1;
			/* w itself (an extension) is in reg with its current periods */
			if (named)
				add_spans(o, sp, cap, &n);
		}
		if (n < cap) {
			sp[n].a = from;
			sp[n].b = to;
			n++;
		}
		qsort(sp, n, sizeof(*sp), span_cmp);
		cur_a = sp[0].a;
		cur_b = sp[0].b;
		for (size_t i = 1; i < n; i++) {
			if (sp[i].a <= cur_b) {
				if (sp[i].b > cur_b)
					cur_b = sp[i].b;
			} else {
				total += cur_b - cur_a;
				cur_a = sp[i].a;
				cur_b = sp[i].b;
			}
		}
		total += cur_b - cur_a;
		limit = warrant_add_months(sp[0].a, 18) - sp[0].a;
		if (total > limit) {
			warrant_time_format(sp[0].a, s);
			lacre_msg(msg, msglen,
			    "L3: target '%s' of case '%s' would be intercepted for more than 18 months "
			    "in total (counted from %s); a longer measure needs a new proceeding",
			    w->targets[t], w->case_id, s);
			r = refuse(LEGAL_L3_18MONTHS, rule);
		}
	}
	free(sp);
	return r;
}

int legal_check_add(const struct warrant_registry *reg, const struct warrant *w,
		    enum legal_rule *rule, char *msg, size_t msglen)
{
	const struct warrant_period *p;
	const char *missing = NULL;
	char a[WARRANT_TIME_MAX], b[WARRANT_TIME_MAX];
	int r;

	if (reg == NULL || w == NULL || w->n_periods != 1)
		return LACRE_E_INVALID;
	p = &w->periods[0];
	if (w->case_id[0] == '\0')
		missing = "case";
	else if (w->unit[0] == '\0')
		missing = "unit";
	else if (w->court[0] == '\0')
		missing = "court";
	else if (p->order_id[0] == '\0')
		missing = "order id";
	else if (p->order_date == 0)
		missing = "order date";
	else if (p->from == 0)
		missing = "valid-from";
	else if (p->to == 0)
		missing = "valid-to";
	else if (w->categories == 0)
		missing = "categories";
	else if (w->n_targets == 0)
		missing = "targets";
	else if (w->n_liids == 0)
		missing = "LIIDs";
	if (missing) {
		lacre_msg(msg, msglen, "L1: the order's %s is missing; a warrant needs every field of the order",
		    missing);
		return refuse(LEGAL_L1_FIELD, rule);
	}
	if (w->emergency && w->authority[0] == '\0') {
		lacre_msg(msg, msglen, "L5: an emergency order must name its issuing authority (--authority)");
		return refuse(LEGAL_L5_AUTHORITY, rule);
	}
	warrant_time_format(p->from, a);
	warrant_time_format(p->order_date, b);
	if (p->from < p->order_date) {
		lacre_msg(msg, msglen, "L3: valid-from %s is before the order date %s; the window counts from the order",
		    a, b);
		return refuse(LEGAL_L3_BEFORE_ORDER, rule);
	}
	if (p->to <= p->from) {
		lacre_msg(msg, msglen, "L3: valid-to must be after valid-from %s", a);
		return refuse(LEGAL_L3_EMPTY, rule);
	}
	if (p->to > warrant_add_months(p->order_date, 3)) {
		warrant_time_format(warrant_add_months(p->order_date, 3), a);
		lacre_msg(msg, msglen, "L3: one order authorises at most 3 months from its date %s: valid-to must be "
		    "at most %s; longer measures need extension orders", b, a);
		return refuse(LEGAL_L3_3MONTHS, rule);
	}
	r = check_18(reg, w, p->from, p->to, rule, msg, msglen);
	if (r == LACRE_OK)
		r = check_liids(reg, w, p->from,
				w->emergency && p->order_date + WARRANT_EMERGENCY_US < p->to ?
				p->order_date + WARRANT_EMERGENCY_US : p->to, rule, msg, msglen);
	return r;
}

int legal_check_extend(const struct warrant_registry *reg, const struct warrant *w,
		       const struct warrant_period *p, enum legal_rule *rule,
		       char *msg, size_t msglen)
{
	char a[WARRANT_TIME_MAX], b[WARRANT_TIME_MAX];
	int64_t end = INT64_MIN, newest = INT64_MIN;
	int r;

	if (reg == NULL || w == NULL || p == NULL || w->n_periods == 0)
		return LACRE_E_INVALID;
	if (w->ceased) {
		lacre_msg(msg, msglen, "L4: warrant %s has ceased; a new measure needs a new warrant", w->id);
		return refuse(LEGAL_L4_CEASED, rule);
	}
	if (w->emergency && !w->confirmed) {
		lacre_msg(msg, msglen, "L5: emergency warrant %s is not confirmed by the judge; record the "
		    "confirmation first ('lacre warrant confirm')", w->id);
		return refuse(LEGAL_L5_UNCONFIRMED, rule);
	}
	if (p->order_id[0] == '\0' || p->order_date == 0 || p->from == 0 || p->to == 0) {
		lacre_msg(msg, msglen, "L1: an extension needs its order id, order date and window");
		return refuse(LEGAL_L1_FIELD, rule);
	}
	for (size_t i = 0; i < w->n_periods; i++) {
		if (strcmp(w->periods[i].order_id, p->order_id) == 0) {
			lacre_msg(msg, msglen, "L3: an extension is a new order; order '%s' already authorised "
			    "a period of %s", p->order_id, w->id);
			return refuse(LEGAL_L3_NEW_ORDER, rule);
		}
		if (w->periods[i].to > end)
			end = w->periods[i].to;
		if (w->periods[i].order_date > newest)
			newest = w->periods[i].order_date;
	}
	if (w->confirmed && strcmp(w->confirm_order, p->order_id) == 0) {
		lacre_msg(msg, msglen, "L3: an extension is a new order; '%s' is the confirmation order", p->order_id);
		return refuse(LEGAL_L3_NEW_ORDER, rule);
	}
	if (p->order_date < newest) {
		warrant_time_format(newest, a);
		lacre_msg(msg, msglen, "L3: the extension order is dated before the last order of %s (%s)",
		    w->id, a);
		return refuse(LEGAL_L3_NEW_ORDER, rule);
	}
	warrant_time_format(p->from, a);
	warrant_time_format(p->order_date, b);
	if (p->from < p->order_date) {
		lacre_msg(msg, msglen, "L3: valid-from %s is before the extension's order date %s", a, b);
		return refuse(LEGAL_L3_BEFORE_ORDER, rule);
	}
	if (p->from < end) {
		warrant_time_format(end, b);
		lacre_msg(msg, msglen, "L3: an extension is a successive period: it must start at or after "
		    "the current end %s", b);
		return refuse(LEGAL_L3_SUCCESSIVE, rule);
	}
	if (p->to <= p->from) {
		lacre_msg(msg, msglen, "L3: valid-to must be after valid-from %s", a);
		return refuse(LEGAL_L3_EMPTY, rule);
	}
	if (p->to > warrant_add_months(p->from, 3)) {
		warrant_time_format(warrant_add_months(p->from, 3), b);
		lacre_msg(msg, msglen, "L3: one extension authorises at most 3 months: valid-to must be at most %s",
		    b);
		return refuse(LEGAL_L3_3MONTHS, rule);
	}
	r = check_18(reg, w, p->from, p->to, rule, msg, msglen);
	if (r == LACRE_OK)
		r = check_liids(reg, w, p->from, p->to, rule, msg, msglen);
	return r;
}

int legal_check_confirm(const struct warrant_registry *reg, const struct warrant *w,
			const char *order_id, int64_t order_date, enum legal_rule *rule,
			char *msg, size_t msglen)
{
	char a[WARRANT_TIME_MAX];
	struct warrant *c;
	int64_t issued;
	int r = LACRE_OK;

	if (reg == NULL || w == NULL || order_id == NULL)
		return LACRE_E_INVALID;
	if (!w->emergency) {
		lacre_msg(msg, msglen, "L5: warrant %s is not an emergency order; there is nothing to confirm",
		    w->id);
		return refuse(LEGAL_L5_NOT_EMERGENCY, rule);
	}
	if (w->confirmed) {
		lacre_msg(msg, msglen, "L5: warrant %s is already confirmed by order '%s'", w->id,
		    w->confirm_order);
		return refuse(LEGAL_L5_NOT_EMERGENCY, rule);
	}
	if (w->ceased) {
		lacre_msg(msg, msglen, "L4: warrant %s has ceased", w->id);
		return refuse(LEGAL_L4_CEASED, rule);
	}
	if (order_id[0] == '\0' || order_date == 0) {
		lacre_msg(msg, msglen, "L1: the confirmation needs the judicial order id and date");
		return refuse(LEGAL_L1_FIELD, rule);
	}
	issued = w->periods[0].order_date;
	if (strcmp(order_id, w->periods[0].order_id) == 0 || order_date < issued) {
		lacre_msg(msg, msglen, "L5: the confirmation is a new judicial order dated at or after the "
		    "emergency order");
		return refuse(LEGAL_L3_NEW_ORDER, rule);
	}
	if (order_date > issued + WARRANT_EMERGENCY_US) {
		warrant_time_format(issued + WARRANT_EMERGENCY_US, a);
		lacre_msg(msg, msglen, "L5: the judge must confirm an emergency order within 72 hours (by %s); "
		    "warrant %s has expired and needs a new order", a, w->id);
		return refuse(LEGAL_L5_EXPIRED, rule);
	}
	/* confirmed, the order authorises its whole window again: its LIIDs
	 * must not have been given to another warrant since the 72 h
	 * deadline, nor may a target pass 18 months */
	c = malloc(sizeof(*c));
	if (c == NULL)
		return LACRE_E_NOMEM;
	*c = *w;
	c->confirmed = 1;
	for (size_t i = 0; i < c->n_periods && r == LACRE_OK; i++) {
		int64_t b = c->periods[i].to;
		if (c->ceased && c->ceased_at < b)
			b = c->ceased_at;
		if (c->periods[i].from < b)
			r = check_liids(reg, c, c->periods[i].from, b, rule, msg, msglen);
	}
	if (r == LACRE_OK)
		r = check_18(reg, c, c->periods[0].from, c->periods[0].to, rule, msg, msglen);
	free(c);
	return r;
}

int legal_check_cease(const struct warrant *w, const char *order_id, int64_t order_date,
		      int64_t at, enum legal_rule *rule, char *msg, size_t msglen)
{
	char a[WARRANT_TIME_MAX], b[WARRANT_TIME_MAX];

	if (w == NULL || order_id == NULL)
		return LACRE_E_INVALID;
	if (w->ceased) {
		warrant_time_format(w->ceased_at, a);
		lacre_msg(msg, msglen, "L4: warrant %s already ceased at %s (order '%s')", w->id, a,
		    w->cease_order);
		return refuse(LEGAL_L4_CEASED, rule);
	}
	if (order_id[0] == '\0' || order_date == 0) {
		lacre_msg(msg, msglen, "L1: the cessation needs the order id and date");
		return refuse(LEGAL_L1_FIELD, rule);
	}
	if (at < order_date) {
		warrant_time_format(at, a);
		warrant_time_format(order_date, b);
		lacre_msg(msg, msglen, "L4: the cessation takes effect at %s, before its order date %s", a, b);
		return refuse(LEGAL_L3_BEFORE_ORDER, rule);
	}
	return LACRE_OK;
}
