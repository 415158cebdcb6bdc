/* pc_table.h - an output table (spec §10) in memory, and its CSV form.
 *
 * Owns PcTable: named, typed columns and rows of cells. Analytics build
 * tables on rank 0; table.c writes the CSV (exact formatting rules of §10)
 * and h5io.c writes the same table as a compound dataset of results.h5.
 * No MPI, no HDF5.
 */
#ifndef PC_TABLE_H
#define PC_TABLE_H

#include "pc_core.h"

typedef enum {
  PC_COL_INT,     /* int64, decimal */
  PC_COL_DOUBLE,  /* %.12g, -0 -> 0, inf/-inf/nan literal */
  PC_COL_MICROS,  /* PcMoney millionths written with exactly 6 decimals */
  PC_COL_STRING   /* bytes, written as is (paths already joined by " > ") */
} PcColType;

typedef struct PcTable PcTable;

/* name: the file stem ("variants" -> csv/variants.csv, group /variants).
 * cols: "name:type" with type one of int,double,micros,string, e.g.
 * "rank:int". Caller frees with pc_table_free(). */
PcTable *pc_table_new(const char *name, const char *const *cols, guint ncols);
void pc_table_free(PcTable *t);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(PcTable, pc_table_free)

/* Starts a new row (all cells empty) and returns its index. */
guint pc_table_add_row(PcTable *t);
/* Set cells of the last row. An unset cell is empty (",," in CSV; NaN,
 * INT64_MIN or "" in HDF5). */
void pc_table_set_int(PcTable *t, guint col, int64_t v);
void pc_table_set_double(PcTable *t, guint col, double v);
void pc_table_set_micros(PcTable *t, guint col, PcMoney v);
void pc_table_set_string(PcTable *t, guint col, const char *s); /* copies */
void pc_table_set_string_len(PcTable *t, guint col, const char *s, size_t n);

const char *pc_table_name(const PcTable *t);
guint pc_table_ncols(const PcTable *t);
guint pc_table_nrows(const PcTable *t);
const char *pc_table_col_name(const PcTable *t, guint col);
PcColType pc_table_col_type(const PcTable *t, guint col);
gboolean pc_table_is_empty(const PcTable *t, guint row, guint col);
/* TRUE when the cell is empty as results.h5 gives it back: only a money
 * cell can be (an empty integer is stored as INT64_MIN, a double as NaN, a
 * string as ""; the getters already answer those for an empty cell). On a
 * table read from results.h5 it equals pc_table_is_empty(), so the report
 * reads the run's tables in memory and a file's alike. */
gboolean pc_table_is_stored_empty(const PcTable *t, guint row, guint col);
/* INT cells; a MICROS cell whose value fits int64 (asserted) */
int64_t pc_table_get_int(const PcTable *t, guint row, guint col);
PcMoney pc_table_get_micros(const PcTable *t, guint row, guint col);
double pc_table_get_double(const PcTable *t, guint row, guint col);
const char *pc_table_get_string(const PcTable *t, guint row, guint col);

/* Formats a double as §10 wants: "%.12g", "0" for -0, "inf", "-inf", "nan".
 * buf must hold 32 bytes. Returns buf. */
char *pc_fmt_double(char *buf, double v);
/* Bytes a formatted PcMoney needs, NUL included (39 digits, sign, point). */
#define PC_MONEY_BYTES 48
/* Formats millionths with exactly 6 decimals ("-1.500000"), exact for every
 * PcMoney. buf: PC_MONEY_BYTES. Returns buf. */
char *pc_fmt_micros(char *buf, PcMoney v);
/* Parses what pc_fmt_micros writes: -?[0-9]+\.[0-9]{6}, up to 33 digits
 * before the point, within the PcMoney range (-2^127 .. 2^127 - 1
 * millionths). TRUE and *out on success; FALSE otherwise. */
gboolean pc_parse_micros(const char *s, PcMoney *out);

/* Writes path (a temporary name, then rename: never partial). */
gboolean pc_table_write_csv(const PcTable *t, const char *path,
                            GError **error);

#endif
