#ifndef SWIFTPORT_CLIBRBD_H
#define SWIFTPORT_CLIBRBD_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <sys/uio.h>

/*
 * The part of librados' and librbd's C API (rados/librados.h, rbd/librbd.h) that the
 * rbd backend uses, loaded at run time: Swiftport builds and runs without the Ceph
 * libraries, and only a LUN with backend = "rbd" needs librbd1. The handles
 * (rados_t, rados_ioctx_t, rbd_image_t, rbd_completion_t) are opaque pointers there too.
 */
#pragma clang assume_nonnull begin

typedef void (*swiftport_rbd_callback)(void *_Nullable completion, void *_Nullable argument);
typedef void (*swiftport_rbd_update_callback)(void *_Nullable argument);

typedef struct swiftport_rbd_api {
    int (*rados_create2)(void *_Nullable *_Nonnull cluster, const char *cluster_name, const char *user_name, uint64_t flags);
    int (*rados_conf_read_file)(void *cluster, const char *path);
    int (*rados_conf_set)(void *cluster, const char *option, const char *value);
    int (*rados_conf_get)(void *cluster, const char *option, char *buffer, size_t length);
    int (*rados_connect)(void *cluster);
    /* The client's addresses, as `ceph osd blocklist` takes them; free() the string. */
    int (*rados_getaddrs)(void *cluster, char *_Nullable *_Nonnull addresses);
    void (*rados_shutdown)(void *cluster);
    int (*rados_ioctx_create)(void *cluster, const char *pool, void *_Nullable *_Nonnull ioctx);
    void (*rados_ioctx_destroy)(void *ioctx);
    void (*rados_ioctx_set_namespace)(void *ioctx, const char *name_space);

    int (*rbd_open)(void *ioctx, const char *name, void *_Nullable *_Nonnull image, const char *_Nullable snapshot);
    int (*rbd_close)(void *image);
    int (*rbd_create)(void *ioctx, const char *name, uint64_t size, int *order);
    int (*rbd_get_size)(void *image, uint64_t *size);
    int (*rbd_get_id)(void *image, char *id, size_t id_length);
    int (*rbd_resize)(void *image, uint64_t size);
    int (*rbd_update_watch)(void *image, uint64_t *handle, swiftport_rbd_update_callback callback, void *argument);
    int (*rbd_update_unwatch)(void *image, uint64_t handle);

    int (*rbd_aio_create_completion)(void *argument, swiftport_rbd_callback callback, void *_Nullable *_Nonnull completion);
    ssize_t (*rbd_aio_get_return_value)(void *completion);
    void (*rbd_aio_release)(void *completion);
    int (*rbd_aio_read)(void *image, uint64_t offset, size_t length, char *buffer, void *completion);
    int (*rbd_aio_writev)(void *image, const struct iovec *iov, int iovcnt, uint64_t offset, void *completion);
    int (*rbd_aio_flush)(void *image, void *completion);
    int (*rbd_aio_discard)(void *image, uint64_t offset, uint64_t length, void *completion);
    int (*rbd_aio_writesame)(void *image, uint64_t offset, size_t length, const char *buffer, size_t data_length,
                             void *completion, int op_flags);
    ssize_t (*rbd_aio_compare_and_write)(void *image, uint64_t offset, size_t length, const char *compare, const char *write,
                                         void *completion, uint64_t *mismatch_offset, int op_flags);
} swiftport_rbd_api;

/*
 * Loads `librbd` and `librados` (file names for dlopen, e.g. "librbd.so.1") and fills
 * `api` with every function above. Returns 0, or -1 when a library or a function is
 * missing; then `error` (of `error_length` bytes) says which.
 */
int swiftport_rbd_load(const char *librbd, const char *librados, swiftport_rbd_api *api, char *error, size_t error_length);

#pragma clang assume_nonnull end

#endif
