/* main.c - the planbok command: argument dispatch only. */
#include <stdio.h>
#include <string.h>

int main(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    fprintf(stderr, "usage: planbok [--home DIR] COMMAND\n");
    return 2;
}
