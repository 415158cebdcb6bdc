/* h5poke.c - test helper: damages a parcours shard in one precise way, so
 * that tests can check that readers refuse it with a clear message.
 * Build: mpicc -o h5poke tests/tools/h5poke.c $(pkg-config --cflags --libs hdf5-openmpi)
 *
 *   h5poke FILE set-u64 ATTR VALUE        root attribute ATTR := VALUE (u64)
 *   h5poke FILE set-str ATTR TEXT         root attribute ATTR := TEXT (fixed string)
 *   h5poke FILE add DATASET INDEX DELTA   element INDEX of a 1-D integer dataset += DELTA
 *   h5poke FILE shift DATASET             moves 1 from the first non-zero element to the
 *                                         next non-zero one (totals unchanged)
 *   h5poke FILE dict-dup DATASET          string entry 1 := entry 0 (duplicate name)
 *   h5poke FILE dict-swap DATASET         swaps string entries 0 and 1 (out of order)
 *   h5poke FILE chunk DATASET             prints "ADDRESS SIZE" of the dataset's chunk 0
 *   h5poke FILE set DATASET INDEX VALUE   element INDEX of a 1-D integer dataset := VALUE
 *   h5poke FILE dict-set DATASET INDEX TEXT  string entry INDEX := TEXT
 *   h5poke FILE retype DATASET TYPE       the dataset rewritten with its values converted to
 *                                         TYPE: int8..int64, uint8..uint64, float32, float64
 *                                         (a string dataset becomes zeros)
 *   h5poke FILE resize DATASET N          the dataset rewritten with N elements (cut, or
 *                                         zeros added)
 *   h5poke FILE rank2 DATASET             the dataset rewritten as N x 1
 *   h5poke FILE delete DATASET            the dataset removed
 *   h5poke FILE extend DATASET N          the dataset rewritten chunked with N elements, only
 *                                         its old ones stored (N may be 2^40: no space used)
 * Exit 0 on success, 1 with a message otherwise.
 */
#include <hdf5.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int fail(const char *what) {
  fprintf(stderr, "h5poke: %s failed\n", what);
  return 1;
}

static int set_attr(hid_t f, const char *name, hid_t type, const void *v) {
  if (H5Aexists(f, name) > 0 && H5Adelete(f, name) < 0) return fail("H5Adelete");
  hid_t sp = H5Screate(H5S_SCALAR);
  hid_t a = H5Acreate2(f, name, type, sp, H5P_DEFAULT, H5P_DEFAULT);
  int rc = (a < 0 || H5Awrite(a, type, v) < 0) ? fail("attribute write") : 0;
  if (a >= 0) H5Aclose(a);
  H5Sclose(sp);
  return rc;
}

/* Reads a whole 1-D integer dataset as int64 into a malloc'ed array. */
static int64_t *read_ints(hid_t d, hsize_t *n) {
  hid_t sp = H5Dget_space(d);
  H5Sget_simple_extent_dims(sp, n, NULL);
  H5Sclose(sp);
  int64_t *v = malloc(sizeof(int64_t) * (*n + 1));
  if (*n && H5Dread(d, H5T_NATIVE_INT64, H5S_ALL, H5S_ALL, H5P_DEFAULT, v) < 0) {
    free(v);
    return NULL;
  }
  return v;
}

static int ints(hid_t f, const char *ds, int shift, hsize_t idx, int64_t delta) {
  hid_t d = H5Dopen2(f, ds, H5P_DEFAULT);
  if (d < 0) return fail("H5Dopen2");
  hsize_t n = 0;
  int64_t *v = read_ints(d, &n);
  int rc = 0;
  if (!v) rc = fail("H5Dread");
  else if (shift) {
    hsize_t a = 0, b;
    while (a < n && v[a] == 0) a++;
    for (b = a + 1; b < n && v[b] == 0; b++) {}
    if (b >= n) rc = fail("shift (needs two non-zero elements)");
    else { v[a]--; v[b]++; }
  } else if (idx >= n) rc = fail("index");
  else v[idx] += delta;
  if (!rc && H5Dwrite(d, H5T_NATIVE_INT64, H5S_ALL, H5S_ALL, H5P_DEFAULT, v) < 0) rc = fail("H5Dwrite");
  free(v);
  H5Dclose(d);
  return rc;
}

static int dict(hid_t f, const char *ds, int swap) {
  hid_t d = H5Dopen2(f, ds, H5P_DEFAULT);
  if (d < 0) return fail("H5Dopen2");
  hid_t t = H5Tcopy(H5T_C_S1);
  H5Tset_size(t, H5T_VARIABLE);
  hid_t sp = H5Dget_space(d);
  hsize_t n = 0;
  H5Sget_simple_extent_dims(sp, &n, NULL);
  int rc = 0;
  char **s = calloc(n + 1, sizeof(char *));
  if (n < 2) rc = fail("dictionary with two entries");
  else if (H5Dread(d, t, H5S_ALL, H5S_ALL, H5P_DEFAULT, s) < 0) rc = fail("H5Dread");
  else {
    char *first = s[0];
    if (swap) { s[0] = s[1]; s[1] = first; }
    else s[1] = first;
    if (H5Dwrite(d, t, H5S_ALL, H5S_ALL, H5P_DEFAULT, s) < 0) rc = fail("H5Dwrite");
  }
  free(s); /* the strings leak: a short-lived tool */
  H5Sclose(sp);
  H5Tclose(t);
  H5Dclose(d);
  return rc;
}

static int chunk(hid_t f, const char *ds) {
  hid_t d = H5Dopen2(f, ds, H5P_DEFAULT);
  if (d < 0) return fail("H5Dopen2");
  hsize_t off[1];
  unsigned mask;
  haddr_t addr;
  hsize_t size;
  hid_t sp = H5Dget_space(d);
  int rc = H5Dget_chunk_info(d, sp, 0, off, &mask, &addr, &size) < 0 ? fail("H5Dget_chunk_info") : 0;
  H5Sclose(sp);
  if (!rc) printf("%llu %llu\n", (unsigned long long)addr, (unsigned long long)size);
  H5Dclose(d);
  return rc;
}

static int set_int(hid_t f, const char *ds, hsize_t idx, int64_t value) {
  hid_t d = H5Dopen2(f, ds, H5P_DEFAULT);
  if (d < 0) return fail("H5Dopen2");
  hsize_t n = 0;
  int64_t *v = read_ints(d, &n);
  int rc = !v ? fail("H5Dread") : idx >= n ? fail("index") : 0;
  if (!rc) v[idx] = value;
  if (!rc && H5Dwrite(d, H5T_NATIVE_INT64, H5S_ALL, H5S_ALL, H5P_DEFAULT, v) < 0) rc = fail("H5Dwrite");
  free(v);
  H5Dclose(d);
  return rc;
}

static int dict_set(hid_t f, const char *ds, hsize_t idx, const char *text) {
  hid_t d = H5Dopen2(f, ds, H5P_DEFAULT);
  if (d < 0) return fail("H5Dopen2");
  hid_t t = H5Tcopy(H5T_C_S1);
  H5Tset_size(t, H5T_VARIABLE);
  hid_t sp = H5Dget_space(d);
  hsize_t n = 0;
  H5Sget_simple_extent_dims(sp, &n, NULL);
  char **s = calloc(n + 1, sizeof(char *));
  int rc = idx >= n ? fail("index") : H5Dread(d, t, H5S_ALL, H5S_ALL, H5P_DEFAULT, s) < 0 ? fail("H5Dread") : 0;
  if (!rc) {
    s[idx] = (char *)text;
    if (H5Dwrite(d, t, H5S_ALL, H5S_ALL, H5P_DEFAULT, s) < 0) rc = fail("H5Dwrite");
  }
  free(s);
  H5Sclose(sp);
  H5Tclose(t);
  H5Dclose(d);
  return rc;
}

static hid_t type_named(const char *n) {
  static const struct { const char *name; hid_t *t; } types[] = {
      {"int8", &H5T_NATIVE_SCHAR_g}, {"int16", &H5T_NATIVE_SHORT_g}, {"int32", &H5T_NATIVE_INT_g},
      {"int64", &H5T_NATIVE_LLONG_g}, {"uint8", &H5T_NATIVE_UCHAR_g}, {"uint16", &H5T_NATIVE_USHORT_g},
      {"uint32", &H5T_NATIVE_UINT_g}, {"uint64", &H5T_NATIVE_ULLONG_g}, {"float32", &H5T_NATIVE_FLOAT_g},
      {"float64", &H5T_NATIVE_DOUBLE_g}};
  H5open();
  for (size_t i = 0; i < sizeof types / sizeof types[0]; i++)
    if (!strcmp(n, types[i].name)) return *types[i].t;
  return -1;
}

/* Replaces dataset ds by one of type t and dims (n[, 1]) holding buf
 * (elements of mem type mt, at least min(old, new) of them). */
static int rewrite(hid_t f, const char *ds, hid_t t, hid_t mt, int rank,
                   hsize_t n, const void *buf) {
  if (H5Ldelete(f, ds, H5P_DEFAULT) < 0) return fail("H5Ldelete");
  hsize_t dims[2] = {n, 1};
  hid_t sp = H5Screate_simple(rank, dims, NULL);
  hid_t d = H5Dcreate2(f, ds, t, sp, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
  int rc = d < 0 ? fail("H5Dcreate2") : (n && H5Dwrite(d, mt, H5S_ALL, H5S_ALL, H5P_DEFAULT, buf) < 0) ? fail("H5Dwrite") : 0;
  if (d >= 0) H5Dclose(d);
  H5Sclose(sp);
  return rc;
}

/* retype (to != NULL), resize (n_new) or rank2 of a 1-D dataset. */
static int reshape(hid_t f, const char *ds, const char *to, long long n_new, int rank) {
  hid_t d = H5Dopen2(f, ds, H5P_DEFAULT);
  if (d < 0) return fail("H5Dopen2");
  hid_t t = H5Dget_type(d), sp = H5Dget_space(d);
  hsize_t n = 0;
  H5Sget_simple_extent_dims(sp, &n, NULL);
  int is_str = H5Tget_class(t) == H5T_STRING;
  hid_t mt = to ? H5T_NATIVE_DOUBLE : H5Tget_native_type(t, H5T_DIR_DEFAULT);
  hsize_t nn = n_new >= 0 ? (hsize_t)n_new : n;
  size_t esz = H5Tget_size(mt);
  char *buf = calloc((n > nn ? n : nn) + 1, esz);
  int rc = 0;
  if (n && !(to && is_str) && H5Dread(d, mt, H5S_ALL, H5S_ALL, H5P_DEFAULT, buf) < 0) rc = fail("H5Dread");
  hid_t nt = to ? type_named(to) : H5Tcopy(t);
  if (!rc && nt < 0) rc = fail("type name");
  H5Sclose(sp);
  H5Dclose(d);
  if (!rc) rc = rewrite(f, ds, nt, mt, rank, nn, buf);
  free(buf); /* vlen strings leak: a short-lived tool */
  if (!to) H5Tclose(nt);
  if (!to) H5Tclose(mt);
  H5Tclose(t);
  return rc;
}

/* The dataset as a chunked one of n elements, its old values first. */
static int extend(hid_t f, const char *ds, unsigned long long n) {
  hid_t d = H5Dopen2(f, ds, H5P_DEFAULT);
  if (d < 0) return fail("H5Dopen2");
  hid_t t = H5Dget_type(d), sp = H5Dget_space(d);
  hsize_t old = 0;
  H5Sget_simple_extent_dims(sp, &old, NULL);
  char *buf = calloc(old + 1, H5Tget_size(t));
  int rc = old && H5Dread(d, t, H5S_ALL, H5S_ALL, H5P_DEFAULT, buf) < 0 ? fail("H5Dread") : 0;
  H5Sclose(sp);
  H5Dclose(d);
  hsize_t dims = n, maxd = H5S_UNLIMITED, chunk = 1024;
  hid_t dcpl = H5Pcreate(H5P_DATASET_CREATE);
  H5Pset_chunk(dcpl, 1, &chunk);
  if (!rc && H5Ldelete(f, ds, H5P_DEFAULT) < 0) rc = fail("H5Ldelete");
  hid_t nsp = H5Screate_simple(1, &dims, &maxd);
  hid_t nd = rc ? -1 : H5Dcreate2(f, ds, t, nsp, H5P_DEFAULT, dcpl, H5P_DEFAULT);
  if (!rc && nd < 0) rc = fail("H5Dcreate2");
  if (!rc && old) {
    hsize_t start = 0;
    hid_t ms = H5Screate_simple(1, &old, NULL);
    H5Sselect_hyperslab(nsp, H5S_SELECT_SET, &start, NULL, &old, NULL);
    if (H5Dwrite(nd, t, ms, nsp, H5P_DEFAULT, buf) < 0) rc = fail("H5Dwrite");
    H5Sclose(ms);
  }
  if (nd >= 0) H5Dclose(nd);
  H5Sclose(nsp);
  H5Pclose(dcpl);
  H5Tclose(t);
  free(buf);
  return rc;
}

int main(int argc, char **argv) {
  if (argc < 4) {
    fprintf(stderr, "usage: h5poke FILE set-u64|set-str|add|shift|dict-dup|dict-swap|chunk|set|dict-set|retype|resize|rank2|delete|extend ARGS\n");
    return 2;
  }
  H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
  const char *op = argv[2];
  int ro = strcmp(op, "chunk") == 0;
  hid_t f = H5Fopen(argv[1], ro ? H5F_ACC_RDONLY : H5F_ACC_RDWR, H5P_DEFAULT);
  if (f < 0) return fail("H5Fopen");
  int rc;
  if (!strcmp(op, "set-u64") && argc == 5) {
    uint64_t v = strtoull(argv[4], NULL, 10);
    rc = set_attr(f, argv[3], H5T_STD_U64LE, &v);
  } else if (!strcmp(op, "set-str") && argc == 5) {
    hid_t t = H5Tcopy(H5T_C_S1);
    H5Tset_size(t, strlen(argv[4]) ? strlen(argv[4]) : 1);
    rc = set_attr(f, argv[3], t, argv[4]);
    H5Tclose(t);
  } else if (!strcmp(op, "add") && argc == 6) rc = ints(f, argv[3], 0, strtoull(argv[4], NULL, 10), strtoll(argv[5], NULL, 10));
  else if (!strcmp(op, "shift")) rc = ints(f, argv[3], 1, 0, 0);
  else if (!strcmp(op, "dict-dup")) rc = dict(f, argv[3], 0);
  else if (!strcmp(op, "dict-swap")) rc = dict(f, argv[3], 1);
  else if (!strcmp(op, "chunk")) rc = chunk(f, argv[3]);
  else if (!strcmp(op, "set") && argc == 6) rc = set_int(f, argv[3], strtoull(argv[4], NULL, 10), strtoll(argv[5], NULL, 10));
  else if (!strcmp(op, "dict-set") && argc == 6) rc = dict_set(f, argv[3], strtoull(argv[4], NULL, 10), argv[5]);
  else if (!strcmp(op, "retype") && argc == 5) rc = reshape(f, argv[3], argv[4], -1, 1);
  else if (!strcmp(op, "resize") && argc == 5) rc = reshape(f, argv[3], NULL, strtoll(argv[4], NULL, 10), 1);
  else if (!strcmp(op, "rank2")) rc = reshape(f, argv[3], NULL, -1, 2);
  else if (!strcmp(op, "extend") && argc == 5) rc = extend(f, argv[3], strtoull(argv[4], NULL, 10));
  else if (!strcmp(op, "delete")) rc = H5Ldelete(f, argv[3], H5P_DEFAULT) < 0 ? fail("H5Ldelete") : 0;
  else {
    fprintf(stderr, "h5poke: unknown operation %s\n", op);
    rc = 2;
  }
  if (H5Fclose(f) < 0 && !rc) rc = fail("H5Fclose");
  return rc;
}
