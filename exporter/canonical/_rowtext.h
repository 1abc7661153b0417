/* Shared by _rowtext.c (rows -> records, the Python module) and _celltext.c (one value's text):
 * the output buffer and the cell writers. */
#ifndef EXPORTER_ROWTEXT_H
#define EXPORTER_ROWTEXT_H

#define PY_SSIZE_T_CLEAN
#include <Python.h>

/* Returned by a writer when the batch must take the Python encoder (no exception set). */
#define GIVE_UP 1
/* Returned by put_float for a double whose shortest digits lie halfway between it and a
 * neighbour: cells.py finds other digits for it, in Python. */
#define HALFWAY 2

#define MAX_FRACTION_DIGITS 38     /* cells.MAX_FRACTION_DIGITS: BIGNUMERIC's scale */
#define SAFE_INTEGER_DIGITS 38     /* cells.SAFE_INTEGER_DIGITS: written without a closer look */
#define FLOAT_TEXT_MAX 32          /* "-1.2345678901234567e-308" and then some */
#define US_PER_DAY 86400000000LL

/* The output: a bytes object grown as needed (so that the finished batch is not copied). */
typedef struct {
    PyObject *bytes;
    char *data;
    Py_ssize_t len, cap;
} buf_t;

int buf_grow(buf_t *b, Py_ssize_t more);
#define RESERVE(b, n) ((b)->len + (n) <= (b)->cap ? 0 : buf_grow((b), (n)))

/* Writers of fixed-width text: each writes at `p` (room reserved by the caller) and returns
 * the end of what it wrote. */
char *put_i64(char *p, long long v);
char *put_ymd(char *p, int year, int month, int day);
char *put_hms(char *p, int hour, int minute, int second, int microsecond);
char *put_datetime(char *p, int year, int month, int day, int hour, int minute, int second,
                   int microsecond);

/* Writers that reserve their own room: 0, GIVE_UP or HALFWAY, or -1 with an exception set. */
int put_float(buf_t *b, double value); /* FLOAT_TEXT_MAX reserved by the caller */
int put_base64(buf_t *b, const unsigned char *data, Py_ssize_t len);
int put_quoted(buf_t *b, PyObject *text);
int put_int(buf_t *b, PyObject *value);
/* Through the column's cell function (cells.cell_function): its text, copied; a Decimal
 * takes it when its str() has an exponent or is not a number. */
int put_by_cell_function(buf_t *b, PyObject *cell, PyObject *value);
int put_decimal(buf_t *b, PyObject *cell, PyObject *value);
int put_decimal_int(buf_t *b, PyObject *cell, PyObject *value);

/* A local date-time less `offset` microseconds (less than a day), in place; -1 when the
 * result leaves years 1-9999. */
int shift_utc(int *year, int *month, int *day, int *hour, int *minute, int *second,
              int *microsecond, long long offset);

/* _rowsums.c: exact sums of one numeric column of a batch of rows (validation/sums.py). */
PyObject *rowsums_float_sum(PyObject *module, PyObject *args);
PyObject *rowsums_int_sum(PyObject *module, PyObject *args);

/* _marker.c: whether bytes hold a byte string, fast where its anchor byte is rare. */
PyObject *marker_holds(PyObject *module, PyObject *args);

#endif
