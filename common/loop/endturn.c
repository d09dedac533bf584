/*
 * endturn: see endturn.h.
 */
#include "endturn.h"

static void endturn_on_idle(uv_idle_t *h) {
    (void)h; /* only there to keep poll from sleeping */
}

static void endturn_on_check(uv_check_t *h) {
    struct endturn *et = h->data;
    uv_check_stop(&et->check);
    uv_idle_stop(&et->idle);
    et->fn(et);
}

void endturn_init(struct endturn *et, uv_loop_t *loop, endturn_fn *fn, void *data) {
    uv_check_init(loop, &et->check);
    uv_idle_init(loop, &et->idle);
    et->check.data = et->idle.data = et;
    et->fn = fn;
    et->data = data;
    et->closed = false;
}

int endturn_arm(struct endturn *et) {
    if (et->closed)
        return -1;
    uv_check_start(&et->check, endturn_on_check);
    uv_idle_start(&et->idle, endturn_on_idle);
    return 0;
}

void endturn_close(struct endturn *et) {
    if (et->closed)
        return;
    et->closed = true;
    uv_close((uv_handle_t *)&et->check, NULL);
    uv_close((uv_handle_t *)&et->idle, NULL);
}
