/*
 * xalloc.h - memory allocation that reports its own failure.
 *
 * Each function here, when the memory cannot be had, logs the one line
 * "out of memory" (error level), leaves errno ENOMEM and returns NULL, so
 * that a caller only releases what it holds and returns its failure
 * (`goto out`), without a message of its own.  What they return is
 * malloc'd: the caller frees it with free(3).
 */
#ifndef PITR_XALLOC_H
#define PITR_XALLOC_H

#include <stdarg.h>
#include <stddef.h>

/* malloc(3); a size of 0 gives a unique pointer, never NULL. */
void *pitr_xmalloc(size_t size);

/* calloc(3): `n` zeroed elements of `size` bytes, the product checked for
 * overflow; 0 of either gives a unique pointer, never NULL. */
void *pitr_xcalloc(size_t n, size_t size);

/* realloc(3) of `ptr` (NULL: a new block) to `size` bytes (0 is taken as
 * 1).  On failure `ptr` is left as it was, still the caller's. */
void *pitr_xrealloc(void *ptr, size_t size);

/* pitr_xrealloc() to `n` elements of `size` bytes, the product checked
 * for overflow. */
void *pitr_xreallocarray(void *ptr, size_t n, size_t size);

/* A copy of the string `s`. */
char *pitr_xstrdup(const char *s);

/* A copy of at most the first `n` bytes of `s`, NUL-terminated. */
char *pitr_xstrndup(const char *s, size_t n);

/* `p` as given, or NULL after logging when `p` is NULL: for the
 * constructors of other libraries that fail only for want of memory
 * (archive_read_new, EVP_MD_CTX_new...), so that they report it in the
 * same one line. */
void *pitr_xcheck(void *p);

/* The printf-style formatted string.  A format that cannot be expanded
 * (an output over INT_MAX bytes) is logged as such. */
char *pitr_xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* pitr_xasprintf() with the arguments in `ap`, for functions that take a
 * format of their own; `ap` is left as vsnprintf(3) leaves it. */
char *pitr_xvasprintf(const char *fmt, va_list ap) __attribute__((format(printf, 1, 0)));

#endif
