/*
 * Shared benchmark helpers. Each bench/bench_<area>.c is one program that
 * times tmpf against baselines measured in the same run and prints medians
 * and ratios (never pass/fail: tests assert behaviour, benchmarks measure).
 *
 *   double ns = bench_median_ns(op, ctx, iterations, rounds);
 *   bench_row("named file create+cleanup", ns, "bare open+close+unlink", base);
 *
 * op(ctx, i) performs one operation; a round times `iterations` calls and
 * the median over `rounds` rounds is reported per operation. Rounds of the
 * candidates should be interleaved by the caller when noise matters
 * (bench_interleaved does that for two or more).
 *
 * When $TMPF_BENCH_SUMMARY names a file (bench/run-all.sh sets it), every
 * bench_header, bench_row and bench_note is also appended to that file as
 * one tab-separated line, from which run-all.sh prints the combined table
 * of all benchmarks:
 *
 *   H <tab> title
 *   R <tab> operation <tab> ns <tab> baseline <tab> baseline ns
 *   N <tab> note
 */
#ifndef TMPF_BENCH_H
#define TMPF_BENCH_H

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

typedef void (*bench_op)(void *ctx, long i);

/* A benchmark whose setup or operation fails measures nothing: stop. */
static inline void bench_die(const char *what)
{
    perror(what);
    exit(1);
}

static inline double bench_now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

static int bench_cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static inline double bench_median(double *v, int n)
{
    qsort(v, (size_t)n, sizeof *v, bench_cmp_double);
    return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

/* Median ns per operation over `rounds` rounds of `iterations` calls. */
static inline double bench_median_ns(bench_op op, void *ctx, long iterations,
                                     int rounds)
{
    double *per_op = malloc(sizeof(double) * (size_t)rounds);
    if (!per_op)
        return -1;
    for (int r = 0; r < rounds; r++) {
        double t0 = bench_now_ns();
        for (long i = 0; i < iterations; i++)
            op(ctx, i);
        per_op[r] = (bench_now_ns() - t0) / (double)iterations;
    }
    double m = bench_median(per_op, rounds);
    free(per_op);
    return m;
}

/* Times n candidates round-robin (round r of each before round r+1 of
 * any), so slow phases of a noisy machine hit all of them alike; writes
 * each candidate's median ns per operation to out[]. */
static inline void bench_interleaved(int n, const bench_op *ops, void *const *ctxs,
                                     long iterations, int rounds, double *out)
{
    double *samples = malloc(sizeof(double) * (size_t)(n * rounds));
    if (!samples)
        return;
    for (int r = 0; r < rounds; r++)
        for (int c = 0; c < n; c++) {
            double t0 = bench_now_ns();
            for (long i = 0; i < iterations; i++)
                ops[c](ctxs[c], i);
            samples[c * rounds + r] = (bench_now_ns() - t0) / (double)iterations;
        }
    for (int c = 0; c < n; c++)
        out[c] = bench_median(samples + c * rounds, rounds);
    free(samples);
}

/* Appends one summary line: a kind letter, then the fields, tab-separated;
 * tabs and newlines inside a field become spaces. */
static inline void bench_summary(char kind, int n, const char *const *fields)
{
    const char *name = getenv("TMPF_BENCH_SUMMARY");
    if (!name || !*name)
        return;
    FILE *f = fopen(name, "a");
    if (!f)
        return;
    fputc(kind, f);
    for (int k = 0; k < n; k++) {
        fputc('\t', f);
        for (const char *c = fields[k]; *c; c++)
            fputc(*c == '\t' || *c == '\n' ? ' ' : *c, f);
    }
    fputc('\n', f);
    fclose(f);
}

static inline void bench_header(const char *title)
{
    bench_summary('H', 1, &title);
    printf("\n## %s\n\n", title);
    printf("| operation | median | baseline | baseline median | ratio |\n");
    printf("|---|---:|---|---:|---:|\n");
}

static inline void bench_fmt(char *buf, size_t n, double ns)
{
    if (ns >= 1e6)
        snprintf(buf, n, "%.2f ms", ns / 1e6);
    else if (ns >= 1e3)
        snprintf(buf, n, "%.2f us", ns / 1e3);
    else
        snprintf(buf, n, "%.1f ns", ns);
}

/* One table row: the candidate against one baseline; ratio = ours/theirs. */
static inline void bench_row(const char *what, double ns, const char *baseline,
                             double base_ns)
{
    char a[32], b[32];
    bench_fmt(a, sizeof a, ns);
    bench_fmt(b, sizeof b, base_ns);
    printf("| %s | %s | %s | %s | %.3fx |\n", what, a, baseline, b, ns / base_ns);
    fflush(stdout);
    char x[32], y[32];
    snprintf(x, sizeof x, "%.1f", ns);
    snprintf(y, sizeof y, "%.1f", base_ns);
    const char *fields[] = {what, x, baseline, y};
    bench_summary('R', 4, fields);
}

/* A finding that is not a row (a scaling factor, a skipped baseline):
 * printed as a paragraph, and listed under the combined table. */
#if defined(__GNUC__) || defined(__clang__)
__attribute__((format(printf, 1, 2)))
#endif
static inline void bench_note(const char *fmt, ...)
{
    char text[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(text, sizeof text, fmt, ap);
    va_end(ap);
    printf("\n%s\n", text);
    fflush(stdout);
    const char *field = text;
    bench_summary('N', 1, &field);
}

/* Runs a shell command that prints one number (a Python timing script,
 * say) and returns it, or -1 if the command fails or prints none, e.g.
 * when python3 is absent. */
static inline double bench_command_ns(const char *cmd)
{
    FILE *p = popen(cmd, "r");
    if (!p)
        return -1;
    double ns = -1;
    if (fscanf(p, "%lf", &ns) != 1)
        ns = -1;
    if (pclose(p) != 0)
        ns = -1;
    return ns;
}

/* Directory for file-heavy benchmarks: $TMPF_BENCH_DIR, else /dev/shm. */
static inline const char *bench_dir(void)
{
    const char *d = getenv("TMPF_BENCH_DIR");
    return d && *d ? d : "/dev/shm";
}

#endif
