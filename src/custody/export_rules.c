/* export_rules.c - custody modes and the export matrix (see export_rules.h). */
#include "custody/export_rules.h"

#include <string.h>

#include "common/fail.h"

const char *pb_custody_mode_name(pb_custody_mode m)
{
    switch (m) {
    case PB_MODE_STANDARD: return "standard";
    case PB_MODE_TRUSTLESS: return "trustless";
    case PB_MODE_CUSTOMER: return "customer";
    }
    return NULL;
}

pb_status pb_custody_mode_parse(const char *s, pb_custody_mode *m)
{
    static const pb_custody_mode all[] = {PB_MODE_STANDARD, PB_MODE_TRUSTLESS, PB_MODE_CUSTOMER};
    for (size_t i = 0; s && i < sizeof all / sizeof all[0]; i++) {
        if (strcmp(s, pb_custody_mode_name(all[i])) == 0) {
            *m = all[i];
            return PB_OK;
        }
    }
    return pb_fail(PB_ERR_ARGUMENT,
                   "unknown custody mode (expected standard, trustless or customer)");
}

pb_status pb_export_allowed(pb_custody_mode m)
{
    switch (m) {
    case PB_MODE_STANDARD:
        return pb_fail(PB_ERR_REFUSED, "export is restricted for Standard wallets");
    case PB_MODE_TRUSTLESS:
    case PB_MODE_CUSTOMER:
        return PB_OK;
    }
    return pb_fail(PB_ERR_ARGUMENT, "unknown custody mode %d", (int)m);
}
