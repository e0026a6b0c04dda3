/* token_fixture.c - SoftHSM tokens for tests (see token_fixture.h). */
#include "support/support.h"
#include "support/token_fixture.h"

#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "planbok/error.h"
#include "pkcs11/softhsm_dev.h"

void pb_test_token_make(pb_test_token *t, pb_placement placement)
{
    const char *tmp = getenv("TMPDIR");
    snprintf(t->dir, sizeof t->dir, "%s/planbok-test-XXXXXX", tmp && *tmp ? tmp : "/tmp");
    cr_assert_not_null(mkdtemp(t->dir), "mkdtemp failed");
    const char *labels[] = {"pb-test", "pb-other"};
    pb_status st = pb_softhsm_dev_provision(PB_SOFTHSM_MODULE_DEFAULT, t->dir, labels, 2);
    cr_assert_eq(st, PB_OK, "provisioning SoftHSM: %s", pb_last_error());
    pb_hsm_config_defaults(&t->cfg);
    snprintf(t->cfg.module, sizeof t->cfg.module, "%s", PB_SOFTHSM_MODULE_DEFAULT);
    snprintf(t->cfg.token_label, sizeof t->cfg.token_label, "pb-test");
    pb_softhsm_dev_pin_path(t->dir, "pb-test", t->cfg.pin_file, sizeof t->cfg.pin_file);
    pb_softhsm_dev_conf_path(t->dir, t->cfg.softhsm_conf, sizeof t->cfg.softhsm_conf);
    t->cfg.placement = placement;
    snprintf(t->cfg.store_dir, sizeof t->cfg.store_dir, "%s/store", t->dir);
}

pb_keystore *pb_test_token_open(pb_test_token *t)
{
    pb_keystore *ks = NULL;
    pb_status st = pb_keystore_open(&t->cfg, PB_KEYSTORE_CREATE, &ks);
    cr_assert_eq(st, PB_OK, "opening the key store: %s", pb_last_error());
    return ks;
}

void pb_test_token_remove(pb_test_token *t)
{
    if (t->dir[0])
        pb_test_rmtree(t->dir);
    t->dir[0] = '\0';
}
