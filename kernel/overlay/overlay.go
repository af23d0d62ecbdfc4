package overlay

import (
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/lab-edu/lab/kernel/procfs"
)

// Layers is an overlay stack. Lower lists the read-only layers top-most
// first, exactly as the kernel reads lowerdir= ("lowerdir=top:...:bottom").
// Upper receives every change; Work is the kernel's scratch directory and
// must be an empty directory on the same filesystem as Upper.
//
// A stack with no Upper and no Work is read-only (overlayfs then needs at
// least two lower layers).
type Layers struct {
	Lower []string
	Upper string
	Work  string
}

// ReadOnly reports whether the stack has no writable layer.
func (l Layers) ReadOnly() bool { return l.Upper == "" && l.Work == "" }

// Options renders the overlayfs mount data, for example
// "lowerdir=/l2:/l1,upperdir=/u,workdir=/w". It is pure, so it is tested
// on any OS.
//
// The legacy mount(2) data string separates options with ',' and lower
// layers with ':', so paths holding either are refused rather than
// escaped: a mistake there would silently stack the wrong directories.
func (l Layers) Options() (string, error) {
	switch {
	case len(l.Lower) == 0:
		return "", errors.New("overlay: need at least one lower dir")
	case (l.Upper == "") != (l.Work == ""):
		return "", errors.New("overlay: upper and work dirs go together: give both or neither")
	case l.ReadOnly() && len(l.Lower) < 2:
		return "", errors.New("overlay: a read-only overlay (no upper dir) needs at least two lower dirs")
	}
	all := append(slices.Clone(l.Lower), l.Upper, l.Work)
	for _, p := range all {
		if strings.ContainsAny(p, ",:\\\n") {
			return "", fmt.Errorf("overlay: path %q must not contain ',', ':', '\\' or a newline", p)
		}
	}
	for i, p := range l.Lower {
		if p == "" {
			return "", fmt.Errorf("overlay: lower dir %d is empty", i+1)
		}
		if p == l.Upper || p == l.Work {
			return "", fmt.Errorf("overlay: %s is both a lower dir and the upper or work dir", p)
		}
		if slices.Index(l.Lower, p) != i {
			return "", fmt.Errorf("overlay: lower dir %s is listed twice", p)
		}
	}
	if !l.ReadOnly() && l.Upper == l.Work {
		return "", fmt.Errorf("overlay: upper and work dirs must differ (both %s)", l.Upper)
	}
	data := "lowerdir=" + strings.Join(l.Lower, ":")
	if !l.ReadOnly() {
		data += ",upperdir=" + l.Upper + ",workdir=" + l.Work
	}
	return data, nil
}

// ParseOptions reads the layers back from the superblock options of an
// overlay mount, as /proc/PID/mountinfo shows them after " - overlay ".
//
// The kernel (ovl_show_options) prints the lowerdir string the mount
// received through the legacy API as one "lowerdir=a:b" option, but
// "lowerdir+=a,lowerdir+=b" when each layer came separately through the
// new fsconfig(2) API (util-linux >= 2.39 on kernels >= 6.8). Values are
// escaped with octal sequences ("\054" is ','), and inside lowerdir a
// ':' that belongs to a path is written "\:". Data-only layers (after
// "::" or in "datadir+=") are not part of the merged view and are left out.
func ParseOptions(superOptions string) Layers {
	var l Layers
	for _, opt := range strings.Split(superOptions, ",") {
		key, value, _ := strings.Cut(opt, "=")
		value = procfs.Unescape(value)
		switch key {
		case "lowerdir":
			l.Lower = append(l.Lower, splitLowerdir(value)...)
		case "lowerdir+":
			l.Lower = append(l.Lower, value)
		case "upperdir":
			l.Upper = value
		case "workdir":
			l.Work = value
		}
	}
	return l
}

// splitLowerdir splits "a:b\:c::data" into [a, b:c], stopping at the "::"
// that starts data-only layers.
func splitLowerdir(s string) []string {
	var out []string
	var cur strings.Builder
	for i := 0; i < len(s); i++ {
		switch {
		case s[i] == '\\' && i+1 < len(s):
			i++
			cur.WriteByte(s[i])
		case s[i] == ':':
			if cur.Len() == 0 { // "::": the rest are data-only layers
				return out
			}
			out = append(out, cur.String())
			cur.Reset()
		default:
			cur.WriteByte(s[i])
		}
	}
	if cur.Len() > 0 {
		out = append(out, cur.String())
	}
	return out
}
