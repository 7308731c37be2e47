/* file_read.h — opening the files a user names, one way for every reader:
 * only regular files (a FIFO blocks the open or the read until someone
 * writes to it, a folder or a device is not what was meant), the size
 * known and checked before anything is read.
 *
 *     char *text; size_t len;
 *     if (ir_file_read_all(path, "vocab", 256 << 20, &text, &len, &d))
 *         return d.status;   // "vocab 'v.txt' is a FIFO (named pipe), ..."
 *     use(text, len);        // text[len] == '\0'
 *     free(text);
 *
 * The open never blocks (O_NONBLOCK until the file is known to be
 * regular). Statuses follow the exit codes: IR_ERR_INPUT for what the
 * user got wrong — no such file, not a regular file (saying what it is),
 * larger than the reader's limit; IR_ERR_IO for a file that is there but
 * cannot be read (permissions, an I/O error); IR_ERR_NOMEM. Messages read
 * "WHAT 'path': reason".
 */
#ifndef DISTILC_IR_FILE_READ_H
#define DISTILC_IR_FILE_READ_H

#include <stdint.h>
#include <stdio.h>

#include "ir/diag.h"

/* max_bytes <= 0: no limit. */
ir_status ir_file_open(const char *path, const char *what, int64_t max_bytes,
                       int *fd, int64_t *size, ir_diag *d);
/* The same as a stdio stream (for readers that go line by line); size may
 * be NULL. */
ir_status ir_file_fopen(const char *path, const char *what, int64_t max_bytes,
                        FILE **f, int64_t *size, ir_diag *d);
/* The whole file in a malloc'd buffer with a NUL after its len bytes. */
ir_status ir_file_read_all(const char *path, const char *what,
                           int64_t max_bytes, char **buf, size_t *len,
                           ir_diag *d);

#endif
