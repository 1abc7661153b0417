/* Batches of Python rows -> CSV records, in C: the per-value rules of
 * exporter/canonical/cells.py (the reference) for the value types drivers hand over.
 *
 * exporter/canonical/rows.py uses this module when it builds and passes its self-test; its
 * Python encoder stays the reference and the fallback (tests/unit/test_rowtext.py compares the
 * two on random batches of every kind). Why C: the Python encoder spends about 5 us a row of
 * eleven columns on per-value work, most of an export's client time on this path; this module
 * about 0.6 us (docs/BENCHMARKS.md).
 *
 * The caller gives one converter code per column (from the column's kind, rows.py) and the
 * column's cell function (cells.cell_function). Each value is written here when its type is
 * exactly the one drivers return for the kind (int, float, str, bytes, bool, Decimal, date,
 * datetime, time), and through the cell function otherwise (a bool in an INTEGER column, a
 * dict in a JSON column, a datetime subclass, a Decimal with an exponent...). Whatever cells.py
 * refuses, or the Python encoder would refuse around the cells (a value equal to the null
 * marker), or writes otherwise (a lone surrogate, which has no UTF-8), makes the call give up:
 * it returns None, or the cell function's exception, and rows.py runs the batch through the
 * Python encoder, which raises the reference's error for the first offending column. So no
 * error text is repeated here, and whatever this module writes is the Python encoder's bytes.
 * The GIL is held throughout (every value is a Python object).
 *
 * Files: _rowtext.c (this: the batch, the types, the checks), _celltext.c (one value's text:
 * digits, Decimal, dates and times, base64, quoted UTF-8), _floattext.c (doubles), _rowsums.c
 * (exact sums of a numeric column, for validation).
 */
#include "_rowtext.h"

#include <datetime.h>
#include <stdint.h>
#include <string.h>

/* Converter codes, one byte per column (rows.py keeps the same table). */
enum {
    CODE_OTHER = 0, /* every value through the cell function */
    CODE_INTEGER = 1,
    CODE_DECIMAL = 2,
    CODE_FLOAT = 3,
    CODE_BOOLEAN = 4,
    CODE_STRING = 5,
    CODE_JSON = 6,
    CODE_DATE = 7,
    CODE_DATETIME = 8,
    CODE_TIMESTAMP = 9,
    CODE_TIME = 10,
    CODE_BYTES = 11,
};
#define CODE_TEXT_FLAG 0x80 /* with CODE_OTHER: a text kind (its values checked against the marker) */

/* What encode() returns (its `mode` argument); MODE_BY_ROWS: `values` holds rows, not columns. */
enum { MODE_RECORDS = 0, MODE_LINES = 1, MODE_PACKED = 2 };
#define MODE_BY_ROWS 4

/* decimal.Decimal, found at import. */
static PyObject *decimal_type;
static PyObject *utcoffset_name;

typedef struct {
    const unsigned char *codes;
    PyObject *const *cells; /* the cell functions */
    PyObject *marker;       /* str */
    const char *marker_utf8;
    Py_ssize_t marker_len;      /* bytes */
    Py_ssize_t marker_chars;    /* code points */
} encoder_t;

/* An aware datetime in UTC, written with "+00:00"; the cell function where utcoffset() is
 * not a timedelta of less than a day, or UTC leaves years 1-9999 (cells.py refuses that). */
static int
put_timestamp(buf_t *b, PyObject *cell, PyObject *value)
{
    PyObject *zone = PyDateTime_DATE_GET_TZINFO(value);
    int y = PyDateTime_GET_YEAR(value), mo = PyDateTime_GET_MONTH(value);
    int d = PyDateTime_GET_DAY(value), h = PyDateTime_DATE_GET_HOUR(value);
    int mi = PyDateTime_DATE_GET_MINUTE(value), s = PyDateTime_DATE_GET_SECOND(value);
    int us = PyDateTime_DATE_GET_MICROSECOND(value);

    if (zone != Py_None && zone != PyDateTime_TimeZone_UTC) {
        /* Each value's own offset (a zone with DST has two), as astimezone() asks it. */
        PyObject *offset = PyObject_CallMethodOneArg(zone, utcoffset_name, value);
        if (!offset)
            return -1;
        if (!PyDelta_Check(offset)) { /* None: astimezone() would take the machine's zone */
            Py_DECREF(offset);
            return put_by_cell_function(b, cell, value);
        }
        long long off = ((long long)PyDateTime_DELTA_GET_DAYS(offset) * 86400 +
                         PyDateTime_DELTA_GET_SECONDS(offset)) * 1000000LL +
                        PyDateTime_DELTA_GET_MICROSECONDS(offset);
        Py_DECREF(offset);
        if (off <= -US_PER_DAY || off >= US_PER_DAY)
            return put_by_cell_function(b, cell, value); /* the cell function refuses it */
        if (off != 0 && shift_utc(&y, &mo, &d, &h, &mi, &s, &us, off) < 0)
            return put_by_cell_function(b, cell, value);
    }
    if (RESERVE(b, 40) < 0)
        return -1;
    char *p = put_datetime(b->data + b->len, y, mo, d, h, mi, s, us);
    memcpy(p, "+00:00", 6);
    b->len = p + 6 - b->data;
    return 0;
}

/* One non-NULL value of column `c`: 0 written, GIVE_UP, or -1 with an exception set. */
static int
put_value(const encoder_t *enc, buf_t *b, Py_ssize_t c, PyObject *v)
{
    PyObject *cell = enc->cells[c];
    PyTypeObject *type = Py_TYPE(v);

    switch (enc->codes[c]) {
    case CODE_INTEGER:
        return type == &PyLong_Type ? put_int(b, v) : put_by_cell_function(b, cell, v);
    case CODE_DECIMAL:
        if (type == (PyTypeObject *)decimal_type)
            return put_decimal(b, cell, v);
        return type == &PyLong_Type ? put_decimal_int(b, cell, v) : put_by_cell_function(b, cell, v);
    case CODE_FLOAT:
        if (type == &PyFloat_Type) {
            if (RESERVE(b, FLOAT_TEXT_MAX) < 0)
                return -1;
            int rc = put_float(b, PyFloat_AS_DOUBLE(v));
            return rc == HALFWAY ? put_by_cell_function(b, cell, v) : rc;
        }
        return put_by_cell_function(b, cell, v);
    case CODE_BOOLEAN:
        if (type == &PyBool_Type || type == &PyLong_Type) {
            /* cells.py: "true" if v else "false"; an int is true unless 0. */
            int truth = PyObject_IsTrue(v);
            if (truth < 0 || RESERVE(b, 5) < 0)
                return -1;
            memcpy(b->data + b->len, truth ? "true" : "false", truth ? 4 : 5);
            b->len += truth ? 4 : 5;
            return 0;
        }
        return put_by_cell_function(b, cell, v);
    case CODE_STRING:
    case CODE_JSON:
        return type == &PyUnicode_Type ? put_quoted(b, v) : put_by_cell_function(b, cell, v);
    case CODE_DATE:
        if (!PyDate_CheckExact(v))
            return put_by_cell_function(b, cell, v); /* a datetime is refused there */
        if (RESERVE(b, 10) < 0)
            return -1;
        b->len = put_ymd(b->data + b->len, PyDateTime_GET_YEAR(v), PyDateTime_GET_MONTH(v),
                         PyDateTime_GET_DAY(v)) - b->data;
        return 0;
    case CODE_DATETIME:
        if (!PyDateTime_CheckExact(v) || PyDateTime_DATE_GET_TZINFO(v) != Py_None)
            return put_by_cell_function(b, cell, v); /* an aware value is refused there */
        if (RESERVE(b, 32) < 0)
            return -1;
        b->len = put_datetime(b->data + b->len, PyDateTime_GET_YEAR(v), PyDateTime_GET_MONTH(v),
                              PyDateTime_GET_DAY(v), PyDateTime_DATE_GET_HOUR(v),
                              PyDateTime_DATE_GET_MINUTE(v), PyDateTime_DATE_GET_SECOND(v),
                              PyDateTime_DATE_GET_MICROSECOND(v)) - b->data;
        return 0;
    case CODE_TIMESTAMP:
        return PyDateTime_CheckExact(v) ? put_timestamp(b, cell, v)
                                        : put_by_cell_function(b, cell, v);
    case CODE_TIME:
        if (!PyTime_CheckExact(v) || PyDateTime_TIME_GET_TZINFO(v) != Py_None)
            return put_by_cell_function(b, cell, v);
        if (RESERVE(b, 16) < 0)
            return -1;
        b->len = put_hms(b->data + b->len, PyDateTime_TIME_GET_HOUR(v),
                         PyDateTime_TIME_GET_MINUTE(v), PyDateTime_TIME_GET_SECOND(v),
                         PyDateTime_TIME_GET_MICROSECOND(v)) - b->data;
        return 0;
    case CODE_BYTES:
        if (type != &PyBytes_Type)
            return put_by_cell_function(b, cell, v);
        return put_base64(b, (const unsigned char *)PyBytes_AS_STRING(v), PyBytes_GET_SIZE(v));
    default:
        return put_by_cell_function(b, cell, v);
    }
}

/* The checks rows.py makes around the cells: a text value equal to a non-empty marker, and a
 * non-text cell equal to the marker (an empty BYTES value under the empty marker is written
 * `""`, cells.empty_cell), give the batch up for the Python encoder to refuse. */
static int
put_checked(const encoder_t *enc, buf_t *b, Py_ssize_t c, PyObject *v)
{
    unsigned char code = enc->codes[c];
    int text = code == CODE_STRING || code == CODE_JSON || (code & CODE_TEXT_FLAG);
    Py_ssize_t start = b->len;
    int rc;

    if (text && enc->marker_len) {
        if (PyUnicode_CheckExact(v)) {
#if PY_VERSION_HEX < 0x030C0000
            if (PyUnicode_READY(v) < 0)
                return -1;
#endif
            if (PyUnicode_GET_LENGTH(v) == enc->marker_chars &&
                PyUnicode_Compare(v, enc->marker) == 0)
                return GIVE_UP;
        } else {
            int equal = PyObject_RichCompareBool(v, enc->marker, Py_EQ);
            if (equal)
                return equal < 0 ? -1 : GIVE_UP;
        }
    }
    rc = put_value(enc, b, c, v);
    if (rc || text || b->len - start != enc->marker_len ||
        memcmp(b->data + start, enc->marker_utf8, (size_t)enc->marker_len) != 0)
        return rc;
    if ((code & ~CODE_TEXT_FLAG) != CODE_BYTES || enc->marker_len != 0)
        return GIVE_UP;
    if (RESERVE(b, 2) < 0)
        return -1;
    memcpy(b->data + b->len, "\"\"", 2);
    b->len += 2;
    return 0;
}

/* The items of each of `outer`'s sequences, as tuples (a list could change under a cell
 * function); NULL with an exception, or GIVE_UP (through *status) when their lengths differ. */
static PyObject **
gather(PyObject *outer, Py_ssize_t count, Py_ssize_t width, PyObject ***items, int *status)
{
    PyObject **held = PyMem_Calloc((size_t)(count ? count : 1), sizeof(PyObject *));
    if (!held) {
        PyErr_NoMemory();
        return NULL;
    }
    for (Py_ssize_t i = 0; i < count; i++) {
        held[i] = PySequence_Tuple(PySequence_Fast_GET_ITEM(outer, i));
        if (!held[i] || PyTuple_GET_SIZE(held[i]) != width) {
            if (held[i])
                *status = GIVE_UP;
            for (Py_ssize_t j = 0; j <= i; j++)
                Py_XDECREF(held[j]);
            PyMem_Free(held);
            return NULL;
        }
        items[i] = &PyTuple_GET_ITEM(held[i], 0);
    }
    return held;
}

static void
release(PyObject **held, Py_ssize_t count)
{
    for (Py_ssize_t i = 0; i < count; i++)
        Py_DECREF(held[i]);
    PyMem_Free(held);
}

/* encode(values, codes, cells, marker, mode): see the module's docstring below. */
static PyObject *
rowtext_encode(PyObject *module, PyObject *args)
{
    PyObject *values, *codes, *cells, *marker, *outer = NULL, **held = NULL, *result = NULL;
    PyObject ***items = NULL, *offsets = NULL;
    Py_ssize_t *ends = NULL, width, count, outer_len, inner_len;
    int mode, by_rows, status = 0;
    buf_t b = {NULL, NULL, 0, 0};
    encoder_t enc;

    if (!PyArg_ParseTuple(args, "OO!O!Ui", &values, &PyBytes_Type, &codes, &PyTuple_Type, &cells,
                          &marker, &mode))
        return NULL;
    by_rows = mode & MODE_BY_ROWS, mode &= ~MODE_BY_ROWS;
    width = PyBytes_GET_SIZE(codes);
    if (PyTuple_GET_SIZE(cells) != width || mode < MODE_RECORDS || mode > MODE_PACKED) {
        PyErr_SetString(PyExc_ValueError, "one cell function per code, and a known mode");
        return NULL;
    }
    enc.codes = (const unsigned char *)PyBytes_AS_STRING(codes);
    enc.cells = &PyTuple_GET_ITEM(cells, 0);
    enc.marker = marker;
    enc.marker_chars = PyUnicode_GET_LENGTH(marker);
    enc.marker_utf8 = PyUnicode_AsUTF8AndSize(marker, &enc.marker_len);
    if (!enc.marker_utf8 || !(outer = PySequence_Fast(values, "values must be a sequence")))
        return NULL;
    outer_len = PySequence_Fast_GET_SIZE(outer);
    if (by_rows)
        count = outer_len, inner_len = width;
    else if (outer_len != width || width == 0)
        goto give_up; /* the Python encoder says what is wrong */
    else {
        inner_len = PyObject_Length(PySequence_Fast_GET_ITEM(outer, 0));
        if (inner_len < 0)
            goto done;
        count = inner_len;
    }
    if (count == 0 || width == 0)
        goto give_up;
    items = PyMem_New(PyObject **, outer_len);
    ends = PyMem_New(Py_ssize_t, count + 1);
    if (!items || !ends) {
        PyErr_NoMemory();
        goto done;
    }
    held = gather(outer, outer_len, inner_len, items, &status);
    if (!held)
        goto failed;
    if (buf_grow(&b, count * width * 12 + 64) < 0)
        goto done;
    ends[0] = 0;
    for (Py_ssize_t r = 0; r < count; r++) {
        for (Py_ssize_t c = 0; c < width; c++) {
            PyObject *v = by_rows ? items[r][c] : items[c][r];
            if (RESERVE(&b, enc.marker_len + 2) < 0)
                goto done;
            if (c)
                b.data[b.len++] = ',';
            if (v == Py_None) {
                memcpy(b.data + b.len, enc.marker_utf8, (size_t)enc.marker_len);
                b.len += enc.marker_len;
            } else if ((status = put_checked(&enc, &b, c, v)) != 0)
                goto failed;
        }
        if (mode == MODE_LINES) {
            if (RESERVE(&b, 1) < 0)
                goto done;
            b.data[b.len++] = '\n';
        }
        ends[r + 1] = b.len;
    }
    if (mode == MODE_RECORDS) {
        result = PyList_New(count);
        for (Py_ssize_t r = 0; result && r < count; r++) {
            PyObject *record =
                PyUnicode_DecodeUTF8(b.data + ends[r], ends[r + 1] - ends[r], "strict");
            if (!record)
                Py_CLEAR(result);
            else
                PyList_SET_ITEM(result, r, record);
        }
        goto done;
    }
    if (_PyBytes_Resize(&b.bytes, b.len) < 0)
        goto done;
    if (mode == MODE_LINES) {
        result = b.bytes, b.bytes = NULL;
        goto done;
    }
    /* MODE_PACKED: the records back to back, and count + 1 int32 offsets, as Arrow packs a
     * string array (for rowhash.packed_hashed_lines). */
    if (b.len > INT32_MAX)
        goto give_up;
    offsets = PyBytes_FromStringAndSize(NULL, (count + 1) * 4);
    if (!offsets)
        goto done;
    for (Py_ssize_t r = 0; r <= count; r++) {
        int32_t end = (int32_t)ends[r];
        memcpy(PyBytes_AS_STRING(offsets) + 4 * r, &end, 4);
    }
    result = PyTuple_Pack(2, b.bytes, offsets);
    goto done;
failed:
    if (status != GIVE_UP)
        goto done;
give_up:
    result = Py_NewRef(Py_None);
done:
    Py_XDECREF(offsets);
    Py_XDECREF(b.bytes);
    if (held)
        release(held, outer_len);
    PyMem_Free(items);
    PyMem_Free(ends);
    Py_XDECREF(outer);
    return result;
}

static PyMethodDef rowtext_methods[] = {
    {"encode", rowtext_encode, METH_VARARGS,
     "encode(values, codes, cells, marker, mode) -> the CSV records of a batch, or None.\n\n"
     "values: the batch's columns (sequences of equal length), or its rows with mode | 4.\n"
     "codes: one converter code per column (exporter/canonical/rows.py); cells: a tuple of\n"
     "the columns' cell functions (cells.cell_function); marker: the null marker.\n"
     "mode 0: a list of str records; 1: bytes, each record followed by a newline; 2: (bytes of\n"
     "the records back to back, bytes of count + 1 int32 offsets).\n"
     "None: the batch must take the Python encoder (a value it refuses or decides otherwise)."},
    {"float_sum", rowsums_float_sum, METH_VARARGS,
     "float_sum(rows, position) -> (numerator, flags): the exact sum of float(v) over the\n"
     "column's values that are not None, in units of 2**-1074 over the finite ones; flags:\n"
     "1 NaN, 2 +inf, 4 -inf seen (_rowsums.c)."},
    {"int_sum", rowsums_int_sum, METH_VARARGS,
     "int_sum(rows, position) -> (total, rest): the exact sum of the column's int values\n"
     "within 64 bits, and every other value that is not None, in order (_rowsums.c)."},
    {"holds", marker_holds, METH_VARARGS,
     "holds(data, probe) -> bool: probe in data, the scan anchored on probe's first byte that\n"
     "is not a double quote (_marker.c)."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef rowtext_module = {
    PyModuleDef_HEAD_INIT, "exporter.canonical._rowtext",
    "CSV records of batches of Python rows, by cells.py's rules (see _rowtext.c).", -1,
    rowtext_methods,
};

PyMODINIT_FUNC
PyInit__rowtext(void)
{
    PyObject *decimal;

    PyDateTime_IMPORT;
    if (!PyDateTimeAPI)
        return NULL;
    decimal = PyImport_ImportModule("decimal");
    if (!decimal)
        return NULL;
    decimal_type = PyObject_GetAttrString(decimal, "Decimal");
    Py_DECREF(decimal);
    utcoffset_name = PyUnicode_InternFromString("utcoffset");
    if (!decimal_type || !utcoffset_name)
        return NULL;
    return PyModule_Create(&rowtext_module);
}
