/* A chunk file's CSV records counted and its numeric columns summed, in C
 * (validation/readback_scan.py).
 *
 * The read-back parsed each file with Arrow's CSV reader, converted the numeric columns as
 * text, then cast and summed them, and checked the bytes as UTF-8: about 1.5 of its 3
 * CPU-seconds for the 3M-row benchmark table, the rest being gzip (docs/BENCHMARKS.md).
 * This scanner does all of it in one pass over the decompressed bytes, a block at a time,
 * without the GIL:
 *
 * - Records are checked against the writer's CSV by _csvparse.c (field counts, quoting; a
 *   last record without its '\n' counts, as Arrow's reader counts it).
 * - Numeric cells that are not the null marker are checked and summed (_csvcells.c); exact
 *   cells beyond 38 digits, and NaN, are left to Python as text (`texts()`).
 * - Every byte is checked as UTF-8, a character cut between two blocks with the next.
 *
 * A failure stops the scan and raises ScanError(kind, rows, detail): kind "fields" (detail:
 * the record's field count), "number" (the column's field index), "too_long" (the limit,
 * `max_record` bytes: 256 MiB unless said), "utf8" or "csv" (what is wrong); rows is the
 * number of complete records before it.
 */
#include "_csvscan.h"

#include <locale.h>
#include <stdlib.h>
#include <string.h>

static PyObject *ScanError;

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
        "too_long",
    };
    PyObject *args;
    int failure = self->failure;

    if (failure == FAIL_NUMBER && self->failure_detail < 0)
        return PyErr_NoMemory();
    if (failure == FAIL_FIELDS || failure == FAIL_NUMBER)
        args = Py_BuildValue("(sLn)", what[failure], self->rows, self->failure_detail);
    else if (failure == FAIL_TOO_LONG)
        args = Py_BuildValue("(sLL)", what[failure], self->rows, self->max_record);
    else
        args = Py_BuildValue("(sLs)", failure == FAIL_UTF8 ? "utf8" : "csv", self->rows,
                             what[failure]);
    if (args) {
        PyErr_SetObject(ScanError, args);
        Py_DECREF(args);
    }
    return NULL;
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
    csv_check_utf8(self, data, view.len);
    if (!self->failure)
        csv_scan(self, data, data + view.len);
    Py_END_ALLOW_THREADS
    PyBuffer_Release(&view);
    if (self->failure)
        return raise_failure(self);
    Py_RETURN_NONE;
}

static PyObject *
Scanner_finish(Scanner *self, PyObject *Py_UNUSED(ignored))
{
    csv_end_of_file(self);
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
    static char *keywords[] = {"width", "modes", "marker", "max_record", NULL};
    Py_ssize_t width, marker_len;
    long long max_record = 256LL << 20;
    PyObject *modes, *key, *value;
    const char *marker;
    Py_ssize_t pos = 0;

    if (!PyArg_ParseTupleAndKeywords(args, kwds, "nO!y#|L:Scanner", keywords, &width,
                                     &PyDict_Type, &modes, &marker, &marker_len, &max_record))
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
    self->offset = self->record_start = 0;
    self->max_record = max_record;
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
    csv_parse_init();
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
