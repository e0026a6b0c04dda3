/* export.h - what auditors read: records selected by wallet, event and
 * time, shown as a table or exported as CSV (RFC 4180) or JSON Lines.
 *
 * Owns: the filter, the reading of whole records for display, and the
 * output formats. Must never present a line that is not a canonical record
 * (it is reported instead); verification is audit/verify.h's job.
 */
#ifndef PB_AUDIT_EXPORT_H
#define PB_AUDIT_EXPORT_H

#include <stdint.h>
#include <stdio.h>

#include "audit/record.h"
#include "planbok/error.h"

typedef struct pb_audit_filter {
    const char *wallet; /* NULL: any */
    const char *event;  /* NULL: any */
    int has_since, has_until;
    int64_t since_ms;   /* inclusive */
    int64_t until_ms;   /* exclusive */
} pb_audit_filter;

int pb_audit_filter_match(const pb_audit_filter *f, const pb_audit_record *r);

/* Called for each matching record with its canonical line (no '\n');
 * a non-PB_OK return stops the scan and is returned. */
typedef pb_status (*pb_audit_visit_fn)(void *ctx, const pb_audit_record *r, const char *line,
                                       size_t len);

/* Reads every whole record of the log at path (directory or file) in order.
 * A torn last line is skipped and counted in *torn_bytes (may be NULL);
 * any other unreadable line is PB_ERR_INTEGRITY. */
pb_status pb_audit_scan(const char *path, const pb_audit_filter *f, pb_audit_visit_fn fn,
                        void *ctx, uint64_t *torn_bytes);

/* One CSV field per RFC 4180: quoted when it holds a comma, a quote, CR or
 * LF (or starts/ends with a space), quotes doubled. */
void pb_audit_csv_field(FILE *out, const char *s);
void pb_audit_csv_header(FILE *out);
void pb_audit_csv_row(FILE *out, const pb_audit_record *r);

void pb_audit_table_header(FILE *out);
void pb_audit_table_row(FILE *out, const pb_audit_record *r);

#endif
