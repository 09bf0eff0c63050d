/* mlagw store restore: puts a backup (mlagw store backup) in place of a lost or damaged store,
 * checked first as mlagw store check does. An existing store is only replaced on request and
 * kept aside, with its write-ahead log: a log left beside the restored file would be replayed
 * into it. What comes next (the peers' heads at start, perhaps a new log epoch) is in
 * docs/operations.md. */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cli_util.h"
#include "cmd_store.h"
#include "mlagw/codec.h"
#include "store/store.h"
#include "store/store_check.h"
#include "attach/attach_backup.h"
#include "attach/attach_files.h"
#include "mlagw/envelope.h"

#define CMD "store restore"

static const char restore_usage[] =
	"usage: mlagw store restore --from BACKUP --store STORE.db [--replace]\n"
	"Puts BACKUP (from mlagw store backup) in place as STORE.db, with the gateway stopped.\n"
	"The backup is checked first (as mlagw store check), with its attachment files in\n"
	"BACKUP.attachments/, which are then copied into the attachments folder beside STORE.db.\n"
	"An existing STORE.db (or attachments folder) is refused unless --replace, which keeps it\n"
	"(and its -wal, -shm, attachments) aside as STORE.db.replaced-<UTC time> (and\n"
	"attachments.replaced-<UTC time>). At its next start the gateway asks its peers what they\n"
	"cosigned: if they hold more than the backup, open a new log epoch (mlagw audit\n"
	"new-epoch; docs/operations.md).\n"
	"exit: 0 restored, 1 refused (STORE.db exists, the backup fails its check), 2 usage,\n"
	"3 cannot read or write the files\n";

struct restore_args {
	const char *from, *store;
	int replace;
};

static int apply(int c, const char *v, void *arg)
{
	struct restore_args *a = arg;

	switch (c) {
	case 'f': a->from = v; break;
	case 's': a->store = v; break;
	case 'r': a->replace = 1; break;
	default: return CLI_USAGE;
	}
	return CLI_OK;
}

static int exists(const char *path)
{
	struct stat st;

	return lstat(path, &st) == 0;
}

/* path + suffix into out. */
static int with(char out[PATH_MAX], const char *path, const char *suffix)
{
	return mla_snprintf(out, PATH_MAX, "%s%s", path, suffix) == MLA_OK;
}

/* The attachments folder beside STORE.db renamed to attachments.replaced-<time>. */
static int move_attachments_aside(const char *root, const char *stamp)
{
	char to[PATH_MAX];

	if (!exists(root))
		return CLI_OK;
	if (mla_snprintf(to, sizeof(to), "%s.replaced-%s", root, stamp) != MLA_OK)
		return cli_usage_error(CMD, "--store: path too long");
	if (exists(to) || rename(root, to) != 0) {
		fprintf(stderr, "mlagw " CMD ": cannot move %s aside to %s: %s\n", root, to,
			exists(to) ? "it exists" : strerror(errno));
		return CLI_IO;
	}
	return CLI_OK;
}

/* STORE.db and its -wal and -shm renamed to STORE.db.replaced-<time>[-wal|-shm], its
 * attachments folder to attachments.replaced-<time>. */
static int move_aside(const char *store, const char *att_root, char aside[PATH_MAX])
{
	static const char *const suffixes[] = {"", "-wal", "-shm"};
	char stamp[MLA_TIME_LEN], from[PATH_MAX], to[PATH_MAX], base[PATH_MAX];

	mla_time_format(time(NULL), stamp);
	if (mla_snprintf(base, sizeof(base), "%s.replaced-%s", store, stamp) != MLA_OK)
		return cli_usage_error(CMD, "--store: path too long");
	for (size_t i = 0; i < 3; i++) {
		if (!with(from, store, suffixes[i]) || !with(to, base, suffixes[i]))
			return cli_usage_error(CMD, "--store: path too long");
		if (!exists(from))
			continue;
		if (exists(to) || rename(from, to) != 0) {
			fprintf(stderr, "mlagw " CMD ": cannot move %s aside to %s: %s\n", from, to,
				exists(to) ? "it exists" : strerror(errno));
			return CLI_IO;
		}
	}
	memcpy(aside, base, sizeof(base));
	return move_attachments_aside(att_root, stamp);
}

/* Refuses a store in place (or its write-ahead log) unless --replace, which moves it aside. */
static int clear_place(const struct restore_args *a, const char *att_root,
		       char aside[PATH_MAX])
{
	char wal[PATH_MAX], shm[PATH_MAX];
	int busy = 0;

	aside[0] = '\0';
	if (!with(wal, a->store, "-wal") || !with(shm, a->store, "-shm"))
		return cli_usage_error(CMD, "--store: path too long");
	if (!exists(a->store) && !exists(wal) && !exists(shm) && !exists(att_root))
		return CLI_OK;
	if (!a->replace) {
		fprintf(stderr, "mlagw " CMD ": %s (or its -wal, -shm, or %s) exists: stop the "
			"gateway and give --replace to keep it aside\n", a->store, att_root);
		return CLI_REJECTED;
	}
	if (exists(a->store) && store_in_use(a->store, &busy, NULL) == MLA_OK && busy) {
		fprintf(stderr, "mlagw " CMD ": %s is in use (a gateway running on it?): stop the "
			"gateway first\n", a->store);
		return CLI_REJECTED;
	}
	return move_aside(a->store, att_root, aside);
}

/* The backup's attachment files (checked) into dst_root, before the store is in place. */
static int restore_attachments(const char *from, const char *src_root, const char *dst_root,
			       struct attach_backup_result *ab)
{
	store_reader *r = NULL;
	mla_diag d = {MLA_OK, ""};
	mla_err e;

	if ((e = store_reader_open(from, &r, &d)) != MLA_OK)
		return cli_fail(CMD, e, &d);
	e = attach_backup_run(r, src_root, dst_root, ab, &d);
	store_reader_close(r);
	if (e != MLA_OK) {
		attach_backup_remove(dst_root);
		return cli_fail(CMD, e, &d);
	}
	return CLI_OK;
}

static int restore(const struct restore_args *a)
{
	struct store_check_result res;
	struct attach_check_result att;
	struct attach_backup_result ab;
	char tmp[PATH_MAX], aside[PATH_MAX], src_root[PATH_MAX], dst_root[PATH_MAX];
	mla_diag d = {MLA_OK, ""};
	uint64_t bytes = 0;
	mla_err e;
	int rc;

	if (mla_snprintf(src_root, sizeof(src_root), "%s.attachments", a->from) != MLA_OK ||
	    attach_root_path(a->store, dst_root, sizeof(dst_root), &d) != MLA_OK ||
	    mla_snprintf(tmp, sizeof(tmp), "%s.tmp.%ld", a->store, (long)getpid()) != MLA_OK)
		return cli_usage_error(CMD, "--from or --store: path too long");
	rc = store_check_file(a->from, src_root, CMD, &res, &att);
	if (rc == CLI_REJECTED) {
		fprintf(stderr, "mlagw " CMD ": the backup %s fails its check; nothing changed:\n",
			a->from);
		store_check_print(a->from, &res, &att);
	}
	if (rc != CLI_OK || (rc = clear_place(a, dst_root, aside)) != CLI_OK ||
	    (rc = restore_attachments(a->from, src_root, dst_root, &ab)) != CLI_OK)
		return rc;
	/* the copy carries the recovery mark before it is in place: the first start then asks
	 * the peers back what they hold of the messages since the backup (SPEC 14) */
	if ((e = store_backup_copy(a->from, tmp, &bytes, &d)) != MLA_OK ||
	    (e = store_recovery_mark_file(tmp, "restore", &d)) != MLA_OK ||
	    (e = store_backup_place(tmp, a->store, &d)) != MLA_OK) {
		(void)unlink(tmp);
		attach_backup_remove(dst_root);
		return cli_fail(CMD, e, &d);
	}
	printf("restored %s from %s: %llu bytes, %llu audit entries, checkpoint of %llu entries\n",
	       a->store, a->from, (unsigned long long)bytes, (unsigned long long)res.entries,
	       (unsigned long long)res.checkpoint);
	printf("restored %s: %llu attachment files of %llu messages (%llu of transfers in "
	       "progress), %llu tree files, %llu bytes\n", dst_root, (unsigned long long)ab.files,
	       (unsigned long long)ab.messages, (unsigned long long)ab.parts,
	       (unsigned long long)ab.trees, (unsigned long long)ab.bytes);
	if (aside[0] != '\0')
		printf("the store replaced is kept as %s\n", aside);
	printf("next: start the gateway; if a peer cosigned beyond this backup it refuses to start, "
	       "then open a new log epoch (mlagw audit new-epoch; docs/operations.md)\n");
	return CLI_OK;
}

int store_restore_cmd(int argc, char **argv)
{
	static const struct option opts[] = {
		{"from", 1, NULL, 'f'}, {"store", 1, NULL, 's'}, {"replace", 0, NULL, 'r'},
		{"help", 0, NULL, 'h'}, {NULL, 0, NULL, 0},
	};
	struct cli_optspec spec = {CMD, restore_usage, "", opts, apply};
	struct restore_args a = {0};
	int rc;

	if ((rc = cli_parse_options(argc, argv, &spec, &a)) != CLI_OK)
		return rc == -1 ? CLI_OK : rc;
	if (a.from == NULL || a.store == NULL)
		return cli_usage_error(CMD, "--from and --store are required");
	return restore(&a);
}
