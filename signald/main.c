/*
 * main: settings from the environment, then the server until a signal.
 */
#include <stdio.h>

int main(void) {
    return 0;
}
