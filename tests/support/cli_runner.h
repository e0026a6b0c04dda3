/* cli_runner.h - runs the real `planbok` program ($PB_BINARY_DIR/bin/planbok)
 * against a data directory and captures its exit code, stdout and stderr
 * (stderr goes through a temporary file outside the data directory, which
 * may be read-only). */
#ifndef PB_TEST_CLI_RUNNER_H
#define PB_TEST_CLI_RUNNER_H

typedef struct pb_test_cli {
    int code;  /* exit code, -1 if killed */
    char *out; /* malloc'd, NUL-terminated */
    char *err;
} pb_test_cli;

/* `args` is pasted into a shell command line after `--home 'HOME'`. */
void pb_test_cli_run(const char *home, const char *args, pb_test_cli *r);
void pb_test_cli_free(pb_test_cli *r);

#endif
