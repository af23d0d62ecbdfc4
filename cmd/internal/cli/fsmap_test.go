package cli

import (
	"io/fs"
	"testing/fstest"
)

// fsMap is a tiny fake machine: path (relative to /) → content.
type fsMap map[string]string

func (m fsMap) Open(name string) (fs.File, error) {
	mfs := fstest.MapFS{}
	for k, v := range m {
		mfs[k] = &fstest.MapFile{Data: []byte(v)}
	}
	return mfs.Open(name)
}
