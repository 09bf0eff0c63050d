/* The keyholder process of mlagwd (see keyholder_proc.h). */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "keyholder_proc.h"
#include "landlock.h"
#include "sandbox.h"
#include "mlagw/codec.h"
#include "mlagw/keyholder.h"


size_t keyholder_key_files(const struct gw_config *c, const char *out[KEY_FILES_MAX])
{
	size_t n = 0;

	out[n++] = c->tls.key;
	out[n++] = c->sign.key;
	out[n++] = c->encrypt.key;
	out[n++] = c->audit.key;
	out[n++] = c->prev_audit.key;
	out[n++] = c->api.tls_key;
	for (size_t i = 0; i < c->n_old_encrypt; i++)
		out[n++] = c->old_encrypt[i].key;
	return n;
}

int keyholder_allows(const char *path, void *config_path)
{
	static struct gw_config c; /* one request at a time loads: LOAD is rare (start, reload) */
	static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
	const char *named[KEY_FILES_MAX];
	int ok = 0;

	pthread_mutex_lock(&lock);
	if (gw_config_load(config_path, &c, NULL) == MLA_OK) {
		size_t n = keyholder_key_files(&c, named);
		for (size_t i = 0; i < n && !ok; i++)
			ok = named[i][0] != '\0' && strcmp(named[i], path) == 0;
	}
	pthread_mutex_unlock(&lock);
	return ok;
}

static unsigned channels(const struct gw_config *c)
{
	long w = c->workers > 0 ? (long)c->workers : sysconf(_SC_NPROCESSORS_ONLN) + 1;
	long n = (w < 1 ? 1 : w) + 4;

	return n > MLA_KEYHOLDER_MAX_CHANNELS ? MLA_KEYHOLDER_MAX_CHANNELS : (unsigned)n;
}

size_t keyholder_paths(const struct gw_config *c, const char *config_path,
		       char (*dirs)[PATH_MAX], struct landlock_path *out)
{
	const char *files[1 + KEY_FILES_MAX];
	size_t n = landlock_system_paths(out), nf, nd = 0;

	files[0] = config_path;
	nf = 1 + keyholder_key_files(c, files + 1);
	for (size_t i = 0; i < nf && n < KEYHOLDER_PATHS_MAX - 2; i++)
		for (size_t k = landlock_folders_of(files[i], dirs + nd); k > 0; k--)
			out[n++] = (struct landlock_path){dirs[nd++], 0, 0};
	if (c->keyholder_write[0] != '\0')
		out[n++] = (struct landlock_path){c->keyholder_write, 1, 0};
	return n;
}

static mla_err keyholder_confine(const struct gw_config *c, const char *config_path,
				 mla_diag *diag)
{
	static char dirs[KEYHOLDER_PATHS_MAX][PATH_MAX];
	struct landlock_path paths[KEYHOLDER_PATHS_MAX];
	int applied = 0;

	if (!c->landlock_on)
		return MLA_OK;
	return landlock_confine(paths, keyholder_paths(c, config_path, dirs, paths), &applied,
				diag);
}

/* The keyholder's life: signals that end the daemon do not end it (it ends when the daemon
 * closes its channels, so in-flight work still signs during a stop). */
static void keyholder_main(const struct gw_config *c, const int *fds, unsigned n,
			   const char *config_path, const struct privdrop_user *become)
{
	mla_diag d = {MLA_OK, ""};

	(void)signal(SIGINT, SIG_IGN);
	(void)signal(SIGTERM, SIG_IGN);
	(void)signal(SIGHUP, SIG_IGN);
	(void)signal(SIGPIPE, SIG_IGN);
	(void)prctl(PR_SET_NAME, "mlagw-keyholder", 0, 0, 0);
	if (keyholder_confine(c, config_path, &d) != MLA_OK ||
	    (become != NULL && privdrop_become(become, &d) != MLA_OK) ||
	    sandbox_keyholder(&d) != MLA_OK) {
		fprintf(stderr, "mlagw keyholder: %s\n", mla_diag_message(&d));
		_exit(3); /* the daemon sees its channels close and stops */
	}
	mla_keyholder_serve(fds, n, keyholder_allows, (void *)(uintptr_t)config_path);
	_exit(0);
}

int keyholder_start(const struct gw_config *c, const char *config_path, int close_fd,
		    const struct privdrop_user *become, pid_t *pid)
{
	int mine[MLA_KEYHOLDER_MAX_CHANNELS], theirs[MLA_KEYHOLDER_MAX_CHANNELS], sv[2];
	unsigned n = channels(c), made = 0;
	pid_t p;

	for (; made < n; made++) {
		if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0)
			goto fail;
		mine[made] = sv[0];
		theirs[made] = sv[1];
	}
	if ((p = fork()) < 0)
		goto fail;
	if (p == 0) {
		for (unsigned i = 0; i < n; i++)
			(void)close(mine[i]);
		if (sandbox_child_leave_terminal(close_fd) != 0)
			_exit(3);
		keyholder_main(c, theirs, n, config_path, become);
	}
	for (unsigned i = 0; i < n; i++)
		(void)close(theirs[i]);
	*pid = p;
	return mla_keyholder_attach(mine, n, NULL) == MLA_OK ? 0 : (errno = EINVAL, -1);
fail:
	for (unsigned i = 0; i < made; i++) {
		(void)close(mine[i]);
		(void)close(theirs[i]);
	}
	return -1;
}

void keyholder_end(pid_t pid)
{
	if (pid <= 0)
		return;
	mla_keyholder_detach();
	while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
		;
}
