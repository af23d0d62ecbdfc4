// Package image is the image store of lab's mini-Docker: content-addressed
// layers, OCI image manifests and configs, and the unpacked layer
// directories that overlay mounts stack.
//
// An image is three kinds of JSON and tar (github.com/opencontainers/image-spec):
//
//   - layers: tar archives of the files a layer adds, changes or deletes
//     (deletions are ".wh.NAME" whiteout entries). A layer is named by the
//     sha256 of its uncompressed tar, its DiffID: `sha256sum layer.tar`.
//   - a config: the run defaults (Env, Cmd, WorkingDir), the history, and
//     rootfs.diff_ids, the ordered list of layer DiffIDs. The sha256 of the
//     config is the image ID docker shows.
//   - a manifest: points at the config and the layer blobs by digest.
//
// On disk the store is itself an OCI image layout (image-spec layout.md),
// so standard tools can read it:
//
//	ROOT/oci-layout            {"imageLayoutVersion": "1.0.0"}
//	ROOT/index.json            the names: one descriptor per name, annotated
//	                           org.opencontainers.image.ref.name=NAME:TAG
//	ROOT/blobs/sha256/HEX      manifests, configs and uncompressed layer tars
//	ROOT/layers/HEX            each layer unpacked once (HEX of its DiffID),
//	                           whiteouts turned into overlayfs ones; shared
//	                           read-only by every image and container using it
//	ROOT/lock                  flock(2)ed by every change
//
// Every change is built in a staging directory inside ROOT and renamed into
// place only when every digest has been checked, so a bad archive (truncated,
// a layer whose digest does not match, an entry that escapes its directory)
// leaves the store exactly as it was. Reading docker save and OCI layout
// archives is left to github.com/google/go-containerregistry.
package image
