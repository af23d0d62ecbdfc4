package rootfs

// File is a file to write into a root file system: Name inside the
// directory given to WriteFiles, and its contents.
type File struct {
	Name string `json:"name"`
	Data []byte `json:"data"`
}
