/*
 * main: settings from the environment, the server until a signal, exit.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "log.h"
#include "server.h"

static const char *main_getenv(const char *name, void *data) {
    (void)data;
    return getenv(name);
}

static void main_usage(FILE *out) {
    fprintf(out, "usage: signald [--help]\n\n"
                 "signald is a WebRTC signaling node; run several behind any load balancer,\n"
                 "sharing one Redis.\n\n");
    config_print_help(out);
}

int main(int argc, char **argv) {
    struct config cfg;
    struct server srv;
    char err[512];

    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            main_usage(stdout);
            return 0;
        }
        fprintf(stderr, "signald: unknown argument '%s'\n", argv[i]);
        main_usage(stderr);
        return 2;
    }
    if (config_load(&cfg, main_getenv, NULL, err, sizeof(err)) < 0) {
        fprintf(stderr, "signald: %s\n", err);
        config_free(&cfg);
        return 2;
    }
    log_init(cfg.log_level, cfg.node_id);
    config_log(&cfg);
    if (server_start(&srv, &cfg) < 0) {
        config_free(&cfg);
        return 1;
    }
    int rc = server_run(&srv);
    config_free(&cfg);
    return rc == 0 ? 0 : 1;
}
