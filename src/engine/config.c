/* config.c - reading and writing planbok.conf (see config.h). */
#include "engine/config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/fail.h"
#include "common/file_check.h"
#include "common/file_write.h"
#include "pkcs11/softhsm_dev.h"

void pb_config_path(const char *home, char *out, size_t n) { snprintf(out, n, "%s/planbok.conf", home); }

void pb_config_softhsm_dir(const pb_config *cfg, char *out, size_t n)
{
    snprintf(out, n, "%s/softhsm", cfg->home);
}

void pb_config_dev_token_label(int node, char *out, size_t n) { snprintf(out, n, "planbok-node%d", node); }

void pb_config_dev_defaults(pb_config *cfg, const char *home)
{
    memset(cfg, 0, sizeof *cfg);
    snprintf(cfg->home, sizeof cfg->home, "%s", home);
    cfg->paillier_bits = 3072;
    cfg->dev_softhsm = 1;
    cfg->min_free_mb = 16;
    char softhsm[600];
    pb_config_softhsm_dir(cfg, softhsm, sizeof softhsm);
    for (int i = 0; i < PB_NODES; i++) {
        pb_hsm_config *h = &cfg->node[i];
        pb_hsm_config_defaults(h);
        snprintf(h->module, sizeof h->module, "%s", PB_SOFTHSM_MODULE_DEFAULT);
        pb_config_dev_token_label(i + 1, h->token_label, sizeof h->token_label);
        pb_softhsm_dev_pin_path(softhsm, h->token_label, h->pin_file, sizeof h->pin_file);
        pb_softhsm_dev_conf_path(softhsm, h->softhsm_conf, sizeof h->softhsm_conf);
        snprintf(h->store_dir, sizeof h->store_dir, "%s/store/node%d", home, i + 1);
    }
}

static char *trim(char *s)
{
    while (*s == ' ' || *s == '\t')
        s++;
    size_t n = strlen(s);
    while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\r' || s[n - 1] == '\n'))
        s[--n] = '\0';
    return s;
}

static int copy_value(char *dst, size_t cap, const char *value)
{
    size_t n = strlen(value);
    if (n >= cap)
        return -1;
    memcpy(dst, value, n + 1);
    return 0;
}

static int parse_int(const char *value, long lo, long hi, long *out)
{
    char *end;
    errno = 0;
    long v = strtol(value, &end, 10);
    if (errno || end == value || *end || v < lo || v > hi)
        return -1;
    *out = v;
    return 0;
}

/* Returns 0, or -1 for an unknown key or a bad value. */
static int set_node_key(pb_hsm_config *h, const char *key, const char *value)
{
    long v;
    if (!strcmp(key, "module")) return copy_value(h->module, sizeof h->module, value);
    if (!strcmp(key, "token_label")) return copy_value(h->token_label, sizeof h->token_label, value);
    if (!strcmp(key, "token_uri")) return copy_value(h->token_uri, sizeof h->token_uri, value);
    if (!strcmp(key, "pin_file")) return copy_value(h->pin_file, sizeof h->pin_file, value);
    if (!strcmp(key, "pin_env")) return copy_value(h->pin_env, sizeof h->pin_env, value);
    if (!strcmp(key, "softhsm_conf")) return copy_value(h->softhsm_conf, sizeof h->softhsm_conf, value);
    if (!strcmp(key, "kek_label")) return copy_value(h->kek_label, sizeof h->kek_label, value);
    if (!strcmp(key, "audit_key_label"))
        return copy_value(h->audit_key_label, sizeof h->audit_key_label, value);
    if (!strcmp(key, "store_dir")) return copy_value(h->store_dir, sizeof h->store_dir, value);
    if (!strcmp(key, "placement")) {
        if (!strcmp(value, "token")) h->placement = PB_PLACEMENT_TOKEN;
        else if (!strcmp(value, "directory")) h->placement = PB_PLACEMENT_DIRECTORY;
        else return -1;
        return 0;
    }
    if (!strcmp(key, "gcm_layout")) {
        if (!strcmp(value, "iv_bits")) h->gcm_layout = PB_GCM_LAYOUT_IV_BITS;
        else if (!strcmp(value, "no_iv_bits")) h->gcm_layout = PB_GCM_LAYOUT_NO_IV_BITS;
        else return -1;
        return 0;
    }
    if (!strcmp(key, "gcm_iv")) {
        if (!strcmp(value, "caller")) h->gcm_iv_source = PB_GCM_IV_CALLER;
        else if (!strcmp(value, "token")) h->gcm_iv_source = PB_GCM_IV_TOKEN;
        else return -1;
        return 0;
    }
    if (!strcmp(key, "gcm_iv_bits")) {
        if (parse_int(value, 0, 96, &v)) return -1;
        h->gcm_iv_bits = (unsigned long)v;
        return 0;
    }
    if (!strcmp(key, "pool_size")) {
        if (parse_int(value, 1, 64, &v)) return -1;
        h->pool_size = (int)v;
        return 0;
    }
    return -1;
}

static int set_top_key(pb_config *cfg, const char *key, const char *value)
{
    long v;
    if (!strcmp(key, "paillier_bits")) {
        if (parse_int(value, 2048, 3072, &v) || (v != 2048 && v != 3072)) return -1;
        cfg->paillier_bits = (int)v;
        return 0;
    }
    if (!strcmp(key, "min_free_mb")) {
        if (parse_int(value, 0, 1 << 20, &v)) return -1;
        cfg->min_free_mb = (int)v;
        return 0;
    }
    if (!strcmp(key, "dev_softhsm")) {
        if (!strcmp(value, "true")) cfg->dev_softhsm = 1;
        else if (!strcmp(value, "false")) cfg->dev_softhsm = 0;
        else return -1;
        return 0;
    }
    return -1;
}

pb_status pb_config_load(const char *path, pb_config *cfg)
{
    /* It names the PKCS#11 module this process loads: a file others may
     * write, or a link to one, would let them run code as us. */
    int fd;
    pb_status checked = pb_file_open_checked(path, "configuration", PB_FILE_CONFIG,
                                             PB_ERR_STORAGE, &fd);
    if (checked != PB_OK && errno == ENOENT)
        return pb_fail(PB_ERR_NOT_FOUND, "cannot read configuration '%s': %s (run 'planbok init')",
                       path, strerror(ENOENT));
    if (checked != PB_OK)
        return checked;
    FILE *f = fdopen(fd, "r");
    if (!f) {
        close(fd);
        return pb_fail(PB_ERR_NOMEM, "cannot read configuration '%s': out of memory", path);
    }
    /* Start from the developer defaults so unset keys have sane values. */
    char home[512];
    snprintf(home, sizeof home, "%s", cfg->home);
    pb_config_dev_defaults(cfg, home);
    char line[1024];
    int section = -1, lineno = 0;
    pb_status st = PB_OK;
    while (st == PB_OK && fgets(line, sizeof line, f)) {
        lineno++;
        char *s = trim(line);
        char *hash = strchr(s, '#');
        if (hash)
            *hash = '\0';
        s = trim(s);
        if (*s == '\0')
            continue;
        if (!strcmp(s, "[node1]") || !strcmp(s, "[node2]")) {
            section = s[5] - '1';
            continue;
        }
        char *eq = strchr(s, '=');
        if (!eq) {
            st = pb_fail(PB_ERR_ARGUMENT, "%s:%d: expected 'key = value' or [node1]/[node2]", path,
                         lineno);
            break;
        }
        *eq = '\0';
        char *key = trim(s), *value = trim(eq + 1);
        int bad = section < 0 ? set_top_key(cfg, key, value)
                              : set_node_key(&cfg->node[section], key, value);
        if (bad)
            st = pb_fail(PB_ERR_ARGUMENT, "%s:%d: unknown key or bad value for '%s'", path, lineno,
                         key);
    }
    fclose(f);
    return st;
}

static void write_node(FILE *f, int n, const pb_hsm_config *h)
{
    fprintf(f, "\n[node%d]\n", n);
    fprintf(f, "module = %s\n", h->module);
    if (h->token_uri[0]) fprintf(f, "token_uri = %s\n", h->token_uri);
    if (h->token_label[0]) fprintf(f, "token_label = %s\n", h->token_label);
    if (h->pin_file[0]) fprintf(f, "pin_file = %s\n", h->pin_file);
    if (h->pin_env[0]) fprintf(f, "pin_env = %s\n", h->pin_env);
    if (h->softhsm_conf[0]) fprintf(f, "softhsm_conf = %s\n", h->softhsm_conf);
    fprintf(f, "kek_label = %s\n", h->kek_label);
    fprintf(f, "audit_key_label = %s\n", h->audit_key_label);
    fprintf(f, "placement = %s\n", h->placement == PB_PLACEMENT_TOKEN ? "token" : "directory");
    fprintf(f, "store_dir = %s\n", h->store_dir);
    fprintf(f, "gcm_layout = %s\n", h->gcm_layout == PB_GCM_LAYOUT_IV_BITS ? "iv_bits" : "no_iv_bits");
    fprintf(f, "gcm_iv_bits = %lu\n", h->gcm_iv_bits);
    fprintf(f, "gcm_iv = %s\n", h->gcm_iv_source == PB_GCM_IV_CALLER ? "caller" : "token");
    fprintf(f, "pool_size = %d\n", h->pool_size);
}

pb_status pb_config_write(const char *path, const pb_config *cfg)
{
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    if (!f)
        return pb_fail(PB_ERR_NOMEM, "cannot write '%s': out of memory", path);
    fprintf(f, "# planbok node configuration (see docs/hsm.md). No secrets in here:\n"
               "# PINs are read from pin_file or pin_env when a node logs in.\n");
    fprintf(f, "paillier_bits = %d\n", cfg->paillier_bits);
    fprintf(f, "dev_softhsm = %s\n", cfg->dev_softhsm ? "true" : "false");
    fprintf(f, "min_free_mb = %d\n", cfg->min_free_mb);
    for (int i = 0; i < PB_NODES; i++)
        write_node(f, i + 1, &cfg->node[i]);
    if (fclose(f) != 0) {
        free(text);
        return pb_fail(PB_ERR_NOMEM, "cannot write '%s': out of memory", path);
    }
    /* Mode 0600 through the atomic writer: never writable by others. */
    pb_status st = pb_file_write_atomic(path, text, len, NULL);
    free(text);
    return st;
}
