/* mlagw bench evidence's figures (cmd_bench_evidence.c measures them): the text and JSON
 * forms, the bound, the pipeline bound and the order ceiling (SPEC 17.14). */
#include <stdio.h>

#include "bench_evidence.h"

#define RSS_TARGET_KIB (64L << 10)   /* the target for a 4 GiB attachment */
/* What the two-gateway path does to each byte of the attachment. AES-256-GCM: the client's
 * TLS to A, A's TLS from it, the sealing, A's TLS to B, B's TLS from A (TLS 1.3 negotiates
 * AES-256-GCM here). SHA-256: A's digest of the file, A's leaf hash of each segment, B's leaf
 * hash checking the inclusion proof. Fsynced writes: the upload at A, the ciphertext at A and
 * at B. Reads from the page cache, copies and the Merkle tree's inner hashes (1/32768 of a
 * byte's hash) are left out: the bound stays above what any implementation can do. */
#define PATH_GCM 5
#define PATH_SHA 3
#define PATH_WRITES 3

static double bound_of(const struct bev_figures *f)
{
	double b = f->speed.aes_gcm_mbps;

	if (f->speed.sha256_mbps < b)
		b = f->speed.sha256_mbps;
	return f->disk_mbps < b ? f->disk_mbps : b;
}

/* The pipeline bound (MB/s): each byte's operations at the rates measured, on all cores. */
static double path_bound_of(const struct bev_figures *f)
{
	double per_mb = PATH_GCM / f->speed.aes_gcm_mbps + PATH_SHA / f->speed.sha256_mbps +
			PATH_WRITES / f->disk_mbps;

	return (double)f->cores / per_mb;
}

/* The order ceiling (MB/s): the design the issue sets (SPEC 17.13) writes every byte twice,
 * one write after the other: A holds the whole file, fsynced, before the envelope can sign
 * its root, and B writes a segment only once it verified it against that signed root. At
 * the disk rate measured, with everything else free, end to end cannot beat disk / 2. */
static double order_ceiling_of(const struct bev_figures *f)
{
	return f->disk_mbps / 2.0;
}

static void print_json(const struct bev_figures *f)
{
	double mb = (double)f->size / 1e6, bound = bound_of(f);
	double e2e = mb / (f->upload_s + f->seal_s + f->transfer_s);

	printf("{\"size\": %llu, \"gateways\": %d, \"upload_mbps\": %.1f, \"seal_mbps\": %.1f, ",
	       (unsigned long long)f->size, f->two ? 2 : 1, mb / f->upload_s, mb / f->seal_s);
	if (f->two)
		printf("\"transfer_mbps\": %.1f, \"download_mbps\": %.1f, \"peak_rss_kib\": "
		       "[%ld, %ld], \"cpu_s\": [%.2f, %.2f], ", mb / f->transfer_s,
		       f->downloaded ? mb / f->download_s : 0.0, f->hwm_kib[0], f->hwm_kib[1],
		       f->cpu_s[0], f->cpu_s[1]);
	if (f->two)
		printf("\"cores\": %ld, \"path_bound_mbps\": %.1f, \"path_ratio\": %.3f, "
		       "\"order_ceiling_mbps\": %.1f, \"order_ratio\": %.3f, ", f->cores,
		       path_bound_of(f), e2e / path_bound_of(f), order_ceiling_of(f),
		       e2e / order_ceiling_of(f));
	printf("\"end_to_end_mbps\": %.1f, \"bound_mbps\": %.1f, \"aes_gcm_mbps\": %.1f, "
	       "\"sha256_mbps\": %.1f, \"disk_mbps\": %.1f, \"ratio\": %.3f}\n", e2e, bound,
	       f->speed.aes_gcm_mbps, f->speed.sha256_mbps, f->disk_mbps,
	       (f->two ? e2e : mb / f->seal_s) / bound);
}

static void print_phase(const char *what, uint64_t size, double s)
{
	printf("  %-18s %8.1f MB/s  (%.2f s)\n", what, (double)size / 1e6 / s, s);
}

void bev_print(int json, const struct bev_figures *f)
{
	double mb = (double)f->size / 1e6, bound = bound_of(f);
	double total = f->upload_s + f->seal_s + f->transfer_s;

	if (json) {
		print_json(f);
		return;
	}
	printf("attachment of %llu bytes%s\n", (unsigned long long)f->size,
	       f->two ? ", two gateways on this machine: A (ES) -> B (CO)" : "");
	print_phase("upload", f->size, f->upload_s);
	print_phase("seal+store", f->size, f->seal_s);
	if (f->two) {
		print_phase("transfer+receipt", f->size, f->transfer_s);
		if (f->downloaded)
			print_phase("download at B", f->size, f->download_s);
		print_phase("end to end", f->size, total);
		printf("  (end to end: upload start to A's verified receipt, version 3)\n");
	}
	printf("  %-18s %8.1f MB/s  (AES-256-GCM %.1f, SHA-256 %.1f, fsynced disk %.1f, best "
	       "of 3)\n",
	       "bound", bound, f->speed.aes_gcm_mbps, f->speed.sha256_mbps, f->disk_mbps);
	if (!f->two) {
		printf("  sealing at %.0f%% of the bound\n", 100.0 * mb / f->seal_s / bound);
		return;
	}
	printf("  %-18s %8.1f MB/s  (per byte %d AES-256-GCM + %d SHA-256 + %d fsynced writes, "
	       "on %ld cores)\n", "pipeline bound", path_bound_of(f), PATH_GCM, PATH_SHA,
	       PATH_WRITES, f->cores);
	printf("  %-18s %8.1f MB/s  (the file fsynced whole at A before the envelope signs its "
	       "root, then at B: disk / 2, %.0f%% of the bound)\n", "order ceiling",
	       order_ceiling_of(f), 100.0 * order_ceiling_of(f) / bound);
	printf("  end to end at %.0f%% of the bound (target at least 50%%), %.0f%% of the "
	       "pipeline bound, %.0f%% of the order ceiling\n", 100.0 * mb / total / bound,
	       100.0 * mb / total / path_bound_of(f), 100.0 * mb / total / order_ceiling_of(f));
	printf("  peak RSS           A %.1f MiB, B %.1f MiB (VmHWM; target under 64 MiB per "
	       "gateway for a 4 GiB attachment)\n", (double)f->hwm_kib[0] / 1024.0,
	       (double)f->hwm_kib[1] / 1024.0);
	/* CPU per byte does not depend on what else the machine runs, as MB/s does */
	printf("  CPU time           A %.1f s, B %.1f s (user + system, whole run; %.1f s per GB "
	       "for both)\n", f->cpu_s[0], f->cpu_s[1], (f->cpu_s[0] + f->cpu_s[1]) / (mb / 1e3));
	for (int i = 0; i < 2; i++)
		if (f->hwm_kib[i] >= RSS_TARGET_KIB)
			printf("  note: gateway %c's peak RSS is over the 64 MiB target\n", "AB"[i]);
}
