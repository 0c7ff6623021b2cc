/*
 * fuzz.h - what the libFuzzer harnesses in fuzz/ share.
 *
 * Each harness (fuzz/fuzz_NAME.c) feeds one parser of files or arguments
 * with arbitrary bytes and checks what must hold whatever they are: no
 * crash, no sanitizer report, no leak, and where the parser can write
 * back what it read, that the text it writes reads back the same.  A
 * broken property aborts, which libFuzzer reports as a crash with the
 * input saved.  `make fuzz` builds and runs them (see Makefile.am).
 */
#ifndef PITR_FUZZ_H
#define PITR_FUZZ_H

#include <stddef.h>
#include <stdint.h>

/* libFuzzer's entry points.  fuzz_util.c's LLVMFuzzerInitialize() (weak)
 * calls fuzz_quiet_log(); a harness that needs more defines its own. */
int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Send the library's log lines to /dev/null: a parser's refusal is the
 * expected outcome for most inputs, and printing each would slow the run
 * down to the terminal's pace.  PITR_FUZZ_LOG=1 keeps them on stderr. */
void fuzz_quiet_log(void);

/* `data` as a NUL-terminated string (malloc'd; aborts if out of memory).
 * A NUL inside the input ends the string early, as it would in a file
 * name or an argument. */
char *fuzz_cstr(const uint8_t *data, size_t size);

/* Write `data` to a file of this process's own in $TMPDIR (or /tmp),
 * replacing what an earlier input left there, and return its path (static
 * storage).  `suffix` ends the name (".gz", "" for none). */
const char *fuzz_file(const uint8_t *data, size_t size, const char *suffix);

/* A descriptor positioned at the start of an in-memory file holding
 * `data` (memfd), for the readers that take a descriptor.  The caller
 * closes it. */
int fuzz_memfd(const uint8_t *data, size_t size);

/* Stop the harness: a property the parser promises was broken.  The
 * message names it; libFuzzer saves the input that did it. */
_Noreturn void fuzz_fail(const char *what, const char *detail);

#endif
