/* The canonical serialization of one audit log entry (protocol/SPEC.md section 14, "Entry
 * serialization"): field checks, serialize, and a strict parse that accepts only the bytes
 * serialize would produce. */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "mlagw/audit_entry.h"
#include "mlagw/codec.h"
#include "mlagw/text.h"

#define MAGIC1 "mlagw-audit-entry/1"
#define MAGIC2 "mlagw-audit-entry/2" /* version 1's lines, then count */
#define MAGIC3 "mlagw-audit-entry/3" /* version 2's lines, then the prev-* lines */
#define MAGIC4 "mlagw-audit-entry/4" /* version 3's lines, then two digests */
/* version 4's lines, for the entries naming a Kind or Action of envelope version 2 only */
#define MAGIC5 "mlagw-audit-entry/5"
/* version 5's lines, then priority and grounds: the entries of case steps with a priority */
#define MAGIC6 "mlagw-audit-entry/6"
/* version 6's lines, then attachments and attachment: the entries naming attachments */
#define MAGIC7 "mlagw-audit-entry/7"
/* version 7's lines, then the directory adopted: the entries directory-adopted */
#define MAGIC8 "mlagw-audit-entry/8"
/* version 7's lines: the entries directory-refused */
#define MAGIC9 "mlagw-audit-entry/9"
#define VERSION_MAX 9
#define ABSENT "-"

enum presence { NO = 0, OPT = 1, REQ = 2 };

/* Per event: its name, whether message, error, reason and the two digests are required,
 * optional or forbidden, whether a count above 1 (an aggregate, version 2) is allowed, and
 * the version that alone holds it (0: version 1, or 2 when counted). The other fields are
 * optional for every event. */
static const struct event_rule {
	const char *name;
	enum presence message, error, reason, envelope, receipt;
	int counted;
	int only_version;
} events[MLA_AUDIT_EVENT_N] = {
	[MLA_AUDIT_SUBMITTED] = {"submitted", REQ, NO, NO, OPT, OPT, 0, 0},
	[MLA_AUDIT_SENT] = {"sent", REQ, NO, NO, OPT, OPT, 0, 0},
	[MLA_AUDIT_DELIVERED] = {"delivered", REQ, NO, NO, OPT, OPT, 0, 0},
	[MLA_AUDIT_RECEIVED] = {"received", REQ, NO, NO, OPT, OPT, 0, 0},
	/* a negative receipt may answer an unreadable envelope */
	[MLA_AUDIT_RECEIPT_ISSUED] = {"receipt-issued", OPT, NO, NO, OPT, OPT, 1, 0},
	[MLA_AUDIT_REJECTED] = {"rejected", OPT, REQ, NO, OPT, OPT, 1, 0},
	[MLA_AUDIT_ANSWERED] = {"answered", REQ, NO, NO, OPT, OPT, 0, 0},
	[MLA_AUDIT_FAILED] = {"failed", REQ, REQ, NO, OPT, OPT, 0, 0},
	[MLA_AUDIT_DOCUMENT_FETCHED] = {"document-fetched", REQ, NO, REQ, OPT, OPT, 0, 0},
	[MLA_AUDIT_CONFIG_RELOADED] = {"config-reloaded", NO, NO, OPT, OPT, OPT, 0, 0},
	[MLA_AUDIT_KEY_CHANGED] = {"key-changed", NO, NO, OPT, OPT, OPT, 0, 0},
	[MLA_AUDIT_ACCESS_DENIED] = {"access-denied", OPT, OPT, OPT, OPT, OPT, 0, 0},
	[MLA_AUDIT_EPOCH_OPENED] = {"epoch-opened", NO, NO, OPT, OPT, OPT, 0, 3},
	/* the error and receipt that refused the old seal; both digests */
	[MLA_AUDIT_RESEALED] = {"resealed", REQ, REQ, OPT, REQ, REQ, 0, 4},
	/* the envelope and the receipt a peer gave back */
	[MLA_AUDIT_RECOVERED] = {"recovered", REQ, NO, OPT, REQ, REQ, 0, 4},
	/* the step's size and direction in the reason */
	[MLA_AUDIT_CLOCK_STEPPED] = {"clock-stepped", NO, NO, REQ, NO, NO, 0, 4},
	/* the next audit certificate's digest (audit-cert-sha256) */
	[MLA_AUDIT_AUDIT_KEY_CHANGED] = {"audit-key-changed", NO, NO, OPT, NO, NO, 0, 4},
	/* a protected person's fields shown to an allowed role (SPEC 16.12): the reader's
	 * stated reason; joined unreleased version 5, which alone holds it */
	[MLA_AUDIT_PROTECTED_VIEWED] = {"protected-viewed", REQ, NO, REQ, OPT, NO, 0, 5},
	/* the directory's publisher, serial, validity and digest (SPEC 18.6); the reason says
	 * how it came (start, reload, fetched, peer CC) */
	[MLA_AUDIT_DIRECTORY_ADOPTED] = {"directory-adopted", NO, NO, OPT, NO, NO, 0, 8},
	/* a fetched directory refused (SPEC 18.6): the error says why, the reason how it came
	 * (fetched, peer CC); no content of the document */
	[MLA_AUDIT_DIRECTORY_REFUSED] = {"directory-refused", NO, REQ, OPT, NO, NO, 0, 9},
};

const char *const mla_audit_grounds[] = {
	"untoc-18-21-a", "untoc-18-21-b", "untoc-18-21-c", "untoc-18-21-d", "eio-11-1-a",
	"eio-11-1-b",	 "eio-11-1-c",	  "eio-11-1-d",	   "eio-11-1-e",    "eio-11-1-f",
	"eio-11-1-g",	 "eio-11-1-h",	  "bank-secrecy",  "fiscal-matter", NULL,
};

/* The API roles of gateway/api_config.c, the role part of an actor "role:name". */
static const char *const roles[] = {"authority", "agency", "auditor", "admin", NULL};

void mla_audit_entry_init(mla_audit_entry *e)
{
	memset(e, 0, sizeof(*e));
	e->count = 1;
}

const char *mla_audit_event_name(mla_audit_event ev)
{
	return (unsigned)ev < MLA_AUDIT_EVENT_N ? events[ev].name : NULL;
}

mla_err mla_audit_event_parse(const char *s, mla_audit_event *out)
{
	for (unsigned i = 0; i < MLA_AUDIT_EVENT_N; i++) {
		if (strcmp(s, events[i].name) == 0) {
			*out = (mla_audit_event)i;
			return MLA_OK;
		}
	}
	return MLA_ERR_ARG;
}

/* ---- field rules (ASCII only: no locale) ---- */

static int is_lower_hex(char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
}

static int is_alnum(char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static int is_uuid(const char *s)
{
	static const char shape[] = "xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx";

	if (strlen(s) != MLA_UUID_LEN)
		return 0;
	for (size_t i = 0; i < MLA_UUID_LEN; i++)
		if (shape[i] == '-' ? s[i] != '-' : !is_lower_hex(s[i]))
			return 0;
	return 1;
}

static int is_case_id(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n > MLA_CASE_ID_MAX)
		return 0;
	for (size_t i = 0; i < n; i++)
		if (!is_alnum(s[i]) && strchr("._/-", s[i]) == NULL)
			return 0;
	return 1;
}

static int is_state(const char *s)
{
	return s[0] >= 'A' && s[0] <= 'Z' && s[1] >= 'A' && s[1] <= 'Z' && s[2] == '\0';
}

static int in_list(const char *s, const char *const *list)
{
	for (; *list != NULL; list++)
		if (strcmp(s, *list) == 0)
			return 1;
	return 0;
}

static int is_error_name(const char *s)
{
	for (int c = -1; c > MLA_ERR_LAST_; c--) {
		const char *name = mla_errname((mla_err)c);
		if (strcmp(name, "unknown") != 0 && strcmp(name, s) == 0)
			return 1;
	}
	return 0;
}

/* Length of the UTF-8 sequence at s (n bytes left) and its code point; 0 when invalid
 * (truncated, overlong, surrogate, beyond U+10FFFF). As in checkpoint.c. */

/* Characters that are invisible or change how a line displays: C0, DEL, C1, zero-width and
 * directional formatting, line and paragraph separators, the byte order mark. */
static int is_hidden(uint32_t c)
{
	return c < 0x20 || (c >= 0x7f && c <= 0x9f) || (c >= 0x200b && c <= 0x200f) ||
	       (c >= 0x2028 && c <= 0x202e) || (c >= 0x2060 && c <= 0x2069) || c == 0xfeff;
}

/* Free text (actor names, reasons): 1 to max bytes of UTF-8 without hidden characters, no
 * space at either end, and not "-" (the absent value). */
int mla_audit_text_ok(const char *s, size_t max)
{
	const uint8_t *p = (const uint8_t *)s;
	size_t n = strlen(s);
	uint32_t cp;

	if (n == 0 || n > max || strcmp(s, ABSENT) == 0 || s[0] == ' ' || s[n - 1] == ' ')
		return 0;
	for (size_t i = 0, l; i < n; i += l)
		if ((l = mla_utf8_next(p + i, n - i, &cp)) == 0 || is_hidden(cp))
			return 0;
	return 1;
}

/* "gateway", a State, or role:name. */
static int is_actor(const char *s)
{
	const char *colon = strchr(s, ':');
	char role[16];

	if (strcmp(s, "gateway") == 0 || is_state(s))
		return 1;
	if (colon == NULL || (size_t)(colon - s) >= sizeof(role))
		return 0;
	memcpy(role, s, (size_t)(colon - s));
	role[colon - s] = '\0';
	return in_list(role, roles) && mla_audit_text_ok(colon + 1, MLA_AUDIT_ACTOR_NAME_MAX);
}

/* Checks a field's presence against the event's rule. */
static mla_err check_presence(const char *field, int present, enum presence rule,
			      const char *event, mla_err code, mla_diag *diag)
{
	if (rule == REQ && !present)
		return mla_fail(diag, code, "audit entry: %s is required for event %s", field,
				event);
	if (rule == NO && present)
		return mla_fail(diag, code, "audit entry: %s is not allowed for event %s", field,
				event);
	return MLA_OK;
}

/* Every field's syntax and vocabulary; code is the error to report. */
static mla_err fields_check(const mla_audit_entry *e, mla_err code, mla_diag *diag)
{
	if (e->time_ms < 0 || e->time_ms > MLA_AUDIT_TIME_MAX_MS)
		return mla_fail(diag, code, "audit entry: time out of range (1970 to 9999)");
	if ((unsigned)e->event >= MLA_AUDIT_EVENT_N)
		return mla_fail(diag, code, "audit entry: unknown event");
	if (e->message_id[0] != '\0' && !is_uuid(e->message_id))
		return mla_fail(diag, code, "audit entry: message is not a lower-case UUID");
	if (e->case_id[0] != '\0' && !is_case_id(e->case_id))
		return mla_fail(diag, code, "audit entry: case is not 1-64 of A-Z a-z 0-9 . _ / -");
	if (e->kind[0] != '\0' && !in_list(e->kind, mla_kinds))
		return mla_fail(diag, code, "audit entry: kind is not a known kind");
	if (e->action[0] != '\0' && !in_list(e->action, mla_actions))
		return mla_fail(diag, code, "audit entry: action is not a known action");
	if (e->from[0] != '\0' && !is_state(e->from))
		return mla_fail(diag, code, "audit entry: from is not a State code (A-Z A-Z)");
	if (e->to[0] != '\0' && !is_state(e->to))
		return mla_fail(diag, code, "audit entry: to is not a State code (A-Z A-Z)");
	if (!is_actor(e->actor))
		return mla_fail(diag, code,
				"audit entry: actor is not gateway, a State or role:name");
	if (e->error[0] != '\0' && !is_error_name(e->error))
		return mla_fail(diag, code, "audit entry: error is not an error name");
	if (e->reason[0] != '\0' && !mla_audit_text_ok(e->reason, MLA_AUDIT_REASON_MAX))
		return mla_fail(diag, code,
				"audit entry: reason is not 1-200 bytes of printable UTF-8 "
				"without spaces at either end");
	return MLA_OK;
}

/* epoch-opened names the previous epoch of its log (SPEC 14, "Log epochs"); no other event
 * has the prev-* fields. */
static mla_err link_check(const mla_audit_entry *e, mla_err code, mla_diag *diag)
{
	char state[3];
	uint32_t epoch;

	if (e->event != MLA_AUDIT_EPOCH_OPENED)
		return e->prev_origin[0] == '\0' && e->prev_size == 0
			       ? MLA_OK
			       : mla_fail(diag, code, "audit entry: prev-origin is only for "
						      "event epoch-opened");
	if (mla_audit_origin_parse(e->prev_origin, state, &epoch) != MLA_OK)
		return mla_fail(diag, code, "audit entry: prev-origin is not mlagw.<cc>/audit or "
				"mlagw.<cc>/audit/<n>");
	if (e->prev_size == 0)
		return mla_fail(diag, code, "audit entry: prev-size is 0 (a link names a signed "
				"head of at least one entry)");
	return MLA_OK;
}

/* The reason's rule: as the event's, except that the record of a request sent by other
 * means (Action other-channel, envelope v2, so an entry of version 5) is submitted and
 * received with its means, time and document digest in the reason (SPEC 14, 16.11). */
static enum presence reason_rule(const mla_audit_entry *e, const struct event_rule *rule)
{
	if (strcmp(e->action, "other-channel") == 0 &&
	    (e->event == MLA_AUDIT_SUBMITTED || e->event == MLA_AUDIT_RECEIVED))
		return REQ;
	return rule->reason;
}

/* grounds: distinct known codes separated by single commas, in mla_audit_grounds order. */
static int grounds_ok(const char *s)
{
	int next = 0;

	while (*s != '\0') {
		const char *comma = strchr(s, ',');
		size_t n = comma != NULL ? (size_t)(comma - s) : strlen(s);
		int k = next;
		while (mla_audit_grounds[k] != NULL &&
		       (strlen(mla_audit_grounds[k]) != n || memcmp(mla_audit_grounds[k], s, n) != 0))
			k++;
		if (mla_audit_grounds[k] == NULL)
			return 0; /* unknown, repeated or out of order */
		next = k + 1;
		if (comma == NULL)
			break;
		if (comma[1] == '\0')
			return 0;
		s = comma + 1;
	}
	return 1;
}

/* The index of code in mla_audit_grounds, or -1. */
static int ground_index(const char *code, size_t n)
{
	for (int k = 0; mla_audit_grounds[k] != NULL; k++)
		if (strlen(mla_audit_grounds[k]) == n && memcmp(mla_audit_grounds[k], code, n) == 0)
			return k;
	return -1;
}

mla_err mla_audit_grounds_add(char *grounds, size_t size, const char *code)
{
	char out[MLA_AUDIT_GROUNDS_MAX + 1];
	const char *p = grounds;
	int add = ground_index(code, strlen(code)), done = 0;
	size_t len = 0;

	if (add < 0)
		return MLA_ERR_ARG;
	out[0] = '\0';
	/* the codes already there (each known: this function put them) and the new one, in
	 * list order, each once */
	for (int k = 0; mla_audit_grounds[k] != NULL; k++) {
		const char *c = mla_audit_grounds[k];
		size_t n = strlen(c);
		int have = k == add;
		for (p = grounds; !have && *p != '\0';) {
			const char *comma = strchr(p, ',');
			size_t m = comma != NULL ? (size_t)(comma - p) : strlen(p);
			have = m == n && memcmp(p, c, n) == 0;
			p += m + (comma != NULL);
		}
		if (!have)
			continue;
		if (len + (done ? 1 : 0) + n + 1 > sizeof(out) || len + (done ? 1 : 0) + n + 1 > size)
			return MLA_ERR_TOO_LARGE;
		if (done)
			out[len++] = ',';
		memcpy(out + len, c, n + 1);
		len += n;
		done = 1;
	}
	memcpy(grounds, out, len + 1);
	return MLA_OK;
}

/* Version 6's fields (SPEC 14): priority only on the entries of case steps, grounds only
 * with a priority and the action refused. */
static mla_err v6_check(const mla_audit_entry *e, mla_err code, mla_diag *diag)
{
	int step_event = e->event == MLA_AUDIT_SUBMITTED || e->event == MLA_AUDIT_ANSWERED ||
			 e->event == MLA_AUDIT_RECEIVED;

	if (e->priority[0] != '\0') {
		if (strcmp(e->priority, "normal") != 0 && strcmp(e->priority, "urgent") != 0 &&
		    strcmp(e->priority, "crisis") != 0)
			return mla_fail(diag, code, "audit entry: priority is not normal, urgent or "
					"crisis");
		if (!step_event || e->case_id[0] == '\0' || e->action[0] == '\0')
			return mla_fail(diag, code, "audit entry: a priority only on a submitted, "
					"answered or received entry naming a case and an action");
	}
	if (e->grounds[0] != '\0') {
		if (e->priority[0] == '\0' || strcmp(e->action, "refused") != 0)
			return mla_fail(diag, code, "audit entry: grounds only with a priority and "
					"the action refused");
		if (!grounds_ok(e->grounds))
			return mla_fail(diag, code, "audit entry: grounds are not distinct known "
					"refusal grounds in their order, separated by commas");
	}
	return MLA_OK;
}

/* Version 7's fields (SPEC 14): the signed attachment list on the entries of a message's
 * envelope, the index of an attachment read on document-fetched only. */
static mla_err v7_check(const mla_audit_entry *e, mla_err code, mla_diag *diag)
{
	int list_event = e->event == MLA_AUDIT_SUBMITTED || e->event == MLA_AUDIT_ANSWERED ||
			 e->event == MLA_AUDIT_SENT || e->event == MLA_AUDIT_DELIVERED ||
			 e->event == MLA_AUDIT_RECEIVED || e->event == MLA_AUDIT_RECEIPT_ISSUED ||
			 e->event == MLA_AUDIT_FAILED || e->event == MLA_AUDIT_RESEALED ||
			 e->event == MLA_AUDIT_RECOVERED || e->event == MLA_AUDIT_DOCUMENT_FETCHED;

	if (e->attachments[0] != '\0') {
		if (!list_event || !e->has_envelope_sha256)
			return mla_fail(diag, code, "audit entry: attachments only on an entry of a "
					"message's envelope, with its envelope-sha256");
		if (!mla_audit_attachments_ok(e->attachments))
			return mla_fail(diag, code, "audit entry: attachments is not index:size:root "
					"for indices 1 to n in order, comma-separated");
	}
	if (e->attachment != 0 && (e->event != MLA_AUDIT_DOCUMENT_FETCHED ||
				   e->attachment > MLA_ATTACH_MAX))
		return mla_fail(diag, code, "audit entry: attachment is an index from 1 to 64, on a "
				"document-fetched entry only");
	return MLA_OK;
}

/* Version 8's fields (SPEC 14): exactly on directory-adopted, each required there. The times
 * are those a directory can state (1970 to 9999, whole seconds) and IssuedAt precedes
 * Expires (SPEC 18.3 step 5). */
static mla_err v8_check(const mla_audit_entry *e, mla_err code, mla_diag *diag)
{
	int any = e->dir_publisher[0] != '\0' || e->dir_serial != 0 || e->dir_issued != 0 ||
		  e->dir_expires != 0 || e->has_dir_sha256;

	if (e->event != MLA_AUDIT_DIRECTORY_ADOPTED) {
		if (any)
			return mla_fail(diag, code, "audit entry: the directory-* fields only on a "
					"directory-adopted entry");
		return MLA_OK;
	}
	if (!is_state(e->dir_publisher) || e->dir_serial == 0 || !e->has_dir_sha256)
		return mla_fail(diag, code, "audit entry: directory-adopted requires "
				"directory-publisher, directory-serial and directory-sha256");
	if (e->dir_issued < 0 || e->dir_expires <= e->dir_issued ||
	    e->dir_expires > MLA_AUDIT_TIME_MAX_MS / 1000)
		return mla_fail(diag, code, "audit entry: directory-issued must precede "
				"directory-expires, both from 1970 to 9999");
	if (e->message_id[0] != '\0' || e->count != 1)
		return mla_fail(diag, code, "audit entry: directory-adopted names no message");
	return MLA_OK;
}

/* The fields, then the event's rules. */
static mla_err entry_check(const mla_audit_entry *e, mla_err code, mla_diag *diag)
{
	const struct event_rule *rule;
	mla_err r;

	if ((r = fields_check(e, code, diag)) != MLA_OK || (r = v6_check(e, code, diag)) != MLA_OK ||
	    (r = v7_check(e, code, diag)) != MLA_OK || (r = v8_check(e, code, diag)) != MLA_OK)
		return r;
	rule = &events[e->event];
	if (e->count == 0)
		return mla_fail(diag, code, "audit entry: count is 0 (1 event or more)");
	if (e->count > 1 && !rule->counted)
		return mla_fail(diag, code, "audit entry: count is not allowed for event %s",
				rule->name);
	if ((r = check_presence("message", e->message_id[0] != '\0', rule->message, rule->name,
				code, diag)) != MLA_OK ||
	    (r = check_presence("error", e->error[0] != '\0', rule->error, rule->name, code,
				diag)) != MLA_OK)
		return r;
	if ((r = check_presence("reason", e->reason[0] != '\0', reason_rule(e, rule), rule->name,
				code, diag)) != MLA_OK ||
	    (r = check_presence("envelope-sha256", e->has_envelope_sha256, rule->envelope,
				rule->name, code, diag)) != MLA_OK ||
	    (r = check_presence("receipt-sha256", e->has_receipt_sha256, rule->receipt,
				rule->name, code, diag)) != MLA_OK ||
	    (r = check_presence("prev-envelope-sha256", e->has_prev_envelope_sha256,
				e->event == MLA_AUDIT_RESEALED ? REQ : NO, rule->name, code,
				diag)) != MLA_OK ||
	    (r = check_presence("audit-cert-sha256", e->has_audit_cert_sha256,
				e->event == MLA_AUDIT_AUDIT_KEY_CHANGED ? REQ : NO, rule->name, code,
				diag)) != MLA_OK)
		return r;
	return link_check(e, code, diag);
}

/* ---- time: milliseconds since the epoch <-> YYYY-MM-DDThh:mm:ss.mmmZ (mlagw/codec.h) ---- */

static mla_err time_format(int64_t ms, mla_buf *out)
{
	char t[MLA_TIME_MS_LEN];

	mla_time_ms_format(ms, t); /* entry_check keeps ms within 1970 .. 9999 */
	return mla_buf_printf(out, "time %s\n", t);
}

/* ---- serialize ---- */

static mla_err put_str(mla_buf *out, const char *key, const char *v)
{
	return mla_buf_printf(out, "%s %s\n", key, v[0] != '\0' ? v : ABSENT);
}

static mla_err put_digest(mla_buf *out, const char *key, int has, const uint8_t d[32])
{
	char hex[65];

	if (!has)
		return put_str(out, key, "");
	if (mla_hex_encode(d, 32, hex, sizeof(hex)) != MLA_OK)
		return MLA_ERR_INTERNAL; /* hex is sized for 32 bytes */
	return mla_buf_printf(out, "%s %s\n", key, hex);
}

/* Version 3's lines after count: the previous epoch's head and its log's signature. */
static mla_err link_write(const mla_audit_entry *e, mla_buf *out)
{
	char root[MLA_B64_LEN(32) + 1], sig[MLA_B64_LEN(MLA_AUDIT_LINK_SIG_LEN) + 1];

	if (mla_b64_encode(e->prev_root, 32, root, sizeof(root)) != MLA_OK ||
	    mla_b64_encode(e->prev_sig, sizeof(e->prev_sig), sig, sizeof(sig)) != MLA_OK)
		return MLA_ERR_INTERNAL; /* sized for these lengths */
	return mla_buf_printf(out, "prev-origin %s\nprev-size %" PRIu64 "\nprev-root %s\n"
			      "prev-signature %s\n", e->prev_origin, e->prev_size, root, sig);
}

/* Version 4's lines after reason: count 1, version 3's link lines absent, then the digest
 * of the seal a resealed entry replaces and of the certificate an audit-key-changed names. */
static mla_err v4_write(const mla_audit_entry *e, mla_buf *out)
{
	mla_err r = mla_buf_printf(out, "count 1\nprev-origin -\nprev-size -\nprev-root -\n"
				   "prev-signature -\n");

	if (r != MLA_OK || (r = put_digest(out, "prev-envelope-sha256", e->has_prev_envelope_sha256,
					   e->prev_envelope_sha256)) != MLA_OK)
		return r;
	return put_digest(out, "audit-cert-sha256", e->has_audit_cert_sha256,
			  e->audit_cert_sha256);
}

/* Version 5's lines after reason: version 4's, each holding what the entry's event puts
 * there in the version it would otherwise have: its count, the link of an epoch-opened (else
 * absent), the digests of the version 4 events (else absent). */
static mla_err v5_write(const mla_audit_entry *e, mla_buf *out)
{
	mla_err r = mla_buf_printf(out, "count %" PRIu32 "\n", e->count);

	if (r != MLA_OK)
		return r;
	if (e->event == MLA_AUDIT_EPOCH_OPENED)
		r = link_write(e, out);
	else
		r = mla_buf_printf(out, "prev-origin -\nprev-size -\nprev-root -\n"
				   "prev-signature -\n");
	if (r != MLA_OK || (r = put_digest(out, "prev-envelope-sha256", e->has_prev_envelope_sha256,
					   e->prev_envelope_sha256)) != MLA_OK)
		return r;
	return put_digest(out, "audit-cert-sha256", e->has_audit_cert_sha256,
			  e->audit_cert_sha256);
}

/* The version an entry would have without its Kind and Action: the one its event alone has
 * (3, 4), else 2 for an aggregate and 1 for one event. */
static int event_version(const mla_audit_entry *e)
{
	int only = events[e->event].only_version;

	return only != 0 ? only : e->count > 1 ? 2 : 1;
}

/* Non-zero when the entry names a Kind or Action of envelope version 2 only (SPEC 16.7). */
static int names_envelope_v2(const mla_audit_entry *e)
{
	return (e->kind[0] != '\0' && mla_kind_version(e->kind) > 1) ||
	       (e->action[0] != '\0' && mla_action_version(e->action) > 1);
}

/* The version an entry is written in (SPEC 11 rule 12: the lowest that holds it): 6 for one
 * with a priority, 5 for one naming an envelope version 2 value, the only versions that can,
 * else event_version. */
static int entry_version(const mla_audit_entry *e)
{
	if (e->event == MLA_AUDIT_DIRECTORY_ADOPTED)
		return 8;
	if (e->event == MLA_AUDIT_DIRECTORY_REFUSED)
		return 9;
	if (e->attachments[0] != '\0' || e->attachment != 0)
		return 7;
	if (e->priority[0] != '\0')
		return 6;
	return names_envelope_v2(e) ? 5 : event_version(e);
}

/* Version 8's last lines: the directory adopted (v8_check: all present). */
static mla_err v8_write(const mla_audit_entry *e, mla_buf *out)
{
	char issued[MLA_TIME_LEN], expires[MLA_TIME_LEN];
	mla_err r;

	mla_time_format((time_t)e->dir_issued, issued);
	mla_time_format((time_t)e->dir_expires, expires);
	if ((r = mla_buf_printf(out, "directory-publisher %s\ndirectory-serial %" PRIu64 "\n"
				"directory-issued %s\ndirectory-expires %s\n", e->dir_publisher,
				e->dir_serial, issued, expires)) != MLA_OK)
		return r;
	return put_digest(out, "directory-sha256", e->has_dir_sha256, e->dir_sha256);
}

static mla_err entry_write(const mla_audit_entry *e, mla_buf *out)
{
	static const char *const magic_of[] = {NULL,   MAGIC1, MAGIC2, MAGIC3, MAGIC4,
					       MAGIC5, MAGIC6, MAGIC7, MAGIC8, MAGIC9};
	int version = entry_version(e);
	const char *magic = magic_of[version];
	mla_err r;

	if ((r = mla_buf_printf(out, "%s\nseq %" PRIu64 "\n", magic, e->seq)) != MLA_OK ||
	    (r = time_format(e->time_ms, out)) != MLA_OK ||
	    (r = put_str(out, "event", events[e->event].name)) != MLA_OK ||
	    (r = put_str(out, "message", e->message_id)) != MLA_OK ||
	    (r = put_str(out, "case", e->case_id)) != MLA_OK ||
	    (r = put_str(out, "kind", e->kind)) != MLA_OK ||
	    (r = put_str(out, "action", e->action)) != MLA_OK ||
	    (r = put_str(out, "from", e->from)) != MLA_OK ||
	    (r = put_str(out, "to", e->to)) != MLA_OK ||
	    (r = put_str(out, "actor", e->actor)) != MLA_OK ||
	    (r = put_digest(out, "envelope-sha256", e->has_envelope_sha256, e->envelope_sha256)) !=
		    MLA_OK ||
	    (r = put_digest(out, "receipt-sha256", e->has_receipt_sha256, e->receipt_sha256)) !=
		    MLA_OK ||
	    (r = put_str(out, "error", e->error)) != MLA_OK)
		return r;
	if ((r = put_str(out, "reason", e->reason)) != MLA_OK || version == 1)
		return r;
	if (version == 4)
		return v4_write(e, out);
	if (version == 5)
		return v5_write(e, out);
	if (version >= 6) {
		if ((r = v5_write(e, out)) != MLA_OK ||
		    (r = put_str(out, "priority", e->priority)) != MLA_OK ||
		    (r = put_str(out, "grounds", e->grounds)) != MLA_OK || version == 6)
			return r;
		if ((r = put_str(out, "attachments", e->attachments)) != MLA_OK ||
		    (r = e->attachment != 0 ? mla_buf_printf(out, "attachment %" PRIu32 "\n",
							     e->attachment)
					    : put_str(out, "attachment", "")) != MLA_OK ||
		    version == 7 || version == 9)
			return r; /* version 9: version 7's lines */
		return v8_write(e, out);
	}
	if ((r = mla_buf_printf(out, "count %" PRIu32 "\n", e->count)) != MLA_OK ||
	    version == 2)
		return r;
	return link_write(e, out);
}

mla_err mla_audit_entry_serialize(const mla_audit_entry *e, mla_buf *out, mla_diag *diag)
{
	size_t start = out->len;
	mla_err r;

	if ((r = entry_check(e, MLA_ERR_ARG, diag)) != MLA_OK)
		return r;
	if ((r = entry_write(e, out)) != MLA_OK) {
		out->len = start;
		return mla_fail(diag, r, "audit entry: the output buffer cannot hold the entry");
	}
	return MLA_OK;
}

/* ---- parse ---- */

struct cursor {
	const char *p, *end;
	unsigned line;
	mla_diag *diag;
};

/* The next line, which must be "key SP value LF" with a non-empty value of at most max
 * bytes and no NUL; *v and *n receive the value. */
static mla_err take(struct cursor *c, const char *key, size_t max, const char **v, size_t *n)
{
	size_t klen = strlen(key);
	const char *lf;

	c->line++;
	if ((size_t)(c->end - c->p) <= klen || memcmp(c->p, key, klen) != 0 || c->p[klen] != ' ')
		return mla_fail(c->diag, MLA_ERR_HEADER, "audit entry line %u: expected field %s",
				c->line, key);
	c->p += klen + 1;
	if ((lf = memchr(c->p, '\n', (size_t)(c->end - c->p))) == NULL)
		return mla_fail(c->diag, MLA_ERR_HEADER,
				"audit entry line %u: %s does not end with a newline", c->line,
				key);
	*v = c->p;
	*n = (size_t)(lf - c->p);
	c->p = lf + 1;
	if (*n == 0 || *n > max || memchr(*v, '\0', *n) != NULL)
		return mla_fail(c->diag, MLA_ERR_HEADER,
				"audit entry line %u: %s value is empty, too long or holds NUL",
				c->line, key);
	return MLA_OK;
}

/* A string field: "-" is absent. Its rules are checked afterwards by entry_check. */
static mla_err take_str(struct cursor *c, const char *key, char *dst, size_t size)
{
	const char *v = NULL; /* set by take; initialised for -O3's maybe-uninitialized */
	size_t n = 0;
	mla_err r;

	if ((r = take(c, key, size - 1, &v, &n)) != MLA_OK)
		return r;
	if (n == 1 && v[0] == '-')
		n = 0;
	memcpy(dst, v, n);
	dst[n] = '\0';
	return MLA_OK;
}

static mla_err take_digest(struct cursor *c, const char *key, int *has, uint8_t d[32])
{
	const char *v;
	size_t n;
	mla_err r;

	if ((r = take(c, key, 64, &v, &n)) != MLA_OK)
		return r;
	if (n == 1 && v[0] == '-')
		return MLA_OK;
	if (mla_hex_decode(v, n, d, 32, NULL) != MLA_OK)
		return mla_fail(c->diag, MLA_ERR_HEADER,
				"audit entry line %u: %s is not 64 lower-case hex digits", c->line,
				key);
	*has = 1;
	return MLA_OK;
}

/* A decimal field from min to max without leading zeros; what names the rule in the error. */
static mla_err take_decimal(struct cursor *c, const char *key, size_t width, uint64_t min,
			    uint64_t max, const char *what, uint64_t *out)
{
	const char *v;
	size_t n;
	mla_err r;

	if ((r = take(c, key, width, &v, &n)) != MLA_OK)
		return r;
	if (mla_parse_u64n(v, n, min, max, out) != MLA_OK)
		return mla_fail(c->diag, MLA_ERR_HEADER, "audit entry line %u: %s is not %s",
				c->line, key, what);
	return MLA_OK;
}

static mla_err take_seq(struct cursor *c, uint64_t *seq)
{
	return take_decimal(c, "seq", 20, 0, UINT64_MAX,
			    "a decimal uint64 without leading zeros", seq);
}

/* Version 2's last line: 2 to 2^32 - 1 events, decimal without leading zeros (a count of 1
 * is written as version 1, so that each entry keeps one byte string). */
static mla_err take_count(struct cursor *c, uint32_t *count)
{
	uint64_t x = 0;
	mla_err r = take_decimal(c, "count", 10, 2, UINT32_MAX,
				 "a decimal from 2 to 4294967295 without leading zeros", &x);

	if (r == MLA_OK)
		*count = (uint32_t)x;
	return r;
}

/* base64 of exactly n bytes (canonical: decode and encode give the same text). */
static mla_err take_b64(struct cursor *c, const char *key, uint8_t *out, size_t n)
{
	char again[MLA_B64_LEN(MLA_AUDIT_LINK_SIG_LEN) + 1];
	const char *v;
	size_t len, got = 0;
	mla_err r;

	if ((r = take(c, key, MLA_B64_LEN(n), &v, &len)) != MLA_OK)
		return r;
	if (len != MLA_B64_LEN(n) || mla_b64_decode(v, len, out, n, &got) != MLA_OK || got != n ||
	    mla_b64_encode(out, n, again, sizeof(again)) != MLA_OK || memcmp(again, v, len) != 0)
		return mla_fail(c->diag, MLA_ERR_HEADER,
				"audit entry line %u: %s is not the base64 of %zu bytes", c->line,
				key, n);
	return MLA_OK;
}

/* Version 3: count 1, then the previous epoch's head (SPEC 14, "Log epochs"). */
static mla_err take_link(struct cursor *c, mla_audit_entry *e)
{
	uint64_t count = 0;
	mla_err r;

	if ((r = take_decimal(c, "count", 1, 1, 1, "1 (version 3 holds one event)", &count)) !=
		    MLA_OK ||
	    (r = take_str(c, "prev-origin", e->prev_origin, sizeof(e->prev_origin))) != MLA_OK ||
	    (r = take_decimal(c, "prev-size", 20, 1, UINT64_MAX,
			      "a decimal from 1 without leading zeros", &e->prev_size)) != MLA_OK ||
	    (r = take_b64(c, "prev-root", e->prev_root, 32)) != MLA_OK)
		return r;
	return take_b64(c, "prev-signature", e->prev_sig, sizeof(e->prev_sig));
}

/* A line whose value must be the absent value "-" (version 4's and 5's copy of version 3's
 * link). */
static mla_err take_absent(struct cursor *c, const char *key, const char *why)
{
	const char *v;
	size_t n;
	mla_err r;

	if ((r = take(c, key, 1, &v, &n)) != MLA_OK)
		return r;
	if (v[0] != '-')
		return mla_fail(c->diag, MLA_ERR_HEADER,
				"audit entry line %u: %s must be - %s", c->line, key, why);
	return MLA_OK;
}

/* Version 4: count 1, version 3's link lines absent, then prev-envelope-sha256 and
 * audit-cert-sha256. */
static mla_err take_v4(struct cursor *c, mla_audit_entry *e)
{
	uint64_t count = 0;
	mla_err r;

	if ((r = take_decimal(c, "count", 1, 1, 1, "1 (version 4 holds one event)", &count)) !=
		    MLA_OK ||
	    (r = take_absent(c, "prev-origin", "in version 4")) != MLA_OK ||
	    (r = take_absent(c, "prev-size", "in version 4")) != MLA_OK ||
	    (r = take_absent(c, "prev-root", "in version 4")) != MLA_OK ||
	    (r = take_absent(c, "prev-signature", "in version 4")) != MLA_OK)
		return r;
	if ((r = take_digest(c, "prev-envelope-sha256", &e->has_prev_envelope_sha256,
			     e->prev_envelope_sha256)) != MLA_OK)
		return r;
	return take_digest(c, "audit-cert-sha256", &e->has_audit_cert_sha256,
			   e->audit_cert_sha256);
}

/* Version 5: version 4's lines, each as the entry's event has it in the version it would
 * otherwise have (v5_write): a count from 1 (entry_check allows more than 1 only to the
 * counted events), the link lines all absent or, for epoch-opened, all present, and the two
 * digests (entry_check: only for resealed and audit-key-changed). */
static mla_err take_v5(struct cursor *c, mla_audit_entry *e)
{
	uint64_t count = 0;
	mla_err r;

	if ((r = take_decimal(c, "count", 10, 1, UINT32_MAX,
			      "a decimal from 1 to 4294967295 without leading zeros", &count)) !=
		    MLA_OK ||
	    (r = take_str(c, "prev-origin", e->prev_origin, sizeof(e->prev_origin))) != MLA_OK)
		return r;
	e->count = (uint32_t)count;
	if (e->prev_origin[0] == '\0') {
		if ((r = take_absent(c, "prev-size", "when prev-origin is -")) != MLA_OK ||
		    (r = take_absent(c, "prev-root", "when prev-origin is -")) != MLA_OK ||
		    (r = take_absent(c, "prev-signature", "when prev-origin is -")) != MLA_OK)
			return r;
	} else if ((r = take_decimal(c, "prev-size", 20, 1, UINT64_MAX,
				     "a decimal from 1 without leading zeros", &e->prev_size)) !=
			   MLA_OK ||
		   (r = take_b64(c, "prev-root", e->prev_root, 32)) != MLA_OK ||
		   (r = take_b64(c, "prev-signature", e->prev_sig, sizeof(e->prev_sig))) != MLA_OK) {
		return r;
	}
	if ((r = take_digest(c, "prev-envelope-sha256", &e->has_prev_envelope_sha256,
			     e->prev_envelope_sha256)) != MLA_OK)
		return r;
	return take_digest(c, "audit-cert-sha256", &e->has_audit_cert_sha256,
			   e->audit_cert_sha256);
}

/* Version 7's last lines: attachments (a string checked by entry_check) and attachment, an
 * index from 1 to 64 or absent. */
static mla_err take_v7(struct cursor *c, mla_audit_entry *e)
{
	const char *v = NULL;
	uint64_t x = 0;
	size_t n = 0;
	mla_err r;

	if ((r = take_str(c, "attachments", e->attachments, sizeof(e->attachments))) != MLA_OK ||
	    (r = take(c, "attachment", 2, &v, &n)) != MLA_OK)
		return r;
	if (n == 1 && v[0] == '-')
		return MLA_OK;
	if (mla_parse_u64n(v, n, 1, MLA_ATTACH_MAX, &x) != MLA_OK)
		return mla_fail(c->diag, MLA_ERR_HEADER, "audit entry line %u: attachment is not "
				"an index from 1 to 64 or -", c->line);
	e->attachment = (uint32_t)x;
	return MLA_OK;
}

/* A directory time, YYYY-MM-DDThh:mm:ssZ, written back exactly as read. */
static mla_err take_dir_time(struct cursor *c, const char *key, int64_t *out)
{
	char t[MLA_TIME_LEN];
	const char *v;
	size_t n;
	time_t x;
	mla_err r;

	if ((r = take(c, key, MLA_TIME_LEN - 1, &v, &n)) != MLA_OK)
		return r;
	memcpy(t, v, n);
	t[n] = '\0';
	if ((x = mla_time_parse(t)) == (time_t)-1) /* exactly that form: it round-trips */
		return mla_fail(c->diag, MLA_ERR_HEADER, "audit entry line %u: %s is not "
				"YYYY-MM-DDThh:mm:ssZ (UTC)", c->line, key);
	*out = (int64_t)x;
	return MLA_OK;
}

/* Version 8's last lines: the directory adopted (SPEC 14). */
static mla_err take_v8(struct cursor *c, mla_audit_entry *e)
{
	mla_err r;

	if ((r = take_str(c, "directory-publisher", e->dir_publisher,
			  sizeof(e->dir_publisher))) != MLA_OK ||
	    (r = take_decimal(c, "directory-serial", 20, 1, UINT64_MAX,
			      "a decimal from 1 without leading zeros", &e->dir_serial)) != MLA_OK ||
	    (r = take_dir_time(c, "directory-issued", &e->dir_issued)) != MLA_OK ||
	    (r = take_dir_time(c, "directory-expires", &e->dir_expires)) != MLA_OK)
		return r;
	return take_digest(c, "directory-sha256", &e->has_dir_sha256, e->dir_sha256);
}

/* The first line names the version (SPEC 11 rule 12): 1 to VERSION_MAX into *version. */
static mla_err take_magic(struct cursor *c, int *version)
{
	static const char *const magic_of[] = {NULL,   MAGIC1, MAGIC2, MAGIC3, MAGIC4,
					       MAGIC5, MAGIC6, MAGIC7, MAGIC8, MAGIC9};
	size_t left = (size_t)(c->end - c->p);

	_Static_assert(sizeof(MAGIC1) == sizeof(MAGIC2) && sizeof(MAGIC1) == sizeof(MAGIC3) &&
			       sizeof(MAGIC1) == sizeof(MAGIC4) && sizeof(MAGIC1) == sizeof(MAGIC5) &&
			       sizeof(MAGIC1) == sizeof(MAGIC6) && sizeof(MAGIC1) == sizeof(MAGIC7) &&
			       sizeof(MAGIC1) == sizeof(MAGIC8) && sizeof(MAGIC1) == sizeof(MAGIC9),
		       "version lines of one length");
	c->line = 1;
	*version = 0;
	for (int v = 1; v <= VERSION_MAX; v++)
		if (left >= sizeof(MAGIC1) && memcmp(c->p, magic_of[v], sizeof(MAGIC1) - 1) == 0 &&
		    c->p[sizeof(MAGIC1) - 1] == '\n')
			*version = v;
	if (*version == 0)
		return mla_fail(c->diag, MLA_ERR_HEADER, "audit entry line 1: not " MAGIC1 ", "
				MAGIC2 ", " MAGIC3 ", " MAGIC4 ", " MAGIC5 ", " MAGIC6 ", " MAGIC7
				", " MAGIC8 " or " MAGIC9);
	c->p += sizeof(MAGIC1);
	return MLA_OK;
}

/* Each version holds exactly what it alone can, so that every entry has one byte string (a
 * version 2 entry has a count from 2, checked by take_count): version 5 exactly the entries
 * naming an envelope version 2 Kind or Action, the others the events they alone hold. */
static mla_err version_check(const mla_audit_entry *e, int version, mla_diag *diag)
{
	int want = entry_version(e);

	if (version == want)
		return MLA_OK;
	if (version == 9 || want == 9)
		return mla_fail(diag, MLA_ERR_HEADER, "audit entry: version 9 holds exactly the "
				"event directory-refused; this entry is version %d, not %d", want,
				version);
	if (version == 8 || want == 8)
		return mla_fail(diag, MLA_ERR_HEADER, "audit entry: version 8 holds exactly the "
				"event directory-adopted; this entry is version %d, not %d", want,
				version);
	if (version == 7 || want == 7)
		return mla_fail(diag, MLA_ERR_HEADER, "audit entry: version 7 holds exactly the "
				"entries naming attachments; this entry is version %d, not %d", want,
				version);
	if (version == 6)
		return mla_fail(diag, MLA_ERR_HEADER, "audit entry: version 6 holds only entries "
				"with a priority; this entry is version %d", want);
	if (want == 5 && events[e->event].only_version == 5)
		return mla_fail(diag, MLA_ERR_HEADER, "audit entry: event %s is written as "
				"version 5 only, not %d", events[e->event].name, version);
	if (want == 5)
		return mla_fail(diag, MLA_ERR_HEADER,
				"audit entry: kind %s, action %s of envelope version 2 are written "
				"as version 5 only, not %d", e->kind[0] ? e->kind : ABSENT,
				e->action[0] ? e->action : ABSENT, version);
	if (version == 5)
		return mla_fail(diag, MLA_ERR_HEADER,
				"audit entry: version 5 holds only a kind or action of envelope "
				"version 2; this entry is version %d", want);
	return mla_fail(diag, MLA_ERR_HEADER, "audit entry: event %s is not written as version %d",
			events[e->event].name, version);
}

/* The lines in order into e, each field's syntax but not yet the cross-field rules. */
static mla_err entry_read(struct cursor *c, mla_audit_entry *e)
{
	char word[32];
	const char *v;
	size_t n;
	int version;
	mla_err r;

	if ((r = take_magic(c, &version)) != MLA_OK)
		return r;
	if ((r = take_seq(c, &e->seq)) != MLA_OK || (r = take(c, "time", 24, &v, &n)) != MLA_OK)
		return r;
	if (mla_time_ms_parse(v, n, &e->time_ms) != MLA_OK)
		return mla_fail(c->diag, MLA_ERR_HEADER,
				"audit entry line %u: time is not YYYY-MM-DDThh:mm:ss.mmmZ (UTC)",
				c->line);
	if ((r = take_str(c, "event", word, sizeof(word))) != MLA_OK)
		return r;
	if (mla_audit_event_parse(word, &e->event) != MLA_OK)
		return mla_fail(c->diag, MLA_ERR_HEADER, "audit entry line %u: unknown event",
				c->line);
	if ((r = take_str(c, "message", e->message_id, sizeof(e->message_id))) != MLA_OK ||
	    (r = take_str(c, "case", e->case_id, sizeof(e->case_id))) != MLA_OK ||
	    (r = take_str(c, "kind", e->kind, sizeof(e->kind))) != MLA_OK ||
	    (r = take_str(c, "action", e->action, sizeof(e->action))) != MLA_OK ||
	    (r = take_str(c, "from", e->from, sizeof(e->from))) != MLA_OK ||
	    (r = take_str(c, "to", e->to, sizeof(e->to))) != MLA_OK ||
	    (r = take_str(c, "actor", e->actor, sizeof(e->actor))) != MLA_OK ||
	    (r = take_digest(c, "envelope-sha256", &e->has_envelope_sha256,
			     e->envelope_sha256)) != MLA_OK ||
	    (r = take_digest(c, "receipt-sha256", &e->has_receipt_sha256, e->receipt_sha256)) !=
		    MLA_OK ||
	    (r = take_str(c, "error", e->error, sizeof(e->error))) != MLA_OK ||
	    (r = take_str(c, "reason", e->reason, sizeof(e->reason))) != MLA_OK)
		return r;
	if (version == 2 && (r = take_count(c, &e->count)) != MLA_OK)
		return r;
	if (version == 3 && (r = take_link(c, e)) != MLA_OK)
		return r;
	if (version == 4 && (r = take_v4(c, e)) != MLA_OK)
		return r;
	if (version >= 5 && (r = take_v5(c, e)) != MLA_OK)
		return r;
	if (version >= 6 &&
	    ((r = take_str(c, "priority", e->priority, sizeof(e->priority))) != MLA_OK ||
	     (r = take_str(c, "grounds", e->grounds, sizeof(e->grounds))) != MLA_OK))
		return r;
	if (version >= 7 && (r = take_v7(c, e)) != MLA_OK)
		return r;
	if (version == 8 && (r = take_v8(c, e)) != MLA_OK)
		return r;
	if (c->p != c->end)
		return mla_fail(c->diag, MLA_ERR_HEADER, "audit entry: data after the %s line",
				version == 8   ? "directory-sha256"
				: version >= 7 ? "attachment"
				: version == 6 ? "grounds"
				: version >= 4 ? "audit-cert-sha256"
				: version == 3 ? "prev-signature"
				: version == 2 ? "count"
					       : "reason");
	return version_check(e, version, c->diag);
}

/* One pass, no re-serialisation: every reader above accepts only the spelling serialize
 * writes for the value it reads (seq without leading zeros, the one 24-byte time of a real
 * date, "-" only for an absent field, lower-case hex), entry_read refuses anything around or
 * between the lines, and entry_check then holds each value to the rules serialize holds it
 * to. So an accepted entry serializes back to exactly its bytes (checked by
 * tests/unit/test_audit_entry.c on mutated entries and by the fuzz harness). */
mla_err mla_audit_entry_parse(const uint8_t *data, size_t len, mla_audit_entry *e,
			      mla_diag *diag)
{
	struct cursor c = {(const char *)data, (const char *)data + len, 0, diag};
	mla_err r;

	mla_audit_entry_init(e);
	if (len > MLA_AUDIT_ENTRY_MAX)
		return mla_fail(diag, MLA_ERR_TOO_LARGE, "audit entry longer than %d bytes",
				MLA_AUDIT_ENTRY_MAX);
	if (data == NULL || len == 0)
		return mla_fail(diag, MLA_ERR_HEADER, "audit entry is empty");
	if ((r = entry_read(&c, e)) != MLA_OK)
		return r;
	return entry_check(e, MLA_ERR_HEADER, diag);
}

mla_err mla_audit_entry_leaf_hash(const mla_audit_entry *e, uint8_t out[MLA_MERKLE_HASH_LEN],
				  mla_diag *diag)
{
	mla_buf b;
	mla_err r;

	mla_buf_init(&b, MLA_AUDIT_ENTRY_MAX);
	if ((r = mla_audit_entry_serialize(e, &b, diag)) == MLA_OK &&
	    (r = mla_merkle_leaf_hash(b.data, b.len, out)) != MLA_OK)
		r = mla_fail(diag, r, "audit entry: leaf hash failed");
	mla_buf_free(&b);
	return r;
}
