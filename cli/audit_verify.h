/* Internal to mlagw audit verify: the state of one verification (bundle, key, parsed records)
 * and the check families of audit_verify_checks.c, each counting successes and recording
 * failures that name the record (entry seq, message id, checkpoint size). */
#ifndef MLAGW_CLI_AUDIT_VERIFY_H
#define MLAGW_CLI_AUDIT_VERIFY_H

#include <jansson.h>

#include "audit_filter.h"
#include "mlagw/audit_entry.h"
#include "mlagw/bundle.h"
#include "mlagw/checkpoint.h"
#include "mlagw/envelope.h"
#include "mlagw/receipt.h"

enum vfam_id { F_BUNDLE, F_CERT, F_CHECKPOINTS, F_ENTRIES, F_TREE, F_WITNESS, F_PROOFS,
	       F_ENVELOPES, F_RECEIPTS, F_DELIVERED, F_N };

struct vfam {
	size_t ok, failed;
};

struct venv {
	const mla_bundle_record *rec;
	int verified;
	uint8_t sha[32];
	char to_state[3];
	size_t refs;
};

struct vrec {
	const mla_bundle_record *rec;
	int verified;
	uint8_t sha[32];
	mla_receipt r;
	size_t refs;
};

/* When a message was first and last seen in the entries: certificates are judged as at those
 * times (an audit years later must not fail because a certificate has since expired). */
struct vtime {
	char id[MLA_UUID_LEN + 1];
	int64_t first_ms, last_ms;
};

/* A peer whose audit certificate the bundle holds: its log key and its cosigner key. */
struct vpeer {
	char state[3];
	mla_note_verifier log, cosigner;
};

/* A verified signed head of some log, for the split-view check across bundles. */
struct vhead {
	char origin[MLA_CHECKPOINT_ORIGIN_MAX + 1];
	uint64_t size;
	uint8_t root[MLA_MERKLE_HASH_LEN];
	char what[64]; /* "checkpoint", "cosigned by ES" */
	char cosigners[2 * MLA_NOTE_VERIFIERS_MAX + 1]; /* own checkpoints: "ESFR" */
	char witness[3]; /* witnessed heads: the State that cosigned ("" for own checkpoints) */
};

struct vctx {
	const mla_bundle *b;
	char state[3];
	char origin[MLA_CHECKPOINT_ORIGIN_MAX + 1];
	mla_trust *trust;
	const char *trust_dir;
	mla_limits limits;
	mla_note_verifier key;
	int have_key;
	int filtered; /* the manifest names a filter: only selected messages are held */
	struct audit_filter filter;
	char filter_case[MLA_CASE_ID_MAX + 1];
	char (*selected)[MLA_UUID_LEN + 1]; /* filtered: the ids it selects, sorted */
	size_t nselected;
	mla_audit_entry *entries;	     /* parsed; seq = UINT64_MAX when unparsable */
	uint8_t (*leaves)[32];		     /* of the records' bytes, in record order */
	size_t nentries;
	mla_checkpoint *cps;		     /* opened; size 0 when refused */
	size_t ncps;
	struct venv *envs;
	size_t nenvs;
	struct vrec *recs;
	size_t nrecs;
	struct vtime *times;		     /* sorted by id; built by verify_envelopes */
	size_t ntimes;
	struct vpeer *peers;		     /* audit_verify_witness.c */
	size_t npeers;
	struct vhead *heads;
	size_t nheads, caphead;
	size_t cosignatures;		     /* peers' valid cosignatures on our checkpoints */
	struct vfam fam[F_N];
	json_t *failures;
};

/* The split-view check over several verified bundles (audit_verify_cross.c). */
struct vcross {
	size_t compared, unchecked, failed;
	json_t *failures;
};

extern const char *const vfam_names[F_N];

void vfail(struct vctx *v, enum vfam_id f, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Each returns 0, or -1 when out of memory. */
int verify_manifest(struct vctx *v);
int verify_certificate(struct vctx *v);
int verify_checkpoints(struct vctx *v);
int verify_entries(struct vctx *v);
int verify_tree(struct vctx *v);
int verify_witness(struct vctx *v);
/* After the message checks (it needs the filter's selection). */
int verify_proofs(struct vctx *v);
/* Whether the bundle must hold what message id's entries record (audit_verify_msgs.c). */
int audit_selected(const struct vctx *v, const char *id);
/* Pools the heads of the n verified bundles and records split views in x. -1: no memory. */
int audit_cross_check(const struct vctx *vs, const char *const *files, size_t n,
		      struct vcross *x);
/* Whether cert chains to a root of state in the trust directory (why says otherwise), valid
 * at the bundle's last entry when check_time (the audit certificate), else whatever the
 * time (peers' certificates: judged by what they signed, whenever a rotation retired them). */
int audit_chain_to_root(struct vctx *v, X509 *cert, const char *state, int check_time,
			char *why, size_t whylen);
int verify_envelopes(struct vctx *v);
int verify_receipts(struct vctx *v);
int verify_delivered(struct vctx *v);

/* cmd_audit_verify.c, shared with mlagw audit reconcile: the roots of DIR/ *.crt into
 * v->trust (messages as "mlagw CMD: ..."), all check families in order (CLI_INTERNAL when one
 * could not run), and the number of failures they recorded. */
int audit_load_trust(struct vctx *v, const char *cmd);

/* The options both audit commands take (--trust DIR, --json, --help) and the operands into
 * files[] (room for max_files or nfiles, plus the NULL after the last); -1 after printing
 * usage for --help, else CLI_OK or a usage error naming `want` when the operands (or a
 * required --trust) are missing. */
struct audit_args_spec {
	const char *cmd, *usage;
	int nfiles, need_trust;
	const char *want;
	int max_files; /* 0: exactly nfiles; else nfiles to max_files (files[] ends in NULL) */
};
int audit_parse_args(int argc, char **argv, const struct audit_args_spec *spec,
		     const char **files, const char **dir, int *json);
int audit_run_checks(struct vctx *v);
/* Frees what the checks allocated in v (and its trust set and failures). */
void audit_vctx_free(struct vctx *v);
size_t audit_failures(const struct vctx *v);

#endif
