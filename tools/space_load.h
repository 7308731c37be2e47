/* space_load.h — the search space a command works on (search,
 * latency-model): the file --space names, else the built-in
 * search/spaces/default.xml.
 *
 *     search_space sp;
 *     if ((rc = space_load("search", space_path_or_null, &sp)) != 0)
 *         return rc;               // the message is on stderr
 */
#ifndef DISTILC_TOOLS_SPACE_LOAD_H
#define DISTILC_TOOLS_SPACE_LOAD_H

#include "search/space.h"

/* Exit status: 0 ok; 2 when path is not a file; the loader's otherwise
 * (after printing "distilc: CMD: ..." or the loader's message). */
int space_load(const char *cmd, const char *path, search_space *sp);

#endif
