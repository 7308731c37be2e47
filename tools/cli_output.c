/* cli_output.c — the commands' checks of the outputs a user named, made
 * before any work (ir/file_atomic.h does the probing): an unwritable -o is
 * a usage error found in a second, not after an hour of training. */
#include "tools/cli.h"

#include "ir/file_atomic.h"

bool cli_check_output_file(const char *cmd, const char *opt, const char *path)
{
    if (!path)
        return true;
    ir_diag d;
    ir_diag_init(&d);
    if (ir_file_check_writable(path, &d) == IR_OK)
        return true;
    cli_error("%s: %s: %s", cmd, opt, d.msg);
    return false;
}

bool cli_check_output_dir(const char *cmd, const char *opt, const char *dir)
{
    if (!dir)
        return true;
    ir_diag d;
    ir_diag_init(&d);
    if (ir_dir_check_writable(dir, &d) == IR_OK)
        return true;
    cli_error("%s: %s: %s", cmd, opt, d.msg);
    return false;
}
