/* One value's CSV text, in C: the scalar writers of _rowtext.c (see there, and the rules of
 * exporter/canonical/cells.py, which each writer follows and names).
 */
#include "_rowtext.h"

#include <float.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int
buf_grow(buf_t *b, Py_ssize_t more)
{
    Py_ssize_t cap = b->cap ? b->cap : 4096;
    while (cap - b->len < more) {
        if (cap > PY_SSIZE_T_MAX / 2) {
            PyErr_NoMemory();
            return -1;
        }
        cap *= 2;
    }
    if (!b->bytes)
        b->bytes = PyBytes_FromStringAndSize(NULL, cap);
    else if (_PyBytes_Resize(&b->bytes, cap) < 0)
        b->bytes = NULL; /* _PyBytes_Resize freed it */
    if (!b->bytes)
        return -1;
    b->data = PyBytes_AS_STRING(b->bytes);
    b->cap = cap;
    return 0;
}

static const char two_digits[] =
    "00010203040506070809101112131415161718192021222324252627282930313233343536373839"
    "40414243444546474849505152535455565758596061626364656667686970717273747576777879"
    "8081828384858687888990919293949596979899";

static inline char *
put2(char *p, int v)
{
    memcpy(p, two_digits + 2 * v, 2);
    return p + 2;
}

char *
put_i64(char *p, long long v)
{
    char tmp[24];
    int n = 0;
    /* Unsigned, so that the most negative value has a magnitude too. */
    unsigned long long u = v < 0 ? 0ULL - (unsigned long long)v : (unsigned long long)v;
    if (v < 0)
        *p++ = '-';
    do {
        tmp[n++] = (char)('0' + u % 10);
        u /= 10;
    } while (u);
    while (n)
        *p++ = tmp[--n];
    return p;
}

/* date.isoformat(): the year zero-padded to four digits (datetime holds years 1-9999). */
char *
put_ymd(char *p, int year, int month, int day)
{
    p = put2(p, year / 100);
    p = put2(p, year % 100);
    *p++ = '-';
    p = put2(p, month);
    *p++ = '-';
    return put2(p, day);
}

/* time.isoformat() with the trailing zeros of the fraction dropped (PostgreSQL's text). */
char *
put_hms(char *p, int hour, int minute, int second, int microsecond)
{
    p = put2(p, hour);
    *p++ = ':';
    p = put2(p, minute);
    *p++ = ':';
    p = put2(p, second);
    if (microsecond) {
        int digits = 6;
        while (microsecond % 10 == 0)
            microsecond /= 10, digits--;
        *p++ = '.';
        for (int i = digits - 1; i >= 0; i--, microsecond /= 10)
            p[i] = (char)('0' + microsecond % 10);
        p += digits;
    }
    return p;
}

char *
put_datetime(char *p, int year, int month, int day, int hour, int minute, int second,
             int microsecond)
{
    p = put_ymd(p, year, month, day);
    *p++ = ' ';
    return put_hms(p, hour, minute, second, microsecond);
}

/* Proleptic Gregorian day numbers, day 1 = 0001-01-01, as CPython's datetime counts them. */
static const int days_before_month[] = {0, 0, 31, 59, 90, 120, 151, 181, 212, 243, 273, 304, 334};

static int
is_leap(int year)
{
    return year % 4 == 0 && (year % 100 != 0 || year % 400 == 0);
}

static long long
ymd_to_ordinal(int year, int month, int day)
{
    long long y = year - 1;
    return y * 365 + y / 4 - y / 100 + y / 400 + days_before_month[month] +
           (month > 2 && is_leap(year)) + day;
}

static void
ordinal_to_ymd(long long ordinal, int *year, int *month, int *day)
{
    long long n = ordinal - 1;
    long long n400 = n / 146097, n100, n4, n1;
    n %= 146097;
    n100 = n / 36524, n %= 36524;
    n4 = n / 1461, n %= 1461;
    n1 = n / 365, n %= 365;
    *year = (int)(n400 * 400 + n100 * 100 + n4 * 4 + n1 + 1);
    if (n1 == 4 || n100 == 4) { /* the last day of a leap year */
        *year -= 1, *month = 12, *day = 31;
        return;
    }
    int leap = n1 == 3 && (n4 != 24 || n100 == 3), m = (int)((n + 50) >> 5);
    int preceding = days_before_month[m] + (m > 2 && leap);
    if (preceding > n) {
        m -= 1;
        preceding = days_before_month[m] + (m > 2 && leap);
    }
    *month = m;
    *day = (int)(n - preceding + 1);
}

int
shift_utc(int *year, int *month, int *day, int *hour, int *minute, int *second,
          int *microsecond, long long offset)
{
    long long ordinal = ymd_to_ordinal(*year, *month, *day);
    long long clock = ((*hour * 60LL + *minute) * 60 + *second) * 1000000LL + *microsecond;
    long long total = clock - offset; /* within two days of the date: no overflow */
    while (total < 0)
        total += US_PER_DAY, ordinal--;
    while (total >= US_PER_DAY)
        total -= US_PER_DAY, ordinal++;
    if (ordinal < 1 || ordinal > 3652059) /* 0001-01-01 .. 9999-12-31 */
        return -1;
    ordinal_to_ymd(ordinal, year, month, day);
    *microsecond = (int)(total % 1000000), total /= 1000000;
    *second = (int)(total % 60), total /= 60;
    *minute = (int)(total % 60);
    *hour = (int)(total / 60);
    return 0;
}

/* A value whose text cells.py decides: its cell function's text (already quoted for text
 * kinds), copied. */
int
put_by_cell_function(buf_t *b, PyObject *cell, PyObject *value)
{
    PyObject *text = PyObject_CallOneArg(cell, value);
    Py_ssize_t len;
    const char *utf8;
    int rc = -1;

    if (!text)
        return -1;
    if (!PyUnicode_Check(text)) {
        Py_DECREF(text);
        return GIVE_UP;
    }
    utf8 = PyUnicode_AsUTF8AndSize(text, &len); /* fails on a lone surrogate */
    if (utf8 && RESERVE(b, len) == 0) {
        memcpy(b->data + b->len, utf8, (size_t)len);
        b->len += len;
        rc = 0;
    }
    Py_DECREF(text);
    return rc;
}

/* A Decimal: str() is format(v, "f") unless it has an exponent or is not finite, which the
 * cell function handles (or refuses); so does it a value of more than 38 fractional digits
 * (which fails the table) or integer digits (which fails it beyond BIGNUMERIC's range). */
int
put_decimal(buf_t *b, PyObject *cell, PyObject *value)
{
    PyObject *text = PyObject_Str(value);
    Py_ssize_t len, fraction = -1, integer;
    const char *p;

    if (!text)
        return -1;
    if (!PyUnicode_IS_ASCII(text)) {
        Py_DECREF(text);
        return put_by_cell_function(b, cell, value);
    }
    p = (const char *)PyUnicode_DATA(text);
    len = PyUnicode_GET_LENGTH(text);
    for (Py_ssize_t i = 0; i < len; i++) {
        char ch = p[i];
        if (ch == '.')
            fraction = len - i - 1;
        else if (!((ch >= '0' && ch <= '9') || (ch == '-' && i == 0))) {
            Py_DECREF(text); /* "1E+3", "NaN", "Infinity" */
            return put_by_cell_function(b, cell, value);
        }
    }
    integer = (fraction < 0 ? len : len - fraction - 1) - (p[0] == '-');
    if (fraction > MAX_FRACTION_DIGITS || integer > SAFE_INTEGER_DIGITS) {
        Py_DECREF(text);
        return put_by_cell_function(b, cell, value);
    }
    if (RESERVE(b, len) < 0) {
        Py_DECREF(text);
        return -1;
    }
    memcpy(b->data + b->len, p, (size_t)len);
    b->len += len;
    Py_DECREF(text);
    return 0;
}

/* An int in a DECIMAL column: its digits within 64 bits; a larger one is the cell
 * function's, which refuses it beyond BIGNUMERIC's range. */
int
put_decimal_int(buf_t *b, PyObject *cell, PyObject *value)
{
    int overflow;
    long long v = PyLong_AsLongLongAndOverflow(value, &overflow);
    if (v == -1 && PyErr_Occurred())
        return -1;
    if (overflow)
        return put_by_cell_function(b, cell, value);
    if (RESERVE(b, 24) < 0)
        return -1;
    b->len = put_i64(b->data + b->len, v) - b->data;
    return 0;
}

/* An int: its digits (str() beyond 64 bits). */
int
put_int(buf_t *b, PyObject *value)
{
    int overflow;
    long long v = PyLong_AsLongLongAndOverflow(value, &overflow);
    if (v == -1 && PyErr_Occurred())
        return -1;
    if (!overflow) {
        if (RESERVE(b, 24) < 0)
            return -1;
        b->len = put_i64(b->data + b->len, v) - b->data;
        return 0;
    }
    PyObject *text = PyObject_Str(value); /* raises beyond sys.get_int_max_str_digits() */
    if (!text)
        return -1;
    Py_ssize_t len = PyUnicode_GET_LENGTH(text);
    int rc = RESERVE(b, len);
    if (rc == 0) {
        memcpy(b->data + b->len, PyUnicode_DATA(text), (size_t)len);
        b->len += len;
    }
    Py_DECREF(text);
    return rc;
}

int
put_base64(buf_t *b, const unsigned char *data, Py_ssize_t len)
{
    static const char alphabet[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    Py_ssize_t i = 0;
    if (RESERVE(b, (len + 2) / 3 * 4) < 0)
        return -1;
    char *p = b->data + b->len;
    for (; i + 3 <= len; i += 3) {
        uint32_t v = (uint32_t)data[i] << 16 | (uint32_t)data[i + 1] << 8 | data[i + 2];
        *p++ = alphabet[v >> 18], *p++ = alphabet[(v >> 12) & 63];
        *p++ = alphabet[(v >> 6) & 63], *p++ = alphabet[v & 63];
    }
    if (i < len) {
        uint32_t v = (uint32_t)data[i] << 16 | (i + 1 < len ? (uint32_t)data[i + 1] << 8 : 0);
        *p++ = alphabet[v >> 18], *p++ = alphabet[(v >> 12) & 63];
        *p++ = i + 1 < len ? alphabet[(v >> 6) & 63] : '=';
        *p++ = '=';
    }
    b->len = p - b->data;
    return 0;
}

/* cells.quote_text, encoded to UTF-8: '"' + text with '"' doubled + '"'. A lone surrogate
 * (which has no UTF-8) gives up: the Python encoder writes the record, and encoding it fails
 * where it would (rowhash.csv_lines). */
int
put_quoted(buf_t *b, PyObject *text)
{
#if PY_VERSION_HEX < 0x030C0000
    if (PyUnicode_READY(text) < 0)
        return -1;
#endif
    Py_ssize_t n = PyUnicode_GET_LENGTH(text);
    int kind = PyUnicode_KIND(text);
    const void *data = PyUnicode_DATA(text);

    if (RESERVE(b, 2 + (PyUnicode_IS_ASCII(text) ? 2 : 4) * n) < 0)
        return -1;
    char *p = b->data + b->len;
    *p++ = '"';
    if (PyUnicode_IS_ASCII(text)) {
        const char *s = (const char *)data, *end = s + n;
        while (s < end) {
            const char *quote = memchr(s, '"', (size_t)(end - s));
            const char *stop = quote ? quote + 1 : end;
            memcpy(p, s, (size_t)(stop - s));
            p += stop - s;
            if (quote)
                *p++ = '"';
            s = stop;
        }
    } else {
        for (Py_ssize_t i = 0; i < n; i++) {
            Py_UCS4 c = PyUnicode_READ(kind, data, i);
            if (c < 0x80) {
                *p++ = (char)c;
                if (c == '"')
                    *p++ = '"';
            } else if (c < 0x800) {
                *p++ = (char)(0xC0 | c >> 6), *p++ = (char)(0x80 | (c & 0x3F));
            } else if (c >= 0xD800 && c <= 0xDFFF) {
                return GIVE_UP;
            } else if (c < 0x10000) {
                *p++ = (char)(0xE0 | c >> 12), *p++ = (char)(0x80 | ((c >> 6) & 0x3F));
                *p++ = (char)(0x80 | (c & 0x3F));
            } else {
                *p++ = (char)(0xF0 | c >> 18), *p++ = (char)(0x80 | ((c >> 12) & 0x3F));
                *p++ = (char)(0x80 | ((c >> 6) & 0x3F)), *p++ = (char)(0x80 | (c & 0x3F));
            }
        }
    }
    *p++ = '"';
    b->len = p - b->data;
    return 0;
}
