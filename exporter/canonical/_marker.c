/* Whether a batch of CSV lines holds a byte string: the bulk path's test for a value equal to
 * the null marker (export/read_paths.py), run on every batch of lines the database formatted.
 *
 * Python's `probe in data` took about 1 CPU-second per 3M rows of the benchmark table (1.2 GB
 * of lines at 1.2 GB/s, docs/BENCHMARKS.md): its search compares at every position the
 * probe's last byte may take, and the probe, the marker quoted ("\N" by default), ends in a
 * quote, which a line of quoted text holds everywhere. Here memchr (glibc's runs tens of
 * bytes a cycle) looks for one anchor byte of the probe, its first byte that is not a quote
 * (the marker's own first byte: a backslash by default, rare in most data), and only where
 * that byte occurs is the whole probe compared. Same answer as `probe in data` for any
 * bytes (tests/unit/test_marker_search.py); the GIL is released for the scan.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>

#include <string.h>

#include "_rowtext.h"

static int holds(const char *data, Py_ssize_t size, const char *probe, Py_ssize_t length) {
    if (length == 0) {
        return 1;
    }
    if (length > size) {
        return 0;
    }
    Py_ssize_t anchor = 0;
    while (anchor < length - 1 && probe[anchor] == '"') {
        anchor++;
    }
    /* The anchor byte of a match lies within [anchor, size - length + anchor]. */
    const char *at = data + anchor;
    const char *last = data + (size - length + anchor);
    while (at <= last) {
        at = memchr(at, (unsigned char)probe[anchor], (size_t)(last - at + 1));
        if (at == NULL) {
            return 0;
        }
        if (memcmp(at - anchor, probe, (size_t)length) == 0) {
            return 1;
        }
        at++;
    }
    return 0;
}

PyObject *marker_holds(PyObject *module, PyObject *args) {
    (void)module;
    Py_buffer data, probe;
    if (!PyArg_ParseTuple(args, "y*y*:holds", &data, &probe)) {
        return NULL;
    }
    int found;
    Py_BEGIN_ALLOW_THREADS
    found = holds(data.buf, data.len, probe.buf, probe.len);
    Py_END_ALLOW_THREADS
    PyBuffer_Release(&data);
    PyBuffer_Release(&probe);
    return PyBool_FromLong(found);
}
