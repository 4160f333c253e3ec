#include "clibrbd.h"

#include <dlfcn.h>
#include <stdio.h>
#include <string.h>

static int resolve(void *library, const char *library_name, const char *name, void **slot, char *error, size_t error_length) {
    *slot = dlsym(library, name);
    if (*slot == NULL) {
        snprintf(error, error_length, "%s has no %s (a librbd1 older than Ceph 13?)", library_name, name);
        return -1;
    }
    return 0;
}

#define RESOLVE(library, library_name, function) \
    if (resolve(library, library_name, #function, (void **)&api->function, error, error_length) != 0) return -1

static int load(swiftport_rbd_api *api, const char *librbd, const char *librados, char *error, size_t error_length) {
    void *rados = dlopen(librados, RTLD_NOW | RTLD_LOCAL);
    if (rados == NULL) {
        snprintf(error, error_length, "cannot load %s: %s", librados, dlerror());
        return -1;
    }
    void *rbd = dlopen(librbd, RTLD_NOW | RTLD_LOCAL);
    if (rbd == NULL) {
        snprintf(error, error_length, "cannot load %s: %s", librbd, dlerror());
        dlclose(rados);
        return -1;
    }
    RESOLVE(rados, librados, rados_create2);
    RESOLVE(rados, librados, rados_conf_read_file);
    RESOLVE(rados, librados, rados_conf_set);
    RESOLVE(rados, librados, rados_conf_get);
    RESOLVE(rados, librados, rados_connect);
    RESOLVE(rados, librados, rados_getaddrs);
    RESOLVE(rados, librados, rados_shutdown);
    RESOLVE(rados, librados, rados_ioctx_create);
    RESOLVE(rados, librados, rados_ioctx_destroy);
    RESOLVE(rados, librados, rados_ioctx_set_namespace);
    RESOLVE(rados, librados, rados_aio_create_completion2);
    RESOLVE(rados, librados, rados_aio_get_return_value);
    RESOLVE(rados, librados, rados_aio_get_version);
    RESOLVE(rados, librados, rados_aio_release);
    RESOLVE(rados, librados, rados_create_write_op);
    RESOLVE(rados, librados, rados_release_write_op);
    RESOLVE(rados, librados, rados_write_op_create);
    RESOLVE(rados, librados, rados_write_op_assert_version);
    RESOLVE(rados, librados, rados_write_op_write_full);
    RESOLVE(rados, librados, rados_write_op_remove);
    RESOLVE(rados, librados, rados_aio_write_op_operate);
    RESOLVE(rados, librados, rados_create_read_op);
    RESOLVE(rados, librados, rados_release_read_op);
    RESOLVE(rados, librados, rados_read_op_read);
    RESOLVE(rados, librados, rados_aio_read_op_operate);
    RESOLVE(rados, librados, rados_get_instance_id);
    RESOLVE(rados, librados, rados_watch3);
    RESOLVE(rados, librados, rados_watch_check);
    RESOLVE(rados, librados, rados_unwatch2);
    RESOLVE(rados, librados, rados_watch_flush);
    RESOLVE(rados, librados, rados_notify_ack);
    RESOLVE(rados, librados, rados_aio_notify);
    RESOLVE(rados, librados, rados_buffer_free);
    RESOLVE(rados, librados, rados_blocklist_add);
    RESOLVE(rados, librados, rados_wait_for_latest_osdmap);
    RESOLVE(rbd, librbd, rbd_open);
    RESOLVE(rbd, librbd, rbd_close);
    RESOLVE(rbd, librbd, rbd_create);
    RESOLVE(rbd, librbd, rbd_get_size);
    RESOLVE(rbd, librbd, rbd_get_id);
    RESOLVE(rbd, librbd, rbd_resize);
    RESOLVE(rbd, librbd, rbd_update_watch);
    RESOLVE(rbd, librbd, rbd_update_unwatch);
    RESOLVE(rbd, librbd, rbd_get_features);
    RESOLVE(rbd, librbd, rbd_lock_acquire);
    RESOLVE(rbd, librbd, rbd_lock_release);
    RESOLVE(rbd, librbd, rbd_lock_get_owners);
    RESOLVE(rbd, librbd, rbd_lock_get_owners_cleanup);
    RESOLVE(rbd, librbd, rbd_lock_break);
    RESOLVE(rbd, librbd, rbd_aio_create_completion);
    RESOLVE(rbd, librbd, rbd_aio_get_return_value);
    RESOLVE(rbd, librbd, rbd_aio_release);
    RESOLVE(rbd, librbd, rbd_aio_read);
    RESOLVE(rbd, librbd, rbd_aio_writev);
    RESOLVE(rbd, librbd, rbd_aio_flush);
    RESOLVE(rbd, librbd, rbd_aio_discard);
    RESOLVE(rbd, librbd, rbd_aio_writesame);
    RESOLVE(rbd, librbd, rbd_aio_compare_and_write);
    return 0;
}

int swiftport_rbd_load(const char *librbd, const char *librados, swiftport_rbd_api *api, char *error, size_t error_length) {
    memset(api, 0, sizeof *api);
    return load(api, librbd, librados, error, error_length);
}
