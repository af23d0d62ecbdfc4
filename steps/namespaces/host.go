package nslab

import (
	"io/fs"
	"os"
)

// hostFS is the live root, for Cleanup and Reset (which get no Host).
func hostFS() fs.FS { return os.DirFS("/") }
