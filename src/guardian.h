/* The guardian's entry point for systems where it is a program of its own
 * (Windows: a library cannot re-run its host, so tmpf_crash_guard starts
 * tmpf.exe with TMPF__GUARDIAN_ARG first; src/win/guard_os.c). Private:
 * tools/main.c and the library only, never exported from tmpf.dll. */
#ifndef TMPF_GUARDIAN_H
#define TMPF_GUARDIAN_H

#define TMPF__GUARDIAN_ARG "--crash-guardian"

/* main() of the guardian: argv as tmpf__os_guard_spawn wrote it (argv[1]
 * is TMPF__GUARDIAN_ARG). Adopts the guarded process's registry, says it
 * is ready, waits for that process to end, removes its live temporaries.
 * Returns the exit status: 0, else nonzero (arguments of another version
 * of the library, handles that are not what they should be). */
int tmpf__guardian_main(int argc, char **argv);

#endif
