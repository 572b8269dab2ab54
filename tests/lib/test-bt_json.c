/* SPDX-License-Identifier: BSD-3-Clause */
#include <jansson.h>

#include "bt_test.h"
#include "bt_json.h"

TEST(valid_text_is_kept)
{
    json_t *j = bt_json_string("caf\xc3\xa9 ok");
    REQUIRE(j);
    CHECK_EQ_STR(json_string_value(j), "caf\xc3\xa9 ok");
    json_decref(j);
    j = bt_json_string("");
    REQUIRE(j);
    CHECK_EQ_STR(json_string_value(j), "");
    json_decref(j);
}

TEST(invalid_utf8_becomes_question_marks)
{
    /* what jansson's parser says of a line with a stray byte: the value
     * json_string() refuses */
    const char *bad = "bad JSON at column 12: unable to decode byte 0xcb near '\"cm\xcb'";
    json_t *j;

    CHECK(json_string(bad) == NULL);
    j = bt_json_string(bad);
    REQUIRE(j);
    CHECK_EQ_STR(json_string_value(j), "bad JSON at column 12: unable to decode byte 0xcb near '\"cm?'");
    json_decref(j);
    /* a valid sequence next to a cut one: every byte at 0x80 or above goes */
    j = bt_json_string("\xc3\xa9\xe2\x82");
    REQUIRE(j);
    CHECK_EQ_STR(json_string_value(j), "????");
    json_decref(j);
    CHECK(bt_json_string(NULL) == NULL);
}
