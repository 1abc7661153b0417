/* Exact sums of doubles and 128-bit integers as Python ints (_exactsum.h).
 *
 * A finite double is (-1)**s * m * 2**(max(e, 1) - 1075), m its 53-bit significand (with the
 * implicit 1 when e > 0), so in units of 2**-1074 it is m << (max(e, 1) - 1): the
 * significands are added per biased exponent in 128-bit integers (exact below 2**74
 * values) and only the per-exponent sums become Python integers, the integer that
 * validation/float_sum.ExactFloatSum keeps.
 */
#include "_exactsum.h"

#include <stdint.h>
#include <string.h>

PyObject *
exact_from_int128(__int128 value)
{
    PyObject *high = PyLong_FromLongLong((long long)(value >> 64));
    PyObject *low = PyLong_FromUnsignedLongLong((unsigned long long)(uint64_t)value);
    PyObject *shift = PyLong_FromLong(64);
    PyObject *shifted = NULL, *result = NULL;

    if (high && low && shift && (shifted = PyNumber_Lshift(high, shift)))
        result = PyNumber_Add(shifted, low);
    Py_XDECREF(high);
    Py_XDECREF(low);
    Py_XDECREF(shift);
    Py_XDECREF(shifted);
    return result;
}

long
exact_add_double(__int128 *bucket, double d)
{
    uint64_t bits;
    memcpy(&bits, &d, sizeof bits);
    int exponent = (int)((bits >> 52) & 0x7FF);
    uint64_t significand = bits & ((UINT64_C(1) << 52) - 1);
    int negative = (int)(bits >> 63);
    if (exponent == 0x7FF)
        return significand ? 1 : negative ? 4 : 2;
    if (exponent > 0)
        significand |= UINT64_C(1) << 52;
    /* A subnormal (exponent 0) is in units of 2**-1074 already: the bucket of shift 0. */
    bucket[exponent] += negative ? -(__int128)significand : (__int128)significand;
    return 0;
}

PyObject *
exact_scaled_total(const __int128 *bucket)
{
    PyObject *total = PyLong_FromLong(0);

    for (int e = 0; total && e < EXPONENTS; e++) {
        if (!bucket[e])
            continue;
        PyObject *part = exact_from_int128(bucket[e]);
        PyObject *shift = PyLong_FromLong(e > 0 ? e - 1 : 0);
        PyObject *term = part && shift ? PyNumber_Lshift(part, shift) : NULL;
        PyObject *sum = term ? PyNumber_Add(total, term) : NULL;
        Py_XDECREF(part);
        Py_XDECREF(shift);
        Py_XDECREF(term);
        Py_DECREF(total);
        total = sum;
    }
    return total;
}
