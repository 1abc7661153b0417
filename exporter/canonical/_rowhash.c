/* Row hashes in bulk: the MD5 of many CSV records at once, sixteen records side by side.
 *
 * exporter/canonical/rowhash.py defines the row hash (lowercase hex MD5 of the record's bytes without
 * its line end, docs/FORMAT.md) and uses this module when it builds and passes its self-test;
 * otherwise it computes the same digests with hashlib. Both are checked against each other by
 * tests/unit/test_rowhash.py.
 *
 * Why C: a record of a few hundred bytes costs CPython about 0.6 us of MD5 plus 0.5 us of
 * per-record Python work (slicing, digest objects, joining), the largest client cost of an
 * export (docs/BENCHMARKS.md). MD5 is a chain of 32-bit operations within one message, so a
 * single message cannot use SIMD; sixteen messages can, one per 32-bit lane (the multi-buffer
 * method of Intel's ISA-L crypto library, which has no Python binding). The lanes are GCC
 * vector extensions. Built for x86-64 Linux with glibc (by GCC, or clang 14 or later), the
 * block function is compiled for AVX-512, AVX2 and SSE2, and the loader picks what the CPU
 * has (target_clones); elsewhere the lanes use the target's baseline vectors (SSE2 on
 * x86-64, NEON on arm64). A lane whose record
 * ends takes the next record, so records of different lengths keep every lane busy; the
 * last few records of a batch, when too few are left to fill the lanes, are finished one
 * at a time. The GIL is held throughout: the records are borrowed from the caller's list.
 *
 * MD5 itself: RFC 1321, https://www.rfc-editor.org/rfc/rfc1321 (sections 3.1-3.5).
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stdint.h>
#include <string.h>

/* 16 lanes: one AVX-512 register or two AVX2 ones (two independent chains, which measured
 * 0.19 against 0.24 us a record for one AVX2 register, docs/BENCHMARKS.md). */
#define LANES 16
typedef uint32_t lanes_t __attribute__((vector_size(LANES * 4)));

/* Function multi-versioning needs an ELF loader's ifunc (glibc; not musl, not macOS), and
 * GCC, or clang 14 or later. Elsewhere the lanes use the target's baseline vectors. */
#if defined(__x86_64__) && defined(__GLIBC__) && \
    (!defined(__clang__) || __clang_major__ >= 14)
#define CLONES __attribute__((target_clones("avx512f", "avx2", "default")))
#else
#define CLONES
#endif

typedef struct {
    const unsigned char *data;
    Py_ssize_t len;
} record_t;

/* RFC 1321 3.4: F, G, H, I in the forms with fewer operations (same truth tables). */
#define F(x, y, z) ((z) ^ ((x) & ((y) ^ (z))))
#define G(x, y, z) ((y) ^ ((z) & ((x) ^ (y))))
#define H(x, y, z) ((x) ^ (y) ^ (z))
#define I(x, y, z) ((y) ^ ((x) | ~(z)))
#define ROTL(v, s) (((v) << (s)) | ((v) >> (32 - (s))))
#define STEP(f, a, b, c, d, w, k, s)          \
    do {                                      \
        (a) += f((b), (c), (d)) + (w) + (k); \
        (a) = ROTL((a), (s)) + (b);           \
    } while (0)

static inline uint32_t
load_le32(const unsigned char *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

/* The 64 steps of one block (RFC 1321 3.4), on scalars or on lanes alike. */
#define MD5_STEPS(a, b, c, d, x)                          \
    STEP(F, a, b, c, d, x[0], 0xd76aa478u, 7); \
    STEP(F, d, a, b, c, x[1], 0xe8c7b756u, 12); \
    STEP(F, c, d, a, b, x[2], 0x242070dbu, 17); \
    STEP(F, b, c, d, a, x[3], 0xc1bdceeeu, 22); \
    STEP(F, a, b, c, d, x[4], 0xf57c0fafu, 7); \
    STEP(F, d, a, b, c, x[5], 0x4787c62au, 12); \
    STEP(F, c, d, a, b, x[6], 0xa8304613u, 17); \
    STEP(F, b, c, d, a, x[7], 0xfd469501u, 22); \
    STEP(F, a, b, c, d, x[8], 0x698098d8u, 7); \
    STEP(F, d, a, b, c, x[9], 0x8b44f7afu, 12); \
    STEP(F, c, d, a, b, x[10], 0xffff5bb1u, 17); \
    STEP(F, b, c, d, a, x[11], 0x895cd7beu, 22); \
    STEP(F, a, b, c, d, x[12], 0x6b901122u, 7); \
    STEP(F, d, a, b, c, x[13], 0xfd987193u, 12); \
    STEP(F, c, d, a, b, x[14], 0xa679438eu, 17); \
    STEP(F, b, c, d, a, x[15], 0x49b40821u, 22); \
    STEP(G, a, b, c, d, x[1], 0xf61e2562u, 5); \
    STEP(G, d, a, b, c, x[6], 0xc040b340u, 9); \
    STEP(G, c, d, a, b, x[11], 0x265e5a51u, 14); \
    STEP(G, b, c, d, a, x[0], 0xe9b6c7aau, 20); \
    STEP(G, a, b, c, d, x[5], 0xd62f105du, 5); \
    STEP(G, d, a, b, c, x[10], 0x02441453u, 9); \
    STEP(G, c, d, a, b, x[15], 0xd8a1e681u, 14); \
    STEP(G, b, c, d, a, x[4], 0xe7d3fbc8u, 20); \
    STEP(G, a, b, c, d, x[9], 0x21e1cde6u, 5); \
    STEP(G, d, a, b, c, x[14], 0xc33707d6u, 9); \
    STEP(G, c, d, a, b, x[3], 0xf4d50d87u, 14); \
    STEP(G, b, c, d, a, x[8], 0x455a14edu, 20); \
    STEP(G, a, b, c, d, x[13], 0xa9e3e905u, 5); \
    STEP(G, d, a, b, c, x[2], 0xfcefa3f8u, 9); \
    STEP(G, c, d, a, b, x[7], 0x676f02d9u, 14); \
    STEP(G, b, c, d, a, x[12], 0x8d2a4c8au, 20); \
    STEP(H, a, b, c, d, x[5], 0xfffa3942u, 4); \
    STEP(H, d, a, b, c, x[8], 0x8771f681u, 11); \
    STEP(H, c, d, a, b, x[11], 0x6d9d6122u, 16); \
    STEP(H, b, c, d, a, x[14], 0xfde5380cu, 23); \
    STEP(H, a, b, c, d, x[1], 0xa4beea44u, 4); \
    STEP(H, d, a, b, c, x[4], 0x4bdecfa9u, 11); \
    STEP(H, c, d, a, b, x[7], 0xf6bb4b60u, 16); \
    STEP(H, b, c, d, a, x[10], 0xbebfbc70u, 23); \
    STEP(H, a, b, c, d, x[13], 0x289b7ec6u, 4); \
    STEP(H, d, a, b, c, x[0], 0xeaa127fau, 11); \
    STEP(H, c, d, a, b, x[3], 0xd4ef3085u, 16); \
    STEP(H, b, c, d, a, x[6], 0x04881d05u, 23); \
    STEP(H, a, b, c, d, x[9], 0xd9d4d039u, 4); \
    STEP(H, d, a, b, c, x[12], 0xe6db99e5u, 11); \
    STEP(H, c, d, a, b, x[15], 0x1fa27cf8u, 16); \
    STEP(H, b, c, d, a, x[2], 0xc4ac5665u, 23); \
    STEP(I, a, b, c, d, x[0], 0xf4292244u, 6); \
    STEP(I, d, a, b, c, x[7], 0x432aff97u, 10); \
    STEP(I, c, d, a, b, x[14], 0xab9423a7u, 15); \
    STEP(I, b, c, d, a, x[5], 0xfc93a039u, 21); \
    STEP(I, a, b, c, d, x[12], 0x655b59c3u, 6); \
    STEP(I, d, a, b, c, x[3], 0x8f0ccc92u, 10); \
    STEP(I, c, d, a, b, x[10], 0xffeff47du, 15); \
    STEP(I, b, c, d, a, x[1], 0x85845dd1u, 21); \
    STEP(I, a, b, c, d, x[8], 0x6fa87e4fu, 6); \
    STEP(I, d, a, b, c, x[15], 0xfe2ce6e0u, 10); \
    STEP(I, c, d, a, b, x[6], 0xa3014314u, 15); \
    STEP(I, b, c, d, a, x[13], 0x4e0811a1u, 21); \
    STEP(I, a, b, c, d, x[4], 0xf7537e82u, 6); \
    STEP(I, d, a, b, c, x[11], 0xbd3af235u, 10); \
    STEP(I, c, d, a, b, x[2], 0x2ad7d2bbu, 15); \
    STEP(I, b, c, d, a, x[9], 0xeb86d391u, 21);

/* One 64-byte block of every lane: state[0..3] are A, B, C, D, block[j] word j of each lane. */
CLONES static void
compress_lanes(uint32_t state[4][LANES], const uint32_t block[16][LANES])
{
    lanes_t a, b, c, d, aa, bb, cc, dd, x[16];
    memcpy(&a, state[0], sizeof a);
    memcpy(&b, state[1], sizeof b);
    memcpy(&c, state[2], sizeof c);
    memcpy(&d, state[3], sizeof d);
    for (int j = 0; j < 16; j++)
        memcpy(&x[j], block[j], sizeof x[j]);
    aa = a, bb = b, cc = c, dd = d;

    MD5_STEPS(a, b, c, d, x);

    a += aa, b += bb, c += cc, d += dd;
    memcpy(state[0], &a, sizeof a);
    memcpy(state[1], &b, sizeof b);
    memcpy(state[2], &c, sizeof c);
    memcpy(state[3], &d, sizeof d);
}

/* One 64-byte block of one message, in plain 32-bit arithmetic: for the records still being
 * hashed when too few are left to fill the lanes (see md5_records). */
static void
compress_one(uint32_t state[4], const unsigned char *p)
{
    uint32_t a = state[0], b = state[1], c = state[2], d = state[3], x[16];
    for (int j = 0; j < 16; j++)
        x[j] = load_le32(p + 4 * j);
    MD5_STEPS(a, b, c, d, x);
    state[0] += a, state[1] += b, state[2] += c, state[3] += d;
}

/* What one lane is working on: record `index`, at block `block` of `blocks`; the first
 * `whole` blocks are read from the record itself, the rest (its last bytes, the 0x80 byte,
 * zeros and the bit length, RFC 1321 3.1-3.2) from `tail`. */
typedef struct {
    Py_ssize_t index; /* -1: idle */
    Py_ssize_t block, whole, blocks;
    unsigned char tail[128];
} lane_t;

static const uint32_t md5_iv[4] = {0x67452301u, 0xefcdab89u, 0x98badcfeu, 0x10325476u};

static void
lane_start(lane_t *lane, uint32_t state[4][LANES], int l, const record_t *rec, Py_ssize_t index)
{
    Py_ssize_t rest = rec->len % 64;
    uint64_t bits = (uint64_t)rec->len * 8u;
    int tail_blocks = rest + 9 <= 64 ? 1 : 2;
    unsigned char *end;

    lane->index = index;
    lane->block = 0;
    lane->whole = rec->len / 64;
    lane->blocks = lane->whole + tail_blocks;
    memset(lane->tail, 0, sizeof lane->tail);
    if (rest)
        memcpy(lane->tail, rec->data + lane->whole * 64, (size_t)rest);
    lane->tail[rest] = 0x80;
    end = lane->tail + 64 * tail_blocks - 8;
    for (int i = 0; i < 8; i++)
        end[i] = (unsigned char)(bits >> (8 * i));
    for (int j = 0; j < 4; j++)
        state[j][l] = md5_iv[j];
}

/* Lanes left busy at or below which, with no record left to start, the rest is hashed one
 * message at a time: a block in the lanes costs about as much with 1 lane busy as with 16
 * (the loads into lanes and the 16-lane arithmetic), about 4 times a plain block. Without
 * this a batch ending in one long record (a large LOB) hashed it several times slower than
 * hashlib. */
#define SCALAR_TAIL_LANES (LANES / 4)

static const unsigned char *
lane_block(const lane_t *lane, const record_t *recs)
{
    return lane->block < lane->whole ? recs[lane->index].data + 64 * lane->block
                                     : lane->tail + 64 * (lane->block - lane->whole);
}

static void
put_digest(unsigned char *out, const uint32_t abcd[4])
{
    for (int j = 0; j < 4; j++)
        for (int i = 0; i < 4; i++)
            out[4 * j + i] = (unsigned char)(abcd[j] >> (8 * i));
}

/* The 16-byte MD5 digests of `count` records, into `digests` (16 * count bytes). */
static void
md5_records(const record_t *recs, Py_ssize_t count, unsigned char *digests)
{
    static const unsigned char idle_block[64];
    uint32_t state[4][LANES] __attribute__((aligned(64)));
    uint32_t block[16][LANES] __attribute__((aligned(64)));
    lane_t lanes[LANES];
    Py_ssize_t next = 0, busy = 0;

    for (int l = 0; l < LANES; l++) {
        lanes[l].index = -1;
        if (next < count) {
            lane_start(&lanes[l], state, l, &recs[next], next);
            next++, busy++;
        }
    }
    while (busy > SCALAR_TAIL_LANES || (busy && next < count)) {
        for (int l = 0; l < LANES; l++) {
            const unsigned char *p = lanes[l].index >= 0 ? lane_block(&lanes[l], recs) : idle_block;
            for (int j = 0; j < 16; j++)
                block[j][l] = load_le32(p + 4 * j);
        }
        compress_lanes(state, block);
        for (int l = 0; l < LANES; l++) {
            lane_t *lane = &lanes[l];
            if (lane->index < 0 || ++lane->block < lane->blocks)
                continue;
            uint32_t abcd[4] = {state[0][l], state[1][l], state[2][l], state[3][l]};
            put_digest(digests + 16 * lane->index, abcd);
            if (next < count) {
                lane_start(lane, state, l, &recs[next], next);
                next++;
            } else {
                lane->index = -1;
                busy--;
            }
        }
    }
    /* No record left to start and at most SCALAR_TAIL_LANES lanes busy: finish each alone. */
    for (int l = 0; l < LANES; l++) {
        lane_t *lane = &lanes[l];
        if (lane->index < 0)
            continue;
        uint32_t abcd[4] = {state[0][l], state[1][l], state[2][l], state[3][l]};
        for (; lane->block < lane->blocks; lane->block++)
            compress_one(abcd, lane_block(lane, recs));
        put_digest(digests + 16 * lane->index, abcd);
    }
}

static const char hex_digits[] = "0123456789abcdef";

static void
put_hex(char *out, const unsigned char *digest)
{
    for (int i = 0; i < 16; i++) {
        out[2 * i] = hex_digits[digest[i] >> 4];
        out[2 * i + 1] = hex_digits[digest[i] & 15];
    }
}

/* `records` (bytes objects, or lines when `strip_newline`) as an array of record_t; NULL with
 * an exception set when an item is not bytes, or a line does not end in a newline. */
static record_t *
gather_records(PyObject *seq, Py_ssize_t count, int strip_newline)
{
    record_t *recs = PyMem_New(record_t, count ? count : 1);
    if (!recs)
        return (record_t *)PyErr_NoMemory();
    for (Py_ssize_t i = 0; i < count; i++) {
        PyObject *item = PySequence_Fast_GET_ITEM(seq, i);
        if (!PyBytes_Check(item)) {
            PyMem_Free(recs);
            PyErr_Format(PyExc_TypeError, "item %zd is %.100s, not bytes", i,
                         Py_TYPE(item)->tp_name);
            return NULL;
        }
        recs[i].data = (const unsigned char *)PyBytes_AS_STRING(item);
        recs[i].len = PyBytes_GET_SIZE(item);
        if (strip_newline) {
            if (recs[i].len == 0 || recs[i].data[recs[i].len - 1] != '\n') {
                PyMem_Free(recs);
                PyErr_Format(PyExc_ValueError, "line %zd does not end in a newline", i);
                return NULL;
            }
            recs[i].len--;
        }
    }
    return recs;
}

/* Each record followed by ",<hex MD5>\n" (`with_records`), or the hex MD5s alone, joined.
 * `no_gil`: the records lie in buffers the caller holds exported (nothing can free or resize
 * them), so the hashing and copying run without the GIL; not so for the items of a list,
 * which another thread could drop meanwhile. */
static PyObject *
hash_records(const record_t *recs, Py_ssize_t count, int with_records, int no_gil)
{
    PyThreadState *saved = NULL;
    Py_ssize_t size = 32 * count;
    unsigned char *digests;
    PyObject *result;
    char *out;

    if (with_records) {
        for (Py_ssize_t i = 0; i < count; i++)
            size += recs[i].len + 2;
    }
    digests = PyMem_Malloc(count ? 16 * (size_t)count : 1);
    if (!digests)
        return PyErr_NoMemory();
    result = PyBytes_FromStringAndSize(NULL, size);
    if (result) {
        out = PyBytes_AS_STRING(result);
        /* The result is not yet shared: another thread runs meanwhile (the rows path's
         * fetch of the next batch, export/prefetch.py; the gzip thread). */
        if (no_gil)
            saved = PyEval_SaveThread();
        md5_records(recs, count, digests);
        for (Py_ssize_t i = 0; i < count; i++) {
            if (with_records) {
                memcpy(out, recs[i].data, (size_t)recs[i].len);
                out += recs[i].len;
                *out++ = ',';
            }
            put_hex(out, digests + 16 * i);
            out += 32;
            if (with_records)
                *out++ = '\n';
        }
        if (no_gil)
            PyEval_RestoreThread(saved);
    }
    PyMem_Free(digests);
    return result;
}

static PyObject *
from_sequence(PyObject *arg, int strip_newline, int with_records)
{
    PyObject *seq = PySequence_Fast(arg, "expected a sequence of bytes");
    PyObject *result = NULL;
    if (!seq)
        return NULL;
    Py_ssize_t count = PySequence_Fast_GET_SIZE(seq);
    record_t *recs = gather_records(seq, count, strip_newline);
    if (recs) {
        result = hash_records(recs, count, with_records, 0);
        PyMem_Free(recs);
    }
    Py_DECREF(seq);
    return result;
}

static PyObject *
rowhash_hex_digests(PyObject *module, PyObject *records)
{
    return from_sequence(records, 0, 0);
}

static PyObject *
rowhash_hashed_records(PyObject *module, PyObject *records)
{
    return from_sequence(records, 0, 1);
}

static PyObject *
rowhash_hashed_lines(PyObject *module, PyObject *lines)
{
    return from_sequence(lines, 1, 1);
}

/* Records packed as Arrow packs a string array: `data` and int32 `offsets` (count + 1 of them
 * from `start`, relative to `data`). */
static PyObject *
rowhash_packed_hashed_lines(PyObject *module, PyObject *args)
{
    Py_buffer data, offsets;
    Py_ssize_t start, count;
    PyObject *result = NULL;
    record_t *recs = NULL;

    if (!PyArg_ParseTuple(args, "y*y*nn", &data, &offsets, &start, &count))
        return NULL;
    /* Written so that nothing overflows: start + count + 1 could. */
    if (start < 0 || count < 0 || start >= offsets.len / 4 || count > offsets.len / 4 - 1 - start) {
        PyErr_SetString(PyExc_ValueError, "offsets do not cover the records");
        goto done;
    }
    recs = PyMem_New(record_t, count ? count : 1);
    if (!recs) {
        PyErr_NoMemory();
        goto done;
    }
    for (Py_ssize_t i = 0; i < count; i++) {
        int32_t from, to;
        memcpy(&from, (const char *)offsets.buf + 4 * (start + i), 4);
        memcpy(&to, (const char *)offsets.buf + 4 * (start + i + 1), 4);
        if (from < 0 || to < from || to > data.len) {
            PyErr_Format(PyExc_ValueError, "record %zd lies outside the data", i);
            goto done;
        }
        recs[i].data = (const unsigned char *)data.buf + from;
        recs[i].len = to - from;
    }
    result = hash_records(recs, count, 1, 1);
done:
    PyMem_Free(recs);
    PyBuffer_Release(&data);
    PyBuffer_Release(&offsets);
    return result;
}

static PyMethodDef rowhash_methods[] = {
    {"hex_digests", rowhash_hex_digests, METH_O,
     "hex_digests(records) -> bytes: the lowercase hex MD5 of each bytes record, joined."},
    {"hashed_records", rowhash_hashed_records, METH_O,
     "hashed_records(records) -> bytes: each bytes record followed by ',<hex MD5>' and a "
     "newline, joined."},
    {"hashed_lines", rowhash_hashed_lines, METH_O,
     "hashed_lines(lines) -> bytes: each line (bytes ending in a newline) with ',<hex MD5 of "
     "the line without its newline>' put before its newline, joined."},
    {"packed_hashed_lines", rowhash_packed_hashed_lines, METH_VARARGS,
     "packed_hashed_lines(data, offsets, start, count) -> bytes: records packed as an Arrow "
     "string array (int32 offsets), each followed by ',<hex MD5>' and a newline, joined."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef rowhash_module = {
    PyModuleDef_HEAD_INIT, "exporter.canonical._rowhash",
    "MD5 row hashes of many records at once, in SIMD lanes (see _rowhash.c).", -1,
    rowhash_methods,
};

PyMODINIT_FUNC
PyInit__rowhash(void)
{
    return PyModule_Create(&rowhash_module);
}
