/* wallet_unfinished.c - wallets whose creation did not finish.
 *
 * Owns: the creation journal (an empty file <home>/node1/creating/<id>,
 * made durable before the first record of a new wallet is stored and
 * removed after its last), and what happens to a wallet a crash left half
 * made. Such a wallet was never handed to anyone (its id and, for a
 * customer, its recovery code were never printed), so it is never listed as
 * usable: at the next start its partial records are removed, or, if node 1's
 * row made it (the crash hit only the audit record or the journal), the
 * creation is recorded as finished. Both are audited. A creation still
 * running in another process holds the wallet's maintenance lock and is
 * left alone. Must never remove anything of a wallet node 1 lists.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/fail.h"
#include "engine/engine_internal.h"
#include "engine/wallet_lock.h"

static void journal_dir(const pb_engine *e, char *out, size_t n)
{
    snprintf(out, n, "%s/node1/creating", e->cfg.home);
}

static pb_status sync_dir(const char *dir)
{
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return pb_fail(PB_ERR_STORAGE, "cannot open '%s': %s", dir, strerror(errno));
    int ok = fsync(fd) == 0;
    close(fd);
    return ok ? PB_OK : pb_fail(PB_ERR_STORAGE, "cannot fsync '%s'", dir);
}

pb_status pb_create_journal_begin(pb_engine *e, const char *wallet_id)
{
    char dir[600], path[700];
    journal_dir(e, dir, sizeof dir);
    if (mkdir(dir, 0700) != 0 && errno != EEXIST)
        return pb_fail(PB_ERR_STORAGE, "cannot create '%s': %s", dir, strerror(errno));
    snprintf(path, sizeof path, "%s/%s", dir, wallet_id);
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (fd < 0)
        return pb_fail(PB_ERR_STORAGE, "cannot create '%s': %s", path, strerror(errno));
    close(fd);
    return sync_dir(dir);
}

void pb_create_journal_end(pb_engine *e, const char *wallet_id)
{
    char dir[600], path[700];
    journal_dir(e, dir, sizeof dir);
    snprintf(path, sizeof path, "%s/%s", dir, wallet_id);
    if (unlink(path) == 0)
        (void)sync_dir(dir); /* a journal left behind is finished at the next start */
}

static pb_status drop_blob(pb_keystore *ks, const char *wallet_id, uint8_t role,
                           pb_blob_kind kind)
{
    pb_blob_ref ref = {wallet_id, role, kind};
    pb_status st = pb_keystore_delete(ks, &ref);
    return st == PB_ERR_NOT_FOUND ? PB_OK : st;
}

pb_status pb_create_abandon(pb_engine *e, const char *wallet_id)
{
    /* P1's record first (node 1, or node 2 for a customer), node 2's row
     * and record last: what is left after a crash here is again a wallet
     * node 1 does not list, and the next start finishes the job. */
    pb_status st = drop_blob(pb_node1(e)->ks, wallet_id, 1, PB_BLOB_SHARE);
    static const pb_blob_kind at_node2_for_p1[] = {PB_BLOB_WRAPPED_SECRET, PB_BLOB_RECOVERY};
    for (size_t i = 0; st == PB_OK && i < 2; i++)
        st = drop_blob(pb_node2(e)->ks, wallet_id, 1, at_node2_for_p1[i]);
    if (st == PB_OK) {
        st = pb_wallet_db_delete(pb_node2(e)->db, wallet_id);
        if (st == PB_ERR_NOT_FOUND)
            st = PB_OK;
    }
    static const pb_blob_kind p2_kinds[] = {PB_BLOB_SHARE, PB_BLOB_SHARE_PENDING};
    for (size_t i = 0; st == PB_OK && i < 2; i++)
        st = drop_blob(pb_node2(e)->ks, wallet_id, 2, p2_kinds[i]);
    return st;
}

/* One journal entry found at start-up, with its maintenance lock held. */
static pb_status settle(pb_engine *e, const char *wallet_id)
{
    pb_wallet_row row;
    pb_status st = pb_wallet_db_get(pb_node1(e)->db, wallet_id, &row);
    if (st == PB_OK)
        return pb_engine_audit_result(e, "wallet.create.finished", wallet_id, NULL, PB_OK,
                                      PB_AUDIT_BOTH);
    if (st != PB_ERR_NOT_FOUND)
        return st;
    st = pb_create_abandon(e, wallet_id);
    return pb_engine_audit_result(e, "wallet.create.abandoned", wallet_id, NULL, st,
                                  PB_AUDIT_BOTH);
}

pb_status pb_engine_settle_unfinished(pb_engine *e)
{
    char dir[600];
    journal_dir(e, dir, sizeof dir);
    DIR *d = opendir(dir);
    if (!d)
        return PB_OK; /* nothing was ever created here, or nothing is pending */
    pb_status st = PB_OK;
    struct dirent *ent;
    while (st == PB_OK && (ent = readdir(d)) != NULL) {
        const char *id = ent->d_name;
        if (id[0] == '.' || pb_wallet_id_check(id) != 0)
            continue;
        pb_wallet_lock lock;
        if (pb_wallet_lock_try(e->cfg.home, id, PB_WALLET_LOCK_MAINTAIN, &lock) != PB_OK)
            continue; /* still being created by another process */
        st = settle(e, id);
        if (st == PB_OK)
            pb_create_journal_end(e, id);
        pb_wallet_lock_release(&lock);
    }
    closedir(d);
    return st;
}
