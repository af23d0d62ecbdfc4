package image

import (
	"fmt"
	"strings"

	"github.com/google/go-containerregistry/pkg/name"
)

// NormalizeName validates an image reference and returns the short form
// docker shows: "busybox" becomes "busybox:latest", and
// "docker.io/library/busybox:1.36" becomes "busybox:1.36". Names with a
// registry keep it ("ghcr.io/org/app:v1").
func NormalizeName(ref string) (string, error) {
	if strings.Contains(ref, "@") {
		return "", fmt.Errorf("image: invalid name %q: a name is REPOSITORY[:TAG], not a digest", ref)
	}
	tag, err := name.NewTag(ref)
	if err != nil {
		return "", fmt.Errorf("image: invalid name %q: use lowercase REPOSITORY[:TAG], for example busybox or lab-hello:v1", ref)
	}
	repo := tag.Context()
	for _, part := range strings.Split(repo.RepositoryStr(), "/") {
		if part == "" || !alnum(part[0]) || !alnum(part[len(part)-1]) {
			return "", fmt.Errorf("image: invalid name %q: each part of a name starts and ends with a lowercase letter or digit", ref)
		}
	}
	short := repo.RegistryStr() + "/" + repo.RepositoryStr()
	if repo.RegistryStr() == name.DefaultRegistry {
		short = strings.TrimPrefix(repo.RepositoryStr(), "library/")
	}
	return short + ":" + tag.TagStr(), nil
}

func alnum(c byte) bool { return c >= 'a' && c <= 'z' || c >= '0' && c <= '9' }
