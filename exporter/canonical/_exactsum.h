/* Exact sums in 128-bit integers, shared by two C extensions, each compiled with its own copy
 * of _exactsum.c: canonical/_rowsums.c (the workers' sums of Python rows) and
 * validation/_csvcells.c (the read-back's sums of chunk files). */
#ifndef EXPORTER_EXACTSUM_H
#define EXPORTER_EXACTSUM_H

#define PY_SSIZE_T_CLEAN
#include <Python.h>

#define EXPONENTS 2047 /* biased exponents of finite doubles: 0 (subnormal) to 2046 */

/* A signed 128-bit integer as a Python int. */
PyObject *exact_from_int128(__int128 value);
/* Add a double to `bucket` (EXPONENTS significand sums); returns 1 NaN, 2 +inf, 4 -inf, else 0. */
long exact_add_double(__int128 *bucket, double d);
/* sum(bucket[e] << (max(e, 1) - 1)): the doubles added, in units of 2**-1074, a Python int. */
PyObject *exact_scaled_total(const __int128 *bucket);

#endif
