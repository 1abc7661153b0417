/* Exact sums of one numeric column of a batch of Python rows, in C (validation/sums.py).
 *
 * The rows path's worker sums every numeric column it writes, for validation to compare
 * with the file read back. In Python that was the largest part of the path's own time after
 * the encoding moved to C: about 1 us a double (math.fsum repeated until the remainder is
 * zero) and 0.3 us an integer, some 4 s of 14 on the 3M-row benchmark table
 * (docs/BENCHMARKS.md). Here:
 *
 * - float_sum(rows, position): the exact sum of float(v) for every v that is not None, as
 *   (numerator, flags): numerator in units of 2**-1074 over the finite values, which is what
 *   float_sum.ExactFloatSum keeps (the same integer as the sum of its `scaled(v)`), and flags
 *   1 NaN, 2 +inf, 4 -inf seen. A finite double is (-1)**s * m * 2**(max(e, 1) - 1075), m its
 *   53-bit significand (with the implicit 1 when e > 0), so in those units it is
 *   m << (max(e, 1) - 1): the significands are added per biased exponent in 128-bit integers
 *   (exact below 2**74 values a call) and only the per-exponent sums become Python integers.
 * - int_sum(rows, position): (total, rest): the exact sum of the values that are Python ints
 *   within 64 bits (added in a 128-bit integer), and the list of every other value that is
 *   not None (Decimal, a larger int, text), in order, for Python to add exactly.
 *
 * A value float() refuses raises its own exception, as the Python code's float(v) would.
 * The GIL is held throughout (every value is a Python object).
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>

#include <stdint.h>
#include <string.h>

#include "_exactsum.h"
#include "_rowtext.h"

/* The value at `position` of one row: a new reference, or NULL with an exception set. */
static PyObject *
item_of(PyObject *row, Py_ssize_t position)
{
    if (PyTuple_CheckExact(row)) {
        if (position >= PyTuple_GET_SIZE(row)) {
            PyErr_SetString(PyExc_IndexError, "row shorter than the column's position");
            return NULL;
        }
        PyObject *item = PyTuple_GET_ITEM(row, position);
        Py_INCREF(item);
        return item;
    }
    return PySequence_GetItem(row, position);
}

PyObject *
rowsums_float_sum(PyObject *module, PyObject *args)
{
    PyObject *rows, *seq;
    Py_ssize_t position;
    __int128 *bucket;
    long flags = 0;

    if (!PyArg_ParseTuple(args, "On:float_sum", &rows, &position))
        return NULL;
    if (!(seq = PySequence_Fast(rows, "rows must be a sequence")))
        return NULL;
    if (!(bucket = PyMem_Calloc(EXPONENTS, sizeof(__int128)))) {
        Py_DECREF(seq);
        return PyErr_NoMemory();
    }
    Py_ssize_t count = PySequence_Fast_GET_SIZE(seq);
    PyObject **items = PySequence_Fast_ITEMS(seq);
    for (Py_ssize_t i = 0; i < count; i++) {
        PyObject *value = item_of(items[i], position);
        double d;
        if (!value)
            goto fail;
        if (value == Py_None) {
            Py_DECREF(value);
            continue;
        }
        if (PyFloat_CheckExact(value)) {
            d = PyFloat_AS_DOUBLE(value);
        } else { /* float(value), as the Python code does: Decimal, int, text... */
            PyObject *as_float = PyObject_CallOneArg((PyObject *)&PyFloat_Type, value);
            if (!as_float) {
                Py_DECREF(value);
                goto fail;
            }
            d = PyFloat_AS_DOUBLE(as_float);
            Py_DECREF(as_float);
        }
        Py_DECREF(value);
        flags |= exact_add_double(bucket, d);
    }
    Py_DECREF(seq);
    PyObject *numerator = exact_scaled_total(bucket);
    PyMem_Free(bucket);
    if (!numerator)
        return NULL;
    return Py_BuildValue("(Nl)", numerator, flags);
fail:
    Py_DECREF(seq);
    PyMem_Free(bucket);
    return NULL;
}

PyObject *
rowsums_int_sum(PyObject *module, PyObject *args)
{
    PyObject *rows, *seq, *rest;
    Py_ssize_t position;
    __int128 total = 0;

    if (!PyArg_ParseTuple(args, "On:int_sum", &rows, &position))
        return NULL;
    if (!(seq = PySequence_Fast(rows, "rows must be a sequence")))
        return NULL;
    if (!(rest = PyList_New(0))) {
        Py_DECREF(seq);
        return NULL;
    }
    Py_ssize_t count = PySequence_Fast_GET_SIZE(seq);
    PyObject **items = PySequence_Fast_ITEMS(seq);
    for (Py_ssize_t i = 0; i < count; i++) {
        PyObject *value = item_of(items[i], position);
        if (!value)
            goto fail;
        if (value == Py_None) {
            Py_DECREF(value);
            continue;
        }
        if (PyLong_Check(value)) {
            int overflow = 0;
            long long v = PyLong_AsLongLongAndOverflow(value, &overflow);
            if (!overflow && !(v == -1 && PyErr_Occurred())) {
                total += v; /* at most 2**63 a value: no batch overflows 128 bits */
                Py_DECREF(value);
                continue;
            }
            PyErr_Clear();
        }
        int failed = PyList_Append(rest, value);
        Py_DECREF(value);
        if (failed)
            goto fail;
    }
    Py_DECREF(seq);
    PyObject *sum = exact_from_int128(total);
    if (!sum) {
        Py_DECREF(rest);
        return NULL;
    }
    return Py_BuildValue("(NN)", sum, rest);
fail:
    Py_DECREF(seq);
    Py_DECREF(rest);
    return NULL;
}
