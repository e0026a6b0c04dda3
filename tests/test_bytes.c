/* Canonical encoding: the reader refuses short, oversized and trailing input. */
#include <criterion/criterion.h>
#include <string.h>

#include "common/bytes.h"

Test(bytes, round_trip_of_every_field_kind)
{
    pb_writer w;
    pb_writer_init(&w);
    pb_writer_u8(&w, 0xab);
    pb_writer_u16(&w, 0x1234);
    pb_writer_u32(&w, 0xdeadbeef);
    pb_writer_u64(&w, 0x0102030405060708ULL);
    pb_writer_var(&w, "hello", 5);
    uint8_t *buf;
    size_t len;
    cr_assert_eq(pb_writer_finish(&w, &buf, &len), PB_OK);
    cr_assert_eq(len, 1 + 2 + 4 + 8 + 4 + 5);

    pb_reader r;
    pb_reader_init(&r, buf, len);
    cr_assert_eq(pb_reader_u8(&r), 0xab);
    cr_assert_eq(pb_reader_u16(&r), 0x1234);
    cr_assert_eq(pb_reader_u32(&r), 0xdeadbeef);
    cr_assert_eq(pb_reader_u64(&r), 0x0102030405060708ULL);
    size_t n;
    const uint8_t *s = pb_reader_var(&r, 16, &n);
    cr_assert_eq(n, 5);
    cr_assert(memcmp(s, "hello", 5) == 0);
    cr_assert_eq(pb_reader_finish(&r, "test"), PB_OK);
    pb_bytes_free(buf, len);
}

Test(bytes, every_truncation_is_a_parse_error)
{
    const uint8_t full[] = {0, 0, 0, 3, 'a', 'b', 'c'};
    for (size_t cut = 0; cut < sizeof full; cut++) {
        pb_reader r;
        size_t n;
        pb_reader_init(&r, full, cut);
        (void)pb_reader_var(&r, 16, &n);
        cr_assert_eq(pb_reader_finish(&r, "cut"), PB_ERR_PARSE, "cut at %zu accepted", cut);
    }
}

Test(bytes, oversized_length_is_refused_before_use)
{
    const uint8_t big[] = {0xff, 0xff, 0xff, 0xff, 'x'};
    pb_reader r;
    size_t n = 99;
    pb_reader_init(&r, big, sizeof big);
    cr_assert_null(pb_reader_var(&r, 1u << 20, &n));
    cr_assert_eq(n, 0);
    cr_assert_eq(pb_reader_finish(&r, "big"), PB_ERR_PARSE);
}

Test(bytes, length_above_the_field_maximum_is_refused)
{
    const uint8_t msg[] = {0, 0, 0, 2, 'a', 'b'};
    pb_reader r;
    size_t n;
    pb_reader_init(&r, msg, sizeof msg);
    cr_assert_null(pb_reader_var(&r, 1, &n));
    cr_assert_eq(pb_reader_finish(&r, "max"), PB_ERR_PARSE);
}

Test(bytes, trailing_bytes_are_refused)
{
    const uint8_t msg[] = {7, 0};
    pb_reader r;
    pb_reader_init(&r, msg, sizeof msg);
    cr_assert_eq(pb_reader_u8(&r), 7);
    cr_assert_eq(pb_reader_finish(&r, "trail"), PB_ERR_PARSE);
}
