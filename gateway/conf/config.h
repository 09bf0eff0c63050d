/* mlagwd configuration: one INI-style file per gateway (format in conf/README.md).
 * Parsing refuses anything it does not understand, naming the file, line and problem. */
#ifndef MLAGW_GATEWAY_CONFIG_H
#define MLAGW_GATEWAY_CONFIG_H

#include <limits.h>
#include <stddef.h>
#include <stdint.h>

#include "api_config.h"
#include "deadline_config.h"
#include "expiry_config.h"
#include "mlagw/error.h"
#include "mlagw/limits.h"

#define GW_MAX_PEERS 64
#define GW_MAX_ROOTS 64
#define GW_MAX_OLD_KEYS 8
#define GW_NAME_MAX 128
#define GW_URL_MAX 512
#define GW_DIR_URLS 4 /* [directory] url */
#define GW_REV_CRLS 8 /* [revocation] crl */
#define GW_DER_MAX 4096 /* a peer certificate taken from the directory */

struct gw_keypair {
	char cert[PATH_MAX];
	char key[PATH_MAX];
};

struct gw_peer {
	char state[3];
	char url[GW_URL_MAX];       /* https://host:port/mla/v1/envelopes */
	char encrypt_cert[PATH_MAX]; /* the peer gateway's encryption certificate */
	char tls_pin[96];           /* optional: "sha256//<base64 SPKI SHA-256>" */
	unsigned max_in_flight;     /* concurrent requests to this peer; default 8 */
	unsigned receipt_version;   /* the highest receipt version the peer reads; default 1 */
	/* the envelope versions the peer reads, bit v for version v (SPEC 11 rule 6); default
	 * version 1 only */
	unsigned envelope_versions;
	/* from a verified directory (SPEC 18.6): the encryption certificate's DER, used instead
	 * of encrypt_cert when encrypt_cert is not configured; 0 bytes otherwise */
	uint8_t encrypt_der[GW_DER_MAX];
	size_t encrypt_der_len;
	int from_directory; /* the State is listed in the directory in force */
	/* attachments (SPEC 17.13): segment PUTs in flight to this peer per message, default 4;
	 * bytes/s of segments sent to it, 0 (default) = no cap */
	unsigned max_segments_in_flight;
	size_t max_bandwidth;
};

/* The envelope versions this gateway exchanges: 1 and 2 for every message, 3 for a message
 * with attachments (SPEC 17.13) to a peer that lists it. */
#define GW_ENVELOPE_VERSION_ATTACHED MLA_ENVELOPE_VERSION_ATTACH

struct gw_retry {
	uint64_t initial_ms;        /* first retry delay; default 1 s */
	uint64_t max_ms;            /* cap of the exponential backoff; default 5 min */
	uint64_t deadline_ms[3];    /* per priority normal/urgent/crisis: 7 d, 24 h, 2 h */
	uint64_t request_timeout_ms; /* an exchange moving less than min_send_rate this long ends */
	size_t min_send_rate;       /* bytes/s; default 1 KiB */
	uint64_t connect_timeout_ms; /* default 5 s */
};

/* [cases] protected_roles, parsed (protect_config.c). */
#define PROTECT_MAX_ACTORS 16
struct protect_config {
	unsigned role_mask; /* API_ROLE_BIT of each role named alone */
	char actors[PROTECT_MAX_ACTORS][16 + API_NAME_MAX + 1]; /* "role:name" named singly */
	size_t n_actors;
};

/* [daemon] seccomp: the network daemon's system-call allowlist and the hook runner's deny list */
enum gw_seccomp_mode { GW_SECCOMP_OFF, GW_SECCOMP_ON, GW_SECCOMP_LOG, GW_SECCOMP_N };

struct gw_config {
	char path[PATH_MAX];        /* the file this came from, for messages */
	/* [gateway] */
	char state[3];
	char name[GW_NAME_MAX];
	char listen[GW_NAME_MAX];   /* peer listener "host:port" (mutual TLS) */
	char submit_socket[PATH_MAX]; /* local submission socket (unix domain) */
	char store[PATH_MAX];       /* SQLite database */
	char pid_file[PATH_MAX];    /* optional */
	unsigned workers;           /* crypto worker threads; 0 = number of CPUs */
	/* the lowest envelope version this gateway reads and writes (SPEC 11 rule 6); default 1 */
	unsigned envelope_min_version;
	/* [keys] */
	struct gw_keypair tls, sign, encrypt, audit;
	struct gw_keypair prev_audit; /* optional: the audit key a rotation replaces */
	struct gw_keypair old_encrypt[GW_MAX_OLD_KEYS]; /* earlier encryption keys, still opened */
	size_t n_old_encrypt;
	/* [trust] */
	char roots[GW_MAX_ROOTS][PATH_MAX];
	size_t n_roots;
	/* [peer CC] sections */
	struct gw_peer peers[GW_MAX_PEERS];
	size_t n_peers;
	/* [directory] (SPEC 18.6): the signed directory the peers come from; "" without */
	char dir_file[PATH_MAX];
	char dir_publisher[3];      /* the publisher's State code (its root is in [trust]) */
	uint64_t dir_grace_ms;      /* past the directory's expiry still used, warning; 7 d */
	char dir_entry[PATH_MAX];   /* this State's own signed entry, served; "" without */
	char dir_listen[GW_NAME_MAX]; /* "host:port" serving entry and directory; "" without */
	char dir_urls[GW_DIR_URLS][GW_URL_MAX]; /* fetched from, in order, every interval */
	size_t n_dir_urls;
	uint64_t dir_fetch_interval_ms; /* default 1 h */
	/* [revocation] (SPEC 18.7) */
	char rev_crls[GW_REV_CRLS][PATH_MAX]; /* CRL files or http(s) URLs, beside the CDPs */
	size_t n_rev_crls;
	uint64_t rev_refresh_ms;    /* CRLs and OCSP answers fetched again this often; 1 h */
	uint64_t rev_timeout_ms;    /* one fetch (connect and transfer); 5 s */
	char rev_fail[8];           /* "closed" (default) or "open": status unknown or stale */
	int rev_fail_open;
	char rev_ocsp[4];           /* "on" (default) or "off": ask the AIA responders */
	int rev_ocsp_on;
	/* [daemon] (docs/keys.md "Least privilege"): started as root, the daemon becomes
	 * daemon_user once its listeners are bound, the keyholder keyholder_user (default:
	 * daemon_user); root without a user is refused unless allow_root is "true" */
	char daemon_user[GW_NAME_MAX];
	char keyholder_user[GW_NAME_MAX];
	char allow_root[8];         /* "false" (default) or "true" */
	int root_allowed;
	char seccomp[8];            /* "on" (default), "off" or "log" */
	enum gw_seccomp_mode seccomp_mode;
	/* Landlock for the keyholder (landlock.h): "on" (default; nothing where the kernel has
	 * none) or "off"; keyholder_write the one folder it may write beneath (a PKCS#11
	 * token's, such as SoftHSM2's tokendir), none by default */
	char landlock[8];
	int landlock_on;
	char keyholder_write[PATH_MAX];
	/* [limits] */
	mla_limits limits;          /* envelope limits, defaults from mla_limits_default */
	size_t max_body_bytes;      /* HTTP request body; default = limits.max_envelope_bytes */
	uint64_t clock_skew_ms;     /* default 5 min */
	uint64_t replay_window_ms;  /* default 7 days */
	uint64_t header_timeout_ms; /* the progress window of a request being received; 10 s */
	size_t min_receive_rate;    /* bytes/s a request being received must move; 4 KiB */
	unsigned peer_rate;         /* requests/s each peer State may make; 0 = no limit */
	unsigned max_connections;   /* open connections per listener; default 1024 */
	unsigned max_connections_per_source; /* from one IP address; default 128 */
	unsigned peer_burst;        /* requests a peer may make at once beyond the rate */
	/* identical refusals within this window are counted in one aggregate entry; 60 s */
	uint64_t refusal_window_ms;
	uint64_t idempotency_keep_ms;     /* a submission's idempotency key is kept; 24 h */
	uint64_t log_repeat_interval_ms;  /* one log line per event and cause per; 10 s */
	/* attachments being received (SPEC 17.13): given up this long after the envelope came,
	 * default 7 days; the free disk space kept beyond a reservation, default 64 MiB */
	uint64_t transfer_timeout_ms;
	size_t transfer_reserve_margin;
	/* what one peer may hold reserved at once: transfers, default 16; bytes of ciphertext,
	 * default 256 GiB (so one State cannot take the disk from the others) */
	unsigned transfer_peer_max;
	size_t transfer_peer_bytes;
	/* attachments (SPEC 17.14); limits.max_attachment_bytes is the per-file cap */
	size_t max_message_attachment_bytes; /* all attachments of one message; 256 GiB */
	size_t attachment_segment_bytes;  /* segment size S the gateway seals in; 1 MiB */
	uint64_t upload_keep_ms;          /* an upload not submitted this long is removed; 24 h */
	unsigned max_uploads_per_actor;   /* uploads one API caller may hold at once; 64 */
	size_t upload_min_free_bytes;     /* free disk an upload chunk must leave; 1 GiB */
	/* [retry] */
	struct gw_retry retry;
	/* [audit] */
	uint64_t checkpoint_interval_ms; /* sign a checkpoint at most this often; default 2 s */
	uint64_t peer_head_wait_ms;   /* at start, wait this long for the peers' heads; 10 s */
	uint64_t recover_wait_ms;     /* at start with the recovery mark, wait this long for the
				       * peers to give back their messages; 60 s */
	/* [store] */
	uint64_t store_check_interval_ms; /* quick_check and the log re-read this often; 1 d */
	/* [log] */
	char log_target[8];           /* "auto" (default), "stderr", "journal" or "syslog": where
				       * the daemon's lines go (mlagwd(8), LOGGING) */
	/* [cases] (protocol/SPEC.md section 16) */
	char cases_opaque[8];         /* "allow" (default) or "refuse": a document that declares
				       * no case schema */
	int cases_refuse_opaque;      /* cases_opaque is "refuse" */
	char cases_lifecycle[8];      /* "off" (default) or "enforce": the case lifecycle (SPEC
				       * 16.8) checked before sealing and on receipt */
	int cases_enforce;            /* cases_lifecycle is "enforce" */
	uint64_t not_retrieved_after_ms; /* a request received and not opened this long gets a
					  * not-retrieved notice (SPEC 16.10); 2 d */
	char cases_protected_roles[1024]; /* "none" (default), or roles and role:name principals:
					   * who sees protected persons (SPEC 16.12) */
	struct protect_config protect;    /* cases_protected_roles, parsed */
	/* [api] (docs/api/README.md) */
	struct api_config api;
	/* [deadlines] (protocol/SPEC.md 16.9): legal deadlines and the escalation hook */
	struct deadline_config deadlines;
	/* [expiry] (protocol/SPEC.md 18.8): warnings before certificates and the directory
	 * expire */
	struct expiry_config expiry;
};

/* Fills every field with its documented default (nothing required is set). */
void gw_config_defaults(struct gw_config *c);

/* Parses path over the defaults (it calls gw_config_defaults itself). Relative paths in the file
 * are taken relative to the file's directory, made absolute. On error the diag reads
 * "FILE:LINE: problem" (or "FILE: problem" for a missing key) and *c is left unchanged, so a
 * failed reload keeps the running configuration. Checks that required keys are set (state,
 * listen, store, the four key pairs, at least one root) and values are in range. Returns
 * MLA_ERR_CONFIG for the content, MLA_ERR_IO when the file cannot be opened or read. An unset
 * name becomes the State code; an unset max_body_bytes follows max_envelope_bytes. */
mla_err gw_config_load(const char *path, struct gw_config *c, mla_diag *diag);

/* A peer of State cc with every key at its default (a [peer CC] section's start). */
void gw_peer_defaults(struct gw_peer *peer, const char *cc);
/* The configured peer for state, or NULL. */
/* Calls each(section, key, arg) for every key the reader accepts ("peer" for [peer CC]), in
 * the order of its tables: what mlagwd.conf(5) must document (tests/integration/man_pages.py). */
void gw_config_each_key(void (*each)(const char *section, const char *key, void *arg),
			void *arg);
const struct gw_peer *gw_config_peer(const struct gw_config *c, const char *state);

/* The envelope version this gateway writes to peer (SPEC 11 rule 6): the highest it
 * implements, at least envelope_min_version, that the peer reads; 0 when there is none. */
int gw_config_envelope_version(const struct gw_config *c, const struct gw_peer *peer);
/* Whether a message with attachments may be sealed for state (SPEC 17.13, 11 rule 6): the
 * peer is configured and lists envelope version 3 in envelope_versions. The submission path
 * calls it before sealing; 0 means refuse (unsupported-version), nothing queued. */
int gw_peer_reads_attachments(const struct gw_config *c, const char *state);
/* The peer's envelope versions as configured, "1" or "1, 2", into out. */
void gw_config_envelope_versions_text(const struct gw_peer *peer, char *out, size_t n);

/* [cases] protected_roles: "none", or words separated by blanks, each once: "authority" or
 * "agency" (every principal of that role, the roles that read documents) or
 * "authority:NAME" / "agency:NAME" (one principal). MLA_ERR_CONFIG for anything else, out
 * untouched (protect_config.c). */
mla_err protect_roles_parse(const char *s, struct protect_config *out);
/* Whether the caller (its role and actor "role:name") sees protected persons. */
int protect_allows(const struct protect_config *p, enum api_role role, const char *actor);

#endif
