/* mlagw audit new-epoch: after a store loss (restored from a backup, recreated, its
 * write-ahead log lost) the log cannot continue the history its peers cosigned; the operator
 * opens a new log epoch (protocol/SPEC.md section 14, "Log epochs"; docs/operations.md). On
 * a stopped gateway's store: the current epoch's bundle is archived and verified, the link
 * head chosen (the largest head a peer showed at the last start, else the store's latest
 * checkpoint), and the store moved to the next epoch in one transaction; the daemon then
 * writes the link as entry 0 of the new log. */
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <openssl/x509.h>

#include "audit_bundle.h"
#include "audit_epoch.h"
#include "cli_util.h"
#include "mlagw/audit_entry.h"
#include "mlagw/checkpoint.h"
#include "mlagw/codec.h"
#include "mlagw/pem.h"
#include "store/store.h"
#include "store/store_check.h"

#define CMD "audit new-epoch"
#define HEADS_MAX 32

static const char epoch_usage[] =
	"usage: mlagw audit new-epoch --store STORE.db --cert AUDIT.crt --archive OUT.bundle\n"
	"                             --trust DIR [--key AUDIT.key]\n"
	"Opens the next epoch of a gateway's audit log after its store was lost and restored or\n"
	"rebuilt (docs/operations.md). The gateway must be stopped. Writes the current epoch's\n"
	"bundle to OUT.bundle and verifies it with the roots in DIR; links the new epoch to the\n"
	"largest head of the log a peer showed at the last start (all peers must agree at equal\n"
	"sizes), or to the store's latest checkpoint when none did; then, in one transaction,\n"
	"removes the old epoch's entries and checkpoints (the archive keeps them) and moves the\n"
	"store to the next epoch, whose first entry the gateway writes at its next start.\n"
	"--key: the audit key, to sign a last checkpoint of the old epoch over the entries the\n"
	"store holds beyond its latest checkpoint (after checking them against the signed heads),\n"
	"so that the archive keeps them too.\n"
	"exit: 0 opened, 1 refused (heads disagree, archive does not verify, nothing to link),\n"
	"2 usage, 3 cannot read the store or certificate or write the archive\n";

struct epoch_args {
	const char *store, *cert, *archive, *trust, *key;
};

/* One signed head of the current epoch: from a peer ("CO") or the store ("store"). */
struct head {
	char from[8];
	mla_checkpoint cp;
	char *note;
	size_t len;
	uint32_t epoch; /* of its log, once opened */
};

struct epoch_ctx {
	const struct epoch_args *a;
	char state[3], origin[MLA_AUDIT_ORIGIN_MAX + 1];
	uint32_t epoch;
	struct store_keyring keys;
	struct head heads[HEADS_MAX];
	size_t nheads;
	struct head latest; /* the store's latest checkpoint (note NULL: none) */
	int latest_ok;      /* it verified */
	int bad_epoch;
	uint8_t cert_key[32]; /* the audit certificate's Ed25519 key */
	/* the epoch linked to: the store's, or a later one a peer showed (a backup older than an
	 * epoch opened since) */
	uint32_t link_epoch;
	char link_origin[MLA_AUDIT_ORIGIN_MAX + 1];
};

static int apply(int c, const char *v, void *arg)
{
	struct epoch_args *a = arg;

	switch (c) {
	case 's': a->store = v; break;
	case 'c': a->cert = v; break;
	case 'o': a->archive = v; break;
	case 't': a->trust = v; break;
	case 'k': a->key = v; break;
	default: return CLI_USAGE;
	}
	return CLI_OK;
}

/* The State of the certificate and its key as a verifier of the log's current origin. */
static int load_cert(struct epoch_ctx *x)
{
	mla_diag d = {MLA_OK, ""};
	mla_note_verifier v;
	X509 *cert = NULL;
	mla_err r;
	int n;

	if ((r = mla_pem_load_cert(x->a->cert, &cert, &d)) != MLA_OK)
		return cli_fail(CMD, r, &d);
	n = X509_NAME_get_text_by_NID(X509_get_subject_name(cert), NID_countryName, x->state, 3);
	size_t klen = sizeof(x->cert_key);

	if (n != 2 || mla_audit_origin_format(x->state, x->epoch, x->origin) != MLA_OK ||
	    EVP_PKEY_get_raw_public_key(X509_get0_pubkey(cert), x->cert_key, &klen) != 1 ||
	    mla_note_verifier_from_key(x->origin, X509_get0_pubkey(cert), &v, &d) != MLA_OK ||
	    store_keyring_add(&x->keys, &v, 0) != MLA_OK) {
		X509_free(cert);
		fprintf(stderr, "mlagw " CMD ": %s: not an Ed25519 audit certificate with a State "
			"(C=)\n", x->a->cert);
		return CLI_IO;
	}
	X509_free(cert);
	return CLI_OK;
}

static mla_err meta_row(const char *key, const char *value, void *arg)
{
	struct epoch_ctx *x = arg;
	uint64_t e;

	if (strcmp(key, "audit_epoch") == 0) {
		if (mla_parse_u64n(value, strlen(value), 2, MLA_AUDIT_EPOCH_MAX - 1, &e) != MLA_OK)
			x->bad_epoch = 1;
		else
			x->epoch = (uint32_t)e;
	} else if (strncmp(key, "peer_head.", 10) == 0 && strlen(key) == 12 &&
		   x->nheads < HEADS_MAX) {
		struct head *h = &x->heads[x->nheads];
		if ((h->note = strdup(value)) == NULL)
			return MLA_ERR_NOMEM;
		h->len = strlen(value);
		memcpy(h->from, key + 10, 3);
		x->nheads++;
	}
	return MLA_OK;
}

static mla_err latest_row(const struct store_checkpoint_row *row, void *arg)
{
	struct head *h = arg;

	free(h->note);
	if ((h->note = malloc(row->len + 1)) == NULL)
		return MLA_ERR_NOMEM;
	memcpy(h->note, row->note, row->len);
	h->note[row->len] = '\0';
	h->len = row->len;
	memcpy(h->from, "store", 6);
	return MLA_OK;
}

/* The heads the peers showed and the latest checkpoint, read from the store (read-only). */
static int read_store(struct epoch_ctx *x)
{
	mla_diag d = {MLA_OK, ""};
	store_reader *r = NULL;
	mla_err e;

	x->epoch = 1;
	if ((e = store_reader_open(x->a->store, &r, &d)) != MLA_OK)
		return cli_fail(CMD, e, &d);
	if ((e = store_reader_meta(r, meta_row, x, &d)) == MLA_OK &&
	    (e = store_reader_keyring(r, &x->keys, &d)) == MLA_OK)
		e = store_reader_checkpoints(r, latest_row, &x->latest, &d);
	store_reader_close(r);
	if (e != MLA_OK)
		return cli_fail(CMD, e, &d);
	if (x->bad_epoch) {
		fprintf(stderr, "mlagw " CMD ": %s: meta audit_epoch is damaged\n", x->a->store);
		return CLI_IO;
	}
	return CLI_OK;
}

/* The keys under origin (they carry the current origin's name; the key ID depends on it). */
static int keys_for(const struct epoch_ctx *x, const char *origin, struct store_keyring *k)
{
	for (size_t i = 0; i < x->keys.n; i++) {
		EVP_PKEY *pk = EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, NULL, x->keys.v[i].key,
							   MLA_ED25519_KEY_LEN);
		mla_note_verifier v;
		int ok = pk != NULL && mla_note_verifier_from_key(origin, pk, &v, NULL) == MLA_OK &&
			 store_keyring_add(k, &v, 0) == MLA_OK;

		EVP_PKEY_free(pk);
		if (!ok)
			return -1;
	}
	return 0;
}

/* Opens h under the keys: 0 when it is a signed head of this State's log in the current
 * epoch or a later one (*epoch). */
static int open_head(const struct epoch_ctx *x, struct head *h, uint32_t *epoch)
{
	char origin[MLA_AUDIT_ORIGIN_MAX + 1], st[3];
	const char *nl = memchr(h->note, '\n', h->len);
	size_t n = nl != NULL ? (size_t)(nl - h->note) : 0, which;
	struct store_keyring k = {0};
	mla_diag d = {MLA_OK, ""};
	int rc = -1;

	if (n > 0 && n <= MLA_AUDIT_ORIGIN_MAX) {
		memcpy(origin, h->note, n);
		origin[n] = '\0';
		if (mla_audit_origin_parse(origin, st, epoch) == MLA_OK &&
		    strcmp(st, x->state) == 0 && *epoch >= x->epoch && keys_for(x, origin, &k) == 0 &&
		    store_keyring_open(&k, h->note, h->len, &h->cp, &which, &d) == MLA_OK)
			rc = 0;
	}
	store_keyring_free(&k);
	if (rc != 0)
		fprintf(stderr, "mlagw " CMD ": the head %s showed is not a signed head of %s or a "
			"later epoch: ignored (%s)\n", h->from, x->origin,
			d.msg[0] ? d.msg : "another log");
	return rc;
}

/* The largest verified peer head (peers must agree at equal sizes), else the store's latest
 * checkpoint; NULL (after saying why) when none. */
static struct head *pick_link(struct epoch_ctx *x, int *rc)
{
	struct head *best = NULL;
	uint32_t ep[HEADS_MAX], e = 0;
	int latest_ok;

	*rc = CLI_OK;
	x->link_epoch = x->epoch;
	for (size_t i = 0; i < x->nheads; i++) {
		if (open_head(x, &x->heads[i], &ep[i]) != 0)
			x->heads[i].cp.size = 0;
		x->heads[i].epoch = ep[i];
		if (x->heads[i].cp.size != 0 && ep[i] > x->link_epoch)
			x->link_epoch = ep[i]; /* an epoch opened after the backup was taken */
	}
	mla_require(mla_audit_origin_format(x->state, x->link_epoch, x->link_origin) == MLA_OK);
	for (size_t i = 0; i < x->nheads; i++) {
		struct head *h = &x->heads[i];
		if (h->cp.size == 0 || ep[i] != x->link_epoch)
			continue;
		for (size_t j = 0; j < i; j++)
			if (x->heads[j].cp.size == h->cp.size && ep[j] == ep[i] &&
			    memcmp(x->heads[j].cp.root, h->cp.root, 32) != 0) {
				fprintf(stderr, "mlagw " CMD ": peers %s and %s hold different heads "
					"of %s at size %" PRIu64 ": refusing to choose (a split view; "
					"see docs/operations.md)\n", x->heads[j].from, h->from,
					x->origin, h->cp.size);
				*rc = CLI_REJECTED;
			}
		if (best == NULL || h->cp.size > best->cp.size)
			best = h;
	}
	if (*rc != CLI_OK)
		return NULL;
	/* a checkpoint that does not verify links nothing (and its archive will not verify) */
	latest_ok = x->latest.note != NULL && open_head(x, &x->latest, &e) == 0 &&
		    e == x->epoch;
	x->latest_ok = latest_ok;
	if (best == NULL && latest_ok && x->link_epoch == x->epoch)
		best = &x->latest;
	if (best == NULL) {
		fprintf(stderr, "mlagw " CMD ": nothing to link: no peer showed a head of %s and the "
			"store has no checkpoint of it\n", x->origin);
		*rc = CLI_REJECTED;
	}
	return best;
}

/* The signature of the log's own key on h (the line a verifier of the old origin accepts),
 * into e's link; 0 on success. */
static int link_signature(const struct epoch_ctx *x, const struct head *h, mla_audit_entry *e)
{
	const char *p = h->note, *end = h->note + h->len, *nl;
	size_t nlen = strlen(x->link_origin), got, which;
	struct store_keyring k = {0};
	mla_checkpoint cp;
	mla_buf note;
	int ok = 0;

	mla_buf_init(&note, MLA_NOTE_MAX);
	for (; !ok && p < end && (nl = memchr(p, '\n', (size_t)(end - p))) != NULL; p = nl + 1) {
		/* "— <origin> <base64>": U+2014 is three bytes */
		if ((size_t)(nl - p) <= 4 + nlen || memcmp(p, "\xe2\x80\x94 ", 4) != 0 ||
		    memcmp(p + 4, x->link_origin, nlen) != 0 || p[4 + nlen] != ' ')
			continue;
		got = 0;
		if (mla_b64_decode(p + 5 + nlen, (size_t)(nl - p - 5 - (ptrdiff_t)nlen), e->prev_sig,
				   sizeof(e->prev_sig), &got) != MLA_OK ||
		    got != sizeof(e->prev_sig))
			continue;
		ok = mla_audit_entry_link_note(e, &note) == MLA_OK &&
		     keys_for(x, x->link_origin, &k) == 0 &&
		     store_keyring_open(&k, (const char *)note.data, note.len, &cp, &which,
					NULL) == MLA_OK;
	}
	mla_buf_free(&note);
	store_keyring_free(&k);
	return ok ? 0 : -1;
}

/* The epoch-opened entry the daemon writes as entry 0 (seq and time set then). */
static int link_entry(const struct epoch_ctx *x, const struct head *h, mla_buf *out)
{
	mla_diag d = {MLA_OK, ""};
	mla_audit_entry e;

	mla_audit_entry_init(&e);
	e.event = MLA_AUDIT_EPOCH_OPENED;
	memcpy(e.actor, "gateway", 8);
	memcpy(e.prev_origin, x->link_origin, sizeof(e.prev_origin));
	e.prev_size = h->cp.size;
	memcpy(e.prev_root, h->cp.root, 32);
	if (link_signature(x, h, &e) != 0) {
		fprintf(stderr, "mlagw " CMD ": the head %s showed has no signature line of %s that "
			"verifies on its own\n", h->from, x->link_origin);
		return CLI_REJECTED;
	}
	if (mla_audit_entry_serialize(&e, out, &d) != MLA_OK || mla_buf_terminate(out) != MLA_OK)
		return cli_fail(CMD, MLA_ERR_INTERNAL, &d);
	return CLI_OK;
}

/* The current epoch's bundle into the archive (as mlagw audit export), then verified. */
static int archive(const struct epoch_ctx *x)
{
	char *exp[] = {"export", "--store", (char *)x->a->store, "--cert", (char *)x->a->cert,
		       "--out", (char *)x->a->archive, NULL};
	char *ver[] = {"verify", (char *)x->a->archive, "--trust", (char *)x->a->trust, NULL};
	struct stat st;
	int rc;

	if (x->latest.note == NULL) {
		printf("archive: the store holds no checkpoint of %s: nothing to archive\n",
		       x->origin);
		return CLI_OK;
	}
	if (lstat(x->a->archive, &st) == 0) {
		fprintf(stderr, "mlagw " CMD ": %s exists: the archive never replaces a file\n",
			x->a->archive);
		return CLI_REJECTED;
	}
	if ((rc = cmd_audit_export(7, exp)) != CLI_OK)
		return rc;
	if ((rc = cmd_audit_verify(4, ver)) != CLI_OK)
		fprintf(stderr, "mlagw " CMD ": the archive %s does not verify: the store is left "
			"as it was (inspect it: mlagw store check)\n", x->a->archive);
	return rc;
}

/* --key: a last checkpoint of the old epoch over the entries beyond the store's latest one,
 * checked against the heads known (cmd_audit_epoch_seal.c); it becomes the store's latest
 * (and the link when no peer showed a head). */
static int seal(struct epoch_ctx *x)
{
	struct epoch_known known[HEADS_MAX + 1];
	uint64_t size = 0;
	char *note = NULL;
	size_t n = 0;
	uint32_t e;
	int rc;

	if (x->a->key == NULL || x->link_epoch != x->epoch)
		return CLI_OK;
	if (x->latest.note != NULL && !x->latest_ok) {
		fprintf(stderr, "mlagw " CMD ": the store's latest checkpoint does not verify: no "
			"last checkpoint signed\n");
		return CLI_REJECTED;
	}
	if (x->latest_ok) {
		known[n].size = x->latest.cp.size;
		memcpy(known[n++].root, x->latest.cp.root, 32);
	}
	for (size_t i = 0; i < x->nheads; i++)
		if (x->heads[i].cp.size != 0 && x->heads[i].epoch == x->epoch) {
			known[n].size = x->heads[i].cp.size;
			memcpy(known[n++].root, x->heads[i].cp.root, 32);
		}
	if ((rc = epoch_seal(x->a->store, x->a->key, x->origin, x->cert_key,
			     x->latest_ok ? x->latest.cp.size : 0, known, n, &size, &note)) !=
		    CLI_OK ||
	    note == NULL)
		return rc;
	free(x->latest.note);
	x->latest.note = note;
	x->latest.len = strlen(note);
	if (open_head(x, &x->latest, &e) != 0)
		return CLI_INTERNAL;
	x->latest_ok = 1;
	printf("signed a last checkpoint of %s at %llu entries (the entries beyond the store's "
	       "latest checkpoint)\n", x->origin, (unsigned long long)size);
	return CLI_OK;
}

static int run(struct epoch_ctx *x)
{
	struct head *h;
	mla_diag d = {MLA_OK, ""};
	mla_buf link;
	mla_err r;
	int rc, busy = 0;

	mla_buf_init(&link, MLA_AUDIT_ENTRY_MAX + 1);
	if ((r = store_in_use(x->a->store, &busy, &d)) == MLA_OK && busy) {
		fprintf(stderr, "mlagw " CMD ": %s is in use (a gateway running on it?): stop the "
			"gateway first\n", x->a->store);
		rc = CLI_REJECTED;
		goto out;
	}
	if ((rc = read_store(x)) != CLI_OK || (rc = load_cert(x)) != CLI_OK ||
	    (h = pick_link(x, &rc)) == NULL || (rc = seal(x)) != CLI_OK ||
	    (rc = link_entry(x, h, &link)) != CLI_OK || (rc = archive(x)) != CLI_OK)
		goto out;
	if ((r = store_epoch_open(x->a->store, x->link_epoch + 1, (const char *)link.data, &d)) !=
	    MLA_OK) {
		rc = cli_fail(CMD, r, &d);
		goto out;
	}
	printf("epoch %" PRIu32 " opened: its log links to %s at %" PRIu64 " entries (the head "
	       "%s showed); the store held a checkpoint of %s of %" PRIu64 " entries, archived in "
	       "%s\n", x->link_epoch + 1, x->link_origin, h->cp.size, h->from, x->origin,
	       x->latest.note != NULL ? x->latest.cp.size : 0, x->a->archive);
	if (x->link_epoch != x->epoch)
		printf("the store was in epoch %" PRIu32 "; a peer showed epoch %" PRIu32 " (opened "
		       "after this backup): verify the new epoch with that epoch's archive\n",
		       x->epoch, x->link_epoch);
	else if (x->latest.note != NULL && h->cp.size > x->latest.cp.size)
		printf("lost: entries %" PRIu64 "..%" PRIu64 " (%" PRIu64 ") the peers cosigned "
		       "are in no archive\n", x->latest.cp.size, h->cp.size - 1,
		       h->cp.size - x->latest.cp.size);
	printf("start the gateway: it writes entry 0 of the new log and asks its peers to "
	       "witness it\n");
out:
	mla_buf_free(&link);
	return rc;
}

int cmd_audit_new_epoch(int argc, char **argv)
{
	static const struct option opts[] = {
		{"store", 1, NULL, 's'}, {"cert", 1, NULL, 'c'}, {"archive", 1, NULL, 'o'},
		{"trust", 1, NULL, 't'}, {"key", 1, NULL, 'k'}, {"help", 0, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	struct cli_optspec spec = {CMD, epoch_usage, "", opts, apply};
	struct epoch_args a = {0};
	struct epoch_ctx x;
	mla_diag d = {MLA_OK, ""};
	mla_err r;
	int rc;

	if ((rc = cli_parse_options(argc, argv, &spec, &a)) != CLI_OK)
		return rc == -1 ? CLI_OK : rc;
	if (a.store == NULL || a.cert == NULL || a.archive == NULL || a.trust == NULL)
		return cli_usage_error(CMD, "--store, --cert, --archive and --trust are required");
	if ((r = mla_crypto_init(&d)) != MLA_OK)
		return cli_fail(CMD, r, &d);
	memset(&x, 0, sizeof(x));
	x.a = &a;
	rc = run(&x);
	for (size_t i = 0; i < x.nheads; i++)
		free(x.heads[i].note);
	free(x.latest.note);
	store_keyring_free(&x.keys);
	return rc;
}
