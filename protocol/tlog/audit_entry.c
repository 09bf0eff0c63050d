/* The audit log entry's rules (protocol/SPEC.md section 14, "Entry serialization"): the event
 * table and names, and the checks of every field and of each version's fields, which both the
 * writer (audit_entry_write.c) and the strict parser (audit_entry_parse.c) hold entries to. */
#include <string.h>

#include "audit_entry_internal.h"
#include "mlagw/codec.h"
#include "mlagw/text.h"

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

	if (n == 0 || n > max || strcmp(s, AUDIT_ENTRY_ABSENT) == 0 || s[0] == ' ' ||
	    s[n - 1] == ' ')
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
mla_err audit_entry_check(const mla_audit_entry *e, mla_err code, mla_diag *diag)
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

/* Each version's first line, of one length so that the parser compares them as one. */
const char *const audit_entry_magic[AUDIT_ENTRY_VERSION_MAX + 1] = {
	NULL,
	AUDIT_ENTRY_MAGIC1, AUDIT_ENTRY_MAGIC2, AUDIT_ENTRY_MAGIC3, AUDIT_ENTRY_MAGIC4,
	AUDIT_ENTRY_MAGIC5, AUDIT_ENTRY_MAGIC6, AUDIT_ENTRY_MAGIC7, AUDIT_ENTRY_MAGIC8,
	AUDIT_ENTRY_MAGIC9,
};
_Static_assert(sizeof(AUDIT_ENTRY_MAGIC1) == sizeof(AUDIT_ENTRY_MAGIC2) &&
		       sizeof(AUDIT_ENTRY_MAGIC1) == sizeof(AUDIT_ENTRY_MAGIC3) &&
		       sizeof(AUDIT_ENTRY_MAGIC1) == sizeof(AUDIT_ENTRY_MAGIC4) &&
		       sizeof(AUDIT_ENTRY_MAGIC1) == sizeof(AUDIT_ENTRY_MAGIC5) &&
		       sizeof(AUDIT_ENTRY_MAGIC1) == sizeof(AUDIT_ENTRY_MAGIC6) &&
		       sizeof(AUDIT_ENTRY_MAGIC1) == sizeof(AUDIT_ENTRY_MAGIC7) &&
		       sizeof(AUDIT_ENTRY_MAGIC1) == sizeof(AUDIT_ENTRY_MAGIC8) &&
		       sizeof(AUDIT_ENTRY_MAGIC1) == sizeof(AUDIT_ENTRY_MAGIC9),
	       "version lines of one length");

int audit_event_only_version(mla_audit_event ev)
{
	return events[ev].only_version;
}
