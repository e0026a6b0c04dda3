/* engine_fixture.c - two-node installations for engine tests (see
 * engine_fixture.h). No mocks: real tokens, real keys. */
#include "support/support.h"
#include "support/engine_fixture.h"

#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/config.h"
#include "engine/engine_internal.h"
#include "pkcs11/softhsm_dev.h"
#include "support/mpc_runner.h"

static void install_cosigner(pb_engine *e)
{
    /* The suites' cached safe-prime parameters (see mpc_runner.h). */
    pb_cosigner_params *params = mpc_fx_cosigner(2048);
    cr_assert_eq(pb_engine_setup_with(e, params), PB_OK, "%s", pb_last_error());
    pb_cosigner_params_free(params);
}

void pb_test_engine_make(pb_test_engine *t)
{
    memset(t, 0, sizeof *t);
    const char *tmp = getenv("TMPDIR");
    snprintf(t->home, sizeof t->home, "%s/planbok-engine-XXXXXX", tmp && *tmp ? tmp : "/tmp");
    cr_assert_not_null(mkdtemp(t->home));
    snprintf(t->device, sizeof t->device, "%s/device", t->home);
    pb_config cfg;
    pb_config_dev_defaults(&cfg, t->home);
    cfg.paillier_bits = 2048;
    char path[600], softhsm[600];
    pb_config_path(t->home, path, sizeof path);
    cr_assert_eq(pb_config_write(path, &cfg), PB_OK);
    pb_config_softhsm_dir(&cfg, softhsm, sizeof softhsm);
    const char *labels[] = {"planbok-node1", "planbok-node2"};
    cr_assert_eq(pb_softhsm_dev_provision(cfg.node[0].module, softhsm, labels, 2), PB_OK, "%s",
                 pb_last_error());
    for (int n = 0; n < 2; n++) {
        pb_keystore *ks = NULL;
        cr_assert_eq(pb_keystore_open(&cfg.node[n], PB_KEYSTORE_CREATE, &ks), PB_OK, "%s",
                     pb_last_error());
        pb_keystore_close(ks);
    }
    cr_assert_eq(pb_engine_open(t->home, &t->e), PB_OK, "%s", pb_last_error());
    install_cosigner(t->e);
}

void pb_test_engine_reopen(pb_test_engine *t)
{
    pb_engine_close(t->e);
    t->e = NULL;
    cr_assert_eq(pb_engine_open(t->home, &t->e), PB_OK, "%s", pb_last_error());
}

void pb_test_engine_remove(pb_test_engine *t)
{
    pb_engine_close(t->e);
    t->e = NULL;
    if (t->home[0])
        pb_test_rmtree(t->home);
}

const char *pb_test_write_file(pb_test_engine *t, const char *name, const char *text)
{
    static char paths[8][400];
    static int next;
    char *path = paths[next++ % 8];
    snprintf(path, 400, "%s/%s", t->home, name);
    FILE *f = fopen(path, "w");
    cr_assert_not_null(f);
    fputs(text, f);
    fclose(f);
    return path;
}
