package overlay

import "fmt"

// Kind is what happened to a path, in `docker diff` letters.
type Kind byte

const (
	Added    Kind = 'A' // only in the upper dir
	Modified Kind = 'C' // in the upper dir and in a lower layer (copied up)
	Deleted  Kind = 'D' // hidden by a whiteout or by an opaque directory
)

func (k Kind) String() string { return string(k) }

// Change is one line of a diff.
type Change struct {
	Kind Kind
	Path string // absolute inside the merged view: "/etc/motd"
	// Opaque is set on a directory that hides everything below it in the
	// lower layers (it was removed and made again in the merged view).
	Opaque bool
}

func (c Change) String() string {
	if c.Opaque {
		return fmt.Sprintf("%s %s (opaque)", c.Kind, c.Path)
	}
	return fmt.Sprintf("%s %s", c.Kind, c.Path)
}

// The names overlayfs and the OCI image spec give to the marks of a
// deletion. Overlayfs uses a character device 0/0 and an xattr; image
// layer tarballs, which must be portable, use file names instead
// (image-spec layer.md "Whiteouts").
const (
	OpaqueXattr    = "trusted.overlay.opaque" // value "y" on an opaque upper dir
	WhiteoutPrefix = ".wh."                   // in a layer tar: ".wh.name" deletes name
	OpaqueWhiteout = ".wh..wh..opq"           // in a layer tar: the directory is opaque
)
