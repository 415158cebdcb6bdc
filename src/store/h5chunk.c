/* h5chunk.c - ranges of elements of a 1-D shard column (h5io_int.h,
 * pc_h5_col_*): the chunks that hold them are fetched raw with
 * H5Dread_chunk on the calling thread and decoded here (libdeflate for
 * deflate, an SSE2 unshuffle), on every OpenMP thread of the caller; any
 * layout not decoded here is read with HDF5's own hyperslab H5Dread.
 *
 * Why: in the HDF5 pipeline a 10^8-event run spent more time in zlib's
 * inflate, adler32 and the byte-wise shuffle filter, and in HDF5's gather
 * of chunk pieces, than in any analysis; libdeflate inflates the same
 * zlib streams about twice as fast, the SSE2 unshuffle is ~8x the byte loop,
 * and each chunk's bytes are unshuffled straight into the caller's rows.
 *
 * Owns which layouts are decoded here (chunked; a pipeline of shuffle then
 * deflate, each optional, as docs/format.md writes it, or shuffle then LZ4
 * (filter 32004, the format of HDF5's H5Zlz4.c: a store repacked with
 * h5repack -f SHUF -f UD=32004,0,0 is read without the plugin); the file's
 * byte order the native one; every chunk of the range stored) and the check that a
 * chunk inflates to exactly its size. Does not own which rows are read
 * (h5slice.c) nor the layout written (h5shard.c, h5io.c).
 *
 * Invariants: every HDF5 call runs on the calling thread (HDF5 is not
 * thread-safe here); decoding is pure (raw bytes in, rows out); the rows are
 * the bytes H5Dread returns for the same selection.
 */
#include "h5io_int.h"

#include <libdeflate.h>
#include <lz4.h>
#include <limits.h>
#include <omp.h>
#if defined(__SSE2__)
#include <emmintrin.h>
#endif

/* The registered id of the LZ4 filter (hdf5-filter-plugin's libh5lz4.so,
 * HDF5's H5Zlz4.c), decoded here without the plugin. */
#define H5Z_FILTER_LZ4_ID 32004

typedef enum { CODEC_NONE, CODEC_DEFLATE, CODEC_LZ4 } Codec;

struct PcH5Col {
  hid_t d;
  hid_t mem_type;
  size_t es;                  /* element size, bytes */
  hsize_t chunk;              /* elements per chunk; 0: not decoded here */
  int shuffle_at, codec_at;   /* position in the pipeline (filter mask bit), or -1 */
  Codec codec;
  char *name;
  const char *file;
};

/* A chunk of a read: where its raw bytes are, and the pieces of rows it
 * gives (pieces [p0, p1) of the read's piece list). */
typedef struct {
  hsize_t k;
  size_t at, n;   /* raw bytes in the read's arena */
  uint32_t mask;  /* filters skipped for this chunk (HDF5's filter mask) */
  size_t p0, p1;
} Chunk;

typedef struct {
  hsize_t from, to; /* elements of the chunk */
  guint8 *dst;
} Piece;

/* ---- private prototypes ---- */
static gboolean pipeline_ok(hid_t dcpl, PcH5Col *c);
static hsize_t decodable(PcH5Col *c);

/* ---- unshuffle ---- */

/* Element i of a shuffled chunk of ne elements of es bytes has byte j at
 * src[j * ne + i]: elements [from, to) are written to dst in order. */
static void unshuffle_scalar(const guint8 *src, hsize_t ne, size_t es,
                             hsize_t from, hsize_t to, guint8 *dst) {
  for (hsize_t i = from; i < to; i++)
    for (size_t j = 0; j < es; j++) *dst++ = src[j * ne + i];
}

#if defined(__SSE2__)
/* 16 elements of 4 bytes from the 4 planes. */
static void unshuffle16_4(const guint8 *s, hsize_t ne, guint8 *dst) {
  __m128i p0 = _mm_loadu_si128((const __m128i *)s);
  __m128i p1 = _mm_loadu_si128((const __m128i *)(s + ne));
  __m128i p2 = _mm_loadu_si128((const __m128i *)(s + 2 * ne));
  __m128i p3 = _mm_loadu_si128((const __m128i *)(s + 3 * ne));
  __m128i a = _mm_unpacklo_epi8(p0, p1), b = _mm_unpackhi_epi8(p0, p1);
  __m128i c = _mm_unpacklo_epi8(p2, p3), d = _mm_unpackhi_epi8(p2, p3);
  _mm_storeu_si128((__m128i *)dst, _mm_unpacklo_epi16(a, c));
  _mm_storeu_si128((__m128i *)(dst + 16), _mm_unpackhi_epi16(a, c));
  _mm_storeu_si128((__m128i *)(dst + 32), _mm_unpacklo_epi16(b, d));
  _mm_storeu_si128((__m128i *)(dst + 48), _mm_unpackhi_epi16(b, d));
}

/* 16 elements of 8 bytes from the 8 planes: bytes paired, then pairs into
 * quads, then quads into the 8-byte elements. */
static void unshuffle16_8(const guint8 *s, hsize_t ne, guint8 *dst) {
  __m128i p[8], w[8], q[8];
  for (int j = 0; j < 8; j++) p[j] = _mm_loadu_si128((const __m128i *)(s + j * ne));
  for (int j = 0; j < 4; j++) {
    w[2 * j] = _mm_unpacklo_epi8(p[2 * j], p[2 * j + 1]);     /* elements 0..7 */
    w[2 * j + 1] = _mm_unpackhi_epi8(p[2 * j], p[2 * j + 1]); /* elements 8..15 */
  }
  for (int h = 0; h < 2; h++) { /* h: elements 0..7 or 8..15 */
    q[4 * h] = _mm_unpacklo_epi16(w[h], w[2 + h]);         /* bytes 0-3, el 0..3 */
    q[4 * h + 1] = _mm_unpackhi_epi16(w[h], w[2 + h]);     /* bytes 0-3, el 4..7 */
    q[4 * h + 2] = _mm_unpacklo_epi16(w[4 + h], w[6 + h]); /* bytes 4-7, el 0..3 */
    q[4 * h + 3] = _mm_unpackhi_epi16(w[4 + h], w[6 + h]); /* bytes 4-7, el 4..7 */
  }
  for (int h = 0; h < 2; h++)
    for (int g = 0; g < 2; g++) {
      __m128i lo = q[4 * h + g], hi = q[4 * h + 2 + g];
      _mm_storeu_si128((__m128i *)(dst + 64 * h + 32 * g), _mm_unpacklo_epi32(lo, hi));
      _mm_storeu_si128((__m128i *)(dst + 64 * h + 32 * g + 16), _mm_unpackhi_epi32(lo, hi));
    }
}
#endif

static void unshuffle(const guint8 *src, hsize_t ne, size_t es, hsize_t from,
                      hsize_t to, guint8 *dst) {
#if defined(__SSE2__)
  if (es == 4 || es == 8)
    for (; from + 16 <= to; from += 16, dst += 16 * es) {
      if (es == 4) unshuffle16_4(src + from, ne, dst);
      else unshuffle16_8(src + from, ne, dst);
    }
#endif
  unshuffle_scalar(src, ne, es, from, to, dst);
}

/* ---- opening ---- */

/* Shuffle (element size es) then deflate or LZ4, each optional, nothing
 * else. */
static gboolean pipeline_ok(hid_t dcpl, PcH5Col *c) {
  int n = H5Pget_nfilters(dcpl);
  c->shuffle_at = c->codec_at = -1;
  c->codec = CODEC_NONE;
  if (n < 0 || n > 2) return FALSE;
  for (int i = 0; i < n; i++) {
    unsigned flags = 0, conf = 0, cd[4] = {0};
    size_t ncd = G_N_ELEMENTS(cd);
    H5Z_filter_t id = H5Pget_filter2(dcpl, (unsigned)i, &flags, &ncd, cd, 0, NULL, &conf);
    if (id == H5Z_FILTER_SHUFFLE && c->shuffle_at < 0 && c->codec_at < 0 && ncd >= 1 && cd[0] == c->es) {
      c->shuffle_at = i;
    } else if ((id == H5Z_FILTER_DEFLATE || id == H5Z_FILTER_LZ4_ID) && c->codec_at < 0) {
      c->codec_at = i;
      c->codec = id == H5Z_FILTER_DEFLATE ? CODEC_DEFLATE : CODEC_LZ4;
    } else {
      return FALSE;
    }
  }
  return TRUE;
}

/* Elements per chunk when the column's layout is one decoded here, else 0. */
static hsize_t decodable(PcH5Col *c) {
  hid_t dcpl = H5Dget_create_plist(c->d), t = H5Dget_type(c->d);
  hsize_t chunk = 0;
  gboolean ok = dcpl >= 0 && t >= 0 && H5Pget_layout(dcpl) == H5D_CHUNKED &&
                H5Pget_chunk(dcpl, 1, &chunk) == 1 && chunk > 0 && H5Tget_size(t) == c->es &&
                (c->es == 1 || H5Tget_order(t) == H5Tget_order(c->mem_type)) && pipeline_ok(dcpl, c);
  pc_h5_close(t);
  pc_h5_close(dcpl);
  return ok ? chunk : 0;
}

PcH5Col *pc_h5_col_open(hid_t f, const char *name, hid_t mem_type,
                        const char *file, GError **error) {
  hid_t d = H5Dopen2(f, name, H5P_DEFAULT);
  if (d < 0) {
    pc_set_error(error, PC_ERROR_FORMAT, "%s: cannot read %s (truncated or corrupt file?)", file, name);
    return NULL;
  }
  PcH5Col *c = g_new0(PcH5Col, 1);
  c->d = d;
  c->mem_type = mem_type;
  c->es = H5Tget_size(mem_type);
  c->name = g_strdup(name);
  c->file = file;
  c->chunk = decodable(c);
  return c;
}

void pc_h5_col_close(PcH5Col *c) {
  if (!c) return;
  pc_h5_close(c->d);
  g_free(c->name);
  g_free(c);
}

/* ---- reading ---- */

static gboolean read_failed(const PcH5Col *c, GError **error) {
  pc_set_error(error, PC_ERROR_FORMAT, "%s: cannot read %s (truncated or corrupt file?)", c->file, c->name);
  return FALSE;
}

/* HDF5's own read of the ranges (one hyperslab union). */
static gboolean read_hyperslab(PcH5Col *c, const PcH5Ranges *r, void *buf,
                               GError **error) {
  hid_t fs = H5Dget_space(c->d);
  herr_t st = fs < 0 ? -1 : H5Sselect_none(fs);
  for (size_t i = 0; st >= 0 && i < r->nr; i++)
    st = H5Sselect_hyperslab(fs, H5S_SELECT_OR, &r->start[i], NULL, &r->count[i], NULL);
  hid_t ms = st < 0 ? -1 : H5Screate_simple(1, &r->total, NULL);
  st = ms < 0 ? -1 : H5Dread(c->d, c->mem_type, ms, fs, H5P_DEFAULT, buf);
  pc_h5_close(ms);
  pc_h5_close(fs);
  return st >= 0 || read_failed(c, error);
}

/* The chunks and pieces of the ranges, in order. */
static void plan_pieces(const PcH5Col *c, const PcH5Ranges *r, guint8 *buf,
                        GArray *chunks, GArray *pieces) {
  hsize_t C = c->chunk;
  guint8 *dst = buf;
  for (size_t i = 0; i < r->nr; i++) {
    hsize_t a = r->start[i], e = a + r->count[i];
    for (hsize_t k = a / C; k * C < e; k++) {
      Chunk *last = chunks->len ? &g_array_index(chunks, Chunk, chunks->len - 1) : NULL;
      if (!last || last->k != k) {
        Chunk ch = {k, 0, 0, 0, pieces->len, pieces->len};
        g_array_append_val(chunks, ch);
        last = &g_array_index(chunks, Chunk, chunks->len - 1);
      }
      Piece p = {MAX(a, k * C) - k * C, MIN(e, (k + 1) * C) - k * C, dst};
      dst += (p.to - p.from) * c->es;
      g_array_append_val(pieces, p);
      last->p1 = pieces->len;
    }
  }
}

/* Raw bytes of every chunk into arena (HDF5, this thread), grown as
 * needed. FALSE with *missing set when a chunk is not stored (HDF5's fill
 * values are then its business), FALSE with *error when HDF5 cannot read
 * one. */
static gboolean fetch_raw(PcH5Col *c, GArray *chunks, PcH5Scratch *arena,
                          gboolean *missing, GError **error) {
  size_t total = 0;
  *missing = FALSE;
  for (guint i = 0; i < chunks->len; i++) {
    Chunk *ch = &g_array_index(chunks, Chunk, i);
    hsize_t off = ch->k * c->chunk, n = 0;
    if (H5Dget_chunk_storage_size(c->d, &off, &n) < 0 || n == 0) {
      *missing = TRUE;
      return FALSE;
    }
    ch->at = total;
    ch->n = n;
    total += n;
  }
  if (arena->cap < total + 1) {
    g_free(arena->p);
    arena->cap = 0;
    if (!(arena->p = g_try_malloc(total + 1))) {
      pc_set_error(error, PC_ERROR_MEMORY, "%s: dataset %s: cannot hold %zu bytes of chunks", c->file, c->name, total);
      return FALSE;
    }
    arena->cap = total + 1;
  }
  for (guint i = 0; i < chunks->len; i++) {
    Chunk *ch = &g_array_index(chunks, Chunk, i);
    hsize_t off = ch->k * c->chunk;
    if (H5Dread_chunk(c->d, H5P_DEFAULT, &off, &ch->mask, arena->p + ch->at) < 0)
      return read_failed(c, error);
  }
  return TRUE;
}

static uint32_t be32(const guint8 *p) {
  return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* An LZ4 chunk as H5Zlz4.c writes it: the original size (8 bytes, big
 * endian), the block size (4), then per block its stored size (4) and its
 * bytes, LZ4 unless the stored size is the block's own (kept raw). TRUE
 * when it decodes to exactly out_n bytes. */
static gboolean lz4_chunk(const guint8 *in, size_t n, guint8 *out, size_t out_n) {
  if (n < 12) return FALSE;
  uint64_t orig = (uint64_t)be32(in) << 32 | be32(in + 4);
  size_t block = be32(in + 8), at = 12, done = 0;
  if (orig != out_n || block == 0) return FALSE;
  while (done < out_n) {
    size_t want = MIN(block, out_n - done);
    if (n - at < 4) return FALSE;
    size_t stored = be32(in + at);
    at += 4;
    if (stored > n - at || stored > INT_MAX) return FALSE;
    if (stored == want) memcpy(out + done, in + at, want);
    else if (LZ4_decompress_safe((const char *)in + at, (char *)out + done, (int)stored, (int)want) != (int)want)
      return FALSE;
    at += stored;
    done += want;
  }
  return TRUE;
}

/* One chunk: decompressed into tmp (unless the codec was skipped), its pieces
 * unshuffled (or copied) into place. FALSE when its bytes do not decode to
 * exactly one chunk. Pure: any thread. */
static gboolean decode_chunk(const PcH5Col *c, const Chunk *ch,
                             const guint8 *arena, const Piece *pieces,
                             struct libdeflate_decompressor *z, guint8 *tmp) {
  size_t cb = c->chunk * c->es;
  const guint8 *data = arena + ch->at;
  if (c->codec_at >= 0 && !(ch->mask & (1u << c->codec_at))) {
    if (c->codec == CODEC_DEFLATE ? libdeflate_zlib_decompress(z, data, ch->n, tmp, cb, NULL) != LIBDEFLATE_SUCCESS
                                  : !lz4_chunk(data, ch->n, tmp, cb))
      return FALSE;
    data = tmp;
  } else if (ch->n != cb) {
    return FALSE;
  }
  gboolean shuffled = c->shuffle_at >= 0 && !(ch->mask & (1u << c->shuffle_at)) && c->es > 1;
  for (size_t p = ch->p0; p < ch->p1; p++) {
    const Piece *pc = &pieces[p];
    if (shuffled) unshuffle(data, c->chunk, c->es, pc->from, pc->to, pc->dst);
    else memcpy(pc->dst, data + pc->from * c->es, (pc->to - pc->from) * c->es);
  }
  return TRUE;
}

/* Every chunk decoded on the OpenMP threads. */
static gboolean decode_all(const PcH5Col *c, GArray *chunks,
                           const guint8 *arena, const GArray *pieces) {
  int bad = 0;
  const Chunk *chs = (const Chunk *)chunks->data;
  const Piece *ps = (const Piece *)pieces->data;
  long n = (long)chunks->len;
#pragma omp parallel if (n > 1)
  {
    struct libdeflate_decompressor *z = libdeflate_alloc_decompressor();
    guint8 *tmp = g_malloc(c->chunk * c->es);
#pragma omp for schedule(dynamic, 2) reduction(|| : bad)
    for (long i = 0; i < n; i++)
      bad = bad || !z || !decode_chunk(c, &chs[i], arena, ps, z, tmp);
    g_free(tmp);
    if (z) libdeflate_free_decompressor(z);
  }
  return !bad;
}

gboolean pc_h5_col_read(PcH5Col *c, const PcH5Ranges *r, void *buf,
                        PcH5Scratch *scratch, GError **error) {
  if (r->total == 0) return TRUE;
  if (!c->chunk) return read_hyperslab(c, r, buf, error);
  g_autoptr(GArray) chunks = g_array_new(FALSE, FALSE, sizeof(Chunk));
  g_autoptr(GArray) pieces = g_array_new(FALSE, FALSE, sizeof(Piece));
  plan_pieces(c, r, buf, chunks, pieces);
  PcH5Scratch own = {NULL, 0}, *arena = scratch ? scratch : &own;
  gboolean missing, ok;
  if (!fetch_raw(c, chunks, arena, &missing, error))
    ok = missing && read_hyperslab(c, r, buf, error);
  else
    ok = decode_all(c, chunks, arena->p, pieces) || read_failed(c, error);
  g_free(own.p);
  return ok;
}
