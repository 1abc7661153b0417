/* The numeric cells and bytes of a chunk file, for the scanner of _csvscan.c.
 *
 * - Exact cells (-?[0-9]+(\.[0-9]+)?, as the writer writes them): a value of at most 38
 *   significant digits is added as an integer to the accumulator of its number of
 *   fractional digits. The 128-bit value is split as high * 2**64 + low, low in
 *   [0, 2**64), and the halves summed apart, so that 2**64 values cannot overflow.
 * - Doubles are summed exactly as float_sum.ExactFloatSum keeps them, by
 *   canonical/_exactsum.c (as the workers' sums of canonical/_rowsums.c are).
 * - UTF-8 as RFC 3629 defines it (no overlong forms, no surrogates, nothing past U+10FFFF),
 *   eight ASCII bytes at a time. https://www.rfc-editor.org/rfc/rfc3629#section-4
 */
#include "_csvscan.h"
#include "../canonical/_exactsum.h"

#include <stdlib.h>
#include <string.h>

int
csv_keep_text(Column *c, const char *text, Py_ssize_t len)
{
    if (c->texts_len + len > c->texts_cap) {
        Py_ssize_t cap = (c->texts_cap + len) * 2 + 256;
        char *grown = realloc(c->texts, (size_t)cap);
        if (!grown)
            return -1;
        c->texts = grown;
        c->texts_cap = cap;
    }
    if (c->count == c->lengths_cap) {
        Py_ssize_t cap = c->lengths_cap * 2 + 64;
        Py_ssize_t *grown = realloc(c->lengths, (size_t)cap * sizeof(Py_ssize_t));
        if (!grown)
            return -1;
        c->lengths = grown;
        c->lengths_cap = cap;
    }
    memcpy(c->texts + c->texts_len, text, (size_t)len);
    c->texts_len += len;
    c->lengths[c->count++] = len;
    return 0;
}

/* Digits from s[*i]: accumulated into *value while at most MAX_DIGITS are significant
 * (so that it stays below 10**38), eighteen at a time in 64 bits. */
static Py_ssize_t
digits_of(const char *s, Py_ssize_t n, Py_ssize_t *i, __int128 *value, Py_ssize_t *significant)
{
    static const uint64_t power[19] = {
        1ULL,
        10ULL,
        100ULL,
        1000ULL,
        10000ULL,
        100000ULL,
        1000000ULL,
        10000000ULL,
        100000000ULL,
        1000000000ULL,
        10000000000ULL,
        100000000000ULL,
        1000000000000ULL,
        10000000000000ULL,
        100000000000000ULL,
        1000000000000000ULL,
        10000000000000000ULL,
        100000000000000000ULL,
        1000000000000000000ULL,
    };
    Py_ssize_t start = *i;
    uint64_t part = 0;
    int in_part = 0;

    for (; *i < n && s[*i] >= '0' && s[*i] <= '9'; (*i)++) {
        if (*value || part || s[*i] != '0')
            (*significant)++; /* leading zeros are not */
        if (*significant > MAX_DIGITS)
            continue;
        part = part * 10 + (uint64_t)(s[*i] - '0');
        if (++in_part == 18) {
            *value = *value * (__int128)power[18] + (__int128)part;
            part = 0;
            in_part = 0;
        }
    }
    if (in_part)
        *value = *value * (__int128)power[in_part] + (__int128)part;
    return *i - start;
}

int
csv_add_exact(Column *c, const char *s, Py_ssize_t n)
{
    Py_ssize_t i = 0, significant = 0, fraction = 0;
    int negative = 0;
    __int128 value = 0;

    if (n == 3 && memcmp(s, "NaN", 3) == 0)
        return 0;
    if (i < n && s[i] == '-') {
        negative = 1;
        i++;
    }
    if (!digits_of(s, n, &i, &value, &significant))
        return -1;
    if (i < n && s[i] == '.') {
        i++;
        if (!(fraction = digits_of(s, n, &i, &value, &significant)))
            return -1;
    }
    if (i != n)
        return -1;
    if (significant > MAX_DIGITS || fraction >= SCALES)
        return 0;
    if (negative)
        value = -value;
    Accumulator *a = &c->scales[fraction];
    a->low += (uint64_t)value;
    a->high += value >> 64; /* arithmetic shift: value == high * 2**64 + low */
    a->count++;
    return 1;
}

static Py_ssize_t
skip_digits(const char *s, Py_ssize_t n, Py_ssize_t *i)
{
    Py_ssize_t start = *i;
    while (*i < n && s[*i] >= '0' && s[*i] <= '9')
        (*i)++;
    return *i - start;
}

int
csv_float_text(const char *s, Py_ssize_t n)
{
    Py_ssize_t i = 0;

    if (n == 3 && memcmp(s, "NaN", 3) == 0)
        return 1;
    if (i < n && s[i] == '-')
        i++;
    if (n - i == 8 && memcmp(s + i, "Infinity", 8) == 0)
        return 1;
    if (!skip_digits(s, n, &i))
        return 0;
    if (i < n && s[i] == '.') {
        i++;
        if (!skip_digits(s, n, &i))
            return 0;
    }
    if (i < n && s[i] == 'e') {
        i++;
        if (i < n && (s[i] == '+' || s[i] == '-'))
            i++;
        if (!skip_digits(s, n, &i))
            return 0;
    }
    return i == n;
}

void
csv_add_double(Column *c, double d)
{
    c->flags |= exact_add_double(c->bucket, d);
}

int
csv_utf8_char(const unsigned char *s, Py_ssize_t n)
{
    unsigned char c = s[0], low = 0x80, high = 0xBF;
    int need;

    if (c < 0x80)
        return 1;
    if (c >= 0xC2 && c <= 0xDF)
        need = 1;
    else if (c >= 0xE0 && c <= 0xEF) {
        need = 2;
        if (c == 0xE0)
            low = 0xA0; /* no overlong form */
        else if (c == 0xED)
            high = 0x9F; /* no surrogate */
    } else if (c >= 0xF0 && c <= 0xF4) {
        need = 3;
        if (c == 0xF0)
            low = 0x90; /* no overlong form */
        else if (c == 0xF4)
            high = 0x8F; /* nothing past U+10FFFF */
    } else {
        return 0;
    }
    for (int k = 1; k <= need; k++) {
        if (k >= n)
            return -1;
        unsigned char b = s[k];
        if (k == 1 ? b < low || b > high : b < 0x80 || b > 0xBF)
            return 0;
    }
    return need + 1;
}

int
csv_utf8_check(const unsigned char *s, Py_ssize_t n, Py_ssize_t *tail)
{
    Py_ssize_t i = 0;

    *tail = 0;
    while (i < n) {
        if (n - i >= 8) {
            uint64_t word;
            memcpy(&word, s + i, 8);
            if (!(word & UINT64_C(0x8080808080808080))) {
                i += 8;
                continue;
            }
        }
        int len = csv_utf8_char(s + i, n - i);
        if (len == 0)
            return 0;
        if (len < 0) {
            *tail = n - i;
            return 1;
        }
        i += len;
    }
    return 1;
}

/* high * 2**64 + low as a Python int: ((high + (low >> 64)) << 64) + (low & (2**64 - 1)). */
static PyObject *
accumulated(const Accumulator *a)
{
    PyObject *high = exact_from_int128(a->high);
    PyObject *carry = PyLong_FromUnsignedLongLong((unsigned long long)(a->low >> 64));
    PyObject *rest = PyLong_FromUnsignedLongLong((unsigned long long)(uint64_t)a->low);
    PyObject *shift = PyLong_FromLong(64);
    PyObject *upper = NULL, *shifted = NULL, *result = NULL;

    if (high && carry && rest && shift && (upper = PyNumber_Add(high, carry)) &&
        (shifted = PyNumber_Lshift(upper, shift)))
        result = PyNumber_Add(shifted, rest);
    Py_XDECREF(high);
    Py_XDECREF(carry);
    Py_XDECREF(rest);
    Py_XDECREF(shift);
    Py_XDECREF(upper);
    Py_XDECREF(shifted);
    return result;
}

PyObject *
csv_exact_parts(const Column *c)
{
    PyObject *parts = PyList_New(0);

    for (int s = 0; parts && s < SCALES; s++) {
        if (!c->scales[s].count)
            continue;
        PyObject *total = accumulated(&c->scales[s]);
        PyObject *pair = total ? Py_BuildValue("(iN)", s, total) : NULL;
        if (!pair || PyList_Append(parts, pair) < 0)
            Py_CLEAR(parts);
        Py_XDECREF(pair);
    }
    return parts;
}

PyObject *
csv_float_total(const Column *c)
{
    PyObject *total = exact_scaled_total(c->bucket);
    return total ? Py_BuildValue("(Nl)", total, c->flags) : NULL;
}
