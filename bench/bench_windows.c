/*
 * Windows only (cross build, run under Wine here): the cost of tmpf's
 * named temporary file against the bare system calls in the same run.
 *
 *   named:     tmpf_named_temporary_file + tmpf_file_cleanup
 *   bare:      CreateFileW(CREATE_NEW) + CloseHandle + DeleteFileW
 *   bare, CRT: the same through a C runtime descriptor (_open_osfhandle,
 *              _close), as the API's descriptors are
 *   anonymous: tmpf_temporary_file + tmpf_file_cleanup
 *   bare:      CreateFileW(CREATE_NEW, FILE_FLAG_DELETE_ON_CLOSE) + CloseHandle
 *
 * Rounds of the candidates are interleaved; medians per operation over
 * the rounds, and their ratio. Under Wine these are figures of Wine on
 * Linux, not of Windows. Usage: bench_windows [iterations [rounds]].
 */
#include "tmpf.h"

#include <fcntl.h>
#include <io.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <wchar.h>
#include <windows.h>

static wchar_t wdir[1024];
static char dir[1024];
static LARGE_INTEGER freq;

typedef void (*op_fn)(long i);

static void die(const char *what)
{
    fprintf(stderr, "bench_windows: %s failed (errno %d, last error %lu)\n", what, errno,
            (unsigned long)GetLastError());
    exit(1);
}

static void op_named(long i)
{
    (void)i;
    tmpf_opts o = {.dir = dir};
    tmpf_file *f = tmpf_named_temporary_file(&o);
    if (!f || tmpf_file_cleanup(f) != 0)
        die("tmpf_named_temporary_file + cleanup");
}

static void bare_name(wchar_t *buf, size_t n, const wchar_t *kind, long i)
{
    _snwprintf(buf, n, L"%ls\\%ls-%ld", wdir, kind, i);
    buf[n - 1] = 0;
}

static void op_bare_named(long i)
{
    wchar_t p[1100];
    bare_name(p, 1100, L"bare", i);
    HANDLE h = CreateFileW(p, GENERIC_READ | GENERIC_WRITE,
                           FILE_SHARE_READ | FILE_SHARE_WRITE | FILE_SHARE_DELETE, NULL,
                           CREATE_NEW, FILE_ATTRIBUTE_TEMPORARY, NULL);
    if (h == INVALID_HANDLE_VALUE)
        die("CreateFileW");
    CloseHandle(h);
    if (!DeleteFileW(p))
        die("DeleteFileW");
}

/* The same with a C runtime descriptor, as the API hands out (tmpf_mkstemp,
 * tmpf_file_fileno): _open_osfhandle asks the file's type once more. */
static void op_bare_crt(long i)
{
    wchar_t p[1100];
    bare_name(p, 1100, L"crt", i);
    HANDLE h = CreateFileW(p, GENERIC_READ | GENERIC_WRITE,
                           FILE_SHARE_READ | FILE_SHARE_WRITE | FILE_SHARE_DELETE, NULL,
                           CREATE_NEW, FILE_ATTRIBUTE_TEMPORARY, NULL);
    if (h == INVALID_HANDLE_VALUE)
        die("CreateFileW");
    int fd = _open_osfhandle((intptr_t)h, _O_RDWR | _O_BINARY);
    if (fd < 0)
        die("_open_osfhandle");
    _close(fd);
    if (!DeleteFileW(p))
        die("DeleteFileW");
}

static void op_anonymous(long i)
{
    (void)i;
    tmpf_opts o = {.dir = dir};
    tmpf_file *f = tmpf_temporary_file(&o);
    if (!f || tmpf_file_cleanup(f) != 0)
        die("tmpf_temporary_file + cleanup");
}

static void op_bare_anonymous(long i)
{
    wchar_t p[1100];
    bare_name(p, 1100, L"anon", i);
    HANDLE h = CreateFileW(p, GENERIC_READ | GENERIC_WRITE | DELETE,
                           FILE_SHARE_READ | FILE_SHARE_WRITE | FILE_SHARE_DELETE, NULL,
                           CREATE_NEW,
                           FILE_ATTRIBUTE_TEMPORARY | FILE_ATTRIBUTE_HIDDEN |
                               FILE_FLAG_DELETE_ON_CLOSE,
                           NULL);
    if (h == INVALID_HANDLE_VALUE)
        die("CreateFileW(DELETE_ON_CLOSE)");
    CloseHandle(h);
}

static double round_ns(op_fn op, long iterations, long base)
{
    LARGE_INTEGER a, b;
    QueryPerformanceCounter(&a);
    for (long i = 0; i < iterations; i++)
        op(base + i);
    QueryPerformanceCounter(&b);
    return (double)(b.QuadPart - a.QuadPart) * 1e9 / (double)freq.QuadPart / (double)iterations;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double median(double *v, int n)
{
    qsort(v, (size_t)n, sizeof *v, cmp_double);
    return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

/* Interleaved rounds of a and b; prints both medians and a/b. */
static void compare(const char *name_a, op_fn a, const char *name_b, op_fn b, long iterations,
                    int rounds)
{
    double *ta = calloc((size_t)rounds, sizeof *ta), *tb = calloc((size_t)rounds, sizeof *tb);
    if (!ta || !tb)
        die("calloc");
    round_ns(a, iterations, 0); /* warm-up */
    round_ns(b, iterations, 0);
    for (int r = 0; r < rounds; r++) {
        long base = (long)(r + 1) * iterations;
        if (r % 2) {
            tb[r] = round_ns(b, iterations, base);
            ta[r] = round_ns(a, iterations, base);
        } else {
            ta[r] = round_ns(a, iterations, base);
            tb[r] = round_ns(b, iterations, base);
        }
    }
    double ma = median(ta, rounds), mb = median(tb, rounds);
    printf("%-48s %10.0f ns\n%-48s %10.0f ns\n%-48s %10.2fx\n\n", name_a, ma, name_b, mb,
           "ratio", ma / mb);
    free(ta);
    free(tb);
}

int main(int argc, char **argv)
{
    long iterations = argc > 1 ? atol(argv[1]) : 200;
    int rounds = argc > 2 ? atoi(argv[2]) : 15;
    if (iterations < 1 || rounds < 1)
        return 2;
    QueryPerformanceFrequency(&freq);
    wchar_t tmp[MAX_PATH];
    DWORD n = GetTempPathW(MAX_PATH, tmp);
    if (n == 0 || n >= MAX_PATH)
        die("GetTempPathW");
    _snwprintf(wdir, 1024, L"%lsbench_windows-%lu", tmp, (unsigned long)GetCurrentProcessId());
    wdir[1023] = 0;
    if (!CreateDirectoryW(wdir, NULL))
        die("CreateDirectoryW");
    WideCharToMultiByte(CP_UTF8, 0, wdir, -1, dir, sizeof dir, NULL, NULL);
    HMODULE ntdll = GetModuleHandleW(L"ntdll.dll");
    const char *(*wine_version)(void) =
        ntdll ? (const char *(*)(void))(void (*)(void))GetProcAddress(ntdll, "wine_get_version")
              : NULL;
    printf("tmpf %s, %ld operations x %d rounds, in %s\n", tmpf_version(), iterations, rounds,
           dir);
    if (wine_version)
        printf("under Wine %s: figures of Wine on this machine, not of Windows\n\n",
               wine_version());
    else
        printf("on Windows\n\n");
    compare("named create+cleanup (tmpf)", op_named,
            "bare CreateFileW+CloseHandle+DeleteFileW", op_bare_named, iterations, rounds);
    compare("named create+cleanup (tmpf)", op_named,
            "bare ... with a CRT descriptor (_open_osfhandle)", op_bare_crt, iterations, rounds);
    compare("anonymous create+cleanup (tmpf)", op_anonymous,
            "bare CreateFileW(DELETE_ON_CLOSE)+CloseHandle", op_bare_anonymous, iterations,
            rounds);
    if (tmpf_rmtree(dir, 0) != 0)
        die("tmpf_rmtree");
    return 0;
}
