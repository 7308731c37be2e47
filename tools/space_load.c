/* space_load.c — the search space from --space or the built-in default
 * (see space_load.h). */
#include "tools/space_load.h"

#include <string.h>

#include "tools/cli.h"

int space_load(const char *cmd, const char *path, search_space *sp)
{
    ir_diag d;
    ir_diag_init(&d);
    ir_status s;
    if (path) {
        if (!cli_check_input_file(cmd, "space", path))
            return 2;
        s = search_space_load_file(path, sp, &d);
    } else {
        const char *t = search_space_default_text();
        s = search_space_load_memory(t, strlen(t), "default.xml (built in)", sp,
                                     &d);
    }
    return s == IR_OK ? 0 : cli_fail(&d);
}
