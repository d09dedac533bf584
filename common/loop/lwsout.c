/*
 * lwsout: see lwsout.h.
 */
#include "lwsout.h"

static void lwsout_run(struct endturn *et) {
    struct lwsout *o = et->data;
    /* Only those due when the pass began: a callback that asks again is
     * served next turn, so one busy socket cannot hold the loop. */
    for (uint32_t n = o->due.count; n > 0 && o->due.count; n--) {
        struct lwsout_item *it =
            lws_container_of(lws_dll2_get_head(&o->due), struct lwsout_item, link);
        lws_dll2_remove(&it->link);
        /* A NULL pollfd tells lws to leave the descriptor's events alone.
         * A failure is what poll()'s caller would close the socket for. */
        if (it->wsi && lws_handle_POLLOUT_event(it->wsi, NULL) != 0)
            lws_set_timeout(it->wsi, PENDING_TIMEOUT_USER_OK, LWS_TO_KILL_ASYNC);
    }
}

void lwsout_init(struct lwsout *o, uv_loop_t *loop) {
    lws_dll2_owner_clear(&o->due);
    endturn_init(&o->turn, loop, lwsout_run, o);
}

void lwsout_close(struct lwsout *o) {
    endturn_close(&o->turn);
}

void lwsout_want(struct lwsout *o, struct lwsout_item *it) {
    if (!it->wsi)
        return;
    if (lws_partial_buffered(it->wsi) || o->turn.closed) {
        lws_callback_on_writable(it->wsi);
        return;
    }
    if (lws_dll2_is_detached(&it->link)) {
        lws_dll2_add_tail(&it->link, &o->due);
        endturn_arm(&o->turn);
    }
}

void lwsout_cancel(struct lwsout_item *it) {
    lws_dll2_remove(&it->link);
    it->wsi = NULL;
}
