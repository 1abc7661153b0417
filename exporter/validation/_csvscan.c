/* A chunk file's CSV records counted and its numeric columns summed, in C
 * (validation/readback_scan.py).
 *
 * The read-back parsed each file with Arrow's CSV reader, converted the numeric columns as
 * text, then cast and summed them, and checked the bytes as UTF-8: about 1.5 of its 3
 * CPU-seconds for the 3M-row benchmark table, the rest being gzip (docs/BENCHMARKS.md).
 * This scanner does all of it in one pass over the decompressed bytes, a block at a time,
 * without the GIL:
 *
 * - Records are the writer's CSV (docs/FORMAT.md): fields separated by ',', records ended by
 *   '\n', a field either unquoted or quoted with '"' and its quotes doubled; a quoted field
 *   may hold ',' and line breaks. What the writer never writes is refused: a quote inside
 *   an unquoted field, text after a closing quote, a '\r' outside quotes, a quoted number.
 *   Every record must have `width` fields (a blank line is a record of one empty field). A
 *   last record without its '\n' counts, as Arrow's reader counts it.
 * - Numeric cells that are not the null marker are checked and summed (_csvcells.c); exact
 *   cells beyond 38 digits, and NaN, are left to Python as text (`texts()`).
 * - Every byte is checked as UTF-8, a character cut between two blocks with the next.
 *
 * A failure stops the scan and raises ScanError(kind, rows, detail): kind "fields" (detail:
 * the record's field count), "number" (the column's field index), "utf8" or "csv" (what is
 * wrong); rows is the number of complete records before it.
 */
#include "_csvscan.h"

#include <locale.h>
#include <stdlib.h>
#include <string.h>
#ifdef __SSE2__
#include <emmintrin.h>
#endif

#define CELL_MAX 255 /* numeric cell bytes kept: the longest the writer writes is 79 */

enum state { FIELD_START, UNQUOTED, QUOTED, QUOTE_SEEN };
enum failure {
    OK = 0,
    FAIL_FIELDS,
    FAIL_NUMBER,
    FAIL_QUOTE,
    FAIL_CR,
    FAIL_TEXT_AFTER_QUOTE,
    FAIL_UNCLOSED,
    FAIL_UTF8
};

typedef struct {
    PyObject_HEAD
    Py_ssize_t width;
    Column *columns; /* one per field of a record */
    Py_ssize_t allocated; /* columns allocated: `width` once __init__ has succeeded */
    char *marker;
    Py_ssize_t marker_len;
    int state, quoted, collect, record_open;
    Py_ssize_t field;
    char cell[CELL_MAX + 1];
    Py_ssize_t cell_len;
    int cell_long;
    long long rows;
    int failure;
    Py_ssize_t failure_detail;
    unsigned char utf8_carry[4]; /* a character cut at the end of the last block */
    Py_ssize_t utf8_carry_len;
    locale_t c_locale;
} Scanner;

static PyObject *ScanError;
static unsigned char special[256]; /* the bytes that end an unquoted run */

/* A float cell: 1 summed, -1 not a number as the writer writes. strtod_l in the C locale
 * rounds correctly, as float() does, whatever the process's LC_NUMERIC. */
static int
add_float(Scanner *self, Column *c, char *s, Py_ssize_t n)
{
    if (!csv_float_text(s, n))
        return -1;
    s[n] = '\0'; /* the cell buffer has room for it */
    csv_add_double(c, strtod_l(s, NULL, self->c_locale));
    return 1;
}

/* The end of a field: its cell checked and summed where its column is numeric. */
static void
end_field(Scanner *self)
{
    if (self->collect) {
        Column *c = &self->columns[self->field];
        int done;
        if (self->cell_long || self->quoted) {
            done = -1; /* the writer never quotes a number, nor writes one this long */
        } else if (self->cell_len == self->marker_len &&
                   memcmp(self->cell, self->marker, (size_t)self->marker_len) == 0) {
            done = 1; /* NULL */
        } else if (c->mode == EXACT) {
            done = csv_add_exact(c, self->cell, self->cell_len);
            if (done == 0)
                done = csv_keep_text(c, self->cell, self->cell_len) ? -2 : 1;
        } else {
            done = add_float(self, c, self->cell, self->cell_len);
        }
        if (done == -2) {
            self->failure = FAIL_NUMBER; /* out of memory: reported as such after */
            self->failure_detail = -1;
        } else if (done < 0) {
            self->failure = FAIL_NUMBER;
            self->failure_detail = self->field;
        }
    }
    self->field++;
    self->quoted = 0;
    self->cell_len = 0;
    self->cell_long = 0;
    self->collect = self->field < self->width && self->columns[self->field].mode != SKIP;
}

static void
end_record(Scanner *self)
{
    if (self->field != self->width && !self->failure) {
        self->failure = FAIL_FIELDS;
        self->failure_detail = self->field;
        return;
    }
    self->rows++;
    self->field = 0;
    self->record_open = 0;
    self->collect = self->width > 0 && self->columns[0].mode != SKIP;
}

static inline void
keep(Scanner *self, const unsigned char *from, Py_ssize_t len)
{
    if (!self->collect || len <= 0)
        return;
    if (self->cell_len + len > CELL_MAX) {
        self->cell_long = 1;
        return;
    }
    memcpy(self->cell + self->cell_len, from, (size_t)len);
    self->cell_len += len;
}

/* The first of ',', '\n', '"' and '\r' in [p, end), or end: sixteen bytes at a time with
 * SSE2 (every x86-64 has it), which long unquoted cells (base64 bytes) make worth it. */
static inline const unsigned char *
next_special(const unsigned char *p, const unsigned char *end)
{
#ifdef __SSE2__
    const __m128i comma = _mm_set1_epi8(','), newline = _mm_set1_epi8('\n');
    const __m128i quote = _mm_set1_epi8('"'), cr = _mm_set1_epi8('\r');
    while (end - p >= 16) {
        __m128i v = _mm_loadu_si128((const __m128i *)p);
        __m128i hit = _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(v, comma), _mm_cmpeq_epi8(v, newline)),
                                   _mm_or_si128(_mm_cmpeq_epi8(v, quote), _mm_cmpeq_epi8(v, cr)));
        int mask = _mm_movemask_epi8(hit);
        if (mask)
            return p + __builtin_ctz((unsigned)mask);
        p += 16;
    }
#endif
    while (p < end && !special[*p])
        p++;
    return p;
}

/* A ',' ends the field, a '\n' the record too: 1; anything else is not a separator: 0. */
static int
separator(Scanner *self, unsigned char c)
{
    if (c != ',' && c != '\n')
        return 0;
    end_field(self);
    if (c == '\n')
        end_record(self);
    self->state = FIELD_START;
    return 1;
}

/* Scan bytes; stops at the first failure. The GIL is not needed. */
static void
scan(Scanner *self, const unsigned char *p, const unsigned char *end)
{
    while (p < end && !self->failure) {
        self->record_open = 1;
        switch (self->state) {
        case QUOTED: {
            const unsigned char *q = memchr(p, '"', (size_t)(end - p));
            if (!q) {
                keep(self, p, end - p);
                p = end;
                break;
            }
            keep(self, p, q - p);
            p = q + 1;
            self->state = QUOTE_SEEN;
            break;
        }
        case QUOTE_SEEN: {
            unsigned char c = *p++;
            if (c == '"') {
                keep(self, p - 1, 1);
                self->state = QUOTED;
            } else if (!separator(self, c)) {
                self->failure = FAIL_TEXT_AFTER_QUOTE;
            }
            break;
        }
        case FIELD_START:
            if (*p == '"') {
                self->quoted = 1;
                self->state = QUOTED;
                p++;
                break;
            }
            self->state = UNQUOTED;
            /* fall through */
        case UNQUOTED: {
            const unsigned char *q = next_special(p, end);
            keep(self, p, q - p);
            p = q;
            if (p == end)
                break;
            unsigned char c = *p++;
            if (!separator(self, c))
                self->failure = c == '"' ? FAIL_QUOTE : FAIL_CR;
            break;
        }
        }
    }
}

static PyObject *
raise_failure(Scanner *self)
{
    static const char *what[] = {
        NULL,
        "fields",
        "number",
        "a quote inside an unquoted field",
        "a carriage return outside quotes",
        "text after a closing quote",
        "a quoted field never closed",
        "bytes that are not UTF-8",
    };
    PyObject *args;
    int failure = self->failure;

    if (failure == FAIL_NUMBER && self->failure_detail < 0)
        return PyErr_NoMemory();
    if (failure == FAIL_FIELDS || failure == FAIL_NUMBER)
        args = Py_BuildValue("(sLn)", what[failure], self->rows, self->failure_detail);
    else
        args = Py_BuildValue("(sLs)", failure == FAIL_UTF8 ? "utf8" : "csv", self->rows,
                             what[failure]);
    if (args) {
        PyErr_SetObject(ScanError, args);
        Py_DECREF(args);
    }
    return NULL;
}

/* Check a block as UTF-8, with the character cut at the end of the previous one. */
static void
check_utf8(Scanner *self, const unsigned char *data, Py_ssize_t n)
{
    Py_ssize_t start = 0, tail, carried = self->utf8_carry_len;

    if (carried) {
        unsigned char joined[8];
        Py_ssize_t take = n < 4 ? n : 4;
        memcpy(joined, self->utf8_carry, (size_t)carried);
        memcpy(joined + carried, data, (size_t)take);
        int len = csv_utf8_char(joined, carried + take);
        if (len == 0) {
            self->failure = FAIL_UTF8;
            return;
        }
        if (len < 0) { /* still cut short: this block is shorter than the character */
            memcpy(self->utf8_carry + carried, data, (size_t)n);
            self->utf8_carry_len += n;
            return;
        }
        start = len - carried;
        self->utf8_carry_len = 0;
    }
    if (!csv_utf8_check(data + start, n - start, &tail)) {
        self->failure = FAIL_UTF8;
        return;
    }
    memcpy(self->utf8_carry, data + n - tail, (size_t)tail);
    self->utf8_carry_len = tail;
}

static PyObject *
Scanner_feed(Scanner *self, PyObject *arg)
{
    Py_buffer view;

    if (self->failure)
        return raise_failure(self);
    if (PyObject_GetBuffer(arg, &view, PyBUF_SIMPLE) < 0)
        return NULL;
    const unsigned char *data = view.buf;
    Py_BEGIN_ALLOW_THREADS
    check_utf8(self, data, view.len);
    if (!self->failure)
        scan(self, data, data + view.len);
    Py_END_ALLOW_THREADS
    PyBuffer_Release(&view);
    if (self->failure)
        return raise_failure(self);
    Py_RETURN_NONE;
}

static PyObject *
Scanner_finish(Scanner *self, PyObject *Py_UNUSED(ignored))
{
    if (!self->failure && self->utf8_carry_len)
        self->failure = FAIL_UTF8; /* the file ends inside a character */
    if (!self->failure && self->record_open) {
        /* A last record without its line break: read as Arrow's CSV reader reads it. */
        int unclosed = self->state == QUOTED;
        end_field(self);
        if (!self->failure && unclosed && self->field == self->width)
            self->failure = FAIL_UNCLOSED; /* not counted: rows names the records before it */
        else
            end_record(self);
        self->state = FIELD_START;
    }
    if (self->failure)
        return raise_failure(self);
    Py_RETURN_NONE;
}

/* {field: [(fractional digits, integer sum), ...]} for exact columns (the accumulators that
 * took a value), {field: (numerator, flags)} for float columns. */
static PyObject *
Scanner_sums(Scanner *self, PyObject *Py_UNUSED(ignored))
{
    PyObject *exact = PyDict_New(), *floats = PyDict_New();

    if (!exact || !floats)
        goto fail;
    for (Py_ssize_t f = 0; f < self->width; f++) {
        Column *c = &self->columns[f];
        PyObject *key = NULL, *value = NULL;
        if (c->mode == SKIP)
            continue;
        if (!(value = c->mode == EXACT ? csv_exact_parts(c) : csv_float_total(c)))
            goto fail;
        key = PyLong_FromSsize_t(f);
        int failed = !key || PyDict_SetItem(c->mode == EXACT ? exact : floats, key, value) < 0;
        Py_XDECREF(key);
        Py_DECREF(value);
        if (failed)
            goto fail;
    }
    return Py_BuildValue("(NN)", exact, floats);
fail:
    Py_XDECREF(exact);
    Py_XDECREF(floats);
    return NULL;
}

/* {field: [cell text, ...]}: the exact cells handed to Python since the last call. */
static PyObject *
Scanner_texts(Scanner *self, PyObject *Py_UNUSED(ignored))
{
    PyObject *result = PyDict_New();

    for (Py_ssize_t f = 0; result && f < self->width; f++) {
        Column *c = &self->columns[f];
        if (!c->count)
            continue;
        PyObject *cells = PyList_New(c->count), *key = PyLong_FromSsize_t(f);
        Py_ssize_t at = 0;
        for (Py_ssize_t i = 0; cells && i < c->count; i++) {
            /* ASCII only: the cell passed the number check, or is NaN */
            PyObject *text = PyUnicode_DecodeASCII(c->texts + at, c->lengths[i], "strict");
            if (!text) {
                Py_CLEAR(cells);
                break;
            }
            PyList_SET_ITEM(cells, i, text);
            at += c->lengths[i];
        }
        if (!cells || !key || PyDict_SetItem(result, key, cells) < 0)
            Py_CLEAR(result);
        Py_XDECREF(cells);
        Py_XDECREF(key);
        c->count = c->texts_len = 0;
    }
    return result;
}

static PyObject *
Scanner_get_rows(Scanner *self, void *Py_UNUSED(closure))
{
    return PyLong_FromLongLong(self->rows);
}

static void
free_columns(Scanner *self)
{
    if (!self->columns)
        return;
    for (Py_ssize_t f = 0; f < self->allocated; f++) {
        PyMem_Free(self->columns[f].scales);
        PyMem_Free(self->columns[f].bucket);
        free(self->columns[f].texts);
        free(self->columns[f].lengths);
    }
    PyMem_Free(self->columns);
    self->columns = NULL;
    self->allocated = 0;
}

static void
Scanner_dealloc(Scanner *self)
{
    free_columns(self);
    PyMem_Free(self->marker);
    if (self->c_locale)
        freelocale(self->c_locale);
    Py_TYPE(self)->tp_free((PyObject *)self);
}

/* Scanner(width, modes, marker): modes maps a field index to 1 (exact) or 2 (float). */
static int
Scanner_init(Scanner *self, PyObject *args, PyObject *kwds)
{
    static char *keywords[] = {"width", "modes", "marker", NULL};
    Py_ssize_t width, marker_len;
    PyObject *modes, *key, *value;
    const char *marker;
    Py_ssize_t pos = 0;

    if (!PyArg_ParseTupleAndKeywords(args, kwds, "nO!y#:Scanner", keywords, &width, &PyDict_Type,
                                     &modes, &marker, &marker_len))
        return -1;
    if (width < 1 || marker_len > CELL_MAX) {
        PyErr_SetString(PyExc_ValueError, "a record has at least one field; markers are short");
        return -1;
    }
    /* Everything is reset first: a Scanner whose __init__ fails holds no columns. */
    free_columns(self);
    PyMem_Free(self->marker);
    self->marker = NULL;
    self->width = self->marker_len = 0;
    self->state = FIELD_START;
    self->field = self->rows = 0;
    self->quoted = self->record_open = self->cell_long = self->collect = 0;
    self->cell_len = 0;
    self->failure = OK;
    self->utf8_carry_len = 0;
    if (!self->c_locale && !(self->c_locale = newlocale(LC_NUMERIC_MASK, "C", (locale_t)0))) {
        PyErr_SetFromErrno(PyExc_OSError);
        return -1;
    }
    if (!(self->columns = PyMem_Calloc((size_t)width, sizeof(Column))) ||
        !(self->marker = PyMem_Malloc((size_t)marker_len + 1)))
        goto nomem;
    self->allocated = width;
    memcpy(self->marker, marker, (size_t)marker_len);
    while (PyDict_Next(modes, &pos, &key, &value)) {
        Py_ssize_t f = PyLong_AsSsize_t(key);
        long mode = f == -1 && PyErr_Occurred() ? -1 : PyLong_AsLong(value);
        if (PyErr_Occurred())
            goto fail;
        if (f < 0 || f >= width || (mode != EXACT && mode != FLOAT)) {
            PyErr_SetString(PyExc_ValueError, "modes: field index -> 1 (exact) or 2 (float)");
            goto fail;
        }
        Column *c = &self->columns[f];
        c->mode = (int)mode;
        if (mode == EXACT && !c->scales && !(c->scales = PyMem_Calloc(SCALES, sizeof(Accumulator))))
            goto nomem;
        if (mode == FLOAT && !c->bucket && !(c->bucket = PyMem_Calloc(EXPONENTS, sizeof(__int128))))
            goto nomem;
    }
    self->width = width; /* only now: feed() reads columns[field < width] */
    self->marker_len = marker_len;
    self->collect = self->columns[0].mode != SKIP;
    return 0;
nomem:
    PyErr_NoMemory();
fail:
    free_columns(self);
    return -1;
}

static PyMethodDef Scanner_methods[] = {
    {"feed", (PyCFunction)Scanner_feed, METH_O,
     "Scan a block of bytes (records may span blocks); raises ScanError at a failure."},
    {"finish", (PyCFunction)Scanner_finish, METH_NOARGS,
     "End the file: a last record without its line break counts; raises ScanError."},
    {"sums", (PyCFunction)Scanner_sums, METH_NOARGS,
     "({field: [(fractional digits, integer sum)]}, {field: (numerator, flags)})."},
    {"texts", (PyCFunction)Scanner_texts, METH_NOARGS,
     "{field: [cell]}: exact cells left to Python since the last call."},
    {NULL, NULL, 0, NULL},
};

static PyGetSetDef Scanner_getset[] = {
    {"rows", (getter)Scanner_get_rows, NULL, "complete records so far", NULL},
    {NULL, NULL, NULL, NULL, NULL},
};

static PyTypeObject ScannerType = {
    PyVarObject_HEAD_INIT(NULL, 0).tp_name = "exporter.validation._csvscan.Scanner",
    .tp_basicsize = sizeof(Scanner),
    .tp_dealloc = (destructor)Scanner_dealloc,
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_doc = "Counts a chunk file's records and sums its numeric columns.",
    .tp_methods = Scanner_methods,
    .tp_getset = Scanner_getset,
    .tp_init = (initproc)Scanner_init,
    .tp_new = PyType_GenericNew,
};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT, "_csvscan", "A chunk file's records counted and numbers summed.", -1,
};

PyMODINIT_FUNC
PyInit__csvscan(void)
{
    special[','] = special['\n'] = special['"'] = special['\r'] = 1;
    if (PyType_Ready(&ScannerType) < 0)
        return NULL;
    PyObject *m = PyModule_Create(&module);
    if (!m)
        return NULL;
    ScanError = PyErr_NewException("exporter.validation._csvscan.ScanError", PyExc_ValueError, NULL);
    if (!ScanError || PyModule_AddObjectRef(m, "ScanError", ScanError) < 0 ||
        PyModule_AddObjectRef(m, "Scanner", (PyObject *)&ScannerType) < 0) {
        Py_DECREF(m);
        return NULL;
    }
    return m;
}
