/* The custody modes and the export matrix of DESIGN.md §2: Standard is
 * refused, Trustless and Customer are allowed (their secret or PIN is then
 * proven by unwrapping), anything else is an argument error. */
#include <criterion/criterion.h>
#include <string.h>

#include "custody/export_rules.h"

Test(custody_export_rules, mode_names_round_trip_through_parse)
{
    pb_custody_mode all[] = {PB_MODE_STANDARD, PB_MODE_TRUSTLESS, PB_MODE_CUSTOMER};
    const char *names[] = {"standard", "trustless", "customer"};
    for (size_t i = 0; i < 3; i++) {
        cr_assert_str_eq(pb_custody_mode_name(all[i]), names[i]);
        pb_custody_mode m = 0;
        cr_assert_eq(pb_custody_mode_parse(names[i], &m), PB_OK);
        cr_assert_eq(m, all[i]);
    }
    cr_assert_eq(PB_MODE_STANDARD, 1);
    cr_assert_eq(PB_MODE_TRUSTLESS, 2);
    cr_assert_eq(PB_MODE_CUSTOMER, 3);
}

Test(custody_export_rules, unknown_mode_names_and_values_are_argument_errors)
{
    const char *bad[] = {"", "Standard", "STANDARD", "standard ", "trust", "customers", "none"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        pb_custody_mode m = PB_MODE_CUSTOMER;
        cr_assert_eq(pb_custody_mode_parse(bad[i], &m), PB_ERR_ARGUMENT, "'%s'", bad[i]);
        cr_assert_eq(m, PB_MODE_CUSTOMER, "output untouched on failure");
    }
    pb_custody_mode m;
    cr_assert_eq(pb_custody_mode_parse(NULL, &m), PB_ERR_ARGUMENT);
    cr_assert_null(pb_custody_mode_name((pb_custody_mode)0));
    cr_assert_null(pb_custody_mode_name((pb_custody_mode)4));
}

Test(custody_export_rules, standard_export_is_refused_with_the_documented_message)
{
    cr_assert_eq(pb_export_allowed(PB_MODE_STANDARD), PB_ERR_REFUSED);
    cr_assert_str_eq(pb_last_error(), "export is restricted for Standard wallets");
}

Test(custody_export_rules, trustless_and_customer_export_are_allowed)
{
    cr_assert_eq(pb_export_allowed(PB_MODE_TRUSTLESS), PB_OK);
    cr_assert_eq(pb_export_allowed(PB_MODE_CUSTOMER), PB_OK);
}

Test(custody_export_rules, export_of_an_unknown_mode_is_an_argument_error)
{
    cr_assert_eq(pb_export_allowed((pb_custody_mode)0), PB_ERR_ARGUMENT);
    cr_assert_eq(pb_export_allowed((pb_custody_mode)99), PB_ERR_ARGUMENT);
}
