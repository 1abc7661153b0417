/* A double's CSV text, in C: cells.format_float (see there, and _rowtext.c).
 *
 * cells.format_float writes repr()'s shortest round-trip digits in PostgreSQL's layout, except
 * where those digits lie exactly halfway between the double and a neighbour (a "tie", which
 * repr accepts and PostgreSQL's Ryu never prints): then the shortest decimal strictly inside
 * the rounding interval. Both cases are one rule: the decimal with the fewest significant
 * digits strictly between the midpoints to the two neighbouring doubles, and of those the
 * nearest to the double (never two equally near: see shortest_inside).
 *
 * Python's repr computes its digits with David Gay's dtoa on big integers, about 0.5 us for
 * doubles of wide exponents. shortest_inside finds the same digits with 128- and 192-bit
 * integer arithmetic, exactly, for doubles from 2**-70 to 2**127 (about 8e-22 to 1.7e38);
 * outside that range (and without a 128-bit integer type) the digits come from repr's own
 * code, PyOS_double_to_string, with cells.py's tie check (is_halfway).
 */
#include "_rowtext.h"

#include <float.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#ifdef __SIZEOF_INT128__
typedef unsigned __int128 u128;

/* floor(a * 10**s / 2**t) for a < 2**60, s <= 38, 1 <= t < 192, and whether it is exact. */
static uint64_t
scale_down(uint64_t a, u128 ten_s, int t, int *exact)
{
    u128 lo = (u128)a * (uint64_t)ten_s, hi = (u128)a * (uint64_t)(ten_s >> 64);
    uint64_t r0 = (uint64_t)lo, r1 = (uint64_t)(lo >> 64), r2 = (uint64_t)(hi >> 64);
    r1 += (uint64_t)hi;
    r2 += r1 < (uint64_t)hi; /* the carry */
    /* The 192-bit r2:r1:r0 shifted right by t; the callers' values keep the result < 2**64. */
    uint64_t q, dropped;
    if (t < 64) {
        q = (r0 >> t) | (r1 << (64 - t));
        dropped = r0 << (64 - t);
    } else if (t == 64) {
        q = r1, dropped = r0;
    } else if (t < 128) {
        q = (r1 >> (t - 64)) | (r2 << (128 - t));
        dropped = r0 | (r1 << (128 - t));
    } else if (t == 128) {
        q = r2, dropped = r0 | r1;
    } else {
        q = r2 >> (t - 128);
        dropped = r0 | r1 | (r2 << (192 - t));
    }
    *exact = dropped == 0;
    return q;
}

/* The double's interval ends and itself at a scale of 10**q: floor(v * 2**e2 / 10**q) for v
 * in (low, value, high), where low and high are the midpoints to the neighbours in units of
 * 2**e2; `*top` is the largest integer strictly below high's. 0, or 1 outside the range. */
static int
at_scale(uint64_t low, uint64_t value, uint64_t high, int e2, int q, uint64_t *vm,
         uint64_t *vr, uint64_t *top, int *vr_exact)
{
    static u128 powers[39];
    int exact;
    if (!powers[0]) {
        powers[0] = 1;
        for (int i = 1; i < 39; i++)
            powers[i] = powers[i - 1] * 10;
    }
    if (q < 0 && e2 < 0) { /* (v * 10**-q) / 2**-e2 */
        if (-q > 38 || -e2 >= 192)
            return 1;
        *vm = scale_down(low, powers[-q], -e2, &exact);
        *vr = scale_down(value, powers[-q], -e2, vr_exact);
        *top = scale_down(high, powers[-q], -e2, &exact);
        *top -= exact;
        return 0;
    }
    if (q < 0) { /* e2 >= 0: integers, v * 10**-q * 2**e2 */
        if (-q > 3 || e2 > 4)
            return 1;
        u128 f = powers[-q] << e2;
        *vm = (uint64_t)(low * f), *vr = (uint64_t)(value * f), *top = (uint64_t)(high * f) - 1;
        *vr_exact = 1;
        return 0;
    }
    /* q >= 0 and e2 >= q: (v * 2**(e2 - q)) / 5**q */
    if (e2 - q > 66 || q > 27)
        return 1;
    u128 five = powers[q] >> q, l = (u128)low << (e2 - q), v = (u128)value << (e2 - q);
    u128 h = ((u128)high << (e2 - q)) - 1;
    *vm = (uint64_t)(l / five), *vr = (uint64_t)(v / five), *top = (uint64_t)(h / five);
    *vr_exact = v % five == 0;
    return 0;
}

/* The fewest significant digits strictly inside the rounding interval of `value` (finite,
 * positive), the nearest of them to it: `*digits` * 10**`*power`. 0, or 1 where the value
 * lies outside the range this arithmetic covers (or, which the reasoning below excludes,
 * two candidates were equally near).
 *
 * In units of 2**e2 (e2 = the double's exponent less 2) the double is 4m, its neighbours'
 * midpoints 4m - 2 (4m - 1 below a power of two, whose lower neighbour is half as far) and
 * 4m + 2. At a scale 10**q a little finer than the interval, vm = floor(low), top = the
 * largest integer below high, vr = floor(value); a multiple of 10**j (j >= q) lies strictly
 * inside exactly when top / 10**(j-q) > vm / 10**(j-q). Digits are dropped while that holds;
 * the last drop leaves the largest j, and vr rounded (by the dropped digits) is the nearest
 * multiple, kept inside [vm + 1, top]. Two multiples equally near would put the value at
 * (c + 1/2) * 10**j with 10**j below the interval's width, 2**(e2 + 2): its powers of two
 * (at least e2 + 2 in 4m * 2**e2, exactly j - 1 on the other side) cannot agree. */
static int
shortest_inside(double value, uint64_t *digits, int *power)
{
    int exponent, e2, q, vr_exact, last = 0, dropped_zeros = 1, removed = 0;
    uint64_t m, vm, vr, top;
    double fraction = frexp(value, &exponent);

    if (exponent < -69 || exponent > 127)
        return 1;
    m = (uint64_t)ldexp(fraction, 53); /* 2**52 <= m < 2**53: normal in this range */
    e2 = exponent - 53 - 2;
    /* q: 10**(q + 1) <= 2**(e2 + 1) < the interval's width (3 or 4 * 2**e2), so at least one
     * digit is dropped and the rounding below has one to go by. */
    q = (int)floor((e2 + 1) * 0.30102999566398120) - 1;
    if (at_scale(4 * m - (m == (1ULL << 52) ? 1 : 2), 4 * m, 4 * m + 2, e2, q, &vm, &vr, &top,
                 &vr_exact))
        return 1;
    while (top / 10 > vm / 10) {
        dropped_zeros &= last == 0;
        last = (int)(vr % 10);
        top /= 10, vm /= 10, vr /= 10, removed++;
    }
    if (removed == 0 || (last == 5 && dropped_zeros && vr_exact))
        return 1;
    vr += last >= 5; /* not exactly half: excluded above */
    if (vr <= vm)
        vr = vm + 1;
    if (vr > top)
        vr = top;
    *power = q + removed;
    while (vr % 10 == 0)
        vr /= 10, (*power)++;
    *digits = vr;
    return 0;
}
#endif

/* Whether the decimal digits * 10**power lie exactly halfway between |value| (at least 2**53,
 * so an integer: value = m * 2**e, e >= 1) and a neighbouring double: cells._is_tie, in
 * integers. A midpoint is M * 2**q with M odd and below 2**55, so the decimal must be
 * odd(digits) * 5**power * 2**(twos + power) with odd(digits) * 5**power == M. */
static int
is_halfway(double value, const char *digits, int count, int power)
{
    int exponent, twos = 0;
    double fraction = frexp(fabs(value), &exponent);
    uint64_t m = (uint64_t)ldexp(fraction, 53), d = 0;
    int e = exponent - 53;
    uint64_t mids[2];
    int shifts[2], n = 0;

    if (power < 0)
        return 0; /* a fraction: no midpoint of integers here */
    for (int i = 0; i < count; i++)
        d = d * 10 + (uint64_t)(digits[i] - '0');
    while (d % 2 == 0)
        d /= 2, twos++;
    if (fabs(value) != DBL_MAX) /* above the largest double is infinity: no neighbour */
        mids[n] = 2 * m + 1, shifts[n++] = e - 1;
    if (m > (1ULL << 52))
        mids[n] = 2 * m - 1, shifts[n++] = e - 1;
    else /* a power of two: the neighbour below is half as far */
        mids[n] = 4 * m - 1, shifts[n++] = e - 2;
    for (int i = 0; i < n; i++) {
        uint64_t odd = d;
        int p = 0;
        if (shifts[i] < 0 || twos + power != shifts[i])
            continue;
        for (; p < power && odd <= mids[i] / 5; p++)
            odd *= 5;
        if (p == power && odd == mids[i])
            return 1;
    }
    return 0;
}

/* Repr's digits (from Python's own dtoa) of a finite positive double: `digits` (no leading
 * or trailing zeros) and the decimal exponent of the first; -1 with an exception set. */
static int
repr_digits(double value, char *digits, int *count, int *point)
{
    int before_point = 0, seen_point = 0, power10 = 0, lead = 0, n = 0;
    char *repr = PyOS_double_to_string(value, 'r', 0, 0, NULL);
    if (!repr)
        return -1;
    const char *q = repr;
    for (; *q && *q != 'e' && n < 39; q++) {
        if (*q == '.')
            seen_point = 1;
        else {
            digits[n++] = *q;
            before_point += !seen_point;
        }
    }
    if (*q == 'e')
        power10 = atoi(q + 1);
    PyMem_Free(repr);
    while (lead < n - 1 && digits[lead] == '0')
        lead++;
    memmove(digits, digits + lead, (size_t)(n - lead));
    n -= lead;
    while (n > 1 && digits[n - 1] == '0')
        n--;
    *count = n;
    *point = before_point - 1 + power10 - lead;
    return 0;
}

/* cells.format_float, written at the end of `b` (FLOAT_TEXT_MAX bytes reserved by the
 * caller): 0, HALFWAY where cells.py's own code must find the digits, -1 on error. */
int
put_float(buf_t *b, double value)
{
    char *p = b->data + b->len, digits[40];
    double magnitude = fabs(value);
    int count = 0, point, fast = 0;

    if (isnan(value) || isinf(value) || value == 0) {
        const char *text = isnan(value) ? "NaN"
                           : isinf(value) ? (value > 0 ? "Infinity" : "-Infinity")
                           : signbit(value) ? "-0" : "0";
        size_t len = strlen(text);
        memcpy(p, text, len);
        b->len += (Py_ssize_t)len;
        return 0;
    }
#ifdef __SIZEOF_INT128__
    uint64_t shortest;
    int power;
    if (shortest_inside(magnitude, &shortest, &power) == 0) {
        char reversed[24];
        for (; shortest; shortest /= 10)
            reversed[count++] = (char)('0' + shortest % 10);
        for (int i = 0; i < count; i++)
            digits[i] = reversed[count - 1 - i];
        point = count - 1 + power;
        fast = 1;
    }
#endif
    if (!fast) {
        if (repr_digits(magnitude, digits, &count, &point) < 0)
            return -1;
        /* cells.py checks ties from 2**53 up: below 1e16 always, above for short digits. */
        if (magnitude >= 9007199254740992.0 && (count < 17 || magnitude < 1e16) &&
            is_halfway(magnitude, digits, count, point - (count - 1)))
            return HALFWAY;
    }
    if (value < 0)
        *p++ = '-';
    if (point >= -4 && point < 15) { /* fixed, as repr() below 1e15 */
        if (point >= 0) {
            for (int i = 0; i <= point; i++)
                *p++ = i < count ? digits[i] : '0';
            if (count > point + 1) {
                *p++ = '.';
                memcpy(p, digits + point + 1, (size_t)(count - point - 1));
                p += count - point - 1;
            }
        } else {
            *p++ = '0', *p++ = '.';
            for (int i = 0; i < -point - 1; i++)
                *p++ = '0';
            memcpy(p, digits, (size_t)count);
            p += count;
        }
    } else { /* d.ddde+XX, at least two exponent digits */
        int e = abs(point);
        *p++ = digits[0];
        if (count > 1) {
            *p++ = '.';
            memcpy(p, digits + 1, (size_t)(count - 1));
            p += count - 1;
        }
        *p++ = 'e', *p++ = point < 0 ? '-' : '+';
        if (e >= 100)
            *p++ = (char)('0' + e / 100);
        *p++ = (char)('0' + e / 10 % 10), *p++ = (char)('0' + e % 10);
    }
    b->len = p - b->data;
    return 0;
}
