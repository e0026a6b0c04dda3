/* device.h - the customer's device directory for Customer Custody: the
 * device id and the Argon2id salt that, with the PIN, unseal P1's record.
 *
 * Owns: the files `device.id` (32 lowercase hex characters, a name for the
 * device, not secret) and `salt` (16 random bytes as 32 hex characters),
 * plus `salt.next` while a PIN change or reset is in flight. The directory
 * is mode 0700 and the files 0600; every write goes to a temporary file
 * that is fsynced and renamed into place, so a crash leaves the old or the
 * new file, never half of one. The service's data must never hold these
 * files: without them the service cannot even try PINs offline.
 */
#ifndef PB_CUSTODY_DEVICE_H
#define PB_CUSTODY_DEVICE_H

#include <stdint.h>

#include "planbok/error.h"

#define PB_DEVICE_ID_CHARS 32
#define PB_DEVICE_SALT_BYTES 16

typedef struct pb_device {
    char device_id[PB_DEVICE_ID_CHARS + 1];
    uint8_t salt[PB_DEVICE_SALT_BYTES];
} pb_device;

/* Loads the device in `dir`. With create set, makes the directory (0700)
 * and a new device id and salt when there is no device yet; an existing
 * device is loaded unchanged. Without create, a missing device is
 * PB_ERR_NOT_FOUND. A directory or salt file that other users can access is
 * refused (PB_ERR_STORAGE), as is a malformed file (PB_ERR_INTEGRITY). */
pb_status pb_device_open(const char *dir, int create, pb_device *out);

/* Replaces the salt with a fresh one in one atomic step and updates
 * dev->salt. Equivalent to pb_device_stage_salt + pb_device_commit_salt. */
pb_status pb_device_new_salt(const char *dir, pb_device *dev);

/* Two-phase salt change, for a PIN change or reset that must survive a
 * crash: stage a new salt (written as `salt.next`, returned in new_salt),
 * store the new wrappedSecret at node 2, then commit. Until the commit the
 * old salt stays in force; after a crash between the two, the caller finds
 * the staged salt with pb_device_staged_salt and tries it too. */
pb_status pb_device_stage_salt(const char *dir, uint8_t new_salt[PB_DEVICE_SALT_BYTES]);
/* PB_OK with the staged salt, or PB_ERR_NOT_FOUND when none is staged. */
pb_status pb_device_staged_salt(const char *dir, uint8_t salt[PB_DEVICE_SALT_BYTES]);
/* Makes the staged salt the salt (atomic rename) and updates dev->salt. */
pb_status pb_device_commit_salt(const char *dir, pb_device *dev);
/* Drops a staged salt; no staged salt is fine. */
pb_status pb_device_discard_staged_salt(const char *dir);

#endif
