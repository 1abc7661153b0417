/* The rows of a COPY TO STDOUT taken from libpq's buffer in one C call per batch.

   pg_copy.py's Python loop pays some 0.5 us a row for its call of PQgetCopyData through
   psycopg, the memoryview, and the bytes copy; this loop pays the two copies only. It is
   handed, as integers, the PGconn psycopg holds (`PGconn.pgconn_ptr`, which psycopg offers
   for calling libpq functions it does not wrap) and the addresses of PQgetCopyData and
   PQfreemem in the libpq psycopg itself is linked to (pg_copy.py resolves them and checks
   them against the connection before use). It only ever calls PQgetCopyData in its
   asynchronous form, which never waits: the socket wait, the end of the COPY and the errors
   stay in Python, with psycopg.

   libpq: https://www.postgresql.org/docs/current/libpq-copy.html#LIBPQ-COPY-RECEIVE */

#define PY_SSIZE_T_CLEAN
#include <Python.h>

typedef int (*get_copy_data_fn)(void *conn, char **buffer, int async);
typedef void (*freemem_fn)(void *ptr);

/* read_rows(conn, get_copy_data, freemem, max_rows) -> (status, rows)

   Up to `max_rows` rows, each bytes, from what libpq has already received. `status` is
   what the last PQgetCopyData returned when the loop stopped early: 0 (no complete row
   buffered: wait for the socket and consume input), -1 (the COPY is over) or -2 (an error,
   in PQerrorMessage); 1 when `max_rows` rows were taken. */
static PyObject *
read_rows(PyObject *module, PyObject *const *args, Py_ssize_t nargs)
{
    (void)module;
    if (nargs != 4) {
        PyErr_SetString(PyExc_TypeError, "read_rows takes 4 arguments");
        return NULL;
    }
    void *conn = PyLong_AsVoidPtr(args[0]);
    get_copy_data_fn get_copy_data = (get_copy_data_fn)PyLong_AsVoidPtr(args[1]);
    freemem_fn freemem = (freemem_fn)PyLong_AsVoidPtr(args[2]);
    Py_ssize_t max_rows = PyLong_AsSsize_t(args[3]);
    if (PyErr_Occurred()) {
        return NULL;
    }
    if (conn == NULL || get_copy_data == NULL || freemem == NULL || max_rows <= 0) {
        PyErr_SetString(PyExc_ValueError, "read_rows needs a connection, two functions and max_rows > 0");
        return NULL;
    }
    PyObject *rows = PyList_New(max_rows);
    if (rows == NULL) {
        return NULL;
    }
    Py_ssize_t taken = 0;
    int status = 1;
    while (taken < max_rows) {
        char *buffer = NULL;
        int nbytes = get_copy_data(conn, &buffer, 1);
        if (nbytes <= 0) {
            /* No row: libpq allocates nothing, but free defensively as psycopg does. */
            if (buffer != NULL) {
                freemem(buffer);
            }
            status = nbytes;
            break;
        }
        PyObject *row = PyBytes_FromStringAndSize(buffer, nbytes);
        freemem(buffer);
        if (row == NULL) {
            Py_DECREF(rows);
            return NULL;
        }
        PyList_SET_ITEM(rows, taken, row);
        taken++;
    }
    if (taken < max_rows && PyList_SetSlice(rows, taken, max_rows, NULL) < 0) {
        Py_DECREF(rows);
        return NULL;
    }
    return Py_BuildValue("iN", status, rows);
}

static PyMethodDef methods[] = {
    {"read_rows", (PyCFunction)(void (*)(void))read_rows, METH_FASTCALL,
     "read_rows(conn, get_copy_data, freemem, max_rows) -> (status, rows)"},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT, "_pgcopy", "COPY TO rows from libpq's buffer in C.", -1, methods,
};

PyMODINIT_FUNC
PyInit__pgcopy(void)
{
    return PyModule_Create(&module);
}
