/* harness.c - fixture loading and input helpers for the fuzz targets (see
 * harness.h). Fixtures are parsed once per process: the targets run
 * millions of inputs and the fixtures hold 2048-bit keys whose parsing
 * costs primality tests. */
#include "harness.h"

#include <libgen.h>
#include <limits.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "mpc/share.h"

static char fixture_dir[PATH_MAX];

const char *fz_fixture_dir(void)
{
    if (fixture_dir[0])
        return fixture_dir;
    const char *env = getenv("PB_FUZZ_FIXTURES");
    if (env && *env) {
        snprintf(fixture_dir, sizeof fixture_dir, "%s", env);
        return fixture_dir;
    }
    char exe[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (n <= 0) {
        fprintf(stderr, "fuzz: cannot locate the executable; set PB_FUZZ_FIXTURES\n");
        exit(2);
    }
    exe[n] = '\0';
    snprintf(fixture_dir, sizeof fixture_dir, "%s/../corpus/fixtures", dirname(exe));
    return fixture_dir;
}

uint8_t *fz_fixture(const char *name, size_t *len)
{
    char path[PATH_MAX + 64];
    snprintf(path, sizeof path, "%s/%s", fz_fixture_dir(), name);
    FILE *f = fopen(path, "rb");
    if (!f) {
        fprintf(stderr, "fuzz: missing fixture %s (run fuzz_seedgen first, see tools/fuzz)\n",
                path);
        exit(2);
    }
    long size = -1;
    if (fseek(f, 0, SEEK_END) == 0)
        size = ftell(f);
    uint8_t *buf = size >= 0 ? malloc((size_t)size + 1) : NULL;
    size_t used = 0;
    if (buf && (fseek(f, 0, SEEK_SET) != 0 || (used = fread(buf, 1, (size_t)size, f)) != (size_t)size)) {
        free(buf);
        buf = NULL;
    }
    fclose(f);
    if (!buf) {
        fprintf(stderr, "fuzz: cannot read %s\n", path);
        exit(2);
    }
    *len = used;
    return buf;
}

int fz_write_file(const char *dir, const char *name, const uint8_t *buf, size_t len)
{
    char path[PATH_MAX + 64];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "wb");
    if (!f)
        return -1;
    int ok = fwrite(buf, 1, len, f) == len;
    return (fclose(f) == 0 && ok) ? 0 : -1;
}

void fz_check(pb_status st, const char *what)
{
    if (st == PB_OK)
        return;
    /* Most often fixtures written by an older build (a wire format moved,
     * e.g. the version 2 cosigner export): say how to remake them. */
    fprintf(stderr,
            "fuzz: set-up step '%s' failed: %s\n"
            "fuzz: if the fixtures come from an older build, run fuzz_seedgen again "
            "(see tools/fuzz)\n",
            what, pb_last_error());
    exit(2);
}

/* The fixtures, freed at exit: records live in OpenSSL's secure heap, which
 * LeakSanitizer does not scan, so what they point to would look leaked. */
static pb_cosigner_params *params;
static pb_cosigner_public *pub;
static pb_share_p1 *share1;
static pb_share_p2 *share2;

static void free_fixtures(void)
{
    pb_cosigner_params_free(params);
    pb_cosigner_public_free(pub);
    pb_share_p1_free(share1);
    pb_share_p2_free(share2);
    params = NULL;
    pub = NULL;
    share1 = NULL;
    share2 = NULL;
}

static void at_exit_once(void)
{
    static int registered;
    if (!registered)
        atexit(free_fixtures);
    registered = 1;
}

const pb_cosigner_params *fz_cosigner_params(void)
{
    if (!params) {
        at_exit_once();
        size_t len;
        uint8_t *buf = fz_fixture(FZ_COSIGNER_PARAMS, &len);
        fz_check(pb_cosigner_params_parse(&params, buf, len), "parse cosigner parameters");
        free(buf);
    }
    return params;
}

const pb_cosigner_public *fz_cosigner_public(void)
{
    if (!pub) {
        at_exit_once();
        size_t len;
        uint8_t *buf = fz_fixture(FZ_COSIGNER_EXPORT, &len);
        fz_check(pb_cosigner_public_parse(&pub, buf, len), "parse cosigner export");
        free(buf);
    }
    return pub;
}

const pb_share_p2 *fz_share_p2(void)
{
    if (!share2) {
        at_exit_once();
        size_t len;
        uint8_t *buf = fz_fixture(FZ_SHARE_P2, &len);
        fz_check(pb_share_p2_parse(&share2, buf, len), "parse P2 share");
        free(buf);
    }
    return share2;
}

pb_share_p1 *fz_share_p1(void)
{
    if (!share1) {
        at_exit_once();
        size_t len;
        uint8_t *buf = fz_fixture(FZ_SHARE_P1, &len);
        fz_check(pb_share_p1_parse(&share1, buf, len), "parse P1 share");
        free(buf);
    }
    /* A fuzzed m4 locks the record (global abort), as it must; the next
     * input needs an unlocked one. Re-parsing would cost primality tests. */
    atomic_store(&share1->locked, 0);
    return share1;
}

uint8_t *fz_copy(const uint8_t *data, size_t len)
{
    uint8_t *p = malloc(len ? len : 1);
    if (!p) {
        fprintf(stderr, "fuzz: out of memory\n");
        exit(2);
    }
    if (len)
        memcpy(p, data, len);
    return p;
}

void fz_patch_sid(uint8_t *msg, size_t len, const uint8_t sid[PB_MPC_SESSION_ID_BYTES])
{
    if (len >= FZ_HEADER_BYTES)
        memcpy(msg + FZ_SID_OFFSET, sid, PB_MPC_SESSION_ID_BYTES);
}
