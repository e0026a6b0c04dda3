/* planbok/error.h - status codes and the last error message.
 *
 * Every function in the planbok API returns a pb_status. On failure it also
 * records a one-line, human-readable message for the calling thread, which
 * pb_last_error() returns until the next failing call on that thread.
 * Messages never contain secret material (PINs, shares, keys, secrets).
 */
#ifndef PLANBOK_ERROR_H
#define PLANBOK_ERROR_H

#ifdef __cplusplus
extern "C" {
#endif

#if defined(PB_BUILDING_LIBRARY)
#define PB_API __attribute__((visibility("default")))
#else
#define PB_API
#endif

#define PB_WARN_UNUSED __attribute__((warn_unused_result))

typedef enum pb_status {
    PB_OK = 0,
    PB_ERR_ARGUMENT = 1,  /* the caller passed something out of range */
    PB_ERR_PARSE = 2,     /* malformed bytes: length, range or encoding */
    PB_ERR_AUTH = 3,      /* wrong PIN, secret or recovery code */
    PB_ERR_REFUSED = 4,   /* a rule refused the operation (locked, policy) */
    PB_ERR_HSM = 5,       /* the PKCS#11 module or token failed */
    PB_ERR_STORAGE = 6,   /* a file or database operation failed */
    PB_ERR_INTEGRITY = 7, /* a seal, hash chain or signature did not verify */
    PB_ERR_PROOF = 8,     /* a zero-knowledge proof or commitment failed */
    PB_ERR_STATE = 9,     /* a message arrived in the wrong protocol state */
    PB_ERR_NOT_FOUND = 10,/* no such object, wallet or record */
    PB_ERR_NOMEM = 11,
    PB_ERR_CRYPTO = 12,   /* an underlying crypto library call failed */
    PB_ERR_ABORTED = 13   /* global abort: the wallet is locked */
} pb_status;

/* The message of the calling thread's last failure ("" if none). */
PB_API const char *pb_last_error(void);

/* A short stable name for a status, e.g. "integrity". */
PB_API const char *pb_status_name(pb_status status);

#ifdef __cplusplus
}
#endif
#endif
