/* storage_space.h - free space before a state-changing operation.
 *
 * Owns: the check, made before create, sign, refresh, unlock, PIN change or
 * reset, backup and restore, that every filesystem planbok writes to (the
 * data directory, the developer SoftHSM tokens, a store directory) has at
 * least `min_free_mb` MiB free (planbok.conf, default 16). A module that runs out of space may report
 * success for an object it did not write (SoftHSM 2.6 does), so the safe
 * moment to say "storage full" is before anything changes. Must never
 * write anything itself, and is not a substitute for checking every write:
 * it narrows the window, the write-then-verify rule closes it.
 */
#ifndef PB_ENGINE_STORAGE_SPACE_H
#define PB_ENGINE_STORAGE_SPACE_H

#include "engine/config.h"

/* PB_ERR_STORAGE ("storage full: ...") if any of them is short. */
pb_status pb_storage_check(const pb_config *cfg);

#endif
