/* The fingerprint arithmetic of monitor.textbatch, one pass per text in C.
 *
 * Why (speed issue): textbatch computes word hashes, detached-affix merging, 3-word shingles and winnowing for
 * a whole feed in numpy, about fifteen passes over every character and word; at 94 us an item it was a quarter
 * of a worker's time on the 500 x 40 farm. This does the same arithmetic in one loop per text. It is optional:
 * textbatch uses it when it was built and falls back to its numpy code otherwise, and tests/test_textbatch.py
 * checks both against a plain-Python reference of the definitions (textbatch's docstring).
 *
 * digest(codes, starts, want, affix_raws, affix_is_prefix, window, max_affix_len) -> list
 *   codes: uint16 skeleton codes of the batch: letters (their one-character fold), 32 between words and texts,
 *          1 for joiners (ZWNJ, marks: deleted, so the letters around them stay one word)
 *   starts: int64 start of each text in codes, plus one more entry (the end; may pass len(codes) by one)
 *   want: uint8 per text, whether to fingerprint it
 *   affix_raws: sorted uint64 raw() of the detached affixes; affix_is_prefix: uint8 for each
 * Returns, per text, (its fold: the letters as a str, bytes of sorted unique int64 fingerprints, number of
 * shingles); the last two are b"" and 0 for a text not wanted.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define K 0x9E3779B97F4A7C15ULL
#define KC 0xD6E8FEB86659FD93ULL
#define KL 0xA0761D6478BD642FULL
#define M1 0xBF58476D1CE4E5B9ULL
#define M2 0x94D049BB133111EBULL
#define C0 0x632BE59BD9B4E019ULL
#define SPACE 32
#define JOINER 1

static uint64_t table[65536];

static inline uint64_t mix(uint64_t x) {
    x ^= x >> 30;
    x *= M1;
    x ^= x >> 27;
    x *= M2;
    return x ^ (x >> 31);
}

static int compare_i64(const void *a, const void *b) {
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

/* Growable scratch arrays, reused across the texts of one call. */
typedef struct { void *data; size_t cap; } scratch;

static int reserve(scratch *s, size_t bytes) {
    if (s->cap >= bytes) return 0;
    size_t cap = s->cap ? s->cap : 1024;
    while (cap < bytes) cap *= 2;
    void *p = realloc(s->data, cap);
    if (!p) return -1;
    s->data = p;
    s->cap = cap;
    return 0;
}

/* 1 when raw is an affix (sets *prefix), 0 otherwise: a binary search of the few affixes. */
static int affix(uint64_t raw, const uint64_t *raws, const uint8_t *prefix, Py_ssize_t n, int *is_prefix) {
    Py_ssize_t lo = 0, hi = n;
    while (lo < hi) {
        Py_ssize_t mid = (lo + hi) / 2;
        if (raws[mid] < raw) lo = mid + 1; else hi = mid;
    }
    if (lo < n && raws[lo] == raw) {
        *is_prefix = prefix[lo];
        return 1;
    }
    return 0;
}

static PyObject *digest(PyObject *self, PyObject *args) {
    Py_buffer codes_b, starts_b, want_b, raws_b, prefix_b;
    int window, max_affix_len;
    if (!PyArg_ParseTuple(args, "y*y*y*y*y*ii", &codes_b, &starts_b, &want_b, &raws_b, &prefix_b, &window,
                          &max_affix_len))
        return NULL;
    const uint16_t *codes = (const uint16_t *)codes_b.buf;
    Py_ssize_t total = codes_b.len / 2;
    const int64_t *starts = (const int64_t *)starts_b.buf;
    const uint8_t *want = (const uint8_t *)want_b.buf;
    Py_ssize_t n = want_b.len;
    const uint64_t *raws = (const uint64_t *)raws_b.buf;
    const uint8_t *prefixes = (const uint8_t *)prefix_b.buf;
    Py_ssize_t n_affixes = raws_b.len / 8;
    PyObject *out = NULL;
    scratch w_raw = {0}, w_pow = {0}, w_len = {0}, w_cls = {0}, g_hash = {0}, shingles = {0}, fps = {0},
            letters = {0};

    if (starts_b.len / 8 < n + 1 || window < 1) {
        PyErr_SetString(PyExc_ValueError, "starts must have one entry more than want, window must be >= 1");
        goto done;
    }
    out = PyList_New(n);
    if (!out) goto done;
    for (Py_ssize_t t = 0; t < n; t++) {
        Py_ssize_t a = starts[t], b = starts[t + 1];
        if (b > total) b = total;
        if (a > b) a = b;
        /* The fold: the text's letters, joiners and separators left out. */
        if (reserve(&letters, (size_t)(b - a) * 2 + 2)) {
            PyErr_NoMemory();
            goto fail;
        }
        uint16_t *lt = letters.data;
        Py_ssize_t nl = 0;
        for (Py_ssize_t i = a; i < b; i++)
            if (codes[i] != SPACE && codes[i] != JOINER) lt[nl++] = codes[i];
        int little = -1;
        PyObject *fold = PyUnicode_DecodeUTF16((const char *)lt, nl * 2, "surrogatepass", &little);
        if (!fold) goto fail;
        if (!want[t]) {
            PyObject *entry = Py_BuildValue("(Ny#n)", fold, "", (Py_ssize_t)0, (Py_ssize_t)0);
            if (!entry) goto fail;
            PyList_SET_ITEM(out, t, entry);
            continue;
        }
        /* Words of the text: raw hash, KC**length, length, and whether each is a prefix (1) or suffix (2). */
        size_t words = 0, cap_words = (size_t)(b - a) / 2 + 1;
        if (reserve(&w_raw, cap_words * 8) || reserve(&w_pow, cap_words * 8) || reserve(&w_len, cap_words * 8) ||
            reserve(&w_cls, cap_words)) {
            PyErr_NoMemory();
            goto fail_fold;
        }
        uint64_t *raw = w_raw.data, *pw = w_pow.data;
        int64_t *len = w_len.data;
        uint8_t *cls = w_cls.data;
        Py_ssize_t i = a;  /* the words are the runs of letters, joiners skipped inside them */
        while (i < b) {
            while (i < b && (codes[i] == SPACE || codes[i] == JOINER)) i++;
            if (i >= b) break;
            uint64_t r = 0, p = 1;
            int64_t l = 0;
            while (i < b && codes[i] != SPACE) {
                if (codes[i] != JOINER) {
                    r += table[codes[i]] * p;
                    p *= KC;
                    l++;
                }
                i++;
            }
            int is_prefix = 0;
            uint8_t c = 0;
            if (l <= max_affix_len && affix(r, raws, prefixes, n_affixes, &is_prefix)) c = is_prefix ? 1 : 2;
            raw[words] = r;
            pw[words] = p;
            len[words] = l;
            cls[words] = c;
            words++;
        }
        /* Groups: a prefix joins the next word, a suffix the one before; each group hashed as one string. */
        if (reserve(&g_hash, (words + 1) * 8)) {
            PyErr_NoMemory();
            goto fail_fold;
        }
        uint64_t *h = g_hash.data;
        size_t groups = 0;
        for (size_t k = 0; k < words;) {
            uint64_t g = raw[k], gp = pw[k];
            int64_t gl = len[k];
            size_t m = k + 1;
            while (m < words && (cls[m - 1] == 1 || cls[m] == 2)) {
                g += gp * raw[m];
                gp *= pw[m];
                gl += len[m];
                m++;
            }
            h[groups++] = mix(g + (uint64_t)gl * KL);
            k = m;
        }
        /* Shingles: every three consecutive groups; one of all of them when there are one or two. */
        size_t count = groups >= 3 ? groups - 2 : (groups > 0 ? 1 : 0);
        if (reserve(&shingles, (count + 1) * 8) || reserve(&fps, (count + 1) * 8)) {
            PyErr_NoMemory();
            goto fail_fold;
        }
        int64_t *s = shingles.data, *f = fps.data;
        if (groups >= 3) {
            for (size_t k = 0; k + 2 < groups; k++) s[k] = (int64_t)mix((h[k] * K + h[k + 1]) * K + h[k + 2]);
        } else if (groups > 0) {
            uint64_t acc = h[0];
            for (size_t k = 1; k < groups; k++) acc = acc * K + h[k];
            s[0] = (int64_t)mix(acc);
        }
        /* Winnowing: the minimum of every window of shingles, or all of them when they do not fill one. */
        size_t kept = 0;
        if (count <= (size_t)window) {
            memcpy(f, s, count * 8);
            kept = count;
        } else {
            int64_t last = 0;
            for (size_t k = 0; k + window <= count; k++) {
                int64_t mn = s[k];
                for (int j = 1; j < window; j++)
                    if (s[k + j] < mn) mn = s[k + j];
                if (kept == 0 || mn != last) f[kept++] = mn;
                last = mn;
            }
        }
        qsort(f, kept, 8, compare_i64);
        size_t unique = 0;
        for (size_t k = 0; k < kept; k++)
            if (unique == 0 || f[k] != f[unique - 1]) f[unique++] = f[k];
        PyObject *entry = Py_BuildValue("(Ny#n)", fold, (const char *)f, (Py_ssize_t)(unique * 8),
                                        (Py_ssize_t)count);
        if (!entry) goto fail;
        PyList_SET_ITEM(out, t, entry);
        continue;
    fail_fold:
        Py_DECREF(fold);
        goto fail;
    }
    goto done;
fail:
    Py_CLEAR(out);
done:
    free(w_raw.data);
    free(w_pow.data);
    free(w_len.data);
    free(w_cls.data);
    free(g_hash.data);
    free(shingles.data);
    free(fps.data);
    free(letters.data);
    PyBuffer_Release(&codes_b);
    PyBuffer_Release(&starts_b);
    PyBuffer_Release(&want_b);
    PyBuffer_Release(&raws_b);
    PyBuffer_Release(&prefix_b);
    return out;
}

static PyMethodDef methods[] = {
    {"digest", digest, METH_VARARGS, "Fold and winnowed word-shingle fingerprints of each text of a batch."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {PyModuleDef_HEAD_INIT, "_textcore", NULL, -1, methods};

PyMODINIT_FUNC PyInit__textcore(void) {
    for (uint64_t u = 0; u < 65536; u++) table[u] = mix(u * K + C0);
    return PyModule_Create(&module);
}
