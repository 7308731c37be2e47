/* cmd_tokenize.h — `distilc tokenize`: text lines in, token ids out as JSON
 * lines. Called by tools/main.c's dispatch with argv[0] = "tokenize". */
#ifndef DISTILC_CMD_TOKENIZE_H
#define DISTILC_CMD_TOKENIZE_H

int cmd_tokenize(int argc, char **argv);

#endif
