/* file_atomic.h — how distilc writes every file (ONNX models, weights,
 * checkpoints, reports, predictions, the emitted program): into a temp file
 * beside the output (same folder, so the rename stays on one file
 * system), fsync, rename over the output, fsync the folder. A reader, or a
 * rerun after a kill or a full disk, sees the old file or the new one,
 * never half of one. Temp files an earlier, killed run left beside the
 * same output ("NAME.tmpXXXXXX", and the older fixed "NAME.tmp") are
 * removed when the next write of NAME starts; a live writer's temp is kept
 * (each writer holds an flock on its temp until it commits).
 *
 *     ir_file_atomic a;
 *     if (ir_file_atomic_open(&a, "out/report.json", 0644, &d) != IR_OK)
 *         return d.status;
 *     fprintf(a.f, "{...}\n");
 *     return ir_file_atomic_commit(&a, &d);   // or ir_file_atomic_abort(&a)
 *
 *     ir_file_write_atomic("out/s.onnx", buf, len, 0644, &d);  // one buffer
 *
 * An output that exists and is not a regular file (a FIFO, a terminal), or
 * any path under /dev/ or /proc/ (/dev/stdout may be a redirected regular
 * file the shell holds open), is written in place: there is nothing to
 * replace atomically, and renaming over it would be wrong. A symbolic link is followed:
 * the file it names is replaced, the link stays.
 *
 * Commands check their output paths before any work, so an unwritable -o
 * is found in a second rather than after training:
 *
 *     if (ir_file_check_writable("out/s.onnx", &d) != IR_OK) ... exit 2
 *     if (ir_dir_check_writable("out/run", &d) != IR_OK) ...   // a folder
 *
 * Both create a probe file where the output will go and remove it again,
 * so they catch what permission bits cannot show (a read-only mount, an
 * immutable folder, a path under a regular file), also as root.
 *
 * libc only (plus ir/diag): backend/emit ships this file with every
 * emitted program, whose weight writer uses it. */
#ifndef DISTILC_IR_FILE_ATOMIC_H
#define DISTILC_IR_FILE_ATOMIC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "ir/diag.h"

#define IR_FILE_PATH_MAX 4096

typedef struct ir_file_atomic {
    FILE *f;                         /* write here */
    char path[IR_FILE_PATH_MAX];     /* the output (a link resolved) */
    char tmp[IR_FILE_PATH_MAX];      /* the temp file; "" when direct */
    bool direct;                     /* not a regular file: written in place */
} ir_file_atomic;

/* Starts writing path: removes stale temps of path, creates the temp file
 * (mode, less the umask, e.g. 0644; 0755 for a program). IR_ERR_IO naming
 * the path when the folder cannot take a file. */
ir_status ir_file_atomic_open(ir_file_atomic *a, const char *path,
                              unsigned mode, ir_diag *d);
/* Flushes, fsyncs and renames the temp over the output; on any error
 * (ENOSPC, EIO, ...) removes the temp and leaves the output as it was.
 * A writer that let another program fill the temp (the C compiler's -o)
 * closes a->f and sets it to NULL first. Always ends the write. */
ir_status ir_file_atomic_commit(ir_file_atomic *a, ir_diag *d);
/* Ends the write without touching the output (the temp is removed). */
void ir_file_atomic_abort(ir_file_atomic *a);

/* The whole of buf as path, atomically. */
ir_status ir_file_write_atomic(const char *path, const void *buf, size_t len,
                               unsigned mode, ir_diag *d);

/* Whether a file can be written at path: its folder exists and takes a
 * file, and path is not a folder. IR_ERR_INPUT with a message naming path
 * and why. */
ir_status ir_file_check_writable(const char *path, ir_diag *d);
/* Whether files can be written in the folder dir, which may not exist yet:
 * then its nearest existing parent must be a folder that takes one (the
 * command creates the rest). IR_ERR_INPUT naming dir and why. */
ir_status ir_dir_check_writable(const char *dir, ir_diag *d);

#endif
