/*
 * report: see report.h.
 */
#include "report.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

void report_add(struct report *r, const char *key, const char *label, double value,
                const char *unit, int decimals) {
    struct report_item *it = NULL;
    for (size_t i = 0; i < r->n; i++)
        if (strcmp(r->items[i].key, key) == 0)
            it = &r->items[i];
    if (!it) {
        if (r->n == REPORT_MAX_ITEMS)
            return;
        it = &r->items[r->n++];
    }
    it->key = key;
    it->label = label;
    it->unit = unit;
    it->value = value;
    it->decimals = decimals;
}

void report_print(const struct report *r, FILE *out) {
    fprintf(out, "\n%s%s%s\n", r->scenario, r->label[0] ? " - " : "", r->label);
    fprintf(out, "  %-36s %14s  %s\n", "figure", "value", "unit");
    for (size_t i = 0; i < r->n; i++) {
        const struct report_item *it = &r->items[i];
        fprintf(out, "  %-36s %14.*f  %s\n", it->label, it->decimals, it->value, it->unit);
    }
    if (r->note[0])
        fprintf(out, "  note: %s\n", r->note);
    fflush(out);
}

int report_write_json(const struct report *r, FILE *out) {
    json_t *o = json_object();
    if (!o)
        return -1;
    json_object_set_new(o, "scenario", json_string(r->scenario));
    if (r->label[0])
        json_object_set_new(o, "label", json_string(r->label));
    if (r->run_id[0])
        json_object_set_new(o, "run_id", json_string(r->run_id));
    for (size_t i = 0; i < r->n; i++) {
        const struct report_item *it = &r->items[i];
        double v = it->value;
        if (!isfinite(v))
            json_object_set_new(o, it->key, json_null());
        else if (it->decimals == 0 && fabs(v) < 9e15)
            json_object_set_new(o, it->key, json_integer((json_int_t)llround(v)));
        else
            json_object_set_new(o, it->key, json_real(v));
    }
    if (r->note[0])
        json_object_set_new(o, "note", json_string(r->note));
    char *s = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(6));
    json_decref(o);
    if (!s)
        return -1;
    int rc = fprintf(out, "%s\n", s) < 0 ? -1 : 0;
    fflush(out);
    free(s);
    return rc;
}
