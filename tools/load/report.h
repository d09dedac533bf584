/*
 * report: the figures of one scenario run, printed as a table for people
 * and as one JSON object (one line) for scripts. Each figure has a JSON key
 * that carries its unit (lat_p99_ms), a label and a unit for the table.
 */
#ifndef LOAD_REPORT_H
#define LOAD_REPORT_H

#include <stddef.h>
#include <stdio.h>

#define REPORT_MAX_ITEMS 96

struct report_item {
    const char *key;   /* static string */
    const char *label; /* static string */
    const char *unit;  /* static string */
    double value;
    int decimals;
};

struct report {
    char scenario[16];
    char label[64];
    char run_id[24];
    char note[160]; /* e.g. the first connect error */
    struct report_item items[REPORT_MAX_ITEMS];
    size_t n;
};

/* Adds (or replaces) one figure; strings must outlive the report. */
void report_add(struct report *r, const char *key, const char *label, double value,
                const char *unit, int decimals);

void report_print(const struct report *r, FILE *out);

/* Writes the JSON object on one line, ending with a newline. Returns 0 or -1. */
int report_write_json(const struct report *r, FILE *out);

#endif
