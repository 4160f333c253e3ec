#ifndef SWIFTPORT_CLIBRBD_H
#define SWIFTPORT_CLIBRBD_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <time.h>
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
/* rados_watchcb2_t and rados_watcherrcb_t */
typedef void (*swiftport_rados_notify_callback)(void *_Nullable argument, uint64_t notify_id, uint64_t cookie, uint64_t notifier_id,
                                                void *_Nullable data, size_t length);
typedef void (*swiftport_rados_watch_error_callback)(void *_Nullable argument, uint64_t cookie, int error);

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

    /* Object operations, for state shared by gateways (the RADOS reservation store). */
    int (*rados_aio_create_completion2)(void *_Nullable argument, swiftport_rbd_callback callback, void *_Nullable *_Nonnull completion);
    int (*rados_aio_get_return_value)(void *completion);
    uint64_t (*rados_aio_get_version)(void *completion);
    void (*rados_aio_release)(void *completion);
    void *_Nullable (*_Nonnull rados_create_write_op)(void);
    void (*rados_release_write_op)(void *write_op);
    void (*rados_write_op_create)(void *write_op, int exclusive, const char *_Nullable category);
    void (*rados_write_op_assert_version)(void *write_op, uint64_t version);
    void (*rados_write_op_write_full)(void *write_op, const char *buffer, size_t length);
    void (*rados_write_op_remove)(void *write_op);
    int (*rados_aio_write_op_operate)(void *write_op, void *ioctx, void *completion, const char *object, time_t *_Nullable mtime, int flags);
    void *_Nullable (*_Nonnull rados_create_read_op)(void);
    void (*rados_release_read_op)(void *read_op);
    void (*rados_read_op_read)(void *read_op, uint64_t offset, size_t length, char *buffer, size_t *bytes_read, int *result);
    int (*rados_aio_read_op_operate)(void *read_op, void *ioctx, void *completion, const char *object, int flags);
    uint64_t (*rados_get_instance_id)(void *cluster);
    int (*rados_watch3)(void *ioctx, const char *object, uint64_t *cookie, swiftport_rados_notify_callback callback,
                        swiftport_rados_watch_error_callback error_callback, uint32_t timeout, void *_Nullable argument);
    int (*rados_watch_check)(void *ioctx, uint64_t cookie);
    int (*rados_unwatch2)(void *ioctx, uint64_t cookie);
    int (*rados_watch_flush)(void *cluster);
    int (*rados_notify_ack)(void *ioctx, const char *object, uint64_t notify_id, uint64_t cookie, const char *_Nullable buffer, int length);
    int (*rados_aio_notify)(void *ioctx, const char *object, void *completion, const char *buffer, int length, uint64_t timeout_ms,
                            char *_Nullable *_Nullable reply, size_t *_Nullable reply_length);
    void (*rados_buffer_free)(char *buffer);
    int (*rados_blocklist_add)(void *cluster, char *address, uint32_t expire_seconds);
    int (*rados_wait_for_latest_osdmap)(void *cluster);

    int (*rbd_open)(void *ioctx, const char *name, void *_Nullable *_Nonnull image, const char *_Nullable snapshot);
    int (*rbd_close)(void *image);
    int (*rbd_create)(void *ioctx, const char *name, uint64_t size, int *order);
    int (*rbd_get_size)(void *image, uint64_t *size);
    int (*rbd_get_id)(void *image, char *id, size_t id_length);
    int (*rbd_resize)(void *image, uint64_t size);
    int (*rbd_update_watch)(void *image, uint64_t *handle, swiftport_rbd_update_callback callback, void *argument);
    int (*rbd_update_unwatch)(void *image, uint64_t handle);
    /* The image's exclusive lock, for a LUN one gateway at a time writes (RBD_LOCK_MODE_EXCLUSIVE = 0).
       Taken with rbd_lock_acquire, it is not handed to another client on request: their writes fail with EROFS. */
    int (*rbd_get_features)(void *image, uint64_t *features);
    int (*rbd_lock_acquire)(void *image, int mode);
    int (*rbd_lock_release)(void *image);
    int (*rbd_lock_get_owners)(void *image, int *mode, char *_Nullable *_Nonnull owners, size_t *owner_count);
    void (*rbd_lock_get_owners_cleanup)(char *_Nullable *_Nonnull owners, size_t owner_count);
    int (*rbd_lock_break)(void *image, int mode, const char *owner);

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
