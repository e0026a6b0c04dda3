/* softhsm_guard.c - lock, verify and restore developer SoftHSM tokens
 * (see softhsm_guard.h for what this owns and must never do). */
#include "pkcs11/softhsm_guard.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/fail.h"
#include "pkcs11/guard_files.h"
#include "pkcs11/softhsm_token_file.h"

#define TOKEN_FILE "token.object"
#define COPY_SUFFIX ".token-object"
#define DIR_SUFFIX ".token-dir"
/* A token record is a few hundred bytes; anything this large is not one. */
#define RECORD_MAX (64u * 1024u)
#define NAME_MAX_LEN 64

static char *trim(char *s)
{
    while (*s == ' ' || *s == '\t')
        s++;
    size_t n = strlen(s);
    while (n > 0 && strchr(" \t\r\n", s[n - 1]))
        s[--n] = '\0';
    return s;
}

/* Labels and directory names become file names: only a safe alphabet. */
static int safe_name(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n > NAME_MAX_LEN || s[0] == '.')
        return 0;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '-' || c == '_' || c == '.'))
            return 0;
    }
    return 1;
}

void pb_softhsm_guard_setup(pb_softhsm_guard *g, const char *softhsm_conf)
{
    memset(g, 0, sizeof *g);
    pthread_mutex_init(&g->share_mutex, NULL);
    if (!softhsm_conf || softhsm_conf[0] == '\0')
        return;
    FILE *f = fopen(softhsm_conf, "r");
    if (!f)
        return; /* SoftHSM itself will say what is wrong with its configuration */
    char line[1024];
    int file_backend = 1;
    while (fgets(line, sizeof line, f)) {
        char *eq = strchr(line, '=');
        if (line[0] == '#' || !eq)
            continue;
        *eq = '\0';
        char *key = trim(line), *value = trim(eq + 1);
        if (!strcmp(key, "directories.tokendir"))
            snprintf(g->tokendir, sizeof g->tokendir, "%s", value);
        else if (!strcmp(key, "objectstore.backend"))
            file_backend = !strcmp(value, "file");
    }
    fclose(f);
    /* The database backend is transactional and has no token.object. */
    if (!file_backend || g->tokendir[0] == '\0')
        return;
    const char *slash = strrchr(softhsm_conf, '/');
    int dir_len = slash ? (int)(slash - softhsm_conf) : 1;
    snprintf(g->keepdir, sizeof g->keepdir, "%.*s/guard", dir_len, slash ? softhsm_conf : ".");
    g->active = 1;
}

static int compare_names(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The names of the subdirectories of tokendir, sorted; caller frees. */
static pb_status list_token_dirs(const pb_softhsm_guard *g, char ***names, size_t *count)
{
    *names = NULL;
    *count = 0;
    DIR *d = opendir(g->tokendir);
    if (!d) {
        if (errno == ENOENT)
            return PB_OK; /* no token yet */
        return pb_fail(PB_ERR_STORAGE, "cannot list SoftHSM tokens in '%s': %s", g->tokendir,
                       strerror(errno));
    }
    pb_status st = PB_OK;
    struct dirent *e;
    while ((e = readdir(d)) != NULL && st == PB_OK) {
        if (!safe_name(e->d_name) || (e->d_type != DT_DIR && e->d_type != DT_UNKNOWN))
            continue;
        char **grown = realloc(*names, (*count + 1) * sizeof **names);
        char *copy = strdup(e->d_name);
        if (grown)
            *names = grown;
        if (!grown || !copy) {
            free(copy);
            st = pb_fail(PB_ERR_NOMEM, "out of memory listing SoftHSM tokens");
            break;
        }
        (*names)[(*count)++] = copy;
    }
    closedir(d);
    if (*count > 1)
        qsort(*names, *count, sizeof **names, compare_names);
    return st;
}

static void free_names(char **names, size_t count)
{
    for (size_t i = 0; i < count; i++)
        free(names[i]);
    free(names);
}

/* Reads and parses a token record; 0 only for a whole one. */
static int read_record(const char *path, uint8_t **buf, size_t *len, pb_sh_token_record *rec)
{
    if (pb_guard_file_read(path, RECORD_MAX, buf, len) != 0)
        return -1;
    return pb_sh_token_parse(*buf, *len, rec);
}

/* The token directory name remembered for `label`, or "" if none. */
static void remembered_dir(const pb_softhsm_guard *g, const char *label, char out[NAME_MAX_LEN + 1])
{
    char path[1200];
    uint8_t *buf;
    size_t len;
    out[0] = '\0';
    snprintf(path, sizeof path, "%s/%s%s", g->keepdir, label, DIR_SUFFIX);
    if (pb_guard_file_read(path, NAME_MAX_LEN + 2, &buf, &len) != 0)
        return;
    char name[NAME_MAX_LEN + 3];
    memcpy(name, buf, len);
    name[len] = '\0';
    pb_guard_file_free(buf, len);
    char *t = trim(name);
    if (safe_name(t))
        snprintf(out, NAME_MAX_LEN + 1, "%s", t);
}

/* Puts the kept copy back over a damaged token.object of `label`. */
static pb_status repair_one(pb_softhsm_guard *g, const char *label)
{
    char dirname[NAME_MAX_LEN + 1], tokdir[1200], path[1300], copy_path[1200];
    remembered_dir(g, label, dirname);
    if (dirname[0] == '\0')
        return PB_OK;
    snprintf(tokdir, sizeof tokdir, "%s/%s", g->tokendir, dirname);
    struct stat sb;
    if (stat(tokdir, &sb) != 0 || !S_ISDIR(sb.st_mode))
        return PB_OK; /* the token was deleted on purpose: never bring it back */
    snprintf(copy_path, sizeof copy_path, "%s/%s%s", g->keepdir, label, COPY_SUFFIX);
    uint8_t *kept = NULL, *now = NULL;
    size_t kept_len = 0, now_len = 0;
    pb_sh_token_record kept_rec, now_rec;
    pb_status st = PB_OK;
    if (read_record(copy_path, &kept, &kept_len, &kept_rec) != 0 ||
        strcmp(kept_rec.label, label) != 0)
        goto done; /* no usable copy: restore nothing rather than garbage */
    snprintf(path, sizeof path, "%s/%s", tokdir, TOKEN_FILE);
    int whole = read_record(path, &now, &now_len, &now_rec) == 0;
    if (whole && (strcmp(now_rec.label, kept_rec.label) != 0 ||
                  strcmp(now_rec.serial, kept_rec.serial) != 0))
        goto done; /* a whole record of another token: re-initialized on purpose */
    if (whole && pb_sh_token_covers(&now_rec, &kept_rec))
        goto done; /* intact; its flags may differ from the copy, as they should */
    if (pb_guard_file_replace(tokdir, TOKEN_FILE, kept, kept_len) != 0)
        st = pb_fail(PB_ERR_STORAGE,
                     "token '%s': its SoftHSM token file is damaged and restoring the kept "
                     "copy failed: %s",
                     label, strerror(errno));
    else
        g->restored++;
done:
    pb_guard_file_free(kept, kept_len);
    pb_guard_file_free(now, now_len);
    return st;
}

/* Repairs every token that has a kept copy: C_Initialize reads them all. */
static pb_status repair_all(pb_softhsm_guard *g)
{
    DIR *d = opendir(g->keepdir);
    if (!d)
        return PB_OK; /* nothing kept yet */
    pb_status st = PB_OK;
    struct dirent *e;
    size_t suffix_len = strlen(DIR_SUFFIX);
    while (st == PB_OK && (e = readdir(d)) != NULL) {
        size_t n = strlen(e->d_name);
        if (n <= suffix_len || strcmp(e->d_name + n - suffix_len, DIR_SUFFIX) != 0)
            continue;
        char label[NAME_MAX_LEN + 1];
        if (n - suffix_len > NAME_MAX_LEN)
            continue;
        memcpy(label, e->d_name, n - suffix_len);
        label[n - suffix_len] = '\0';
        if (safe_name(label))
            st = repair_one(g, label);
    }
    closedir(d);
    return st;
}

static void close_fds(int **fds, size_t *n)
{
    /* Closing the descriptor drops its flock. */
    for (size_t i = 0; i < *n; i++)
        close((*fds)[i]);
    free(*fds);
    *fds = NULL;
    *n = 0;
}

static int flock_retry(int fd, int op)
{
    int rc;
    while ((rc = flock(fd, op)) != 0 && errno == EINTR)
        ;
    return rc;
}

/* Opens every token directory, in name order, and flocks each with `op`. */
static pb_status lock_dirs(const pb_softhsm_guard *g, int op, int **fds_out, size_t *n_out)
{
    char **names = NULL;
    size_t count = 0;
    pb_status st = list_token_dirs(g, &names, &count);
    if (st != PB_OK)
        return st;
    int *fds = calloc(count ? count : 1, sizeof *fds);
    size_t n_fds = 0;
    if (!fds) {
        free_names(names, count);
        return pb_fail(PB_ERR_NOMEM, "out of memory locking SoftHSM tokens");
    }
    for (size_t i = 0; i < count && st == PB_OK; i++) {
        char path[1200];
        snprintf(path, sizeof path, "%s/%s", g->tokendir, names[i]);
        int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0) {
            if (errno == ENOENT || errno == ENOTDIR)
                continue; /* deleted since we listed it, or not a directory */
            st = pb_fail(PB_ERR_STORAGE, "cannot open SoftHSM token directory '%s': %s", path,
                         strerror(errno));
            break;
        }
        if (flock_retry(fd, op) != 0) {
            st = pb_fail(PB_ERR_STORAGE, "cannot lock SoftHSM token directory '%s': %s", path,
                         strerror(errno));
            close(fd);
            break;
        }
        fds[n_fds++] = fd;
    }
    free_names(names, count);
    if (st != PB_OK)
        close_fds(&fds, &n_fds);
    *fds_out = fds;
    *n_out = n_fds;
    return st;
}

pb_status pb_softhsm_guard_lock(pb_softhsm_guard *g)
{
    g->restored = 0;
    if (!g->active || g->fds)
        return PB_OK;
    pb_status st = lock_dirs(g, LOCK_EX, &g->fds, &g->n_fds);
    if (st == PB_OK)
        st = repair_all(g);
    if (st != PB_OK)
        pb_softhsm_guard_unlock(g);
    return st;
}

void pb_softhsm_guard_unlock(pb_softhsm_guard *g) { close_fds(&g->fds, &g->n_fds); }

/* (Re)takes LOCK_SH on the kept descriptors: opening the directories once
 * per process keeps each token call to a few flock calls. */
static pb_status share_kept(pb_softhsm_guard *g)
{
    for (size_t i = 0; i < g->n_share_fds; i++) {
        if (flock_retry(g->share_fds[i], LOCK_SH) != 0) {
            int saved = errno;
            for (size_t j = 0; j < i; j++)
                flock(g->share_fds[j], LOCK_UN);
            return pb_fail(PB_ERR_STORAGE, "cannot lock a SoftHSM token directory: %s",
                           strerror(saved));
        }
    }
    return PB_OK;
}

pb_status pb_softhsm_guard_share(pb_softhsm_guard *g)
{
    if (!g->active)
        return PB_OK;
    pb_status st = PB_OK;
    pthread_mutex_lock(&g->share_mutex);
    if (g->share_count == 0)
        st = g->share_fds ? share_kept(g) : lock_dirs(g, LOCK_SH, &g->share_fds, &g->n_share_fds);
    if (st == PB_OK)
        g->share_count++;
    pthread_mutex_unlock(&g->share_mutex);
    return st;
}

void pb_softhsm_guard_unshare(pb_softhsm_guard *g)
{
    if (!g->active)
        return;
    pthread_mutex_lock(&g->share_mutex);
    if (g->share_count > 0 && --g->share_count == 0) {
        for (size_t i = 0; i < g->n_share_fds; i++)
            flock(g->share_fds[i], LOCK_UN);
    }
    pthread_mutex_unlock(&g->share_mutex);
}

void pb_softhsm_guard_teardown(pb_softhsm_guard *g)
{
    pb_softhsm_guard_unlock(g);
    close_fds(&g->share_fds, &g->n_share_fds);
    g->share_count = 0;
    pthread_mutex_destroy(&g->share_mutex);
}

int pb_softhsm_guard_knows(const pb_softhsm_guard *g, const char *label)
{
    if (!g->active || !safe_name(label))
        return 0;
    char dirname[NAME_MAX_LEN + 1];
    remembered_dir(g, label, dirname);
    return dirname[0] != '\0';
}

/* The token directory whose whole record is labelled `label`, the
 * remembered one first; "" when none is. */
static void find_token_dir(const pb_softhsm_guard *g, const char *label,
                           char out[NAME_MAX_LEN + 1])
{
    char **names = NULL;
    size_t count = 0;
    char first[NAME_MAX_LEN + 1];
    remembered_dir(g, label, first);
    out[0] = '\0';
    if (list_token_dirs(g, &names, &count) != PB_OK)
        return;
    for (size_t pass = 0; pass < 2 && out[0] == '\0'; pass++) {
        for (size_t i = 0; i < count && out[0] == '\0'; i++) {
            if ((pass == 0) != (strcmp(names[i], first) == 0))
                continue;
            char path[1300];
            uint8_t *buf;
            size_t len;
            pb_sh_token_record rec;
            snprintf(path, sizeof path, "%s/%s/%s", g->tokendir, names[i], TOKEN_FILE);
            if (read_record(path, &buf, &len, &rec) == 0 && !strcmp(rec.label, label))
                snprintf(out, NAME_MAX_LEN + 1, "%s", names[i]);
            pb_guard_file_free(buf, len);
        }
    }
    free_names(names, count);
}

/* 1 when `path` holds `data`, ignoring the first `skip` bytes. */
static int same_file(const char *path, const uint8_t *data, size_t len, size_t skip)
{
    uint8_t *have;
    size_t have_len;
    if (pb_guard_file_read(path, RECORD_MAX, &have, &have_len) != 0)
        return 0;
    int same = have_len == len && len >= skip && memcmp(have + skip, data + skip, len - skip) == 0;
    pb_guard_file_free(have, have_len);
    return same;
}

pb_status pb_softhsm_guard_keep(pb_softhsm_guard *g, const char *label)
{
    if (!g->active || !safe_name(label))
        return PB_OK;
    char dirname[NAME_MAX_LEN + 1], path[1300], copy_name[NAME_MAX_LEN + 32],
        dir_name[NAME_MAX_LEN + 32], copy_path[1300], dir_path[1300];
    find_token_dir(g, label, dirname);
    if (dirname[0] == '\0')
        return PB_OK; /* not whole now: keep the copy we have */
    if (mkdir(g->keepdir, 0700) != 0 && errno != EEXIST)
        return pb_fail(PB_ERR_STORAGE, "cannot create '%s': %s", g->keepdir, strerror(errno));
    snprintf(path, sizeof path, "%s/%s/%s", g->tokendir, dirname, TOKEN_FILE);
    uint8_t *buf;
    size_t len;
    pb_sh_token_record rec;
    if (read_record(path, &buf, &len, &rec) != 0 || strcmp(rec.label, label) != 0) {
        pb_guard_file_free(buf, len);
        return PB_OK; /* changed under us (not by a planbok process); next time */
    }
    snprintf(copy_name, sizeof copy_name, "%s%s", label, COPY_SUFFIX);
    snprintf(dir_name, sizeof dir_name, "%s%s", label, DIR_SUFFIX);
    snprintf(copy_path, sizeof copy_path, "%s/%s", g->keepdir, copy_name);
    snprintf(dir_path, sizeof dir_path, "%s/%s", g->keepdir, dir_name);
    pb_status st = PB_OK;
    /* The copy first, then the name that makes the lock use it. Every
     * rewrite bumps the record's 8-byte generation; a copy that differs
     * only there is still the current state (SoftHSM re-reads on any
     * change of generation, up or down), so it is not rewritten. */
    if (!same_file(copy_path, buf, len, 8) &&
        pb_guard_file_replace(g->keepdir, copy_name, buf, len) != 0)
        st = pb_fail(PB_ERR_STORAGE, "cannot keep a copy of token '%s' in '%s': %s", label,
                     g->keepdir, strerror(errno));
    pb_guard_file_free(buf, len);
    size_t dn = strlen(dirname);
    if (st == PB_OK && !same_file(dir_path, (const uint8_t *)dirname, dn, 0) &&
        pb_guard_file_replace(g->keepdir, dir_name, (const uint8_t *)dirname, dn) != 0)
        st = pb_fail(PB_ERR_STORAGE, "cannot record token '%s' in '%s': %s", label, g->keepdir,
                     strerror(errno));
    return st;
}
