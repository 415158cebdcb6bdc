/* sha256.c - SHA-256 (pc_sha256.h): the x86 SHA-NI block function, the
 * FIPS 180-4 padding around it, and GLib's GChecksum where the CPU lacks
 * the instructions.
 *
 * Owns the 64-byte block buffer and the message length. Does not own what
 * is hashed (batchid.c). The block function follows Intel's published
 * sequence for the SHA extensions: two rounds per sha256rnds2, the message
 * schedule in four registers updated by sha256msg1/msg2 (the schedule
 * update of group g is written once in a loop the compiler unrolls).
 * Invariant: state, len and buf hold exactly the bytes given so far.
 */
#include "pc_sha256.h"

#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>
#include <immintrin.h>
#define PC_SHA_X86 1
#endif

struct PcSha256 {
  GChecksum *portable;   /* non-NULL: GLib computes the digest */
  uint32_t state[8];
  uint8_t buf[64];
  size_t fill;           /* bytes in buf */
  uint64_t len;          /* bytes hashed so far */
};

static const uint32_t sha_k[64] = {
    0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
    0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
    0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
    0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
    0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
    0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
    0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
    0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2};

static const uint32_t sha_h0[8] = {0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a,
                                   0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19};

#ifdef PC_SHA_X86
gboolean pc_sha256_accelerated(void) {
  unsigned a, b, c, d;
  if (!__get_cpuid(1, &a, &b, &c, &d)) return FALSE;
  gboolean ssse3 = (c >> 9) & 1, sse41 = (c >> 19) & 1;
  if (!__get_cpuid_count(7, 0, &a, &b, &c, &d)) return FALSE;
  return ssse3 && sse41 && ((b >> 29) & 1);
}

/* The 64 rounds over n whole blocks of data. */
__attribute__((target("sha,sse4.1,ssse3")))
static void blocks_ni(uint32_t state[8], const uint8_t *data, size_t n) {
  const __m128i mask = _mm_set_epi64x(0x0c0d0e0f08090a0bULL, 0x0405060700010203ULL);
  __m128i tmp = _mm_loadu_si128((const __m128i *)&state[0]);
  __m128i s1 = _mm_loadu_si128((const __m128i *)&state[4]);
  tmp = _mm_shuffle_epi32(tmp, 0xB1);             /* CDAB */
  s1 = _mm_shuffle_epi32(s1, 0x1B);               /* EFGH */
  __m128i s0 = _mm_alignr_epi8(tmp, s1, 8);       /* ABEF */
  s1 = _mm_blend_epi16(s1, tmp, 0xF0);            /* CDGH */
  for (; n > 0; n--, data += 64) {
    __m128i abef = s0, cdgh = s1, w[4];
    for (int i = 0; i < 4; i++)
      w[i] = _mm_shuffle_epi8(_mm_loadu_si128((const __m128i *)(data + 16 * i)), mask);
#pragma GCC unroll 16
    for (int g = 0; g < 16; g++) {
      __m128i msg = _mm_add_epi32(w[g & 3], _mm_loadu_si128((const __m128i *)&sha_k[4 * g]));
      s1 = _mm_sha256rnds2_epu32(s1, s0, msg);
      if (g >= 3 && g <= 14) {
        __m128i t = _mm_alignr_epi8(w[g & 3], w[(g + 3) & 3], 4);
        w[(g + 1) & 3] = _mm_sha256msg2_epu32(_mm_add_epi32(w[(g + 1) & 3], t), w[g & 3]);
      }
      s0 = _mm_sha256rnds2_epu32(s0, s1, _mm_shuffle_epi32(msg, 0x0E));
      if (g >= 1 && g <= 12) w[(g + 3) & 3] = _mm_sha256msg1_epu32(w[(g + 3) & 3], w[g & 3]);
    }
    s0 = _mm_add_epi32(s0, abef);
    s1 = _mm_add_epi32(s1, cdgh);
  }
  tmp = _mm_shuffle_epi32(s0, 0x1B);              /* FEBA */
  s1 = _mm_shuffle_epi32(s1, 0xB1);               /* DCHG */
  s0 = _mm_blend_epi16(tmp, s1, 0xF0);            /* DCBA */
  s1 = _mm_alignr_epi8(s1, tmp, 8);               /* ABEF */
  _mm_storeu_si128((__m128i *)&state[0], s0);
  _mm_storeu_si128((__m128i *)&state[4], s1);
}
#else
gboolean pc_sha256_accelerated(void) { return FALSE; }
static void blocks_ni(uint32_t state[8], const uint8_t *data, size_t n) {
  g_assert_not_reached();
}
#endif

PcSha256 *pc_sha256_new(gboolean force_portable) {
  PcSha256 *s = g_new0(PcSha256, 1);
  if (force_portable || !pc_sha256_accelerated()) s->portable = g_checksum_new(G_CHECKSUM_SHA256);
  memcpy(s->state, sha_h0, sizeof sha_h0);
  return s;
}

void pc_sha256_free(PcSha256 *s) {
  if (!s) return;
  if (s->portable) g_checksum_free(s->portable);
  g_free(s);
}

void pc_sha256_update(PcSha256 *s, const void *data, size_t n) {
  const uint8_t *p = data;
  if (s->portable) {
    for (size_t at = 0; at < n; at += G_MAXINT32) /* gssize chunks */
      g_checksum_update(s->portable, p + at, (gssize)MIN(n - at, (size_t)G_MAXINT32));
    return;
  }
  s->len += n;
  if (s->fill) {
    size_t k = MIN(n, 64 - s->fill);
    memcpy(s->buf + s->fill, p, k);
    s->fill += k, p += k, n -= k;
    if (s->fill < 64) return;
    blocks_ni(s->state, s->buf, 1);
    s->fill = 0;
  }
  blocks_ni(s->state, p, n / 64);
  memcpy(s->buf, p + n / 64 * 64, n % 64);
  s->fill = n % 64;
}

void pc_sha256_hex(PcSha256 *s, char hex[PC_SHA256_HEX_BYTES]) {
  if (s->portable) {
    g_strlcpy(hex, g_checksum_get_string(s->portable), PC_SHA256_HEX_BYTES);
    return;
  }
  /* FIPS 180-4 padding: 0x80, zeros to 56 mod 64, the bit length (BE) */
  uint64_t bits = s->len * 8;
  uint8_t pad[72] = {0x80};
  size_t npad = (s->fill < 56 ? 56 : 120) - s->fill;
  for (int i = 0; i < 8; i++) pad[npad + i] = (uint8_t)(bits >> (56 - 8 * i));
  pc_sha256_update(s, pad, npad + 8);
  g_assert(s->fill == 0);
  for (int i = 0; i < 8; i++) g_snprintf(hex + 8 * i, 9, "%08x", s->state[i]);
}
