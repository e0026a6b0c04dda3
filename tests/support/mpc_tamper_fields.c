/* mpc_tamper_fields.c - where each field of each protocol message lies and
 * how a receiver may answer a change to it (see mpc_tamper.h). The layouts
 * follow docs/protocol.md section 11; the key bundle is walked over the
 * actual bytes because its integers have variable lengths. */
#include "support/mpc_tamper.h"

#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

/* --- field maps -------------------------------------------------------------------- */

#define PARSE TP_ST(PB_ERR_PARSE)
#define STATE TP_ST(PB_ERR_STATE)
#define PROOF TP_ST(PB_ERR_PROOF)
#define INTEG TP_ST(PB_ERR_INTEGRITY)
#define ABORT TP_ST(PB_ERR_ABORTED)
#define FRAMING "integer:|trailing"

typedef struct walker {
    const uint8_t *msg;
    size_t len, off;
    tp_field *f;
    size_t n, max;
} walker;

static void add_round(walker *w, size_t len, const char *name, unsigned allowed,
                      const char *needle, int round)
{
    cr_assert_lt(w->n, w->max, "field map overflow");
    cr_assert_leq(w->off + len, w->len, "field %s runs past the message", name);
    tp_field *f = &w->f[w->n++];
    f->off = w->off;
    f->len = len;
    snprintf(f->name, sizeof f->name, "%s", name);
    f->allowed = allowed;
    snprintf(f->needle, sizeof f->needle, "%s", needle);
    f->round = round;
    w->off += len;
}

static void add(walker *w, size_t len, const char *name, unsigned allowed, const char *needle)
{
    add_round(w, len, name, allowed, needle, 0);
}

static uint32_t be32(const uint8_t *p)
{
    return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) | ((uint32_t)p[2] << 8) | p[3];
}

static void header(walker *w, int first)
{
    add(w, 4, "magic", PARSE, "magic");
    add(w, 1, "version", PARSE, "version");
    add(w, 1, "protocol", STATE, "expected");
    add(w, 1, "message number", STATE, "expected");
    /* Another valid role is a wrong sender (state); anything else is malformed. */
    add(w, 1, "sender role", PARSE | STATE, "sender|expected");
    /* The first message must carry zeros, later ones this session's id. */
    add(w, 32, "session id", STATE, first ? "all-zero" : "another session");
}

/* u32 length and magnitude, no sign byte (the Paillier modulus). */
static void magnitude_field(walker *w, const char *name, const char *needle)
{
    char nm[48];
    cr_assert_leq(w->off + 4, w->len);
    size_t n = be32(w->msg + w->off);
    snprintf(nm, sizeof nm, "%s length", name);
    add(w, 4, nm, PARSE, needle);
    snprintf(nm, sizeof nm, "%s", name);
    add(w, n, nm, PARSE | PROOF, needle);
}

/* A signed integer (u8 sign, u32 length, magnitude). sign_ok: a negative
 * value is well formed in this field (then the proof must fail). */
static void bn_field_round(walker *w, const char *name, int sign_ok, const char *needle,
                           int round)
{
    char nm[48];
    cr_assert_leq(w->off + 5, w->len);
    size_t n = be32(w->msg + w->off + 1);
    snprintf(nm, sizeof nm, "%s sign", name);
    add_round(w, 1, nm, sign_ok ? PARSE | PROOF : PARSE, needle, round);
    /* A wrong length misframes what follows: the decoder names this field,
     * the next integer it then misreads, or the bytes left over. */
    char framing[96];
    snprintf(framing, sizeof framing, "%s|%s", needle, FRAMING);
    snprintf(nm, sizeof nm, "%s length", name);
    add_round(w, 4, nm, PARSE, framing, round);
    snprintf(nm, sizeof nm, "%s", name);
    add_round(w, n, nm, PARSE | PROOF, needle, round);
}

static void bn_field(walker *w, const char *name, int sign_ok, const char *needle)
{
    bn_field_round(w, name, sign_ok, needle, 0);
}

static void schnorr(walker *w, const char *what, const char *needle)
{
    char nm[48];
    snprintf(nm, sizeof nm, "%s A", what);
    add(w, 33, nm, PARSE | PROOF, needle);
    snprintf(nm, sizeof nm, "%s z", what);
    add(w, 32, nm, PARSE | PROOF, needle);
}

static void key_bundle(walker *w)
{
    char nm[48];
    /* A different N breaks whichever check meets it first: its own shape,
     * the range or unit checks of the values that follow (a random N has
     * small factors), or a proof. */
    magnitude_field(w, "N", "paillier|c_key|mod proof|fac proof|pi-log*");
    bn_field(w, "c_key", 0, "c_key");
    bn_field(w, "mod w", 0, "mod proof");
    for (int i = 0; i < PB_ZK_MOD_ROUNDS; i++) {
        snprintf(nm, sizeof nm, "mod x[%d]", i);
        bn_field_round(w, nm, 0, "mod proof", i + 1);
        snprintf(nm, sizeof nm, "mod z[%d]", i);
        bn_field_round(w, nm, 0, "mod proof", i + 1);
        snprintf(nm, sizeof nm, "mod a|b[%d]", i);
        add_round(w, 1, nm, PARSE | PROOF, "mod proof", i + 1);
    }
    static const char *const commitments[] = {"fac P", "fac Q", "fac A", "fac B", "fac T"};
    static const char *const responses[] = {"fac sigma", "fac z1", "fac z2",
                                            "fac w1",    "fac w2", "fac v"};
    for (size_t i = 0; i < 5; i++)
        bn_field(w, commitments[i], 0, "fac proof");
    for (size_t i = 0; i < 6; i++)
        bn_field(w, responses[i], 1, "fac proof");
    bn_field(w, "log* S", 0, "pi-log*");
    bn_field(w, "log* A", 0, "pi-log*");
    add(w, 33, "log* Y", PARSE | PROOF, "pi-log*");
    bn_field(w, "log* D", 0, "pi-log*");
    bn_field(w, "log* z1", 1, "pi-log*");
    bn_field(w, "log* z2", 0, "pi-log*");
    bn_field(w, "log* z3", 1, "pi-log*");
}

size_t tp_layout(int protocol, int msg_no, const uint8_t *msg, size_t len, tp_field *f,
                 size_t max)
{
    walker w = {msg, len, 0, f, 0, max};
    header(&w, msg_no == 1);
    switch (protocol * 10 + msg_no) {
    case 11:
        add(&w, 32, "n1", STATE, "another session");
        add(&w, 32, "commitment", PROOF, "does not open");
        break;
    case 12:
        add(&w, 32, "n2", STATE, "another session");
        add(&w, 33, "Q2", PARSE | PROOF, "Q2: point|proof of x2");
        add(&w, 32, "c2", PROOF, "proof of x2");
        schnorr(&w, "sch(x2)", "pi-sch");
        break;
    case 13:
        add(&w, 33, "Q1", PARSE | PROOF, "Q1: point|does not open");
        add(&w, 32, "c1", PROOF, "does not open");
        add(&w, 32, "opening", PROOF, "does not open");
        schnorr(&w, "sch(x1)", "pi-sch");
        key_bundle(&w);
        break;
    case 14:
        add(&w, 32, "share id", INTEG, "different wallet");
        break;
    case 21: {
        add(&w, 32, "n1", STATE, "another session");
        add(&w, 32, "share id", STATE, "another share generation");
        add(&w, 32, "digest", PROOF, "proof of k2");
        cr_assert_lt(w.off, len);
        size_t k = msg[w.off];
        add(&w, 1, "path length", PARSE, "path|trailing|truncated");
        if (k)
            add(&w, 4 * k, "path", PARSE | PROOF, "hardened|proof of k2");
        add(&w, 32, "commitment", PROOF, "does not open");
        break;
    }
    case 22:
        add(&w, 32, "n2", STATE, "another session");
        add(&w, 33, "R2", PARSE | PROOF, "R2: point|proof of k2");
        schnorr(&w, "sch(k2)", "pi-sch");
        break;
    case 23:
        /* R1 and the proof are inside the commitment, checked first. */
        add(&w, 33, "R1", PARSE | PROOF, "R1: point|does not open");
        schnorr(&w, "sch(k1)", "pi-sch: A: point|does not open");
        add(&w, 32, "opening", PROOF, "does not open");
        break;
    case 24: {
        cr_assert_leq(w.off + 5, len);
        size_t n = be32(msg + w.off + 1);
        add(&w, 1, "c3 sign", PARSE, "(c3)");
        add(&w, 4, "c3 length", PARSE, "(c3)");
        /* Still a valid ciphertext: decrypted, fails verification, locks. */
        add(&w, n, "c3", PARSE | ABORT, "(c3)|did not verify");
        break;
    }
    case 31:
        add(&w, 32, "n1", STATE, "another session");
        add(&w, 32, "share id", STATE, "another share generation");
        add(&w, 32, "commitment", PROOF, "does not open");
        break;
    case 32:
        add(&w, 32, "n2", STATE, "another session");
        /* P1 cannot check d2; P2 finds c_key' not matching its Q1'. */
        add(&w, 32, "d2", PARSE | PROOF, "d2:|c_key proof");
        break;
    case 33:
        add(&w, 32, "d1", PARSE | PROOF, "d1:|does not open");
        add(&w, 32, "opening", PROOF, "does not open");
        key_bundle(&w);
        break;
    case 34:
        add(&w, 32, "share id", INTEG, "different shares");
        break;
    default:
        cr_assert_fail("no layout for protocol %d message %d", protocol, msg_no);
    }
    cr_assert_eq(w.off, len, "field map covers %zu of %zu bytes", w.off, len);
    return w.n;
}

const tp_field *tp_field_at(const tp_field *f, size_t n, size_t pos)
{
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (pos < f[mid].off)
            hi = mid;
        else if (pos >= f[mid].off + f[mid].len)
            lo = mid + 1;
        else
            return &f[mid];
    }
    return NULL;
}

int tp_err_matches(const char *err, const char *needle)
{
    if (!needle || !*needle)
        return 1;
    const char *p = needle;
    while (*p) {
        const char *bar = strchr(p, '|');
        size_t n = bar ? (size_t)(bar - p) : strlen(p);
        char word[64];
        if (n >= sizeof word)
            n = sizeof word - 1;
        memcpy(word, p, n);
        word[n] = '\0';
        if (strstr(err, word))
            return 1;
        if (!bar)
            break;
        p = bar + 1;
    }
    return 0;
}

