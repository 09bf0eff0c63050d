/* mlagw audit reconcile A B: bundle A is State X's, B is State Y's. For every message between
 * X and Y, the sender's sent/delivered entries must match the receiver's received and
 * receipt-issued entries on message id and envelope-sha256, and the receipt-sha256 of the
 * sender's delivered entry must be the receiver's receipt-issued one. Every one-sided or
 * differing entry is reported with both States, the message id and the entries' seqs. With
 * --trust, each bundle must first pass the checks of mlagw audit verify (audit_verify.h). */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "audit_reconcile.h"
#include "audit_verify.h"
#include "cli_util.h"

#define CMD "audit reconcile"

static const char reconcile_usage[] =
	"usage: mlagw audit reconcile A B [--trust DIR] [--json]\n"
	"Compares two States' audit bundles: every message one State sent to the other must\n"
	"appear on both sides (sent/delivered in the sender's, received/receipt-issued in the\n"
	"receiver's) with the same envelope-sha256, and the receipt-sha256 of the sender's\n"
	"delivered entry must be the receiver's receipt-issued one. Messages of other States are\n"
	"ignored; a message sent, not yet delivered and not received is reported as in flight.\n"
	"  --trust DIR   first verify each bundle as mlagw audit verify does (DIR/ *.crt: the\n"
	"                States' roots); unverified bundles are not reconciled\n"
	"  --json        the report as JSON\n"
	"exit: 0 everything matches, 1 a mismatch, a one-sided entry or an unverified bundle,\n"
	"2 usage, 3 cannot read A, B or DIR\n";

/* One bundle: its verification context (for --trust and the manifest's State) and its
 * entries, parsed one by one so that a bundle with a missing entry still reconciles. */
struct side {
	const char *file;
	mla_buf data;
	mla_bundle b;
	struct vctx v;
	mla_audit_entry *e;
	size_t n;
};

/* An entry of interest, on the sending (X) or receiving (Y) side of one direction. */
struct ref {
	const mla_audit_entry *e;
	int recv_side;
};

struct report {
	json_t *problems, *in_flight, *directions;
	size_t nproblems;
};

/* The checks of mlagw audit verify, in its order; CLI_REJECTED naming the first failure. */
static int verify_side(struct side *s)
{
	json_t *f;
	size_t n;

	if (audit_run_checks(&s->v) != CLI_OK)
		return CLI_INTERNAL;
	if ((n = audit_failures(&s->v)) == 0)
		return CLI_OK;
	f = json_array_get(s->v.failures, 0);
	fprintf(stderr, "mlagw " CMD ": %s does not verify (%zu failures, first: %s: %s); "
		"not reconciled\n", s->file, n, json_string_value(json_object_get(f, "check")),
		json_string_value(json_object_get(f, "message")));
	return CLI_REJECTED;
}

/* Every entry record that parses; a record that does not is named on stderr and skipped. */
static int parse_entries(struct side *s)
{
	s->e = calloc(s->b.n ? s->b.n : 1, sizeof(*s->e));
	if (s->e == NULL)
		return CLI_INTERNAL;
	for (size_t i = 0; i < s->b.n; i++) {
		const mla_bundle_record *r = &s->b.rec[i];
		mla_diag d = {MLA_OK, ""};

		if (r->type != MLA_BUNDLE_ENTRY)
			continue;
		if (mla_audit_entry_parse(r->data, r->len, &s->e[s->n], &d) != MLA_OK) {
			fprintf(stderr, "mlagw " CMD ": %s: entry %s skipped: %s\n", s->file, r->name,
				mla_diag_message(&d));
			continue;
		}
		s->n++;
	}
	return CLI_OK;
}

static int load_side(struct side *s, const char *trust_dir)
{
	mla_diag d = {MLA_OK, ""};
	int rc;

	s->v.failures = json_array();
	s->v.trust_dir = trust_dir;
	mla_limits_default(&s->v.limits);
	if (s->v.failures == NULL)
		return CLI_INTERNAL;
	if (cli_read_file(s->file, MLA_BUNDLE_MAX, &s->data, &d) != MLA_OK) {
		fprintf(stderr, "mlagw " CMD ": %s\n", mla_diag_message(&d));
		return CLI_IO;
	}
	if (trust_dir != NULL && (rc = audit_load_trust(&s->v, CMD)) != CLI_OK)
		return rc;
	if (mla_bundle_parse(s->data.data, s->data.len, &s->b, &d) != MLA_OK) {
		fprintf(stderr, "mlagw " CMD ": %s: malformed bundle: %s\n", s->file,
			mla_diag_message(&d));
		return trust_dir != NULL ? CLI_REJECTED : CLI_IO;
	}
	s->v.b = &s->b;
	if (trust_dir != NULL)
		rc = verify_side(s);
	else
		rc = verify_manifest(&s->v) != 0 ? CLI_INTERNAL : CLI_OK;
	if (rc != CLI_OK)
		return rc;
	if (s->v.state[0] == '\0') {
		fprintf(stderr, "mlagw " CMD ": %s: the manifest names no State\n", s->file);
		return CLI_IO;
	}
	return parse_entries(s);
}

static void free_side(struct side *s)
{
	mla_bundle_free(&s->b);
	mla_buf_free(&s->data);
	audit_vctx_free(&s->v);
	free(s->e);
}

static void hex(const uint8_t d[32], char out[65])
{
	for (int i = 0; i < 32; i++)
		(void)snprintf(out + 2 * i, 3, "%02x", d[i]);
}

static int ref_cmp(const void *a, const void *b)
{
	const struct ref *x = a, *y = b;
	int c = strcmp(x->e->message_id, y->e->message_id);

	if (c != 0)
		return c;
	if (x->recv_side != y->recv_side)
		return x->recv_side - y->recv_side;
	return x->e->seq < y->e->seq ? -1 : x->e->seq > y->e->seq;
}

/* Adds one problem or in-flight note: the text and the entries' seqs on each side. */
static void note(json_t *list, const char *kind, const char *x, const char *y, const char *id,
		 json_t *xs, json_t *ys, const char *fmt, ...) __attribute__((format(printf, 8, 9)));
static void note(json_t *list, const char *kind, const char *x, const char *y, const char *id,
		 json_t *xs, json_t *ys, const char *fmt, ...)
{
	char msg[512];
	va_list ap;
	json_t *seqs = json_object();

	va_start(ap, fmt);
	(void)vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	json_object_set_new(seqs, x, xs);
	json_object_set_new(seqs, y, ys);
	(void)json_array_append_new(list, json_pack("{sssssssssoss}", "kind", kind, "from", x,
						    "to", y, "message_id", id, "seqs", seqs,
						    "message", msg));
}

static json_t *seq1(const mla_audit_entry *e)
{
	return json_pack("[I]", (json_int_t)e->seq);
}

/* One message from x to y: its sender entries snd[0..ns) and receiver entries rcv[0..nr).
 * Returns 1 when matched, 0 in flight, 2 refused by the receiver, -1 with problems. */
static int one_message(struct report *rp, const char *x, const char *y, const struct ref *snd,
		       size_t ns, const struct ref *rcv, size_t nr)
{
	const mla_audit_entry *delivered = NULL, *received = NULL, *issued = NULL, *s0 = NULL;
	const char *id = (ns ? snd : rcv)[0].e->message_id;
	char h1[65], h2[65];
	int bad = 0;

	for (size_t i = 0; i < ns; i++) {
		if (snd[i].e->event == MLA_AUDIT_DELIVERED && delivered == NULL)
			delivered = snd[i].e;
		if (s0 == NULL)
			s0 = snd[i].e;
	}
	for (size_t i = 0; i < nr; i++)
		if (rcv[i].e->event == MLA_AUDIT_RECEIVED && received == NULL)
			received = rcv[i].e;
	if (received == NULL) {
		if (delivered != NULL) {
			note(rp->problems, "one-sided", x, y, id, seq1(delivered), json_array(),
			     "%s delivered %s to %s (%s seq %llu) but %s has no received entry", x,
			     id, y, x, (unsigned long long)delivered->seq, y);
			return -1;
		}
		if (s0 != NULL && nr > 0)
			return 2; /* refused by the receiver: a receipt, no reception */
		if (s0 != NULL) {
			note(rp->in_flight, "in-flight", x, y, id, seq1(s0), json_array(),
			     "%s sent %s to %s (%s seq %llu), not delivered and %s has no received "
			     "entry: in flight", x, id, y, x, (unsigned long long)s0->seq, y);
			return 0;
		}
		return 1; /* only receipt-issued entries (e.g. refusals): nothing exchanged */
	}
	if (s0 == NULL) {
		note(rp->problems, "one-sided", x, y, id, json_array(), seq1(received),
		     "%s received %s from %s (%s seq %llu) that %s never sent", y, id, x, y,
		     (unsigned long long)received->seq, x);
		return -1;
	}
	/* Envelope digests: every sent/delivered entry against every received entry. */
	for (size_t i = 0; i < ns && !bad; i++)
		for (size_t k = 0; k < nr && !bad; k++) {
			const mla_audit_entry *a = snd[i].e, *b = rcv[k].e;
			if (b->event != MLA_AUDIT_RECEIVED || !a->has_envelope_sha256 ||
			    !b->has_envelope_sha256 ||
			    memcmp(a->envelope_sha256, b->envelope_sha256, 32) == 0)
				continue;
			hex(a->envelope_sha256, h1);
			hex(b->envelope_sha256, h2);
			note(rp->problems, "envelope-digest", x, y, id, seq1(a), seq1(b),
			     "%s %s -> %s: envelope digest differs: %s %s (seq %llu) has %.16s…, "
			     "%s received (seq %llu) has %.16s…", id, x, y, x,
			     mla_audit_event_name(a->event), (unsigned long long)a->seq, h1, y,
			     (unsigned long long)b->seq, h2);
			bad = 1;
		}
	/* The receipt the sender holds must be one the receiver issued. */
	if (delivered != NULL && delivered->has_receipt_sha256) {
		const mla_audit_entry *other = NULL;
		for (size_t k = 0; k < nr && issued == NULL; k++) {
			const mla_audit_entry *b = rcv[k].e;
			if (b->event != MLA_AUDIT_RECEIPT_ISSUED || !b->has_receipt_sha256)
				continue;
			if (memcmp(b->receipt_sha256, delivered->receipt_sha256, 32) == 0)
				issued = b;
			else if (other == NULL)
				other = b;
		}
		hex(delivered->receipt_sha256, h1);
		if (issued != NULL && issued->has_envelope_sha256 &&
		    delivered->has_envelope_sha256 &&
		    memcmp(issued->envelope_sha256, delivered->envelope_sha256, 32) != 0 && !bad) {
			hex(issued->envelope_sha256, h2);
			note(rp->problems, "envelope-digest", x, y, id, seq1(delivered),
			     seq1(issued), "%s %s -> %s: envelope digest differs: %s delivered (seq "
			     "%llu) and %s receipt-issued (seq %llu, %.16s…)", id, x, y, x,
			     (unsigned long long)delivered->seq, y,
			     (unsigned long long)issued->seq, h2);
			bad = 1;
		} else if (issued == NULL && other != NULL) {
			hex(other->receipt_sha256, h2);
			note(rp->problems, "receipt-digest", x, y, id, seq1(delivered), seq1(other),
			     "%s %s -> %s: receipt digest differs: %s delivered (seq %llu) has "
			     "%.16s…, %s receipt-issued (seq %llu) has %.16s…", id, x, y, x,
			     (unsigned long long)delivered->seq, h1, y,
			     (unsigned long long)other->seq, h2);
			bad = 1;
		} else if (issued == NULL) {
			note(rp->problems, "one-sided", x, y, id, seq1(delivered), json_array(),
			     "%s delivered %s to %s (%s seq %llu, receipt %.16s…) but %s has no "
			     "receipt-issued entry", x, id, y, x, (unsigned long long)delivered->seq,
			     h1, y);
			bad = 1;
		}
	}
	return bad ? -1 : 1;
}

/* The direction x -> y: x's sent/delivered to y against y's received/receipt-issued from x. */
static int direction(struct report *rp, const struct side *sx, const struct side *sy)
{
	const char *x = sx->v.state, *y = sy->v.state;
	struct ref *r = calloc(sx->n + sy->n + 1, sizeof(*r));
	size_t n = 0, matched = 0, flight = 0, bad = 0;

	if (r == NULL)
		return -1;
	for (size_t i = 0; i < sx->n; i++) {
		const mla_audit_entry *e = &sx->e[i];
		if ((e->event == MLA_AUDIT_SENT || e->event == MLA_AUDIT_DELIVERED) &&
		    e->message_id[0] && strcmp(e->to, y) == 0)
			r[n++] = (struct ref){e, 0};
	}
	for (size_t i = 0; i < sy->n; i++) {
		const mla_audit_entry *e = &sy->e[i];
		if ((e->event == MLA_AUDIT_RECEIVED || e->event == MLA_AUDIT_RECEIPT_ISSUED) &&
		    e->message_id[0] && strcmp(e->from, x) == 0)
			r[n++] = (struct ref){e, 1};
	}
	qsort(r, n, sizeof(*r), ref_cmp);
	for (size_t i = 0; i < n;) {
		size_t j = i, ns = 0;
		while (j < n && strcmp(r[j].e->message_id, r[i].e->message_id) == 0)
			ns += !r[j++].recv_side;
		int m = one_message(rp, x, y, r + i, ns, r + i + ns, j - i - ns);
		if (m == 1 && ns > 0)
			matched++;
		else if (m == 0)
			flight++;
		else if (m < 0)
			bad++;
		i = j;
	}
	free(r);
	rp->nproblems += bad;
	(void)json_array_append_new(rp->directions,
				    json_pack("{sssssIsIsI}", "from", x, "to", y, "matched",
					      (json_int_t)matched, "in_flight", (json_int_t)flight,
					      "problems", (json_int_t)bad));
	return 0;
}

static json_t *side_json(const struct side *s)
{
	return json_pack("{sssssI}", "file", s->file, "state", s->v.state, "entries",
			 (json_int_t)s->n);
}

static void print_report(const struct report *rp, const struct side *a, const struct side *b,
			 int trusted, int json)
{
	size_t total = 0, i;
	json_t *d, *p;

	json_array_foreach(rp->directions, i, d)
		total += (size_t)json_integer_value(json_object_get(d, "matched"));
	if (json) {
		json_t *o = json_pack("{sososbsbsIsOsOsO}", "a", side_json(a), "b", side_json(b),
				      "verified", trusted, "reconciled", rp->nproblems == 0,
				      "exchanges", (json_int_t)total, "directions", rp->directions,
				      "problems", rp->problems, "in_flight", rp->in_flight);
		char *s = o != NULL ? json_dumps(o, JSON_INDENT(2) | JSON_PRESERVE_ORDER) : NULL;
		if (s != NULL)
			puts(s);
		free(s);
		json_decref(o);
		return;
	}
	printf("reconcile %s (State %s, %zu entries%s) with %s (State %s, %zu entries%s)\n",
	       a->file, a->v.state, a->n, trusted ? ", verified" : "", b->file, b->v.state, b->n,
	       trusted ? ", verified" : "");
	json_array_foreach(rp->directions, i, d)
		printf("  %s -> %s: %lld matched, %lld in flight, %lld problems\n",
		       json_string_value(json_object_get(d, "from")),
		       json_string_value(json_object_get(d, "to")),
		       json_integer_value(json_object_get(d, "matched")),
		       json_integer_value(json_object_get(d, "in_flight")),
		       json_integer_value(json_object_get(d, "problems")));
	json_array_foreach(rp->problems, i, p)
		printf("MISMATCH %s\n", json_string_value(json_object_get(p, "message")));
	json_array_foreach(rp->in_flight, i, p)
		printf("IN FLIGHT %s\n", json_string_value(json_object_get(p, "message")));
	if (total == 0 && rp->nproblems == 0 && json_array_size(rp->in_flight) == 0)
		printf("no exchanges between %s and %s in these bundles: nothing to match\n",
		       a->v.state, b->v.state);
	if (rp->nproblems == 0)
		printf("reconciled: %zu exchanges match\n", total);
	else
		printf("NOT reconciled: %zu messages with problems\n", rp->nproblems);
}

int cmd_audit_reconcile(int argc, char **argv)
{
	struct side a, b;
	struct report rp = {json_array(), json_array(), json_array(), 0};
	static const struct audit_args_spec spec = {CMD, reconcile_usage, 2, 0,
						    "give two bundles, A and B", 0};
	const char *files[3] = {NULL, NULL, NULL}, *dir = NULL;
	mla_diag d = {MLA_OK, ""};
	int json = 0, rc;

	memset(&a, 0, sizeof(a));
	memset(&b, 0, sizeof(b));
	mla_buf_init(&a.data, MLA_BUNDLE_MAX);
	mla_buf_init(&b.data, MLA_BUNDLE_MAX);
	if ((rc = audit_parse_args(argc, argv, &spec, files, &dir, &json)) != CLI_OK) {
		rc = rc == -1 ? CLI_OK : rc;
		goto out;
	}
	a.file = files[0];
	b.file = files[1];
	if (rp.problems == NULL || rp.in_flight == NULL || rp.directions == NULL) {
		rc = CLI_INTERNAL;
		goto out;
	}
	if (mla_crypto_init(&d) != MLA_OK) {
		rc = cli_fail(CMD, d.code, &d);
		goto out;
	}
	if ((rc = load_side(&a, dir)) != CLI_OK || (rc = load_side(&b, dir)) != CLI_OK)
		goto out;
	if (strcmp(a.v.state, b.v.state) == 0) {
		rc = cli_usage_error(CMD, "both bundles are State %s's: give two States' bundles",
				     a.v.state);
		goto out;
	}
	if (direction(&rp, &a, &b) != 0 || direction(&rp, &b, &a) != 0) {
		rc = CLI_INTERNAL;
		goto out;
	}
	print_report(&rp, &a, &b, dir != NULL, json);
	rc = rp.nproblems == 0 ? CLI_OK : CLI_REJECTED;
out:
	free_side(&a);
	free_side(&b);
	json_decref(rp.problems);
	json_decref(rp.in_flight);
	json_decref(rp.directions);
	return rc;
}
