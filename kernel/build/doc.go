// Package build builds images from a Dockerfile, like `docker build`: it
// parses the Dockerfile subset the course uses (FROM with AS for
// multi-stage builds, RUN, COPY with --from and --chown, ADD of local
// files and tars, ENV, WORKDIR, CMD, ENTRYPOINT, EXPOSE, USER, LABEL,
// ARG), runs each instruction, and adds the result to the image store
// (kernel/image). Files the context's .dockerignore matches are not part
// of the build context.
//
// # One layer per step
//
// A step that changes files gets an overlay (kernel/overlay) of the layers
// built so far with a fresh, empty upper dir. RUN executes its command in a
// container of the mini-Docker (kernel/container, with the overlay as
// Spec.Rootfs and no network), as docker build does; COPY and ADD write
// into it from a helper in its own mount namespace, chrooted into it, so
// destination paths resolve inside the image. Whatever
// the step did is then exactly the content of the upper dir: new and
// changed files, a character device 0/0 for each deleted file (a
// whiteout), the xattr trusted.overlay.opaque on a directory that was
// removed and made again. image.WriteLayer archives that dir as the
// step's layer, turning the kernel's marks into the OCI image spec's
// portable ".wh.NAME" and ".wh..wh..opq" entries; the sha256 of the tar is
// the layer's DiffID.
//
// # The cache
//
// Each step has a key: the sha256 of the previous step's key, the
// instruction and its inputs (the content of COPY sources, the environment
// of RUN). The store remembers which layer each key made
// (ROOT/images/buildcache), so a rebuild of an unchanged Dockerfile
// reuses every layer, prints CACHED, and makes the very same image ID.
// Change one COPY source and that step and every later one run again.
//
// # All or nothing
//
// New layers are kept in a workspace (ROOT/images/builds/b-*) until the
// last step succeeded; then the layers, the image and its name enter the
// store in one image.Change. A failing build leaves the store as it was.
//
// # A container's file system
//
// Commit and Export are the same machinery applied to a container: Commit
// archives a container's upper dir as one more layer on top of its image
// (`docker commit`); Export mounts the upper dir and the image's layers as
// one read-only overlay in a private mount namespace and archives the
// merged view (`docker export`).
//
// Equivalent to: docker build -t NAME -f Dockerfile DIR
package build
