/* main.c — the distilc command: dispatches to one subcommand per file. */
#include <stdio.h>
#include <string.h>

int main(int argc, char **argv)
{
    if (argc < 2 || strcmp(argv[1], "--help") == 0) {
        printf("usage: distilc COMMAND [OPTIONS]\n");
        return argc < 2 ? 2 : 0;
    }
    fprintf(stderr, "distilc: unknown command '%s'\n", argv[1]);
    return 2;
}
