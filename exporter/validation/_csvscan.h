/* Shared by the chunk-file scanner's three sources: _csvscan.c (its Python type),
 * _csvparse.c (the CSV state machine) and _csvcells.c (numeric cells, UTF-8, and the sums as
 * Python integers). */
#ifndef EXPORTER_CSVSCAN_H
#define EXPORTER_CSVSCAN_H

#define PY_SSIZE_T_CLEAN
#include <Python.h>

#include <locale.h>
#include <stdint.h>

#include "../canonical/_exactsum.h" /* EXPONENTS */

#define SCALES 39      /* fractional digits of an exact cell summed in C: 0 to 38 */
#define MAX_DIGITS 38  /* 10**38 < 2**127: any 38-digit integer fits a signed 128-bit one */

enum mode { SKIP = 0, EXACT = 1, FLOAT = 2 };

typedef struct {
    unsigned __int128 low; /* sum of each value's low 64 bits (as unsigned) */
    __int128 high;         /* sum of the rest (value >> 64, signed) */
    int64_t count;
} Accumulator;

typedef struct {
    int mode;
    Accumulator *scales; /* EXACT: by number of fractional digits */
    __int128 *bucket;    /* FLOAT: significands by biased exponent */
    long flags;          /* FLOAT: 1 NaN, 2 +inf, 4 -inf seen */
    char *texts;         /* EXACT cells left to Python, back to back */
    Py_ssize_t *lengths;
    Py_ssize_t texts_len, texts_cap, count, lengths_cap;
} Column;

/* Keep a cell for Python: 0, or -1 when out of memory. No GIL needed. */
int csv_keep_text(Column *c, const char *text, Py_ssize_t len);
/* An exact cell: 1 summed, 0 to be left to Python, -1 not a number as the writer writes. */
int csv_add_exact(Column *c, const char *s, Py_ssize_t n);
/* Whether s[0:n] is a double as the writer writes it. */
int csv_float_text(const char *s, Py_ssize_t n);
/* Add a double to a float column's exact sum. */
void csv_add_double(Column *c, double d);
/* Length of the UTF-8 character at s (n bytes there): 1-4, 0 if invalid, -1 if cut short. */
int csv_utf8_char(const unsigned char *s, Py_ssize_t n);
/* Whether s[0:n] is UTF-8 but for a character cut at the end, whose length goes to *tail. */
int csv_utf8_check(const unsigned char *s, Py_ssize_t n, Py_ssize_t *tail);
/* [(fractional digits, integer sum), ...] over the accumulators that took a value. */
PyObject *csv_exact_parts(const Column *c);
/* (numerator in units of 2**-1074, flags), as float_sum.ExactFloatSum.add_scaled takes. */
PyObject *csv_float_total(const Column *c);

/* The scanner: _csvparse.c moves it through the bytes, _csvscan.c is its Python type. */
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
    FAIL_UTF8,
    FAIL_TOO_LONG
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
    long long offset;       /* bytes scanned so far */
    long long record_start; /* where the record being read began */
    long long max_record;   /* the longest record taken, in bytes */
    unsigned char utf8_carry[4]; /* a character cut at the end of the last block */
    Py_ssize_t utf8_carry_len;
    locale_t c_locale;
} Scanner;

/* Set up the parser's tables (once, at import). */
void csv_parse_init(void);
/* Check a block as UTF-8, with the character cut at the end of the previous one. */
void csv_check_utf8(Scanner *self, const unsigned char *data, Py_ssize_t n);
/* Scan bytes; stops at the first failure (self->failure). The GIL is not needed. */
void csv_scan(Scanner *self, const unsigned char *p, const unsigned char *end);
/* The end of the file: a last record without its line break counts, as Arrow counts it. */
void csv_end_of_file(Scanner *self);

#endif
