/* pc_json.h - the few helpers parcours needs on top of json-glib: strings
 * that stay valid JSON whatever their bytes, members in one call, and the
 * text of a builder. Every JSON parcours writes or reads goes through
 * json-glib (JsonBuilder, JsonGenerator, JsonParser). No MPI, no HDF5.
 */
#ifndef PC_JSON_H
#define PC_JSON_H

#include <json-glib/json-glib.h>
#include <stdint.h>

/* Adds s as a string value; bytes that are not UTF-8 become U+FFFD (JSON
 * text is UTF-8), NULL becomes null. */
void pc_json_add_string(JsonBuilder *b, const char *s);

/* One member of the current object: name, then the value. */
void pc_json_member_string(JsonBuilder *b, const char *name, const char *s);
void pc_json_member_int(JsonBuilder *b, const char *name, int64_t v);
void pc_json_member_uint(JsonBuilder *b, const char *name, uint64_t v);
void pc_json_member_double(JsonBuilder *b, const char *name, double v);

/* The builder's root as text, pretty (two-space indent) or compact, with a
 * final newline when pretty. Caller g_free()s. */
char *pc_json_text(JsonBuilder *b, gboolean pretty);

#endif
