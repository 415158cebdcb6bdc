/* test_sha256.c - pc_sha256.h: the FIPS 180-4 test vectors, and the SHA-NI
 * path against GLib's GChecksum on every length around the block and
 * padding boundaries, fed whole and in odd pieces. Where the CPU has no
 * SHA-NI both digests are GLib's and the cases still pass. */
#include "pc_sha256.h"
#include "pc_test.h"

static void hex_of(const void *data, size_t n, gboolean portable,
                   size_t piece, char out[PC_SHA256_HEX_BYTES]) {
  g_autoptr(PcSha256) s = pc_sha256_new(portable);
  const guint8 *p = data;
  for (size_t at = 0; at < n; at += piece) pc_sha256_update(s, p + at, MIN(piece, n - at));
  pc_sha256_hex(s, out);
}

static void test_vectors(void) {
  char h[PC_SHA256_HEX_BYTES];
  hex_of("", 0, FALSE, 1, h);
  CU_ASSERT_STRING_EQUAL(h, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  hex_of("abc", 3, FALSE, 3, h);
  CU_ASSERT_STRING_EQUAL(h, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  const char *two = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
  hex_of(two, strlen(two), FALSE, 7, h);
  CU_ASSERT_STRING_EQUAL(h, "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
  g_autofree char *million = g_malloc(1000000);
  memset(million, 'a', 1000000);
  hex_of(million, 1000000, FALSE, 4096 + 13, h);
  CU_ASSERT_STRING_EQUAL(h, "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
}

/* Every length 0..300 (all paddings, one to five blocks) and a few large
 * ones, whole and in pieces of 1, 63 and 65 bytes: both paths agree. */
static void test_against_glib(void) {
  guint8 buf[70000];
  for (size_t i = 0; i < sizeof buf; i++) buf[i] = (guint8)(i * 2654435761u >> 13);
  size_t lens[310], nl = 0;
  for (size_t n = 0; n <= 300; n++) lens[nl++] = n;
  size_t big[] = {4095, 4096, 4097, 65535, 65536, 69999, 70000};
  for (size_t i = 0; i < G_N_ELEMENTS(big); i++) lens[nl++] = big[i];
  int bad = 0;
  for (size_t i = 0; i < nl; i++) {
    char a[PC_SHA256_HEX_BYTES], b[PC_SHA256_HEX_BYTES], c[PC_SHA256_HEX_BYTES], d[PC_SHA256_HEX_BYTES];
    hex_of(buf, lens[i], TRUE, lens[i] ? lens[i] : 1, a);
    hex_of(buf, lens[i], FALSE, lens[i] ? lens[i] : 1, b);
    hex_of(buf, lens[i], FALSE, lens[i] < 400 ? 1 : 63, c);
    hex_of(buf, lens[i], FALSE, 65, d);
    bad += strcmp(a, b) != 0 || strcmp(a, c) != 0 || strcmp(a, d) != 0;
  }
  CU_ASSERT_EQUAL(bad, 0);
}

PC_TEST_MAIN("sha256", {"/sha256/vectors", test_vectors},
             {"/sha256/against_glib", test_against_glib})
