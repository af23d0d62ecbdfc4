package netdev

import "testing"

func TestRestoreScript(t *testing.T) {
	add := []Rule{
		{Table: "nat", Chain: "POSTROUTING", Spec: []string{"-s", "10.88.0.0/16", "!", "-o", "lab0", "-m", "comment", "--comment", "lab-ctr", "-j", "MASQUERADE"}},
		{Table: "filter", Chain: "FORWARD", Spec: []string{"-i", "lab0", "-m", "comment", "--comment", "two words", "-j", "ACCEPT"}},
	}
	del := []Rule{{Table: "nat", Chain: "OUTPUT", Spec: []string{"-j", "DNAT", "--to-destination", "10.88.0.2:80"}}}
	want := "*nat\n" +
		"-D OUTPUT -j DNAT --to-destination 10.88.0.2:80\n" +
		"-A POSTROUTING -s 10.88.0.0/16 ! -o lab0 -m comment --comment lab-ctr -j MASQUERADE\n" +
		"COMMIT\n" +
		"*filter\n" +
		"-A FORWARD -i lab0 -m comment --comment \"two words\" -j ACCEPT\n" +
		"COMMIT\n"
	if got := RestoreScript(add, del); got != want {
		t.Errorf("got:\n%s\nwant:\n%s", got, want)
	}
	if got := RestoreScript(nil, nil); got != "" {
		t.Errorf("empty: %q", got)
	}
}
