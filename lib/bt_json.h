/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * JSON strings from text that may quote bad input: jansson's json_string()
 * refuses text that is not valid UTF-8 (a parse error quoting the bytes it
 * could not read, a file name), and json_object_set_new() then drops the key
 * without a word, so an error answer would go out with no "error".
 */
#ifndef BT_JSON_H
#define BT_JSON_H

struct json_t;

/* json_string(s); when s is not valid UTF-8, the same text with every byte
 * of 0x80 and above as '?', so that the value is there and says as much as
 * it can. NULL only on ENOMEM (or s NULL). */
struct json_t *bt_json_string(const char *s);

#endif
