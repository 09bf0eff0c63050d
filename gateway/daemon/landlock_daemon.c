/* The network-facing daemon's Landlock rules (see landlock_daemon.h). */
#include <stdlib.h>
#include <string.h>

#include "core/log.h"
#include "keyholder_proc.h"
#include "landlock_daemon.h"

/* The folders named: two per file at most (as named and, for a link, its target's) for the
 * configuration, five certificates, the [api] two, the [directory] two, the store, the
 * socket, the pid file, the resolver's and libfaketime's files; and the keyholder's. The
 * rules: those and the system's. */
#define DAEMON_DIRS_MAX                                                                       \
	(2 * (16 + GW_MAX_OLD_KEYS + GW_MAX_ROOTS + GW_MAX_PEERS + GW_REV_CRLS) +                \
	 KEYHOLDER_PATHS_MAX)
#define DAEMON_PATHS_MAX (LANDLOCK_SYSTEM_PATHS + 4 + DAEMON_DIRS_MAX)

struct rules {
	struct landlock_path p[DAEMON_PATHS_MAX];
	char dirs[DAEMON_DIRS_MAX][PATH_MAX]; /* the folders named, p[].path points here */
	size_t n, nd;
};

/* Adds path once (a folder named again only gains write), or when full nothing: the bound
 * above counts every path a configuration can name. */
static void allow(struct rules *r, const char *path, int write)
{
	for (size_t i = 0; i < r->n; i++)
		if (strcmp(r->p[i].path, path) == 0) {
			r->p[i].write |= write;
			return;
		}
	if (r->n < DAEMON_PATHS_MAX)
		r->p[r->n++] = (struct landlock_path){path, write, 0};
}

/* The folders of file (landlock_folders_of); nothing for "", a URL or a pkcs11: URI. */
static void allow_folder_of(struct rules *r, const char *file, int write)
{
	if (r->nd + 2 > DAEMON_DIRS_MAX)
		return;
	for (size_t k = landlock_folders_of(file, r->dirs + r->nd); k > 0; k--)
		allow(r, r->dirs[r->nd++], write);
}

/* Read-only: every certificate, CA, CRL and directory entry the configuration names (a renewed
 * certificate is written beside the old one, mlagw pki renew, and taken over from there). */
static void allow_certificates(struct rules *r, const struct gw_config *c)
{
	const struct gw_keypair *pairs[] = {&c->tls, &c->sign, &c->encrypt, &c->audit,
					    &c->prev_audit};

	for (size_t i = 0; i < sizeof(pairs) / sizeof(pairs[0]); i++)
		allow_folder_of(r, pairs[i]->cert, 0);
	for (size_t i = 0; i < c->n_old_encrypt; i++)
		allow_folder_of(r, c->old_encrypt[i].cert, 0);
	for (size_t i = 0; i < c->n_roots; i++)
		allow_folder_of(r, c->roots[i], 0);
	for (size_t i = 0; i < c->n_peers; i++)
		allow_folder_of(r, c->peers[i].encrypt_cert, 0);
	for (size_t i = 0; i < c->n_rev_crls; i++)
		allow_folder_of(r, c->rev_crls[i], 0); /* an http(s) URL is no folder */
	allow_folder_of(r, c->api.tls_cert, 0);
	allow_folder_of(r, c->api.client_ca, 0);
	allow_folder_of(r, c->dir_entry, 0);
	/* a newer directory, from a [directory] url or a peer that announced it (dir_peer.c), is
	 * written beside the file ("FILE.fetched", then renamed over it) */
	allow_folder_of(r, c->dir_file, 1);
}

/* Read and write: the store's folder holds the database and SQLite's -wal, -shm and journal
 * files, the attachments/ and uploads/ folders, the copies made before an upgrade and the
 * revocation cache (STORE.revocation/); the submission socket is made and removed in its
 * folder, the pid file written and removed in its. */
static void allow_own_files(struct rules *r, const struct gw_config *c, const char *pid_file)
{
	allow_folder_of(r, c->store, 1);
	allow_folder_of(r, c->submit_socket, 1);
	if (pid_file != NULL)
		allow_folder_of(r, pid_file, 1);
}

/* What the system gives beyond the common folders: /dev/null written too (a detached daemon's
 * standard streams go there once started, main.c); /etc/resolv.conf is often a link into
 * /run (systemd-resolved, NetworkManager), which replace the file it names, so its folder;
 * /proc/sys, the kernel's settings some libraries read (OpenSSL's FIPS flag). And the tests'
 * libfaketime reads the file FAKETIME_TIMESTAMP_FILE names at every reading of the clock. */
static void allow_system(struct rules *r)
{
	const char *faked = getenv("FAKETIME_TIMESTAMP_FILE");

	r->n = landlock_system_paths(r->p);
	allow(r, "/dev/null", 1);
	allow(r, "/proc/sys", 0);
	allow_folder_of(r, "/etc/resolv.conf", 0);
	if (faked != NULL)
		allow_folder_of(r, faked, 0);
}

/* SQLite's temporary files (sorts, statement journals, VACUUM) go to the first of
 * SQLITE_TMPDIR, TMPDIR, /var/tmp, /usr/tmp, /tmp it finds writable, which under Landlock it
 * could not create: the store's folder instead, on the disk sized for the store, rather than
 * SQLite's temporary storage kept in memory (a large sort would then hold the memory) or /tmp
 * allowed (shared with every other process). Set before the store is opened, no thread yet. */
static void sqlite_temp_in(const char *store_folder)
{
	(void)setenv("SQLITE_TMPDIR", store_folder, 1);
}

/* Whether file lies beneath folder (both as named, or folder itself). */
static int beneath(const char *file, const char *folder)
{
	size_t n = strlen(folder);

	if (strcmp(folder, "/") == 0)
		return file[0] == '/';
	return strncmp(file, folder, n) == 0 && (file[n] == '/' || file[n] == '\0');
}

size_t landlock_daemon_reaches(const struct landlock_path *rules, size_t n, const char *file,
			       const char **folder)
{
	char real[PATH_MAX];
	/* as named when absolute, and where it leads; a pkcs11: URI or "" is neither */
	const char *as[2] = {file[0] == '/' ? file : NULL,
			     realpath(file, real) != NULL ? real : NULL};

	for (size_t i = 0; i < n; i++)
		for (int k = 0; k < 2; k++)
			if (as[k] != NULL && beneath(as[k], rules[i].path)) {
				*folder = rules[i].path;
				return i + 1;
			}
	return 0;
}

/* Each private key file the daemon's rules would let it read, logged at start: Landlock keeps
 * a compromised daemon from the keys only when they lie outside its folders (the system's,
 * /etc among them, the configuration's, the certificates'), in a folder of their own. */
static void warn_keys_reachable(const struct rules *r, const struct gw_config *c)
{
	const char *keys[KEY_FILES_MAX], *folder = NULL;
	size_t n = keyholder_key_files(c, keys);

	for (size_t i = 0; i < n; i++)
		if (keys[i][0] != '\0' &&
		    landlock_daemon_reaches(r->p, r->n, keys[i], &folder) > 0)
			gw_log(GW_LOG_WARN, "keys-reachable", NULL, "file=%s folder=%s reason=\"the "
			       "network-facing daemon may read this key file's folder, so Landlock "
			       "does not keep the key from it: keep the private keys in a folder of "
			       "their own outside /etc, /usr, the configuration's and the certificates' "
			       "folders (docs/internals/keys.md, Sandbox)\"", keys[i], folder);
}

/* A folder given write that holds the configuration, or is a system folder or the root: the
 * daemon could rewrite what it trusts (a store, socket, pid or directory file placed
 * there). Logged at start: the operator gives those files a folder of their own. */
static void warn_wide_writes(const struct rules *r, const char *config_path)
{
	struct landlock_path sys[LANDLOCK_SYSTEM_PATHS];
	const char *folder = NULL;
	size_t ns = landlock_system_paths(sys);

	for (size_t i = 0; i < r->n; i++) {
		int wide = r->p[i].write && strcmp(r->p[i].path, "/dev/null") != 0 &&
			   (landlock_daemon_reaches(&r->p[i], 1, config_path, &folder) > 0 ||
			    strcmp(r->p[i].path, "/") == 0 ||
			    landlock_daemon_reaches(sys, ns, r->p[i].path, &folder) > 0);
		if (wide)
			gw_log(GW_LOG_WARN, "landlock-wide-write", NULL, "folder=%s reason=\"the "
			       "daemon may write beneath this folder, which holds its configuration or "
			       "system files: give the store, the socket, the pid file and the "
			       "directory file folders of their own\"", r->p[i].path);
	}
}

mla_err landlock_daemon(const struct gw_config *c, const char *config_path, const char *pid_file,
			int keys_here, int *applied, mla_diag *diag)
{
	struct rules *r = calloc(1, sizeof(*r));
	char store_folder[2][PATH_MAX];
	mla_err e;

	*applied = 0;
	if (r == NULL)
		return mla_fail(diag, MLA_ERR_NOMEM, "landlock: out of memory");
	allow_system(r);
	allow_folder_of(r, config_path, 0);
	allow_certificates(r, c);
	allow_own_files(r, c, pid_file);
	if (keys_here && r->nd + KEYHOLDER_PATHS_MAX <= DAEMON_DIRS_MAX) { /* --no-keyholder */
		struct landlock_path kh[KEYHOLDER_PATHS_MAX];
		size_t n = keyholder_paths(c, config_path, r->dirs + r->nd, kh);
		for (size_t i = 0; i < n; i++)
			allow(r, kh[i].path, kh[i].write);
		r->nd += KEYHOLDER_PATHS_MAX;
	}
	e = landlock_confine(r->p, r->n, applied, diag);
	if (e == MLA_OK && *applied > 0 && !keys_here)
		warn_keys_reachable(r, c);
	if (e == MLA_OK && *applied > 0)
		warn_wide_writes(r, config_path);
	if (e == MLA_OK && *applied > 0 && landlock_folders_of(c->store, store_folder) > 0)
		sqlite_temp_in(store_folder[0]);
	free(r);
	return e;
}
