// Package overlay stacks directories with overlayfs, the union filesystem
// Docker's overlay2 driver uses for images and containers.
//
// An overlay mount merges read-only lower directories (the image layers,
// top-most first) under one writable upper directory (the container's
// layer). A work directory on the same filesystem as the upper lets the
// kernel prepare copies atomically. Reading a file finds it in the highest
// layer that has it; writing a file that lives in a lower layer first
// copies it up into the upper directory (copy-up), so lower layers never
// change and can be shared by every container that uses them.
//
// Deleting a lower file leaves a whiteout in the upper directory (a
// character device 0/0 with the same name); replacing a lower directory
// marks the new upper directory opaque (the xattr trusted.overlay.opaque
// set to "y"), so nothing below it shows through. Diff reads those marks
// back, the way `docker diff` reports a container's changes.
//
// Layers.Options is pure and builds the mount data the kernel parses in
// fs/overlayfs/params.c; Mount passes it to mount(2).
package overlay
