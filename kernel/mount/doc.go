// Package mount treats a mount as a value and wraps the mount(2) and
// umount2(2) system calls: bind mounts, propagation types (private,
// shared, slave), lazy unmounts, and listing the mount points under a
// directory from /proc/self/mountinfo.
//
// Errors from the kernel come back as *Error, which unwraps to the errno,
// so errors.Is(err, unix.EPERM) works. Unmount is idempotent: a path that
// is not mounted (EINVAL) or does not exist (ENOENT) is success.
package mount
