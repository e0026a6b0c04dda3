/* cli_runner.c - the planbok program as a child process (see cli_runner.h). */
#include "support/cli_runner.h"

#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static char *slurp(FILE *f)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *m = open_memstream(&buf, &len);
    cr_assert_not_null(m);
    char chunk[4096];
    size_t n;
    while ((n = fread(chunk, 1, sizeof chunk, f)) > 0)
        fwrite(chunk, 1, n, m);
    fclose(m);
    return buf;
}

void pb_test_cli_run(const char *home, const char *args, pb_test_cli *r)
{
    memset(r, 0, sizeof *r);
    const char *bin = getenv("PB_BINARY_DIR");
    const char *tmp = getenv("TMPDIR");
    char err_path[300];
    snprintf(err_path, sizeof err_path, "%s/planbok-stderr-XXXXXX", tmp && *tmp ? tmp : "/tmp");
    int fd = mkstemp(err_path);
    cr_assert_geq(fd, 0);
    close(fd);
    char cmd[3000];
    snprintf(cmd, sizeof cmd, "'%s/bin/planbok' --home '%s' %s 2>'%s'", bin && *bin ? bin : ".",
             home, args, err_path);
    FILE *p = popen(cmd, "r");
    cr_assert_not_null(p);
    r->out = slurp(p);
    int status = pclose(p);
    r->code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    FILE *e = fopen(err_path, "r");
    cr_assert_not_null(e);
    r->err = slurp(e);
    fclose(e);
    unlink(err_path);
}

void pb_test_cli_free(pb_test_cli *r)
{
    free(r->out);
    free(r->err);
    memset(r, 0, sizeof *r);
}
