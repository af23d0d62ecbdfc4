package caps

import (
	"bytes"
	"os"
	"slices"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/lab-edu/lab/kernel/procfs"
	"github.com/lab-edu/lab/kernel/reexec"
)

func TestMain(m *testing.M) {
	if reexec.Init() { // probes and Command re-execute the test binary
		return
	}
	os.Exit(m.Run())
}

func TestCapNames(t *testing.T) {
	tests := []struct {
		c    Cap
		want string
	}{
		{Chown, "cap_chown"}, {NetRaw, "cap_net_raw"}, {SysAdmin, "cap_sys_admin"},
		{38, "cap_perfmon"}, {39, "cap_bpf"}, {40, "cap_checkpoint_restore"},
		{41, "cap_41"}, {63, "cap_63"},
	}
	for _, tt := range tests {
		if got := tt.c.String(); got != tt.want {
			t.Errorf("Cap(%d).String() = %q, want %q", int(tt.c), got, tt.want)
		}
		back, err := ParseCap(tt.want)
		if err != nil || back != tt.c {
			t.Errorf("ParseCap(%q) = %d, %v, want %d", tt.want, back, err, tt.c)
		}
	}
}

func TestParseCap(t *testing.T) {
	for _, in := range []string{"cap_net_raw", "CAP_NET_RAW", "net_raw", " Net_Raw ", "13", "cap_13"} {
		if c, err := ParseCap(in); err != nil || c != NetRaw {
			t.Errorf("ParseCap(%q) = %d, %v, want 13", in, c, err)
		}
	}
	for _, in := range []string{"", "cap_nothing", "64", "-1", "cap_"} {
		if _, err := ParseCap(in); err == nil {
			t.Errorf("ParseCap(%q) succeeded, want an error", in)
		}
	}
}

func TestMaskRoundTrip(t *testing.T) {
	tests := []struct {
		hex   string
		names string
	}{
		{"0000000000003000", "cap_net_admin,cap_net_raw"},
		{"0x0000000000000000", ""},
		{"000001fffeffffff", ""}, // checked below by count
		{"3000", "cap_net_admin,cap_net_raw"},
	}
	for _, tt := range tests {
		s, err := ParseMask(tt.hex)
		if err != nil {
			t.Fatalf("ParseMask(%q): %v", tt.hex, err)
		}
		if tt.names != "" || s == 0 {
			if s.String() != tt.names {
				t.Errorf("ParseMask(%q).String() = %q, want %q", tt.hex, s.String(), tt.names)
			}
		}
		back, err := ParseCaps(s.String())
		if err != nil || back != s {
			t.Errorf("ParseCaps(%q) = %s, %v, want %s", s.String(), back.Hex(), err, s.Hex())
		}
	}
	s, _ := ParseMask("000001fffeffffff")
	if s.Len() != 40 || s.Has(SysResource) || !s.Has(40) {
		t.Errorf("000001fffeffffff: %d caps, sys_resource %t, want 40 caps without sys_resource", s.Len(), s.Has(SysResource))
	}
	if got := Of(NetAdmin, NetRaw).Decode(); got != "0x0000000000003000=cap_net_admin,cap_net_raw" {
		t.Errorf("Decode() = %q", got)
	}
	for _, bad := range []string{"", "0x", "xyz", "1ffffffffffffffff"} {
		if _, err := ParseMask(bad); err == nil {
			t.Errorf("ParseMask(%q) succeeded, want an error", bad)
		}
	}
}

func TestFull(t *testing.T) {
	if got := Full(40).Hex(); got != "000001ffffffffff" {
		t.Errorf("Full(40) = %s", got)
	}
	if got := Full(63); got != ^Set(0) {
		t.Errorf("Full(63) = %s", got.Hex())
	}
}

func TestLastCap(t *testing.T) {
	fsys := fstest.MapFS{"proc/sys/kernel/cap_last_cap": {Data: []byte("40\n")}}
	if c, err := LastCap(fsys); err != nil || c != 40 {
		t.Errorf("LastCap = %d, %v, want 40", c, err)
	}
	fsys["proc/sys/kernel/cap_last_cap"] = &fstest.MapFile{Data: []byte("many\n")}
	if _, err := LastCap(fsys); err == nil {
		t.Error("LastCap(many) succeeded")
	}
}

// TestStatusFiles decodes status files captured from this machine
// (testdata/status-*, made with capsh and setpriv as the lab text does).
func TestStatusFiles(t *testing.T) {
	tests := []struct {
		file      string
		check     func(Creds) bool
		what      string
		bndLen    int
		effHasRaw bool
	}{
		{"status-init", func(c Creds) bool { return c.IsRoot() && !c.NoNewPrivs }, "root", 40, true},
		{"status-noraw", func(c Creds) bool { return c.IsRoot() && c.Sets.Lacks(NetRaw) }, "root without net_raw", 39, false},
		{"status-nocaps", func(c Creds) bool { return c.IsRoot() && c.Bounding == 0 && c.Effective == 0 }, "root with no capabilities", 0, false},
		{"status-nobody-nnp", func(c Creds) bool { return c.UID == [3]int{65534, 65534, 65534} && c.NoNewPrivs }, "nobody with no_new_privs", 40, false},
	}
	for _, tt := range tests {
		b, err := os.ReadFile("testdata/" + tt.file)
		if err != nil {
			t.Fatal(err)
		}
		st, err := procfs.ParseStatus(bytes.NewReader(b))
		if err != nil {
			t.Fatal(err)
		}
		c := CredsFromStatus(st)
		if !tt.check(c) {
			t.Errorf("%s: %+v is not %s", tt.file, c, tt.what)
		}
		if c.Bounding.Len() != tt.bndLen || c.Effective.Has(NetRaw) != tt.effHasRaw {
			t.Errorf("%s: bounding has %d caps, effective has net_raw %t; want %d, %t",
				tt.file, c.Bounding.Len(), c.Effective.Has(NetRaw), tt.bndLen, tt.effHasRaw)
		}
		// Encoding back gives the file's own hex.
		for i, name := range []string{"CapEff", "CapPrm", "CapInh", "CapBnd", "CapAmb"} {
			if got := c.Sets.List()[i].Hex(); got != st.Fields[name] {
				t.Errorf("%s: %s encodes as %s, file has %s", tt.file, name, got, st.Fields[name])
			}
		}
	}
}

func TestRows(t *testing.T) {
	s := Sets{Effective: Of(NetRaw), Permitted: Of(NetRaw, Chown), Bounding: Full(40)}
	rows := s.Rows(40)
	if len(rows) != 41 {
		t.Fatalf("Rows(40) has %d rows, want 41", len(rows))
	}
	if r := rows[NetRaw]; r.Name != "cap_net_raw" || !r.Effective || !r.Permitted || r.Inheritable || !r.Bounding || r.Ambient {
		t.Errorf("net_raw row = %+v", r)
	}
	if r := rows[Chown]; r.Effective || !r.Permitted {
		t.Errorf("chown row = %+v", r)
	}
	if got := s.Holding(NetRaw); !slices.Equal(got, []string{"effective", "permitted", "bounding"}) {
		t.Errorf("Holding(net_raw) = %v", got)
	}
}

func TestFileCapsDecode(t *testing.T) {
	tests := []struct {
		name  string
		bytes []byte
		want  FileCaps
		text  string
	}{
		{
			// What `setcap cap_net_bind_service+ep FILE` writes.
			name:  "v2 net_bind_service+ep",
			bytes: []byte{1, 0, 0, 2, 0, 4, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0},
			want:  FileCaps{Permitted: Of(NetBindService), Effective: true, Revision: 2},
			text:  "cap_net_bind_service=ep",
		},
		{
			name:  "v2 net_bind_service+p, no effective bit",
			bytes: []byte{0, 0, 0, 2, 0, 4, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0},
			want:  FileCaps{Permitted: Of(NetBindService), Revision: 2},
			text:  "cap_net_bind_service=p",
		},
		{
			name:  "v3 with rootid 100000, bpf (bit 39, high word) inheritable",
			bytes: []byte{0, 0, 0, 3, 0, 0x20, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x80, 0, 0, 0, 0xa0, 0x86, 0x01, 0},
			want:  FileCaps{Permitted: Of(NetRaw), Inheritable: Of(39), Revision: 3, RootID: 100000},
			text:  "cap_net_raw=p cap_bpf=i [rootid=100000]",
		},
		{
			name:  "v1",
			bytes: []byte{1, 0, 0, 1, 1, 0, 0, 0, 1, 0, 0, 0},
			want:  FileCaps{Permitted: Of(Chown), Inheritable: Of(Chown), Effective: true, Revision: 1},
			text:  "cap_chown=eip",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseFileCaps(tt.bytes)
			if err != nil {
				t.Fatal(err)
			}
			if got != tt.want {
				t.Errorf("ParseFileCaps = %+v, want %+v", got, tt.want)
			}
			if got.String() != tt.text {
				t.Errorf("String() = %q, want %q", got.String(), tt.text)
			}
			back, err := got.Bytes()
			if err != nil || !bytes.Equal(back, tt.bytes) {
				t.Errorf("Bytes() = %v, %v, want %v", back, err, tt.bytes)
			}
		})
	}
	for _, bad := range [][]byte{nil, {1, 0, 0}, {0, 0, 0, 2, 0, 0}, {0, 0, 0, 9, 0, 0, 0, 0, 0, 0, 0, 0}} {
		if _, err := ParseFileCaps(bad); err == nil {
			t.Errorf("ParseFileCaps(%v) succeeded", bad)
		}
	}
}

func TestFileCapsText(t *testing.T) {
	tests := []struct {
		in   string
		want FileCaps
	}{
		{"cap_net_bind_service+ep", FileCaps{Permitted: Of(NetBindService), Effective: true}},
		{"cap_net_bind_service=ep", FileCaps{Permitted: Of(NetBindService), Effective: true}},
		{"cap_net_raw,cap_chown+p cap_kill+i", FileCaps{Permitted: Of(NetRaw, Chown), Inheritable: Of(Kill)}},
	}
	for _, tt := range tests {
		got, err := ParseFileCapsText(tt.in)
		if err != nil || got != tt.want {
			t.Errorf("ParseFileCapsText(%q) = %+v, %v, want %+v", tt.in, got, err, tt.want)
		}
	}
	for _, bad := range []string{"cap_net_raw", "cap_net_raw+x", "cap_nope+ep"} {
		if _, err := ParseFileCapsText(bad); err == nil || !strings.Contains(err.Error(), "caps:") {
			t.Errorf("ParseFileCapsText(%q) error = %v", bad, err)
		}
	}
}
