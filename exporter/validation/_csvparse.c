/* The CSV state machine of the chunk-file scanner (_csvscan.c is its Python type).
 *
 * Records are the writer's CSV (docs/FORMAT.md): fields separated by ',', records ended by
 * '\n', a field either unquoted or quoted with '"' and its quotes doubled; a quoted field may
 * hold ',' and line breaks. What the writer never writes is refused: a quote inside an
 * unquoted field, text after a closing quote, a '\r' outside quotes, a quoted number. Every
 * record must have `width` fields (a blank line is a record of one empty field). The cells
 * of numeric columns are kept (at most CELL_MAX bytes) and handed to _csvcells.c at the end
 * of their field. Bytes may be cut anywhere between calls: the state carries over.
 */
#include "_csvscan.h"

#include <stdlib.h>
#include <string.h>
#ifdef __SSE2__
#include <emmintrin.h>
#endif

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

/* The end of a record, `at` bytes into the data (just after its '\n'). */
static void
end_record(Scanner *self, long long at)
{
    if (self->field != self->width && !self->failure) {
        self->failure = FAIL_FIELDS;
        self->failure_detail = self->field;
        return;
    }
    if (at - self->record_start > self->max_record) {
        self->failure = FAIL_TOO_LONG;
        return;
    }
    self->record_start = at;
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

/* A ',' ends the field, a '\n' the record too: 1; anything else is not a separator: 0.
 * `at`: how many bytes of the data are read with `c`. */
static int
separator(Scanner *self, unsigned char c, long long at)
{
    if (c != ',' && c != '\n')
        return 0;
    end_field(self);
    if (c == '\n')
        end_record(self, at);
    self->state = FIELD_START;
    return 1;
}

void
csv_scan(Scanner *self, const unsigned char *p, const unsigned char *end)
{
    const unsigned char *first = p;
    long long base = self->offset;

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
            } else if (!separator(self, c, base + (p - first))) {
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
            if (!separator(self, c, base + (p - first)))
                self->failure = c == '"' ? FAIL_QUOTE : FAIL_CR;
            break;
        }
        }
    }
    self->offset = base + (end - first);
    if (!self->failure && self->offset - self->record_start > self->max_record)
        self->failure = FAIL_TOO_LONG; /* said now, not when (if ever) the record ends */
}

/* Check a block as UTF-8, with the character cut at the end of the previous one. */
void
csv_check_utf8(Scanner *self, const unsigned char *data, Py_ssize_t n)
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

void
csv_end_of_file(Scanner *self)
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
            end_record(self, self->offset);
        self->state = FIELD_START;
    }
}

void
csv_parse_init(void)
{
    special[','] = special['\n'] = special['"'] = special['\r'] = 1;
}
